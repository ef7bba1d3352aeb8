"""Where the project's engines read their database URLs from, by name (for SQA001).

A URL literal is moved to an async driver only where it feeds an engine the run makes
async: given to `create_engine(...)` itself, or held by a name an engine factory reads its URL
from — `create_engine(settings.DATABASE_URL)` reads `DATABASE_URL`, `create_engine(url)` in
`def make_engine(url)` reads `url` and whatever its callers pass there (`make_engine(args.db)`:
`db`), `create_engine(database_url())` reads what `database_url` returns. Matched by name, not
by data flow, like relationship reads.
"""

from __future__ import annotations

from functools import cached_property
from typing import NamedTuple

from .. import api_surface as api
from ..index import PARAM, ModuleIndex
from .project import Project
from .sync_modules import SyncModules

_FACTORY_NAMES = frozenset(name.rpartition(".")[2] for name in api.ENGINE_FACTORIES)


class EngineUrls:
    """The engine factory calls of the project and the names they read their URL from."""

    def __init__(self, project: Project, sync_modules: SyncModules) -> None:
        self.project, self.sync_modules = project, sync_modules

    @cached_property
    def _sources(self) -> list[tuple[ModuleIndex, str, str]]:
        """(module, scope, dotted name or `f()`) of every engine factory's URL argument,
        outside the modules that stay synchronous (Alembic's engine keeps its URL)."""
        found = []
        for ix in self.project.modules.values():
            if ix.module in self.sync_modules.reasons:
                continue
            for site in ix.calls:
                if site.callee.rpartition(".")[2] not in _FACTORY_NAMES or (
                        self.project.qualify(ix, site.callee) not in api.ENGINE_FACTORIES):
                    continue
                url = site.args[0] if site.args else dict(site.kwargs).get("url")
                found.append((ix, site.scope, url or ""))
        return found

    @property
    def any_engine(self) -> bool:
        """The project creates engines (which the async target converts)."""
        return bool(self._sources)

    @cached_property
    def names(self) -> frozenset[str]:
        """The last names of what engine factories read their URL from, following a
        parameter to what the function's callers pass for it."""
        names: set[str] = set()
        todo = [source for source in self._sources if source[2]]
        seen: set[tuple[str, str, str]] = set()
        while todo:
            ix, scope, url = todo.pop()
            if (ix.module, scope, url) in seen:
                continue
            seen.add((ix.module, scope, url))
            names.add(url.removesuffix("()").rpartition(".")[2])
            info = ix.functions.get(scope)
            if info is None or "." in url or url not in info.params:
                continue
            position = info.params.index(url) - (info.params[0] in ("self", "cls"))
            for caller, site in self.project.callers((ix.module, scope)):
                passed = dict(site.kwargs).get(url) or (
                    site.args[position] if 0 <= position < len(site.args) else None)
                if passed:
                    todo.append((caller, site.scope, passed))
        return frozenset(names)

    def source(self, ix: ModuleIndex, scope: str, dotted: str, depth: int = 0
               ) -> UrlSource | None:
        """Where the URL a name holds comes from, when one assignment says it: a URL literal
        (which the run moves to an async driver with the engine), or an environment lookup
        with a URL literal as its default, or a pydantic settings field ("environment").
        `URL`, an imported `URL`, `config.URL` of a module, `settings.url` of an instance of
        a project class."""
        project = self.project
        receiver, _, name = dotted.rpartition(".")
        if receiver:
            cls = project.instance_class(ix, scope, receiver)
            if cls is not None:
                owner_ix, owner = cls
                found = self._assigned(owner_ix, owner, name)
                settings = any(q.rpartition(".")[2] == "BaseSettings"
                               for q in project.ancestors(owner_ix, owner))
                return found._replace(origin="environment") if found and settings else found
            target = project.lookup(project.qualify(ix, dotted))
            return self.source(target[0], "", target[1], depth + 1) if (
                target and "." not in target[1] and depth < 4) else None
        binding_scope = project.binding_scope(ix, scope, name)
        if binding_scope is not None:
            return self._assigned(ix, binding_scope, name)
        target = project.lookup(ix.qualify(name))
        return self.source(target[0], "", target[1], depth + 1) if (
            target and target[0] is not ix and "." not in target[1] and depth < 4) else None

    def _assigned(self, ix: ModuleIndex, scope: str, name: str) -> UrlSource | None:
        """The URL source of `name` in exactly `scope`, if it is assigned there once (a
        class body's annotation `url: str = "..."` declares, it does not assign)."""
        bindings = [b for b in self.project.bound_in(ix, scope, name)
                    if not (b.origin == PARAM and scope in ix.classes)]
        found = ix.url_names.get(scope, {}).get(name)
        if len(bindings) != 1 or found is None:
            return None
        return UrlSource(found[0], found[1], ix.module, name)


class UrlSource(NamedTuple):
    """Where a URL a name holds is written."""

    origin: str  # "literal" or "environment"
    scheme: str  # of the literal as written: "postgresql", "sqlite+pysqlite"
    module: str  # where it is written
    name: str  # the name assigned it there
