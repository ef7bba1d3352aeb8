"""SQA502: synchronous SQLAlchemy and other blocking calls inside `async def`."""

from __future__ import annotations

import libcst as cst

from ..api_surface import ASYNC_SESSION_CLASSES, ENGINE_FACTORIES, SESSION_CLASSES, SESSIONMAKERS
from ..rewrite.context import callee, dotted
from .base import LintCase, LintContext, LintRule
from .calls import own_calls
from .objects import SYNC, flavour

# qualified name → the async alternative
_BLOCKING = {
    "time.sleep": "`await asyncio.sleep(...)`",
    **{f"requests.{verb}": "an `httpx.AsyncClient` (`await client.get(...)`)" for verb in (
        "get", "post", "put", "patch", "delete", "head", "options", "request")},
    "urllib.request.urlopen": "an `httpx.AsyncClient`",
    **{f"subprocess.{name}": "`await asyncio.create_subprocess_exec(...)`" for name in (
        "run", "call", "check_call", "check_output")},
    **dict.fromkeys(ENGINE_FACTORIES, "`create_async_engine(...)` (once, at module level)"),
    **dict.fromkeys(SESSION_CLASSES, "`AsyncSession`"),
    **dict.fromkeys(SESSIONMAKERS, "`async_sessionmaker`"),
}
# What a sync engine, connection or session does with the database.
_IO_METHODS = frozenset({"connect", "begin", "execute", "scalar", "scalars", "get", "commit",
                         "rollback", "flush", "refresh", "merge", "delete", "query", "close"})


class BlockingCalls(LintRule):
    """`async def` code makes no blocking calls: each one stops the event loop.

    A synchronous `Session`, `engine.connect()` of a `create_engine` engine, `Query`
    (`session.query(...)`), `time.sleep`, `requests.*`, `urllib.request.urlopen` and
    `subprocess.run` block every other task of the loop while they wait; the finding names
    the asyncio alternative. A session or engine counts as synchronous when its annotation
    or the call that made it (its factory's too) says so; `sessionmaker(engine,
    class_=AsyncSession)` makes async sessions and is not reported.
    """

    code = "SQA502"
    summary = ("blocking call in async def (sync Session/engine/Query, time.sleep, "
               "requests.*) → its asyncio alternative")
    cases = (
        LintCase("""
            import time


            async def poll(ticks: int) -> None:
                for _ in range(ticks):
                    time.sleep(0.1)
        """, """
            import asyncio


            async def poll(ticks: int) -> None:
                for _ in range(ticks):
                    await asyncio.sleep(0.1)
        """),
        LintCase("""
            from sqlalchemy.orm import sessionmaker


            async def make_factory(engine):
                return sessionmaker(engine)
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import sessionmaker


            async def make_factory(engine):
                return sessionmaker(engine, class_=AsyncSession)
        """),
    )

    def check(self, ctx: LintContext) -> None:
        for scope, function in ctx.async_functions():
            for call in own_calls(function):
                self._call(ctx, scope, call.node)

    def _call(self, ctx: LintContext, scope: str, node: cst.Call) -> None:
        qualified = ctx.qualify(node.func)
        if qualified in SESSIONMAKERS and _makes_async_sessions(ctx, node):
            return  # `sessionmaker(engine, class_=AsyncSession)`: an async factory, no I/O
        if qualified in _BLOCKING:
            ctx.report(self.code, node, f"`{qualified}()` blocks the event loop in async "
                                        f"code; use {_BLOCKING[qualified]}", scope)
            return
        if not isinstance(node.func, cst.Attribute) or node.func.attr.value not in _IO_METHODS:
            return
        receiver = dotted(node.func.value)
        if receiver is None or flavour(ctx, scope, receiver) != SYNC:
            return
        kind = ctx.kind(scope, node.func.value)
        what = kind.value if kind is not None else "engine/session"
        ctx.report(self.code, node, f"`{callee(node.func)}()` runs on a synchronous {what} "
                                    "and blocks the event loop; use the asyncio one "
                                    "(AsyncSession / create_async_engine) and await it", scope)


def _makes_async_sessions(ctx: LintContext, node: cst.Call) -> bool:
    """`sessionmaker(..., class_=AsyncSession)` (or another asyncio session class)."""
    return any(arg.keyword is not None and arg.keyword.value == "class_"
               and ctx.qualify(arg.value) in ASYNC_SESSION_CLASSES for arg in node.args)
