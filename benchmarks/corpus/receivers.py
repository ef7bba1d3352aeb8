"""What a call's receiver can be, as far as one module's syntax shows: enough for the corpus
runner's un-awaited check to tell `payload.get("sub")` (a dict from an outside library) or
`uploader.upload(...)` (a project module whose `upload` stayed sync) from a call that may
reach a method the tool made async.

Standard library only, like the runner.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
LITERALS = (ast.Constant, ast.Dict, ast.List, ast.Set, ast.Tuple, ast.JoinedStr, ast.DictComp,
            ast.ListComp, ast.SetComp)
# Annotations naming builtin containers and scalars: nothing of the project is reached.
BUILTIN_TYPES = frozenset({"str", "bytes", "int", "float", "bool", "dict", "list", "set",
                           "tuple", "Dict", "List", "Set", "Tuple"})


def parent_map(tree: ast.AST) -> dict[ast.AST, ast.AST]:
    return {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}


def ancestors(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> Iterator[ast.AST]:
    while node in parents:
        node = parents[node]
        yield node


def module_name(rel: str) -> str:
    """`cps/services/goodreads.py` → `cps.services.goodreads`; a package's `__init__.py` is
    the package."""
    parts = rel.removesuffix(".py").split("/")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_imports(tree: ast.Module, module: str, is_package: bool) -> dict[str, str]:
    """Local name → dotted name, for every import in the module (relative ones resolved)."""
    package = module if is_package else module.rpartition(".")[0]
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                local = alias.asname or alias.name.split(".")[0]
                found[local] = alias.name if alias.asname else local
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".") if package else []
                anchor = anchor[: len(anchor) - (node.level - 1)] if node.level > 1 else anchor
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                found[alias.asname or alias.name] = f"{base}.{alias.name}" if base else alias.name
    return found


def find_module(dotted: str, modules: dict[str, set[str]]) -> str | None:
    """The project module named `dotted`, allowing for a migrated folder below the package
    root (`cps.uploader` for a module indexed as `uploader`, and the other way round)."""
    if dotted in modules:
        return dotted
    matches = [m for m in modules if dotted.endswith("." + m) or m.endswith("." + dotted)]
    return matches[0] if len(matches) == 1 else None


def dotted_receiver(func: ast.expr) -> tuple[str, list[str]] | None:
    """`a.b.c.f` → ("a", ["b", "c"]); None unless the callee is a plain name path."""
    parts: list[str] = []
    node = func.value if isinstance(func, ast.Attribute) else None
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    return (node.id, parts[::-1]) if isinstance(node, ast.Name) else None


def module_instances(tree: ast.Module) -> dict[str, str]:
    """Module-level instances: name → the class name it is built from (`server = Server()`)."""
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            cls = func.id if isinstance(func, ast.Name) else (
                func.attr if isinstance(func, ast.Attribute) else None)
            for target in node.targets:
                if isinstance(target, ast.Name) and cls and cls[:1].isupper():
                    found[target.id] = cls
    return found


def resolved_in_module(call: ast.Call, imports: dict[str, str], module: str,
                       defined: set[str], async_by_module: dict[str, set[str]],
                       instances: dict[str, dict[str, str]]) -> bool | None:
    """Whether the call names a function of a project module that became async: True or
    False when the callee is a function of a known project module (`f()` imported or defined
    there, nested in a function too: `defined` holds the names the module defines), `mod.f()`,
    `pkg.mod.f()`, or a method of a module-level instance imported from one (`from app import
    server; server.start()`), None when the syntax does not tell."""
    if isinstance(call.func, ast.Name):
        name = call.func.id
        if name in imports:
            target, _, function = imports[name].rpartition(".")
            found = find_module(target, async_by_module) if target else None
            return function in async_by_module[found] if found else None
        if name in defined:
            return any(q.rpartition(".")[2] == name for q in async_by_module.get(module, ()))
        return None
    if not isinstance(call.func, ast.Attribute):
        return None
    receiver = dotted_receiver(call.func)
    if receiver is None or receiver[0] not in imports:
        return None
    dotted = ".".join([imports[receiver[0]], *receiver[1]])
    found = find_module(dotted, async_by_module)
    if found:
        return call.func.attr in async_by_module[found]
    owner, _, name = dotted.rpartition(".")
    owner = find_module(owner, async_by_module) if owner and not receiver[1] else None
    cls = instances.get(owner, {}).get(name) if owner else None
    if cls is None:
        return None
    method = f"{cls}.{call.func.attr}"
    return any(method in names for names in async_by_module.values())


def _bindings(name: str, scope: ast.AST) -> Iterator[ast.expr | ast.arg | None]:
    """What `name` is bound to in `scope` (not entering nested functions): assigned values,
    `with ... as name` contexts, parameters; None for a binding of unknown value."""
    stack = list(ast.iter_child_nodes(scope))
    if isinstance(scope, FUNCTIONS):
        arguments = scope.args
        for arg in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]:
            if arg.arg == name:
                yield arg
        if arguments.vararg is not None and arguments.vararg.arg == name:
            yield ast.Tuple(elts=[])  # `*args`: a tuple
        if arguments.kwarg is not None and arguments.kwarg.arg == name:
            yield ast.Dict(keys=[], values=[])  # `**kwargs`: a dict
    while stack:
        node = stack.pop()
        if isinstance(node, (*FUNCTIONS, ast.ClassDef, ast.Lambda)):
            continue
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            yield node.value
        elif isinstance(node, ast.AnnAssign | ast.AugAssign) and isinstance(
                node.target, ast.Name) and node.target.id == name:
            yield node.value if isinstance(node, ast.AnnAssign) else None
        elif isinstance(node, ast.withitem) and isinstance(
                node.optional_vars, ast.Name) and node.optional_vars.id == name:
            yield node.context_expr
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension) and any(
                isinstance(t, ast.Name) and t.id == name for t in ast.walk(node.target)):
            yield None
        elif isinstance(node, ast.NamedExpr) and node.target.id == name:
            yield node.value
        stack.extend(ast.iter_child_nodes(node))


def _self_bindings(attr: str, cls: ast.ClassDef) -> Iterator[ast.expr | None]:
    """The values assigned to `self.<attr>` in the methods of `cls`."""
    for node in ast.walk(cls):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr == attr and isinstance(
                        target.value, ast.Name) and target.value.id == "self":
                    yield node.value


def _is_outside_value(value: ast.expr | ast.arg | None, outside: set[str]) -> bool:
    if value is None:
        return False
    if isinstance(value, ast.arg):
        root = _root(value.annotation) if value.annotation is not None else None
        return root in outside or root in BUILTIN_TYPES
    if isinstance(value, LITERALS):
        return True
    if isinstance(value, ast.Call):
        return _root(value.func) in outside
    return isinstance(value, ast.Attribute | ast.Name) and _root(value) in outside


def _root(node: ast.expr | None) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def receiver_is_outside(call: ast.Call, parents: dict[ast.AST, ast.AST], outside: set[str],
                        fixtures: dict[str, bool]) -> bool:
    """Whether the receiver of `x.m()` / `self.x.m()` is provably not a project object: every
    binding of `x` in the enclosing function is a literal, a call of (or an attribute of) a
    name imported from outside the project, or a parameter annotated with an outside or
    builtin type; `self.x` likewise in the enclosing class; an unannotated test parameter
    likewise through the pytest fixture of that name."""
    if not isinstance(call.func, ast.Attribute):
        return False
    receiver = call.func.value
    scope = next((p for p in ancestors(call, parents) if isinstance(p, FUNCTIONS)), None)
    if isinstance(receiver, ast.Attribute) and isinstance(receiver.value, ast.Attribute):
        receiver = receiver.value  # `self.session.headers.update()`: judge `self.session`
    if isinstance(receiver, ast.Attribute) and isinstance(receiver.value, ast.Name) and (
            receiver.value.id == "self"):
        cls = next((p for p in ancestors(call, parents) if isinstance(p, ast.ClassDef)), None)
        values = list(_self_bindings(receiver.attr, cls)) if cls else []
        return bool(values) and all(_is_outside_value(v, outside) for v in values)
    if not isinstance(receiver, ast.Name) or scope is None:
        return False
    values = list(_bindings(receiver.id, scope))
    if len(values) == 1 and isinstance(values[0], ast.arg) and values[0].annotation is None and (
            receiver.id in fixtures):
        return fixtures[receiver.id]
    return bool(values) and all(_is_outside_value(v, outside) for v in values)


def outside_fixtures(tree: ast.Module, outside: set[str]) -> dict[str, bool]:
    """Pytest fixtures of a module: name → whether what it returns or yields is provably not
    a project object (judged like `receiver_is_outside`, in the fixture's own module)."""
    found: dict[str, bool] = {}
    for node in ast.walk(tree):
        if not isinstance(node, FUNCTIONS) or not any(
                "fixture" in ast.unparse(d) for d in node.decorator_list):
            continue
        values: list[ast.expr | ast.arg | None] = [
            n.value for n in ast.walk(node) if isinstance(n, ast.Return | ast.Yield) and n.value]
        if len(values) == 1 and isinstance(values[0], ast.Name):
            values = list(_bindings(values[0].id, node))
        found[node.name] = bool(values) and all(_is_outside_value(v, outside) for v in values)
    return found
