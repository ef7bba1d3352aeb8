"""SQA200: coroutine methods of sessions, connections and engines are awaited."""

from __future__ import annotations

import libcst as cst

from ..analysis import ObjKind
from ..api_surface import (
    CONNECTION_COROUTINES,
    ENGINE_COROUTINES,
    SESSION_COROUTINES,
    STARTABLES,
    TRANSACTION_COROUTINES,
)
from .base import Case, Rule

_COROUTINES = {
    ObjKind.SESSION: SESSION_COROUTINES | STARTABLES,
    ObjKind.CONNECTION: CONNECTION_COROUTINES | STARTABLES,
    ObjKind.ENGINE: ENGINE_COROUTINES,
    ObjKind.TRANSACTION: TRANSACTION_COROUTINES,
}


class AwaitCoroutines(Rule):
    """Every AsyncSession / AsyncConnection / AsyncEngine coroutine method is awaited.

    Only SQLAlchemy's coroutine methods are awaited: `add`, `add_all`, `expunge`,
    `expire`, `in_transaction` … stay plain (awaiting them is a TypeError), and a forgotten
    await on `delete`/`merge`/`flush` would fail silently.
    """

    code = "SQA200"
    ensures = frozenset({"awaited-io"})
    needs = frozenset({"async-functions", "async-objects"})
    summary = "await session/connection/engine coroutine methods (commit, execute, get, …)"
    cases = (
        Case("""
            from sqlalchemy.orm import Session


            def rename(session: Session, user, name: str) -> None:
                user.name = name
                session.flush()
                session.commit()
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession


            async def rename(session: AsyncSession, user, name: str) -> None:
                user.name = name
                await session.flush()
                await session.commit()
        """),
    )
    after = ("SQA400",)  # session.get() gets its loader options before it is awaited

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or not isinstance(updated.func, cst.Attribute):
            return updated
        if id(original) in self.ctx.awaited or id(original) in self.ctx.with_items or (
                id(original) in self.ctx.event_targets):
            return updated  # (SQA005 awaits `session.connection()` as an event target)
        method = updated.func.attr.value
        kind = self.ctx.kind(original.func.value)
        if kind is None or method not in _COROUTINES.get(kind, ()):
            return updated
        awaited = self.ctx.await_(self.code, updated, original, f"{kind.value}.{method}()")
        if awaited is not updated:
            self.ctx.change(self.code, f"await {kind.value}.{method}()", original)
        return awaited
