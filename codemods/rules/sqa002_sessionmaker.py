"""SQA002: session factories become async_sessionmaker."""

from __future__ import annotations

import libcst as cst

from ..api_surface import EXPIRE_ON_COMMIT, SESSIONMAKERS
from ..context import with_keyword_default
from .base import RenameReferences


class AsyncSessionmaker(RenameReferences):
    """sessionmaker() becomes async_sessionmaker(), keeping attributes readable after commit.

    Before:
        SessionLocal = sessionmaker(bind=engine)
    After:
        SessionLocal = async_sessionmaker(bind=engine, expire_on_commit=False)

    `expire_on_commit=False` is added unless the code sets it: under asyncio an attribute
    expired by `commit()` cannot reload itself (reference §3.3, §6 row 5).
    """

    code = "SQA002"
    summary = "sessionmaker() → async_sessionmaker(..., expire_on_commit=False)"
    renames = dict.fromkeys(SESSIONMAKERS, ("sqlalchemy.ext.asyncio", "async_sessionmaker"))

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or self.ctx.qualify(original.func) not in (
                SESSIONMAKERS):
            return updated
        changed = with_keyword_default(updated, EXPIRE_ON_COMMIT, "False")
        self.ctx.change(self.code, "sessionmaker() → async_sessionmaker()"
                        + (", expire_on_commit=False" if changed else ""), original)
        return changed or updated
