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
from .base import Rule

_COROUTINES = {
    ObjKind.SESSION: SESSION_COROUTINES | STARTABLES,
    ObjKind.CONNECTION: CONNECTION_COROUTINES | STARTABLES,
    ObjKind.ENGINE: ENGINE_COROUTINES,
    ObjKind.TRANSACTION: TRANSACTION_COROUTINES,
}


class AwaitCoroutines(Rule):
    """Every AsyncSession / AsyncConnection / AsyncEngine coroutine method is awaited.

    Before:
        session.add(user)
        session.commit()
        rows = session.execute(stmt).scalars().all()
    After:
        session.add(user)
        await session.commit()
        rows = (await session.execute(stmt)).scalars().all()

    Only the coroutines of reference §3.1/§4.2 are awaited: `add`, `add_all`, `expunge`,
    `expire`, `in_transaction` … stay plain (awaiting them is a TypeError), and a forgotten
    await on `delete`/`merge`/`flush` would fail silently.
    """

    code = "SQA200"
    summary = "await session/connection/engine coroutine methods (commit, execute, get, …)"
    after = ("SQA400",)  # session.get() gets its loader options before it is awaited

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or not isinstance(updated.func, cst.Attribute):
            return updated
        if id(original) in self.ctx.awaited or id(original) in self.ctx.with_items:
            return updated
        method = updated.func.attr.value
        kind = self.ctx.kind(original.func.value)
        if kind is None or method not in _COROUTINES.get(kind, ()):
            return updated
        awaited = self.ctx.await_(self.code, updated, original, f"{kind.value}.{method}()")
        if awaited is not updated:
            self.ctx.change(self.code, f"await {kind.value}.{method}()", original)
        return awaited
