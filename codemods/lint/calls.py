"""The calls a function makes itself (not those of functions or lambdas nested in it), with
whether each is awaited and whether it is a whole statement."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from ..rewrite.traversal import OwnScopeVisitor


@dataclass(frozen=True)
class OwnCall:
    node: cst.Call
    awaited: bool
    statement: bool  # its value is dropped: `f(x)` as a statement


class _Calls(OwnScopeVisitor):
    def __init__(self) -> None:
        self.calls: list[OwnCall] = []
        self.awaited: set[int] = set()
        self.dropped: set[int] = set()

    def visit_Await(self, node: cst.Await) -> None:
        self.awaited.add(id(node.expression))

    def visit_Expr(self, node: cst.Expr) -> None:
        self.dropped.add(id(node.value))

    def visit_Call(self, node: cst.Call) -> None:
        self.calls.append(OwnCall(node, id(node) in self.awaited, id(node) in self.dropped))


def own_calls(function: cst.FunctionDef) -> list[OwnCall]:
    visitor = _Calls()
    visitor.walk(function.body)
    return visitor.calls
