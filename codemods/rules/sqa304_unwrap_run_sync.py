"""SQA304: run_sync wraps around functions that are now migrated are unwrapped."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ..rewrite.build import ReplaceExpression, comma
from ..rewrite.context import callee, dotted
from .base import COLOURING, Case, Rule


class UnwrapRunSync(Rule):
    """`await session.run_sync(fn, ...)` becomes `await fn(session, ...)` once fn is async.
    """

    code = "SQA304"
    summary = "await session.run_sync(fn, ...) → await fn(session, ...) once fn became async"
    cases = (
        Case("""
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import Session


            def count_users(session: Session) -> int:
                session.flush()
                return 0


            async def report(session: AsyncSession) -> int:
                return await session.run_sync(count_users)
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession


            async def count_users(session: AsyncSession) -> int:
                await session.flush()
                return 0


            async def report(session: AsyncSession) -> int:
                return await count_users(session)
        """),
    )
    phase = COLOURING
    after = ("SQA300",)

    def leave_Await(self, original: cst.Await, updated: cst.Await) -> cst.BaseExpression:
        call = updated.expression
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "run_sync" and call.args
                and call.args[0].keyword is None):
            return updated
        session, target = call.func.value, call.args[0].value
        if isinstance(target, cst.Lambda):
            params = target.params.params
            if not isinstance(target.body, cst.Call) or not self._is_async(target.body):
                return updated
            if len(params) != 1 or call.args[1:]:
                self.ctx.todo(self.code, "run_sync is given a lambda calling a function that is "
                                         "async now: call it with await instead", original)
                return updated
            parameter = cst.Name(params[0].name.value)
            if _queries_on(target.body, parameter.value):
                self.ctx.todo(self.code, f"{callee(target.body.func)}() is async now but is "
                                         "handed a legacy Query built on the sync session: "
                                         "convert that query to select() by hand (then call "
                                         "it with await)", original)
                return updated
            inner = ReplaceExpression(parameter, session).transform(target.body)
        else:
            name = dotted(target)
            ref = name and self.ctx.plan.resolve_function(self.ctx.ix, self.ctx.scope, name)
            if not ref or ref not in self.ctx.plan.async_functions:
                return updated
            first = cst.Arg(session, comma=comma())
            inner = cst.Call(func=target, args=[first, *call.args[1:]] if call.args[1:] else [
                first.with_changes(comma=cst.MaybeSentinel.DEFAULT)])
        self.ctx.change(self.code, "run_sync wrap removed: the function is async now", original)
        return updated.with_changes(expression=inner)

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        """`Repo(session.sync_session)` (SQA303) → `Repo(session)` once Repo's methods are async."""
        if not isinstance(updated, cst.Call) or not any(
                m.matches(a.value, _SYNC_SESSION) for a in updated.args):
            return updated
        name = callee(original.func)
        if not name or not self.ctx.plan.class_with_method_in(
                self.ctx.ix, name, self.ctx.plan.async_functions):
            return updated
        self.ctx.change(self.code, f"{name}() gets the AsyncSession again: its methods are async",
                        original)
        return updated.with_changes(args=[
            a.with_changes(value=a.value.value) if m.matches(a.value, _SYNC_SESSION) else a
            for a in updated.args])

    def _is_async(self, call: cst.Call) -> bool:
        name = callee(call.func)
        ref = name and self.ctx.plan.resolve_function(self.ctx.ix, self.ctx.scope, name)
        return bool(ref) and ref in self.ctx.plan.async_functions


_SYNC_SESSION = m.Attribute(value=m.Name(), attr=m.Name("sync_session"))


def _queries_on(call: cst.Call, session: str) -> bool:
    """`session.query(...)` somewhere in the call (a legacy Query it is handed)."""
    return bool(m.findall(call, m.Call(func=m.Attribute(value=m.Name(session),
                                                        attr=m.Name("query")))))
