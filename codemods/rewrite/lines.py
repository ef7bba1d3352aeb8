"""Line numbers of libcst statements, read off the stdlib `ast` of the same text.

libcst's PositionProvider renders the whole module while tracking every node (it was the
largest single cost of a run); findings only need the line of a statement, and `ast` knows it.
The two trees list statements in the same order, so they are walked side by side.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Sequence

import libcst as cst


def statement_lines(module: cst.Module, source: str) -> dict[int, int]:
    """`id(statement) -> line` for every statement of `module` (parsed from `source`)."""
    lines: dict[int, int] = {}
    _walk(module.body, ast.parse(source).body, lines)
    return lines


def _walk(cst_body: Sequence[cst.CSTNode], ast_body: Sequence[ast.stmt],
          lines: dict[int, int]) -> None:
    remaining = iter(ast_body)
    for stmt in cst_body:
        if isinstance(stmt, cst.SimpleStatementLine):
            first = None
            for _ in stmt.body:  # `a; b` is one libcst line, two ast statements
                node = next(remaining, None)
                first = first or node
            if first is not None:
                lines[id(stmt)] = first.lineno
            continue
        node = next(remaining, None)
        if node is None:
            return
        lines[id(stmt)] = node.lineno
        for cst_block, ast_block in _blocks(stmt, node):
            _walk(cst_block, ast_block, lines)


def _body(block: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return block.body if isinstance(block, cst.IndentedBlock) else [
        cst.SimpleStatementLine(body=block.body)] if isinstance(
        block, cst.SimpleStatementSuite) else []


def _blocks(stmt: cst.CSTNode, node: ast.stmt
            ) -> Iterator[tuple[Sequence[cst.CSTNode], Sequence[ast.stmt]]]:
    """Matching (libcst statements, ast statements) lists nested in one compound statement."""
    if isinstance(stmt, (cst.FunctionDef, cst.ClassDef, cst.With)):
        yield _body(stmt.body), node.body
    elif isinstance(stmt, (cst.For, cst.While)):
        yield _body(stmt.body), node.body
        if stmt.orelse is not None:
            yield _body(stmt.orelse.body), node.orelse
    elif isinstance(stmt, cst.If):
        yield _body(stmt.body), node.body
        if isinstance(stmt.orelse, cst.If):  # elif: one nested ast.If in orelse
            yield [stmt.orelse], node.orelse
        elif stmt.orelse is not None:
            yield _body(stmt.orelse.body), node.orelse
    elif isinstance(stmt, (cst.Try, cst.TryStar)):
        yield _body(stmt.body), node.body
        for handler, ast_handler in zip(stmt.handlers, node.handlers, strict=False):
            yield _body(handler.body), ast_handler.body
        if stmt.orelse is not None:
            yield _body(stmt.orelse.body), node.orelse
        if stmt.finalbody is not None:
            yield _body(stmt.finalbody.body), node.finalbody
    elif isinstance(stmt, cst.Match):
        for case, ast_case in zip(stmt.cases, node.cases, strict=False):
            yield _body(case.body), ast_case.body
