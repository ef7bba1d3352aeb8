"""SQA005: event listeners on sessions, factories and engines that became async."""

from __future__ import annotations

import libcst as cst

from ..analysis import ObjKind
from ..api_surface import (
    ASYNC_SESSION_CLASSES,
    ASYNC_SESSIONMAKERS,
    EVENT_FUNCTIONS,
    SCOPED_SESSIONS,
    SESSION_CLASSES,
    SESSIONMAKERS,
)
from ..index import CALL
from ..rewrite.build import parenthesize
from ..rewrite.context import Context, dotted
from .base import Case, Rule

# The sync object behind an async one, which takes the listeners.
_SYNC_ATTRIBUTES = {ObjKind.SESSION: "sync_session", ObjKind.ENGINE: "sync_engine",
                    ObjKind.CONNECTION: "sync_connection"}
_SESSION_FACTORIES = SESSIONMAKERS | ASYNC_SESSIONMAKERS | SESSION_CLASSES | ASYNC_SESSION_CLASSES


class AsyncEventTargets(Rule):
    """Listeners move to the sync object behind an async one (async objects take no events).

    `event.listen(session, ...)` / `@event.listens_for(engine, ...)` on an AsyncSession,
    AsyncEngine or AsyncConnection raise NotImplementedError, and an async_sessionmaker or
    async_scoped_session has no session events at all. The listener goes on
    `session.sync_session`, `engine.sync_engine`, `conn.sync_connection`; for a session
    factory on the sync `Session` class, which every async session runs its events through.
    Where the project creates sessions in other ways too, that would widen the listener to
    them: a TODO says how to keep it to the factory's sessions. Handlers stay sync functions
    (they run inside the awaited flush, commit or query).
    """

    code = "SQA005"
    summary = "event.listen(async session/engine, ...) → on .sync_session / .sync_engine / Session"
    cases = (
        Case("""
            from sqlalchemy import create_engine, event
            from sqlalchemy.orm import sessionmaker

            engine = create_engine("sqlite:///shop.db")
            SessionLocal = sessionmaker(engine)


            @event.listens_for(engine, "connect")
            def on_connect(dbapi_connection, record):
                dbapi_connection.execute("PRAGMA foreign_keys=ON")


            @event.listens_for(SessionLocal, "after_commit")
            def committed(session):
                print("committed")
        """, """
            from sqlalchemy import event
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
            from sqlalchemy.orm import Session

            engine = create_async_engine("sqlite+aiosqlite:///shop.db")
            SessionLocal = async_sessionmaker(engine, expire_on_commit=False)


            @event.listens_for(engine.sync_engine, "connect")
            def on_connect(dbapi_connection, record):
                dbapi_connection.execute("PRAGMA foreign_keys=ON")


            @event.listens_for(Session, "after_commit")
            def committed(session):
                print("committed")
        """),
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.decorators: set[int] = set()  # ids of decorator calls (see leave_FunctionDef)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.decorators.update(id(d.decorator) for d in node.decorators)

    def leave_FunctionDef(self, original: cst.FunctionDef,
                          updated: cst.BaseStatement) -> cst.BaseStatement:
        """`@event.listens_for(target, ...)`: read in the scope around the def (its body may
        not be entered at all)."""
        if type(updated) is not cst.FunctionDef:
            return updated
        with self.ctx.around_def():
            decorators = [d.with_changes(decorator=self._retarget(o.decorator, d.decorator))
                          if type(o.decorator) is cst.Call and type(d.decorator) is cst.Call
                          else d
                          for o, d in zip(original.decorators, updated.decorators, strict=True)]
        return updated.with_changes(decorators=decorators)

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if type(updated) is not cst.Call or id(original) in self.decorators:
            return updated
        return self._retarget(original, updated)

    def _retarget(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        if not original.args or original.args[0].keyword is not None or (
                self.ctx.qualify(original.func) not in EVENT_FUNCTIONS):
            return updated
        target, scope = original.args[0].value, self.ctx.scope
        if isinstance(target, cst.Call) and isinstance(target.func, cst.Attribute) and (
                target.func.attr.value == "connection"):
            return self._session_connection(original, updated, target, scope)
        spelled = dotted(target)
        kind = self.ctx.plan.kind(self.ctx.ix, scope, spelled) if spelled else None
        if kind not in (ObjKind.SESSION, ObjKind.FACTORY, ObjKind.ENGINE, ObjKind.CONNECTION):
            return updated
        if kind is ObjKind.FACTORY or self._scoped_registry(target, scope):
            new: cst.BaseExpression = cst.Name(self.ctx.import_name(
                "sqlalchemy.orm", "Session", frozenset({"sqlalchemy.orm.session.Session"})))
            self.ctx.change(self.code, f"events of {spelled} → the sync Session class (an "
                            "async session factory takes no events)", original)
            sources = self._session_sources()
            if len(sources) > 1:
                self.ctx.todo(self.code, _widened(spelled, sources), original)
        else:
            attribute = _SYNC_ATTRIBUTES[kind]
            new = cst.Attribute(value=updated.args[0].value, attr=cst.Name(attribute))
            self.ctx.change(self.code, f"events of {spelled} → .{attribute} (async objects "
                            "take no events)", original)
        first = updated.args[0].with_changes(value=new)
        return updated.with_changes(args=[first, *updated.args[1:]])

    def _session_connection(self, original: cst.Call, updated: cst.Call, target: cst.Call,
                            scope: str) -> cst.Call:
        """`session.connection()` as the target: on an AsyncSession it is a coroutine giving
        an AsyncConnection, whose events are its `.sync_connection`'s."""
        session = dotted(target.func.value)  # type: ignore[attr-defined]
        if not session or self.ctx.plan.kind(self.ctx.ix, scope, session) is not ObjKind.SESSION:
            return updated
        reason = self.ctx.cannot_await()
        if reason:
            self.ctx.todo(self.code, f"the events of {session}.connection() are its sync "
                          f"connection's, which needs await, but {reason}", original)
            return updated
        connection = updated.args[0].value
        new = cst.Attribute(value=parenthesize(cst.Await(connection)),
                            attr=cst.Name("sync_connection"))
        self.ctx.change(self.code, f"events of {session}.connection() → (await "
                        f"{session}.connection()).sync_connection", original)
        return updated.with_changes(args=[updated.args[0].with_changes(value=new),
                                          *updated.args[1:]])

    def _definitions(self, target: cst.BaseExpression, scope: str) -> set[str]:
        """What the calls that bind the name `target` (here, or where it is imported from)
        call, qualified."""
        if type(target) is not cst.Name:
            return set()
        plan, ix = self.ctx.plan, self.ctx.ix
        bindings = plan.bindings(ix, scope, target.value)
        if not bindings and target.value in ix.imports:
            found = plan.lookup(ix.qualify(target.value))
            if found is None:
                return set()
            ix, name = found
            bindings = plan.bindings(ix, "", name)
        return {plan.qualify(ix, t) for b in bindings if b.origin == CALL for t in b.targets[:1]}

    def _scoped_registry(self, target: cst.BaseExpression, scope: str) -> bool:
        """A (async_)scoped_session registry: its events were its factory's."""
        return bool(self._definitions(target, scope) & SCOPED_SESSIONS)

    def _session_sources(self) -> list[str]:
        """Where the project makes session factories or sessions (`path:line`), or subclasses
        Session."""
        plan = self.ctx.plan
        found: list[str] = []
        for ix in sorted(plan.modules.values(), key=lambda m: m.path):
            found += [f"{ix.module}:{site.line}" for site in ix.calls
                      if plan.qualify(ix, site.callee) in _SESSION_FACTORIES]
            found += [f"{ix.module}.{cls}" for cls, info in ix.classes.items()
                      if any(plan.qualify(ix, b) in SESSION_CLASSES for b in info.bases)]
        return found


def _widened(factory: str, sources: list[str]) -> str:
    shown = ", ".join(sources[:4]) + (", …" if len(sources) > 4 else "")
    return (f"this listener now runs for every Session, and the project makes sessions in "
            f"{len(sources)} places ({shown}); to keep it to those of {factory}, give them a "
            f"class of their own (`class {factory}Session(Session): pass`, passed as "
            f"async_sessionmaker(..., sync_session_class={factory}Session)) and listen on "
            "that class")

