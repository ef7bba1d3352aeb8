"""Modules that stay synchronous under the async target, and why.

* Alembic's env.py and migration scripts: Alembic runs them without an event loop.
* A module handing its session to a class-level registry that code which cannot await reads
  back: `Model.set_session(session)` keeps it as `cls._session` for a `query` class property
  (`return cls._session.query(cls)`). A property cannot await, so an AsyncSession there
  breaks every caller; the session, and what it is built from, stay synchronous.
* A module querying a session that outside code builds: `with sql.session_for_read() as
  session: session.query(...)`, where the project's `session_for_read()` reaches no Session,
  sessionmaker, scoped_session or engine of its own (oslo.db's enginefacade makes it). The tool
  cannot make that session an AsyncSession; awaiting its queries would break them.
* A module using a session, factory or engine of such a module (`from .db import session`).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cached_property

from ..index import ALIAS, CallSite, FunctionInfo, ModuleIndex
from .kinds import Kinds, ObjKind
from .project import FunctionRef, Project

ALEMBIC = "Alembic runs its env.py and migration scripts synchronously"
# Decorators (besides properties) of functions Python cannot make `async def` without
# changing how they are called.
_SYNC_ONLY_DECORATORS = frozenset({"validates", "setter", "getter"})
_SESSION_VALUES = (ObjKind.SESSION, ObjKind.FACTORY)
_SHARED_VALUES = (ObjKind.SESSION, ObjKind.FACTORY, ObjKind.ENGINE)
_SQLALCHEMY_PACKAGES = frozenset({"sqlalchemy", "sqlmodel", "flask_sqlalchemy"})
_FOLLOWED = 40  # project functions followed from a session's maker before giving up


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
        for module, reason in self._outside_sessions():
            reasons.setdefault(module, reason)
        while self._spread(reasons):
            pass
        return reasons

    def _outside_sessions(self) -> Iterator[tuple[str, str]]:
        """(module, why) for modules querying a session outside code builds."""
        for ix in self.project.modules.values():
            for site in ix.calls:
                receiver, _, method = site.callee.rpartition(".")
                if method != "query" or not receiver.isidentifier():
                    continue
                bound_in, made = self.kinds.made_unknown(ix, site.scope, receiver)
                if made and all(self._made_outside(ix, bound_in, b.targets[0]) for b in made):
                    yield ix.module, (
                        f"its session `{receiver}` comes from `{made[0].targets[0]}()`, which no "
                        "Session, sessionmaker, scoped_session or engine of the project builds "
                        "(outside code makes it), so the tool cannot make it an AsyncSession")
                    break

    def _made_outside(self, ix: ModuleIndex, scope: str, callee: str) -> bool:
        """`callee(...)` is outside code (not SQLAlchemy's), or a project function reaching
        (through the project functions it calls) no call that builds a session, a session
        factory or an engine, and returning none."""
        if any(self._hands_on_a_session(ix, scope, call) for call in ix.calls_in(scope)
               if call.callee == callee):  # `with nullcontext(SessionLocal()) as session:`
            return False
        start = self.project.resolve_function(ix, scope, callee)
        if start is None:
            qualified = self.project.qualify(ix, callee)
            return callee.partition(".")[0] in ix.imports and self.project.lookup(
                qualified) is None and qualified.partition(".")[0] not in _SQLALCHEMY_PACKAGES
        todo, seen = [start], {start}
        while todo:
            module, function = todo.pop()
            found_in = self.project.modules[module]
            if any(self._session_like(found_in, function, name)
                   for name in found_in.functions[function].produces):
                return False
            for call in found_in.calls_in(function):
                if self.kinds.call_result_kind(found_in, function, call.callee) in (
                        _SHARED_VALUES) or self._hands_on_a_session(found_in, function, call):
                    return False
                ref = self.project.resolve_function(found_in, function, call.callee)
                if ref is not None and ref not in seen:
                    if len(seen) >= _FOLLOWED:
                        return False
                    seen.add(ref)
                    todo.append(ref)
        return True

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

    def _hands_on_a_session(self, ix: ModuleIndex, scope: str, call: CallSite) -> bool:
        """A call given a session, a session factory or an engine (or what makes one)."""
        return any(value is not None and self._session_like(ix, scope, value)
                   for value in (*call.args, *(value for _, value in call.kwargs)))

    def _session_like(self, ix: ModuleIndex, scope: str, value: str) -> bool:
        if value.endswith("()"):
            return self.kinds.call_result_kind(ix, scope, value[:-2]) in _SHARED_VALUES
        return self.kinds.kind(ix, scope, value) in _SHARED_VALUES

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
