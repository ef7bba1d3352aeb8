"""Event listeners: SQLAlchemy calls them synchronously, so they stay `def`.

A listener registered with `event.listen(target, name, fn)` or `@event.listens_for(...)` is
called by SQLAlchemy without an `await`: made `async def`, its work would never run. The
session or connection an event hands it is a sync one (an AsyncSession's events fire on its
`sync_session`), so its body keeps working unchanged. What it calls that would become async
stays sync with it; migrated callers elsewhere run those through `session.run_sync(...)`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..index import ModuleIndex
from .colouring import Colouring
from .kinds import ObjKind
from .project import FunctionRef

_LISTEN = frozenset({"sqlalchemy.event.listen", "sqlalchemy.event.api.listen"})
_LISTENS_FOR = frozenset({"sqlalchemy.event.listens_for", "sqlalchemy.event.api.listens_for"})
# What a kept function may reach only through its own parameters: a session factory, an
# engine or a session held elsewhere became async.
_ASYNC_SOURCES = frozenset({ObjKind.SESSION, ObjKind.FACTORY, ObjKind.ENGINE,
                            ObjKind.CONNECTION, ObjKind.FLASK_DB})
LISTENER = "it is an event listener, which SQLAlchemy calls synchronously, with a sync Session"

# The project function a call in a scope reaches (methods of untyped receivers included).
Resolver = Callable[[ModuleIndex, str, str], FunctionRef | None]


class Listeners:
    """The project's event listeners and what must stay synchronous with them."""

    def __init__(self, colouring: Colouring, called: Resolver) -> None:
        self.colouring, self.project, self.called = colouring, colouring.project, called

    def registered(self) -> set[FunctionRef]:
        """Project functions registered as SQLAlchemy event listeners."""
        project = self.project
        found: set[FunctionRef] = set()
        for ix in project.modules.values():
            for site in ix.calls:
                if len(site.args) > 2 and site.args[2] and project.qualify(
                        ix, site.callee) in _LISTEN and (
                        ref := self.called(ix, site.scope, site.args[2])) is not None:
                    found.add(ref)
            found.update((ix.module, qualname) for qualname, info in ix.functions.items()
                         if any(project.qualify(ix, d) in _LISTENS_FOR for d in info.decorators))
        return found

    def kept_sync(self, io: set[FunctionRef]) -> dict[FunctionRef, str]:
        """Listeners that would become async, and the functions they call that would, when
        all of them can stay sync (→ why each does)."""
        coloured = self.colouring.colour(io)
        kept: dict[FunctionRef, str] = {}
        for ref in sorted(self.registered() & coloured):
            if ref not in kept:
                kept |= self._group(ref, coloured) or {}
        return kept

    def _group(self, listener: FunctionRef, coloured: frozenset[FunctionRef]
               ) -> dict[FunctionRef, str] | None:
        project = self.project
        group = {listener: LISTENER}
        todo = [listener]
        while todo:
            member = todo.pop()
            ix = project.modules[member[0]]
            if not self._can_stay_sync(ix, member[1]):
                return None
            for site in project.calls_in(ix, member[1]):
                callee = self.called(ix, site.scope, site.callee)
                if callee in coloured and callee not in group:
                    group[callee] = (f"the event listener {listener[1]}() calls it, and "
                                     "SQLAlchemy calls listeners synchronously")
                    todo.append(callee)
        return group if all(self._callable_sync(ref, group) for ref in group) else None

    def _can_stay_sync(self, ix: ModuleIndex, scope: str) -> bool:
        """Not async already, nor a test, fixture or framework callback, and reaching sessions
        and engines only through its parameters (what the event or run_sync hands it)."""
        info = ix.functions.get(scope)
        colouring = self.colouring
        if info is None or info.is_async or scope.rpartition(".")[2].startswith("test") or (
                colouring.kinds.is_fixture(ix, scope)) or colouring.sync_boundary(
                    (ix.module, scope)):
            return False
        for name in ix.names_read.get(scope, ()):
            parts = name.split(".")
            for cut in range(1, len(parts) + 1):
                prefix = ".".join(parts[:cut])
                if prefix not in info.params and colouring.kinds.kind(
                        ix, scope, prefix) in _ASYNC_SOURCES:
                    return False
        return True

    def _callable_sync(self, ref: FunctionRef, group: dict[FunctionRef, str]) -> bool:
        """Its callers outside the group are functions that can hand it a sync session
        through run_sync (it takes one)."""
        outside = [(ix, site) for ix, site in [*self.project.callers(ref),
                                               *self.project.run_sync_callers(ref)]
                   if (ix.module, site.scope) not in group]
        ix = self.project.modules[ref[0]]
        return not outside or bool(self.colouring.session_params(ix, ref[1])) and all(
            site.scope in caller_ix.functions for caller_ix, site in outside)
