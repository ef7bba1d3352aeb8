"""Project decorators that wrap the functions they decorate.

    def requires_user(f):               # or a factory: def retry(times): def decorator(f): ...
        @wraps(f)
        def wrapper(*args, **kwargs):
            ...
            return f(*args, **kwargs)
        return wrapper

A call of a decorated function runs the wrapper, and the wrapper calls the function through
its parameter (`f`), which no name resolution reaches. So the wrapper and the functions it
wraps have one colour: when one of them awaits, all become async and the wrapper awaits
`f(...)`. That is sound only when every function the wrapper may receive is known: each
application is a decorator line on a project function, and the decorator (or its factory)
is not called anywhere else (`requires_user(handler)` hands it a function the tool does not
follow).

A wrapper may hand the function on to a project helper that calls it
(`def wrapper(*args, **kwargs): run_in_context(f, *args, **kwargs)`, and `run_in_context`
calls its parameter): the helper then counts as a wrapper of the same functions (it awaits
`func(...)`), as long as only such wrappers call it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..index import PARAM, CallSite, ModuleIndex
from .project import FunctionRef, Project


@dataclass(frozen=True)
class Wrapper:
    """The inner function of a project decorator and what it wraps."""

    param: str  # the decorator's parameter holding the wrapped function (`f`)
    decorator: str  # the decorator as written at its applications (`requires_user`)
    wrapped: tuple[FunctionRef, ...]  # the functions decorated with it, in project order
    # why the tool cannot tell which functions the wrapper receives, or None (it knows them all)
    unknown: str | None


class Decorators:
    """Which project functions wrap which (state-free, computed once)."""

    def __init__(self, project: Project) -> None:
        self.project = project

    @cached_property  # (wrapper -> Wrapper, decorated function -> the wrappers around it)
    def _tables(self) -> tuple[dict[FunctionRef, Wrapper], dict[FunctionRef, list[FunctionRef]]]:
        project = self.project
        # wrapper -> [(decorated function, decorator as written, factory or None)]
        applied: dict[tuple[FunctionRef, str], list[tuple[FunctionRef, str, FunctionRef | None]]]
        applied = {}
        # helper -> the inner functions handing it the wrapped function
        helpers: dict[FunctionRef, set[FunctionRef]] = {}
        for ix in project.modules.values():
            for qualname, info in ix.functions.items():
                outer = qualname.rpartition(".")[0]
                for decorator in info.decorators:
                    for wrapper, param, factory, handed_by in self._applied(ix, outer,
                                                                            decorator):
                        applied.setdefault((wrapper, param), []).append(
                            ((ix.module, qualname), decorator, factory))
                        if handed_by is not None:
                            helpers.setdefault(wrapper, set()).add(handed_by)
        wrappers: dict[FunctionRef, Wrapper] = {}
        wrapping: dict[FunctionRef, list[FunctionRef]] = {}
        for (wrapper, param), uses in applied.items():
            wrapped = tuple(dict.fromkeys(ref for ref, _, _ in uses))
            unknown = self._unknown_helper(wrapper, helpers[wrapper]) if (
                wrapper in helpers) else self._unknown(wrapper, uses)
            wrappers[wrapper] = Wrapper(param, uses[0][1], wrapped, unknown)
            for ref in wrapped:
                wrapping.setdefault(ref, []).append(wrapper)
        return wrappers, wrapping

    def wrapper(self, ref: FunctionRef) -> Wrapper | None:
        """`ref` as the inner function of a project decorator applied in the project."""
        return self._tables[0].get(ref)

    def wrappers_of(self, ref: FunctionRef) -> list[FunctionRef]:
        """The inner functions of the project decorators on `ref` (they call it)."""
        return self._tables[1].get(ref, [])

    def applied(self, ix: ModuleIndex, scope: str, decorator: str) -> bool:
        """A decorator line (evaluated in `scope`) applies a project decorator whose wrapper
        the tool follows."""
        return bool(self._applied(ix, scope, decorator))

    def made_async(self, ref: FunctionRef, async_functions: frozenset[FunctionRef]
                   ) -> str | None:
        """A project decorator on `ref` (as written) whose inner function, the one a call of
        `ref` runs, is in `async_functions` while `ref` is not: a decorator the tool does not
        follow as a wrapper (it calls the function another way, or not at all), so the call
        returns a coroutine though `ref` stays a `def`."""
        if ref in async_functions:
            return None
        ix = self.project.modules[ref[0]]
        outer = ref[1].rpartition(".")[0]
        for decorator in ix.functions[ref[1]].decorators:
            found = self.project.resolve_function(ix, outer, decorator)
            if found is None:
                continue
            inner = self._returned_functions(found)
            if not any(f in async_functions for f in inner):  # a factory: what it returns
                inner = [g for f in inner for g in self._returned_functions(f)]
            if any(f in async_functions for f in inner):
                return decorator
        return None

    def _applied(self, ix: ModuleIndex, scope: str, decorator: str
                 ) -> list[tuple[FunctionRef, str, FunctionRef | None, FunctionRef | None]]:
        """(wrapper, its parameter holding the wrapped function, the factory or None, for a
        helper the inner function handing it the function, else None) of a decorator line:
        `@requires_user` names the decorator; `@retry(3)` a factory returning it (the index
        keeps the name a decorator line calls, so both are tried, the decorator first)."""
        ref = self.project.resolve_function(ix, scope, decorator)
        if ref is None:
            return []
        found = self._wraps(ref)
        if found:
            return [(wrapper, param, None, handed_by) for wrapper, param, handed_by in found]
        for inner in self._returned_functions(ref):
            found = self._wraps(inner)
            if found:
                return [(wrapper, param, ref, handed_by) for wrapper, param, handed_by in found]
        return []

    def _wraps(self, ref: FunctionRef
               ) -> list[tuple[FunctionRef, str, FunctionRef | None]]:
        """A decorator: it returns an inner function that calls its first parameter, or hands
        it to a project function calling the parameter it takes it as (both are wrappers; a
        helper comes with the inner function handing it the function)."""
        info = self.project.modules[ref[0]].functions[ref[1]]
        if not info.params or info.is_generator:
            return []
        param = info.params[0]
        ix = self.project.modules[ref[0]]
        for inner in self._returned_functions(ref):
            if self.project.bound_in(ix, inner[1], param):
                continue  # the inner function rebinds the name: not the wrapped function
            sites = self.project.calls_in(ix, inner[1])
            if any(site.callee == param for site in sites):
                return [(inner, param, None)]
            for site in sites:
                helper = self._helper(ix, inner[1], site, param)
                if helper is not None:
                    return [(*helper, inner), (inner, param, None)]
        return []

    def _helper(self, ix: ModuleIndex, scope: str, site: CallSite, param: str
                ) -> tuple[FunctionRef, str] | None:
        """(the project function `site` calls, its parameter) where the call passes `param`
        and that function calls the parameter, never rebinding it."""
        target = self.project.resolve_function(ix, scope, site.callee)
        if target is None:
            return None
        helper_ix = self.project.modules[target[0]]
        info = helper_ix.functions[target[1]]
        if info.owner_class is not None or info.is_generator:
            return None  # (a method's positions start after self)
        names = [info.params[i] for i, arg in enumerate(site.args)
                 if arg == param and i < len(info.params)]
        names += [key for key, arg in site.kwargs if arg == param and key in info.params]
        for name in names:
            rebound = any(binding.origin != PARAM
                          for binding in self.project.bound_in(helper_ix, target[1], name))
            if not rebound and any(
                    s.callee == name for s in self.project.calls_in(helper_ix, target[1])):
                return target, name
        return None

    def _unknown_helper(self, helper: FunctionRef, handed_by: set[FunctionRef]) -> str | None:
        """Why a helper may get a function other than those `handed_by` (the inner functions
        handing it the wrapped function) hand it, or None."""
        for ix, site in self.project.callers(helper):
            if (ix.module, site.scope) not in handed_by:
                return (f"`{site.callee}()` is also called ({ix.module or ix.path}, line "
                        f"{site.line}) with a function the tool does not follow")
        return None

    def _returned_functions(self, ref: FunctionRef) -> list[FunctionRef]:
        """The functions defined inside `ref` that it returns by name."""
        info = self.project.modules[ref[0]].functions[ref[1]]
        functions = self.project.modules[ref[0]].functions
        return [(ref[0], f"{ref[1]}.{name}") for name in info.produces
                if f"{ref[1]}.{name}" in functions]

    def _unknown(self, wrapper: FunctionRef,
                 uses: list[tuple[FunctionRef, str, FunctionRef | None]]) -> str | None:
        """Why the wrapper may receive a function the tool does not know, or None."""
        decorator = (wrapper[0], wrapper[1].rpartition(".")[0])
        calls = self.project.callers(decorator)
        if calls:  # `requires_user(handler)`, `decorator(f)` inside its factory
            ix, site = calls[0]
            return (f"`{site.callee}()` is also called ({ix.module or ix.path}, line {site.line}) "
                    "with a function the tool does not follow")
        factories = {factory for _, _, factory in uses if factory is not None}
        for factory in sorted(factories):
            applications = sum(1 for _, _, f in uses if f == factory)
            called = len(self.project.callers(factory))
            if called > applications:  # `admin = role("admin")`, used as a value elsewhere
                return (f"`{factory[1]}()` is called {called} times but decorates "
                        f"{applications} function(s): what it returns may wrap others")
        return None
