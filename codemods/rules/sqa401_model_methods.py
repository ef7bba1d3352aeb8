"""SQA401: model methods that read relationships load them implicitly: a TODO at the def."""

from __future__ import annotations

import libcst as cst

from ..rewrite.context import dotted
from ..rewrite.refreshes import is_relationship, response_refreshes
from ..rewrite.traversal import Visitor
from .base import Case, Rule

# Methods Python or a framework calls implicitly: nobody can eager-load at a call site.
_IMPLICIT = frozenset({"__repr__", "__str__", "__format__", "__eq__", "__hash__", "__bool__",
                       "__len__", "__iter__", "__contains__"})
_DECORATED = frozenset({"property", "cached_property", "hybrid_property", "validates",
                        "hybrid_method"})


class ImplicitRelationshipReads(Rule):
    """A `__repr__`, property or validator of a mapped class that reads a relationship.

    Logging, f-strings and serializers call these without a query in sight, so the tool cannot
    prove the relationship is loaded. For the same reason a FastAPI route
    with `response_model=` that returns objects gets a TODO: the schema decides what is read.
    """

    code = "SQA401"
    summary = "__repr__/properties/validators of models reading relationships → TODO"
    cases = (
        Case("""
            from sqlalchemy import ForeignKey
            from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


            class Base(DeclarativeBase):
                pass


            class User(Base):
                __tablename__ = "users"
                id: Mapped[int] = mapped_column(primary_key=True)
                name: Mapped[str]
                addresses: Mapped[list["Address"]] = relationship(back_populates="user")


            class Address(Base):
                __tablename__ = "addresses"
                id: Mapped[int] = mapped_column(primary_key=True)
                user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
                user: Mapped[User] = relationship(back_populates="addresses")

                def __repr__(self) -> str:
                    return f"Address of {self.user.name}"
        """, """
            from sqlalchemy import ForeignKey
            from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


            class Base(DeclarativeBase):
                pass


            class User(Base):
                __tablename__ = "users"
                id: Mapped[int] = mapped_column(primary_key=True)
                name: Mapped[str]
                addresses: Mapped[list["Address"]] = relationship(back_populates="user")


            class Address(Base):
                __tablename__ = "addresses"
                id: Mapped[int] = mapped_column(primary_key=True)
                user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
                user: Mapped[User] = relationship(back_populates="addresses")

                # TODO(sqla-asyncify SQA401): __repr__ reads Address.user, which loads implicitly under asyncio: eager-load it wherever these objects are loaded, set lazy="selectin" on the relationship, or read `await self.awaitable_attrs.user`
                def __repr__(self) -> str:
                    return f"Address of {self.user.name}"
        """),  # noqa: E501
    )

    def _serialized_response(self, node: cst.FunctionDef) -> None:
        """A FastAPI route with `response_model=` returning objects: the serializer reads them
        after the route returns, where nothing can load a relationship."""
        routed = any(isinstance(d.decorator, cst.Call) and any(
            a.keyword is not None and a.keyword.value == "response_model"
            for a in d.decorator.args) for d in node.decorators)
        if not routed:
            return
        if node.returns is not None:  # the route says what it returns: objects or plain data
            if not self._names_mapped_class(node.returns.annotation):
                return
        ref, plan = (self.ctx.ix.module, self.ctx.scope), self.ctx.plan
        schema_reads = plan.response_schema_reads(ref)
        if schema_reads and plan.returns_loaded(ref):
            return  # the schema's relationships are loaded at the query (SQA400)
        if not any(info.relationships for info in plan.mapped_classes.values()) or (
                schema_reads and not any(is_relationship(self.ctx, None, c.partition(".")[0])
                                         for c in schema_reads)):
            return  # the schema reads columns only: nothing loads after the route returns
        if self.ctx.config.enables("SQA408") and response_refreshes(self.ctx, node) is not None:
            return  # loaded by a refresh before the return (SQA408)
        returns = _Returns()
        returns.walk(node.body)
        if any(not isinstance(value, _PLAIN) and not self._plain_call(value)
               for value in returns.values):
            self.ctx.todo(self.code, f"{node.name.value}() returns objects that response_model "
                                     "serializes after the route returns: eager-load every "
                                     "relationship the schema includes (or build plain data "
                                     "here)", node, at=node)

    def _names_mapped_class(self, annotation: cst.BaseExpression) -> bool:
        names = _Names()
        names.walk(annotation)
        return bool(self.ctx.plan.annotated_class(self.ctx.ix, self.ctx.scope, names.found))

    def _plain_call(self, value: cst.BaseExpression) -> bool:
        """A call of a project function annotated to return plain data (no mapped class)."""
        name = dotted(value.func) if isinstance(value, cst.Call) else None
        ref = name and self.ctx.plan.resolve_function(self.ctx.ix, self.ctx.scope, name)
        if not ref:
            return False
        ix = self.ctx.plan.modules[ref[0]]
        returns = ix.functions[ref[1]].returns
        return bool(returns) and not self.ctx.plan.annotated_class(ix, "", returns)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._serialized_response(node)
        plan, ix = self.ctx.plan, self.ctx.ix
        owner = plan.owner_class(ix, self.ctx.scope)
        qualified = f"{ix.module}.{owner}" if owner and ix.module else owner
        if owner and qualified:
            self._reads_by_name(node, [qualified] if qualified in plan.mapped_classes
                                else plan.mapped_subclasses(ix, owner))
        if not qualified or qualified not in plan.mapped_classes or plan.flask_db(qualified):
            return  # a Flask-SQLAlchemy model stays on its synchronous session: lazy loads work
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


    def _reads_by_name(self, node: cst.FunctionDef, models: list[str]) -> None:
        """A method of models (or of a mixin of theirs) reading attributes by a name known
        only at run time, `getattr(self, key)`: any relationship may be among them."""
        plan = self.ctx.plan
        lazy = sorted({f"{model.rpartition('.')[2]}.{attr}" for model in models
                       if not plan.flask_db(model)
                       for attr in plan.mapped_classes[model].relationships
                       if plan.loads_implicitly(model, attr)})
        getattrs = _DynamicGetattrs()
        getattrs.walk(node.body)
        if not lazy or not getattrs.found:
            return
        listed = ", ".join(lazy[:4]) + (" …" if lazy[4:] else "")
        self.ctx.todo(self.code, f"{node.name.value}() reads attributes by a name known only "
                                 "at run time (`getattr(self, ...)`): a relationship among them "
                                 f"({listed}) loads implicitly under asyncio (MissingGreenlet): "
                                 "the calls the tool migrates run it inside run_sync (SQA409); "
                                 "elsewhere eager-load the ones it reads wherever these objects "
                                 "are loaded, or set lazy=\"selectin\" on them", node, at=node)


class _DynamicGetattrs(Visitor):
    """`getattr(self, <not a string literal>)` in one function (not in nested ones)."""

    def __init__(self) -> None:
        self.found = False

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Name) and node.func.value == "getattr" and len(
                node.args) >= 2 and isinstance(node.args[0].value, cst.Name) and (
                node.args[0].value.value == "self") and not isinstance(
                node.args[1].value, cst.SimpleString):
            self.found = True


class _Returns(Visitor):
    """Return values of one function (not of nested ones)."""

    def __init__(self) -> None:
        self.values: list[cst.BaseExpression] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self.values.append(node.value)


_PLAIN = (cst.Dict, cst.DictComp, cst.BaseString, cst.BaseNumber)


class _Names(Visitor):
    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.found.add(node.value)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        value = node.evaluated_value
        if isinstance(value, str) and value.isidentifier():
            self.found.add(value)  # "User" in a string annotation
