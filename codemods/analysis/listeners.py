"""Event listeners: SQLAlchemy calls them synchronously, so they stay `def`.

A listener registered with `event.listen(target, name, fn)` or `@event.listens_for(...)` is
called by SQLAlchemy without an `await`: made `async def`, its work would never run. The
session or connection an event hands it is a sync one (an AsyncSession's events fire on its
`sync_session`), so its body keeps working unchanged. What it calls that would become async
stays sync with it; migrated callers elsewhere run those through `session.run_sync(...)`.
"""

from __future__ import annotations

from collections.abc import Callable

from ..index import VALUE, ModuleIndex
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
                        ix, site.callee) in _LISTEN:
                    found.update(self._handed(ix, site.scope, site.args[2]))
            found.update((ix.module, qualname) for qualname, info in ix.functions.items()
                         if any(project.qualify(ix, d) in _LISTENS_FOR for d in info.decorators))
        return found

    def _handed(self, ix: ModuleIndex, scope: str, value: str) -> list[FunctionRef]:
        """The project functions a value handed to `listen()` may be: a function, a method,
        or for a loop variable (`for name, fn in self.listeners.items(): listen(t, name, fn)`)
        the functions of the display its container is assigned (in any method of the class,
        for `self.x`)."""
        ref = self.called(ix, scope, value)
        if ref is not None:
            return [ref]
        owner = self.project.owner_class(ix, scope)
        methods = [q for q, info in ix.functions.items()
                   if owner is not None and info.owner_class == owner]
        return [ref for container in ix.loop_sources.get(scope, {}).get(value, ())
                for at in (methods if container.startswith("self.") else [scope, ""])
                for element in ix.displays.get(at, {}).get(container, ())
                if (ref := self.called(ix, at, element)) is not None]

    def kept_sync(self, io: set[FunctionRef]) -> dict[FunctionRef, str]:
        """Listeners that would become async, with the functions they call that would, when
        all of these can stay sync (→ why each does). Listeners share helpers, so the groups
        are checked together; a group with a member that cannot stay sync is dropped."""
        listeners = self.registered()
        if not listeners:
            return {}
        coloured = self.colouring.colour(io)
        # (a listener calling a method on an untyped receiver is not coloured itself)
        groups = {ref: group for ref in sorted(listeners)
                  if (group := self._closure(ref, coloured)) is not None
                  and group.keys() & coloured}
        while groups:
            kept = {ref: why for group in groups.values() for ref, why in group.items()}
            kept |= {ref: LISTENER for ref in groups}
            failing = {ref for ref in kept if not self._callable_sync(ref, kept)
                       or not self._reaches_only_its_own(ref, kept)}
            if not failing:
                return kept
            groups = {ref: group for ref, group in groups.items() if not failing & group.keys()}
        return {}

    def _closure(self, listener: FunctionRef, coloured: frozenset[FunctionRef]
                 ) -> dict[FunctionRef, str] | None:
        """The listener and what it calls that would become async, or None when one of them
        cannot stay sync at all."""
        project = self.project
        group = {listener: LISTENER}
        todo = [listener]
        while todo:
            member = todo.pop()
            ix = project.modules[member[0]]
            if not self._can_stay_sync(ix, member[1]):
                return None
            callees = [callee for site in project.calls_in(ix, member[1])
                       if (callee := self.called(ix, site.scope, site.callee)) in coloured]
            # a project decorator's wrapper is what SQLAlchemy calls, and it calls the method
            for callee in [*self.colouring.wrapping(member), *callees]:
                if callee not in group:
                    group[callee] = (f"the event listener {listener[1]}() calls it, and "
                                     "SQLAlchemy calls listeners synchronously")
                    todo.append(callee)
        return group

    def _can_stay_sync(self, ix: ModuleIndex, scope: str) -> bool:
        """Not async already, nor run by a test runner or a framework."""
        info = ix.functions.get(scope)
        return info is not None and not info.is_async and not self.colouring.run_elsewhere(
            (ix.module, scope))

    def _reaches_only_its_own(self, ref: FunctionRef, group: dict[FunctionRef, str]) -> bool:
        """The sessions, connections, factories and engines it uses are its parameters, what
        it makes of them, or attributes of `self` only the group sets: a module-level one, or
        one set by migrated code, became async."""
        ix = self.project.modules[ref[0]]
        scope = ref[1]
        for name in ix.names_read.get(scope, ()):
            parts = name.split(".")
            for cut in range(1, len(parts) + 1):
                prefix = ".".join(parts[:cut])
                if self.colouring.kinds.kind(ix, scope, prefix) not in _ASYNC_SOURCES:
                    continue
                if cut == 1 and self.project.binding_scope(ix, scope, prefix) != scope or (
                        cut == 2 and not self._set_by(ix, scope, parts, group)) or cut > 2:
                    return False
        return True

    def _set_by(self, ix: ModuleIndex, scope: str, parts: list[str],
                group: dict[FunctionRef, str]) -> bool:
        """`self.x`: every assignment of an object to it in its class is made in a function
        of `group`."""
        owner = self.project.owner_class(ix, scope)
        if parts[0] != "self" or owner is None:
            return False
        setters = [at for at, binding in ix.attribute_bindings.get(owner, ())
                   if binding.name == parts[1] and binding.origin != VALUE]  # (`= None`)
        return bool(setters) and all((ix.module, at) in group for at in setters)

    def _callable_sync(self, ref: FunctionRef, group: dict[FunctionRef, str]) -> bool:
        """Its callers outside the group can call it through run_sync."""
        outside = [(ix, site) for ix, site in self.colouring.all_callers(ref)
                   if (ix.module, site.scope) not in group]
        return not outside or self.colouring.run_sync_can_call(ref, outside)
