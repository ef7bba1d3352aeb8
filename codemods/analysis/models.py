"""Mapped classes and their relationships, and the project's schema (pydantic) classes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from .. import api_surface as api
from ..index import ALIAS, CALL, PARAM, ClassInfo, ModuleIndex, RelationshipInfo
from .project import Project, qualname

# `type[X]` in an annotation, and what makes a TypeVar (`TypeVar("T", bound=Base)`)
_TYPE_OF = frozenset({"type", "builtins.type", "typing.Type", "typing_extensions.Type"})
_TYPE_VARS = frozenset({"typing.TypeVar", "typing_extensions.TypeVar"})


class Models:
    """Which classes are mapped, and what their relationships point to (state-free, cached)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._mapped: dict[str, ClassInfo] | None = None
        self._schemas: set[str] | None = None
        self._name_readers: frozenset[str] | None = None
        self._passed: dict[tuple[str, str, str], str | None] = {}  # see `_passed_class`

    @property
    def mapped_classes(self) -> dict[str, ClassInfo]:
        """Every mapped class of the project by qualified name."""
        if self._mapped is None:
            self._mapped = self._find_mapped()
        return self._mapped

    def mapped_subclasses(self, ix: ModuleIndex, name: str) -> list[str]:
        """Qualified names of the mapped classes below the class `name` of `ix`."""
        return sorted(q for module, cls in self.project.subclasses(ix, name)
                      if (q := qualname(self.project.modules[module], cls)) in self.mapped_classes)

    def is_model_base(self, ix: ModuleIndex, name: str) -> bool:
        """The class `name` of `ix` is a base of mapped classes (a mixin, an abstract base):
        its columns and methods are theirs."""
        return bool(self.mapped_subclasses(ix, name))

    def _classes(self) -> dict[str, tuple[ModuleIndex, ClassInfo]]:
        return {qualname(ix, c.qualname): (ix, c)
                for ix in self.project.modules.values() for c in ix.classes.values()}

    def _find_mapped(self) -> dict[str, ClassInfo]:
        qualify = self.project.qualify
        classes = self._classes()
        bases: set[str] = set(api.DECLARATIVE_BASE_CLASSES)  # declarative bases and mixins
        for ix in self.project.modules.values():
            for binding in ix.bindings.get("", []):
                if binding.origin == CALL and qualify(ix, binding.targets[0]) in (
                        api.DECLARATIVE_BASE_FACTORIES):
                    bases.add(qualname(ix, binding.name))
                elif binding.origin == CALL and self._is_flask_sqlalchemy(ix, binding.targets[0]):
                    bases.add(f"{qualname(ix, binding.name)}.Model")  # class X(db.Model)
        sqlmodels = {api.SQLMODEL_BASE}  # SQLModel data models (no table)
        mapped: dict[str, ClassInfo] = {}
        for name, (ix, info) in classes.items():
            decorators = {qualify(ix, d) for d in info.decorators}
            if decorators & api.DECLARATIVE_BASE_DECORATORS:
                bases.add(name)
            elif any(d.endswith(".mapped") and self._is_registry(ix, d.rpartition(".")[0])
                     for d in info.decorators):
                mapped[name] = info  # `@reg.mapped` with `reg = registry()`
        mapped.update(self._imperatively_mapped(classes))
        changed = True
        while changed:
            changed = False
            for name, (ix, info) in classes.items():
                if name in bases or name in sqlmodels or name in mapped:
                    continue
                parents = [self.project.unaliased(qualify(ix, b)) for b in info.bases]
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
        self._mapped = mapped  # relationship_target looks the classes up
        self._resolve_directions(mapped)
        self._add_backrefs(mapped)
        return mapped

    def _resolve_directions(self, mapped: dict[str, ClassInfo]) -> None:
        """Collection or scalar, for relationships whose declaration does not say
        (`relationship("Team")` with no annotation and no `uselist=`), as SQLAlchemy decides
        it: many-to-one when the foreign key is on this class's table, one-to-many when it
        is on the target's; a self-referential one with `remote_side=` is many-to-one; else
        the opposite of a `back_populates` partner that is a collection."""
        for rounds in range(2):  # the second round reads partners resolved by the first
            for name, info in mapped.items():
                for attr, rel in list(info.relationships.items()):
                    target = self.relationship_target(name, attr)
                    if rel.uselist is not None or rel.secondary or target is None:
                        continue
                    uselist: bool | None = None
                    if target == name:
                        uselist = not rel.remote_side
                    else:
                        uselist = self._many_to_one(name, target)
                        uselist = None if uselist is None else not uselist
                    if uselist is None and rel.back_populates and rounds:
                        partner = mapped[target].relationships.get(rel.back_populates)
                        uselist = False if partner is not None and partner.uselist else None
                    if uselist is not None:
                        info.relationships[attr] = replace(rel, uselist=uselist)

    def _is_registry(self, ix: ModuleIndex, name: str) -> bool:
        return any(b.origin == CALL and self.project.qualify(ix, b.targets[0]) in (
            api.REGISTRY_CLASSES) for b in self.project.bindings(ix, "", name))

    def _imperatively_mapped(self, classes: dict[str, tuple[ModuleIndex, ClassInfo]]
                             ) -> dict[str, ClassInfo]:
        """Classes passed to `mapper(Cls, table)` or `reg.map_imperatively(Cls, table)`."""
        found: dict[str, ClassInfo] = {}
        for ix in self.project.modules.values():
            for site in ix.calls:
                receiver, _, method = site.callee.rpartition(".")
                classic = self.project.qualify(ix, site.callee) in api.CLASSIC_MAPPERS or (
                    method == "map_imperatively" and self._is_registry(ix, receiver))
                cls = classic and site.args and site.args[0] and self.project.resolve_class(
                    ix, site.args[0])
                if cls:
                    name = qualname(cls[0], cls[1])
                    info = classes[name][1]
                    declared = {rel.attr: replace(rel, target=self._mapped_target(
                        ix, site.scope, rel.target))
                        for rel in ix.mapping_properties.get(site.line, ())}
                    found[name] = replace(info, relationships={**info.relationships,
                                                               **declared}) if declared else info
        return found

    def _mapped_target(self, ix: ModuleIndex, scope: str, target: str | None) -> str | None:
        """The qualified class a `relationship(...)` of an imperative mapping names: the
        class, or a mapper variable (`batches_mapper = reg.map_imperatively(Batch, ...)`)."""
        if target is None:
            return None
        cls = self.project.resolve_class(ix, target)
        if cls is None:
            mapped = next((b.call_args[0] for b in self.project.bindings(ix, scope, target)
                           if b.origin == CALL and b.call_args and b.call_args[0]), None)
            cls = mapped and self.project.resolve_class(ix, mapped)
        return qualname(cls[0], cls[1]) if cls else target

    @property
    def flask_sqlalchemy_objects(self) -> list[str]:
        """Qualified names of the module-level `db = SQLAlchemy(...)` objects (also of a
        project subclass of it): the project uses Flask-SQLAlchemy."""
        return sorted(qualname(ix, b.name) for ix in self.project.modules.values()
                      for b in ix.bindings.get("", [])
                      if b.origin == CALL and self._is_flask_sqlalchemy(ix, b.targets[0]))

    def _is_flask_sqlalchemy(self, ix: ModuleIndex, callee: str) -> bool:
        """`SQLAlchemy(...)`, or a project subclass of it (`class AppDB(SQLAlchemy)`)."""
        return self.project.qualify(ix, callee) in api.FLASK_SQLALCHEMY or any(
            a in api.FLASK_SQLALCHEMY for a in self.project.ancestors(ix, callee))

    def _many_to_one(self, source: str, target: str) -> bool | None:
        """True when only `source`'s table has a foreign key to `target`'s, False when only
        the other way round, None when that does not decide it."""
        def points_to(here: str, there: str) -> bool:
            simple = there.rpartition(".")[2]
            names = {self._mapped[there].table or "", simple, simple.lower(), "".join(
                f"_{c.lower()}" if c.isupper() else c for c in simple).lstrip("_")}
            return bool(self._mapped[here].foreign_keys & names)

        forward, backward = points_to(source, target), points_to(target, source)
        return forward if forward != backward else None

    def _add_backrefs(self, mapped: dict[str, ClassInfo]) -> None:
        """`relationship("Address", backref="user")` also maps `Address.user`."""
        for name, info in mapped.items():
            for rel in list(info.relationships.values()):
                target = self.relationship_target(name, rel.attr) if rel.backref else None
                if target is None or rel.backref in mapped[target].relationships:
                    continue
                many_to_one = self._many_to_one(target, name)
                uselist = True if rel.secondary else (not many_to_one) if (
                    many_to_one is not None) else (
                    None if rel.uselist is None else not rel.uselist)
                mapped[target].relationships[rel.backref] = RelationshipInfo(
                    rel.backref, name, uselist, rel.backref_lazy)

    @property
    def schema_classes(self) -> set[str]:
        """Project pydantic models (and SQLModel models without a table) by qualified name."""
        if self._schemas is None:
            classes = self._classes()
            found = {api.PYDANTIC_BASE, api.SQLMODEL_BASE}
            changed = True
            while changed:
                changed = False
                for name, (ix, info) in classes.items():
                    if name not in found and name not in self.mapped_classes and any(
                            self.project.qualify(ix, base) in found for base in info.bases):
                        found.add(name)
                        changed = True
            self._schemas = found - {api.PYDANTIC_BASE, api.SQLMODEL_BASE}
        return self._schemas

    # -- relationships --------------------------------------------------------------------------
    def relationship(self, class_qualname: str, attr: str) -> RelationshipInfo | None:
        """The relationship `attr` of a mapped class, if it is one."""
        info = self.mapped_classes.get(class_qualname)
        return info.relationships.get(attr) if info else None

    def relationship_target(self, class_qualname: str, attr: str) -> str | None:
        """Qualified mapped class a relationship points to, if it can be resolved."""
        rel = self.relationship(class_qualname, attr)
        if rel is None or rel.target is None:
            return None
        ix = self.project.modules.get(class_qualname.rpartition(".")[0])
        if ix is not None:
            qualified = self.project.qualify(ix, rel.target)
            if qualified in self.mapped_classes:
                return qualified
        simple = rel.target.rpartition(".")[2]
        same_name = [q for q in self.mapped_classes if q.rpartition(".")[2] == simple]
        return same_name[0] if len(same_name) == 1 else None

    def relationship_paths(self, class_qualname: str, chain: str) -> list[tuple[str, ...]]:
        """The relationship hops an attribute chain walks from a class: "lines.book.title" on
        Order → [(Order, lines), (OrderLine, book)] as qualified "Class.attr" names."""
        hops: list[tuple[str, ...]] = []
        current = class_qualname
        for attr in chain.split("."):
            if self.relationship(current, attr) is None:
                break
            hops.append((current, attr))
            target = self.relationship_target(current, attr)
            if target is None:
                break
            current = target
        return hops

    def loader(self, class_qualname: str, attr: str) -> str:
        """The loader option for one hop: `selectinload` for collections, `joinedload` for
        many-to-one, `undefer` for a deferred column."""
        relationship = self.relationship(class_qualname, attr)
        if relationship is None:
            return "undefer"
        return "joinedload" if relationship.uselist is False else "selectinload"

    def subclass_column(self, class_qualname: str, attr: str) -> list[str]:
        """The mapped subclasses of a class that map `attr` when the class itself (and its
        bases) does not: loading the class's objects leaves that column unloaded on them."""
        found = self.project.lookup(class_qualname)
        if found is None or self._declares(class_qualname, attr):
            return []
        ix, cls = found
        return [sub for sub in self.mapped_subclasses(ix, cls)
                if attr in self.mapped_classes[sub].columns]

    def _declares(self, class_qualname: str, attr: str, depth: int = 0) -> bool:
        found = self.project.lookup(class_qualname)
        if found is None or found[1] not in found[0].classes or depth > 8:
            return True  # unknown: assume it does
        ix, cls = found
        info = ix.classes[cls]
        if attr in info.columns or attr in info.relationships or (
                f"{cls}.{attr}" in ix.functions):
            return True
        return any(self._declares(self.project.qualify(ix, base), attr, depth + 1)
                   for base in info.bases if self.project.qualify(ix, base) in (
                       self.mapped_classes))

    def loads_implicitly(self, class_qualname: str, attr: str) -> bool:
        """Reading the relationship may emit a lazy load: not eager, dynamic or raising."""
        relationship = self.relationship(class_qualname, attr)
        return relationship is not None and relationship.lazy in (None, "select", "True")

    @property
    def name_readers(self) -> frozenset[str]:
        """Names of model methods (mixins' too) that read attributes by a name known only at
        run time (`getattr(self, key)`, a serializer), on models with relationships that load
        implicitly; no other function of the project has such a name and is `async def`."""
        if self._name_readers is None:
            found: set[str] = set()
            asynchronous: set[str] = set()
            for ix in self.project.modules.values():
                for qualname_, info in ix.functions.items():
                    name = qualname_.rpartition(".")[2]
                    if info.is_async:
                        asynchronous.add(name)
                    owner = info.owner_class
                    if not info.reads_by_name or owner is None or owner not in ix.classes:
                        continue
                    own = qualname(ix, owner)
                    models = [own] if own in self.mapped_classes else self.mapped_subclasses(
                        ix, owner)
                    if any(self.loads_implicitly(model, attr) for model in models
                           for attr in self.mapped_classes[model].relationships):
                        found.add(name)
            self._name_readers = frozenset(found - asynchronous)
        return self._name_readers

    def joined_collections(self, class_qualname: str) -> bool:
        """True when the mapper eagerly joins a collection (rows repeat: `.unique()` required)."""
        info = self.mapped_classes.get(class_qualname)
        return info is not None and any(
            r.lazy == "joined" and r.uselist is not False for r in info.relationships.values())

    # -- names of mapped classes ----------------------------------------------------------------
    def mapped_class(self, ix: ModuleIndex, scope: str, dotted: str, depth: int = 0
                     ) -> str | None:
        """Qualified name of the mapped class `dotted` names (aliases: see `is_alias`); `cls`
        and `self.__class__` in a method of a mapped class name that class."""
        project = self.project
        if dotted in ("cls", "self.__class__"):
            owner = project.owner_class(ix, scope)
            if owner is not None and qualname(ix, owner) in self.mapped_classes:
                return qualname(ix, owner)
        for binding in project.bindings(ix, scope, dotted):
            if binding.origin == CALL and project.qualify(ix, binding.targets[0]) in api.ALIASED:
                continue  # aliases resolved by the caller through `aliased_class`
            if binding.origin == ALIAS and depth < 8:
                if binding.targets[0] == dotted:  # `X = X` in a class body: the outer X
                    found_in = project.binding_scope(ix, scope, dotted) or ""
                    return self.mapped_class(ix, found_in.rpartition(".")[0], dotted,
                                             depth + 1) if found_in else None
                return self.mapped_class(ix, scope, binding.targets[0], depth + 1)
            if binding.origin == PARAM and not binding.targets and depth < 8:
                return self._passed_class(ix, project.binding_scope(ix, scope, dotted) or "",
                                          dotted, depth)
            return None
        qualified = project.qualify(ix, dotted)
        return qualified if qualified in self.mapped_classes else None

    def _passed_class(self, ix: ModuleIndex, function: str, param: str, depth: int
                      ) -> str | None:
        """The mapped class every call of `function` in the project passes for its
        unannotated parameter `param` (`def rows(session, model)` called only as
        `rows(s, Book)`), if it is always the same one."""
        ref = (ix.module, function)
        if function not in ix.functions:
            return None
        key = (ix.module, function, param)
        if key not in self._passed:
            self._passed[key] = None  # recursion guard: a parameter forwarded in a cycle
            passed = set()
            for caller_ix, site in self.project.callers(ref):
                given = self.project.argument_for(site, ref, param)
                passed.add(given and self.mapped_class(caller_ix, site.scope, given, depth + 1))
            self._passed[key] = passed.pop() if len(passed) == 1 else None
        return self._passed[key]

    def queried_entity(self, ix: ModuleIndex, scope: str, dotted: str) -> str | None:
        """The mapped class a `query(...)` argument names: `User`, `models.User`, `User.id`."""
        return self.mapped_class(ix, scope, dotted) or (
            "." in dotted and self.mapped_class(ix, scope, dotted.rpartition(".")[0])) or None

    def is_alias(self, ix: ModuleIndex, scope: str, name: str) -> bool:
        return any(b.origin == CALL and self.project.qualify(ix, b.targets[0]) in api.ALIASED
                   for b in self.project.bindings(ix, scope, name))

    def holds_some_model(self, ix: ModuleIndex, scope: str, dotted: str) -> bool:
        """`dotted` holds a mapped class the tool cannot name: a parameter, or `self.<attr>`
        assigned from one, annotated `type[X]` where X is a mapped class, a base of mapped
        classes or a TypeVar bound to one (a generic repository's `self.model`)."""
        project = self.project
        head, _, attr = dotted.partition(".")
        if head == "self" and attr and "." not in attr:
            owner = project.owner_class(ix, scope)
            held = [(m, s, b) for m, c in (project.lineage((ix, owner)) if owner else ())
                    for s, b in m.attribute_bindings.get(c, []) if b.name == attr]
        elif "." not in dotted:
            held = [(ix, scope, b) for b in project.bindings(ix, scope, dotted)]
        else:
            return False
        annotations = []  # every binding must be a typed parameter, or one assigned
        for m, s, b in held:
            given = [b] if b.origin == PARAM else project.bindings(m, s, b.targets[0]) if (
                b.origin == ALIAS and "." not in b.targets[0]) else []
            if not given or any(p.origin != PARAM for p in given):
                return False
            annotations += [(m, s, p.targets) for p in given]
        return bool(annotations) and all(
            names and project.qualify(m, names[0]) in _TYPE_OF and any(
                self._model_class_name(m, s, n) for n in names[1:])
            for m, s, names in annotations)

    def _model_class_name(self, ix: ModuleIndex, scope: str, name: str, depth: int = 0
                          ) -> bool:
        """`name` is a mapped class, a base of mapped classes, or a TypeVar bound to one."""
        if self.mapped_class(ix, scope, name):
            return True
        found = self.project.resolve_class(ix, name)
        if found is not None:
            return self.is_model_base(*found)
        return depth < 2 and any(
            b.origin == CALL and self.project.qualify(ix, b.targets[0]) in _TYPE_VARS
            and any(a and self._model_class_name(ix, "", a, depth + 1) for a in b.call_args)
            for b in self.project.bindings(ix, scope, name))

    def annotated_class(self, ix: ModuleIndex, scope: str, names: Iterable[str]) -> str | None:
        """The mapped class among the names of an annotation (`Optional[Order]` → Order)."""
        return next(filter(None, (self.mapped_class(ix, scope, n) for n in names)), None)
