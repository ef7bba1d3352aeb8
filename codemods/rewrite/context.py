"""What every rule sees while a file is rewritten: scope, statements, findings, imports.

One `Context` lives for one pass over one file. It tracks the scope stack (functions and
classes, a stack not a flag), the statement stack (TODO comments attach to the innermost
statement; suppression comments are honoured per statement), and the awaits already present.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import libcst as cst

from ..analysis import ObjKind, Plan
from ..api_surface import EVENT_FUNCTIONS, SESSION_CLASSES
from ..config import Config
from ..index import CALL, ENTER, ModuleIndex
from ..index.redefinitions import DefinitionKeys
from ..results import Finding, Kind, Tag
from ..todo import is_suppressed, marker_code, suppressed_codes, todo_comment
from .build import parenthesize
from .imports import ImportChanges
from .traversal import Visitor

if TYPE_CHECKING:
    from .scripts import EntryPoint


@dataclass(frozen=True)
class PendingFinding:
    """A finding whose line is resolved once, at the end, from the original node."""

    anchor: cst.CSTNode | None
    code: str
    kind: Kind
    message: str
    tag: Tag = Tag.NONE

    def at(self, line: int) -> Finding:
        """The finding, reported at `line` of the file as read."""
        return Finding(line, self.code, self.kind, self.message, self.tag)


_COMPOUND = frozenset({cst.If, cst.For, cst.While, cst.With, cst.Try, cst.TryStar,
                       cst.FunctionDef, cst.ClassDef, cst.Match})
STATEMENT_TYPES = _COMPOUND | {cst.SimpleStatementLine}
_NOTHING: frozenset[str] = frozenset()
# The node types `Context.enter` notes something about
_ENTERED = STATEMENT_TYPES | {
    cst.Lambda, cst.Await, cst.Expr, cst.Attribute, cst.Param, cst.Global, cst.Nonlocal,
    cst.Arg, cst.Call, cst.Import, cst.ImportFrom, cst.WithItem, cst.CompFor}


def dotted(node: cst.BaseExpression) -> str | None:
    """`a.b.c` for Name/Attribute chains, else None."""
    parts: list[str] = []
    while type(node) is cst.Attribute:  # (exact types: isinstance on libcst's ABCs is slow)
        parts.append(node.attr.value)
        node = node.value
    if type(node) is cst.Name:
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


def chained_callee(func: cst.BaseExpression) -> str | None:
    """`a(x).b(y).c` → "a().b().c" (as the index names it: `index.shapes.chained_callee`)."""
    if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Call):
        return None
    parts = [func.attr.value]
    node: cst.BaseExpression = func.value
    while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and (
            isinstance(node.func.value, cst.Call)):
        parts.append(f"{node.func.attr.value}()")
        node = node.func.value
    root = dotted(node.func) if isinstance(node, cst.Call) else None
    return ".".join([f"{root}()", *reversed(parts)]) if root and len(parts) > 1 else None


def result_callee(func: cst.BaseExpression) -> str | None:
    """`callee`, also for a method of an awaited call's result: `(await s.scalars(q)).all`
    is `s.scalars().all` (as the index names it)."""
    if isinstance(func, cst.Attribute) and isinstance(func.value, cst.Await) and isinstance(
            func.value.expression, cst.Call):
        owner = dotted(func.value.expression.func)
        return f"{owner}().{func.attr.value}" if owner else None
    return callee(func)


def _statement_comments(stmt: cst.CSTNode) -> list[str]:
    comments = [line.comment.value for line in getattr(stmt, "leading_lines", ())
                if line.comment is not None]
    if isinstance(stmt, cst.SimpleStatementLine) and stmt.trailing_whitespace.comment:
        comments.append(stmt.trailing_whitespace.comment.value)
    body = getattr(stmt, "body", None)
    if isinstance(body, cst.IndentedBlock) and body.header.comment:
        comments.append(body.header.comment.value)
    return comments


def _without_header_markers(original: cst.Module, updated: cst.Module) -> cst.Module:
    """A marker above the first statement is part of the module's header once the file is
    read again: a re-run drops a new marker of a rule the header already has one of."""
    codes = {marker_code(line.comment.value) for line in original.header if line.comment}
    codes.discard(None)
    if not codes or not updated.body or not original.body:
        return updated
    first, before = updated.body[0], original.body[0].leading_lines
    kept = [line for line in first.leading_lines if line in before or not (
        line.comment and marker_code(line.comment.value) in codes)]
    if len(kept) == len(first.leading_lines):
        return updated
    return updated.with_changes(body=[first.with_changes(leading_lines=kept),
                                      *updated.body[1:]])


def statement_suppressions(stmt: cst.CSTNode) -> set[str]:
    """The rule codes a statement's own comments suppress."""
    return suppressed_codes(_statement_comments(stmt))


class _Suppressions(Visitor):
    """Per statement below a root: the codes suppressed on it or on a statement between it
    and the root (a finding anchored there honours them all)."""

    def __init__(self) -> None:
        self.found: dict[int, set[str]] = {}
        self.stack: list[set[str]] = [set()]

    def on_visit(self, node: cst.CSTNode) -> bool:
        if type(node) in STATEMENT_TYPES:
            codes = self.stack[-1] | statement_suppressions(node)
            self.found[id(node)] = codes
            self.stack.append(codes)
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if type(original_node) in STATEMENT_TYPES:
            self.stack.pop()


@dataclass
class RuleOutputs:
    """What one rule produces for another in the same pass (declared by `Rule.provides` and
    `Rule.reads`)."""

    # loader options (SQA400) for the query or session.get() call with this node id
    loader_options: dict[int, list[cst.BaseExpression]] = field(default_factory=dict)


class Context:
    def __init__(self, plan: Plan, ix: ModuleIndex,
                 origin: Callable[[cst.CSTNode], cst.CSTNode | None],
                 imports: ImportChanges, config: Config | None = None,
                 earlier: Sequence[PendingFinding] = ()) -> None:
        self.plan = plan
        self.ix = ix
        self.config = config or Config()
        self.async_target = self.config.target == "async"
        self.imports = imports
        # The node of the file as read that a node of this pass stands for (for line numbers).
        self._origin = origin
        self.findings: list[PendingFinding] = []
        # statements (as read) an earlier pass reported a TODO, skip or run_sync wrap at
        self._reported_at = {id(f.anchor) for f in earlier if f.kind is not Kind.CHANGE}
        # (name, FunctionDef | ClassDef); a function's name as its scope key (`login@1`)
        self.scopes: list[tuple[str, cst.CSTNode]] = []
        self._scope = ""  # `scope`, joined again at each change of `scopes` (asked per node)
        self.definition_keys = DefinitionKeys(ix.redefined)
        # A def's decorators and parameter defaults run in the scope around it (when the def
        # runs), as the index reads them: the ids of those nodes, and (node id, the def's
        # scope) for each one being visited, its scope set aside meanwhile
        self._runs_around: set[int] = set()
        self._outside: list[tuple[int, tuple[str, cst.CSTNode]]] = []
        self.lambdas: list[cst.Lambda] = []  # the lambdas around the current node
        self.run_sync_lambdas: set[int] = set()  # ids of lambdas given to session.run_sync()
        # ids of event.listen()/listens_for() targets: listeners stay on the sync classes
        self.event_targets: set[int] = set()
        self.statements: list[cst.CSTNode] = []
        self._pending_todos: dict[int, list[str]] = {}
        self._suppressed: list[frozenset[str] | set[str]] = []
        self._qualified: dict[str, str] = {}
        self._names_read: set[str] | None = None  # every name the module reads (local_name)
        # imported names the module binds again to what a call makes (`Session =
        # scoped_session(...)`): they do not stand for the import (the fallback of an optional
        # import, `X = None` or `X = object`, still does)
        self._rebound = {b.name for b in ix.bindings.get("", ()) if b.name in ix.imports and (
            b.origin in (CALL, ENTER))}
        self._suppressed_below: dict[int, dict[int, set[str]]] = {}  # see `_anchor_suppresses`
        self.awaited: set[int] = set()  # ids of expressions already under `await`
        self.statement_values: set[int] = set()  # ids of expressions that are whole statements
        self.not_references: set[int] = set()  # ids of Names that are not variable references
        self.import_depth = 0
        self.class_bases: set[int] = set()  # ids of expressions naming a class's bases
        self.with_items: set[int] = set()  # ids of expressions entered by `with`
        self.iterated: set[int] = set()  # ids of expressions iterated by `for`
        self.outputs = RuleOutputs()
        # functions where a legacy query stays (TODO): candidates to keep sync behind run_sync
        self.unconverted_scopes: dict[str, str] = {}  # scope → why legacy code stays there
        # Query variables (scope, name) → why one of their uses stays legacy: the variable must
        # stay a legacy Query everywhere (`legacy_variables`, given when the pass is redone)
        # rather than be a select() that use cannot run (`broken_variables`, found by it).
        self.legacy_variables: dict[tuple[str, str], str] = {}
        self.broken_variables: dict[tuple[str, str], str] = {}
        self.io_scopes: set[str] = set()  # function qualnames where an await was inserted
        # imported names whose references the local pass replaced: old local -> new local
        self.renamed: dict[str, str] = {}
        # top-level statements that run inside the module's async entry point (scripts.py)
        self.entry: EntryPoint | None = None
        self.entry_function: str | None = None  # the `async def` SQA307 moved them into
        # the audit's: that function, whose code the index knows by its scopes before it moved
        self.moved_into: str | None = None

    # -- traversal bookkeeping (called by the pass driver) --------------------------------------
    def enter(self, node: cst.CSTNode) -> None:
        kind = type(node)  # exact types: isinstance on libcst's ABCs dominates the run time
        if id(node) in self._runs_around:
            self._outside.append((id(node), self.scopes.pop()))
            self._scopes_changed()
        if kind not in _ENTERED:  # (most nodes: names, strings, operations)
            return
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            name = self.definition_keys.key(self.scope, node.name.value) if (
                kind is cst.FunctionDef) else node.name.value
            self.scopes.append((name, node))
            self._scopes_changed()
            self.not_references.add(id(node.name))
            self._runs_around.update(id(d) for d in node.decorators)
            if kind is cst.FunctionDef:
                params = node.params
                self._runs_around.update(
                    id(p.default) for p in (*params.posonly_params, *params.params,
                                            *params.kwonly_params) if p.default is not None)
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
            # `def track(session=Session)` handing it to event.listen (the cheap test first)
            if node.default is not None and self.function is not None and self.qualify(
                    node.default) in SESSION_CLASSES and self.plan.event_target_param(
                        (self.ix.module, self.scope), node.name.value):
                self.event_targets.add(id(node.default))
        elif kind is cst.Global or kind is cst.Nonlocal:  # `global Session` declares a name
            self.not_references.update(id(item.name) for item in node.names)
        elif kind is cst.Arg:
            if node.keyword is not None:
                self.not_references.add(id(node.keyword))
        elif kind is cst.Call:
            if isinstance(node.func, cst.Attribute) and node.func.attr.value == "run_sync" and (
                    node.args and isinstance(node.args[0].value, cst.Lambda)):
                self.run_sync_lambdas.add(id(node.args[0].value))
            elif node.args and self.qualify(node.func) in EVENT_FUNCTIONS:
                self.event_targets.add(id(node.args[0].value))
        elif kind is cst.Import or kind is cst.ImportFrom:
            self.import_depth += 1
        elif kind is cst.WithItem:
            self.with_items.add(id(node.item))
        elif kind is cst.For or kind is cst.CompFor:
            self.iterated.add(id(node.iter))
        if kind in STATEMENT_TYPES:
            self.statements.append(node)
            # each entry: the codes suppressed on this statement or one around it
            around = self._suppressed[-1] if self._suppressed else _NOTHING
            own = statement_suppressions(node)
            self._suppressed.append(around | own if own else around)

    def leave(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:
        kind = type(original)
        if kind is cst.Module:
            return _without_header_markers(original, updated)
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            self.scopes.pop()
            self._scopes_changed()
        elif kind is cst.Lambda:
            self.lambdas.pop()
        elif kind is cst.Import or kind is cst.ImportFrom:
            self.import_depth -= 1
        if self._outside and self._outside[-1][0] == id(original):
            self.scopes.append(self._outside.pop()[1])
            self._scopes_changed()
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
        # A statement that carries a rule's marker from an earlier run gets no other marker of
        # that rule: its message may name what the first run changed (`with AsyncSession`,
        # a class qualified by the function made async), and a re-run must add nothing.
        existing = {marker_code(line.comment.value) for line in stmt.leading_lines
                    if line.comment}
        new_lines = [cst.EmptyLine(comment=cst.Comment(text)) for text in dict.fromkeys(todos)
                     if marker_code(text) not in existing]
        if not new_lines:
            return stmt
        return stmt.with_changes(leading_lines=[*stmt.leading_lines, *new_lines])

    def is_suppressed(self, code: str) -> bool:
        """`code` is suppressed on the statement being visited or one around it."""
        codes = self._suppressed[-1] if self._suppressed else _NOTHING
        return bool(codes) and is_suppressed(code, codes)  # (none: the common case, cheap)

    def suppressed_here(self) -> frozenset[str] | set[str]:
        """The codes suppressed on the statement being visited or one around it (for
        `todo.is_suppressed`; empty in the common case)."""
        return self._suppressed[-1] if self._suppressed else _NOTHING

    def _anchor_suppresses(self, code: str, statement: cst.CSTNode) -> bool:
        """A suppression on `statement` (one the traversal has not entered yet, e.g. a read
        inside the function a rule is visiting) or between it and the current statement."""
        if not self.statements:
            return is_suppressed(code, statement_suppressions(statement))
        if statement is self.statements[-1]:
            return False  # on the stack: `is_suppressed` has answered
        root = self.statements[-1]
        below = self._suppressed_below.get(id(root))
        if below is None:
            visitor = _Suppressions()
            visitor.walk(root)
            below = self._suppressed_below[id(root)] = visitor.found
        codes = below.get(id(statement))
        return is_suppressed(code, statement_suppressions(statement) if codes is None else codes)

    # -- scope ----------------------------------------------------------------------------------
    @property
    def lambda_depth(self) -> int:
        return len(self.lambdas)

    @property
    def in_run_sync_lambda(self) -> bool:
        return bool(self.lambdas) and id(self.lambdas[-1]) in self.run_sync_lambdas

    @property
    def scope(self) -> str:
        return self._scope

    def _scopes_changed(self) -> None:
        names = [name for name, _ in self.scopes]
        if names and names[0] == self.moved_into:  # read as the module-level code it was
            names = names[1:]
        self._scope = ".".join(names)

    @property
    def in_entry_point(self) -> bool:
        """At module level, in a statement that moves into the async entry point (SQA307)."""
        return not self.scopes and bool(self.statements) and self.entry is not None and (
            self.entry.moves(self.statements[0]))

    @contextmanager
    def around_def(self) -> Iterator[None]:
        """In a rule's `leave_FunctionDef`/`leave_ClassDef`: the scope around the def, where
        its decorators run."""
        scope = self.scopes.pop()
        self._scopes_changed()
        try:
            yield
        finally:
            self.scopes.append(scope)
            self._scopes_changed()

    @property
    def function(self) -> cst.FunctionDef | None:
        """The innermost scope when it is a function (None at module or class level)."""
        if self.scopes and isinstance(self.scopes[-1][1], cst.FunctionDef):
            return self.scopes[-1][1]
        return None

    # -- facts ----------------------------------------------------------------------------------
    def kind(self, expr: cst.BaseExpression) -> ObjKind | None:
        if type(expr) is cst.Call:  # `registry()`, `SessionLocal()`: what the call returns
            called = callee(expr.func)
            if called in self.renamed.values():  # as read: the index knows that name
                called = next(old for old, new in self.renamed.items() if new == called)
            return self.plan.call_result_kind(self.ix, self.scope, called) if called else None
        name = dotted(expr)
        return self.plan.kind(self.ix, self.scope, name) if name else None

    def run_sync_receiver(self, session: cst.BaseExpression) -> cst.BaseExpression:
        """What to call `run_sync` on for `session`: a `scoped_session` registry (now an
        `async_scoped_session`) proxies the session's methods but not `run_sync`, so it is
        called for its session."""
        name = dotted(session)
        return cst.Call(func=session) if name and self.plan.is_session_registry(
            self.ix, self.scope, name) else session

    def qualify(self, expr: cst.BaseExpression) -> str | None:
        name = dotted(expr)
        if not name:
            return None
        head = name.partition(".")[0]
        if head in self.ix.imports and (head in self._rebound or self.scopes and (
                self.plan.binding_scope(self.ix, self.scope, head) not in (None, ""))):
            return name  # `Session = scoped_session(...)` hides the import
        qualified = self._qualified.get(name)
        if qualified is None:  # several rules ask for every name a file reads
            qualified = self._qualified[name] = self.plan.qualify(self.ix, name)
        return qualified

    def builtin(self, func: cst.BaseExpression) -> str | None:
        """The builtin a called name is, unless the module or a scope around binds it."""
        name = func.value if type(func) is cst.Name else None
        if name is None or self.is_bound(name):
            return None
        return name

    def is_bound(self, name: str) -> bool:
        """`name` is imported, defined or assigned in this module or a scope around here."""
        return name in self.ix.imports or name in self.ix.module_names or (
            self.plan.binding_scope(self.ix, self.scope, name) is not None)

    def free_name(self, *wanted: str, taken: Collection[str] = ()) -> str:
        """The first of `wanted` that is not bound here (nor in `taken`); else the last one
        with `_` appended until it is free."""
        for name in wanted:
            if not self.is_bound(name) and name not in taken:
                return name
        name = wanted[-1]
        while self.is_bound(name) or name in taken:
            name += "_"
        return name

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
    def marker_codes(self) -> set[str]:
        """The rule codes of the TODO markers on the current statement (in its comments, or
        added to it in this pass)."""
        if not self.statements:
            return set()
        statement = self.statements[-1]
        codes = {marker_code(text) for text in [*_statement_comments(statement),
                                               *self._pending_todos.get(id(statement), ())]}
        return {code for code in codes if code is not None}

    def reported_here(self) -> bool:
        """An earlier pass reported a TODO, a skip or a run_sync wrap at this statement."""
        anchor = self.anchor(self.statements[-1]) if self.statements else None
        return anchor is not None and id(anchor) in self._reported_at

    def report(self, code: str, kind: Kind, message: str, node: cst.CSTNode,
               at: cst.CSTNode | None = None, tag: Tag = Tag.NONE,
               despite_suppression: bool = False) -> bool:
        """The one way rules report. The finding is anchored to the statement around `node`
        (or `at`, a statement of the file as read that the traversal has not left yet); a
        TODO also leaves its marker comment above that statement. Nothing is reported where
        a suppression comment on that statement (or around it) names `code`: returns False
        (`despite_suppression`: a TODO saying the suppression leaves code that fails)."""
        statement = at or (self.statements[-1] if self.statements else None)
        if not despite_suppression and (self.is_suppressed(code) or (
                statement is not None and self._anchor_suppresses(code, statement))):
            return False
        if kind is Kind.TODO and statement is not None and code in {
                marker_code(text) for text in _statement_comments(statement)}:
            return True  # its marker is there from an earlier run: nothing is added
        self.findings.append(PendingFinding(self.anchor(at or node), code, kind, message, tag))
        if kind is Kind.TODO and statement is not None:
            self._pending_todos.setdefault(id(statement), []).append(todo_comment(code, message))
        return True

    def take_markers(self, statement: cst.CSTNode, code: str) -> list[str]:
        """The markers of rule `code` waiting for `statement`, taken off it (the rule puts them
        on a statement it builds instead)."""
        pending = self._pending_todos.get(id(statement), [])
        taken = [text for text in pending if marker_code(text) == code]
        self._pending_todos[id(statement)] = [text for text in pending if text not in taken]
        return taken

    def change(self, code: str, message: str, node: cst.CSTNode, tag: Tag = Tag.NONE) -> None:
        self.report(code, Kind.CHANGE, message, node, tag=tag)

    def todo(self, code: str, message: str, node: cst.CSTNode,
             at: cst.CSTNode | None = None) -> None:
        self.report(code, Kind.TODO, message, node, at)

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
        return self.cannot_await_outside_lambdas()

    def cannot_await_outside_lambdas(self) -> str | None:
        """Why the current statement cannot await (its lambdas aside), if it cannot."""
        function = self.function
        if function is None:
            if self.in_entry_point:
                return None
            blocked = self.entry.blocked if self.entry and not self.scopes else None
            return blocked or "it runs at module level (move it into an async function)"
        # (a module another file of the same name shadows in the project is not asked; the
        # path tells them apart: a worker process gets its late files' index as a copy)
        planned = self.plan.modules.get(self.ix.module)
        reason = self.plan.cannot_be_async((self.ix.module, self.scope)) if (
            self.scope in self.ix.functions
            and planned is not None and planned.path == self.ix.path) else None
        return f"{reason} (load the data before, or use run_sync)" if reason else None

    # -- imports --------------------------------------------------------------------------------
    def local_name(self, module: str, name: str, equivalents: frozenset[str] = frozenset()
                   ) -> tuple[str, tuple[str, str, str | None] | None]:
        """The local name for `module.name`, and the import to add for it (None if present).

        An existing import of the same object (or of one of `equivalents`) is reused; a
        clash with another object of that name imports it as `sa_<name>` instead — also with
        a name the module reads without binding it (the import would change what that code
        reads, and a re-run would read it as the import).
        """
        wanted = {f"{module}.{name}", *equivalents}
        for local, qualified in self.ix.imports.items():
            if qualified in wanted:
                return local, None
        if self._names_read is None:
            self._names_read = set().union(*self.ix.names_read.values())
        clash = name in self.ix.imports or name in self.ix.module_names or (
            name in self._names_read)
        asname = f"sa_{name}" if clash else None
        return asname or name, (module, name, asname)

    def import_name(self, module: str, name: str,
                    equivalents: frozenset[str] = frozenset()) -> str:
        """`local_name`, adding the import right away."""
        local, key = self.local_name(module, name, equivalents)
        if key is not None:
            self.imports.add[key] = None
        return local

    def project_reference(self, qualified: str) -> cst.BaseExpression:
        """`project_name`, adding the import right away."""
        expr, key = self.project_name(qualified)
        if key is not None:
            self.imports.add[key] = None
        return expr

    def project_name(self, qualified: str
                     ) -> tuple[cst.BaseExpression, tuple[str, str, str | None] | None]:
        """An expression for the project object `qualified` (a class, `db`) in this module,
        importable from it: its own name, an existing import of it or of its module
        (`models.User` for `from . import models`), else a name and the import to add for
        it — relative within the module's package, since the folder a run starts from need
        not be on sys.path."""
        plan, ix = self.plan, self.ix
        module, _, name = qualified.rpartition(".")
        if module == ix.module and name in ix.module_names:
            return cst.Name(name), None
        imported = {plan.qualify(ix, local): local for local in reversed(ix.imports)}
        if qualified in imported:
            return cst.Name(imported[qualified]), None
        if module in imported and module in plan.modules:
            return cst.Attribute(value=cst.Name(imported[module]), attr=cst.Name(name)), None
        local, key = self.local_name(_importable_from(ix, module, plan.import_root(ix)), name)
        return cst.Name(local), key

    def import_module(self, module: str) -> str:
        for local, qualified in self.ix.imports.items():
            if qualified == module and "." not in local:
                return local
        self.imports.add[(module, None, None)] = None
        return module

    def drop_import(self, module: str, name: str | None, asname: str | None = None) -> None:
        """Remove `from module import name` (`import module` for no name) once unused (and
        no other project module imports the name from this one)."""
        if name is not None and self.plan.passed_on(self.ix.module, asname or name):
            return
        self.imports.remove[(module, name, asname)] = None



def _importable_from(ix: ModuleIndex, module: str, root: str) -> str:
    """`module` as this module imports it: relative (`.models`, `..db`) when both are in the
    same top-level package, else as named. `root` is the leading part of both names that
    is on sys.path when the module runs (`Project.import_root`): it is no package, so it is
    left out (a relative import through it would reach beyond the top-level package)."""
    own = ix.module.removeprefix(root) if module.startswith(root) else ix.module
    module = module.removeprefix(root)
    package = own.split(".") if ix.path.endswith("__init__.py") else own.split(".")[:-1]
    parts = module.split(".")
    common = 0
    while common < min(len(package), len(parts)) and package[common] == parts[common]:
        common += 1
    if not common:
        return module
    return "." * (len(package) - common + 1) + ".".join(parts[common:])
