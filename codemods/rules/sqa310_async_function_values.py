"""SQA310: the audit of functions the run made async that are handed on as values."""

from __future__ import annotations

import libcst as cst

from ..analysis import Plan
from ..index import ModuleIndex
from ..results import Kind, Tag
from ..rewrite.context import callee, dotted
from .base import AuditRule, Case
from .sqa306_unawaited_calls import RUNNERS

# Calls that take an async callable and await it themselves (asyncio, FastAPI/Starlette).
_TAKES_ASYNC = RUNNERS | frozenset({"add_api_route", "add_api_websocket_route", "add_route",
                                    "add_event_handler", "add_exception_handler",
                                    "add_websocket_route", "lifespan", "to_thread"})


class AsyncFunctionValues(AuditRule):
    """A function the run made async, handed on as a value — into a handler table, a
    callback argument, a variable, a return — gets a TODO there: whatever calls it later
    gets a coroutine, and the tool cannot see that call to await it.

    Framework and asyncio calls that await what they are given (`Depends`, `create_task`,
    `add_api_route`, ...) are left alone.
    """

    code = "SQA310"
    summary = "functions made async handed on as values (handler tables, callbacks) → TODO"
    cases = (
        Case("""
            from sqlalchemy.orm import Session


            def archive(session: Session, name: str) -> None:
                session.execute("DELETE FROM drafts WHERE name = :n", {"n": name})
                session.commit()


            HANDLERS = {"archive": archive}
        """, """
            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import AsyncSession


            async def archive(session: AsyncSession, name: str) -> None:
                await session.execute(text("DELETE FROM drafts WHERE name = :n"), {"n": name})
                await session.commit()


            # TODO(sqla-asyncify SQA310): archive() became async and is handed on here as a value: whatever calls it gets a coroutine — await it there (or run it with asyncio.run())
            HANDLERS = {"archive": archive}
        """),  # noqa: E501
    )

    @classmethod
    def scopes(cls, ix: ModuleIndex, plan: Plan) -> set[str]:
        return {scope for scope, names in ix.names_read.items()
                if any(plan.async_by_name(n.rpartition(".")[2]) for n in names)} | {
            site.scope for site in ix.calls  # `listen(..., manager.on_flush)`: an attribute
            if any(arg and plan.async_by_name(arg.rpartition(".")[2])  # of a parameter
                   for arg in (*site.args, *(value for _, value in site.kwargs)))}

    @classmethod
    def finds_in_original(cls, ix: ModuleIndex, plan: Plan) -> bool:
        """Only names used as values, not called, can be handed on."""
        return any(plan.async_by_name(name) for names in ix.value_names.values()
                   for name in names)

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.taking_async: set[int] = set()  # ids of arguments to calls that await them

    def visit_Call(self, node: cst.Call) -> None:
        if (callee(node.func) or "").rpartition(".")[2] in _TAKES_ASYNC:
            self.taking_async.update(id(a) for a in node.args)

    def visit_Arg(self, node: cst.Arg) -> None:
        if id(node) not in self.taking_async:
            self._handed_on(node.value)

    def visit_DictElement(self, node: cst.DictElement) -> None:
        self._handed_on(node.value)

    def visit_Element(self, node: cst.Element) -> None:
        self._handed_on(node.value)

    def visit_Assign(self, node: cst.Assign) -> None:
        if not any(isinstance(t.target, cst.Subscript) and (
                dotted(t.target.value) or "").endswith("dependency_overrides")
                for t in node.targets):  # FastAPI awaits its dependencies
            self._handed_on(node.value)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None:
            self._handed_on(node.value)

    def _handed_on(self, value: cst.BaseExpression) -> None:
        name = dotted(value) if isinstance(value, cst.Name | cst.Attribute) else None
        if not name or not self.ctx.plan.async_by_name(name.rpartition(".")[2]):
            return
        ref = self.ctx.plan.resolve_function(self.ctx.ix, self.ctx.scope, name)
        if ref is None and "." in name:  # `manager.on_flush` on a receiver it cannot type
            candidates = [r for r in self.ctx.plan.async_by_name(name.rpartition(".")[2])
                          if "." in r[1]]  # methods of that name the run made async
            if candidates and not self._spoken_for():
                shown = ", ".join(f"{r[1]}()" for r in candidates)
                self.ctx.report(self.code, Kind.TODO,
                                f"`{name}` may be {shown}, which became async, handed on here "
                                "as a value: whatever calls it gets a coroutine (SQLAlchemy "
                                "never awaits an event listener) — keep it synchronous, or "
                                "await it there", value, tag=Tag.AUDIT)
            return
        if ref is None or ref not in self.ctx.plan.async_functions or (
                self.ctx.plan.sync_boundary(ref)):
            return
        if self.ctx.plan.wrapper(ref) and not self.ctx.plan.unfollowed_wrapper(ref):
            return  # a decorator's wrapper: the calls of the functions it wraps are awaited
        if self._spoken_for():
            return
        self.ctx.report(self.code, Kind.TODO,
                        f"{ref[1].rpartition('.')[2]}() became async and is handed on here as "
                        "a value: whatever calls it gets a coroutine — await it there (or run "
                        "it with asyncio.run())", value, tag=Tag.AUDIT)

    def _spoken_for(self) -> bool:
        """A TODO of this run or of a colouring rule is on the statement already."""
        return self.ctx.reported_here() or any(
            c.startswith("SQA3") for c in self.ctx.marker_codes())
