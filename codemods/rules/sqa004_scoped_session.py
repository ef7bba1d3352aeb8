"""SQA004: scoped_session becomes async_scoped_session, one session per asyncio task."""

from __future__ import annotations

import libcst as cst

from ..api_surface import SCOPED_SESSIONS
from ..rewrite.build import with_keyword_default
from .base import Case, RenameReferences


class AsyncScopedSession(RenameReferences):
    """scoped_session(factory) becomes async_scoped_session(factory, scopefunc=current_task).

    `scopefunc` is required (there is no thread-local default); with `asyncio.current_task`
    each task gets its own session, which must be released with `await Session.remove()` at
    the end of the task or request — the tool leaves a TODO to place it.
    `Session.remove()` calls already in the code are awaited.
    """

    code = "SQA004"
    ensures = frozenset({"async-objects"})
    needs = frozenset({"awaited-io"})
    summary = "scoped_session → async_scoped_session(..., scopefunc=asyncio.current_task)"
    cases = (
        Case("""
            from sqlalchemy import create_engine
            from sqlalchemy.orm import scoped_session, sessionmaker

            engine = create_engine("sqlite:///shop.db")
            Session = scoped_session(sessionmaker(bind=engine))
        """, """
            import asyncio

            from sqlalchemy.ext.asyncio import (
                async_scoped_session,
                async_sessionmaker,
                create_async_engine,
            )

            engine = create_async_engine("sqlite+aiosqlite:///shop.db")
            # TODO(sqla-asyncify SQA004): await <registry>.remove() at the end of every task or request that used it, or its sessions stay open
            Session = async_scoped_session(async_sessionmaker(bind=engine, expire_on_commit=False), scopefunc=asyncio.current_task)
        """),  # noqa: E501
    )
    renames = dict.fromkeys(SCOPED_SESSIONS, ("sqlalchemy.ext.asyncio", "async_scoped_session"))

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or self.ctx.qualify(original.func) not in (
                SCOPED_SESSIONS):
            return updated
        asyncio = self.ctx.import_module("asyncio")
        changed = with_keyword_default(updated, "scopefunc", f"{asyncio}.current_task")
        self.ctx.change(self.code, "scoped_session → async_scoped_session, one session per "
                                   "task", original)
        self.ctx.todo(self.code, "await <registry>.remove() at the end of every task or request "
                                 "that used it, or its sessions stay open",
                      original)
        return changed or updated
