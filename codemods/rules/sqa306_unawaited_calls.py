"""SQA306: the audit of calls that may return a coroutine and are not awaited."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

import libcst as cst

from ..analysis import FunctionRef, ObjKind, Plan
from ..index import ModuleIndex
from ..index.shapes import COROUTINE_TAKER_NAMES
from ..results import Kind, Tag
from ..rewrite.context import callee, chained_callee
from ..rewrite.coroutines import AsyncioRuns, coroutine_calls
from .base import AuditRule, Case

# Calls, by the called name's last part, that take a coroutine (or a coroutine function)
# and run or schedule it: what is passed to them is not lost. Broader than asyncio's own
# (`takes_coroutines`): an audit matching by name must not flag what another runner runs.
RUNNERS = COROUTINE_TAKER_NAMES | {"run", "run_sync", "start_soon", "Depends", "aclosing",
                                   "anext"}
_SHOWN = 3  # candidates named in a TODO
# Session methods handing back one mapped object (the others hand back results or rows).
_OBJECT_LOADERS = frozenset({"get", "get_one", "merge"})


class UnawaitedCalls(AuditRule):
    """A call that may reach a function the run made async, and is not awaited, gets a TODO.

    After colouring, each call resolved to a function that became async is awaited, run by
    `asyncio.run()`/`create_task()`/`gather()` (or a framework's `Depends`), iterated by
    `async for` or entered by `async with` — or it returns a coroutine nobody runs. Where the
    tool cannot tell what the receiver is (`crud.user.get(db, id=1)` on a module-level
    instance of another module), a call whose method name is that of a function that became
    async is matched by name. Receivers the tool knows come from outside the project (a
    literal, an outside library's object, a parameter annotated with an outside type) are
    not candidates.
    """

    code = "SQA306"
    summary = "audit: calls that may return a coroutine and are not awaited → TODO"
    # also in the modules an async run migrates as with --target sync (Alembic's scripts,
    # sessions outside code builds): they call project functions that became async
    targets = frozenset({"async", "sync"})
    # TODO markers of these rules on a statement speak about awaiting already
    covering: ClassVar[tuple[str, ...]] = ("SQA2", "SQA3")
    cases = (
        Case("""
            from sqlalchemy.orm import Session


            class Users:
                def save(self, session: Session, name: str) -> None:
                    session.info["saved"] = name
                    session.commit()


            def register(app, session: Session) -> None:
                app.users.save(session, "ann")
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession


            class Users:
                async def save(self, session: AsyncSession, name: str) -> None:
                    session.info["saved"] = name
                    await session.commit()


            def register(app, session: AsyncSession) -> None:
                # TODO(sqla-asyncify SQA306): may return a coroutine: case.Users.save() became async — the tool cannot tell what `app.users` is; await it (and make `register()` async def)
                app.users.save(session, "ann")
        """),  # noqa: E501
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.handed_over: set[int] = set()  # calls given to a runner, `async for`, `async with`
        self.reported: set[tuple[int, str]] = set()  # (statement id, message) reported
        self.asyncio_runs = AsyncioRuns(ctx)

    @classmethod
    def scopes(cls, ix: ModuleIndex, plan: Plan) -> set[str]:
        if not plan.async_functions:
            return set()
        by_name = plan.database_module(ix) or plan.imports_project(ix)
        found = set()
        for site in ix.calls:
            name = site.callee.rpartition(".")[2]
            if plan.async_by_name(name) and (by_name or plan.resolve_function(
                    ix, site.scope, site.callee) is not None) or plan.async_decorated_call(
                    ix, site.scope, site.callee):
                found.add(site.scope)
        return found | {scope for scope, chained in ix.chained_calls
                        if cls.chained_candidates(plan, ix, scope, chained)}

    def visit_For(self, node: cst.For) -> None:
        if node.asynchronous is not None:
            self.handed_over.add(id(node.iter))

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if node.asynchronous is not None:
            self.handed_over.add(id(node.iter))

    def visit_With(self, node: cst.With) -> None:
        if node.asynchronous is not None:
            self.handed_over.update(id(item.item) for item in node.items)

    def visit_Call(self, node: cst.Call) -> None:
        name = callee(node.func)
        if name is None:
            self._on_loaded_object(node)
            chained = chained_callee(node.func)
            if chained and id(node) not in self.ctx.awaited and id(node) not in (
                    self.handed_over):
                self._flag(node, chained, self.chained_candidates(
                    self.ctx.plan, self.ctx.ix, self.ctx.scope, chained))
            return
        method = name.rpartition(".")[2]
        if method in RUNNERS:  # (also what a list of them holds: `gather(*[f(x) for ...])`)
            self.handed_over.update(id(call) for arg in node.args
                                    for call in (arg.value, *coroutine_calls(arg.value)))
        elif method == "__anext__" and isinstance(node.func, cst.Attribute):
            self.handed_over.add(id(node.func.value))  # `gen().__anext__()`: awaited
        if id(node) in self.ctx.awaited or id(node) in self.handed_over:
            return
        decorated = self.ctx.plan.async_decorated_call(self.ctx.ix, self.ctx.scope, name)
        if decorated is not None:
            self._flag_message(node, self._decorated_message(*decorated))
            return
        candidates = self.ctx.plan.async_by_name(method)
        if candidates:
            self._flag(node, name, self._candidates(name, candidates))

    def _decorated_message(self, ref: FunctionRef, decorator: str) -> str:
        """For a call of a function a project decorator wraps in a wrapper that became
        async while the function did not."""
        return (f"returns a coroutine: {ref[1]}() is decorated with @{decorator}, whose "
                f"wrapper became async ({ref[1]}() itself stays a def: the tool does not "
                f"follow how the wrapper calls it); {self._advice()}")

    def _flag(self, node: cst.Call, name: str, found: tuple[FunctionRef, ...]) -> None:
        """The TODO for a call that may reach `found`, once a statement and message."""
        if found:
            self._flag_message(node, self._message(name, found))

    def _flag_message(self, node: cst.Call, message: str) -> None:
        if any(code.startswith(self.covering) for code in self.ctx.marker_codes()) or (
                self.asyncio_runs.held(node)):  # `pending = f()` … `await pending`
            return
        if (id(self.ctx.statements[-1]), message) not in self.reported:
            self.reported.add((id(self.ctx.statements[-1]), message))
            self.ctx.report(self.code, Kind.TODO, message, node, tag=Tag.AUDIT)

    def _on_loaded_object(self, node: cst.Call) -> None:
        """`(await session.get(Report, 1)).best()`: a method called on the object a session
        call loaded, whose class the tool cannot name here."""
        func = node.func
        if not isinstance(func, cst.Attribute) or id(node) in self.ctx.awaited or (
                id(node) in self.handed_over):
            return
        loaded = func.value.expression if isinstance(func.value, cst.Await) else func.value
        if not (isinstance(loaded, cst.Call) and isinstance(loaded.func, cst.Attribute)
                and loaded.func.attr.value in _OBJECT_LOADERS
                and self.ctx.kind(loaded.func.value) is ObjKind.SESSION):
            return
        found = tuple(c for c in self.ctx.plan.async_by_name(func.attr.value) if "." in c[1])
        self._flag(node, f"{cst.Module([]).code_for_node(loaded)}.{func.attr.value}", found)

    def _candidates(self, name: str, candidates: tuple[FunctionRef, ...]
                    ) -> tuple[FunctionRef, ...]:
        """The functions that became async this call may reach: the one it resolves to, or
        (receiver unknown) every one of its name."""
        return self.index_candidates(
            self.ctx.plan, self.ctx.ix, self.ctx.scope, name, candidates,
            lambda receiver: self._sync_session(receiver) or self._imported_here(receiver))

    @staticmethod
    def index_candidates(plan: Plan, ix: ModuleIndex, scope: str, name: str,
                         candidates: tuple[FunctionRef, ...],
                         excluded: Callable[[str], bool] = lambda receiver: False
                         ) -> tuple[FunctionRef, ...]:
        """`_candidates` from the index alone; `excluded`: receivers the tree shows to be
        none of them (the sync session a run_sync lambda takes, a name this run imported)."""
        ref = plan.resolve_call(ix, scope, name)
        if ref is not None:
            return (ref,) if ref in candidates else ()
        receiver = name.rpartition(".")[0]
        if not receiver or receiver.endswith(".query()") or not (
                plan.database_module(ix) or plan.imports_project(ix)):
            return ()  # (a legacy Query's own method)
        if plan.kind(ix, scope, receiver) is not None or plan.unrelated(ix, scope, receiver) or (
                excluded(receiver)):
            return ()
        if receiver.split(".")[0] not in ix.imports:  # `obj.allocate()` calls a method
            return tuple(c for c in candidates if "." in c[1])
        return candidates

    @staticmethod
    def chained_candidates(plan: Plan, ix: ModuleIndex, scope: str,
                           name: str) -> tuple[FunctionRef, ...]:
        """The methods that became async a call like `manager(obj).fetcher().index(obj)`
        (`name`: "manager().fetcher().index") may reach, by its name: the tool cannot tell
        what the chain returns. None where the chain starts from a session, engine or the
        like, a legacy Query, or code outside the project (a builtin, another package)."""
        found = tuple(c for c in plan.async_by_name(name.rpartition(".")[2]) if "." in c[1])
        if not found or not (plan.database_module(ix) or plan.imports_project(ix)):
            return ()
        root = name.partition("()")[0]
        receiver, _, first = root.rpartition(".")
        if first == "query" or receiver and (plan.kind(ix, scope, receiver) is not None or (
                receiver.split(".")[0] in ix.sync_sessions.get(scope, ()))) or plan.unrelated(
                ix, scope, f"{root}()"):
            return ()  # (a legacy Query's own methods, also on a run_sync lambda's session)
        return found

    @classmethod
    def finds_in_original(cls, ix: ModuleIndex, plan: Plan) -> bool:
        """For a module the run leaves as it was read (no rule rewrote it, nothing it
        defines or calls became async), the index holds every call the audit would see:
        whether one of them may reach a function that became async."""
        if not plan.async_functions:
            return False
        for site in ix.calls:
            if site.usage == "with":  # `with x:` (its __enter__/__exit__): no call it flags
                continue
            name = site.callee.rpartition(".")[2]
            found = plan.async_by_name(name)
            if found and cls.index_candidates(plan, ix, site.scope, site.callee, found):
                return True
            if plan.async_decorated_call(ix, site.scope, site.callee):
                return True
        return any(cls.chained_candidates(plan, ix, scope, chained)
                   for scope, chained in ix.chained_calls)

    def _imported_here(self, receiver: str) -> bool:
        """`func.count()` where this run imported `func` from outside the project."""
        head = receiver.split(".")[0]
        return any((asname or name or module) == head and module not in self.ctx.plan.modules
                   for module, name, asname in self.ctx.imports.add)

    def _sync_session(self, receiver: str) -> bool:
        """`receiver` is (an attribute of) the parameter of a lambda given to run_sync."""
        head = receiver.split(".")[0]
        return any(id(lam) in self.ctx.run_sync_lambdas and any(
            param.name.value == head for param in lam.params.params) for lam in self.ctx.lambdas)

    def _message(self, name: str, found: tuple[FunctionRef, ...]) -> str:
        shown = " or ".join(f"{'.'.join(filter(None, ref))}()" for ref in found[:_SHOWN])
        more = f" (and {len(found) - _SHOWN} more)" if len(found) > _SHOWN else ""
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        receiver = name.rpartition(".")[0]
        matched = "" if plan.resolve_call(ix, scope, name) is not None else (
            " — the tool cannot tell which base class `super()` reaches" if receiver == "super()"
            else f" — the tool cannot tell what `{receiver}` is")
        return f"may return a coroutine: {shown}{more} became async{matched}; {self._advice()}"

    def _advice(self) -> str:
        """What to do about the call, where it is."""
        reason = self.ctx.cannot_await()
        function = self.ctx.function
        if self.ctx.config.kept_sync:
            return (f"this module stays synchronous ({self.ctx.config.kept_sync}), so it "
                    "cannot await it: call a synchronous version of it here, or run it with "
                    "asyncio.run() on an AsyncSession of its own")
        if reason:
            return f"it must be awaited, but {reason}"
        if function is not None and function.asynchronous is None:
            return f"await it (and make `{function.name.value}()` async def)"
        return "await it"
