"""Coroutines the code hands to asyncio itself: calls that need no `await` where they are made.

`asyncio.create_task(self._loop())`, `await asyncio.gather(*jobs)` with `jobs.append(f())`,
`pending = f()` … `await pending`: the coroutine is run later, by asyncio or by the await.
"""

from __future__ import annotations

import libcst as cst

from ..index.shapes import runs_alongside, runs_event_loop, takes_coroutines
from .context import Context, dotted
from .traversal import Visitor


def coroutine_calls(expr: cst.BaseExpression) -> list[cst.Call]:
    """The calls whose coroutines `expr` hands on: itself, the elements of a list or tuple
    display, the element of a comprehension."""
    if isinstance(expr, cst.Call):
        return [expr]
    if isinstance(expr, cst.List | cst.Tuple):
        return [e.value for e in expr.elements if isinstance(e.value, cst.Call)]
    if isinstance(expr, cst.ListComp | cst.GeneratorExp) and isinstance(expr.elt, cst.Call):
        return [expr.elt]
    return []


def run_as(ctx: Context, call: cst.Call) -> str | None:
    """How `call` runs the coroutines it is handed: "task" beside other code
    (`asyncio.gather(...)`, `create_task(...)`), "coroutine" one at a time
    (`asyncio.run(...)`, `wait_for(...)`); None where it takes no coroutines."""
    called = _called(ctx, call)
    if not takes_coroutines(*called):
        return None
    return "task" if runs_alongside(*called) else "coroutine"


def runs_event_loop_here(ctx: Context, call: cst.Call) -> bool:
    """`asyncio.run(coro)` / `loop.run_until_complete(coro)`, with the coroutine alone."""
    return len(call.args) == 1 and call.args[0].keyword is None and not call.args[0].star and (
        runs_event_loop(*_called(ctx, call)))


def _called(ctx: Context, call: cst.Call) -> tuple[str | None, str | None]:
    """The called name, qualified, and the method's name where a method is called."""
    func = call.func
    return ctx.qualify(func), func.attr.value if type(func) is cst.Attribute else None


class AsyncioRuns:
    """Per function of one file: does a statement keep a call's coroutine in a name the
    function awaits or hands to asyncio?"""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._runs: dict[int, dict[str, str]] = {}  # function (id) → name → how it is run

    def held(self, call: cst.Call) -> str | None:
        """`pending = f()` … `await pending` ("coroutine"); `jobs = [f(x) for x in xs]` or
        `jobs.append(f())` … `await asyncio.gather(*jobs)` ("task": run beside other code),
        `call` in the current statement; None where it is not held for asyncio."""
        ctx = self.ctx
        statement = ctx.statements[-1] if ctx.statements else None
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
        holder = None
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(
                small.targets[0].target, cst.Name) and any(
                    c is call for c in coroutine_calls(small.value)):
            holder = small.targets[0].target.value
        elif isinstance(small, cst.Expr) and isinstance(value := small.value, cst.Call) and (
                isinstance(value.func, cst.Attribute) and value.func.attr.value == "append"
                and len(value.args) == 1 and value.args[0].value is call):
            holder = dotted(value.func.value)
        function = ctx.function
        if holder is None or function is None:
            return None
        if id(function) not in self._runs:
            finder = _RunNames(ctx)
            finder.walk(function.body)
            self._runs[id(function)] = finder.runs
        return self._runs[id(function)].get(holder)


class _RunNames(Visitor):
    """The names a function awaits (`await pending`) or hands to asyncio (`gather(*jobs)`):
    name → "task" where asyncio runs it beside other code, else "coroutine"."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.runs: dict[str, str] = {}

    def visit_Await(self, node: cst.Await) -> None:
        if isinstance(node.expression, cst.Name):
            self.runs.setdefault(node.expression.value, "coroutine")

    def visit_Call(self, node: cst.Call) -> None:
        how = run_as(self.ctx, node)
        for arg in node.args if how else ():
            if arg.keyword is None and isinstance(arg.value, cst.Name):
                if how == "task" or arg.value.value not in self.runs:
                    self.runs[arg.value.value] = how
