"""SQA201: sessions, transactions and connections are entered with `async with`."""

from __future__ import annotations

import libcst as cst

from ..analysis import ObjKind
from ..api_surface import ASYNC_SESSION_CLASSES, ENGINE_CONTEXTS, SESSION_CLASSES, STARTABLES
from ..results import Kind
from ..rewrite.context import callee, dotted
from .base import Case, Rule


class AsyncWith(Rule):
    """`with` blocks over sessions, transactions and connections become `async with`.

    `with session.no_autoflush:` stays a plain `with` (it is a sync context manager).
    """

    code = "SQA201"
    ensures = frozenset({"awaited-io"})
    needs = frozenset({"async-functions", "async-objects"})
    summary = "with Session()/maker()/maker.begin()/s.begin()/engine.connect() → async with"
    cases = (
        Case("""
            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker

            engine = create_engine("sqlite:///shop.db")
            SessionLocal = sessionmaker(bind=engine)


            def add(user) -> None:
                with SessionLocal.begin() as session:
                    session.add(user)
        """, """
            from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///shop.db")
            SessionLocal = async_sessionmaker(bind=engine, expire_on_commit=False)


            async def add(user) -> None:
                async with SessionLocal.begin() as session:
                    session.add(user)
        """),
    )

    def _is_async_context(self, expr: cst.BaseExpression) -> bool:
        if not isinstance(expr, cst.Call):
            return self.ctx.kind(expr) is ObjKind.SESSION
        if self.ctx.qualify(expr.func) in SESSION_CLASSES | ASYNC_SESSION_CLASSES:
            return True
        kind = self.ctx.kind(expr.func)
        if kind in (ObjKind.FACTORY, ObjKind.SESSION):  # `maker()`, `Scoped()`
            return True
        if self._returns_session(expr):
            return True
        if not isinstance(expr.func, cst.Attribute):
            return False
        method = expr.func.attr.value
        receiver = self.ctx.kind(expr.func.value)
        return (receiver in (ObjKind.FACTORY, ObjKind.SESSION, ObjKind.CONNECTION)
                and method in STARTABLES) or (
            receiver is ObjKind.ENGINE and method in ENGINE_CONTEXTS)

    def _returns_session(self, call: cst.Call) -> bool:
        """`get_session()`: a project function (not a generator: a context manager made of
        one is entered as it is) whose return annotation says it returns a session."""
        name = callee(call.func)
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        ref = plan.resolve_function(ix, scope, name) if name else None
        if ref is None:
            return False
        info = plan.modules[ref[0]].functions[ref[1]]
        return not info.is_generator and not info.decorators and self.ctx.kind(
            call) is ObjKind.SESSION

    def suppressed_With(self, original: cst.With, updated: cst.With) -> None:
        """Suppressed here, but other rules made what the block enters async (`Session` is
        now `AsyncSession`): a plain `with` over it fails, so say so."""
        if updated.asynchronous is not None or updated.deep_equals(original) or not all(
                self._is_async_context(item.item) for item in original.items):
            return
        self.ctx.report(self.code, Kind.TODO, "a suppression keeps this `with` from becoming "
                        "`async with`, but it enters an async session or connection now, "
                        "which only `async with` can (remove the suppression, or suppress "
                        "the rules that made it async too)", original, despite_suppression=True)

    def leave_With(self, original: cst.With, updated: cst.With) -> cst.With:
        if updated.asynchronous is not None:
            return updated
        flags = [self._is_async_context(item.item) for item in original.items]
        if not any(flags):
            return updated
        shown = ", ".join(dotted(i.item.func) or "…" if isinstance(i.item, cst.Call) else "…"
                          for i in original.items)
        reason = self.ctx.cannot_await()
        if reason:
            self.ctx.todo(self.code, f"`with {shown}` must become `async with`, but {reason}",
                          original)
            return updated
        self.ctx.io_scopes.add(self.ctx.scope)
        if all(flags):
            self.ctx.change(self.code, f"with {shown} → async with", original)
            return updated.with_changes(asynchronous=cst.Asynchronous())
        self.ctx.change(self.code, f"with {shown} → nested `async with` / `with` (entered "
                                   "and exited in the same order)", original)
        return _nested(updated, flags)


def _nested(with_: cst.With, flags: list[bool]) -> cst.With:
    """`with a, b, c:` as nested statements, one per run of items alike (async or not):
    Python enters the items of one `with` left to right and exits them in reverse, exactly
    as nested statements do."""
    runs: list[tuple[bool, list[cst.WithItem]]] = []
    for item, is_async in zip(with_.items, flags, strict=True):
        if runs and runs[-1][0] == is_async:
            runs[-1][1].append(item)
        else:
            runs.append((is_async, [item]))
    # items laid out over several lines need the parentheses they had
    parens = {} if isinstance(with_.lpar, cst.MaybeSentinel) else {
        "lpar": cst.LeftParen(), "rpar": cst.RightParen()}
    body: cst.BaseSuite = with_.body
    for is_async, items in reversed(runs[1:]):
        inner = cst.With(items=_last_without_comma(items), body=body,
                         asynchronous=cst.Asynchronous() if is_async else None, **parens)
        body = cst.IndentedBlock(body=[inner])
    is_async, items = runs[0]
    return with_.with_changes(items=_last_without_comma(items), body=body,
                              asynchronous=cst.Asynchronous() if is_async else None)


def _last_without_comma(items: list[cst.WithItem]) -> list[cst.WithItem]:
    return [*items[:-1], items[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
