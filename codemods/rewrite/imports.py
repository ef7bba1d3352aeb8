"""Adding and removing top-level imports, touching only the import statements involved.

libcst's AddImportsVisitor/RemoveImportsVisitor do the same job but re-resolve scope metadata
over the whole module (they were two thirds of the run time on a 200-module tree); a rewrite
only ever adds `from x import y` / `import x` and drops imports that became unused, so this
module does exactly that on the module's top level:
- a name joins an existing one-line `from module import ...` (in order, if its names are
  sorted); otherwise the new statement goes where isort / ruff's `I` rules put it: sorted into
  the group (imports between blank lines) of its section — standard library, third party,
  local (relative) — or as a new group between the sections before and after it, so a file
  whose imports were sorted stays sorted;
- an import is dropped only when its name is read nowhere else (strings count, for
  `"Session"` annotations and `__all__`), keeping the comments and blank lines around it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import libcst as cst

from .build import comma, comma_separated
from .parts import PART_CHARS

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


def _read_names(pieces: Sequence[str]) -> tuple[set[str], str]:
    """Names read anywhere in the module whose text is `pieces` joined (its top-level
    statements), and all its string constants joined (a name is looked for in them, and a
    name holds no line end: their order does not matter). A big module's text is parsed in
    parts of about `PART_CHARS` characters, at top-level statements: a whole-module `ast`
    of it would double the run's peak memory."""
    names: set[str] = set()
    strings: list[str] = []
    try:
        for part in _joined_parts(pieces):  # (each part's tree freed before the next's)
            _add_read_names(ast.parse(part), names, strings)
    except SyntaxError:  # (raised again, as for the whole text, by its own parse)
        names, strings = set(), []
        _add_read_names(ast.parse("".join(pieces)), names, strings)
    return names, "\n".join(strings)


def _add_read_names(tree: ast.Module, names: set[str], strings: list[str]) -> None:
    """The names `tree` reads into `names`, its string constants onto `strings` (in no
    particular order). The nodes `ast.walk` would give, depth first and without the
    generators: four times faster over a big module."""
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        kind = type(node)
        if kind is ast.Name:
            names.add(node.id)
        elif kind is ast.Constant:
            if isinstance(node.value, str):
                strings.append(node.value)
        else:  # (a Name or a Constant holds no node that is either)
            for field in node._fields:
                value = getattr(node, field, None)
                if type(value) is list:
                    todo.extend(item for item in value if isinstance(item, ast.AST))
                elif isinstance(value, ast.AST):
                    todo.append(value)


def _joined_parts(pieces: Sequence[str]) -> Iterator[str]:
    """`pieces` joined into runs of about `PART_CHARS` characters."""
    run: list[str] = []
    size = 0
    for piece in pieces:
        run.append(piece)
        size += len(piece)
        if size >= PART_CHARS and not piece.rstrip("\r\n").endswith("\\"):  # (continued)
            yield "".join(run)
            run, size = [], 0
    if run or not pieces:
        yield "".join(run)


def apply(module: cst.Module, changes: ImportChanges, texts: Mapping[int, str] | None = None
          ) -> str:
    """The text of `module` with the import changes made (`texts`: `id(statement) -> text`
    of top-level statements as read, which need not be rendered again)."""
    text = _Text(module, texts or {})
    body = list(module.body)
    if changes.add:  # first, so new imports take the place of the ones they replace
        body = _add(body, changes)
    if changes.remove:
        names, strings = _read_names(text.pieces(module.body))
        body = _remove(body, changes, names, strings)
    return text.of(body)


class _Text:
    """The text of a module with a given body, each top-level statement rendered once (a
    body with imports added or dropped shares all other statements with the one before)."""

    def __init__(self, module: cst.Module, texts: Mapping[int, str]) -> None:
        self.module = module
        self.texts = texts  # of statements as read (kept alive by the caller)
        # (id, last?) → (statement, text); the statement is kept, so the id stays its own
        self.rendered: dict[tuple[int, bool], tuple[cst.CSTNode, str]] = {}

    def of(self, body: Sequence[cst.CSTNode]) -> str:
        return "".join(self.pieces(body))

    def pieces(self, body: Sequence[cst.CSTNode]) -> list[str]:
        """The module's text as its header, then each top-level statement's text."""
        if not body:
            return [self.module.with_changes(body=()).code]
        head = "".join(self.module.code_for_node(line) for line in self.module.header)
        return [head, *(self._text(stmt, False) for stmt in body[:-1]), self._text(
            body[-1], True)]

    def _text(self, stmt: cst.CSTNode, last: bool) -> str:
        if not last and id(stmt) in self.texts:
            return self.texts[id(stmt)]
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
    new_from: dict[str, cst.SimpleStatementLine] = {}  # statements created here, by module
    created: list[cst.SimpleStatementLine] = []
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
            merged = _merged(new_from[module], alias)
            created[created.index(new_from[module])] = merged
            new_from[module] = merged
            continue
        package = module.lstrip(".")  # `.models`: relative to the module's package
        statement = cst.SimpleStatementLine(body=[
            cst.ImportFrom(module=cst.parse_expression(package) if package else None,
                           relative=[cst.Dot()] * (len(module) - len(package)), names=[alias])
            if name else cst.Import(names=[alias])])
        if name:
            new_from[module] = statement
        created.append(statement)
    for statement in created:
        _place(body, start, _wrapped(_sorted(statement)))
    return body


LINE_LENGTH = 88  # ruff's and black's default: a longer `from` import is wrapped as they do


def _wrapped(stmt: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    """A one-line `from x import a, b` longer than LINE_LENGTH in ruff's wrapped form:
    parentheses, a name a line, a trailing comma."""
    node = stmt.body[0]
    if not isinstance(node, cst.ImportFrom) or isinstance(node.names, cst.ImportStar):
        return stmt
    # (a parenthesized one the tool added names to is laid out again as a whole)
    flat = node.with_changes(lpar=None, rpar=None, names=[
        alias.with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")) if (
            i < len(node.names) - 1) else cst.MaybeSentinel.DEFAULT)
        for i, alias in enumerate(node.names)])
    if len(cst.Module([]).code_for_node(stmt.with_changes(body=[flat])).rstrip("\n")) <= (
            LINE_LENGTH):
        return stmt.with_changes(body=[flat]) if node.lpar is not None else stmt

    def broken(indent: str) -> cst.ParenthesizedWhitespace:
        return cst.ParenthesizedWhitespace(first_line=cst.TrailingWhitespace(),
                                           indent=False, last_line=cst.SimpleWhitespace(indent))

    names = [alias.with_changes(comma=cst.Comma(whitespace_after=broken(
        "    " if i < len(node.names) - 1 else ""))) for i, alias in enumerate(node.names)]
    return stmt.with_changes(body=[node.with_changes(
        names=names, lpar=cst.LeftParen(whitespace_after=broken("    ")), rpar=cst.RightParen())])


# isort / ruff `I` sections, in file order; relative imports are the local folder's
_FUTURE, _STDLIB, _THIRD_PARTY, _LOCAL = range(4)


def _statement_module(stmt: cst.SimpleStatementLine) -> str:
    node = stmt.body[0]
    if isinstance(node, cst.Import):
        return _module_name(node.names[0].name)
    return "." * len(node.relative) + _module_name(node.module)


def _section(module: str) -> int:
    if module == "__future__":
        return _FUTURE
    if module.startswith("."):
        return _LOCAL
    return _STDLIB if _is_stdlib(module) else _THIRD_PARTY


def _sort_key(stmt: cst.SimpleStatementLine) -> tuple[int, int, str]:
    """isort's default order within a section: `import x` lines, then `from x import`
    lines, each by module (case-insensitive; `..` before `.`)."""
    module = _statement_module(stmt)
    dots = len(module) - len(module.lstrip("."))
    return (int(isinstance(stmt.body[0], cst.ImportFrom)), -dots, module.lstrip(".").lower())


def _place(body: list[cst.CSTNode], start: int, stmt: cst.SimpleStatementLine) -> None:
    """Insert a new import where isort would put it: in the block of imports at the top (its
    groups are the runs of imports between blank lines), sorted into the group of its section,
    or as a new group between the sections before and after it."""
    end = start
    while end < len(body) and _import_keys(body[end]) is not None:
        end += 1
    groups: list[list[int]] = []
    for i in range(start, end):
        if not groups or any(line.comment is None for line in body[i].leading_lines):
            groups.append([])
        groups[-1].append(i)
    module = _statement_module(stmt)
    section, package = _section(module), _package(module)

    def sections(group: list[int]) -> set[int]:
        return {_section(_statement_module(body[i])) for i in group}

    target = next((g for g in groups if any(
        _package(m) == package and _section(m) == section
        for m in (_statement_module(body[i]) for i in g))), None) or next(
        (g for g in groups if sections(g) == {section}), None)
    if target is not None:
        key = _sort_key(stmt)
        position = next((i for i in target if _sort_key(body[i]) > key), target[-1] + 1)
        if position == target[0]:  # first of its group: it takes the group's leading lines
            stmt = stmt.with_changes(leading_lines=body[position].leading_lines)
            body[position] = body[position].with_changes(leading_lines=[])
        body.insert(position, stmt)
        return
    mixed = next((g for g in groups if section in sections(g)), None)
    if mixed is not None:  # an unsorted group: after the last import of its section
        body.insert(max(i for i in mixed if _section(_statement_module(body[i])) == section)
                    + 1, stmt)
        return
    later = next((g for g in groups if min(sections(g)) > section), None)
    if later is None:  # a new last group (or the first import of the module)
        body.insert(end, stmt.with_changes(
            leading_lines=[cst.EmptyLine()] if groups or start else []))
        after = body[end + 1] if not groups and end + 1 < len(body) else None
        if after is not None and not after.leading_lines:  # keep the code off the import
            blank = 2 if isinstance(after, (cst.FunctionDef, cst.ClassDef)) else 1
            body[end + 1] = after.with_changes(leading_lines=[cst.EmptyLine()] * blank)
        return
    position = later[0]
    if position == groups[0][0]:  # above the first import: take its lines
        stmt = stmt.with_changes(leading_lines=body[position].leading_lines)
        body[position] = body[position].with_changes(leading_lines=[cst.EmptyLine()])
    else:
        stmt = stmt.with_changes(leading_lines=[cst.EmptyLine()])
    body.insert(position, stmt)


def _sorted(stmt: cst.SimpleStatementLine) -> cst.SimpleStatementLine:
    node = stmt.body[0]
    names = sorted(node.names, key=_name_key if isinstance(node, cst.ImportFrom) else (
        lambda a: _module_name(a.name).lower()))
    names = comma_separated(names)
    return stmt.with_changes(body=[node.with_changes(names=names)])


def _mergeable(stmt: cst.CSTNode) -> bool:
    """A `from module import a, b` (no star; in parentheses, with two names or more)."""
    node = stmt.body[0]
    return isinstance(node, cst.ImportFrom) and not isinstance(node.names, cst.ImportStar) and (
        node.rpar is None or len(node.names) > 1)


def _name_key(alias: cst.ImportAlias) -> tuple[int, str]:
    """isort's `order-by-type`: CONSTANTS, then Classes, then other names."""
    name = _module_name(alias.name)
    kind = 0 if name.isupper() and len(name) > 1 else 1 if name[:1].isupper() else 2
    return kind, name.lower()


def _merged(stmt: cst.SimpleStatementLine, alias: cst.ImportAlias) -> cst.SimpleStatementLine:
    """`alias` joins the names of a `from` import: in sorted order if they are sorted; a
    one-line import that grows too long is wrapped."""
    node = stmt.body[0]
    names = list(node.names)
    keys = [_name_key(a) for a in names]
    if node.lpar is not None:  # one name a line: the new one takes a neighbour's layout
        position = next((i for i, k in enumerate(keys) if k > _name_key(alias)), len(names)
                        ) if keys == sorted(keys) else len(names)
        middle = names[0].comma
        if position == len(names):
            names[-1], alias = names[-1].with_changes(comma=middle), alias.with_changes(
                comma=names[-1].comma)
        else:
            alias = alias.with_changes(comma=middle)
        names.insert(position, alias)
        return stmt.with_changes(body=[node.with_changes(names=names)])
    return _wrapped(_merged_line(stmt, node, names, keys, alias))


def _merged_line(stmt: cst.SimpleStatementLine, node: cst.ImportFrom,
                 names: list[cst.ImportAlias], keys: list[tuple[int, str]],
                 alias: cst.ImportAlias) -> cst.SimpleStatementLine:
    if keys != sorted(keys):
        names[-1] = names[-1].with_changes(comma=comma())
        return stmt.with_changes(body=[node.with_changes(names=[*names, alias])])
    position = next((i for i, k in enumerate(keys) if k > _name_key(alias)), len(names))
    last = names[-1].comma  # a trailing comma the line had stays at its end
    names.insert(position, alias)
    names = comma_separated(names)
    if not isinstance(last, cst.MaybeSentinel):
        names[-1] = names[-1].with_changes(comma=last)
    return stmt.with_changes(body=[node.with_changes(names=names)])
