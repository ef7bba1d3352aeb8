"""Pure decisions over the project index: what each name is, which functions become async.

Nothing here reads files. A `Plan` answers the questions the rewrite rules ask:
- what kind of SQLAlchemy object a name holds in a scope (session, factory, engine, …),
  following assignments, `with` targets, annotations, call sites and imports across modules;
- which classes are mapped, and their relationships;
- which function a call refers to, and which functions must become `async def`.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Iterable
from dataclasses import dataclass, field

from .. import api_surface as api
from ..index import (
    ALIAS,
    CALL,
    ENTER,
    PARAM,
    QUERY,
    VALUE,
    Binding,
    CallSite,
    ClassInfo,
    ModuleIndex,
    RelationshipInfo,
    ReturnedQuery,
)


class ObjKind(str, enum.Enum):
    SESSION = "session"
    FACTORY = "sessionmaker"
    ENGINE = "engine"
    CONNECTION = "connection"
    ENTITY = "entity"  # a mapped class or an aliased() of one
    TRANSACTION = "transaction"  # from session.begin() / connection.begin()
    FLASK_DB = "flask_sqlalchemy"  # `db = SQLAlchemy(app)`
    FLASK_SESSION = "flask_session"  # `db.session`: sync, no async counterpart


FunctionRef = tuple[str, str]  # (module, qualname)

# Builtins read no relationship of their arguments (printing reads what __repr__ reads, which
# SQA401 reports on the model); container methods only store objects.
_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))
# Calls that convert their arguments to text, and the method that conversion runs.
CONVERTING_BUILTINS = {"print": "__str__", "str": "__str__", "format": "__str__",
                        "repr": "__repr__"}
_LOGGING_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception",
                              "critical", "log"})
# Decorators that make reading an attribute run the method's body.
_PROPERTIES = frozenset({"property", "cached_property", "hybrid_property"})
_STORING = frozenset({"append", "extend", "add", "insert", "appendleft", "put", "setdefault",
                      "update", "remove", "discard"})

# Functions Python cannot make `async def` without changing how they are called.
_SYNC_ONLY_DECORATORS = frozenset({"property", "cached_property", "functools.cached_property",
                                   "validates", "hybrid_property", "setter", "getter"})


# What an annotation naming one of these classes declares.
_DECLARED_KINDS = ((api.SESSION_CLASSES | api.ASYNC_SESSION_CLASSES, ObjKind.SESSION),
                   (api.ENGINE_CLASSES, ObjKind.ENGINE),
                   (api.CONNECTION_CLASSES, ObjKind.CONNECTION))
# What calling one of these returns.
_CALL_RESULT_KINDS = ((api.SESSION_CLASSES | api.ASYNC_SESSION_CLASSES | api.SCOPED_SESSIONS,
                       ObjKind.SESSION),  # a scoped_session registry proxies its session
                      (api.SESSIONMAKERS | api.ASYNC_SESSIONMAKERS, ObjKind.FACTORY),
                      (api.ENGINE_FACTORIES | api.ASYNC_ENGINE_FACTORIES, ObjKind.ENGINE),
                      (api.ALIASED, ObjKind.ENTITY),
                      (api.FLASK_SQLALCHEMY, ObjKind.FLASK_DB))


def _kind_of(qualified: str, table: tuple[tuple[frozenset[str], ObjKind], ...]
             ) -> ObjKind | None:
    return next((kind for names, kind in table if qualified in names), None)


@dataclass(frozen=True)
class HelperShape:
    """What the select() a query helper returns holds (see `Plan.query_helpers`)."""

    entities: tuple[str | None, ...]  # qualified mapped class per element (None: column/alias)
    is_entity: tuple[bool, ...]
    may_repeat_entities: bool
    joined: bool
    session_param: str


# Frameworks that call a function synchronously (SQA305 keeps a sync wrapper for them).
_SYNC_FRAMEWORKS = frozenset({"click.command", "click.group", "celery.shared_task",
                              "dramatiq.actor", "rq.job"})
_FRAMEWORK_FACTORIES = frozenset({"click.Group", "click.group", "typer.Typer", "celery.Celery"})
_FRAMEWORK_METHODS = frozenset({"command", "group", "task", "callback"})

# Steps a caller may chain on a helper's query, and the terminals that run it.
_HELPER_STEPS = frozenset({"filter", "where", "order_by", "limit", "offset", "slice", "options",
                           "distinct", "join", "outerjoin", "group_by", "having"})
_HELPER_TERMINALS = frozenset({"all", "first", "one", "one_or_none", "scalar", "count"})


def _usage_followed(usage: str) -> bool:
    """Chained steps the rewrite knows, ending in a terminal or iterated by a `for`."""
    methods, _, end = usage.partition("|")
    steps = methods.split(".") if methods else []
    if steps and steps[-1] in _HELPER_TERMINALS:
        steps = steps[:-1]
    elif end != "for":
        return False
    return all(step in _HELPER_STEPS for step in steps)


def _scope_chain(scope: str) -> list[str]:
    parts = scope.split(".") if scope else []
    return [".".join(parts[:i]) for i in range(len(parts), -1, -1)]


@dataclass
class Plan:
    modules: dict[str, ModuleIndex]
    _kinds: dict[tuple[str, str, str], ObjKind | None] = field(default_factory=dict)
    _callers: dict[FunctionRef, list[tuple[ModuleIndex, CallSite]]] | None = None
    _run_sync_callers: dict[FunctionRef, list[tuple[ModuleIndex, CallSite]]] | None = None
    _mapped: dict[str, ClassInfo] | None = None
    _schemas: set[str] | None = None
    _model_parameter_scopes: dict[str, set[str]] = field(default_factory=dict)
    # Functions outside an incremental run's selection that do sync session I/O (or call such
    # functions): migrated code calls them through `session.run_sync`.
    legacy: set[FunctionRef] = field(default_factory=set)
    _calls_by_scope: dict[tuple[str, str], list[CallSite]] | None = None
    context: set[str] = field(default_factory=set)  # modules outside an incremental selection
    console_scripts: set[FunctionRef] = field(default_factory=set)  # [project.scripts] targets
    # functions left synchronous because they keep legacy code (callers use run_sync)
    keep_sync: set[FunctionRef] = field(default_factory=set)
    _helpers: dict[FunctionRef, HelperShape] | None = None

    @classmethod
    def build(cls, indexes: Iterable[ModuleIndex]) -> Plan:
        return cls(modules={ix.module: ix for ix in indexes})

    # -- name resolution across modules ---------------------------------------------------------
    def lookup(self, qualified: str, depth: int = 0) -> tuple[ModuleIndex, str] | None:
        """The project module and top-level name a qualified name points to (following imports)."""
        parts = qualified.split(".")
        for cut in range(len(parts) - 1, -1, -1):
            module = ".".join(parts[:cut])
            if module in self.modules:
                ix = self.modules[module]
                name = ".".join(parts[cut:])
                head = name.split(".")[0]
                if head in ix.imports and head not in ix.module_names and depth < 8:
                    return self.lookup(ix.qualify(name), depth + 1)
                return ix, name
        return None

    def qualify(self, ix: ModuleIndex, dotted: str) -> str:
        """Qualified name, with project re-exports followed to the defining module."""
        qualified = ix.qualify(dotted)
        found = self.lookup(qualified)
        if found and found[0].module:
            return f"{found[0].module}.{found[1]}"
        return qualified

    # -- mapped classes -------------------------------------------------------------------------
    @property
    def mapped_classes(self) -> dict[str, ClassInfo]:
        """Every mapped class of the project by qualified name."""
        if self._mapped is None:
            self._mapped = self._find_mapped()
        return self._mapped

    def _find_mapped(self) -> dict[str, ClassInfo]:
        classes = {self._qualname(ix, c.qualname): (ix, c)
                   for ix in self.modules.values() for c in ix.classes.values()}
        bases: set[str] = set(api.DECLARATIVE_BASE_CLASSES)  # declarative bases and mixins
        for ix in self.modules.values():
            for binding in ix.bindings.get("", []):
                if binding.origin == CALL and self.qualify(ix, binding.targets[0]) in (
                        api.DECLARATIVE_BASE_FACTORIES):
                    bases.add(self._qualname(ix, binding.name))
                elif binding.origin == CALL and self.qualify(ix, binding.targets[0]) in (
                        api.FLASK_SQLALCHEMY):
                    bases.add(f"{self._qualname(ix, binding.name)}.Model")  # class X(db.Model)
        sqlmodels = {api.SQLMODEL_BASE}  # SQLModel data models (no table)
        mapped: dict[str, ClassInfo] = {}
        changed = True
        while changed:
            changed = False
            for name, (ix, info) in classes.items():
                if name in bases or name in sqlmodels or name in mapped:
                    continue
                parents = [self.qualify(ix, b) for b in info.bases]
                if any(p in sqlmodels for p in parents):
                    if info.keywords.get("table") == "True":
                        mapped[name] = info
                    else:
                        sqlmodels.add(name)
                elif any(p in api.DECLARATIVE_BASE_CLASSES for p in parents) or (
                        info.abstract and any(p in bases for p in parents)):
                    bases.add(name)  # `class Base(DeclarativeBase)`, an abstract base
                elif any(p in bases or p in mapped for p in parents):
                    mapped[name] = info
                else:
                    continue
                changed = True
        self._add_backrefs(mapped)
        return mapped

    @property
    def schema_classes(self) -> set[str]:
        """Project pydantic models (and SQLModel models without a table) by qualified name."""
        if self._schemas is None:
            classes = {self._qualname(ix, c.qualname): (ix, c)
                       for ix in self.modules.values() for c in ix.classes.values()}
            found = {api.PYDANTIC_BASE, api.SQLMODEL_BASE}
            changed = True
            while changed:
                changed = False
                for name, (ix, info) in classes.items():
                    if name not in found and name not in self.mapped_classes and any(
                            self.qualify(ix, base) in found for base in info.bases):
                        found.add(name)
                        changed = True
            self._schemas = found - {api.PYDANTIC_BASE, api.SQLMODEL_BASE}
        return self._schemas

    def schema_reads(self, class_qualname: str, depth: int = 0) -> set[str]:
        """What building the schema from an object reads on it (`from_attributes`): its
        fields, the fields of nested schemas below them, inherited fields."""
        found = self.lookup(class_qualname)
        if class_qualname not in self.schema_classes or found is None or depth > 4:
            return set()
        ix, cls = found
        chains: set[str] = set()
        for binding in ix.bindings.get(cls, []):
            if binding.origin != PARAM or binding.name.startswith("_") or (
                    binding.name == "model_config"):
                continue
            chains.add(binding.name)
            for nested in {self.qualify(ix, t) for t in binding.targets} - {class_qualname}:
                chains |= {f"{binding.name}.{c}" for c in self.schema_reads(nested, depth + 1)}
        for base in ix.classes[cls].bases:
            chains |= self.schema_reads(self.qualify(ix, base), depth + 1)
        return chains

    def response_schema_reads(self, ref: FunctionRef) -> set[str]:
        """What FastAPI reads on a route's return value to build its response: the fields
        of its `response_model=` (or of the return annotation) when that is a project
        schema."""
        ix = self.modules[ref[0]]
        info = ix.functions[ref[1]]
        if not any(d.rpartition(".")[2] in api.ROUTE_METHODS and "." in d
                   for d in info.decorators):
            return set()
        return {c for name in info.response_model or info.returns
                for c in self.schema_reads(self.qualify(ix, name))}

    def _add_backrefs(self, mapped: dict[str, ClassInfo]) -> None:
        """`relationship("Address", backref="user")` also maps `Address.user`."""
        self._mapped = mapped  # relationship_target looks the classes up
        for name, info in mapped.items():
            for rel in list(info.relationships.values()):
                target = self.relationship_target(name, rel.attr) if rel.backref else None
                if target is None or rel.backref in mapped[target].relationships:
                    continue
                uselist = True if rel.secondary else (
                    None if rel.uselist is None else not rel.uselist)
                mapped[target].relationships[rel.backref] = RelationshipInfo(
                    rel.backref, name, uselist, rel.backref_lazy)

    @staticmethod
    def _qualname(ix: ModuleIndex, name: str) -> str:
        return f"{ix.module}.{name}" if ix.module else name

    def mapped_class(self, ix: ModuleIndex, scope: str, dotted: str, depth: int = 0
                     ) -> str | None:
        """Qualified name of the mapped class `dotted` names (aliases: see `is_alias`)."""
        for binding in self._bindings(ix, scope, dotted):
            if binding.origin == CALL and self.qualify(ix, binding.targets[0]) in api.ALIASED:
                continue  # aliases resolved by the caller through `aliased_class`
            if binding.origin == ALIAS and depth < 8:
                if binding.targets[0] == dotted:  # `X = X` in a class body: the outer X
                    found_in = self.binding_scope(ix, scope, dotted) or ""
                    return self.mapped_class(ix, found_in.rpartition(".")[0], dotted,
                                             depth + 1) if found_in else None
                return self.mapped_class(ix, scope, binding.targets[0], depth + 1)
            return None
        qualified = self.qualify(ix, dotted)
        return qualified if qualified in self.mapped_classes else None

    def is_alias(self, ix: ModuleIndex, scope: str, name: str) -> bool:
        return any(b.origin == CALL and self.qualify(ix, b.targets[0]) in api.ALIASED
                   for b in self._bindings(ix, scope, name))

    def flask_db(self, class_qualname: str) -> str | None:
        """For a `db.Model` class: the qualified name of its `db = SQLAlchemy()` object."""
        info = self.mapped_classes.get(class_qualname)
        module = self.modules.get(class_qualname.rpartition(".")[0])
        if info is None or module is None:
            return None
        for base in info.bases:
            qualified = self.qualify(module, base)
            owner, _, attr = qualified.rpartition(".")
            if attr == "Model":
                found = self.lookup(owner)
                if found and self.kind(found[0], "", found[1]) is ObjKind.FLASK_DB:
                    return f"{found[0].module}.{found[1]}" if found[0].module else found[1]
            if qualified in self.mapped_classes:  # a subclass of another db.Model class
                return self.flask_db(qualified)
        return None

    def relationship_target(self, class_qualname: str, attr: str) -> str | None:
        """Qualified mapped class a relationship points to, if it can be resolved."""
        info = self.mapped_classes.get(class_qualname)
        rel = info.relationships.get(attr) if info else None
        if rel is None or rel.target is None:
            return None
        module = class_qualname.rpartition(".")[0]
        ix = self.modules.get(module)
        if ix is not None:
            qualified = self.qualify(ix, rel.target)
            if qualified in self.mapped_classes:
                return qualified
        simple = rel.target.rpartition(".")[2]
        same_name = [q for q in self.mapped_classes if q.rpartition(".")[2] == simple]
        return same_name[0] if len(same_name) == 1 else None

    @property
    def dialects_without_returning(self) -> set[str]:
        """Dialects of the project's URL literals that have no INSERT ... RETURNING, so server
        defaults are expired after a flush (reference §6.2 #9a; MariaDB has it from 10.5)."""
        return {d for ix in self.modules.values() for d in ix.url_dialects if d == "mysql"}

    def loader(self, class_qualname: str, attr: str) -> str:
        """The loader option for one hop: `selectinload` for collections, `joinedload` for
        many-to-one (reference §6.3), `undefer` for a deferred column."""
        relationship = self.mapped_classes[class_qualname].relationships.get(attr)
        if relationship is None:
            return "undefer"
        return "joinedload" if relationship.uselist is False else "selectinload"

    def loads_implicitly(self, class_qualname: str, attr: str) -> bool:
        """Reading the relationship may emit a lazy load: not eager, dynamic or raising."""
        info = self.mapped_classes.get(class_qualname)
        relationship = info.relationships.get(attr) if info else None
        return relationship is not None and relationship.lazy in (None, "select", "True")

    def joined_collections(self, class_qualname: str) -> bool:
        """True when the mapper eagerly joins a collection (rows repeat: `.unique()` required)."""
        info = self.mapped_classes.get(class_qualname)
        return info is not None and any(
            r.lazy == "joined" and r.uselist is not False for r in info.relationships.values())

    # -- helpers returning a query ---------------------------------------------------------------
    @property
    def query_helpers(self) -> dict[FunctionRef, HelperShape]:
        """Functions returning a legacy query that callers chain on and run: each becomes a
        function returning a `select()`, executed at its call sites (all rewritten in this
        run, all using it in a way the rewrite can follow)."""
        if self._helpers is None:
            self._helpers = {}
            for ix in self.modules.values():
                if ix.module in self.context:
                    continue
                for qualname, info in ix.functions.items():
                    if info.returned_query is None:
                        continue
                    ref = (ix.module, qualname)
                    shape = self._helper_shape(ix, qualname, info.returned_query)
                    callers = self.callers(ref)
                    if shape and callers and all(
                            caller.module not in self.context and _usage_followed(site.usage)
                            for caller, site in callers):
                        self._helpers[ref] = shape
        return self._helpers

    def _helper_shape(self, ix: ModuleIndex, scope: str,
                      query: ReturnedQuery) -> HelperShape | None:
        if any(step not in _HELPER_STEPS for step in query.steps):
            return None  # it runs the query (`.all()`) or uses a step the rewrite won't follow
        entities: list[str | None] = []
        is_entity: list[bool] = []
        for arg in query.args:
            if arg is None:
                return None  # an expression the index cannot classify
            mapped = self.mapped_class(ix, scope, arg)
            owner = arg.rpartition(".")[0]
            if mapped or self.is_alias(ix, scope, arg):
                entities.append(mapped)
                is_entity.append(True)
            elif owner and (self.mapped_class(ix, scope, owner) or self.is_alias(ix, scope,
                                                                                   owner)):
                entities.append(None)
                is_entity.append(False)
            else:
                return None
        joined = any(step in ("join", "outerjoin") for step in query.steps)
        repeats = any(is_entity) and (joined or "options" in query.steps or any(
            e is None or self.joined_collections(e) for e, flag in zip(
                entities, is_entity, strict=True) if flag))
        return HelperShape(tuple(entities), tuple(is_entity), repeats, joined,
                           query.session_param)

    # -- relationship loading -------------------------------------------------------------------
    def relationship_paths(self, class_qualname: str, chain: str) -> list[tuple[str, ...]]:
        """The relationship hops an attribute chain walks from a class: "lines.book.title" on
        Order → [(Order, lines), (OrderLine, book)] as qualified "Class.attr" names."""
        hops: list[tuple[str, ...]] = []
        current = class_qualname
        for attr in chain.split("."):
            info = self.mapped_classes.get(current)
            if info is None or attr not in info.relationships:
                break
            hops.append((current, attr))
            target = self.relationship_target(current, attr)
            if target is None:
                break
            current = target
        return hops

    def implicit_reads(self, class_qualname: str, chains: Iterable[str], depth: int = 0
                       ) -> set[str]:
        """`chains` plus what they run implicitly: `order.total` where `total` is a property
        reading `self.lines.quantity` adds "lines.quantity"; `print(order)` (chain
        "__str__") adds what `__str__`, else `__repr__`, reads on self. Followed along
        relationship hops, so "customer.__repr__" expands on the customer's class."""
        expanded = set(chains)
        for chain in chains:
            hops = self.relationship_paths(class_qualname, chain)
            parts = chain.split(".")
            if len(parts) <= len(hops) or depth > 3:
                continue
            owner = self.relationship_target(*hops[-1]) if hops else class_qualname
            member = parts[len(hops)]
            reads = self._member_reads(owner, member) if owner else None
            if reads:
                prefix = ".".join(parts[:len(hops)])
                inner = self.implicit_reads(owner, reads, depth + 1)
                expanded |= {".".join(filter(None, (prefix, c))) for c in inner}
        return expanded

    def _member_reads(self, class_qualname: str, member: str) -> set[str] | None:
        """Chains on `self` that reading `member` of an instance runs: a property's body,
        or `__str__`/`__repr__` for string conversion; None for plain attributes. Methods
        inherited from project base classes count."""
        names = ("__str__", "__repr__") if member == "__str__" else (member,)
        pending, seen = [class_qualname], set()
        while pending:
            qualified = pending.pop(0)
            found = self.lookup(qualified)
            if found is None or qualified in seen or found[1] not in found[0].classes:
                continue
            seen.add(qualified)
            ix, cls = found
            for name in names:
                function = ix.functions.get(f"{cls}.{name}")
                if function is None:
                    continue
                if not name.startswith("__") and not any(
                        d.rpartition(".")[2] in _PROPERTIES for d in function.decorators):
                    return None  # a method or plain attribute: reading it runs nothing
                return ix.attribute_reads.get(function.qualname, {}).get("self", set())
            pending += [self.qualify(ix, base) for base in ix.classes[cls].bases]
        return None

    def reads_on(self, ix: ModuleIndex, scope: str, variable: str, depth: int = 0
                 ) -> tuple[set[str], list[tuple[str, str]]]:
        """Attribute chains read on `variable` in `scope`, including in the project functions
        it is passed to (a few calls deep); and the calls it goes to that cannot be followed,
        as (callee, chain of what is passed: "" for the variable itself)."""
        chains = set(ix.attribute_reads.get(scope, {}).get(variable, ()))
        opaque: list[tuple[str, str]] = []
        aliases = ix.aliases.get(scope, {})
        owner = self.owner_class(ix, scope)
        for method, binding in ix.attribute_bindings.get(owner or "", []) if depth < 3 else ():
            if method == scope and binding.origin == ALIAS and binding.targets[0] == variable:
                kept, unseen = self.reads_on_attribute(ix, scope, binding.name, depth + 1)
                chains |= kept  # `self.order = order`: what the class's methods read on it
                opaque += unseen
        for site in map(self._through_run_sync, self.calls_in(ix, scope)):
            for arg in (*site.args, *(value for _, value in site.kwargs)):
                if arg is None:
                    continue
                head, _, chain = arg.partition(".")
                root, prefix = aliases.get(head, (head, ""))
                if root != variable:
                    continue
                prefix = ".".join(filter(None, (prefix, chain)))
                target = self.resolve_function(ix, site.scope, site.callee)
                if target is None:
                    conversion = self._string_conversion(ix, site.callee)
                    schema, _, method = site.callee.rpartition(".")
                    schema = self.qualify(ix, schema) if method in api.SCHEMA_FROM_OBJECT else ""
                    if schema in self.schema_classes:  # `OrderOut.model_validate(order)`
                        chains |= {".".join(filter(None, (prefix, c)))
                                   for c in self.schema_reads(schema)}
                    elif conversion:
                        chains.add(".".join(filter(None, (prefix, conversion))))
                    elif not self._reads_nothing(ix, site.scope, site.callee):
                        opaque.append((site.callee, prefix))
                    continue
                if depth >= 3:
                    continue
                target_ix = self.modules[target[0]]
                for param in self.parameters_given(site, target, arg):
                    inner, inner_opaque = self.reads_on(target_ix, target[1], param, depth + 1)
                    chains |= {".".join(filter(None, (prefix, c))) for c in inner}
                    opaque += [(name, ".".join(filter(None, (prefix, c))))
                               for name, c in inner_opaque]
        return chains, opaque

    @staticmethod
    def _through_run_sync(site: CallSite) -> CallSite:
        """`session.run_sync(f, a, b)` as the call `f(a, b)` it makes (with the sync
        session first, like the `self` of a bound method: `parameters_given` skips it)."""
        if not site.callee.endswith(".run_sync") or not site.args or site.args[0] is None:
            return site
        return CallSite(site.scope, site.args[0], ("<sync session>", *site.args[1:]),
                        site.kwargs, site.line)

    def parameters_given(self, site: CallSite, target: FunctionRef, arg: str) -> list[str]:
        """The parameters of `target` that a call hands the dotted name `arg` to."""
        info = self.modules[target[0]].functions[target[1]]
        bound = info.owner_class is not None and info.params[:1] in (("self",), ("cls",))
        shift = 1 if bound and ("." in site.callee or target[1].endswith(".__init__")) else 0
        params = [info.params[i + shift] for i, passed in enumerate(site.args)
                  if passed == arg and i + shift < len(info.params)]
        return params + [k for k, passed in site.kwargs if passed == arg and k in info.params]

    def reads_on_attribute(self, ix: ModuleIndex, scope: str, attr: str, depth: int = 0
                           ) -> tuple[set[str], list[tuple[str, str]]]:
        """`reads_on` for objects kept in `self.<attr>`: what every method of the class (of
        the method `scope`) reads on them, and where they go that cannot be followed."""
        owner = self.owner_class(ix, scope)
        chains: set[str] = set()
        opaque: list[tuple[str, str]] = []
        for name, info in ix.functions.items():
            if owner is None or info.owner_class != owner:
                continue
            found, unseen = self.reads_on(ix, name, "self", depth)
            for chain in found:
                head, _, rest = chain.partition(".")
                if head == attr and rest:
                    chains.add(rest)
            opaque += [(callee, chain.partition(".")[2]) for callee, chain in unseen
                       if chain.partition(".")[0] == attr]
        return chains, opaque

    def _string_conversion(self, ix: ModuleIndex, callee: str) -> str | None:
        """"__str__"/"__repr__" for calls that turn what they get into text: print(),
        str(), repr(), format() and logging calls."""
        head, _, method = callee.rpartition(".")
        if not head:
            return CONVERTING_BUILTINS.get(callee) if callee not in ix.imports else None
        qualified = self.qualify(ix, callee)
        logs = qualified.startswith("logging.") or "log" in head.lower()
        return "__str__" if logs and method in _LOGGING_METHODS else None

    def _reads_nothing(self, ix: ModuleIndex, scope: str, callee: str) -> bool:
        """Calls that read no relationship of what they get: builtins, container methods,
        SQLAlchemy's own API (a session loads what it needs inside its awaited calls), and
        model constructors (`Review(book=book)` sets attributes; a backref append to an
        unloaded collection is queued without loading it)."""
        head = callee.split(".")[0]
        if (head in _BUILTINS and head not in ix.imports) or "()." in callee or (
                callee.rpartition(".")[2] in _STORING) or self.mapped_class(ix, scope, callee) or (
                callee.endswith(".run_sync")):  # its lambda's calls are call sites of their own
            return True
        qualified = self.qualify(ix, callee)
        return qualified.startswith(("sqlalchemy.", "sqlmodel.")) or self.kind(
            ix, scope, head) in (ObjKind.SESSION, ObjKind.CONNECTION, ObjKind.ENGINE,
                                 ObjKind.FACTORY)

    def reads_on_result(self, ref: FunctionRef, seen: frozenset[FunctionRef] = frozenset()
                        ) -> tuple[set[str], list[tuple[str, str]]]:
        """Attribute chains callers read on what a function returns (`order = get(s, 1)`
        then `order.customer`, or `for o in orders(s): o.lines`), also through callers that
        hand the result on (`def require(s, i): order = get(s, i); ...; return order`)."""
        chains = self.response_schema_reads(ref)
        opaque: list[tuple[str, str]] = []
        for caller_ix, site in [*self.callers(ref), *self.run_sync_callers(ref)]:
            # `x = f(...)`; where an earlier run left f synchronous, `x = session.run_sync(f,
            # ...)` (that call is the site) or `session.run_sync(lambda s: f(...))`
            # (the index files results of run_sync calls under the function they run)
            handed = site.args[0] if site.callee.endswith(".run_sync") else site.callee
            names = {b.name for b in caller_ix.bindings.get(site.scope, [])
                     if b.origin == CALL and b.targets[0] == handed}
            for name in [*names, f"{handed}()"]:
                found, unseen = self.reads_on(caller_ix, site.scope, name)
                chains |= found
                opaque += unseen
            caller = caller_ix.functions.get(site.scope)
            passer = (caller_ix.module, site.scope)
            if caller is not None and passer not in seen and len(seen) < 3 and any(
                    produced in names or produced == f"{handed}()"
                    for produced in caller.produces):
                found, unseen = self.reads_on_result(passer, seen | {ref})
                chains |= found
                opaque += unseen
        return chains, opaque

    def untraced_sources(self, ref: FunctionRef, param: str, depth: int = 0) -> list[str]:
        """Where a parameter's objects come from when the tool cannot trace them to a query
        it adds loader options to (the SQA400 analysis): such callers as "module.function()"
        (no line: TODO texts must not change when lines move), or "no caller" when nothing
        in the project calls the function. [] means every caller hands over objects loaded
        a few calls up."""
        callers = self.callers(ref)
        if not callers:
            return ["no caller"]
        untraced = []
        for caller_ix, site in callers:
            passed = [arg for arg in (*site.args, *(v for _, v in site.kwargs))
                      if arg is not None and param in self.parameters_given(site, ref, arg)]
            if not passed or not all(self._traced(caller_ix, site.scope, arg, depth)
                                     for arg in passed):
                name = f"{caller_ix.module}.{site.scope}" if caller_ix.module != ref[0] else (
                    site.scope or "<module>")
                if f"{name}()" not in untraced:
                    untraced.append(f"{name}()")
        return untraced

    def _traced(self, ix: ModuleIndex, scope: str, arg: str, depth: int) -> bool:
        """`arg` (a dotted name in `scope`) holds objects a query the tool sees loaded."""
        head = arg.partition(".")[0]
        root = ix.aliases.get(scope, {}).get(head, (head, ""))[0]
        loads = ix.loads.get(scope, ())
        if arg in loads or head in loads or root in loads:  # arg: also `session.get()`
            return True
        if root.endswith("()"):  # `for x in repo.orders(s)`
            target = self.resolve_function(ix, scope, root[:-2])
            return target is not None and self.returns_loaded(target, depth + 1)
        function = ix.functions.get(scope)
        if function is not None and root in function.params:
            # the SQA400 analysis follows objects three calls into the functions they go to
            return depth < 2 and not self.untraced_sources((ix.module, scope), root, depth + 1)
        return self._bound_by_loading_call(ix, scope, root, depth + 1)

    def _bound_by_loading_call(self, ix: ModuleIndex, scope: str, name: str, depth: int
                               ) -> bool:
        """`name = repo.get(i)`: bound by a call of a function returning loaded objects."""
        return any(b.origin == CALL and (target := self.resolve_function(
            ix, scope, b.targets[0])) is not None and self.returns_loaded(target, depth)
            for b in ix.bindings.get(scope, []) if b.name == name)

    def returns_loaded(self, ref: FunctionRef, depth: int = 0) -> bool:
        """The function returns objects a query in it (or in what it calls) loaded, and
        this run migrates it (a legacy function's queries get no loader options)."""
        if ref in self.legacy:
            return False
        ix = self.modules[ref[0]]
        loads = ix.loads.get(ref[1], set())
        if "return" in loads:
            return True
        if depth > 3:
            return False
        for produced in ix.functions[ref[1]].produces:
            if produced.endswith("()"):
                target = self.resolve_function(ix, ref[1], produced[:-2])
                if target is not None and self.returns_loaded(target, depth + 1):
                    return True
            elif produced in loads or self._bound_by_loading_call(ix, ref[1], produced,
                                                                  depth + 1):
                return True
        return False

    def paths_loaded_by(self, ref: FunctionRef, depth: int = 0) -> set[str]:
        """Relationship paths the loader options in a function (and in the functions whose
        results it returns) load: what callers may read on its result without I/O."""
        ix = self.modules[ref[0]]
        paths = set(ix.loaded_paths.get(ref[1], ()))
        for produced in ix.functions[ref[1]].produces if depth < 3 else ():
            callees = [produced[:-2]] if produced.endswith("()") else [
                b.targets[0] for b in ix.bindings.get(ref[1], [])
                if b.name == produced and b.origin == CALL]
            for name in callees:
                target = self.resolve_function(ix, ref[1], name)
                if target is not None and target != ref:
                    paths |= self.paths_loaded_by(target, depth + 1)
        return paths

    def calls_in(self, ix: ModuleIndex, scope: str) -> list[CallSite]:
        if self._calls_by_scope is None:
            self._calls_by_scope = {}
            for module in self.modules.values():
                for site in module.calls:
                    self._calls_by_scope.setdefault((module.module, site.scope), []).append(site)
        return self._calls_by_scope.get((ix.module, scope), [])

    # -- what a name holds ----------------------------------------------------------------------
    def _bindings(self, ix: ModuleIndex, scope: str, name: str) -> list[Binding]:
        found_in = self.binding_scope(ix, scope, name)
        if found_in is None:
            return []
        return [b for b in ix.bindings.get(found_in, []) if b.name == name]

    @staticmethod
    def binding_scope(ix: ModuleIndex, scope: str, name: str) -> str | None:
        """The innermost scope (from `scope` outwards) that binds `name`, if any."""
        for s in _scope_chain(scope):
            if any(b.name == name for b in ix.bindings.get(s, [])):
                return s
        return None

    def kind(self, ix: ModuleIndex, scope: str, dotted: str) -> ObjKind | None:
        """The kind of SQLAlchemy object a name (or `self.attr`) holds in `scope` of `ix`."""
        head, _, attr = dotted.partition(".")
        if head == "self" and attr and "." not in attr:
            return self._attribute_kind(ix, scope, attr)
        if "." in dotted:
            if attr == "session" and self.kind(ix, scope, head) is ObjKind.FLASK_DB:
                return ObjKind.FLASK_SESSION
            found = self.lookup(self.qualify(ix, dotted))
            if found and "." not in found[1]:
                return self.kind(found[0], "", found[1])
            return None
        key = (ix.module, scope, dotted)
        if key in self._kinds:
            return self._kinds[key]
        self._kinds[key] = None  # recursion guard: a cycle proves nothing
        result = self._kind_uncached(ix, scope, dotted)
        self._kinds[key] = result
        return result

    def _attribute_kind(self, ix: ModuleIndex, scope: str, attr: str) -> ObjKind | None:
        """`self.attr` in a method: what the class's methods assign to it (or declare)."""
        owner = self.owner_class(ix, scope)
        if owner is None:
            return None
        key = (ix.module, f"{owner}#", attr)
        if key in self._kinds:
            return self._kinds[key]
        self._kinds[key] = None
        result = None
        for method_scope, binding in ix.attribute_bindings.get(owner, []):
            if binding.name == attr:
                result = self._binding_kind(ix, method_scope, binding)
                if result is not None:
                    break
        if result is None:
            declared = [b for b in ix.bindings.get(owner, []) if b.name == attr]
            result = self.annotation_kind(ix, [t for b in declared for t in b.targets])
        self._kinds[key] = result
        return result

    @staticmethod
    def owner_class(ix: ModuleIndex, scope: str) -> str | None:
        for s in _scope_chain(scope):
            info = ix.functions.get(s)
            if info and info.owner_class:
                return info.owner_class
        return None

    def _kind_uncached(self, ix: ModuleIndex, scope: str, name: str) -> ObjKind | None:
        bindings = self._bindings(ix, scope, name)
        annotated = [t for b in bindings if b.origin == PARAM for t in b.targets]
        if annotated:  # a declared type wins over any guess
            return self.annotation_kind(ix, annotated)
        for binding in bindings:
            kind = self._binding_kind(ix, scope, binding)
            if kind is not None:
                return kind
        if bindings:
            return None
        qualified = ix.qualify(name)
        if qualified != name:
            found = self.lookup(qualified)
            if found and "." not in found[1]:
                return self.kind(found[0], "", found[1])
        return None

    def _binding_kind(self, ix: ModuleIndex, scope: str, binding: Binding) -> ObjKind | None:
        if binding.origin == VALUE:
            return None
        if binding.origin == ALIAS:
            return self.kind(ix, scope, binding.targets[0])
        if binding.origin == QUERY:
            return ObjKind.SESSION if self.mapped_class(ix, scope, binding.targets[0]) else None
        if binding.origin == PARAM:
            return (self.annotation_kind(ix, binding.targets)
                    or self._param_kind_from_callers(ix, scope, binding.name)
                    or self._fixture_kind(ix, scope, binding.name))
        return self.call_result_kind(ix, scope, binding.targets[0], entered=binding.origin == ENTER)

    def annotation_kind(self, ix: ModuleIndex, names: Iterable[str]) -> ObjKind | None:
        """The kind an annotation (`Session`, `Optional[Engine]`, …) declares."""
        for name in names:
            kind = _kind_of(self.qualify(ix, name), _DECLARED_KINDS)
            if kind is not None:
                return kind
        return None

    def call_result_kind(self, ix: ModuleIndex, scope: str, callee: str,
                         entered: bool = False) -> ObjKind | None:
        """What `callee(...)` returns (or, with `entered`, what `with callee(...) as x` binds)."""
        kind = _kind_of(self.qualify(ix, callee), _CALL_RESULT_KINDS)
        if kind is not None:
            return kind
        function = self.resolve_function(ix, scope, callee)
        if function is not None:  # a project function: what its return annotation says
            target = self.modules[function[0]]
            return self.annotation_kind(target, target.functions[function[1]].returns)
        receiver, _, method = callee.rpartition(".")
        if not receiver:  # `SessionLocal()`, or `Scoped()` on a scoped_session registry
            return ObjKind.SESSION if self.kind(ix, scope, callee) in (
                ObjKind.FACTORY, ObjKind.SESSION) else None
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

    def _param_kind_from_callers(self, ix: ModuleIndex, scope: str,
                                 name: str) -> ObjKind | None:
        func = ix.functions.get(scope)
        if func is None or name not in func.params:
            return None
        position = func.params.index(name)
        bound = func.owner_class is not None and func.params[:1] in (("self",), ("cls",))
        for caller_ix, site in self.callers((ix.module, scope)):
            arg: str | None = dict(site.kwargs).get(name)
            # `obj.method(x)` and `Cls(x)` pass self implicitly
            implicit_self = bound and ("." in site.callee or scope.endswith(".__init__"))
            index = position - (1 if implicit_self else 0)
            if arg is None and 0 <= index < len(site.args):
                arg = site.args[index]
            if arg is not None:
                kind = self.kind(caller_ix, site.scope, arg)
                if kind in (ObjKind.SESSION, ObjKind.ENGINE, ObjKind.CONNECTION):
                    return kind
        return None

    def is_fixture(self, ix: ModuleIndex, function: str) -> bool:
        info = ix.functions.get(function)
        return info is not None and any(
            self.qualify(ix, d) == "pytest.fixture" for d in info.decorators)

    def _fixture_kind(self, ix: ModuleIndex, scope: str, name: str) -> ObjKind | None:
        """A test's or fixture's parameter holds what the fixture of that name provides."""
        function = ix.functions.get(scope)
        if function is None or name not in function.params or not (
                scope.rpartition(".")[2].startswith("test") or self.is_fixture(ix, scope)):
            return None
        candidates = [ix, *(m for m in self.modules.values()
                            if m.path.endswith("conftest.py") and m is not ix)]
        for module in candidates:
            if self.is_fixture(module, name):
                for produced in module.functions[name].produces:
                    kind = self.kind(module, name, produced)
                    if kind is not None:
                        return kind
        return None

    # -- functions and calls --------------------------------------------------------------------
    def resolve_function(self, ix: ModuleIndex, scope: str, callee: str) -> FunctionRef | None:
        """Which project function a call `callee(...)` made in `scope` refers to."""
        if "()." in callee:  # `Repo(session).load()`: a method of a fresh instance
            owner, _, method = callee.partition("().")
            cls = self.resolve_class(ix, scope, owner)
            found = cls and f"{cls[1]}.{method}" in cls[0].functions
            return (cls[0].module, f"{cls[1]}.{method}") if found else None
        head, _, rest = callee.partition(".")
        if head in ("self", "cls") and rest and "." not in rest:
            for s in _scope_chain(scope):
                info = ix.functions.get(s)
                if info and info.owner_class:
                    candidate = f"{info.owner_class}.{rest}"
                    return (ix.module, candidate) if candidate in ix.functions else None
            return None
        if rest and "." not in rest:  # `repo.load()` where `repo = UserRepo(...)`
            for binding in self._bindings(ix, scope, head):
                if binding.origin == CALL:
                    cls = self.resolve_class(ix, scope, binding.targets[0])
                    if cls and f"{cls[1]}.{rest}" in cls[0].functions:
                        return cls[0].module, f"{cls[1]}.{rest}"
            if self._bindings(ix, scope, head):
                return None
        for s in _scope_chain(scope):
            if s in ix.classes and s != scope:
                continue  # a class body is no enclosing scope for its methods' names
            candidate = f"{s}.{callee}" if s else callee
            if candidate in ix.functions:
                return ix.module, candidate
            if any(b.name == head for b in ix.bindings.get(s, [])) and s:
                return None  # shadowed by a local variable
        cls = self.resolve_class(ix, scope, callee)
        if cls is not None:  # a constructor call: its __init__
            init = f"{cls[1]}.__init__"
            return (cls[0].module, init) if init in cls[0].functions else None
        qualified = ix.qualify(callee)
        if qualified == callee:
            return None
        found = self.lookup(qualified)
        if found and found[1] in found[0].functions:
            return found[0].module, found[1]
        return None

    def resolve_class(self, ix: ModuleIndex, scope: str,
                      dotted: str) -> tuple[ModuleIndex, str] | None:
        """The project class a name refers to (local or imported)."""
        if dotted in ix.classes and "." not in dotted:
            return ix, dotted
        qualified = ix.qualify(dotted)
        if qualified == dotted:
            return None
        found = self.lookup(qualified)
        if found and found[1] in found[0].classes:
            return found
        return None

    def class_with_method_in(self, ix: ModuleIndex, scope: str, dotted: str,
                             functions: set[FunctionRef]) -> bool:
        """The class `dotted` names (in this scope) has a method among `functions`."""
        cls = self.resolve_class(ix, scope, dotted)
        if cls is None:
            return False
        module, prefix = cls[0].module, f"{cls[1]}."
        return any((module, q) in functions for q in cls[0].functions if q.startswith(prefix))

    def legacy_class(self, ix: ModuleIndex, scope: str, dotted: str) -> bool:
        """A class (named in this scope) with methods an incremental run leaves sync."""
        return self.class_with_method_in(ix, scope, dotted, self.legacy)

    def instance_session(self, ix: ModuleIndex, scope: str, name: str) -> str | None:
        """For `name = LegacyRepo(session)`: the session the instance was built with."""
        for binding in self._bindings(ix, scope, name):
            if binding.origin == CALL and self.legacy_class(ix, scope, binding.targets[0]):
                for arg in binding.call_args:
                    if arg and self.kind(ix, scope, arg) is ObjKind.SESSION:
                        return arg
        return None

    def defines_any(self, ix: ModuleIndex, functions: set[FunctionRef]) -> bool:
        """Whether the module defines one of `functions` (without scanning the set)."""
        return any((ix.module, qualname) in functions for qualname in ix.functions)

    def calls_into(self, ix: ModuleIndex, site: CallSite, functions: set[FunctionRef]) -> bool:
        """The call reaches one of `functions`: directly, or as `session.run_sync(fn, ...)`."""
        if self.resolve_function(ix, site.scope, site.callee) in functions:
            return True
        return site.callee.endswith(".run_sync") and bool(site.args) and site.args[0] is not None \
            and self.resolve_function(ix, site.scope, site.args[0]) in functions

    def run_sync_callers(self, ref: FunctionRef) -> list[tuple[ModuleIndex, CallSite]]:
        """`session.run_sync(f, ...)` calls handing over the function."""
        if self._run_sync_callers is None:
            self._run_sync_callers = {}
            for ix in self.modules.values():
                for site in ix.calls:
                    if site.callee.endswith(".run_sync") and site.args and site.args[0] and (
                            target := self.resolve_function(ix, site.scope, site.args[0])):
                        self._run_sync_callers.setdefault(target, []).append((ix, site))
        return self._run_sync_callers.get(ref, [])

    def callers(self, ref: FunctionRef) -> list[tuple[ModuleIndex, CallSite]]:
        if self._callers is None:
            self._callers = {}
            for ix in self.modules.values():
                for site in ix.calls:
                    target = self.resolve_function(ix, site.scope, site.callee)
                    if target is not None:
                        self._callers.setdefault(target, []).append((ix, site))
        return self._callers.get(ref, [])

    def relevant_scopes(self, ix: ModuleIndex,
                        async_functions: set[FunctionRef] | None = None) -> set[str]:
        """Scopes (functions, classes) a rewrite pass must enter; the rest are skipped.

        Without `async_functions` (the local pass): a scope reading a SQLAlchemy/SQLModel
        name or a name that holds a session, sessionmaker, engine or connection. With it (the
        colouring pass): a scope that becomes async or calls a function that did.
        """
        relevant: set[str] = set()
        if async_functions is None:
            kept = {q for m, q in self.keep_sync if m == ix.module}
            relevant |= ix.url_scopes
            mapped = {q for q in ix.classes if self._qualname(ix, q) in self.mapped_classes}
            relevant |= mapped | {q for q, f in ix.functions.items() if f.owner_class in mapped}
            relevant |= self.model_parameter_scopes(ix)
            for scope, names in ix.names_read.items():
                if any(self._sqlalchemy_related(ix, scope, n) for n in names):
                    relevant.add(scope)
        else:
            relevant |= {q for q in ix.functions if (ix.module, q) in async_functions}
            relevant |= {site.scope for site in ix.calls
                         if self.calls_into(ix, site, async_functions)}
        for scope in list(relevant):  # a nested scope is reached through its parents
            parts = scope.split(".")
            relevant.update(".".join(parts[:i]) for i in range(1, len(parts)))
        if async_functions is None:
            relevant -= {s for s in relevant if any(s == k or s.startswith(f"{k}.")
                                                    for k in kept)}
        return relevant

    def annotated_class(self, ix: ModuleIndex, scope: str, names: Iterable[str]) -> str | None:
        """The mapped class among the names of an annotation (`Optional[Order]` → Order)."""
        return next(filter(None, (self.mapped_class(ix, scope, n) for n in names)), None)

    def model_parameter_scopes(self, ix: ModuleIndex) -> set[str]:
        """Functions with a parameter typed as a mapped class (`def f(o: Order)`) that read a
        relationship of it which may load lazily, even where no SQLAlchemy name is in sight,
        and the methods of classes keeping such a parameter (`self.order = order`)."""
        if ix.module in self._model_parameter_scopes:
            return self._model_parameter_scopes[ix.module]
        found = set()
        for scope, reads in ix.attribute_reads.items():
            if scope not in ix.functions:
                continue
            for binding in ix.bindings.get(scope, []):
                chains = reads.get(binding.name) if binding.origin == PARAM else None
                mapped = chains and self.annotated_class(ix, scope, binding.targets)
                if mapped and any(self.loads_implicitly(*hop) for chain in self.implicit_reads(
                        mapped, chains) for hop in self.relationship_paths(mapped, chain)):
                    found.add(scope)
                    break
        keeping = {scope for scope, b in (kept for pairs in ix.attribute_bindings.values()
                                          for kept in pairs) if b.origin == ALIAS}
        typed = {scope for scope in keeping if any(  # `self.order = order`, `order: Order`
            b.origin == PARAM and self.annotated_class(ix, scope, b.targets)
            for b in ix.bindings.get(scope, []))}
        owners = {ix.functions[scope].owner_class for scope in typed if scope in ix.functions}
        found |= {q for q, f in ix.functions.items() if f.owner_class in owners - {None}}
        self._model_parameter_scopes[ix.module] = found
        return found

    def _sqlalchemy_related(self, ix: ModuleIndex, scope: str, name: str) -> bool:
        head = name.split(".")[0]
        qualified = self.qualify(ix, name)
        if qualified in api.REWRITTEN_NAMES or self.qualify(ix, head) in ("sqlalchemy",
                                                                          "sqlmodel"):
            return True  # a renamed class, or `sa.` (whose attribute the index does not see)
        if self.kind(ix, scope, name) in (ObjKind.SESSION, ObjKind.FACTORY, ObjKind.ENGINE,
                                          ObjKind.CONNECTION, ObjKind.FLASK_DB):
            return True
        mapped = self.mapped_class(ix, scope, name)  # `User.query` on a Flask-SQLAlchemy model
        return mapped is not None and self.flask_db(mapped) is not None

    def cannot_be_async(self, ref: FunctionRef) -> str | None:
        """Why a function must stay synchronous, or None when it can become `async def`."""
        info = self.modules[ref[0]].functions[ref[1]]
        name = ref[1].rpartition(".")[2]
        if name.startswith("__") and name.endswith("__"):
            return f"special method {name}() cannot be async"
        for decorator in info.decorators:
            if decorator.rpartition(".")[2] in _SYNC_ONLY_DECORATORS or decorator in (
                    _SYNC_ONLY_DECORATORS):
                return f"@{decorator} cannot be async"
        return None

    def keepable_sync(self, unconverted: set[FunctionRef],
                      io: set[FunctionRef]) -> set[FunctionRef]:
        """Functions holding legacy code the rewrite cannot convert that can stay synchronous:
        they take a session (run_sync hands them its sync one), call no function that becomes
        async, and are called only from functions (which will wrap the calls)."""
        kept = set()
        for ref in unconverted:
            ix = self.modules[ref[0]]
            info = ix.functions.get(ref[1])
            if info is None or self.is_fixture(ix, ref[1]) or self.sync_boundary(ref) or (
                    ref[1].rpartition(".")[2].startswith("test")) or info.returns_query_object:
                continue  # a Query handed back would run outside run_sync
            takes_session = any(self.kind(ix, ref[1], p) is ObjKind.SESSION
                                for p in info.params)
            calls_async = any(self.resolve_function(ix, site.scope, site.callee) in io - {ref}
                              for site in self.calls_in(ix, ref[1]))
            # callers through run_sync: an earlier run kept it sync (idempotence)
            callers = [*self.callers(ref), *self.run_sync_callers(ref)]
            if takes_session and not calls_async and callers and all(
                    site.scope in caller_ix.functions for caller_ix, site in callers):
                kept.add(ref)
        return kept

    def sync_boundary(self, ref: FunctionRef) -> str | None:
        """What calls this function synchronously — a CLI framework, a task queue, a console
        script — or None. Such a function keeps a sync wrapper running its async body."""
        if ref in self.console_scripts:
            return "a console script"
        ix = self.modules[ref[0]]
        for decorator in ix.functions[ref[1]].decorators:
            qualified = self.qualify(ix, decorator)
            if qualified in _SYNC_FRAMEWORKS:
                return f"@{decorator}"
            owner, _, method = decorator.rpartition(".")
            if method in _FRAMEWORK_METHODS and owner and self._framework_object(ix, owner):
                return f"@{decorator}"
        return None

    def _framework_object(self, ix: ModuleIndex, name: str) -> bool:
        """`cli` in `@cli.command()`: a click group, a Typer app, a Celery app."""
        for binding in self._bindings(ix, "", name):
            if binding.origin == CALL and self.qualify(ix, binding.targets[0]) in (
                    _FRAMEWORK_FACTORIES):
                return True
        function = self.resolve_function(ix, "", name)
        return function is not None and any(
            self.qualify(self.modules[function[0]], d) in _SYNC_FRAMEWORKS
            for d in self.modules[function[0]].functions[function[1]].decorators)

    def colour(self, io_functions: set[FunctionRef],
               within: set[str] | None = None) -> set[FunctionRef]:
        """Fixed point: functions doing I/O and every function that calls one become async.

        A caller that cannot be async (a property, a special method) stays sync; the rewrite
        leaves a TODO at its call. `within` limits the callers followed to those modules.
        """
        result: set[FunctionRef] = set()
        todo = [ref for ref in io_functions if ref[1] in self.modules[ref[0]].functions]
        while todo:
            ref = todo.pop()
            if ref in result:
                continue
            result.add(ref)
            if self.sync_boundary(ref):
                continue  # its callers keep calling a sync wrapper
            for caller_ix, site in self.callers(ref):
                caller = (caller_ix.module, site.scope)
                if site.scope not in caller_ix.functions or (
                        within is not None and caller_ix.module not in within):
                    continue  # module/class level: handled by the entry-point rule
                if caller not in result and not self.cannot_be_async(caller):
                    todo.append(caller)
        return result
