"""Where a mock stands along a chain of its attributes, for SQA308.

A test configures a mock of a session factory, session or engine through chains such as
`factory.return_value.__enter__.return_value.execute.return_value`. Each step of the chain
moves to a new *position*; the position says what the code under test, now async, does with
the object found there (enters it with `async with`, awaits its method, ...). Pure: no
libcst, no index.

A position is a tuple: ("obj", kind, mock) an object of that kind, `mock` saying what its
methods are: "sync" (a MagicMock's), "spec" (a MagicMock with the async class as spec:
AsyncMocks for the coroutines), "async" (an AsyncMock's: all AsyncMocks); ("call", kind)
something whose call gives one; ("method", kind, name) a method of such an object; ("cm",
kind) an async context manager entering as `kind`; ("enter"/"exit", kind) its
`__aenter__`/`__aexit__`; ("coroutine", kind, name, mock) a method the code under test
awaits.
"""

from __future__ import annotations

from ..api_surface import (
    CONNECTION_COROUTINES,
    ENGINE_CONTEXTS,
    ENGINE_COROUTINES,
    SESSION_COROUTINES,
    STARTABLES,
    TRANSACTION_COROUTINES,
)
from .kinds import ObjKind

Position = tuple

ASYNC_CM_KINDS = frozenset({ObjKind.SESSION, ObjKind.CONNECTION, ObjKind.TRANSACTION})
CLASS_NAMES = {ObjKind.FACTORY: "async_sessionmaker", ObjKind.SESSION: "AsyncSession",
               ObjKind.ENGINE: "AsyncEngine", ObjKind.CONNECTION: "AsyncConnection",
               ObjKind.TRANSACTION: "async transaction"}
_COROUTINES = {ObjKind.SESSION: SESSION_COROUTINES, ObjKind.CONNECTION: CONNECTION_COROUTINES,
               ObjKind.ENGINE: ENGINE_COROUTINES, ObjKind.TRANSACTION: TRANSACTION_COROUTINES}
STAND_IN = {
    ObjKind.FACTORY: "the code under test enters the sessions it makes with `async with` and "
                     "awaits their methods (execute, scalars, get, commit, …)",
    ObjKind.SESSION: "the code under test awaits its methods (execute, scalars, get, commit, "
                     "…) and enters it with `async with`",
    ObjKind.ENGINE: "the code under test enters `connect()`/`begin()` with `async with` and "
                    "awaits the connection's methods",
}
_ASYNC_STAND_IN = ("a stand-in must be an async context manager with async methods — a "
                   "MagicMock configured through `__aenter__`, whose awaited methods are "
                   "AsyncMocks (`fake.execute = AsyncMock(return_value=result)`)")


def step(position: Position | None, segment: str) -> Position | None:
    """The position after `.segment` (`()` for a call, or `.return_value`)."""
    if position is None:
        return None
    if segment == "return_value":
        segment = "()"
    what, kind = position[0], position[1]
    if segment == "()":
        if what == "call":
            return "obj", kind, "sync"
        if what == "obj" and kind in (ObjKind.FACTORY, ObjKind.SESSION):
            # `SessionLocal()`, a scoped registry's `Scoped()`: a MagicMock's return_value
            return "obj", ObjKind.SESSION, "sync"
        if what == "method":
            return _called_method(kind, position[2])
        if what == "enter":
            return "obj", kind, "async"  # what `async with` binds: an AsyncMock's return_value
        return None
    if what == "obj":
        if segment in ("__enter__", "__aenter__") and kind in ASYNC_CM_KINDS:
            return "enter", kind
        if segment in ("__exit__", "__aexit__") and kind in ASYNC_CM_KINDS:
            return "exit", kind
        if kind in _COROUTINES and segment in _COROUTINES[kind] - ENGINE_CONTEXTS or (
                kind is ObjKind.SESSION and segment == "query"):
            return "coroutine", kind, segment, position[2]
        return "method", kind, segment
    if what == "cm":
        if segment in ("__enter__", "__aenter__"):
            return "enter", kind
        if segment in ("__exit__", "__aexit__"):
            return "exit", ObjKind.TRANSACTION
    return None


def _called_method(kind: ObjKind, method: str) -> Position | None:
    """What calling `method` of an object of `kind` gives, as far as mocks configure it."""
    if kind is ObjKind.FACTORY and method == "begin":
        return "cm", ObjKind.SESSION
    if kind is ObjKind.ENGINE and method in ENGINE_CONTEXTS:
        return "cm", ObjKind.CONNECTION
    if kind in (ObjKind.SESSION, ObjKind.CONNECTION) and method in STARTABLES:
        return "cm", ObjKind.TRANSACTION
    return None


# -- what the TODOs say -------------------------------------------------------------------
def changed(what: str, position: Position) -> str:
    """A stand-in the tool cannot follow, for what became async."""
    kind = position[1]
    is_now = "now makes" if position[0] == "call" else "is now"
    return f"{what} {is_now} an {CLASS_NAMES[kind]}: {STAND_IN[kind]}; {_ASYNC_STAND_IN}"


def unawaited(method: str, what: str) -> str:
    """A sync method of the session an AsyncMock's `__aenter__` gives."""
    return (f"the session `async with` gives for {what} is an AsyncMock here: the code "
            f"under test calls its {method}() without await, so the call returns a "
            "coroutine that is never awaited (a RuntimeWarning, an error where warnings "
            "are errors); set `….__aenter__.return_value = MagicMock(spec=AsyncSession)` "
            "and check that mock")


def configured(position: Position, root: str, what: str) -> str:
    """A return value configured for a method the migrated code now awaits."""
    kind, method, awaitable = position[1], position[2], position[3] != "sync"
    cls = CLASS_NAMES[kind]
    if method == "query":
        return (f"`{root}` stands in for an AsyncSession (through {what}), which has no "
                "query(): the migrated code runs select() through `await "
                "session.scalars(...)` / `await session.execute(...)`; configure those")
    if not awaitable:
        return (f"`{root}` stands in for an {cls} (through {what}), whose {method}() the "
                f"migrated code awaits: a MagicMock's methods cannot be awaited; make "
                f"`{method}` an AsyncMock (`….{method} = AsyncMock(return_value=...)`), or "
                f"give the stand-in spec={cls}")
    return (f"`{root}` stands in for an {cls} (through {what}), whose {method}() the "
            f"migrated code awaits: its return_value is what `await` gives, and is an "
            f"AsyncMock whose methods return coroutines; set it to a MagicMock "
            f"(`….{method}.return_value = MagicMock()`) before configuring its methods")
