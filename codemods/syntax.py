"""Syntax errors worth their name: valid Python of a newer version than the running one (3.12
f-strings, `type` aliases and generics, 3.14 `except A, B:`) is no syntax error, and says which
Python the tool needs to run on to analyse it."""

from __future__ import annotations

import sys

import libcst as cst

RUNNING = sys.version_info[:2]


def _version(version: tuple[int, int]) -> str:
    return f"{version[0]}.{version[1]}"


class _NewSyntax(cst.CSTVisitor):
    """The newest Python version a module's syntax needs, of those the running one lacks."""

    def __init__(self) -> None:
        super().__init__()
        self.needs: tuple[int, int] = (0, 0)

    def _need(self, version: tuple[int, int]) -> None:
        self.needs = max(self.needs, version)

    def visit_TypeAlias(self, node: cst.TypeAlias) -> None:
        self._need((3, 12))

    def visit_TypeParameters(self, node: cst.TypeParameters) -> None:
        self._need((3, 12))

    def visit_FormattedString(self, node: cst.FormattedString) -> None:
        # PEP 701: the outer quote, a backslash or a comment inside a replacement field
        quote = node.start.lstrip("fFrRbB")
        for part in node.parts:
            if isinstance(part, cst.FormattedStringExpression):
                code = cst.Module([]).code_for_node(part.expression)
                if quote in code or "\\" in code or "#" in code:
                    self._need((3, 12))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        self._except_types(node.type)

    def visit_ExceptStarHandler(self, node: cst.ExceptStarHandler) -> None:
        self._except_types(node.type)

    def _except_types(self, types: cst.BaseExpression | None) -> None:
        if isinstance(types, cst.Tuple) and not types.lpar:  # PEP 758: `except A, B:`
            self._need((3, 14))

    def on_visit(self, node: cst.CSTNode) -> bool:
        if type(node).__name__ == "TemplatedString":  # PEP 750 t-strings (newer libcst)
            self._need((3, 14))
        return super().on_visit(node)


def needed_python(text: str) -> tuple[int, int] | None:
    """The Python version the text's syntax needs when that is newer than the running one
    (libcst parses it), else None."""
    try:
        module = cst.parse_module(text)
    except Exception:  # noqa: BLE001 - not valid for libcst either: a real syntax error
        return None
    found = _NewSyntax()
    module.visit(found)
    return found.needs if found.needs > RUNNING else None


def describe_syntax_error(text: str, exc: SyntaxError) -> tuple[str, int | None]:
    """The message and line for a file the running Python cannot parse."""
    needs = needed_python(text)
    if needs is not None:
        return (f"needs Python \u2265 {_version(needs)} to analyse (running "
                f"{_version(RUNNING)}); run sqla-asyncify with that Python", exc.lineno)
    return f"syntax error: {exc.msg}", exc.lineno
