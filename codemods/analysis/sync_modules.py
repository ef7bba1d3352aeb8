"""Modules that stay synchronous under the async target, and why.

* Alembic's env.py and migration scripts: Alembic runs them without an event loop.
* A module handing its session to a class-level registry that code which cannot await reads
  back: `Model.set_session(session)` keeps it as `cls._session` for a `query` class property
  (`return cls._session.query(cls)`). A property cannot await, so an AsyncSession there
  breaks every caller; the session, and what it is built from, stay synchronous.
* A module using a session, factory or engine of such a module (`from .db import session`).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

from ..index import ALIAS, FunctionInfo, ModuleIndex
from .kinds import Kinds, ObjKind
from .project import FunctionRef, Project

ALEMBIC = "Alembic runs its env.py and migration scripts synchronously"
# Decorators (besides properties) of functions Python cannot make `async def` without
# changing how they are called.
_SYNC_ONLY_DECORATORS = frozenset({"validates", "setter", "getter"})
_SESSION_VALUES = (ObjKind.SESSION, ObjKind.FACTORY)
_SHARED_VALUES = (ObjKind.SESSION, ObjKind.FACTORY, ObjKind.ENGINE)


def sync_only_decorator(info: FunctionInfo) -> str | None:
    """The decorator that keeps a function synchronous: a property of any sort (`property`,
    `hybrid_property`, a project's `classproperty`), a validator."""
    for decorator in info.decorators:
        name = decorator.rpartition(".")[2]
        if name.endswith("property") or name in _SYNC_ONLY_DECORATORS:
            return decorator
    return None


class SyncModules:
    """`reasons`: module → why it stays synchronous (state-free)."""

    def __init__(self, project: Project, kinds: Kinds) -> None:
        self.project, self.kinds = project, kinds

    @cached_property
    def reasons(self) -> dict[str, str]:
        project, kinds = self.project, self.kinds
        reasons = {ix.module: ALEMBIC for ix in project.modules.values()
                   if ix.runs_under_alembic}
        for setter, param, why in self._registries():
            for caller_ix, site in project.callers(setter):
                arg = project.argument_for(site, setter, param)
                if arg is None or kinds.kind(caller_ix, site.scope, arg) not in _SESSION_VALUES:
                    continue
                reason = f"it hands `{arg}` to `{site.callee}()`, which {why}"
                reasons.setdefault(caller_ix.module, reason)
                found = project.lookup(project.qualify(caller_ix, arg))
                if found is not None and found[0].module != caller_ix.module:
                    reasons.setdefault(found[0].module, reason)  # where the session is built
        while self._spread(reasons):
            pass
        return reasons

    def _registries(self) -> Iterator[tuple[FunctionRef, str, str]]:
        """(classmethod, its parameter it stores at class level, what reads it back)."""
        for ix in self.project.modules.values():
            for owner, stores in ix.attribute_bindings.items():
                for scope, binding in stores:
                    info = ix.functions.get(scope)
                    if info is None or info.params[:1] != ("cls",) or binding.origin != ALIAS or (
                            binding.targets[0] not in info.params[1:]):
                        continue
                    reader = self._sync_reader(ix, owner, binding.name)
                    if reader:
                        yield ((ix.module, scope), binding.targets[0],
                               f"keeps it as `{owner}.{binding.name}` for {reader}")

    @staticmethod
    def _sync_reader(ix: ModuleIndex, owner: str, attr: str) -> str | None:
        """A function of the class reading `cls.attr`/`self.attr` that cannot await."""
        for qualname, info in ix.functions.items():
            if info.owner_class != owner:
                continue
            read = ix.names_read.get(qualname, set())
            decorator = sync_only_decorator(info) if (
                f"cls.{attr}" in read or f"self.{attr}" in read) else None
            if decorator:
                return f"`{qualname}` (a @{decorator}, which cannot await)"
        return None

    def _spread(self, reasons: dict[str, str]) -> bool:
        """Modules importing a session, factory or engine of a module that stays sync."""
        grown = False
        for ix in self.project.modules.values():
            if ix.module in reasons:
                continue
            for local, qualified in ix.imports.items():
                found = self.project.lookup(qualified)
                if found is not None and found[0].module in reasons and "." not in found[1] and (
                        self.kinds.kind(found[0], "", found[1]) in _SHARED_VALUES):
                    reasons[ix.module] = (f"it uses `{local}` from `{found[0].module}`, which "
                                          "stays synchronous")
                    grown = True
                    break
        return grown
