"""What the code's own use of a name shows it holds, where no binding says so.

`x.query(User, ...)` with a mapped class is only ever a session's call: a module attribute
set inside a function (`global session`), an instance attribute filled by a property or a
factory the tool cannot follow, or Pyramid's `request.dbsession`, is a session everywhere
the project reads it when one such call exists. Framework conventions that register a
session under a name (`config.add_request_method(f, "db", reify=True)`) are read here too.
"""

from __future__ import annotations

from collections.abc import Callable

from ..index import PARAM, QUERY, Binding, ModuleIndex
from .models import Models
from .project import Project, qualname


class Evidence:
    """Names shown to be sessions by `.query(MappedClass)` calls (state-free, cached)."""

    def __init__(self, project: Project, models: Models,
                 holds_session: Callable[[ModuleIndex, str, Binding], bool]) -> None:
        self.project, self.models = project, models
        self.holds_session = holds_session  # what a binding's value is (from Kinds)
        self._sessions: set[str] | None = None
        self._request_attributes: set[str] | None = None

    def shows_session(self, ix: ModuleIndex, scope: str, dotted: str) -> bool:
        if self._sessions is None:
            self._sessions = set()  # what the stores below ask while it is being filled
            self._find_sessions(self._sessions)
        key = self.key(ix, scope, dotted)
        return key is not None and key in self._sessions

    def _find_sessions(self, found: set[str]) -> None:
        for ix in self.project.modules.values():
            for site in ix.calls:
                receiver, _, method = site.callee.rpartition(".")
                if method == "query" and receiver and "()" not in receiver and site.args and (
                        site.args[0] is not None) and self.models.queried_entity(
                        ix, site.scope, site.args[0]):
                    key = self.key(ix, site.scope, receiver)
                    if key is not None:
                        found.add(key)
        for ix in self.project.modules.values():  # `request.state.db = SessionLocal()`
            for scope, binding in ix.attribute_stores:
                key = self.key(ix, scope, binding.name)
                if key is not None and self.holds_session(ix, scope, binding):
                    found.add(key)

    def key(self, ix: ModuleIndex, scope: str, dotted: str) -> str | None:
        """The same name wherever it is read: `Class#attr` for `self.attr`, `request#attr`
        for a request attribute, `module:scope:name` for a local variable, else the
        qualified name (a module attribute, or an attribute of a module-level object)."""
        head, _, rest = dotted.partition(".")
        receiver, _, attr = dotted.rpartition(".")
        if receiver.rpartition(".")[2] == "request" and attr in self.request_attributes():
            return f"request#{attr}"  # `request.db`, `self.request.db`
        if head == "self":
            owner = self.project.owner_class(ix, scope)
            return f"{qualname(ix, owner)}#{rest}" if owner and rest and "." not in rest else None
        found_in = self.project.binding_scope(ix, scope, head)
        bound = self.project.bound_in(ix, found_in, head) if found_in else []
        if rest and bound and all(b.origin == PARAM for b in bound):
            return f"parameter {dotted}"  # `request.state.db` in any function's `request`
        if any(b.origin != QUERY for b in bound):
            return f"{ix.module}:{scope}:{dotted}"
        qualified = self.project.qualify(ix, dotted)
        return None if qualified == dotted else qualified  # a free name: a lambda's parameter

    def request_attributes(self) -> set[str]:
        """Pyramid request attributes the project registers."""
        if self._request_attributes is None:
            self._request_attributes = set().union(
                *(ix.request_attributes for ix in self.project.modules.values()))
        return self._request_attributes
