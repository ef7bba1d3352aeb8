"""Which session expressions of a migrated project are provably AsyncSessions: enough for the
corpus runner to count a legacy `X.query(...)` chain left on one, also in a sync function
(`def f(self): self.session.query(M)` where the class's other methods now await
`self.session.execute(...)`: at run time, `AttributeError: 'AsyncSession' object has no
attribute 'query'`).

A session expression is known by a key: a function's local name, a module-level name (also
reached as `mod.name` or imported), or `self.<attr>` of a class (also reached through a
module-level instance, `calibre_db.session`, and inherited by subclasses). A key is async
when the migrated project, anywhere, awaits one of AsyncSession's methods on it, calls its
`run_sync`, reads its `sync_session`, annotates it `AsyncSession`, or binds it to an
AsyncSession or an async session factory's session (or to another async key).

Standard library only, like the runner.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from receivers import FUNCTIONS, ancestors, find_module, parent_map

# Awaited on a session expression, these make it an AsyncSession's (a sync Session's are
# never awaited).
ASYNC_METHODS = frozenset({
    "execute", "scalars", "scalar", "get", "get_one", "commit", "flush", "refresh", "delete",
    "merge", "close", "rollback", "stream", "stream_scalars", "connection", "invalidate",
})
# Used on a session expression, these exist only on AsyncSession.
ASYNC_ONLY_ATTRIBUTES = frozenset({"run_sync", "sync_session"})
# Calling these gives an AsyncSession (async_scoped_session: a registry proxying one, which
# has no `query` either; async_object_session(obj): the migration's object_session(obj)).
SESSION_CALLS = frozenset(
    {"AsyncSession", "async_scoped_session", "async_object_session", "async_session"})
# Calling these gives a factory of AsyncSessions.
FACTORY_CALLS = frozenset({"async_sessionmaker", "async_scoped_session"})
ANNOTATIONS = ("AsyncSession", "async_scoped_session")

ClassRef = tuple[str, str]  # (module, class name)
Key = tuple[object, ...]  # ("local", function node, name) | ("global", module, name)
#                           | ("attr", ClassRef, attr) | ("module", module)
Scope = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@dataclass
class _Module:
    name: str
    tree: ast.Module
    imports: dict[str, str]
    parents: dict[ast.AST, ast.AST]
    classes: dict[str, ast.ClassDef]  # the top-level ones


class AsyncSessions:
    """The provably async session expressions of a migrated project."""

    def __init__(self, modules: dict[str, tuple[ast.Module, dict[str, str]]]) -> None:
        """`modules`: dotted module name -> (its migrated tree, its imports: local name ->
        dotted name, as `receivers.project_imports` gives them)."""
        self._modules = {
            name: _Module(name, tree, imports, parent_map(tree),
                          {n.name: n for n in tree.body if isinstance(n, ast.ClassDef)})
            for name, (tree, imports) in modules.items()
        }
        self._bound: dict[Scope, tuple[set[str], set[str]]] = {}
        self._instances: dict[tuple[str, str], ClassRef] = {}
        self._bases: dict[ClassRef, list[ClassRef]] = {}
        self._async: set[Key] = set()
        self._factories: set[Key] = set()
        bindings: list[tuple[Key, ast.expr, _Module]] = []
        for module in self._modules.values():
            self._index_classes(module)
        for module in self._modules.values():
            bindings += self._scan(module)
        # aliases and factories chain (`Session = async_scoped_session(...)`, then
        # `session = Session()`, then `self.session = session`): repeat until nothing changes
        changed = True
        while changed:
            changed = False
            for key, value, module in bindings:
                if key not in self._factories and self._is_factory(value, module):
                    self._factories.add(key)
                    changed = True
                if key not in self._async and self.is_async(value, module.name):
                    self._async.add(key)
                    changed = True

    def is_async(self, expr: ast.expr, module: str) -> bool:
        """Whether `expr` (a node of `module`'s migrated tree) is provably an AsyncSession."""
        where = self._modules[module]
        if isinstance(expr, ast.Call):
            called = _called_name(expr.func)
            if called in SESSION_CALLS:
                return True
            if isinstance(expr.func, ast.Call) and _called_name(expr.func.func) in FACTORY_CALLS:
                return True  # async_sessionmaker(...)()
            return self._key(expr.func, where) in self._factories
        key = self._key(expr, where)
        if key is None:
            return False
        if key[0] == "attr":
            cls = key[1]
            assert isinstance(cls, tuple)
            return any(("attr", c, key[2]) in self._async for c in self._lineage(cls))
        return key in self._async

    # --- the scan ---------------------------------------------------------------------------

    def _index_classes(self, module: _Module) -> None:
        """Module-level instances (`calibre_db = db.CalibreDB(app)`) and class bases."""
        for node in module.tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                cls = self._class_ref(node.value.func, module)
                for target in node.targets:
                    if cls and isinstance(target, ast.Name):
                        self._instances[(module.name, target.id)] = cls
        for name, node in module.classes.items():
            self._bases[(module.name, name)] = [
                ref for base in node.bases if (ref := self._class_ref(base, module))]

    def _scan(self, module: _Module) -> list[tuple[Key, ast.expr, _Module]]:
        """Mark the keys a module's uses prove async; return its bindings, judged later."""
        bindings = []
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Await) and isinstance(node.value, ast.Call) and isinstance(
                    node.value.func, ast.Attribute) and node.value.func.attr in ASYNC_METHODS:
                self._mark(node.value.func.value, module)
            elif isinstance(node, ast.Attribute) and node.attr in ASYNC_ONLY_ATTRIBUTES:
                self._mark(node.value, module)
            elif isinstance(node, ast.arg) and _async_annotation(node.annotation):
                scope = module.parents.get(module.parents.get(node))
                if isinstance(scope, FUNCTIONS):
                    self._async.add(("local", scope, node.arg))
            elif isinstance(node, ast.AnnAssign):
                key = self._target_key(node.target, module)
                if key and _async_annotation(node.annotation):
                    self._async.add(key)
                if key and node.value is not None:
                    bindings.append((key, node.value, module))
            elif isinstance(node, ast.Assign):
                bindings += [(key, node.value, module) for target in node.targets
                             if (key := self._target_key(target, module))]
            elif isinstance(node, ast.withitem) and node.optional_vars is not None and (
                    key := self._target_key(node.optional_vars, module)):
                bindings.append((key, node.context_expr, module))
        return bindings

    def _mark(self, expr: ast.expr, module: _Module) -> None:
        key = self._key(expr, module)
        if key is not None and key[0] != "module":
            self._async.add(key)

    def _target_key(self, target: ast.expr, module: _Module) -> Key | None:
        """The key an assignment binds; a name assigned in a class body is the class's
        attribute (`session: AsyncSession` there types `self.session`)."""
        scope = next((p for p in ancestors(target, module.parents)
                      if isinstance(p, (*FUNCTIONS, ast.Lambda, ast.ClassDef))), None)
        if isinstance(target, ast.Name) and isinstance(scope, ast.ClassDef):
            return ("attr", (module.name, scope.name), target.id) if (
                scope.name in module.classes) else None
        key = self._key(target, module)
        return key if key is None or key[0] != "module" else None

    def _is_factory(self, expr: ast.expr, module: _Module) -> bool:
        if isinstance(expr, ast.Call) and _called_name(expr.func) in FACTORY_CALLS:
            return True
        return self._key(expr, module) in self._factories

    # --- naming expressions -----------------------------------------------------------------

    def _key(self, expr: ast.expr, module: _Module) -> Key | None:
        """The key of a name or attribute expression, None when the syntax does not tell."""
        if isinstance(expr, ast.Name):
            return self._name_key(expr, module)
        if not isinstance(expr, ast.Attribute):
            return None
        owner = expr.value
        if isinstance(owner, ast.Name) and (cls := self._self_class(owner, module)):
            return ("attr", cls, expr.attr)
        key = self._key(owner, module)
        if key is None:
            return None
        if key[0] == "module":
            return ("global", key[1], expr.attr)
        if key[0] == "global" and (cls := self._instances.get((key[1], key[2]))):
            return ("attr", cls, expr.attr)
        return None

    def _name_key(self, name: ast.Name, module: _Module) -> Key | None:
        for scope in _scopes(name, module.parents):
            bound, declared_global = self._scope_names(scope)
            if name.id in declared_global:
                break
            if name.id in bound:
                return ("local", scope, name.id)
        if name.id in module.imports:
            return self._imported(module.imports[name.id])
        return ("global", module.name, name.id)

    def _imported(self, dotted: str) -> Key | None:
        """`ub` (a project module), `cps.calibre_db` (a name of the module `cps`); None for
        what is not of the project."""
        found = find_module(dotted, self._modules)
        if found:
            return ("module", found)
        owner, _, name = dotted.rpartition(".")
        found = find_module(owner, self._modules) if owner else None
        return ("global", found, name) if found else None

    def _self_class(self, name: ast.Name, module: _Module) -> ClassRef | None:
        """The class of a method's first parameter (`self`, `cls`), used in the method or in
        a function or lambda nested in it; None if the name is anything else."""
        scope = next((s for s in _scopes(name, module.parents)
                      if name.id in self._scope_names(s)[0]), None)
        parent = module.parents.get(scope) if scope is not None else None
        if not (isinstance(scope, FUNCTIONS) and isinstance(parent, ast.ClassDef)
                and parent.name in module.classes):  # methods of top-level classes only
            return None
        arguments = scope.args
        first = [*arguments.posonlyargs, *arguments.args][:1]
        static = any(isinstance(d, ast.Name) and d.id == "staticmethod"
                     for d in scope.decorator_list)
        return (module.name, parent.name) if first and first[0].arg == name.id and (
            not static) else None

    def _class_ref(self, expr: ast.expr, module: _Module) -> ClassRef | None:
        """A project class named by `expr`: defined in the module, imported, or `mod.Class`."""
        if isinstance(expr, ast.Name) and expr.id in module.classes:
            return (module.name, expr.id)
        key = self._key(expr, module) if isinstance(expr, ast.Name | ast.Attribute) else None
        if key is None or key[0] != "global":
            return None
        found = self._modules.get(str(key[1]))
        return (found.name, str(key[2])) if found and key[2] in found.classes else None

    def _lineage(self, cls: ClassRef) -> Iterator[ClassRef]:
        """The class and its project ancestors: a base's `self.session` is the subclass's."""
        seen: set[ClassRef] = set()
        stack = [cls]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                yield current
                stack += self._bases.get(current, [])

    def _scope_names(self, scope: Scope) -> tuple[set[str], set[str]]:
        """The names a function or lambda binds, and those it declares global."""
        if scope not in self._bound:
            self._bound[scope] = _bound_names(scope)
        return self._bound[scope]


def _scopes(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> Iterator[Scope]:
    """The functions and lambdas around `node`, innermost first (class bodies are no scope
    for the methods in them)."""
    for parent in ancestors(node, parents):
        if isinstance(parent, (*FUNCTIONS, ast.Lambda)):
            yield parent


def _bound_names(scope: Scope) -> tuple[set[str], set[str]]:
    arguments = scope.args
    bound = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs,
                             *filter(None, [arguments.vararg, arguments.kwarg])]}
    declared_global: set[str] = set()
    declared_nonlocal: set[str] = set()
    body = [scope.body] if isinstance(scope, ast.Lambda) else scope.body
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Global):
            declared_global.update(node.names)
        elif isinstance(node, ast.Nonlocal):
            declared_nonlocal.update(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        if isinstance(node, (*FUNCTIONS, ast.ClassDef)):
            bound.add(node.name)
            continue  # its body is its own scope
        if isinstance(node, ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))
    # a nonlocal name is an outer function's: not bound here, looked up further out
    return bound - declared_global - declared_nonlocal, declared_global


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else None


def _async_annotation(annotation: ast.expr | None) -> bool:
    return annotation is not None and any(name in ast.unparse(annotation) for name in ANNOTATIONS)
