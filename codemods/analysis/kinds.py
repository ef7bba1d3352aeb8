"""What kind of SQLAlchemy object each name holds: session, factory, engine, connection, …

Followed through assignments, `with` targets, annotations, call sites, pytest fixtures and
imports across modules.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from .. import api_surface as api
from ..index import (
    ALIAS,
    CALL,
    ENTER,
    PARAM,
    QUERY,
    TYPE,
    VALUE,
    Binding,
    FunctionInfo,
    ModuleIndex,
)
from .evidence import Evidence
from .models import Models
from .project import PROPERTY_DECORATORS, Project


class ObjKind(str, enum.Enum):
    SESSION = "session"
    FACTORY = "sessionmaker"
    ENGINE = "engine"
    CONNECTION = "connection"
    ENTITY = "entity"  # a mapped class or an aliased() of one
    TRANSACTION = "transaction"  # from session.begin() / connection.begin()
    FLASK_DB = "flask_sqlalchemy"  # `db = SQLAlchemy(app)`
    FLASK_SESSION = "flask_session"  # `db.session`: sync, no async counterpart


# What an annotation naming one of these classes declares.
_DECLARED_KINDS = ((api.SESSION_CLASSES | api.ASYNC_SESSION_CLASSES | api.SCOPED_SESSIONS,
                    ObjKind.SESSION),  # a scoped_session registry proxies its session
                   (api.SESSIONMAKERS | api.ASYNC_SESSIONMAKERS, ObjKind.FACTORY),
                   (api.ENGINE_CLASSES, ObjKind.ENGINE),
                   (api.CONNECTION_CLASSES, ObjKind.CONNECTION))
# What calling one of these returns.
_CALL_RESULT_KINDS = ((api.SESSION_CLASSES | api.ASYNC_SESSION_CLASSES | api.SCOPED_SESSIONS
                       | api.OBJECT_SESSIONS | api.ASYNC_OBJECT_SESSIONS,
                       ObjKind.SESSION),  # a scoped_session registry proxies its session
                      (api.SESSIONMAKERS | api.ASYNC_SESSIONMAKERS, ObjKind.FACTORY),
                      (api.ENGINE_FACTORIES | api.CONFIG_ENGINE_FACTORIES
                       | api.ASYNC_ENGINE_FACTORIES, ObjKind.ENGINE),
                      (api.ALIASED, ObjKind.ENTITY),
                      (api.FLASK_SQLALCHEMY, ObjKind.FLASK_DB))


_UNTYPED = frozenset({"typing", "typing_extensions", "object", "None"})


def _kind_of(qualified: str, table: tuple[tuple[frozenset[str], ObjKind], ...]
             ) -> ObjKind | None:
    return next((kind for names, kind in table if qualified in names), None)


class Kinds:
    """`kind(ix, scope, name)` and what it is built from (state-free, cached)."""

    def __init__(self, project: Project, models: Models) -> None:
        self.project, self.models = project, models
        self.evidence = Evidence(project, models, lambda ix, scope, binding: self._binding_kind(
            ix, scope, binding) is ObjKind.SESSION)
        self._kinds: dict[tuple[str, str, str], ObjKind | None] = {}

    def kind(self, ix: ModuleIndex, scope: str, dotted: str) -> ObjKind | None:
        """The kind of SQLAlchemy object a name (or `self.attr`) holds in `scope` of `ix`:
        what its bindings say, else what `.query(MappedClass)` calls on it show."""
        found = self._bound_kind(ix, scope, dotted)
        if found is None and not self._typed(ix, scope, dotted) and (
                self.evidence.shows_session(ix, scope, dotted)):
            return ObjKind.SESSION
        return found

    def is_session_registry(self, ix: ModuleIndex, scope: str, name: str) -> bool:
        """`name` holds a `scoped_session(...)` registry (an `async_scoped_session` once
        migrated), which proxies the session's methods but not `run_sync`."""
        bindings = self.project.bindings(ix, scope, name)
        if not bindings and "." not in name:
            found = self.project.lookup(ix.qualify(name)) if name in ix.imports else None
            return found is not None and "." not in found[1] and self.is_session_registry(
                found[0], "", found[1])
        registries = api.SCOPED_SESSIONS | api.ASYNC_SCOPED_SESSIONS
        return any(b.origin == CALL and b.targets and self.project.qualify(
            ix, b.targets[0]) in registries for b in bindings)

    def _typed(self, ix: ModuleIndex, scope: str, dotted: str) -> bool:
        """A binding says what the name holds (an annotation, an instance of a project
        class): `.query(...)` calls on it then prove nothing."""
        declared = "." not in dotted and self._declared_type(
            ix, self.project.bindings(ix, scope, dotted))
        return bool(declared) or self.project.instance_class(ix, scope, dotted) is not None

    def _declared_type(self, ix: ModuleIndex, bindings: list[Binding]) -> list[str]:
        """The names of the annotation the bindings declare, unless it says nothing (`Any`,
        `object`, `Optional[Any]`)."""
        names = [t for b in bindings if b.origin == PARAM for t in b.targets]
        return [] if all(self.project.qualify(ix, n).partition(".")[0] in _UNTYPED
                         for n in names) else names

    def _bound_kind(self, ix: ModuleIndex, scope: str, dotted: str) -> ObjKind | None:
        head, _, attr = dotted.partition(".")
        if head == "self" and attr and "." not in attr:
            return self._attribute_kind(ix, scope, attr)
        key = (ix.module, scope, dotted)
        if key in self._kinds:
            return self._kinds[key]
        self._kinds[key] = None  # recursion guard: a cycle proves nothing
        result = self._dotted_kind(ix, scope, dotted) if "." in dotted else (
            self._kind_uncached(ix, scope, dotted))
        self._kinds[key] = result
        return result

    def _dotted_kind(self, ix: ModuleIndex, scope: str, dotted: str) -> ObjKind | None:
        """`db.session`, `module.engine`, `holder.session` (`holder` an instance of a project
        class whose attribute says what it holds)."""
        head, _, attr = dotted.partition(".")
        if attr == "session" and self.kind(ix, scope, head) is ObjKind.FLASK_DB:
            return ObjKind.FLASK_SESSION
        # (a name neither imported nor the module's is a local variable, also where it
        # shares a module's name: `catalog = Catalog()` in catalog.py)
        found = self.project.lookup(self.project.qualify(ix, dotted)) if (
            head in ix.imports or head in ix.module_names) else None
        if found and "." not in found[1]:
            return self.kind(found[0], "", found[1])
        receiver, _, name = dotted.rpartition(".")
        cls = self.project.instance_class(ix, scope, receiver)  # `holder.session`
        return next(filter(None, (self._declared_attribute_kind(m, c, name)
                                  for m, c in self.project.lineage(cls))), None) if (
            cls) else None

    def _attribute_kind(self, ix: ModuleIndex, scope: str, attr: str) -> ObjKind | None:
        """`self.attr` in a method: what the methods of the class (or of a project base)
        assign to it, what the class declares, or what a property of that name returns."""
        owner = self.project.owner_class(ix, scope)
        if owner is None:
            return None
        key = (ix.module, f"{owner}#", attr)
        if key in self._kinds:
            return self._kinds[key]
        self._kinds[key] = None
        result = None
        for module, cls in self.project.lineage((ix, owner)):
            result = self._declared_attribute_kind(module, cls, attr)
            if result is not None:
                break
        self._kinds[key] = result
        return result

    def _declared_attribute_kind(self, ix: ModuleIndex, owner: str, attr: str
                                 ) -> ObjKind | None:
        for method_scope, binding in ix.attribute_bindings.get(owner, []):
            if binding.name == attr:
                result = self._binding_kind(ix, method_scope, binding)
                if result is not None:
                    return result
        declared = self.project.bound_in(ix, owner, attr)
        result = self.annotation_kind(ix, [t for b in declared for t in b.targets])
        prop = ix.functions.get(f"{owner}.{attr}")
        if result is None and prop is not None and any(
                d.rpartition(".")[2] in PROPERTY_DECORATORS for d in prop.decorators):
            result = self.annotation_kind(ix, prop.returns) or next(filter(None, (
                self.kind(ix, prop.qualname, p) for p in prop.produces
                if not p.endswith("()"))), None)
        return result

    def _kind_uncached(self, ix: ModuleIndex, scope: str, name: str) -> ObjKind | None:
        bindings = self.project.bindings(ix, scope, name)
        declared = self._declared_type(ix, bindings)
        if declared:
            return self.annotation_kind(ix, declared)  # a declared type wins over any guess
        kinds = {kind for binding in bindings
                 if (kind := self._binding_kind(ix, scope, binding)) is not None}
        if bindings:  # a name holding an engine here and a session there: the tool cannot
            return kinds.pop() if len(kinds) == 1 else None  # tell which one a use reads
        qualified = ix.qualify(name)
        if qualified != name:
            found = self.project.lookup(qualified)
            if found and "." not in found[1]:
                return self.kind(found[0], "", found[1])
        return None

    def made_unknown(self, ix: ModuleIndex, scope: str, name: str
                     ) -> tuple[str, list[Binding]]:
        """The scope binding `name` as seen from `scope` and the calls binding it there (`s =
        make()`, `with make() as s`) when only the `.query(...)` calls made on it show it to
        be a session: every other binding is such a call, giving nothing the tool knows, or
        a plain value (`archive = None`, set by `global archive` later). Empty otherwise."""
        project = self.project
        found_in = project.binding_scope(ix, scope, name)
        bindings = project.bound_in(ix, found_in, name) if found_in is not None else []
        if found_in and all(b.origin == QUERY for b in bindings):
            # queried here, bound around it: `archive = open_archive()` at module level
            found_in = project.binding_scope(ix, found_in.rpartition(".")[0], name)
            bindings = [*bindings, *(project.bound_in(ix, found_in, name)
                                     if found_in is not None else ())]
        made = [b for b in bindings if b.origin in (CALL, ENTER)]
        if found_in is None or not made or not any(b.origin == QUERY for b in bindings) or any(
                b.origin not in (CALL, ENTER, VALUE, QUERY) for b in bindings) or any(
                    self._binding_kind(ix, found_in, b) is not None for b in made):
            return "", []
        return found_in, made

    def _binding_kind(self, ix: ModuleIndex, scope: str, binding: Binding) -> ObjKind | None:
        if binding.origin in (VALUE, TYPE):
            return None
        if binding.origin == ALIAS:
            return self.kind(ix, scope, binding.targets[0])
        if binding.origin == QUERY:
            return ObjKind.SESSION if self.models.queried_entity(
                ix, scope, binding.targets[0]) else None
        if binding.origin == PARAM:
            return (self.annotation_kind(ix, binding.targets)
                    or self._param_kind_from_callers(ix, scope, binding.name)
                    or self._fixture_kind(ix, scope, binding.name)
                    or (binding.default and self._default_kind(ix, scope.rpartition(".")[0],
                                                               binding.default)) or None)
        return self.call_result_kind(ix, scope, binding.targets[0], entered=binding.origin == ENTER)

    def _default_kind(self, ix: ModuleIndex, scope: str, default: str) -> ObjKind | None:
        """What a parameter's default gives it: the value a name holds, or what FastAPI's
        `Depends(get_db)` injects (what `get_db` returns or yields)."""
        marker, _, dependency = default.removesuffix(")").partition("(")
        if not dependency:
            return self.kind(ix, scope, default)
        if self.project.qualify(ix, marker) not in api.DEPENDENCIES:
            return None
        return self.call_result_kind(ix, scope, dependency, entered=True)

    def annotation_kind(self, ix: ModuleIndex, names: Iterable[str], depth: int = 0
                        ) -> ObjKind | None:
        """The kind an annotation (`Session`, `Optional[Engine]`, a subclass of Session, a type
        alias such as `SessionDep = Annotated[Session, Depends(get_db)]`) declares."""
        for name in names:
            kind = _kind_of(self.project.qualify(ix, name), _DECLARED_KINDS) or (
                self._class_kind(ix, name, _DECLARED_KINDS))
            if kind is None and depth < 8:
                alias = self._type_alias(ix, name)
                kind = alias and self.annotation_kind(alias[0], alias[1], depth + 1)
            if kind is None and self.kind(ix, "", name) is ObjKind.FACTORY:
                kind = ObjKind.SESSION  # `db: SessionLocal`: the factory names its sessions
            if kind is not None:
                return kind
        return None

    def _type_alias(self, ix: ModuleIndex, name: str) -> tuple[ModuleIndex, tuple[str, ...]] | None:
        """The names a module-level type alias stands for, wherever it is defined."""
        found = self.project.lookup(self.project.qualify(ix, name))
        if found is None or "." in found[1]:
            return None
        module, local = found
        targets = [t for b in self.project.bound_in(module, "", local) if b.origin in (TYPE, ALIAS)
                   for t in b.targets]
        return (module, tuple(targets)) if targets else None

    def _class_kind(self, ix: ModuleIndex, dotted: str,
                    table: tuple[tuple[frozenset[str], ObjKind], ...]) -> ObjKind | None:
        """What instances of a project class are, through its bases (`class AppDB(SQLAlchemy)`,
        `class TenantSession(Session)`)."""
        return next(filter(None, (_kind_of(a, table) for a in self.project.ancestors(ix, dotted))),
                    None)

    def call_result_kind(self, ix: ModuleIndex, scope: str, callee: str,
                         entered: bool = False) -> ObjKind | None:
        """What `callee(...)` returns (or, with `entered`, what `with callee(...) as x` binds)."""
        if callee.endswith("()"):  # `sessionmaker(bind=engine)()`: calling what a call gave
            made = self.call_result_kind(ix, scope, callee[:-2])
            return ObjKind.SESSION if made in (ObjKind.FACTORY, ObjKind.SESSION) else None
        kind = _kind_of(self.project.qualify(ix, callee), _CALL_RESULT_KINDS) or (
            self._class_kind(ix, callee, _CALL_RESULT_KINDS))
        if kind is not None:
            return kind
        function = self.project.resolve_function(ix, scope, callee)
        if function is not None:  # a project function: what its return annotation says
            target = self.project.modules[function[0]]
            info = target.functions[function[1]]
            if info.is_generator:
                return self.annotation_kind(target, info.returns) or (
                    self._yielded_kind(target, info) if entered else None)
            return self.annotation_kind(target, info.returns) or (
                None if info.returns else self._returned_kind(target, info))
        receiver, _, method = callee.rpartition(".")
        if self.kind(ix, scope, callee) in (ObjKind.FACTORY, ObjKind.SESSION):
            return ObjKind.SESSION  # `SessionLocal()`, `self.session_factory()`, `Scoped()`
        if not receiver:
            return None
        receiver_kind = self.kind(ix, scope, receiver)
        if receiver_kind is ObjKind.FACTORY and method == "begin" and entered:
            return ObjKind.SESSION
        if receiver_kind is ObjKind.ENGINE and method in api.ENGINE_CONTEXTS:
            return ObjKind.CONNECTION
        if receiver_kind is ObjKind.SESSION and method == "connection":
            return ObjKind.CONNECTION
        if receiver_kind in (ObjKind.SESSION, ObjKind.CONNECTION) and method in api.STARTABLES:
            return ObjKind.TRANSACTION
        return None

    def _returned_kind(self, ix: ModuleIndex, info: FunctionInfo) -> ObjKind | None:
        """What an unannotated function returns, when every return says the same: a session
        (`return Session(engine)`), an engine, ... (`produces` lists what it returns)."""
        key = (ix.module, info.qualname, "<returns>")
        if key in self._kinds:
            return self._kinds[key]
        self._kinds[key] = None  # recursion guard: functions returning each other's calls
        kinds = {self._produced_kind(ix, info.qualname, p) for p in info.produces}
        result = kinds.pop() if len(kinds) == 1 and info.produces else None
        self._kinds[key] = result
        return result

    def _produced_kind(self, ix: ModuleIndex, scope: str, produced: str) -> ObjKind | None:
        """What a returned or yielded value (`produces`: a name, or `f()`) is."""
        return self.call_result_kind(ix, scope, produced[:-2]) if produced.endswith(
            "()") else self.kind(ix, scope, produced)

    def _yielded_kind(self, ix: ModuleIndex, info: FunctionInfo) -> ObjKind | None:
        """What an unannotated generator yields (`yield db` after `db = SessionLocal()`)."""
        return next(filter(None, (self.kind(ix, info.qualname, p) for p in info.produces
                                  if not p.endswith("()"))), None)

    def _param_kind_from_callers(self, ix: ModuleIndex, scope: str,
                                 name: str) -> ObjKind | None:
        if scope not in ix.functions:
            return None
        ref = (ix.module, scope)
        for caller_ix, site in self.project.callers(ref):
            arg = self.project.argument_for(site, ref, name)
            if arg is not None:
                if arg in caller_ix.sync_sessions.get(site.scope, ()):
                    return ObjKind.SESSION  # `run_sync(lambda s: f(s))`: the sync Session
                kind = self.kind(caller_ix, site.scope, arg)
                if kind in (ObjKind.SESSION, ObjKind.ENGINE, ObjKind.CONNECTION):
                    return kind
        # `session.run_sync(f, ...)` hands f the sync Session first (a method: after self)
        info = ix.functions[scope]
        first = info.params[1:2] if info.owner_class is not None else info.params[:1]
        if first == (name,) and self.project.run_sync_callers(ref):
            return ObjKind.SESSION
        return None

    def is_fixture(self, ix: ModuleIndex, function: str) -> bool:
        return self.project.is_fixture(ix, function)

    def _fixture_kind(self, ix: ModuleIndex, scope: str, name: str) -> ObjKind | None:
        """A test's or fixture's parameter holds what the fixture of that name provides."""
        found = self.project.fixture_for(ix, scope, name)
        if found is None:
            return None
        module, fixture = found
        for produced in module.functions[fixture].produces:
            kind = self._produced_kind(module, fixture, produced)
            if kind is not None:  # (`yield sessionmaker(bind=engine)`: a factory)
                return kind
        return None

    def flask_db(self, class_qualname: str) -> str | None:
        """For a `db.Model` class (also through abstract bases): the qualified name of its
        `db = SQLAlchemy()` object (here, not in models.py, because it asks what kind of
        object `db` is)."""
        module_name, _, name = class_qualname.rpartition(".")
        module = self.project.modules.get(module_name)
        if class_qualname not in self.models.mapped_classes or module is None:
            return None
        for ancestor in self.project.ancestors(module, name):
            owner, _, attr = ancestor.rpartition(".")
            found = self.project.lookup(owner) if attr == "Model" else None
            if found and self.kind(found[0], "", found[1]) is ObjKind.FLASK_DB:
                return f"{found[0].module}.{found[1]}" if found[0].module else found[1]
        return None

    def custom_query(self, class_qualname: str) -> tuple[str, frozenset[str]] | None:
        """A Flask-SQLAlchemy model queried through a project Query subclass (`query_class`
        on the model or a base, or `SQLAlchemy(query_class=...)`): its name and the methods
        it defines."""
        module_name, _, name = class_qualname.rpartition(".")
        module = self.project.modules.get(module_name)
        if module is None:
            return None
        cls = next(((m, f"{c}.{m.classes[c].query_class}") if (  # a class nested in the model
            f"{c}.{m.classes[c].query_class}" in m.classes) else self.project.resolve_class(
            m, m.classes[c].query_class) for m, c in self.project.lineage((module, name))
            if m.classes[c].query_class), None)
        db = None if cls else self.flask_db(class_qualname)
        owner = db and self.project.modules.get(db.rpartition(".")[0])
        if owner and (chosen := owner.query_classes.get(db.rpartition(".")[2])):
            cls = self.project.resolve_class(owner, chosen)
        if not cls:
            return None
        methods = {q[len(c) + 1:] for m, c in self.project.lineage(cls) for q in m.functions
                   if q.startswith(f"{c}.") and "." not in q[len(c) + 1:]}
        return cls[1].rpartition(".")[2], frozenset(m for m in methods if not m.startswith("__"))
