"""Attribute chains a function's statements read, statement by statement (for the rules that
put a TODO at the statement doing a read)."""

from __future__ import annotations

import libcst as cst

from ..analysis import CONVERTING_BUILTINS
from .context import STATEMENT_TYPES, dotted
from .traversal import Visitor

# A function, or a module whose top-level statements run as one (a script's, see scripts.py)
Body = cst.FunctionDef | cst.Module


def block_of(body: Body) -> cst.CSTNode:
    """What holds the statements of `body`."""
    return body.body if isinstance(body, cst.FunctionDef) else body


def statement_reads(function: Body) -> list[tuple[cst.CSTNode, str]]:
    """(statement, dotted chain) in source order for the function's own statements (not
    nested functions); a compound statement stands for its header."""
    visitor = _ChainsRead()
    visitor.walk(block_of(function))
    return visitor.found


class _ChainsRead(Visitor):
    """(statement, dotted chain) for every attribute chain a function's own statements read;
    string conversions (`print(x)`, `f"{x}"`) read "x.__str__"."""

    def __init__(self) -> None:
        self.found: list[tuple[cst.CSTNode, str]] = []
        self.statement: cst.CSTNode | None = None

    def on_visit(self, node: cst.CSTNode) -> bool:
        kind = type(node)  # (exact types: isinstance on libcst's ABCs is slow)
        if kind is cst.FunctionDef or kind is cst.ClassDef or kind is cst.Lambda:
            return False
        if kind in STATEMENT_TYPES:  # (every compound statement and a statement line)
            self.statement = node
        return super().on_visit(node)

    def _add(self, expr: cst.BaseExpression, suffix: str = "") -> bool:
        name = dotted(expr)
        if name is None or self.statement is None:
            return True
        self.found.append((self.statement, ".".join(filter(None, (name, suffix)))))
        return False

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        return self._add(node)

    def visit_FormattedStringExpression(self, node: cst.FormattedStringExpression) -> None:
        self._add(node.expression, "__repr__" if node.conversion in ("r", "a") else "__str__")

    def visit_Call(self, node: cst.Call) -> None:
        conversion = CONVERTING_BUILTINS.get(node.func.value) if isinstance(node.func, cst.Name) \
            else None
        if conversion:
            for arg in node.args:
                if isinstance(arg.value, cst.Name):
                    self._add(arg.value, conversion)
