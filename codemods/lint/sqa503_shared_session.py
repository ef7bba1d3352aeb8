"""SQA503: one AsyncSession used by tasks that run concurrently."""

from __future__ import annotations

import libcst as cst

from ..rewrite.context import dotted
from .base import LintCase, LintContext, LintRule
from .calls import own_calls
from .objects import session_of

_GATHER = frozenset({"asyncio.gather"})
_TASKS = frozenset({"asyncio.create_task", "asyncio.ensure_future"})


class SharedSession(LintRule):
    """An `AsyncSession` is used by one task at a time.

    A session is not safe for concurrent use: `asyncio.gather(f(session), g(session))` or a
    task started with `create_task(f(session))` while the function goes on using the session
    interleave their flushes and queries on one connection (`InvalidRequestError: Session is
    already flushing`, `This session is provisioning a new connection; concurrent operations
    are not permitted`, or rows of one query read by the other). Give each task its own
    session (`async with Session() as s:` inside the task), or await them one after another.
    Sessions count when passed to the tasks' calls, or used by a function nested in this one
    that a gathered call runs (a closure over the session).
    """

    code = "SQA503"
    summary = ("one AsyncSession passed to concurrent tasks (asyncio.gather, create_task) "
               "→ a session per task, or await them in turn")
    cases = (
        LintCase("""
            import asyncio

            from sqlalchemy.ext.asyncio import AsyncSession


            async def save(session: AsyncSession, name: str) -> None:
                ...


            async def save_all(session: AsyncSession) -> None:
                await asyncio.gather(save(session, "a"), save(session, "b"))
        """, """
            import asyncio

            from sqlalchemy.ext.asyncio import AsyncSession


            async def save(session: AsyncSession, name: str) -> None:
                ...


            async def save_all(session: AsyncSession) -> None:
                await save(session, "a")
                await save(session, "b")
        """),
        LintCase("""
            import asyncio

            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


            async def touch_all(maker: async_sessionmaker, ids: list[int]) -> None:
                async with maker() as session:
                    async def touch(i: int) -> None:
                        await session.flush()

                    await asyncio.gather(*(touch(i) for i in ids))
        """, """
            import asyncio

            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker


            async def touch_all(maker: async_sessionmaker, ids: list[int]) -> None:
                async def touch(i: int) -> None:
                    async with maker() as session:
                        await session.flush()

                await asyncio.gather(*(touch(i) for i in ids))
        """),
    )

    def check(self, ctx: LintContext) -> None:
        for scope, function in ctx.async_functions():
            for call in own_calls(function):
                qualified = ctx.qualify(call.node.func) or ""
                task = qualified in _TASKS or (isinstance(call.node.func, cst.Attribute) and (
                    call.node.func.attr.value == "create_task"))
                if qualified in _GATHER:
                    self._gather(ctx, scope, call.node, _closures(ctx, scope, function))
                elif task and call.node.args:
                    self._task(ctx, scope, function, call.node)

    def _gather(self, ctx: LintContext, scope: str, node: cst.Call,
                closures: dict[str, set[str]]) -> None:
        counts: dict[str, int] = {}
        for arg in node.args:
            for session in _sessions(ctx, scope, arg.value, closures):
                # `gather(*(work(session, i) for i in ...))` starts many tasks at once
                counts[session] = counts.get(session, 0) + (2 if arg.star else 1)
        shared = sorted(s for s, n in counts.items() if n > 1)
        if shared:
            ctx.report(self.code, node, f"asyncio.gather() runs tasks that share the session "
                                        f"`{shared[0]}` concurrently: an AsyncSession is not "
                                        "safe for concurrent use (Session is already "
                                        "flushing / concurrent operations are not permitted); "
                                        "give each task its own session, or await them one "
                                        "after another", scope)

    def _task(self, ctx: LintContext, scope: str, function: cst.FunctionDef,
              node: cst.Call) -> None:
        sessions = _sessions(ctx, scope, node.args[0].value)
        line, _ = ctx.position(node)
        for session in sorted(sessions):
            later = [n for n in _names(function.body, session) if ctx.position(n)[0] > line]
            if later:
                ctx.report(self.code, node, f"the task started here uses the session "
                                            f"`{session}`, which this function goes on "
                                            "using while the task may run: an AsyncSession "
                                            "is not safe for concurrent use; give the task "
                                            "its own session", scope)
                return


def _sessions(ctx: LintContext, scope: str, expr: cst.BaseExpression,
              closures: dict[str, set[str]] | None = None) -> set[str]:
    """Sessions passed to the calls in `expr` (a coroutine call, a generator of them), or
    used by the functions nested in this one that they call (`closures`)."""
    found: set[str] = set()

    class _Args(cst.CSTVisitor):
        def visit_Arg(self, arg: cst.Arg) -> None:
            session = session_of(ctx, scope, arg.value)
            if session:
                found.add(session)

        def visit_Call(self, call: cst.Call) -> None:
            if closures and isinstance(call.func, cst.Name):
                found.update(closures.get(call.func.value, ()))

    expr.visit(_Args())
    return found


def _names(body: cst.CSTNode, dotted_name: str) -> list[cst.CSTNode]:
    found: list[cst.CSTNode] = []

    class _Uses(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> bool:
            if dotted(node) == dotted_name:
                found.append(node)
                return False
            return True

        def visit_Name(self, node: cst.Name) -> None:
            if node.value == dotted_name:
                found.append(node)

    body.visit(_Uses())
    return found


def _closures(ctx: LintContext, scope: str, function: cst.FunctionDef) -> dict[str, set[str]]:
    """The functions defined in `function` → the sessions of `function` they use."""
    nested: list[cst.FunctionDef] = []

    class _Defs(cst.CSTVisitor):
        def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
            nested.append(node)
            return False

    function.body.visit(_Defs())
    found: dict[str, set[str]] = {}
    for inner in nested:
        names = _Names()
        inner.body.visit(names)
        used = {name for name in names.seen if session_of(ctx, scope, cst.Name(name))}
        if used:
            found[inner.name.value] = used
    return found


class _Names(cst.CSTVisitor):
    def __init__(self) -> None:
        self.seen: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        self.seen.add(node.value)
