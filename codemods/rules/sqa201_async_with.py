"""SQA201: sessions, transactions and connections are entered with `async with`."""

from __future__ import annotations

import libcst as cst

from ..analysis import ObjKind
from ..api_surface import ASYNC_SESSION_CLASSES, ENGINE_CONTEXTS, SESSION_CLASSES, STARTABLES
from ..results import Kind
from ..rewrite.context import callee, dotted
from .base import Case, Rule


class AsyncWith(Rule):
    """`with` blocks over sessions, transactions and connections become `async with`.

    `with session.no_autoflush:` stays a plain `with` (it is a sync context manager).
    """

    code = "SQA201"
    ensures = frozenset({"awaited-io"})
    needs = frozenset({"async-functions", "async-objects"})
    summary = "with Session()/maker()/maker.begin()/s.begin()/engine.connect() → async with"
    cases = (
        Case("""
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_engine("sqlite:///shop.db")
            SessionLocal = sessionmaker(bind=engine)


            def add(user) -> None:
                with SessionLocal.begin() as session:
                    session.add(user)
        """, """
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///shop.db")
            SessionLocal = async_sessionmaker(bind=engine, expire_on_commit=False)


            async def add(user) -> None:
                async with SessionLocal.begin() as session:
                    session.add(user)
        """),
    )

    def _is_async_context(self, expr: cst.BaseExpression) -> bool:
        if not isinstance(expr, cst.Call):
            return self.ctx.kind(expr) is ObjKind.SESSION
        if self.ctx.qualify(expr.func) in SESSION_CLASSES | ASYNC_SESSION_CLASSES:
            return True
        kind = self.ctx.kind(expr.func)
        if kind in (ObjKind.FACTORY, ObjKind.SESSION):  # `maker()`, `Scoped()`
            return True
        if self._returns_session(expr):
            return True
        if not isinstance(expr.func, cst.Attribute):
            return False
        method = expr.func.attr.value
        receiver = self.ctx.kind(expr.func.value)
        return (receiver in (ObjKind.FACTORY, ObjKind.SESSION, ObjKind.CONNECTION)
                and method in STARTABLES) or (
            receiver is ObjKind.ENGINE and method in ENGINE_CONTEXTS)

    def _returns_session(self, call: cst.Call) -> bool:
        """`get_session()`: a project function (not a generator: a context manager made of
        one is entered as it is) whose return annotation says it returns a session."""
        name = callee(call.func)
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        ref = plan.resolve_function(ix, scope, name) if name else None
        if ref is None:
            return False
        info = plan.modules[ref[0]].functions[ref[1]]
        return not info.is_generator and not info.decorators and self.ctx.kind(
            call) is ObjKind.SESSION

    def suppressed_With(self, original: cst.With, updated: cst.With) -> None:
        """Suppressed here, but other rules made what the block enters async (`Session` is
        now `AsyncSession`): a plain `with` over it fails, so say so."""
        if updated.asynchronous is not None or updated.deep_equals(original) or not all(
                self._is_async_context(item.item) for item in original.items):
            return
        self.ctx.report(self.code, Kind.TODO, "a suppression keeps this `with` from becoming "
                        "`async with`, but it enters an async session or connection now, "
                        "which only `async with` can (remove the suppression, or suppress "
                        "the rules that made it async too)", original, despite_suppression=True)

    def leave_With(self, original: cst.With, updated: cst.With) -> cst.With:
        if updated.asynchronous is not None:
            return updated
        flags = [self._is_async_context(item.item) for item in original.items]
        if not any(flags):
            return updated
        shown = ", ".join(dotted(i.item.func) or "…" if isinstance(i.item, cst.Call) else "…"
                          for i in original.items)
        if not all(flags):
            self.ctx.todo(self.code, f"`with {shown}` mixes async and sync context managers: "
                                     "split it into nested `async with` / `with`", original)
            return updated
        reason = self.ctx.cannot_await()
        if reason:
            self.ctx.todo(self.code, f"`with {shown}` must become `async with`, but {reason}",
                          original)
            return updated
        self.ctx.io_scopes.add(self.ctx.scope)
        self.ctx.change(self.code, f"with {shown} → async with", original)
        return updated.with_changes(asynchronous=cst.Asynchronous())
