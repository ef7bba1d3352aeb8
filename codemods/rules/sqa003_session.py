"""SQA003: Session becomes AsyncSession (SQLAlchemy's or SQLModel's)."""

from __future__ import annotations

import libcst as cst

from ..api_surface import (
    EXPIRE_ON_COMMIT,
    OBJECT_SESSIONS,
    SESSION_CLASSES,
    SQLMODEL_SESSION_CLASSES,
)
from ..rewrite.build import with_keyword_default
from .base import Case, RenameReferences


class AsyncSessionClass(RenameReferences):
    """Session becomes AsyncSession in constructors, annotations and isinstance checks.

    SQLModel's `Session` becomes `sqlmodel.ext.asyncio.session.AsyncSession`. Constructors get
    `expire_on_commit=False` unless the code sets it (attributes stay readable after commit).
    """

    code = "SQA003"
    ensures = frozenset({"async-objects"})
    needs = frozenset({"awaited-io"})
    summary = "Session → AsyncSession (SQLAlchemy or SQLModel), expire_on_commit=False"
    cases = (
        Case("""
            from sqlalchemy.orm import Session


            def save(session: Session, user) -> None:
                session.add(user)
                session.commit()
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession


            async def save(session: AsyncSession, user) -> None:
                session.add(user)
                await session.commit()
        """),
    )
    renames = {
        **dict.fromkeys(SESSION_CLASSES - SQLMODEL_SESSION_CLASSES,
                        ("sqlalchemy.ext.asyncio", "AsyncSession")),
        **dict.fromkeys(SQLMODEL_SESSION_CLASSES,
                        ("sqlmodel.ext.asyncio.session", "AsyncSession")),
        # the sync one would hand back the AsyncSession's sync Session, which cannot await
        **dict.fromkeys(OBJECT_SESSIONS, ("sqlalchemy.ext.asyncio", "async_object_session")),
    }

    subclass_todo = ("{name} subclasses the sync Session and stays sync: pass it as "
                     "async_sessionmaker(sync_session_class={name}); a get_bind() override must "
                     "return engine.sync_engine")

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or self.ctx.qualify(original.func) not in (
                SESSION_CLASSES):
            return updated
        changed = with_keyword_default(updated, EXPIRE_ON_COMMIT, "False")
        self.ctx.change(self.code, "Session() → AsyncSession()"
                        + (", expire_on_commit=False" if changed else ""), original)
        return changed or updated
