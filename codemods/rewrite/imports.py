"""Adding and removing top-level imports, touching only the import statements involved.

libcst's AddImportsVisitor/RemoveImportsVisitor do the same job but re-resolve scope metadata
over the whole module (they were two thirds of the run time on a 200-module tree); a rewrite
only ever adds `from x import y` / `import x` and drops imports that became unused, so this
module does exactly that on the module's top level:
- a name joins an existing one-line `from module import ...`; otherwise the new statement goes
  after the last import of the same top-level package, standard-library imports after the
  last standard-library import (or first), anything else after the last import;
- an import is dropped only when its name is read nowhere else (strings count, for
  `"Session"` annotations and `__all__`), keeping the comments and blank lines around it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from .build import comma, comma_separated

ImportKey = tuple[str, str | None, str | None]  # (module, name or None for `import module`, asname)


@dataclass
class ImportChanges:
    """Imports a rewrite needs and imports it made unused (if nothing else reads them)."""

    add: dict[ImportKey, None] = field(default_factory=dict)
    remove: dict[ImportKey, None] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)


def _module_name(node: cst.BaseExpression | None) -> str:
    if node is None:
        return ""
    if isinstance(node, cst.Name):
        return node.value
    assert isinstance(node, cst.Attribute)
    return f"{_module_name(node.value)}.{node.attr.value}"


def _alias_names(alias: cst.ImportAlias) -> tuple[str, str | None]:
    asname = alias.asname.name.value if alias.asname and isinstance(
        alias.asname.name, cst.Name) else None
    return _module_name(alias.name), asname


def _import_keys(stmt: cst.CSTNode) -> list[tuple[ImportKey, cst.ImportAlias]] | None:
    """The imports a top-level statement makes, or None if it is not a plain import."""
    if not isinstance(stmt, cst.SimpleStatementLine) or len(stmt.body) != 1:
        return None
    node = stmt.body[0]
    if isinstance(node, cst.Import):
        return [((name, None, asname), alias)
                for alias in node.names for name, asname in [_alias_names(alias)]]
    if isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar):
        module = "." * len(node.relative) + _module_name(node.module)
        return [((module, name, asname), alias)
                for alias in node.names for name, asname in [_alias_names(alias)]]
    return None


def _read_names(code: str) -> tuple[set[str], str]:
    """Names read anywhere, and all string constants joined (both outside imports)."""
    names: set[str] = set()
    strings: list[str] = []
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
    return names, "\n".join(strings)


def apply(module: cst.Module, changes: ImportChanges) -> str:
    """The text of `module` with the import changes made."""
    text = _Text(module)
    body = list(module.body)
    if changes.add:  # first, so new imports take the place of the ones they replace
        body = _add(body, changes)
    if changes.remove:
        names, strings = _read_names(text.of(module.body))
        body = _remove(body, changes, names, strings)
    return text.of(body)


class _Text:
    """The text of a module with a given body, each top-level statement rendered once (a
    body with imports added or dropped shares all other statements with the one before)."""

    def __init__(self, module: cst.Module) -> None:
        self.module = module
        # (id, last?) → (statement, text); the statement is kept, so the id stays its own
        self.rendered: dict[tuple[int, bool], tuple[cst.CSTNode, str]] = {}

    def of(self, body: Sequence[cst.CSTNode]) -> str:
        if not body:
            return self.module.with_changes(body=()).code
        head = "".join(self.module.code_for_node(line) for line in self.module.header)
        return head + "".join(self._text(stmt, False) for stmt in body[:-1]) + self._text(
            body[-1], True)

    def _text(self, stmt: cst.CSTNode, last: bool) -> str:
        known = self.rendered.get((id(stmt), last))
        if known is None:
            # the last one with the footer and the end of the file as libcst writes them
            text = self.module.with_changes(header=(), body=[stmt]).code if last else (
                self.module.code_for_node(stmt))
            known = self.rendered[(id(stmt), last)] = (stmt, text)
        return known[1]


def _local(key: ImportKey) -> str:
    module, name, asname = key
    return asname or name or module.split(".")[0]


def _remove(body: list[cst.CSTNode], changes: ImportChanges, names: set[str],
            strings: str) -> list[cst.CSTNode]:
    result: list[cst.CSTNode] = []
    carried: list[cst.EmptyLine] | None = None  # leading lines of a removed statement
    for stmt in body:
        keys = _import_keys(stmt)
        dropped = {id(alias) for key, alias in keys or ()
                   if key in changes.remove and _local(key) not in names
                   and _local(key) not in strings}
        if keys is not None and len(dropped) == len(keys):
            if carried is None:
                carried = list(stmt.leading_lines)
            continue
        if dropped:
            stmt = _without_aliases(stmt, dropped)
        if carried is not None:
            own = list(stmt.leading_lines)
            if not result:  # the module's first statement went: no blank first line
                while own and own[0].comment is None:
                    own.pop(0)
            stmt = stmt.with_changes(leading_lines=[*carried, *own])
            carried = None
        result.append(stmt)
    return result


def _without_aliases(stmt: cst.SimpleStatementLine, dropped: set[int]) -> cst.SimpleStatementLine:
    node = stmt.body[0]
    assert isinstance(node, (cst.Import, cst.ImportFrom))
    kept = [a for a in node.names if id(a) not in dropped]
    # the last kept alias takes the comma (and any newline before `)`) of the old last one
    kept[-1] = kept[-1].with_changes(comma=node.names[-1].comma)
    return stmt.with_changes(body=[node.with_changes(names=kept)])


def _package(module: str) -> str:
    return module.lstrip(".").split(".")[0]


def _is_stdlib(module: str) -> bool:
    return _package(module) in sys.stdlib_module_names


def _add(body: list[cst.CSTNode], changes: ImportChanges) -> list[cst.CSTNode]:
    present: set[ImportKey] = set()
    imports: list[tuple[int, str]] = []  # (index in body, module) of top-level imports
    start = 0  # where an import block starts: after the docstring and __future__ imports
    for i, stmt in enumerate(body):
        keys = _import_keys(stmt)
        if keys is None:
            first = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else None
            if i == 0 and isinstance(first, cst.Expr) and isinstance(first.value,
                                                                      cst.BaseString):
                start = 1
                continue
            break
        present.update(key for key, _ in keys)
        module = keys[0][0][0]
        if module == "__future__":
            start = i + 1
        imports.append((i, module))
    inserts: dict[int, list[cst.SimpleStatementLine]] = {}
    new_from: dict[str, cst.SimpleStatementLine] = {}  # statements created here, by module
    for key in changes.add:
        if key in present:
            continue
        present.add(key)
        module, name, asname = key
        alias = cst.ImportAlias(name=cst.parse_expression(name or module),
                                asname=cst.AsName(name=cst.Name(asname)) if asname else None)
        target = next((i for i, m in imports if m == module and name and _mergeable(body[i])),
                      None)
        if target is not None:
            body[target] = _merged(body[target], alias)
            continue
        if name and module in new_from:
            created = new_from[module]
            merged = _merged(created, alias)
            for group in inserts.values():
                group[:] = [merged if s is created else s for s in group]
            new_from[module] = merged
            continue
        package = module.lstrip(".")  # `.models`: relative to the module's package
        statement = cst.SimpleStatementLine(body=[
            cst.ImportFrom(module=cst.parse_expression(package) if package else None,
                           relative=[cst.Dot()] * (len(module) - len(package)), names=[alias])
            if name else cst.Import(names=[alias])])
        if name:
            new_from[module] = statement
        same_package = [i for i, m in imports if _package(m) == _package(module)]
        if same_package:
            position = same_package[-1] + 1
        elif _is_stdlib(module):
            stdlib = [i for i, m in imports if _is_stdlib(m) and m != "__future__"]
            position = stdlib[-1] + 1 if stdlib else start
        else:
            position = imports[-1][0] + 1 if imports else start
        inserts.setdefault(position, []).append(statement)
    created = {id(stmt) for stmt in new_from.values()}
    for group in inserts.values():  # names of a statement made here are sorted (isort-like)
        group[:] = [_sorted(s) if id(s) in created else s for s in group]
    result: list[cst.CSTNode] = []
    for i, stmt in enumerate(body):
        new = inserts.pop(i, [])
        if new and i == start and imports and i == imports[0][0]:
            # above the first import: take over the blank lines/comments that led to it
            new[0] = new[0].with_changes(leading_lines=stmt.leading_lines)
            stmt = stmt.with_changes(leading_lines=[])
        elif new and i == start and start:
            new[0] = new[0].with_changes(leading_lines=[cst.EmptyLine()])  # after a docstring
        result.extend(new)
        result.append(stmt)
    for new in inserts.values():  # past the end: a module of nothing but imports
        result.extend(new)
    return result


def _sorted(stmt: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    node = stmt.body[0]
    names = sorted(node.names, key=lambda a: _module_name(a.name))
    names = comma_separated(names)
    return stmt.with_changes(body=[node.with_changes(names=names)])


def _mergeable(stmt: cst.CSTNode) -> bool:
    """A one-line `from module import a, b` (no parentheses, no star)."""
    node = stmt.body[0]
    return isinstance(node, cst.ImportFrom) and node.rpar is None


def _merged(stmt: cst.SimpleStatementLine, alias: cst.ImportAlias) -> cst.SimpleStatementLine:
    node = stmt.body[0]
    names = list(node.names)
    names[-1] = names[-1].with_changes(comma=comma())
    return stmt.with_changes(body=[node.with_changes(names=[*names, alias])])
