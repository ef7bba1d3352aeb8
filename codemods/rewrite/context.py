"""What every rule sees while a file is rewritten: scope, statements, findings, imports.

One `Context` lives for one pass over one file. It tracks the scope stack (functions and
classes, a stack not a flag), the statement stack (TODO comments attach to the innermost
statement; suppression comments are honoured per statement), and the awaits already present.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import libcst as cst

from ..analysis import ObjKind, Plan
from ..config import Config
from ..index import ModuleIndex
from ..results import Finding, Kind
from .imports import ImportChanges

TODO_PREFIX = "# TODO(sqla-asyncify"
_SUPPRESS = re.compile(r"#\s*sqla-asyncify:\s*ignore(?:\[(?P<codes>[A-Z0-9, ]+)\])?")
ALL_CODES = "*"


@dataclass(frozen=True)
class PendingFinding:
    """A finding whose line is resolved once, at the end, from the original node."""

    anchor: cst.CSTNode | None
    code: str
    kind: Kind
    message: str

    def at(self, line: int) -> Finding:
        """The finding, reported at `line` of the file as read."""
        return Finding(line, self.code, self.kind, self.message)


def todo_comment(code: str, message: str) -> str:
    return f"{TODO_PREFIX} {code}): {message}"


_EVENT_FUNCTIONS = frozenset({"sqlalchemy.event.listen", "sqlalchemy.event.listens_for",
                              "sqlalchemy.event.remove", "sqlalchemy.event.contains",
                              "sqlalchemy.event.api.listen", "sqlalchemy.event.api.listens_for"})
_COMPOUND = frozenset({cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar,
                       cst.FunctionDef, cst.ClassDef, cst.Match})
STATEMENT_TYPES = _COMPOUND | {cst.SimpleStatementLine}


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for Name/Attribute chains, else None."""
    parts: list[str] = []
    while isinstance(node, cst.Attribute):
        parts.append(node.attr.value)
        node = node.value
    if isinstance(node, cst.Name):
        parts.append(node.value)
        return ".".join(reversed(parts))
    return None


def callee(func: cst.BaseExpression) -> str | None:
    """What a call calls: `a.b.c`, or `Cls().method` (as the index names it)."""
    name = dotted(func)
    if name is None and isinstance(func, cst.Attribute) and isinstance(func.value, cst.Call):
        owner = dotted(func.value.func)
        return f"{owner}().{func.attr.value}" if owner else None
    return name


def parse_expr(code: str) -> cst.BaseExpression:
    return cst.parse_expression(code)


def _statement_comments(stmt: cst.CSTNode) -> list[str]:
    comments = [line.comment.value for line in getattr(stmt, "leading_lines", ())
                if line.comment is not None]
    if isinstance(stmt, cst.SimpleStatementLine) and stmt.trailing_whitespace.comment:
        comments.append(stmt.trailing_whitespace.comment.value)
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.IndentedBlock) and body.header.comment:
        comments.append(body.header.comment.value)
    return comments


def suppressed_codes(stmt: cst.CSTNode) -> set[str]:
    codes: set[str] = set()
    for comment in _statement_comments(stmt):
        match = _SUPPRESS.search(comment)
        if match:
            listed = match.group("codes")
            codes |= {c.strip() for c in listed.split(",")} if listed else {ALL_CODES}
    return codes


class Context:
    def __init__(self, plan: Plan, ix: ModuleIndex,
                 origin: Callable[[cst.CSTNode], cst.CSTNode | None],
                 imports: ImportChanges, config: Config | None = None) -> None:
        self.plan = plan
        self.ix = ix
        self.config = config or Config()
        self.async_target = self.config.target == "async"
        self.imports = imports
        # The node of the file as read that a node of this pass stands for (for line numbers).
        self._origin = origin
        self.findings: list[PendingFinding] = []
        self.scopes: list[tuple[str, cst.CSTNode]] = []  # (name, FunctionDef | ClassDef)
        self.lambdas: list[cst.Lambda] = []  # the lambdas around the current node
        self.run_sync_lambdas: set[int] = set()  # ids of lambdas given to session.run_sync()
        # ids of event.listen()/listens_for() targets: listeners stay on the sync classes (§7)
        self.event_targets: set[int] = set()
        self.statements: list[cst.CSTNode] = []
        self._pending_todos: dict[int, list[str]] = {}
        self._suppressed: list[set[str]] = []
        self.awaited: set[int] = set()  # ids of expressions already under `await`
        self.statement_values: set[int] = set()  # ids of expressions that are whole statements
        self.not_references: set[int] = set()  # ids of Names that are not variable references
        self.import_depth = 0
        self.class_bases: set[int] = set()  # ids of expressions naming a class's bases
        self.with_items: set[int] = set()  # ids of expressions entered by `with`
        self.iterated: set[int] = set()  # ids of expressions iterated by `for`
        # loader options (SQA400) for the query or session.get() call with this node id
        self.loader_options: dict[int, list[cst.BaseExpression]] = {}
        # functions where a legacy query stays (TODO): candidates to keep sync behind run_sync
        self.unconverted_scopes: set[str] = set()
        self.io_scopes: set[str] = set()  # function qualnames where an await was inserted

    # -- traversal bookkeeping (called by the pass driver) --------------------------------------
    def enter(self, node: cst.CSTNode) -> None:
        kind = type(node)  # exact types: isinstance on libcst's ABCs dominates the run time
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            self.scopes.append((node.name.value, node))
            self.not_references.add(id(node.name))
            if kind is cst.ClassDef:
                self.class_bases.update(id(arg.value) for arg in node.bases)
        elif kind is cst.Lambda:
            self.lambdas.append(node)
        elif kind is cst.Await:
            self.awaited.add(id(node.expression))
        elif kind is cst.Expr:
            self.statement_values.add(id(node.value))
        elif kind is cst.Attribute:
            self.not_references.add(id(node.attr))
        elif kind is cst.Param:
            self.not_references.add(id(node.name))
        elif kind is cst.Arg:
            if node.keyword is not None:
                self.not_references.add(id(node.keyword))
        elif kind is cst.Call:
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "run_sync" and (
                    node.args and isinstance(node.args[0].value, cst.Lambda)):
                self.run_sync_lambdas.add(id(node.args[0].value))
            elif node.args and self.qualify(node.func) in _EVENT_FUNCTIONS:
                self.event_targets.add(id(node.args[0].value))
        elif kind is cst.Import or kind is cst.ImportFrom:
            self.import_depth += 1
        elif kind is cst.WithItem:
            self.with_items.add(id(node.item))
        elif kind is cst.For or kind is cst.CompFor:
            self.iterated.add(id(node.iter))
        if kind in STATEMENT_TYPES:
            self.statements.append(node)
            self._suppressed.append(suppressed_codes(node))

    def leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:
        kind = type(original)
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            self.scopes.pop()
        elif kind is cst.Lambda:
            self.lambdas.pop()
        elif kind is cst.Import or kind is cst.ImportFrom:
            self.import_depth -= 1
        new_kind = type(updated)
        if (new_kind is cst.Attribute or new_kind is cst.Subscript) and type(
                updated.value) is cst.Await:
            updated = updated.with_changes(value=parenthesize(updated.value))
        elif new_kind is cst.Call and type(updated.func) is cst.Await:
            updated = updated.with_changes(func=parenthesize(updated.func))
        if kind in STATEMENT_TYPES:
            self.statements.pop()
            self._suppressed.pop()
            todos = self._pending_todos.pop(id(original), None)
            if todos:
                updated = self._attach_todos(updated, todos)
        return updated

    def _attach_todos(self, stmt: cst.CSTNode, todos: list[str]) -> cst.CSTNode:
        if isinstance(stmt, cst.FlattenSentinel):
            first, *rest = stmt.nodes
            return cst.FlattenSentinel([self._attach_todos(first, todos), *rest])
        if not hasattr(stmt, "leading_lines"):
            return stmt
        existing = {line.comment.value for line in stmt.leading_lines if line.comment}
        new_lines = [cst.EmptyLine(comment=cst.Comment(text)) for text in dict.fromkeys(todos)
                     if text not in existing]
        if not new_lines:
            return stmt
        return stmt.with_changes(leading_lines=[*stmt.leading_lines, *new_lines])

    def is_suppressed(self, code: str) -> bool:
        return any(ALL_CODES in s or code in s for s in self._suppressed)

    # -- scope ----------------------------------------------------------------------------------
    @property
    def lambda_depth(self) -> int:
        return len(self.lambdas)

    @property
    def in_run_sync_lambda(self) -> bool:
        return bool(self.lambdas) and id(self.lambdas[-1]) in self.run_sync_lambdas

    @property
    def scope(self) -> str:
        return ".".join(name for name, _ in self.scopes)

    @property
    def function(self) -> cst.FunctionDef | None:
        """The innermost scope when it is a function (None at module or class level)."""
        if self.scopes and isinstance(self.scopes[-1][1], cst.FunctionDef):
            return self.scopes[-1][1]
        return None

    # -- facts ----------------------------------------------------------------------------------
    def kind(self, expr: cst.BaseExpression) -> ObjKind | None:
        name = dotted(expr)
        return self.plan.kind(self.ix, self.scope, name) if name else None

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        name = dotted(expr)
        return self.plan.qualify(self.ix, name) if name else None

    def is_reference(self, node: cst.Name | cst.Attribute) -> bool:
        """True for a name or dotted name read as a value (not a def, param, keyword, import)."""
        return not self.import_depth and id(node) not in self.not_references

    def anchor(self, node: cst.CSTNode) -> cst.CSTNode | None:
        """The original statement whose line a finding about `node` reports."""
        if type(node) in STATEMENT_TYPES:
            found = self._origin(node)
            if found is not None:
                return found
        for stmt in reversed(self.statements):
            found = self._origin(stmt)
            if found is not None:
                return found
        return None

    # -- findings -------------------------------------------------------------------------------
    def record(self, code: str, kind: Kind, message: str, node: cst.CSTNode) -> None:
        self.findings.append(PendingFinding(self.anchor(node), code, kind, message))

    def change(self, code: str, message: str, node: cst.CSTNode) -> None:
        self.record(code, Kind.CHANGE, message, node)

    def todo(self, code: str, message: str, node: cst.CSTNode,
             at: cst.CSTNode | None = None) -> None:
        """Record a TODO and leave a marker comment above the enclosing statement (or `at`,
        a statement of the file as read that the traversal has not left yet)."""
        self.record(code, Kind.TODO, message, at or node)
        statement = at or (self.statements[-1] if self.statements else None)
        if statement is not None:
            self._pending_todos.setdefault(id(statement), []).append(todo_comment(code, message))

    def await_(self, code: str, expr: cst.BaseExpression, node: cst.CSTNode,
               what: str) -> cst.BaseExpression:
        """`await expr`, or the unchanged expression and a TODO where await is impossible."""
        reason = self.cannot_await()
        if reason:
            self.todo(code, f"{what} must be awaited, but {reason}", node)
            return expr
        self.io_scopes.add(self.scope)
        return cst.Await(expression=expr)

    def scopes_calling(self, methods: Iterable[str]) -> set[str]:
        """Scopes of this module that call a function or method of one of these names (from
        the index: a rule skips the other functions cheaply)."""
        names = set(methods)
        return {site.scope for site in self.ix.calls if site.callee.rpartition(".")[2] in names}

    def assigned_name(self) -> str | None:
        """The name the current statement assigns (`x = ...`, `x: T = ...`), if any."""
        statement = self.statements[-1] if self.statements else None
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
        target = small.target if isinstance(small, cst.AnnAssign) else (
            small.targets[0].target if isinstance(small, cst.Assign) and small.targets else None)
        return target.value if isinstance(target, cst.Name) else None

    def cannot_await(self) -> str | None:
        if self.lambdas:
            return "it is inside a lambda (rewrite it as an async def)"
        function = self.function
        if function is None:
            return "it runs at module level (move it into an async function)"
        reason = self.plan.cannot_be_async((self.ix.module, self.scope)) if (
            self.scope in self.ix.functions) else None
        return f"{reason} (load the data before, or use run_sync)" if reason else None

    # -- imports --------------------------------------------------------------------------------
    def local_name(self, module: str, name: str, equivalents: frozenset[str] = frozenset()
                   ) -> tuple[str, tuple[str, str, str | None] | None]:
        """The local name for `module.name`, and the import to add for it (None if present).

        An existing import of the same object (or of one of `equivalents`) is reused; a
        clash with another object of that name imports it as `sa_<name>` instead.
        """
        wanted = {f"{module}.{name}", *equivalents}
        for local, qualified in self.ix.imports.items():
            if qualified in wanted:
                return local, None
        asname = f"sa_{name}" if name in self.ix.imports or name in self.ix.module_names else None
        return asname or name, (module, name, asname)

    def import_name(self, module: str, name: str,
                    equivalents: frozenset[str] = frozenset()) -> str:
        """`local_name`, adding the import right away."""
        local, key = self.local_name(module, name, equivalents)
        if key is not None:
            self.imports.add[key] = None
        return local

    def import_module(self, module: str) -> str:
        for local, qualified in self.ix.imports.items():
            if qualified == module and "." not in local:
                return local
        self.imports.add[(module, None, None)] = None
        return module

    def drop_import(self, module: str, name: str | None, asname: str | None = None) -> None:
        """Remove `from module import name` (`import module` for no name) once unused."""
        self.imports.remove[(module, name, asname)] = None


def parenthesize(expr: cst.BaseExpression) -> cst.BaseExpression:
    """Parentheses an `await` needs when it is the target of `.attr`, `[i]` or a call."""
    if isinstance(expr, cst.Await) and not expr.lpar:
        return expr.with_changes(lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
    return expr


def with_keyword_default(call: cst.Call, keyword: str, value: str) -> cst.Call | None:
    """The call with `keyword=value` appended, or None when the keyword is already given."""
    if any(a.keyword is not None and a.keyword.value == keyword for a in call.args) or any(
            a.star == "**" for a in call.args):
        return None
    args = list(call.args)
    if args and args[-1].comma is cst.MaybeSentinel.DEFAULT:
        args[-1] = args[-1].with_changes(
            comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
    args.append(cst.Arg(keyword=cst.Name(keyword), value=parse_expr(value),
                        equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                              whitespace_after=cst.SimpleWhitespace(""))))
    return call.with_changes(args=args)
