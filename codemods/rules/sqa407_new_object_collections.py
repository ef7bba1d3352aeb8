"""SQA407: a collection of a new object, first read after flush()/commit(), loads lazily."""

from __future__ import annotations

import libcst as cst

from ..analysis import ObjKind
from ..rewrite.context import callee
from ..rewrite.reads import Body, block_of, statement_reads
from ..rewrite.refreshes import in_entry_point
from ..rewrite.traversal import Visitor
from .base import USERS_AND_ADDRESSES, Case, Rule

_FLUSHING = frozenset({"flush", "commit"})


class NewObjectCollections(Rule):
    """A model built in the function (or a script's module-level code) without a
    collection, flushed, then read there.

    Before the flush the collection of a pending object starts empty without SQL; after it
    the object is persistent and the collection unloaded. Building it
    with `addresses=[]` avoids the load, but then rows attached later by foreign key only
    are not seen, so the tool leaves the choice (or `await session.refresh(user,
    ["addresses"])`) to you.
    """

    code = "SQA407"
    summary = "collections of new objects first read after flush()/commit() → TODO"
    cases = (
        Case("""
            from sqlalchemy.orm import Session

            from models import User


            def register(session: Session, name: str) -> int:
                user = User(name=name)
                session.add(user)
                session.flush()
                return len(user.addresses)
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User


            async def register(session: AsyncSession, name: str) -> int:
                user = User(name=name)
                session.add(user)
                await session.flush()
                # TODO(sqla-asyncify SQA407): user.addresses is first read after flush()/commit() on a new User built without it: that read loads it lazily (MissingGreenlet); build it with User(..., addresses=[]) if no rows are attached to it by foreign key alone, or `await session.refresh(user, ["addresses"])` first
                return len(user.addresses)
        """, models=USERS_AND_ADDRESSES),  # noqa: E501
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.flushing_scopes = ctx.scopes_calling(_FLUSHING)

    def visit_Module(self, node: cst.Module) -> None:
        if "" in self.flushing_scopes and in_entry_point(self.ctx):
            self._body(node)  # a script's statements, run in its async entry point

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.ctx.scope in self.flushing_scopes:
            self._body(node)

    def _body(self, node: Body) -> None:
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        built = _Constructions.collect(node)
        new: dict[str, tuple[str, set[str]]] = {}  # variable -> (class, collections given)
        for name, call in built.items():
            mapped = plan.mapped_class(ix, scope, callee(call.func) or "")
            if mapped:
                new[name] = (mapped, {a.keyword.value for a in call.args if a.keyword})
        if not new:
            return
        filled = self._filled_before_flush(node, new)
        touched: set[tuple[str, str]] = set()  # (variable, collection) read before a flush
        flushed, seen = False, set()
        for statement, chain in statement_reads(node):
            if id(statement) not in seen:
                seen.add(id(statement))
                flushed |= self._flushes(statement)
            head, _, rest = chain.partition(".")
            attr = rest.partition(".")[0]
            if head not in new or not attr or (head, attr) in touched:
                continue
            touched.add((head, attr))
            entity, given = new[head]
            relationship = plan.relationship(entity, attr)
            if not flushed or attr in given or (head, attr) in filled or relationship is None or (
                    relationship.uselist is False) or not plan.loads_implicitly(entity, attr):
                continue
            cls = entity.rpartition(".")[2]
            self.ctx.todo(self.code, f"{head}.{attr} is first read after flush()/commit() on a "
                                     f"new {cls} built without it: that read loads it lazily "
                                     f"(MissingGreenlet); build it with {cls}(..., {attr}=[]) "
                                     f"if no rows are attached to it by foreign key alone, or "
                                     f'`await session.refresh({head}, ["{attr}"])` first',
                          statement, at=statement)

    def _filled_before_flush(self, function: Body,
                             new: dict[str, tuple[str, set[str]]]) -> set[tuple[str, str]]:
        """(variable, collection) of new objects whose collection the other side's
        back_populates/backref filled in memory before the first flush: `Hero(team=team)` or
        `hero.team = team` appends to `team.heroes`, which then needs no load."""
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        events = _Events()
        events.walk(block_of(function))
        filled: set[tuple[str, str]] = set()
        for event in events.found:
            if isinstance(event, cst.Call):  # a flush() or commit()
                if self._flushes_call(event):
                    break
                continue
            holder_class, attr, value = event
            owner = new[holder_class][0] if holder_class in new else plan.mapped_class(
                ix, scope, holder_class)
            if value not in new or owner is None:
                continue
            side = plan.relationship(owner, attr)
            reverse = side and (side.back_populates or side.backref)
            if reverse:
                filled.add((value, reverse))
        return filled

    def _flushes_call(self, call: cst.Call) -> bool:
        return isinstance(call.func, cst.Attribute) and call.func.attr.value in _FLUSHING and (
            self.ctx.kind(call.func.value) is ObjKind.SESSION)

    def _flushes(self, statement: cst.CSTNode) -> bool:
        header = statement if isinstance(statement, cst.SimpleStatementLine) else None
        calls = _Calls()
        if header is not None:
            calls.walk(header)
        return any(self._flushes_call(c) for c in calls.found)


class _Constructions(Visitor):
    """`x = SomeClass(...)` assignments of a function (not of nested ones), by variable."""

    def __init__(self) -> None:
        self.found: dict[str, cst.Call] = {}

    @classmethod
    def collect(cls, function: Body) -> dict[str, cst.Call]:
        visitor = cls()
        visitor.walk(block_of(function))
        return visitor.found

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        if isinstance(target, cst.Name) and isinstance(node.value, cst.Call):
            self.found[target.value] = node.value


class _Events(Visitor):
    """In source order, in one function (not nested ones): flush()/commit() calls (as the
    call), and a variable handed to a relationship of another object, as (the class built
    or the variable holding the object, the attribute, the variable): `Hero(team=team)` →
    ("Hero", "team", "team"), `hero.team = team` → ("hero", "team", "team")."""

    def __init__(self) -> None:
        self.found: list[cst.Call | tuple[str, str, str]] = []

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _FLUSHING:
            self.found.append(node)
            return
        built = callee(node.func)
        self.found.extend((built, a.keyword.value, a.value.value) for a in node.args
                          if built and a.keyword is not None and isinstance(a.value, cst.Name))

    def visit_Assign(self, node: cst.Assign) -> None:
        self.found.extend(
            (t.target.value.value, t.target.attr.value, node.value.value) for t in node.targets
            if isinstance(t.target, cst.Attribute) and isinstance(t.target.value, cst.Name)
            and isinstance(node.value, cst.Name))


class _Calls(Visitor):
    def __init__(self) -> None:
        self.found: list[cst.Call] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.found.append(node)
