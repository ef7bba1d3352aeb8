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
    add_statement_lines(module.body, (tree or ast.parse(source)).body, lines)
    return lines


_NEWLINE = re.compile(r"\r\n|\r|\n")  # the line ends Python (and ast's line numbers) know


def line_starts(source: str) -> list[int]:
    """Where each line of `source` begins: line n at `line_starts(source)[n - 1]`."""
    return [0, *(m.end() for m in _NEWLINE.finditer(source))]


def top_level_lines(tree: ast.Module, source: str) -> list[int | None]:
    """The first line of each top-level `ast` statement of `source` (its first decorator's);
    None for one whose first decorator's `@` does not begin that line (a decorator's
    expression on a line of its own)."""
    starts = line_starts(source)
    found: list[int | None] = []
    for stmt in tree.body:
        decorators = getattr(stmt, "decorator_list", ())
        line = min([stmt.lineno, *(d.lineno for d in decorators)])
        found.append(None if decorators and not source.startswith("@", starts[line - 1])
                     else line)
    return found


def statement_texts(module: cst.Module, source: str, tree: ast.Module) -> dict[int, str]:
    """`id(statement) -> its text as read` for the top-level statements of `module` (parsed
    from `source`, whose `ast` is `tree`) but the last: each one's lines from its leading
    blank and comment lines up to where the next one's begin — what libcst renders for it, so
    a statement no pass changed need not be rendered. Empty where the trees do not line up."""
    return texts_from_first_lines(module, source, top_level_lines(tree, source))


_END = object()


def texts_from_first_lines(module: cst.Module, source: str,
                           first_lines: Sequence[int | None]) -> dict[int, str]:
    """`statement_texts` from the `top_level_lines` of the `ast`."""
    starts = line_starts(source)
    remaining = iter(first_lines)
    begins: list[int] = []  # where each statement's text begins
    for stmt in module.body:
        line = next(remaining, _END)
        for _ in range(len(stmt.body) - 1 if isinstance(stmt, cst.SimpleStatementLine) else 0):
            next(remaining, None)  # `a; b`: one libcst line, two ast statements
        if line is _END or line is None:
            return {}
        begins.append(starts[line - 1 - len(stmt.leading_lines)])
    if not begins or begins[0] != starts[len(module.header)] or next(
            remaining, _END) is not _END or any(
            a >= b for a, b in zip(begins, begins[1:], strict=False)):
        return {}
    return {id(stmt): source[begin:end] for stmt, begin, end in zip(
        module.body, begins, begins[1:], strict=False)}


def add_statement_lines(cst_body: Sequence[cst.CSTNode], ast_body: Sequence[ast.stmt],
                        lines: dict[int, int]) -> None:
    """`statement_lines` for the libcst statements `cst_body`, whose `ast` statements are
    `ast_body`."""
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
            add_statement_lines(cst_block, ast_block, lines)


def _body(block: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    # (a body on the colon's line, `if x: y`, holds no statement node of its own to number)
    return block.body if isinstance(block, cst.IndentedBlock) else []


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
