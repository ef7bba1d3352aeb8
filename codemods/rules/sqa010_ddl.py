"""SQA010: `metadata.create_all(engine)` runs through an async connection."""

from __future__ import annotations

import libcst as cst

from ..analysis import ObjKind
from ..index.shapes import DDL_METHODS
from ..rewrite.build import comma_separated, method_call
from ..rewrite.connections import connection, on_connection
from ..rewrite.context import dotted
from ..rewrite.startup import Startup
from .base import Case, Rule


class AsyncDDL(Rule):
    """metadata.create_all/drop_all(engine) runs inside `async with engine.begin()`.

    With a connection instead of an engine: `await conn.run_sync(Base.metadata.create_all)`.
    Extra arguments (`tables=[...]`, `checkfirst=`) are passed through `run_sync`.

    At module level (it ran at import, where nothing can be awaited): in a FastAPI app
    module it moves into a `lifespan` handler the app is built with (`FastAPI(...,
    lifespan=lifespan)`; an app that already has a lifespan or start-up handler gets a TODO
    to move it there; SQA309 makes the app's test clients run that lifespan); in any other
    module (a library module others import, a pytest module) it runs in place, so whoever
    imports the module finds the tables as before: in an `async def` run by `asyncio.run()`
    in a thread of its own (the importer may be running an event loop, where `asyncio.run()`
    cannot start), which then disposes of the engine's connections, bound to that loop,
    unless its pool is a `StaticPool` (an in-memory database lives in its one connection).

    `metadata.reflect(engine)` (an async engine cannot be inspected) runs the same way inside
    `async with engine.connect()`.
    """

    code = "SQA010"
    ensures = frozenset({"awaited-io"})
    needs = frozenset({"async-functions", "async-objects"})
    summary = ("metadata.create_all/drop_all/reflect(engine) → async with engine.begin(): "
               "await conn.run_sync(...)")
    cases = (
        Case("""
            from sqlalchemy import create_engine
            from sqlalchemy.orm import DeclarativeBase


            class Base(DeclarativeBase):
                pass


            def create_tables(url: str) -> None:
                engine = create_engine(url)
                Base.metadata.create_all(engine)
        """, """
            from sqlalchemy.ext.asyncio import create_async_engine
            from sqlalchemy.orm import DeclarativeBase


            class Base(DeclarativeBase):
                pass


            async def create_tables(url: str) -> None:
                # TODO(sqla-asyncify SQA001): the engine URL is not a literal; make sure it names an async driver: sqlite → sqlite+aiosqlite, postgresql/psycopg2 → postgresql+asyncpg, mysql/pymysql → mysql+aiomysql, mssql+pyodbc → mssql+aioodbc
                engine = create_async_engine(url)
                async with engine.begin() as conn:
                    await conn.run_sync(Base.metadata.create_all)
        """),  # noqa: E501
    )

    startup: Startup | None = None

    def visit_Module(self, node: cst.Module) -> None:
        ix = self.ctx.ix
        self.startup = Startup(node, self.ctx.plan.app_startup(
            ix, self.ctx.config)) if self.ctx.async_target else None

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if self.startup is None:
            return updated
        return self.startup.apply(updated, self.ctx)

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.BaseStatement:
        if len(updated.body) != 1 or not isinstance(updated.body[0], cst.Expr):
            return updated
        call = updated.body[0].value
        if not isinstance(call, cst.Call) or not isinstance(call.func, cst.Attribute) or (
                call.func.attr.value not in DDL_METHODS):
            return updated
        bind_index = next((i for i, a in enumerate(call.args)
                           if a.keyword is None or a.keyword.value == "bind"), None)
        if bind_index is None:
            return updated
        bind = call.args[bind_index].value
        kind = self.ctx.kind(bind)
        if kind not in (ObjKind.ENGINE, ObjKind.CONNECTION):
            return updated
        reason = self.ctx.cannot_await()
        method = dotted(call.func) or "metadata." + call.func.attr.value
        # a module-level statement on an engine (no async connection can be open at import)
        startup = self.startup if reason and kind is ObjKind.ENGINE and (
            self.ctx.function is None) and not (self.ctx.scopes or self.ctx.lambdas) and len(
                self.ctx.statements) == 1 else None
        if startup is not None:
            reason = startup.cannot_move(original)
        if reason:
            self.ctx.todo(self.code, f"{method}() needs an async connection, but {reason}",
                          original)
            return updated
        rest = [a for i, a in enumerate(call.args) if i != bind_index]
        conn = connection(self.ctx, bind, kind)
        run_sync = method_call(conn, "run_sync", comma_separated([cst.Arg(call.func), *rest]))
        self.ctx.io_scopes.add(self.ctx.scope)
        where = ""
        if startup is not None and startup.in_place:
            where = (", run at import as before, by asyncio.run() in a thread of its own (the "
                     "importer may be running an event loop); the engine's connections are "
                     "disposed of after it (they belong to that loop) unless its pool is a "
                     "StaticPool (an in-memory database)")
        self.ctx.change(self.code, f"{method}() through run_sync on an async connection{where}",
                        original)
        rewritten = on_connection(updated.with_changes(body=[cst.Expr(cst.Await(run_sync))]),
                                  bind, conn, DDL_METHODS[call.func.attr.value])
        return startup.add(rewritten, bind) if startup else rewritten
