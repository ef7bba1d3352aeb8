"""A module's libcst tree, parsed one part (a run of top-level statements) at a time.

libcst's native parser holds the tokens and a Rust copy of the tree of all the text it is
given until it has built the Python tree, and the C allocator keeps that memory afterwards:
for a 5 MB module the peak is about 2.3 GiB, ten times the Python tree it returns. A big
module is therefore parsed in parts of about `PART_CHARS` characters, each cut where a
top-level statement begins (read off the stdlib `ast`), and the parts' statements are joined
into one `cst.Module` equal to what `libcst.parse_module` of the whole text returns: the same
nodes, the same owner for every comment and blank line, the same default indent and newline.
Every pass, line number and rendering is therefore what it is with the whole-module parse.

What makes a part parse like its place in the whole text:
- it begins with a blank line in the module's newline (libcst takes the first line's end for
  the default newline, and a newline equal to it is stored as `None`), or, once the module's
  first indented block is known, with `if 1:` and a line indented like it (libcst takes the
  first indentation for the default indent, and an indentation equal to it is stored as
  `None`); the statement that prefix makes is dropped;
- it ends with a `pass` at column 0 where the next part's first statement begins, so the
  comment and blank lines before it are shared between the last block's footer and the next
  statement's leading lines as in the whole text; the `pass` is dropped and its leading lines
  go to the next part's first statement.
Where the parts do not line up with the `ast` (a statement after `;` on a part's boundary
line, a backslash before it), or a part does not parse, the whole text is parsed instead.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Sequence

import libcst as cst

from .lines import (
    add_statement_lines,
    line_starts,
    statement_lines,
    statement_texts,
    texts_from_first_lines,
    top_level_lines,
)

# Parts of about this many characters: big enough that the per-call cost of the parser is
# nothing, small enough that its peak memory is (about 25 MiB for a part).
PART_CHARS = 1 << 16

_LINE_START = re.compile(r"\r\n|\r|\n")


class ReadModule:
    """A module as read: its libcst tree, and (on first ask) the line and the text as read of
    its statements, from the `ast` of the same text."""

    def __init__(self, text: str, module: cst.Module,
                 lines: dict[int, int] | None = None, texts: dict[int, str] | None = None
                 ) -> None:
        self.text, self.module = text, module
        self._lines, self._texts = lines, texts

    def lines(self) -> dict[int, int]:
        """`id(statement) -> line` for every statement of the module."""
        if self._lines is None:
            tree = ast.parse(self.text)
            self._lines = statement_lines(self.module, self.text, tree)
            self._texts = statement_texts(self.module, self.text, tree)
        return self._lines

    def texts(self) -> dict[int, str]:
        """`id(statement) -> its text as read` for the top-level statements (see
        `statement_texts`)."""
        self.lines()
        assert self._texts is not None
        return self._texts


# The stdlib `ast` of the last big text the index parsed in this process, kept for
# `read_module` of the same text (the very object): the index needs that `ast` first, and
# parsing it again was a twentieth of a big module's run. One at most; the read takes it
# (it is consumed there), `drop_kept_tree` drops it when the run no longer reads modules.
_kept: list[tuple[str, ast.Module]] = []


def keep_tree(text: str, tree: ast.Module) -> None:
    """Keep `tree`, the `ast` of `text`, for `read_module(text)` when `text` is read in parts
    (in place of the one kept before)."""
    if len(text) > PART_CHARS:
        _kept[:] = [(text, tree)]


def drop_kept_tree() -> None:
    _kept.clear()


def _kept_tree(text: str) -> ast.Module | None:
    """The kept `ast` of `text` (no longer kept), or None."""
    if _kept and _kept[0][0] is text:
        return _kept.pop()[1]
    return None


def read_module(text: str) -> ReadModule:
    """The libcst tree of `text`, parsed in parts when it is bigger than `PART_CHARS`
    (raises `libcst.ParserSyntaxError` as `libcst.parse_module` does)."""
    if len(text) > PART_CHARS and not text.startswith("\ufeff"):
        tree = _kept_tree(text)
        try:
            tree = tree or ast.parse(text)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            tree = None  # (libcst says what is wrong, as for a small file)
        if tree is not None:
            parsed = _read_in_parts(text, tree)
            if parsed is not None:
                return parsed
    return ReadModule(text, cst.parse_module(text))


def parse_module(text: str) -> cst.Module:
    """`libcst.parse_module(text)`, parsed in parts for a big text (see `read_module`)."""
    return read_module(text).module


def _read_in_parts(text: str, tree: ast.Module) -> ReadModule | None:
    """The module joined from its parts, with its statements' lines and texts; None where
    the parts do not line up with `tree` (the whole text is parsed then)."""
    first_lines = top_level_lines(tree, text)
    starts = line_starts(text)
    groups = _statement_groups(tree.body, first_lines, text, starts)
    if groups is None:
        return None
    newline = _first_newline(text)
    body: list[cst.BaseStatement] = []
    lines: dict[int, int] = {}
    header: Sequence[cst.EmptyLine] = ()
    indent: str | None = None  # the module's first indentation, once a part had one
    carried: Sequence[cst.EmptyLine] = ()  # leading lines of the next part's first statement
    part = None
    parts = _parts([starts[first_lines[g[0]] - 1] for g in groups],  # type: ignore[operator]
                   len(text))
    for at, (first_group, end_group, begin, end) in enumerate(parts):
        is_first, is_last = at == 0, at == len(parts) - 1
        prefixed = indent is not None and not is_first
        prefix = f"if 1:{newline}{indent}pass{newline}" if prefixed else (
            "" if is_first else newline)
        try:
            part = cst.parse_module(prefix + text[begin:end] + ("" if is_last else
                                                                 f"pass{newline}"))
        except (cst.ParserSyntaxError, RecursionError):
            return None
        statements = list(part.body)
        if prefixed and not isinstance(statements.pop(0), cst.If):
            return None
        if not is_last:
            after = statements.pop()  # the `pass` where the next part begins
            if not (isinstance(after, cst.SimpleStatementLine) and len(after.body) == 1
                    and isinstance(after.body[0], cst.Pass)):
                return None
        own = groups[first_group:end_group]
        if len(statements) != len(own) or any(
                isinstance(s, cst.SimpleStatementLine) and len(s.body) != len(g)
                for s, g in zip(statements, own, strict=True)):
            return None
        if is_first:
            header = part.header
        else:
            statements[0] = statements[0].with_changes(leading_lines=carried)
        if indent is None and any(_indents(s) for s in statements):
            indent = part.default_indent  # this part holds the module's first indented block
        for statement, group in zip(statements, own, strict=True):
            add_statement_lines([statement], [tree.body[i] for i in group], lines)
            for i in group:
                tree.body[i] = None  # type: ignore[call-overload]  # (its memory is reused)
        body.extend(statements)
        if not is_last:
            carried = after.leading_lines
    assert part is not None
    module = cst.Module(
        body=body, header=header, footer=part.footer, encoding=part.encoding,
        default_indent=indent or "    ", default_newline=newline,
        has_trailing_newline=part.has_trailing_newline)
    return ReadModule(text, module, lines, texts_from_first_lines(module, text, first_lines))


def _statement_groups(statements: Sequence[ast.stmt], first_lines: Sequence[int | None],
                      text: str, starts: Sequence[int]) -> list[list[int]] | None:
    """The indexes of the `ast` statements of each libcst top-level statement (`a; b` is
    one), or None when one does not begin its line as libcst would begin it."""
    groups: list[list[int]] = []
    previous_end = 0
    for i, (stmt, first) in enumerate(zip(statements, first_lines, strict=True)):
        if groups and stmt.lineno == previous_end:
            groups[-1].append(i)  # `a; b`
        elif first is None or (stmt.col_offset != 0 and first == stmt.lineno) or (
                first > 1 and _continued(text, starts[first - 1])):
            return None
        else:
            groups.append([i])
        previous_end = stmt.end_lineno or stmt.lineno
    return groups or None


def _continued(text: str, line_start: int) -> bool:
    """Whether the line before the one beginning at `line_start` ends with a backslash (so
    that line continues it)."""
    end = line_start - 1  # its newline
    if end > 0 and text[end] == "\n" and text[end - 1] == "\r":
        end -= 1
    return end > 0 and text[end - 1] == "\\"


def _parts(begins: Sequence[int], size: int) -> list[tuple[int, int, int, int]]:
    """(first group, end group, begin, end) of each part: runs of the groups beginning at
    `begins` of at least `PART_CHARS` characters (the first part from the text's start, the
    last to its end, `size`)."""
    parts: list[tuple[int, int, int, int]] = []
    first = 0
    for g in range(1, len(begins)):
        begin = 0 if first == 0 else begins[first]
        if begins[g] - begin >= PART_CHARS:
            parts.append((first, g, begin, begins[g]))
            first = g
    parts.append((first, len(begins), 0 if first == 0 else begins[first], size))
    return parts


def _first_newline(text: str) -> str:
    """The end of the text's first line: libcst's default newline ("\\n" without one)."""
    found = _LINE_START.search(text)
    return found.group() if found else "\n"


def _indents(statement: cst.BaseStatement) -> bool:
    """Whether a top-level statement has an indented block (and so an INDENT token: a nested
    block is inside one of its own blocks)."""
    return isinstance(statement, cst.Match) or any(
        isinstance(suite, cst.IndentedBlock) for suite in _suites(statement))


def _suites(statement: cst.CSTNode) -> Iterator[cst.BaseSuite]:
    """The blocks of a compound statement (with its `elif`, `else`, `except` and `finally`)."""
    body = getattr(statement, "body", None)
    if isinstance(body, cst.BaseSuite):
        yield body
    for handler in getattr(statement, "handlers", ()):
        yield handler.body
    orelse = getattr(statement, "orelse", None)
    if isinstance(orelse, cst.If):
        yield from _suites(orelse)
    elif orelse is not None:
        yield orelse.body
    final = getattr(statement, "finalbody", None)
    if final is not None:
        yield final.body
