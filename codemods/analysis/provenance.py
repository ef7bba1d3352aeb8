"""Where a name's value comes from, in words, for the audit after colouring: why a receiver
is not recognised as a session, whether it is provably something outside the project, and
which functions that became async a call may reach by name.

State-free apart from the async set `by_name` is given; answers come from the index only.
"""

from __future__ import annotations

import builtins

from ..index import ALIAS, CALL, ENTER, PARAM, VALUE, Binding, ModuleIndex
from ..index.redefinitions import plain_name
from .kinds import Kinds, ObjKind
from .project import FunctionRef, Project

# Packages whose import makes a module database code (with the project modules importing them).
DATABASE_PACKAGES = frozenset({"sqlalchemy", "flask_sqlalchemy", "sqlmodel"})
_BUILTINS = frozenset(dir(builtins))
# What a call on these hands back may be the project's mapped objects (rows, loaded instances).
_LOADERS = frozenset({ObjKind.SESSION, ObjKind.FLASK_SESSION, ObjKind.CONNECTION})
_DEPTH = 6  # aliases followed (`a = b`, `for x in xs`) before giving up
# Outside callables whose result holds the arguments they are given (which may be project
# objects): what they return is not provably unrelated.
_HOLDERS = frozenset({"types.SimpleNamespace", "functools.partial", "dict", "list", "tuple",
                      "set", "frozenset", "getattr", "next", "iter", "reversed", "sorted",
                      "min", "max", "copy.copy", "copy.deepcopy", "weakref.proxy"})


def by_name(functions: frozenset[FunctionRef]) -> dict[str, tuple[FunctionRef, ...]]:
    """The functions, by their last name (`get` → every `*.get` among them)."""
    table: dict[str, list[FunctionRef]] = {}
    for ref in sorted(functions):
        table.setdefault(plain_name(ref[1]), []).append(ref)
    return {name: tuple(refs) for name, refs in table.items()}


class Provenance:
    """Answers about where names come from (state-free, cached per module)."""

    def __init__(self, project: Project, kinds: Kinds) -> None:
        self.project, self.kinds = project, kinds
        self._database: dict[str, bool] = {}
        self._tracing: set[tuple[int, str, str]] = set()  # the names `unrelated` is following

    # -- which modules are database code -------------------------------------------------------
    def _imports_database_package(self, ix: ModuleIndex, depth: int = 0) -> bool:
        """Also through `from .core import *` of a module that does (a package's API)."""
        return any(q.split(".")[0] in DATABASE_PACKAGES
                   for q in (*ix.imports.values(), *ix.star_imports)) or depth < 4 and any(
            self._imports_database_package(starred, depth + 1)
            for starred in self.project.star_imported(ix))

    def database_module(self, ix: ModuleIndex) -> bool:
        """The module imports SQLAlchemy, Flask-SQLAlchemy or SQLModel, or a project module
        that does, or defines a class mapped classes inherit from (a mixin of models)."""
        found = self._database.get(ix.module)
        if found is None:
            found = self._imports_database_package(ix) or any(
                imported is not ix and self._imports_database_package(imported)
                for q in ix.imports.values() for imported in self._imported_modules(q)) or (
                any(self.kinds.models.is_model_base(ix, name) for name in ix.classes))
            self._database[ix.module] = found
        return found

    def _imported_modules(self, qualified: str) -> list[ModuleIndex]:
        """The project module an import names (`from keystone.common import sql`: the
        module `sql` itself), or the one holding the name it imports."""
        module = self.project.module_named(qualified)
        target = self.project.lookup(qualified)
        return [found for found in (module, target[0] if target else None) if found]

    def imports_project(self, ix: ModuleIndex) -> bool:
        """The module imports something from another module of the project."""
        return any((target := self.project.lookup(q)) is not None and target[0] is not ix
                   for q in ix.imports.values())

    def in_project(self, qualified: str) -> bool:
        return self.project.lookup(qualified) is not None

    # -- provably unrelated receivers ----------------------------------------------------------
    def unrelated(self, ix: ModuleIndex, scope: str, dotted: str, depth: int = 0) -> bool:
        """The value of `dotted` provably comes from outside the project (an import from
        another package, a literal, what a call of outside code returns, a parameter annotated
        with an outside type): a call on it cannot reach a project function."""
        if depth > _DEPTH:
            return False
        traced = (id(ix), scope, dotted)
        if traced in self._tracing:  # back where it started (`saved = self.fields.copy()`,
            return True  # then `self.fields = saved`): no origin the others do not show
        self._tracing.add(traced)
        try:
            return self._unrelated(ix, scope, dotted, depth)
        finally:
            self._tracing.discard(traced)

    def _unrelated(self, ix: ModuleIndex, scope: str, dotted: str, depth: int) -> bool:
        if dotted.endswith("()"):  # what a call returns
            return self._outside_call(ix, scope, dotted[:-2], depth)
        head = dotted.split(".")[0]
        if head == "self":
            attr = dotted.split(".")[1] if "." in dotted else ""
            owner = self.project.owner_class(ix, scope)
            bound = [(s, b) for s, b in ix.attribute_bindings.get(owner or "", [])
                     if b.name == attr]
            return bool(attr and bound) and all(self._binding_unrelated(ix, s, b, depth)
                                                for s, b in bound)
        found_in = self.project.binding_scope(ix, scope, head)
        if found_in is not None:
            return all(self._binding_unrelated(ix, found_in, b, depth)
                       for b in self.project.bound_in(ix, found_in, head))
        if head in ix.loads.get(scope, ()):
            return False  # objects a query loaded: instances of the project's mapped classes
        alias = ix.aliases.get(scope, {}).get(head)  # `for row in rows`: an element of rows
        if alias is not None and not alias[0].endswith("()"):
            return self.unrelated(ix, scope, alias[0], depth + 1)
        if alias is not None:
            return self._outside_call(ix, scope, alias[0][:-2], depth)
        if head in ix.imports:
            return not self.in_project(ix.qualify(head))
        return head in _BUILTINS and head not in ix.module_names

    def _binding_unrelated(self, ix: ModuleIndex, scope: str, binding: Binding,
                           depth: int) -> bool:
        if binding.origin == VALUE:
            return True
        if binding.origin == ALIAS:
            return self.unrelated(ix, scope, binding.targets[0], depth + 1)
        if binding.origin == CALL and binding.call_args and self.project.qualify(
                ix, binding.targets[0]) in _HOLDERS:
            return False
        if binding.origin in (CALL, ENTER):
            return self._outside_call(ix, scope, binding.targets[0], depth)
        if binding.origin == PARAM and binding.targets:
            return not any(self.in_project(self.project.qualify(ix, t)) for t in binding.targets)
        if binding.origin == PARAM:
            fixture = self._fixture(ix, scope, binding.name)
            return fixture is not None and bool(fixture[0].functions[fixture[1]].produces) and all(
                self.unrelated(fixture[0], fixture[1], produced, depth + 1)
                for produced in fixture[0].functions[fixture[1]].produces)
        return False

    def _fixture(self, ix: ModuleIndex, scope: str, name: str
                 ) -> tuple[ModuleIndex, str] | None:
        """The pytest fixture a test's or fixture's parameter `name` receives: in its module,
        or in a conftest.py."""
        if not (scope.rpartition(".")[2].startswith("test") or self.kinds.is_fixture(ix, scope)):
            return None
        if self.kinds.is_fixture(ix, name):
            return ix, name
        return next(((m, name) for m in self.project.modules.values()
                     if m.path.endswith("conftest.py") and self.kinds.is_fixture(m, name)), None)

    def _outside_call(self, ix: ModuleIndex, scope: str, callee: str, depth: int) -> bool:
        """`callee(...)` is code from outside the project (a builtin, another package).
        `depth`: aliases followed so far (`saved = self.fields.copy()`, later `self.fields =
        saved`, goes round)."""
        if callee == "super":  # the method of a base class, maybe a project one
            return False
        if self.project.resolve_function(ix, scope, callee) is not None or (
                self.project.resolve_class(ix, callee) is not None):
            return False
        receiver = callee.rpartition(".")[0]
        if receiver and self.kinds.kind(ix, scope, receiver) in _LOADERS:
            return False  # `session.get(...)`, `session.scalars(...)`: the project's objects
        head = callee.split(".")[0]
        if head in ix.imports:
            return not self.in_project(ix.qualify(callee))
        if self.project.binding_scope(ix, scope, head) is not None and "." in callee:
            return self.unrelated(ix, scope, callee.rpartition(".")[0], depth + 1)
        return head in _BUILTINS and head not in ix.module_names

    # -- methods of typed receivers -----------------------------------------------------------
    def resolve_call(self, ix: ModuleIndex, scope: str, callee: str) -> FunctionRef | None:
        """The project function a call refers to, also a method of a receiver declared or
        built as a project class (see `typed_method`)."""
        receiver, _, method = callee.rpartition(".")
        return self.project.resolve_function(ix, scope, callee) or (
            self.typed_method(ix, scope, receiver, method) if receiver else None)

    def _own_class(self, ix: ModuleIndex, scope: str) -> tuple[ModuleIndex, str] | None:
        owner = self.project.owner_class(ix, scope)
        return (ix, owner) if owner is not None and owner in ix.classes else None

    def typed_method(self, ix: ModuleIndex, scope: str, receiver: str,
                     method: str) -> FunctionRef | None:
        """The project method `receiver.method` calls when the receiver is declared or built
        as a project class (a parameter annotated with it, `x = Repo(...)`, `self.x = ...`),
        or is `self`/`cls`/`super()`, found in that class or its project base classes."""
        if receiver in ("self", "cls"):  # inherited from a project base class
            return self._method_of(self._own_class(ix, scope), method)
        if receiver == "super()":
            own = self._own_class(ix, scope)
            return next((found for base in (own[0].classes[own[1]].bases if own else ())
                         if (found := self._method_of(self.project.resolve_class(own[0], base),
                                                      method))), None)
        head, _, attr = receiver.partition(".")
        if head == "self" and attr and "." not in attr:
            owner = self.project.owner_class(ix, scope)
            bound = [b for _, b in ix.attribute_bindings.get(owner or "", []) if b.name == attr]
            bound += self.project.bound_in(ix, owner or "", attr)
        elif not attr:
            bound = self.project.bindings(ix, scope, head)
        else:
            return None
        for binding in bound:
            if binding.origin in (PARAM, CALL):
                for target in binding.targets[:1] if binding.origin == CALL else binding.targets:
                    found = self._method_of(self.project.resolve_class(ix, target), method)
                    if found is not None:
                        return found
        return None

    def _method_of(self, cls: tuple[ModuleIndex, str] | None, method: str,
                   depth: int = 0) -> FunctionRef | None:
        if cls is None or depth > _DEPTH:
            return None
        ix, name = cls
        if f"{name}.{method}" in ix.functions:
            return ix.module, f"{name}.{method}"
        for base in ix.classes[name].bases:
            found = self._method_of(self.project.resolve_class(ix, base), method, depth + 1)
            if found is not None:
                return found
        return None

    # -- why a receiver is not a session, in words ---------------------------------------------
    def not_a_session(self, ix: ModuleIndex, scope: str, dotted: str) -> str:
        """Why the tool does not take `dotted` for a session."""
        head, _, rest = dotted.partition(".")
        if head == "self" and rest:
            return (f"`{dotted}` is an attribute the tool cannot trace to a session (assign it "
                    "from a Session, or annotate it)")
        found_in = self.project.binding_scope(ix, scope, head)
        if rest and found_in is None and head in ix.imports:
            qualified = ix.qualify(head)
            where = "another module" if self.in_project(qualified) else "outside the project"
            return (f"`{dotted}` is a module attribute of `{qualified}` ({where}) the tool "
                    "does not recognise as a session")
        if rest:
            return f"`{dotted}` is an attribute the tool cannot trace to a session"
        if found_in is None:
            if head in ix.imports:
                return f"`{head}` is imported from `{ix.qualify(head)}`, which the tool " \
                       "does not recognise as a session"
            return f"`{head}` is not bound anywhere the tool can see"
        return self._binding_words(ix, found_in, self.project.bound_in(ix, found_in, head)[0])

    def _binding_words(self, ix: ModuleIndex, scope: str, binding: Binding) -> str:
        name = binding.name
        if binding.origin == PARAM and binding.targets:
            return (f"`{name}` is annotated `{' | '.join(binding.targets)}`, which is not a "
                    "session class")
        if binding.origin == PARAM:
            function = plain_name(scope)
            if not self.project.callers((ix.module, scope)):
                return (f"`{name}` is an untyped parameter and nothing in the project calls "
                        f"`{function}()` (annotate it: `{name}: Session`)")
            return (f"`{name}` is an untyped parameter and the calls of `{function}()` pass "
                    f"something the tool does not recognise as a session (annotate it: "
                    f"`{name}: Session`)")
        if binding.origin in (CALL, ENTER):
            return (f"`{name}` comes from `{binding.targets[0]}()`, which the tool does not "
                    "recognise as returning a session (annotate its return type)")
        if binding.origin == ALIAS:
            return f"`{name}` is `{binding.targets[0]}`, which the tool does not recognise " \
                   "as a session"
        return f"`{name}` is assigned a value the tool cannot trace to a session"
