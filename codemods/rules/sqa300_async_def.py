"""SQA300: functions that now await become `async def`, and their callers await them."""

from __future__ import annotations

import libcst as cst

from ..analysis import ASYNC_SPECIAL_METHODS, FunctionRef, ObjKind
from ..results import Tag
from ..rewrite.context import Context, callee, dotted
from ..rewrite.coroutines import AsyncioRuns, coroutine_calls, run_as, runs_event_loop_here
from ..rewrite.generators import (
    as_list,
    closing_block,
    collected,
    first_item,
    reyielding_loop,
)
from ..rewrite.refreshes import with_inserted
from ..rewrite.traversal import always_called, mentions
from .base import COLOURING, Case, Rule

_CONTEXTMANAGER = "contextlib.contextmanager"
_ACLOSING = "contextlib.aclosing"
# Builtins that consume an iterable whole: an async generator given to them is collected
# first (`sorted([x async for x in gen()], key=...)`); `list(gen())` becomes the list itself.
_COLLECTORS = frozenset({"list", "tuple", "set", "frozenset", "sorted", "dict", "sum", "any",
                         "all", "min", "max", "enumerate"})
_ONE_ITERABLE = frozenset({"min", "max"})  # `max(a, b)` compares its arguments
_ASYNC_ITERATORS = {"Iterator": "AsyncIterator", "Iterable": "AsyncIterable",
                    "Generator": "AsyncGenerator"}


class AsyncFunctions(Rule):
    """A function that awaits becomes `async def`; every call to it is awaited, transitively.

        def greet(session, user_id):
            return "hi " + get_user(session, user_id).name

        async def greet(session, user_id):
            return "hi " + (await get_user(session, user_id)).name

    A project decorator's wrapper and the functions it decorates become async together, and
    the wrapper awaits them (`return await f(*args, **kwargs)`), also through a decorator
    factory; where the tool cannot tell every function the wrapper receives, a TODO. A
    function that became async under a decorator the tool does not know (one that may
    register it for code calling it without awaiting) gets a TODO at its def.

    Generators become async generators iterated with `async for`; `@contextmanager` becomes
    `@asynccontextmanager` entered with `async with`. Calls from code that cannot be async
    (lambdas, properties, special methods) get a TODO instead.

    An async generator consumed whole (`list()`, `sorted()`, `sum()`, `dict()`, `any()`, …,
    unpacking, `*gen()`) is collected first: `[x async for x in gen()]`. `x = next(gen())`
    takes the first item with `await anext(...)` inside `async with aclosing(gen())`, so the
    generator is closed right away, as CPython closed the sync one (before Python 3.10:
    `await gen().__anext__()`). `yield from` becomes a loop that re-yields. A generator that
    hands back a value (`return value`, the value of `yield from`) stays sync with a TODO:
    an async generator cannot.
    """

    code = "SQA300"
    ensures = frozenset({"async-functions"})
    needs = frozenset({"awaited-callers"})
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
        Case("""
            from sqlalchemy import text
            from sqlalchemy.orm import Session


            def skus(session: Session):
                for row in session.execute(text("select sku from bins")):
                    yield row.sku


            def report(session: Session) -> None:
                first = next(skus(session), None)
                print(first, sorted(skus(session)), list(skus(session)))
        """, """
            from contextlib import aclosing

            from sqlalchemy import text
            from sqlalchemy.ext.asyncio import AsyncSession


            async def skus(session: AsyncSession):
                for row in await session.execute(text("select sku from bins")):
                    yield row.sku


            async def report(session: AsyncSession) -> None:
                async with aclosing(skus(session)) as skus_gen:
                    first = await anext(skus_gen, None)
                print(first, sorted([x async for x in skus(session)]), [x async for x in skus(session)])
        """),  # noqa: E501
    )
    phase = COLOURING

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        # how a call consumes the expressions (by id) it is given: a builtin's name,
        # "collect" (unpacked), "next", "yield from", "async" (aclosing(), __anext__())
        self._consumers: dict[int, str] = {}
        self._reyielding: set[int] = set()  # ids of `yield from gen()` statements
        # per statement (id): the generators `async with aclosing(...) as name` must hold
        self._closing: dict[int, list[tuple[str, cst.BaseExpression]]] = {}
        # per statement (id): what it awaits first, for a lambda given to run_sync (_hoisted)
        self._hoists: dict[int, list[cst.SimpleStatementLine]] = {}
        self._always_called: dict[int, set[int]] = {}  # per lambda: the calls it always makes
        self._asyncio = AsyncioRuns(ctx)

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

    def _enters_async(self, expr: cst.BaseExpression) -> bool:
        """`with uow:` over an object whose class's __enter__ became __aenter__."""
        name = callee(expr.func) if isinstance(expr, cst.Call) else dotted(expr)
        suffix = "()" if isinstance(expr, cst.Call) else ""
        ref = name and self.ctx.plan.resolve_function(self.ctx.ix, self.ctx.scope,
                                                      f"{name}{suffix}.__enter__")
        return ref in self.ctx.plan.async_functions if ref else False

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
        for unknown in self.ctx.plan.unknown_decorators(ref):
            self.ctx.todo(self.code, f"{original.name.value}() became async, and @{unknown} "
                                     "may hand it to code that calls it without awaiting (its "
                                     "work would be lost): check that what it registers or "
                                     "wraps awaits coroutine functions, else keep a sync "
                                     "function for it that runs this one with asyncio.run()",
                          original)
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
        name = updated.name
        if name.value in ASYNC_SPECIAL_METHODS:  # `with obj:` becomes `async with obj:`
            name = cst.Name(ASYNC_SPECIAL_METHODS[name.value])
            self.ctx.change(self.code, f"{original.name.value}() → async {name.value}()",
                            original)
        return updated.with_changes(asynchronous=cst.Asynchronous(), decorators=decorators,
                                    returns=returns, name=name)

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
        consumer = self._consumers.get(id(original.args[0].value)) if original.args else None
        if consumer == "next":
            return self._next(original, updated)
        if consumer == "list" and isinstance(updated, cst.Call) and isinstance(
                updated.args[0].value, cst.ListComp) and not isinstance(
                    original.args[0].value, cst.ListComp):
            return updated.args[0].value  # `list([x async for x in gen()])`
        if runs_event_loop_here(self.ctx, original) and self._becomes_async():
            return self._awaited_instead(original, updated)
        ref = self._target(original)
        if ref is None and id(original) not in self.ctx.awaited:
            return self._wrapped_call(original, updated)
        if ref is None or id(original) in self.ctx.awaited or self.ctx.plan.sync_boundary(ref):
            return updated  # (a sync boundary keeps a sync wrapper: SQA305)
        run = self._consumers.get(id(original))
        run = run if run in ("coroutine", "task") else self._asyncio.held(original)
        if run is not None:  # the coroutine is run by asyncio (`create_task(self._loop())`)
            if run == "task":
                self._alongside(original, ref)
            return updated
        info = self._info(ref)
        if id(original) in self.ctx.with_items and self._is_context_manager(ref):
            return updated  # `async with` (leave_With)
        if id(original) in self.ctx.iterated and info.is_generator:
            return updated  # `async for` (leave_For / leave_CompFor)
        if info.is_generator:
            return self._generator(original, updated, info.qualname)
        if self.ctx.function is None and not self.ctx.lambda_depth and (
                not self.ctx.in_entry_point):
            return updated  # module level: the entry-point rule runs it with asyncio.run()
        if self.ctx.in_run_sync_lambda:
            # `session.run_sync(lambda s: fn(s))`: unwrapped by SQA304
            return self._hoisted(original, updated, info.qualname) or updated
        reason = self.ctx.cannot_await()
        if reason:
            self.ctx.todo(self.code, f"{info.qualname}() is async now and must be awaited, but "
                                     f"{reason}", original)
            return updated
        self.ctx.change(self.code, f"await {info.qualname}()", original)
        if isinstance(updated, cst.Call) and isinstance(updated.func, cst.Attribute) and (
                updated.func.attr.value in ASYNC_SPECIAL_METHODS):  # `super().__enter__()`
            updated = updated.with_changes(func=updated.func.with_changes(
                attr=cst.Name(ASYNC_SPECIAL_METHODS[updated.func.attr.value])))
        return cst.Await(expression=updated)

    def _alongside(self, call: cst.Call, ref: FunctionRef) -> None:
        """A coroutine that does database I/O now, run as a task alongside other code: a
        TODO where it may share a session (one passed to it, or a method's own)."""
        shares = isinstance(call.func, cst.Attribute) or any(
            (name := dotted(arg.value)) and self.ctx.plan.kind(
                self.ctx.ix, self.ctx.scope, name) is ObjKind.SESSION for arg in call.args)
        if shares:
            self.ctx.todo(self.code, f"{self._info(ref).qualname}() does database I/O now and "
                                     "runs here as a task, alongside other code: an "
                                     "AsyncSession must not be used by two tasks at once — if "
                                     "it shares one, give it a session of its own or await "
                                     "the calls one after another", call)

    def _awaited_instead(self, original: cst.Call, updated: cst.BaseExpression
                         ) -> cst.BaseExpression:
        """`asyncio.run(coro)` in a function that became async: no second event loop can
        start inside the one running it, so the coroutine is awaited in that one."""
        if not isinstance(updated, cst.Call):
            return updated
        name = dotted(original.func) or "run_until_complete"
        self.ctx.change(self.code, f"{name}(...) → await ...: the function runs in an event "
                                   "loop now, which runs the coroutine", original)
        return cst.Await(expression=updated.args[0].value)

    def _hoisted(self, original: cst.Call, updated: cst.BaseExpression,
                 qualname: str) -> cst.Name | None:
        """A call of a function that became async inside a lambda given to run_sync, using
        nothing of the lambda (`run_sync(lambda _s: q.filter(visible()).count())`): awaited
        in a statement of its own just before, the lambda reading the value. Only where the
        lambda always makes the call, in a plain statement of a function (it ran before the
        query it filters anyway: building a legacy Query runs nothing)."""
        ctx = self.ctx
        statement = ctx.statements[-1] if ctx.statements else None
        lam = ctx.lambdas[-1]
        # (a lambda that only makes the call is unwrapped by SQA304: `await fn(session)`)
        if len(ctx.lambdas) != 1 or lam.body is original or ctx.function is None or not isinstance(
                statement, cst.SimpleStatementLine) or ctx.cannot_await_outside_lambdas() or any(
                    mentions([original], param.name.value) for param in lam.params.params):
            return None
        if id(lam) not in self._always_called:
            self._always_called[id(lam)] = always_called(lam.body)
        if id(original) not in self._always_called[id(lam)]:
            return None
        hoists = self._hoists.setdefault(id(statement), [])
        name = ctx.free_name(f"{qualname.rpartition('.')[2]}_value", taken={
            target.target.value for line in hoists for small in line.body
            for target in small.targets})
        hoists.append(cst.SimpleStatementLine([cst.Assign(
            [cst.AssignTarget(cst.Name(name))], cst.Await(expression=updated))]))
        ctx.change(self.code, f"await {qualname}() before the run_sync it is used in", original)
        return cst.Name(name)

    def _wrapped_call(self, original: cst.Call, updated: cst.BaseExpression
                      ) -> cst.BaseExpression:
        """`f(*args, **kwargs)` in a decorator's wrapper, `f` the decorated function: awaited
        when every function the decorator is applied to became async (they share one colour),
        else a TODO saying why the tool cannot tell what `f(...)` returns."""
        plan, here = self.ctx.plan, (self.ctx.ix.module, self.ctx.scope)
        wrapper = plan.wrapper(here)
        if wrapper is None or callee(original.func) != wrapper.param:
            return updated
        became = [f for f in wrapper.wrapped if f in plan.async_functions]
        if not became:
            return updated
        names = ", ".join(f"{f[1]}()" for f in became[:3]) + (" …" if len(became) > 3 else "")
        blocker = plan.unfollowed_wrapper(here) or self.ctx.cannot_await()
        if blocker:
            self.ctx.todo(self.code, f"may return a coroutine: {wrapper.param}() is the "
                                     f"function @{wrapper.decorator} wraps and {names} became "
                                     f"async, but {blocker}; await it if every function it "
                                     "wraps is async", original)
            return updated
        self.ctx.change(self.code, f"await {wrapper.param}() (every function "
                                   f"@{wrapper.decorator} wraps became async: {names})",
                        original)
        return cst.Await(expression=updated)

    # -- async generators where a generator was consumed synchronously --------------------------
    def visit_Call(self, node: cst.Call) -> None:
        """Note how the call consumes its arguments (their calls are left after it)."""
        how = run_as(self.ctx, node)
        for arg in node.args if how else ():
            if arg.keyword is None:
                self._consumers.update((id(call), how) for call in coroutine_calls(arg.value))
        for arg in node.args:
            if arg.star == "*":
                self._consumers[id(arg.value)] = "collect"  # `f(*gen())`
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "__anext__":
            self._consumers[id(node.func.value)] = "async"  # `await gen().__anext__()`
        if not node.args or node.args[0].keyword is not None or node.args[0].star:
            return
        first = id(node.args[0].value)
        positional = sum(1 for arg in node.args if arg.keyword is None and not arg.star)
        builtin = self.ctx.builtin(node.func)
        if builtin in _COLLECTORS and (builtin not in _ONE_ITERABLE or positional == 1):
            self._consumers[first] = builtin
        elif builtin == "next" and positional == len(node.args) <= 2:
            self._consumers[first] = "next"
        elif self.ctx.qualify(node.func) == _ACLOSING:
            self._consumers[first] = "async"  # `async with aclosing(gen()) as ...`

    def visit_StarredElement(self, node: cst.StarredElement) -> None:
        self._consumers[id(node.value)] = "collect"  # `[*gen()]`

    def visit_Assign(self, node: cst.Assign) -> None:
        if any(isinstance(t.target, (cst.Tuple, cst.List)) for t in node.targets):
            self._consumers[id(node.value)] = "collect"  # `a, b = gen()`

    def visit_From(self, node: cst.From) -> None:
        self._consumers[id(node.item)] = "yield from"

    def _generator(self, original: cst.Call, updated: cst.BaseExpression,
                   qualname: str) -> cst.BaseExpression:
        """A call of a generator that became async, where it is not iterated by `for`."""
        consumer = self._consumers.get(id(original))
        if consumer in ("async", "next"):
            return updated  # already consumed asynchronously / `next()` around it (_next)
        if consumer == "yield from":
            return self._yield_from(original, updated, qualname)
        if consumer is None:
            self.ctx.todo(self.code, f"{qualname}() is now an async generator: "
                                     f"{self._where(original)}", original)
            return updated
        what = "unpacking" if consumer == "collect" else f"{consumer}()"
        if not self._can_be_async(original, qualname, f"{what} needs it collected with "
                                                      "`[x async for x in ...]`"):
            return updated
        self.ctx.change(self.code, f"{what} over {qualname}() → [x async for x in ...]",
                        original)
        return collected(updated)

    def _can_be_async(self, node: cst.CSTNode, qualname: str, needs: str) -> bool:
        """True where the code can be async; else a TODO: what the generator `needs`, and
        why it cannot have it here."""
        reason = self.ctx.cannot_await()
        if reason:
            self.ctx.todo(self.code, f"{qualname}() is now an async generator: {needs}, but "
                                     f"{reason}", node)
        return reason is None

    def _where(self, call: cst.Call) -> str:
        """What the TODO for a generator call the tool cannot follow asks for."""
        statement = self.ctx.statements[-1] if self.ctx.statements else None
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
        if isinstance(small, cst.Return) and small.value is call:
            return "it is returned from here, so the callers must iterate it with `async for`"
        name = self.ctx.assigned_name()
        if name and isinstance(small, (cst.Assign, cst.AnnAssign)) and small.value is call:
            return f"iterate `{name}` with `async for` where it is used"
        return ("it is handed to code the tool cannot follow, which must iterate it with "
                "`async for` (or pass `[x async for x in ...]`, a list)")

    def _yield_from(self, original: cst.Call, updated: cst.BaseExpression,
                    qualname: str) -> cst.BaseExpression:
        """`yield from gen()` → `async for x in gen(): yield x` (leave_SimpleStatementLine;
        a function using the value of `yield from` stays sync, see `cannot_be_async`)."""
        if not self._can_be_async(original, qualname,
                                  "re-yield its items with `async for x in ...: yield x`"):
            return updated
        self._reyielding.add(id(self.ctx.statements[-1]))
        self.ctx.change(self.code, f"yield from {qualname}() → async for ...: yield", original)
        return updated

    def _becomes_async(self) -> bool:
        """The function around is a `def` that becomes async (and can await here)."""
        function = self.ctx.function
        return function is not None and function.asynchronous is None and (
            self.ctx.ix.module, self.ctx.scope) in self.ctx.plan.async_functions and (
                not self.ctx.cannot_await())

    def _next(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        """`x = next(gen())` → `async with aclosing(gen()) as gen_gen: x = await
        anext(gen_gen)`: the first item, and the generator closed right after, as CPython
        closed the sync generator nobody held any more (left open, the event loop would close
        it later, concurrently with the code still using what it yielded)."""
        ref = self._target(original.args[0].value)
        if ref is None or not self._info(ref).is_generator or self._is_context_manager(ref) or (
                not isinstance(updated, cst.Call)):
            return updated
        qualname = self._info(ref).qualname
        generator, default = updated.args[0].value, (
            updated.args[1].value if len(updated.args) == 2 else None)
        with_anext = self.ctx.config.python >= (3, 10)
        reason = self._next_blocker(original, default is None, with_anext)
        if reason:
            self.ctx.todo(self.code, f"{qualname}() is now an async generator: next() over it "
                                     f"must become `await anext(...)`, but {reason}", original)
            return updated
        if not with_anext:
            self.ctx.change(self.code, f"next({qualname}()) → await {qualname}().__anext__() "
                                       "(the event loop closes the generator later)", original)
            return first_item(generator, None, with_anext)
        statement = self.ctx.statements[-1]
        held = self._closing.setdefault(id(statement), [])
        name = self.ctx.free_name(f"{ref[1].rpartition('.')[2]}_gen",
                                  taken={n for n, _ in held})
        held.append((name, generator))
        self.ctx.change(self.code, f"next({qualname}()) → await anext(...) in async with "
                                   "aclosing(...)", original)
        return first_item(cst.Name(name), default, with_anext)

    def _next_blocker(self, call: cst.Call, no_default: bool, with_anext: bool) -> str | None:
        """Why `next(gen())` here cannot become `await anext(...)`, or None."""
        reason = self.ctx.cannot_await()
        if reason:
            return reason
        if not with_anext:
            return None if no_default else (
                "anext() is new in Python 3.10 and the project's requires-python allows older "
                "versions: use `await gen.__anext__()` in a try with `except "
                "StopAsyncIteration` for the default")
        statement = self.ctx.statements[-1]
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(
            statement.body) == 1 else None
        if not isinstance(small, (cst.Assign, cst.AnnAssign, cst.Return, cst.Expr)) or (
                small.value is not call):
            return ("it is part of a larger expression: assign `next(...)` to a variable "
                    "first (the generator is then closed right after, as it was)")
        if no_default and any(_catches_stop_iteration(s) for s in self.ctx.statements):
            return ("an `except StopIteration` around it would no longer see the end: anext() "
                    "raises StopAsyncIteration")
        return None

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.SimpleStatementLine) -> cst.BaseStatement:
        small = updated.body[0] if len(updated.body) == 1 else None
        if isinstance(small, cst.Expr) and isinstance(small.value, cst.Yield) and isinstance(
                small.value.value, cst.From) and self._becomes_async():
            # an async generator cannot `yield from` anything: a loop re-yields the items
            return reyielding_loop(updated, small.value.value.item, self.ctx.free_name("x"),
                                   id(original) in self._reyielding)
        held = self._closing.pop(id(original), None)
        if held:
            return closing_block(updated, self.ctx.import_name("contextlib", "aclosing"), held)
        return with_inserted(original, updated, self._hoists, {})

    def leave_With(self, original: cst.With, updated: cst.With) -> cst.With:
        if updated.asynchronous is None and any(
                (ref := self._target(item.item)) and self._is_context_manager(ref)
                or self._enters_async(item.item) for item in original.items):
            reason = self.ctx.cannot_await()
            if reason:  # a class body, a lambda, module level outside a script's main()
                self.ctx.todo(self.code, "this `with` enters an async context manager now and "
                                         f"must become `async with`, but {reason}", original)
                return updated
            self.ctx.change(self.code, "with over an async context manager → async with",
                            original)
            return updated.with_changes(asynchronous=cst.Asynchronous())
        return updated

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        return self._async_for(original, updated)

    def leave_CompFor(self, original: cst.CompFor, updated: cst.CompFor) -> cst.CompFor:
        return self._async_for(original, updated)

    def _async_for(self, original: cst.For | cst.CompFor,
                   updated: cst.For | cst.CompFor) -> cst.For | cst.CompFor:
        ref = self._target(original.iter)
        if updated.asynchronous is None and ref and self._info(ref).is_generator:
            if not self._can_be_async(original, self._info(ref).qualname,
                                      "iterate it with `async for`"):
                return updated
            self.ctx.change(self.code, f"for over {ref[1]}() → async for", original)
            return updated.with_changes(asynchronous=cst.Asynchronous())
        return updated

    def leave_GeneratorExp(self, original: cst.GeneratorExp,
                           updated: cst.GeneratorExp) -> cst.BaseExpression:
        """`sum(x.qty for x in gen())`: a builtin cannot consume the async generator
        expression `async for` made of it; it gets a list (`sum([x.qty async for ...])`)."""
        if not _is_async(updated.for_in) or _is_async(original.for_in):
            return updated
        if self._consumers.get(id(original)) in _COLLECTORS:
            return as_list(updated)
        self.ctx.todo(self.code, "this generator expression iterates an async generator now, "
                                 "so it is an async generator expression: what consumes it "
                                 "must use `async for` (or give it a list: `[... async for "
                                 "...]`)", original)
        return updated

def _catches_stop_iteration(statement: cst.CSTNode) -> bool:
    """A `try` with an `except` clause naming StopIteration."""
    if not isinstance(statement, cst.Try):
        return False
    for handler in statement.handlers:
        caught = handler.type
        names = [e.value for e in caught.elements] if isinstance(caught, cst.Tuple) else [
            caught]
        if any(isinstance(n, cst.Name) and n.value == "StopIteration" for n in names):
            return True
    return False


def _is_async(comprehension: cst.CompFor | None) -> bool:
    """One of the `for` clauses of a comprehension is `async for`."""
    while comprehension is not None:
        if comprehension.asynchronous is not None:
            return True
        comprehension = comprehension.inner_for_in
    return False
