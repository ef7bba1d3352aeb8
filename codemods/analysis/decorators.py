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
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..index import ModuleIndex
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
        for ix in project.modules.values():
            for qualname, info in ix.functions.items():
                outer = qualname.rpartition(".")[0]
                for decorator in info.decorators:
                    found = self._applied(ix, outer, decorator)
                    if found is not None:
                        wrapper, param, factory = found
                        applied.setdefault((wrapper, param), []).append(
                            ((ix.module, qualname), decorator, factory))
        wrappers: dict[FunctionRef, Wrapper] = {}
        wrapping: dict[FunctionRef, list[FunctionRef]] = {}
        for (wrapper, param), uses in applied.items():
            wrapped = tuple(dict.fromkeys(ref for ref, _, _ in uses))
            wrappers[wrapper] = Wrapper(param, uses[0][1], wrapped, self._unknown(wrapper, uses))
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
        return self._applied(ix, scope, decorator) is not None

    def _applied(self, ix: ModuleIndex, scope: str, decorator: str
                 ) -> tuple[FunctionRef, str, FunctionRef | None] | None:
        """(wrapper, its decorator's parameter, the factory or None) of a decorator line:
        `@requires_user` names the decorator; `@retry(3)` a factory returning it (the index
        keeps the name a decorator line calls, so both are tried, the decorator first)."""
        ref = self.project.resolve_function(ix, scope, decorator)
        if ref is None:
            return None
        found = self._wraps(ref)
        if found is not None:
            return (*found, None)
        for inner in self._returned_functions(ref):
            found = self._wraps(inner)
            if found is not None:
                return (*found, ref)
        return None

    def _wraps(self, ref: FunctionRef) -> tuple[FunctionRef, str] | None:
        """A decorator: it returns an inner function that calls its first parameter."""
        info = self.project.modules[ref[0]].functions[ref[1]]
        if not info.params or info.is_generator:
            return None
        param = info.params[0]
        ix = self.project.modules[ref[0]]
        for inner in self._returned_functions(ref):
            if self.project.bound_in(ix, inner[1], param):
                continue  # the inner function rebinds the name: not the wrapped function
            if any(site.callee == param for site in self.project.calls_in(ix, inner[1])):
                return inner, param
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
