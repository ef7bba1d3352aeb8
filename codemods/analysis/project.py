"""Names across the project's modules: what a qualified name points to, which bindings a
name has in a scope, which function a call refers to, and who calls whom."""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Iterator
from typing import TypeVar

from .. import api_surface as api
from ..index import ALIAS, CALL, ELEMENT, ENTER, PARAM, Binding, CallSite, ModuleIndex
from ..index.shapes import BUILDER_STEPS, root_callee  # BUILDER_STEPS: keep what is selected

FunctionRef = tuple[str, str]  # (module, qualname)
Caller = tuple[ModuleIndex, CallSite]
# scope → name → the name's bindings in that scope, in the index's order
ScopeBindings = dict[str, dict[str, list[Binding]]]
# names in a return annotation beside the class it names (`Optional[User]`, `User | None`)
_OPTIONAL = frozenset({"None", "Optional", "typing.Optional"})
# decorators making a method an attribute of the instance (what it returns is the value)
PROPERTY_DECORATORS = frozenset({"property", "cached_property", "hybrid_property"})
_Answer = TypeVar("_Answer")
# Questions nested deeper answer None (a chain of a thousand aliases stays within the
# recursion limit; each question is a few frames).
_MOST_NESTED = 40


def scope_chain(scope: str) -> list[str]:
    """`scope` and its enclosing scopes, innermost first, ending with the module ("")."""
    parts = scope.split(".") if scope else []
    return [".".join(parts[:i]) for i in range(len(parts), -1, -1)]


def qualname(ix: ModuleIndex, name: str) -> str:
    return f"{ix.module}.{name}" if ix.module else name


def through_run_sync(site: CallSite) -> CallSite:
    """`session.run_sync(f, a, b)` as the call `f(a, b)` it makes (with the sync session
    first, like the `self` of a bound method: `parameters_given` skips it)."""
    if not site.callee.endswith(".run_sync") or not site.args or site.args[0] is None:
        return site
    return CallSite(site.scope, site.args[0], ("<sync session>", *site.args[1:]),
                    site.kwargs, site.line)


def _by_name(ix: ModuleIndex) -> ScopeBindings:
    table: ScopeBindings = {}
    for scope, bindings in ix.bindings.items():
        names = table.setdefault(scope, {})
        for binding in bindings:
            names.setdefault(binding.name, []).append(binding)
    return table


class Project:
    """The modules of one run and the call graph between them (state-free, cached)."""

    def __init__(self, modules: dict[str, ModuleIndex]) -> None:
        self.modules = modules
        # Keyed by id: a module whose name another file shadows in `modules` is asked about
        # too; the index is kept alongside so the id stays its own.
        self._bindings: dict[int, tuple[ModuleIndex, ScopeBindings]] = {}
        self._callers: dict[FunctionRef, list[Caller]] | None = None
        self._run_sync_callers: dict[FunctionRef, list[Caller]] | None = None
        self._subclass_table: dict[tuple[str, str], set[tuple[str, str]]] | None = None
        self._by_suffix: dict[str, list[str]] | None = None
        self._lookups: dict[str, tuple[ModuleIndex, str] | None] = {}
        self._starred: dict[tuple[int, str], str | None] = {}  # `_star_source`'s answers
        self._importers: dict[str, list[str]] | None = None
        self._passed_on: dict[str, set[str]] | None = None  # module → names others import
        # What a name holds, which function a call runs, what a function returns: questions
        # that ask each other (see `_remembered`); keyed by the index's id, like `_bindings`.
        self._functions: dict[tuple[int, str, str], FunctionRef | None] = {}
        self._instances: dict[tuple[int, str, str], tuple[ModuleIndex, str] | None] = {}
        self._returned: dict[tuple[FunctionRef, int | None], tuple[ModuleIndex, str] | None] = {}
        self._conftests: list[ModuleIndex] | None = None
        self._asking: dict[tuple[int, Hashable], int] = {}  # unfinished → its place below
        self._earliest: list[int] = []  # per unfinished question, the first one it met
        self._for_now: dict[tuple[int, Hashable], object] = {}  # answers not kept, see there

    # -- bindings -------------------------------------------------------------------------------
    def scope_bindings(self, ix: ModuleIndex) -> ScopeBindings:
        """The module's bindings by scope and name, built on first use (lookups, not scans:
        a big module has thousands of bindings per scope)."""
        found = self._bindings.get(id(ix))
        if found is None:
            found = self._bindings[id(ix)] = (ix, _by_name(ix))
        return found[1]

    def bound_in(self, ix: ModuleIndex, scope: str, name: str) -> list[Binding]:
        """The bindings of `name` in exactly `scope`."""
        return self.scope_bindings(ix).get(scope, {}).get(name, [])

    def binding_scope(self, ix: ModuleIndex, scope: str, name: str) -> str | None:
        """The innermost scope (from `scope` outwards) that binds `name`, if any."""
        table = self.scope_bindings(ix)
        while True:  # `scope_chain(scope)`, innermost first, without building it
            names = table.get(scope)
            if names is not None and name in names:
                return scope
            if not scope:
                return None
            scope = scope.rpartition(".")[0]

    def bindings(self, ix: ModuleIndex, scope: str, name: str) -> list[Binding]:
        """The bindings of `name` in the innermost scope binding it."""
        found_in = self.binding_scope(ix, scope, name)
        return [] if found_in is None else self.bound_in(ix, found_in, name)

    # -- qualified names ------------------------------------------------------------------------
    def lookup(self, qualified: str, depth: int = 0) -> tuple[ModuleIndex, str] | None:
        """The project module and top-level name a qualified name points to (following imports)."""
        if depth == 0:  # (asked for most names of every module: remembered)
            if qualified not in self._lookups:
                self._lookups[qualified] = self._lookup(qualified, 0)
            return self._lookups[qualified]
        return self._lookup(qualified, depth)

    def _lookup(self, qualified: str, depth: int) -> tuple[ModuleIndex, str] | None:
        parts = qualified.split(".")
        for cut in range(len(parts) - 1, -1, -1):
            module = self._module_named(".".join(parts[:cut]))
            if module is not None:
                ix = self.modules[module]
                name = ".".join(parts[cut:])
                head = name.split(".")[0]
                if head in ix.imports and head not in ix.module_names and depth < 8:
                    return self.lookup(ix.qualify(name), depth + 1)
                starred = self._star_source(ix, head) if (
                    ix.star_imports and head not in ix.module_names and depth < 8) else None
                if starred is not None:  # `from .models import *` in a package's __init__
                    return self.lookup(starred + name.removeprefix(head), depth + 1)
                return ix, name
        return None

    def qualified_in(self, ix: ModuleIndex, dotted: str) -> str:
        """`ix.qualify(dotted)`; for a name the module binds no other way, the one a `from m
        import *` of a project module gives it."""
        qualified = ix.qualify(dotted)
        if qualified != dotted or not ix.star_imports:
            return qualified
        head = dotted.partition(".")[0]
        starred = self._star_source(ix, head)
        return qualified if starred is None else starred + dotted.removeprefix(head)

    def module_named(self, name: str) -> ModuleIndex | None:
        """The project module an absolute import of `name` finds (see `_module_named`)."""
        found = self._module_named(name)
        return None if found is None else self.modules[found]

    def star_imported(self, ix: ModuleIndex) -> list[ModuleIndex]:
        """The project modules `ix` takes every name of (`from .core import *`)."""
        return [found for found in map(self.module_named, ix.star_imports) if found]

    def _star_source(self, ix: ModuleIndex, head: str, depth: int = 0) -> str | None:
        """The qualified name `head` has in `ix` through its `from m import *` of project
        modules, when one of them exports it (the last one does: it binds the name last)."""
        key = (id(ix), head)
        if depth == 0 and key in self._starred:
            return self._starred[key]
        found = None
        if depth <= 8 and head not in ix.imports:
            for base in reversed(ix.star_imports):
                module = self._module_named(base)
                if module is not None and self._exports(self.modules[module], head, depth):
                    found = f"{module}.{head}"
                    break
        if depth == 0:
            self._starred[key] = found
        return found

    def _exports(self, ix: ModuleIndex, head: str, depth: int) -> bool:
        """`from <ix> import *` binds `head`: its `__all__` names it, or (no literal
        `__all__`) a public name the module binds, also through its own `import *`."""
        if ix.exports is not None:
            return head in ix.exports
        return not head.startswith("_") and (
            head in ix.module_names or head in ix.imports
            or self._star_source(ix, head, depth + 1) is not None)

    def _module_named(self, name: str) -> str | None:
        """The project module an absolute import of `name` finds: itself, or the one module
        whose name ends with it (`user_endpoints` for `app.user_endpoints`, imported with
        `app/` on sys.path, as test suites and scripts often arrange)."""
        if name in self.modules:
            return name
        if not name or name.partition(".")[0] in sys.stdlib_module_names:
            return None
        if self._by_suffix is None:
            self._by_suffix = {}
            for module in self.modules:
                parts = module.split(".")
                for i in range(1, len(parts)):
                    self._by_suffix.setdefault(".".join(parts[i:]), []).append(module)
        found = self._by_suffix.get(name, [])
        return found[0] if len(found) == 1 else None

    def import_root(self, ix: ModuleIndex) -> str:
        """The leading part of the project's module names that `ix`'s own imports leave out:
        `shop.` when `shop/views/items.py` imports `models` for `shop/models.py` (the run
        names namespace packages from the folder holding all its code; the module itself
        runs with `shop/` on sys.path). "" when its imports spell names in full, or tell
        nothing. The first import that resolves decides (source order: deterministic)."""
        for qualified in ix.imports.values():
            parts = qualified.split(".")
            for cut in range(len(parts), 0, -1):
                written = ".".join(parts[:cut])
                found = self._module_named(written)
                if found is not None:
                    return found.removesuffix(written) if found != written else ""
        return ""

    def importers(self, module: str) -> list[str]:
        """The other project modules that import `module` or a name from it. `import a.b.c`
        is indexed as `import a`: such an import counts for every module below `a`."""
        if self._importers is None:
            self._importers = {}
            for ix in self.modules.values():
                for base in ix.star_imports:
                    found = self._module_named(base)
                    if found is not None:
                        self._importers.setdefault(found, []).append(ix.module)
                for local, qualified in ix.imports.items():
                    if local == qualified and "." not in qualified:  # maybe `import a.b.c`
                        found = self._module_named(qualified) or qualified
                        self._importers.setdefault(f"{found}.*", []).append(ix.module)
                        continue
                    parts = qualified.split(".")
                    for cut in range(len(parts), 0, -1):
                        found = self._module_named(".".join(parts[:cut]))
                        if found is not None:
                            self._importers.setdefault(found, []).append(ix.module)
                            break
        found = [*self._importers.get(module, ()), *(
            importer for key, importers in self._importers.items() if key.endswith(".*")
            and f"{module}.".startswith(key[:-1]) for importer in importers)]
        return sorted(set(found) - {module})

    def passed_on(self, module: str, name: str) -> bool:
        """Another project module imports `name` from `module` (`from .core import
        sessionmaker`, or a `from .core import *` that binds it where it is read or passed on
        further): the import `module` has of it must stay even when it reads it no more."""
        if self._passed_on is None:
            self._passed_on = {}
            for ix in self.modules.values():
                for base in ix.star_imports:
                    if (found := self._module_named(base)) is not None:
                        self._passed_on.setdefault(found, set()).add(f"*{ix.module}")
                for qualified in ix.imports.values():
                    source, _, imported = qualified.rpartition(".")
                    if source and (found := self._module_named(source)) is not None:
                        self._passed_on.setdefault(found, set()).add(imported)
        return self._passed_on_from(module, name, set())

    def _passed_on_from(self, module: str, name: str, seen: set[str]) -> bool:
        names = self._passed_on.get(module, set()) if self._passed_on else set()
        if name in names:
            return True
        seen.add(module)
        starred = [m[1:] for m in names if m.startswith("*") and m[1:] not in seen]
        return bool(starred) and self._exports(self.modules[module], name, 0) and any(
            any(name in read for read in self.modules[importer].names_read.values())
            or self._passed_on_from(importer, name, seen) for importer in starred)

    def qualify(self, ix: ModuleIndex, dotted: str) -> str:
        """Qualified name, with project re-exports followed to the defining module; a name
        project modules only pass on from outside is the outside one (`sessionmaker` after
        `from .core import sessionmaker`, where core.py imports it from sqlalchemy.orm, is
        `sqlalchemy.orm.sessionmaker`)."""
        qualified = self.qualified_in(ix, dotted)
        found = self.lookup(qualified)
        if found and found[0].module:
            return f"{found[0].module}.{found[1]}"
        for _ in range(8):
            parts = qualified.split(".")
            for cut in range(len(parts) - 1, 0, -1):
                module = self._module_named(".".join(parts[:cut]))
                passing = self.modules.get(module) if module else None
                if passing is not None:
                    if parts[cut] not in passing.imports or parts[cut] in passing.module_names:
                        return qualified
                    qualified = passing.qualify(".".join(parts[cut:]))
                    break
            else:
                return qualified
        return qualified

    def unaliased(self, qualified: str) -> str:
        """A qualified name with module-level aliases followed: `Model` after
        `Model = db.Model` is `<module>.db.Model`."""
        for _ in range(8):
            found = self.lookup(qualified)
            if found is None or "." in found[1]:
                return qualified
            aliases = [b for b in self.bound_in(found[0], "", found[1]) if b.origin == ALIAS]
            if len(aliases) != 1 or aliases[0].targets[0] == found[1]:
                return qualified
            qualified = self.qualify(found[0], aliases[0].targets[0])
        return qualified

    @property
    def dialects_without_returning(self) -> set[str]:
        """Dialects of the project's URL literals that have no INSERT ... RETURNING, so server
        defaults are expired after a flush."""
        return {d for ix in self.modules.values() for d in ix.url_dialects if d == "mysql"}

    # -- functions and classes ------------------------------------------------------------------
    @staticmethod
    def owner_class(ix: ModuleIndex, scope: str) -> str | None:
        for s in scope_chain(scope):
            info = ix.functions.get(s)
            if info and info.owner_class:
                return info.owner_class
        return None

    def _remembered(self, table: dict, key: Hashable,
                    answer: Callable[[], _Answer | None]) -> _Answer | None:
        """`answer()`, worked out once and kept in `table`, for the questions that ask each
        other. Re-asked while it is being answered (`node = node.next()`, a function returning
        what it calls itself), a question answers None there, as does one asked more than
        `_MOST_NESTED` questions deep. An answer that met either depends on where the chain
        was entered, so it is kept only at the question that was unfinished (the first of a
        cycle) and otherwise only until the question first asked is answered; whatever uses
        it is not kept either. Remembering is what keeps this linear: a chain of helpers each
        building from the last asks the same questions through every path to them."""
        if key in table:
            return table[key]
        asked = (id(table), key)
        place = len(self._earliest)
        at = -1 if asked in self._for_now or place > _MOST_NESTED else self._asking.get(asked)
        if at is not None:
            self._earliest[-1] = min(self._earliest[-1], at)
            return self._for_now.get(asked)
        self._asking[asked] = place
        self._earliest.append(place)
        try:
            found = answer()
        finally:
            del self._asking[asked]
            earliest = self._earliest.pop()
            if not self._earliest:
                self._for_now.clear()
        if earliest >= place:
            table[key] = found
        elif self._earliest:
            self._earliest[-1] = min(self._earliest[-1], earliest)
            self._for_now[asked] = found
        return found

    def resolve_function(self, ix: ModuleIndex, scope: str, callee: str) -> FunctionRef | None:
        """Which project function a call `callee(...)` made in `scope` refers to: a function,
        a constructor's `__init__`, or a method (inherited ones too) of an instance the
        receiver holds — `repo.load()` with `repo = UserRepo(...)`, `repo: UserRepo`,
        `self.repo` set from either, or a module-level instance, imported or re-exported
        (`crud.user.get()` with `user = CRUDUser(User)` in `crud/crud_user.py`)."""
        return self._remembered(self._functions, (id(ix), scope, callee),
                                lambda: self._resolve_function(ix, scope, callee))

    def _resolve_function(self, ix: ModuleIndex, scope: str, callee: str) -> FunctionRef | None:
        if callee.startswith("super()."):  # the nearest base's method
            owner = self.owner_class(ix, scope)
            bases = list(self.lineage((ix, owner)))[1:] if owner in ix.classes else []
            method = callee.removeprefix("super().")
            return next(((m.module, f"{c}.{method}") for m, c in bases
                         if f"{c}.{method}" in m.functions), None)
        if "()." in callee:  # `Repo(session).load()`: a method of a fresh instance
            owner, _, method = callee.partition("().")
            cls = self.resolve_class(ix, owner)
            return self.method_of(cls, method) if cls else None
        head, _, rest = callee.partition(".")
        if head in ("self", "cls") and rest and "." not in rest:
            owner = self.owner_class(ix, scope)
            return self.method_of((ix, owner), rest) if owner in ix.classes else None
        receiver, _, method = callee.rpartition(".")
        if receiver:
            cls = self.instance_class(ix, scope, receiver) or (
                None if self.bindings(ix, scope, receiver) else self.resolve_class(ix, receiver))
            if cls is not None:  # an instance's method, or a class's (`User.create(...)`)
                return self.method_of(cls, method)
            if "." not in receiver and self.bindings(ix, scope, receiver):
                return None  # a local variable the tool cannot type
        table = self.scope_bindings(ix)
        for s in scope_chain(scope):
            if s in ix.classes and s != scope:
                continue  # a class body is no enclosing scope for its methods' names
            candidate = f"{s}.{callee}" if s else callee
            if candidate in ix.functions:
                return ix.module, candidate
            if s and head in table.get(s, {}):
                return None  # shadowed by a local variable
        cls = self.resolve_class(ix, callee)
        if cls is not None:  # a constructor call: its __init__
            init = f"{cls[1]}.__init__"
            return (cls[0].module, init) if init in cls[0].functions else None
        qualified = self.qualified_in(ix, callee)
        if qualified == callee and head not in ix.imports:  # (`import db`: `db.f()`)
            return None
        found = self.lookup(qualified)
        if found and found[1] in found[0].functions:
            return found[0].module, found[1]
        return None

    def instance_class(self, ix: ModuleIndex, scope: str, dotted: str
                       ) -> tuple[ModuleIndex, str] | None:
        """The project class of the instance a name (or `self.attr`, or a module attribute)
        holds, when a binding says so: built by calling the class, or annotated with it."""
        return self._remembered(self._instances, (id(ix), scope, dotted),
                                lambda: self._instance_class(ix, scope, dotted))

    def _instance_class(self, ix: ModuleIndex, scope: str, dotted: str
                        ) -> tuple[ModuleIndex, str] | None:
        head, _, attr = dotted.partition(".")
        if head == "self" and attr and "." not in attr:
            owner = self.owner_class(ix, scope)
            return self._member_class((ix, owner), attr) if owner else None
        bindings = [] if "." in dotted else self.bindings(ix, scope, dotted)
        if bindings:
            found = next(filter(None, (self._binding_class(ix, scope, b)
                                       for b in bindings)), None)
            return found or (self._fetched_class(ix, scope, bindings)
                             if dotted in ix.loads.get(scope, ()) else None)
        if dotted in ix.loads.get(scope, ()):
            return self._loaded_class(ix, scope, dotted)
        qualified = self.qualified_in(ix, dotted)
        found = self.lookup(qualified) if qualified != dotted else None
        if found and "." not in found[1] and found[1] not in found[0].classes:
            return self.instance_class(found[0], "", found[1])
        receiver, _, attr = dotted.rpartition(".")
        owner = self.instance_class(ix, scope, receiver) if receiver else None
        return self._member_class(owner, attr) if owner else None

    def _member_class(self, cls: tuple[ModuleIndex, str], attr: str
                      ) -> tuple[ModuleIndex, str] | None:
        """The project class of `obj.attr` on an instance of `cls`: what the class or its
        nearest base declares, assigns or returns from a property of that name."""
        return next(filter(None, (self._attribute_class(m, c, attr)
                                  for m, c in self.lineage(cls))), None)

    def _fetched_class(self, ix: ModuleIndex, scope: str, bindings: list[Binding]
                       ) -> tuple[ModuleIndex, str] | None:
        """`post = session.get(Post, 1)` (a name the index saw loaded): a Post."""
        return _one_class([self.resolve_class(ix, b.call_args[0]) if b.origin == CALL and (
            b.targets[0].endswith(".get") and b.call_args and b.call_args[0]) else None
            for b in bindings])

    def _loaded_class(self, ix: ModuleIndex, scope: str, name: str
                      ) -> tuple[ModuleIndex, str] | None:
        """`for person in session.scalars(stmt)` (or SQLModel's `session.exec(stmt)`, also
        through a variable: `results = session.exec(stmt)`, `for person in results`) where
        every start of the statement variable `stmt` is `select(Person)` (refined by its own
        methods): `person` is a Person."""
        root, chain = ix.aliases.get(scope, {}).get(name, ("", ""))
        root = root_callee(root)
        if chain or not root.endswith((".scalars()", ".exec()")):  # (SQLModel's exec())
            return None
        sites = [site for site in self.calls_in(ix, scope) if site.callee == root[:-2]]
        statement = sites[0].args[0] if len(sites) == 1 and sites[0].args else None
        sources = ix.loop_sources.get(scope, {}).get(name, ())
        source = sources[0] if len(sources) == 1 else None
        if len(sites) > 1 and source is not None:  # `results = session.exec(sql)`, then
            calls = [b for b in self.bindings(ix, scope, source) if b.origin == CALL]  # a loop
            if len(calls) == 1 and calls[0].targets[0] == root[:-2] and calls[0].call_args:
                statement = calls[0].call_args[0]
        if statement is None or statement.endswith("()"):
            return None
        entities = set()
        for binding in self.bindings(ix, scope, statement):
            target = binding.targets[0] if binding.origin == CALL else ""
            refined = target.startswith(f"{statement}.")  # `stmt = stmt.where(...)`
            head, *steps = target.removeprefix(f"{statement}." if refined else "").split("().")
            if any(step not in BUILDER_STEPS for step in ([head] if refined else []) + steps):
                return None
            if refined:
                continue
            if self.qualify(ix, head) not in api.SELECT_FUNCTIONS:
                return None
            # `select(X)`, or `select(X).where(...)` whose select() is the scope's only one
            selects = [binding.call_args] if not steps else [
                site.args for site in self.calls_in(ix, scope) if site.callee == head]
            if len(selects) != 1 or len(selects[0]) != 1 or selects[0][0] is None:
                return None
            entities.add(selects[0][0])
        return self.resolve_class(ix, entities.pop()) if len(entities) == 1 else None

    def _attribute_class(self, ix: ModuleIndex, owner: str, attr: str
                         ) -> tuple[ModuleIndex, str] | None:
        """`uow.products` where `uow`'s class declares `products: Repository` or its methods
        assign one."""
        assigned = [(s, b) for s, b in ix.attribute_bindings.get(owner, []) if b.name == attr]
        declared = [(owner, b) for b in self.bound_in(ix, owner, attr)]
        found = next(filter(None, (self._binding_class(ix, s, b)
                                   for s, b in [*declared, *assigned])), None)
        prop = ix.functions.get(f"{owner}.{attr}")
        if found is None and prop is not None and any(  # `@property def base(self) -> Base:`
                d.rpartition(".")[2] in PROPERTY_DECORATORS for d in prop.decorators):
            return self._returned_by((ix.module, prop.qualname), None)
        return found

    def _binding_class(self, ix: ModuleIndex, scope: str, binding: Binding
                       ) -> tuple[ModuleIndex, str] | None:
        if binding.origin == CALL:
            return self.resolve_class(ix, binding.targets[0]) or self._returned_class(
                ix, scope, binding.targets[0], None)
        if binding.origin == ELEMENT:  # `person, created = get_or_create(...)`
            return self._returned_class(ix, scope, binding.targets[0], binding.element)
        if binding.origin == PARAM:
            return next(filter(None, (self.resolve_class(ix, t) for t in binding.targets)),
                        None) or self._fixture_class(ix, scope, binding.name)
        if binding.origin == ALIAS:
            return self.instance_class(ix, scope, binding.targets[0])
        if binding.origin == ENTER:  # `with SqlUnit(factory) as unit:`
            cls = self.resolve_class(ix, binding.targets[0])
            return cls if cls and self._enters_itself(cls) else None
        return None

    def _returned_class(self, ix: ModuleIndex, scope: str, callee: str, element: int | None
                        ) -> tuple[ModuleIndex, str] | None:
        """The project class of what a project function returns (for `element`, at that
        position of the tuples it returns): the class its return annotation names (`-> Person`,
        `-> Person | None`), else the one class every return hands back."""
        ref = self.resolve_function(ix, scope, callee)
        return None if ref is None else self._returned_by(ref, element)

    def _returned_by(self, ref: FunctionRef, element: int | None
                     ) -> tuple[ModuleIndex, str] | None:
        return self._remembered(self._returned, (ref, element),
                                lambda: self._returns(ref, element))

    def _returns(self, ref: FunctionRef, element: int | None) -> tuple[ModuleIndex, str] | None:
        module = self.modules[ref[0]]
        info = module.functions[ref[1]]
        if info.is_generator or ref[1].endswith(".__init__"):
            return None
        named = [r for r in info.returns if r not in _OPTIONAL]
        if element is None and named:
            return self.resolve_class(module, named[0]) if len(named) == 1 else None
        produced = info.produces if element is None else [
            values[element] if element < len(values) else None for values in info.returns_tuples]
        return _one_class([self._produced_class(module, ref[1], p) if p else None
                           for p in produced])

    def _produced_class(self, ix: ModuleIndex, scope: str, produced: str
                        ) -> tuple[ModuleIndex, str] | None:
        """The class of what a function returns or yields, as `FunctionInfo.produces` names
        it: a name, or `f()` for a call's result (a class's: an instance of it)."""
        if not produced.endswith("()"):
            return self.instance_class(ix, scope, produced)
        return self.resolve_class(ix, produced[:-2]) or self._returned_class(
            ix, scope, produced[:-2], None)

    def is_fixture(self, ix: ModuleIndex, function: str) -> bool:
        info = ix.functions.get(function)
        return info is not None and any(
            self.qualify(ix, d) == "pytest.fixture" for d in info.decorators)

    def fixture_for(self, ix: ModuleIndex, scope: str, name: str
                    ) -> tuple[ModuleIndex, str] | None:
        """The pytest fixture a test's or fixture's parameter `name` is handed: the fixture
        function of that name in the module, or else in a conftest.py."""
        function = ix.functions.get(scope)
        if function is None or name not in function.params or not (
                scope.rpartition(".")[2].startswith("test") or self.is_fixture(ix, scope)):
            return None
        if self._conftests is None:
            self._conftests = [m for m in self.modules.values() if m.path.endswith("conftest.py")]
        return next(((m, name) for m in [ix, *self._conftests] if self.is_fixture(m, name)),
                    None)

    def _fixture_class(self, ix: ModuleIndex, scope: str, name: str
                       ) -> tuple[ModuleIndex, str] | None:
        """`def test_x(service)`: an instance of the project class the fixture `service`
        returns or yields."""
        found = self.fixture_for(ix, scope, name)
        if found is None:
            return None
        module, fixture = found
        if not module.functions[fixture].is_generator:
            return self._returned_by((module.module, fixture), None)
        return _one_class([self._produced_class(module, fixture, p)
                           for p in module.functions[fixture].produces])

    def _enters_itself(self, cls: tuple[ModuleIndex, str]) -> bool:
        """The class's `__enter__` returns the instance: `return self`, also through
        `return super().__enter__()` to a base that does, or an annotation naming the class
        or a base of it (`-> AbstractUnitOfWork`)."""
        classes = list(self.lineage(cls))
        for module, name in classes:
            enter = module.functions.get(f"{name}.__enter__")
            if enter is None:
                continue
            if "self" in enter.produces or any(
                    self.resolve_class(module, r) in classes for r in enter.returns):
                return True
            if "super().__enter__()" not in enter.produces:
                return False
        return False

    def lineage(self, cls: tuple[ModuleIndex, str]) -> Iterator[tuple[ModuleIndex, str]]:
        """A project class, then its project bases, nearest first, each once."""
        todo, seen = [cls], set()
        while todo:
            module, name = todo.pop(0)
            if (module.module, name) in seen or name not in module.classes:
                continue
            seen.add((module.module, name))
            yield module, name
            todo.extend(filter(None, (self.resolve_class(module, b)
                                      for b in module.classes[name].bases)))

    def same_method(self, ref: FunctionRef) -> list[FunctionRef]:
        """The methods of that name in the classes above and below the method's class: an
        override and what it overrides are called alike (`self.repo.get()` on a base type
        reaches a subclass's method)."""
        module, qualname_ = ref
        owner, _, method = qualname_.rpartition(".")
        ix = self.modules[module]
        if owner not in ix.classes:
            return []
        family = {(m.module, c) for m, c in self.lineage((ix, owner))}
        family |= self.subclasses(ix, owner)
        return [(m, f"{c}.{method}") for m, c in family if (m, c) != (module, owner)
                and f"{c}.{method}" in self.modules[m].functions]

    def overridden(self, ref: FunctionRef) -> list[FunctionRef]:
        """The methods of that name in the classes above the method's class, which it
        overrides: a call of one of them on `self` (`self._get()` in a base class) may run
        it."""
        module, qualname_ = ref
        owner, _, method = qualname_.rpartition(".")
        ix = self.modules[module]
        if owner not in ix.classes:
            return []
        return [(m.module, f"{c}.{method}") for m, c in self.lineage((ix, owner))
                if (m.module, c) != (module, owner) and f"{c}.{method}" in m.functions]

    def subclasses(self, ix: ModuleIndex, name: str) -> set[tuple[str, str]]:
        """(module, class) of the project classes below the class `name` of `ix`."""
        return self._subclasses().get((ix.module, name), set())

    def _subclasses(self) -> dict[tuple[str, str], set[tuple[str, str]]]:
        if self._subclass_table is None:
            self._subclass_table = {}
            for ix in self.modules.values():
                for name in ix.classes:
                    for base, base_name in list(self.lineage((ix, name)))[1:]:
                        self._subclass_table.setdefault((base.module, base_name), set()).add(
                            (ix.module, name))
        return self._subclass_table

    def method_of(self, cls: tuple[ModuleIndex, str], method: str) -> FunctionRef | None:
        """`method` as the class defines or inherits it from a project base."""
        return next(((module.module, f"{name}.{method}") for module, name in self.lineage(cls)
                     if f"{name}.{method}" in module.functions), None)

    def resolve_class(self, ix: ModuleIndex, dotted: str) -> tuple[ModuleIndex, str] | None:
        """The project class a name refers to (local or imported)."""
        if dotted in ix.classes and "." not in dotted:
            return ix, dotted
        qualified = self.qualified_in(ix, dotted)
        if qualified == dotted and dotted.partition(".")[0] not in ix.imports:
            return None  # (`import shop`: `shop.Order` is already qualified)
        found = self.lookup(qualified)
        if found and found[1] in found[0].classes:
            return found
        return None

    def ancestors(self, ix: ModuleIndex, dotted: str) -> list[str]:
        """Qualified names of the bases of the project class `dotted` names, and of their
        bases through project classes (nearest first): `class AppDB(SQLAlchemy)` has
        `flask_sqlalchemy.SQLAlchemy` among them."""
        cls = self.resolve_class(ix, dotted)
        found = [self.unaliased(self.qualify(module, base))
                 for module, name in (self.lineage(cls) if cls else ())
                 for base in module.classes[name].bases]
        return list(dict.fromkeys(found))

    def class_with_method_in(self, ix: ModuleIndex, dotted: str,
                             functions: frozenset[FunctionRef]) -> bool:
        """The class `dotted` names has a method among `functions`."""
        cls = self.resolve_class(ix, dotted)
        if cls is None:
            return False
        module, prefix = cls[0].module, f"{cls[1]}."
        return any((module, q) in functions for q in cls[0].functions if q.startswith(prefix))

    @staticmethod
    def defines_any(ix: ModuleIndex, functions: frozenset[FunctionRef]) -> bool:
        """Whether the module defines one of `functions` (without scanning the set)."""
        return any((ix.module, qualname) in functions for qualname in ix.functions)

    def implicit_self(self, callee: str, target: FunctionRef) -> int:
        """1 when a call `callee(...)` of `target` passes `self`/`cls` implicitly
        (`obj.method(x)`, `Cls.create(x)`, `Cls(x)`)."""
        info = self.modules[target[0]].functions[target[1]]
        bound = info.owner_class is not None and info.params[:1] in (("self",), ("cls",))
        return 1 if bound and ("." in callee or target[1].endswith(".__init__")) else 0

    def parameters_given(self, site: CallSite, target: FunctionRef, arg: str) -> list[str]:
        """The parameters of `target` that a call hands the dotted name `arg` to."""
        params = self.modules[target[0]].functions[target[1]].params
        shift = self.implicit_self(site.callee, target)
        given = [params[i + shift] for i, passed in enumerate(site.args)
                 if passed == arg and i + shift < len(params)]
        return given + [k for k, passed in site.kwargs if passed == arg and k in params]

    def argument_for(self, site: CallSite, target: FunctionRef, param: str) -> str | None:
        """The dotted name a call of `target` passes for its parameter `param`, if any."""
        params = self.modules[target[0]].functions[target[1]].params
        if param not in params:
            return None
        given = dict(site.kwargs).get(param)
        index = params.index(param) - self.implicit_self(site.callee, target)
        if given is None and 0 <= index < len(site.args):
            given = site.args[index]
        return given

    # -- the call graph -------------------------------------------------------------------------
    def calls_into(self, ix: ModuleIndex, site: CallSite,
                   functions: frozenset[FunctionRef]) -> bool:
        """The call reaches one of `functions`: directly, or as `session.run_sync(fn, ...)`."""
        if self.resolve_function(ix, site.scope, site.callee) in functions:
            return True
        return site.callee.endswith(".run_sync") and bool(site.args) and site.args[0] is not None \
            and self.resolve_function(ix, site.scope, site.args[0]) in functions

    def run_sync_callers(self, ref: FunctionRef) -> list[Caller]:
        """`session.run_sync(f, ...)` calls handing over the function."""
        if self._run_sync_callers is None:
            self._run_sync_callers = {}
            for ix in self.modules.values():
                for site in ix.calls:
                    if site.callee.endswith(".run_sync") and site.args and site.args[0] and (
                            target := self.resolve_function(ix, site.scope, site.args[0])):
                        self._run_sync_callers.setdefault(target, []).append((ix, site))
        return self._run_sync_callers.get(ref, [])

    def callers(self, ref: FunctionRef) -> list[Caller]:
        if self._callers is None:
            self._callers = {}
            for ix in self.modules.values():
                for site in ix.calls:
                    target = self.resolve_function(ix, site.scope, site.callee)
                    if target is not None:
                        self._callers.setdefault(target, []).append((ix, site))
        return self._callers.get(ref, [])

    def calls_in(self, ix: ModuleIndex, scope: str) -> list[CallSite]:
        """The calls in `scope` of the project module named like `ix`."""
        module = self.modules.get(ix.module)
        return [] if module is None else module.calls_in(scope)


def _one_class(classes: list[tuple[ModuleIndex, str] | None]) -> tuple[ModuleIndex, str] | None:
    """The class all of `classes` are (None where one is unknown or two differ)."""
    first = classes[0] if classes else None
    return first if first and all(
        c and (c[0].module, c[1]) == (first[0].module, first[1]) for c in classes) else None
