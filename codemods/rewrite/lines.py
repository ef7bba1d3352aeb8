"""Line numbers of libcst statements, read off the stdlib `ast` of the same text.

libcst's PositionProvider renders the whole module while tracking every node (it was the
largest single cost of a run); findings only need the line of a statement, and `ast` knows it.
The two trees list statements in the same order, so they are walked side by side.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence

import libcst as cst


def statement_lines(module: cst.Module, source: str, tree: ast.Module | None = None
                    ) -> dict[int, int]:
    """`id(statement) -> line` for every statement of `module` (parsed from `source`; `tree`:
    its `ast`, if already parsed)."""
    lines: dict[int, int] = {}
    _walk(module.body, (tree or ast.parse(source)).body, lines)
    return lines


_NEWLINE = re.compile(r"\r\n|\r|\n")  # the line ends Python (and ast's line numbers) know


def statement_texts(module: cst.Module, source: str, tree: ast.Module) -> dict[int, str]:
    """`id(statement) -> its text as read` for the top-level statements of `module` (parsed
    from `source`, whose `ast` is `tree`) but the last: each one's lines from its leading
    blank and comment lines up to where the next one's begin — what libcst renders for it, so
    a statement no pass changed need not be rendered. Empty where the trees do not line up."""
    starts = [0, *(m.end() for m in _NEWLINE.finditer(source))]  # line n begins at starts[n-1]
    remaining = iter(tree.body)
    begins: list[int] = []  # where each statement's text begins
    for stmt in module.body:
        first = next(remaining, None)
        for _ in range(len(stmt.body) - 1 if isinstance(stmt, cst.SimpleStatementLine) else 0):
            next(remaining, None)  # `a; b`: one libcst line, two ast statements
        if first is None:
            return {}
        decorators = getattr(first, "decorator_list", ())
        line = min([first.lineno, *(d.lineno for d in decorators)])
        if decorators and not source.startswith("@", starts[line - 1]):
            return {}  # (a decorator's expression on a line of its own)
        begins.append(starts[line - 1 - len(stmt.leading_lines)])
    if not begins or begins[0] != starts[len(module.header)] or next(remaining, None) or any(
            a >= b for a, b in zip(begins, begins[1:], strict=False)):
        return {}
    return {id(stmt): source[begin:end] for stmt, begin, end in zip(
        module.body, begins, begins[1:], strict=False)}


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
