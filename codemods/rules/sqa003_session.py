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
from ..rewrite.context import PendingFinding
from ..rewrite.traversal import BodyScan, Transformer, mentions
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

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        # the `async_object_session` names this pass wrote (by id) → the reference each
        # replaced and the finding it reported
        self.object_sessions: dict[int, tuple[cst.BaseExpression, PendingFinding]] = {}
        self.restored = False  # some went back to the sync object_session

    def _rename(self, original: cst.Name | cst.Attribute,
                updated: cst.BaseExpression) -> cst.BaseExpression:
        findings = len(self.ctx.findings)
        renamed = super()._rename(original, updated)
        if renamed is not updated and self.ctx.qualify(original) in OBJECT_SESSIONS:
            self.object_sessions[id(renamed)] = (updated, self.ctx.findings[findings])
        return renamed

    def leave_FunctionDef(self, original: cst.FunctionDef,
                          updated: cst.FunctionDef) -> cst.FunctionDef:
        """A function that stays sync and keeps a legacy query on the session of an object
        gets that session from the sync `object_session`: the AsyncSession's sync Session,
        on which the query runs where run_sync (or a flush) runs this code — the
        AsyncSession has no `query()`."""
        becomes_async = updated.asynchronous is not None or self.ctx.scope in (
            self.ctx.io_scopes) or (self.ctx.ix.module, self.ctx.scope) in (
            self.ctx.plan.async_functions)  # (it awaits now, or an earlier round said so)
        if becomes_async or not self.object_sessions:
            return updated
        kept = _LegacyObjectSessions.find(updated, self.object_sessions)
        if not kept:
            return updated
        restore = {}
        for renamed in kept:
            restore[renamed], finding = self.object_sessions.pop(renamed)
            self.ctx.findings.remove(finding)
        self.restored = True
        return _Restore(restore).transform(updated)

    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if self.restored and not self.object_sessions:  # every one this rule wrote went back
            module, name = self.renames[next(iter(OBJECT_SESSIONS))]
            local, key = self.ctx.local_name(module, name)
            if key is not None and not mentions([updated], local):  # (nor another rule's)
                self.ctx.imports.add.pop(key, None)
            for old, new in list(self.ctx.renamed.items()):
                if new == local:
                    del self.ctx.renamed[old]
        return updated

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or self.ctx.qualify(original.func) not in (
                SESSION_CLASSES):
            return updated
        changed = with_keyword_default(updated, EXPIRE_ON_COMMIT, "False")
        self.ctx.change(self.code, "Session() → AsyncSession()"
                        + (", expire_on_commit=False" if changed else ""), original)
        return changed or updated


class _LegacyObjectSessions(BodyScan):
    """In a function's own code, the renamed `object_session` calls (by the id of the name)
    whose session is the receiver of a legacy `.query(...)`: called right there, or bound
    to a name bound nowhere else and read only as the receiver of method calls."""

    def __init__(self, renamed: dict[int, object]) -> None:
        super().__init__()
        self.renamed = renamed
        self.found: set[int] = set()
        self.bound: dict[str, list[int]] = {}  # name → the renamed calls bound to it (or -1)
        self.receivers: dict[str, set[str]] = {}  # name → the methods called on it
        self.other_reads: set[str] = set()
        self.methods: set[int] = set()  # Names read as `name.method(...)`

    @classmethod
    def find(cls, function: cst.FunctionDef, renamed: dict[int, object]) -> set[int]:
        scan = cls(renamed)
        scan.walk(function.body)
        for name, calls in scan.bound.items():
            if len(calls) == 1 and calls[0] >= 0 and name not in scan.other_reads and (
                    "query" in scan.receivers.get(name, ())):
                scan.found.add(calls[0])
        return scan.found

    def _renamed_call(self, node: cst.BaseExpression) -> int | None:
        return id(node.func) if isinstance(node, cst.Call) and id(node.func) in (
            self.renamed) else None

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            if isinstance(target.target, cst.Name):
                self.targets.add(id(target.target))
                called = self._renamed_call(node.value) if len(node.targets) == 1 else None
                self.bound.setdefault(target.target.value, []).append(
                    -1 if called is None or self.nested else called)

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        if (called := self._renamed_call(func.value)) is not None and (
                func.attr.value == "query") and not self.nested:
            self.found.add(called)
        elif isinstance(func.value, cst.Name) and not self.nested:  # (a nested read: other)
            self.methods.add(id(func.value))
            self.receivers.setdefault(func.value.value, set()).add(func.attr.value)

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.targets and id(node) not in self.methods:
            self.other_reads.add(node.value)


class _Restore(Transformer):
    """Puts back the references (by the id of the name that replaced each)."""

    def __init__(self, restore: dict[int, cst.BaseExpression]) -> None:
        super().__init__()
        self.restore = restore

    def on_leave(self, original, updated):  # type: ignore[override]
        return self.restore.get(id(original), updated)
