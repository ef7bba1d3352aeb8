"""SQA002: session factories become async_sessionmaker."""

from __future__ import annotations

import libcst as cst

from ..api_surface import (
    ASYNC_SESSION_CLASSES,
    EXPIRE_ON_COMMIT,
    SESSION_CLASSES,
    SESSIONMAKERS,
)
from ..rewrite.build import with_keyword_default
from .base import Case, RenameReferences


class AsyncSessionmaker(RenameReferences):
    """sessionmaker() becomes async_sessionmaker(), keeping attributes readable after commit.

    `expire_on_commit=False` is added unless the code sets it: under asyncio an attribute
    expired by `commit()` cannot reload itself.
    """

    code = "SQA002"
    ensures = frozenset({"async-objects"})
    needs = frozenset({"awaited-io"})
    summary = "sessionmaker() → async_sessionmaker(..., expire_on_commit=False)"
    cases = (
        Case("""
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_engine("sqlite:///shop.db")
            SessionLocal = sessionmaker(bind=engine)
        """, """
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///shop.db")
            SessionLocal = async_sessionmaker(bind=engine, expire_on_commit=False)
        """),
    )
    renames = dict.fromkeys(SESSIONMAKERS, ("sqlalchemy.ext.asyncio", "async_sessionmaker"))

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or self.ctx.qualify(original.func) not in (
                SESSIONMAKERS):
            return updated
        changed = with_keyword_default(updated, EXPIRE_ON_COMMIT, "False")
        self.ctx.change(self.code, "sessionmaker() → async_sessionmaker()"
                        + (", expire_on_commit=False" if changed else ""), original)
        return self._custom_session_class(original, changed or updated)

    def _custom_session_class(self, original: cst.Call, call: cst.Call) -> cst.Call:
        """`class_=MySession` (a sync Session subclass) → `sync_session_class=MySession`."""
        args = list(call.args)
        for i, arg in enumerate(args):
            if arg.keyword is not None and arg.keyword.value == "class_" and (
                    self.ctx.qualify(arg.value) not in SESSION_CLASSES | ASYNC_SESSION_CLASSES):
                args[i] = arg.with_changes(keyword=cst.Name("sync_session_class"))
                self.ctx.change(self.code, "class_= → sync_session_class= (a custom sync "
                                           "Session class)", original)
        return call.with_changes(args=args)
