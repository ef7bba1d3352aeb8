"""SQA504: coroutines that are created and dropped, never awaited."""

from __future__ import annotations

import libcst as cst

from ..api_surface import SESSION_COROUTINES
from ..rewrite.context import callee, dotted
from .base import LintCase, LintContext, LintRule
from .calls import own_calls
from .markers import marked_statements
from .objects import ASYNC, flavour, session_of

# The migration's TODO on calls that may return a coroutine it could not prove awaited.
_MARKED_CALLS = frozenset({"SQA306"})


class UnawaitedCoroutines(LintRule):
    """Calls of `async def` functions of the project, and of AsyncSession coroutines, are
    awaited.

    A coroutine that is called as a statement and never awaited does nothing: its body never
    runs (Python only warns `RuntimeWarning: coroutine ... was never awaited` when it is
    collected). The check resolves the call to a project function the way the migration
    does (functions, methods of instances whose class it knows, imported names); async
    generators, which are iterated rather than awaited, are left alone. Calls the migration
    marked with an SQA306 TODO (it made the callee async but cannot tell what the receiver
    is: `person.latest_movement(session).date`) are reported while the marker is there.
    """

    code = "SQA504"
    summary = "async function or AsyncSession coroutine called as a statement, never awaited"
    cases = (
        LintCase("""
            from sqlalchemy.ext.asyncio import AsyncSession


            async def audit(session: AsyncSession, what: str) -> None:
                ...


            async def close_account(session: AsyncSession) -> None:
                audit(session, "closed")
                await session.commit()
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession


            async def audit(session: AsyncSession, what: str) -> None:
                ...


            async def close_account(session: AsyncSession) -> None:
                await audit(session, "closed")
                await session.commit()
        """),
    )

    def check(self, ctx: LintContext) -> None:
        for line, col, marker in marked_statements(ctx.module.code, _MARKED_CALLS):
            ctx.add(self.code, line, col, "the migration could not tell whether this call "
                                          f"returns a coroutine ({marker.code}): "
                                          f"{marker.message}")
        for scope, function in ctx.functions():
            for call in own_calls(function):
                if call.statement and not call.awaited:
                    self._dropped(ctx, scope, call.node)

    def _dropped(self, ctx: LintContext, scope: str, node: cst.Call) -> None:
        name = callee(node.func)
        if name is None:
            return
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in SESSION_COROUTINES:
            session = session_of(ctx, scope, node.func.value)
            if session and flavour(ctx, scope, dotted(node.func.value) or "") == ASYNC:
                ctx.report(self.code, node, f"`{name}()` returns a coroutine that is never "
                                            f"awaited: it does nothing; `await {name}(...)`",
                           scope)
                return
        ref = ctx.plan.resolve_function(ctx.ix, scope, name)
        info = ctx.plan.modules[ref[0]].functions.get(ref[1]) if ref else None
        if info is not None and info.is_async and not info.is_generator:
            ctx.report(self.code, node, f"`{name}()` is an async function: called without "
                                        "await, its body never runs (the coroutine is "
                                        f"dropped); `await {name}(...)`", scope)
