"""SQA405: relationship reads on objects no traced query loads: a TODO at the read."""

from __future__ import annotations

import libcst as cst

from ..context import dotted
from ..index import PARAM
from .base import Rule

_CONVERSIONS = {"print": "__str__", "str": "__str__", "format": "__str__", "repr": "__repr__"}


class UntracedReads(Rule):
    """A parameter typed as a model whose relationships are read, where the tool cannot trace
    every caller's objects to a query it eager-loads them in (SQA400).

    Before / after (unchanged code, a TODO above the read):
        def label(order: Order) -> str:
            # TODO(sqla-asyncify SQA405): order.customer may load lazily (MissingGreenlet):
            # nothing in the project calls label(), so the tool cannot see the query these
            # objects come from; load them with joinedload(Order.customer) there, or read
            # `await order.awaitable_attrs.customer` (AsyncAttrs mixin)
            return order.customer.email

    Objects from callers the tool follows get their loader options at the query instead;
    this TODO marks what is left: public functions, callbacks, objects from attributes,
    containers or code outside the project, and chains deeper than the analysis follows.
    """

    code = "SQA405"
    summary = "relationship reads on parameters no traced query loads → TODO at the read"

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        function = ix.functions.get(scope)
        if function is None:
            return
        typed = {b.name: mapped for b in ix.bindings.get(scope, [])
                 if b.origin == PARAM and b.name in function.params
                 and b.name not in ("self", "cls")
                 and (mapped := next(filter(None, (plan.mapped_class(ix, scope, t)
                                                   for t in b.targets)), None))}
        reported: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        sources: dict[str, list[str]] = {}
        for statement, chain in _ChainsRead.collect(node):
            head, _, rest = chain.partition(".")
            root, prefix = ix.aliases.get(scope, {}).get(head, (head, ""))
            entity = typed.get(root)
            if entity is None:
                continue
            lazy = sorted({hops for read in plan.implicit_reads(
                entity, {".".join(filter(None, (prefix, rest)))})
                if (hops := self._lazy_hops(entity, read))} - {
                key[1] for key in reported if key[0] == root})
            if not lazy:
                continue
            if root not in sources:
                sources[root] = plan.untraced_sources((ix.module, scope), root)
            if not sources[root]:
                continue
            reported |= {(root, hops) for hops in lazy}
            self.ctx.todo(self.code, self._message(root, lazy, sources[root]), statement,
                          at=statement)

    def _lazy_hops(self, entity: str, chain: str) -> tuple[tuple[str, str], ...]:
        """The relationship hops of `chain` up to the last one that may load lazily."""
        hops = [tuple(hop) for hop in self.ctx.plan.relationship_paths(entity, chain)]
        while hops and not self.ctx.plan.loads_implicitly(*hops[-1]):
            hops.pop()
        return tuple(hops)  # type: ignore[return-value]

    def _message(self, root: str, lazy: list[tuple[tuple[str, str], ...]],
                 sources: list[str]) -> str:
        plan = self.ctx.plan
        reads = ", ".join(".".join([root, *(attr for _, attr in hops)]) for hops in lazy)
        options = ", ".join(".".join(f"{plan.loader(owner, attr)}({owner.rpartition('.')[2]}"
                                     f".{attr})" for owner, attr in hops) for hops in lazy)
        if sources == ["no caller"]:
            why = f"nothing in the project calls {self.ctx.scope.rpartition('.')[2]}()"
        else:
            more = f" (and {len(sources) - 1} more)" if len(sources) > 1 else ""
            why = f"its caller {sources[0]}{more} passes objects it did not query"
        return (f"{reads} may load lazily (MissingGreenlet): {why}, so the tool cannot see the "
                f"query these objects come from; load them with {options} there, or read "
                f"`await {root}.awaitable_attrs.{lazy[0][0][1]}` (AsyncAttrs mixin)")


class _ChainsRead(cst.CSTVisitor):
    """(statement, dotted chain) for every attribute chain a function's own statements read;
    string conversions (`print(x)`, `f"{x}"`) read "x.__str__"."""

    def __init__(self) -> None:
        self.found: list[tuple[cst.CSTNode, str]] = []
        self.statement: cst.CSTNode | None = None

    @classmethod
    def collect(cls, function: cst.FunctionDef) -> list[tuple[cst.CSTNode, str]]:
        visitor = cls()
        function.body.visit(visitor)
        return visitor.found

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef | cst.ClassDef | cst.Lambda):
            return False
        if isinstance(node, cst.SimpleStatementLine | cst.BaseCompoundStatement):
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
        conversion = _CONVERSIONS.get(node.func.value) if isinstance(node.func, cst.Name) \
            else None
        if conversion:
            for arg in node.args:
                if isinstance(arg.value, cst.Name):
                    self._add(arg.value, conversion)
