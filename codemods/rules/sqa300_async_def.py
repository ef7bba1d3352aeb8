"""SQA300: functions that now await become `async def`, and their callers await them."""

from __future__ import annotations

import libcst as cst

from ..analysis import FunctionRef
from ..results import Tag
from ..rewrite.context import callee
from .base import COLOURING, Case, Rule

_CONTEXTMANAGER = "contextlib.contextmanager"
_ASYNC_ITERATORS = {"Iterator": "AsyncIterator", "Iterable": "AsyncIterable",
                    "Generator": "AsyncGenerator"}


class AsyncFunctions(Rule):
    """A function that awaits becomes `async def`; every call to it is awaited, transitively.

        def greet(session, user_id):
            return "hi " + get_user(session, user_id).name

        async def greet(session, user_id):
            return "hi " + (await get_user(session, user_id)).name

    Generators become async generators iterated with `async for`; `@contextmanager` becomes
    `@asynccontextmanager` entered with `async with`. Calls from code that cannot be async
    (lambdas, properties, special methods) get a TODO instead.
    """

    code = "SQA300"
    summary = "def → async def for functions that await; their calls are awaited"
    cases = (
        Case("""
            from sqlalchemy.orm import Session


            def save(session: Session, user) -> None:
                session.add(user)
                session.commit()


            def register(session: Session, user) -> None:
                save(session, user)
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession


            async def save(session: AsyncSession, user) -> None:
                session.add(user)
                await session.commit()


            async def register(session: AsyncSession, user) -> None:
                await save(session, user)
        """),
    )
    phase = COLOURING

    def _target(self, call: cst.BaseExpression) -> FunctionRef | None:
        if not isinstance(call, cst.Call):
            return None
        name = callee(call.func)
        if name is None:
            return None
        ref = self.ctx.plan.resolve_function(self.ctx.ix, self.ctx.scope, name)
        return ref if ref in self.ctx.plan.async_functions else None

    def _info(self, ref: FunctionRef):
        return self.ctx.plan.modules[ref[0]].functions[ref[1]]

    def _is_context_manager(self, ref: FunctionRef) -> bool:
        ix = self.ctx.plan.modules[ref[0]]
        return any(ix.qualify(d) == _CONTEXTMANAGER for d in self._info(ref).decorators)

    # -- definitions ----------------------------------------------------------------------------
    def leave_FunctionDef(self, original: cst.FunctionDef,
                          updated: cst.FunctionDef) -> cst.FunctionDef:
        ref = (self.ctx.ix.module, self.ctx.scope)
        if ref not in self.ctx.plan.async_functions or updated.asynchronous is not None:
            return updated
        self.ctx.change(self.code, f"def {original.name.value}() → async def (it awaits "
                                   "database I/O)", original, Tag.ASYNC_DEF)
        decorators = []
        for decorator in updated.decorators:
            if self.ctx.qualify(decorator.decorator) == _CONTEXTMANAGER:
                name = self.ctx.import_name("contextlib", "asynccontextmanager")
                decorator = decorator.with_changes(decorator=cst.Name(name))
                self.ctx.drop_import("contextlib", "contextmanager")
            decorators.append(decorator)
        returns = updated.returns
        if returns is not None and self._info(ref).is_generator:
            returns = returns.with_changes(annotation=self._async_iterator(returns.annotation))
        return updated.with_changes(asynchronous=cst.Asynchronous(), decorators=decorators,
                                    returns=returns)

    def _async_iterator(self, annotation: cst.BaseExpression) -> cst.BaseExpression:
        """`Iterator[X]` → `AsyncIterator[X]`, `Generator[X, S, R]` → `AsyncGenerator[X, S]`."""
        target = annotation.value if isinstance(annotation, cst.Subscript) else annotation
        qualified = self.ctx.qualify(target) or ""
        module, _, name = qualified.rpartition(".")
        if module not in ("typing", "collections.abc") or name not in _ASYNC_ITERATORS:
            return annotation
        new_name = cst.Name(self.ctx.import_name(module, _ASYNC_ITERATORS[name]))
        self.ctx.drop_import(module, name)
        if not isinstance(annotation, cst.Subscript):
            return new_name
        elements = annotation.slice[:2] if name == "Generator" else annotation.slice
        elements = [*elements[:-1], elements[-1].with_changes(comma=cst.MaybeSentinel.DEFAULT)]
        return annotation.with_changes(value=new_name, slice=elements)

    # -- uses -----------------------------------------------------------------------------------
    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        ref = self._target(original)
        if ref is None or id(original) in self.ctx.awaited or self.ctx.plan.sync_boundary(ref):
            return updated  # (a sync boundary keeps a sync wrapper: SQA305)
        info = self._info(ref)
        if id(original) in self.ctx.with_items and self._is_context_manager(ref):
            return updated  # `async with` (leave_With)
        if id(original) in self.ctx.iterated and info.is_generator:
            return updated  # `async for` (leave_For / leave_CompFor)
        if info.is_generator:
            self.ctx.todo(self.code, f"{info.qualname}() is now an async generator: iterate it "
                                     "with `async for`", original)
            return updated
        if self.ctx.function is None and not self.ctx.lambda_depth:
            return updated  # module level: the entry-point rule runs it with asyncio.run()
        if self.ctx.in_run_sync_lambda:
            return updated  # `session.run_sync(lambda s: fn(s))`: unwrapped by SQA304
        reason = self.ctx.cannot_await()
        if reason:
            self.ctx.todo(self.code, f"{info.qualname}() is async now and must be awaited, but "
                                     f"{reason}", original)
            return updated
        self.ctx.change(self.code, f"await {info.qualname}()", original)
        return cst.Await(expression=updated)

    def leave_With(self, original: cst.With, updated: cst.With) -> cst.With:
        if updated.asynchronous is None and any(
                (ref := self._target(item.item)) and self._is_context_manager(ref)
                for item in original.items):
            self.ctx.change(self.code, "with over an async context manager → async with",
                            original)
            return updated.with_changes(asynchronous=cst.Asynchronous())
        return updated

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        return self._async_for(original, updated)

    def leave_CompFor(self, original: cst.CompFor, updated: cst.CompFor) -> cst.CompFor:
        return self._async_for(original, updated)

    def _async_for(self, original, updated):
        ref = self._target(original.iter)
        if updated.asynchronous is None and ref and self._info(ref).is_generator:
            self.ctx.change(self.code, f"for over {ref[1]}() → async for", original)
            return updated.with_changes(asynchronous=cst.Asynchronous())
        return updated
