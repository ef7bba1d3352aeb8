"""SQA401: model methods that read relationships load them implicitly: a TODO at the def."""

from __future__ import annotations

import libcst as cst

from .base import Rule

# Methods Python or a framework calls implicitly: nobody can eager-load at a call site.
_IMPLICIT = frozenset({"__repr__", "__str__", "__format__", "__eq__", "__hash__", "__bool__",
                       "__len__", "__iter__", "__contains__"})
_DECORATED = frozenset({"property", "cached_property", "hybrid_property", "validates",
                        "hybrid_method"})


class ImplicitRelationshipReads(Rule):
    """A `__repr__`, property or validator of a mapped class that reads a relationship.

    Before / after (unchanged code, a TODO above it):
        class User(Base):
            # TODO(sqla-asyncify SQA401): __repr__() reads User.addresses, which loads
            # implicitly under asyncio: eager-load it wherever users are loaded, set
            # lazy="selectin" on the relationship, or read `await self.awaitable_attrs.addresses`
            def __repr__(self):
                return f"User({self.name}, {len(self.addresses)})"

    Logging, f-strings and serializers call these without a query in sight, so the tool cannot
    prove the relationship is loaded (reference §6.2 #14). For the same reason a FastAPI route
    with `response_model=` that returns objects gets a TODO: the schema decides what is read.
    """

    code = "SQA401"
    summary = "__repr__/properties/validators of models reading relationships → TODO"

    def _serialized_response(self, node: cst.FunctionDef) -> None:
        """A FastAPI route with `response_model=` returning objects: the serializer reads them
        after the route returns, where nothing can load a relationship."""
        routed = any(isinstance(d.decorator, cst.Call) and any(
            a.keyword is not None and a.keyword.value == "response_model"
            for a in d.decorator.args) for d in node.decorators)
        if not routed:
            return
        returns = _Returns()
        node.body.visit(returns)
        if any(not isinstance(value, _PLAIN) for value in returns.values):
            self.ctx.todo(self.code, f"{node.name.value}() returns objects that response_model "
                                     "serializes after the route returns: eager-load every "
                                     "relationship the schema includes (or build plain data "
                                     "here)", node, at=node)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._serialized_response(node)
        plan, ix = self.ctx.plan, self.ctx.ix
        owner = plan.owner_class(ix, self.ctx.scope)
        qualified = f"{ix.module}.{owner}" if owner and ix.module else owner
        if not qualified or qualified not in plan.mapped_classes:
            return
        name = node.name.value
        decorators = {self.ctx.qualify(d.decorator.func if isinstance(d.decorator, cst.Call)
                                       else d.decorator) or "" for d in node.decorators}
        kind = name if name in _IMPLICIT else next(
            (d.rpartition(".")[2] for d in decorators if d.rpartition(".")[2] in _DECORATED),
            None)
        if kind is None:
            return
        chains = ix.attribute_reads.get(self.ctx.scope, {}).get("self", set())
        relationships = sorted({f"{hops[0][0].rpartition('.')[2]}.{hops[0][1]}"
                                for chain in chains
                                if (hops := plan.relationship_paths(qualified, chain))})
        if relationships:
            first = relationships[0].rpartition(".")[2]
            what = name if kind == name else f"{name}() ({kind})"
            self.ctx.todo(self.code, f"{what} reads {', '.join(relationships)}, "
                                     "which loads implicitly under asyncio: eager-load it "
                                     "wherever these objects are loaded, set lazy=\"selectin\" "
                                     "on the relationship, or read "
                                     f"`await self.awaitable_attrs.{first}`", node, at=node)


class _Returns(cst.CSTVisitor):
    """Return values of one function (not of nested ones)."""

    def __init__(self) -> None:
        self.values: list[cst.BaseExpression] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.values.append(node.value)


_PLAIN = (cst.Dict, cst.DictComp, cst.BaseString, cst.BaseNumber)
