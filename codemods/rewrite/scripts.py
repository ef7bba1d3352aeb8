"""Which top-level statements of a script run inside its async entry point.

A script does its work at module level or in `if __name__ == "__main__":`. Under asyncio
that work must run inside an `async def`, started once by `asyncio.run()`. The local pass
lets every statement that may move await (`candidates`); the colouring pass decides, on the
local pass's tree, which statements move (`decide`) — all of them as soon as one needs
async, so the order of effects stays as it was — and SQA307 moves them.

Definitions stay at module level: imports, functions, classes, and assignments before the
first statement that does work. After it, a definition stays only when running it earlier
cannot change anything (an undecorated function, a class that is not mapped, a value built
without calls other than SQLAlchemy's, each binding a name bound nowhere else at module
level, reading nothing the moved statements bind).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import libcst as cst

from ..analysis import Plan
from ..analysis.project import qualname
from ..index import ModuleIndex
from ..todo import is_suppressed
from .context import callee, dotted, statement_suppressions
from .imports import ImportChanges
from .traversal import Visitor

RULE = "SQA307"  # the rule moving the statements
DEFINITION, ASSIGNMENT, EXECUTING, MAIN_BLOCK = "definition", "assignment", "executing", "main"
_DEFINING = (cst.Import, cst.ImportFrom, cst.Pass)
_INERT_CALLS = ("sqlalchemy.", "sqlmodel.")  # constructors: engines, sessionmakers, tables


@dataclass(frozen=True)
class EntryPoint:
    """The top-level statements (by id, in the tree a pass reads) that run inside the async
    entry point, and why the module's own module-level statements cannot (None: they can)."""

    moving: frozenset[int] = frozenset()
    blocked: str | None = None

    def moves(self, statement: cst.CSTNode) -> bool:
        return id(statement) in self.moving


def is_main_guard(statement: cst.CSTNode) -> bool:
    """`if __name__ == "__main__":` without `else`."""
    if not isinstance(statement, cst.If) or statement.orelse is not None:
        return False
    test = statement.test
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1 or not isinstance(
            test.comparisons[0].operator, cst.Equal):
        return False
    sides = [test.left, test.comparisons[0].comparator]
    names = {s.value for s in sides if isinstance(s, cst.Name)}
    strings = {s.evaluated_value for s in sides if isinstance(s, cst.SimpleString)}
    return names == {"__name__"} and strings == {"__main__"}


def statement_kind(statement: cst.CSTNode) -> str:
    if is_main_guard(statement):
        return MAIN_BLOCK
    if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
        return DEFINITION
    if isinstance(statement, cst.If) and dotted(statement.test) in (
            "TYPE_CHECKING", "typing.TYPE_CHECKING"):
        return DEFINITION
    if isinstance(statement, cst.Try) and all(
            isinstance(s, cst.SimpleStatementLine) and all(isinstance(x, _DEFINING)
                                                           for x in s.body)
            for block in [statement.body, *(h.body for h in statement.handlers)]
            for s in block.body):
        return DEFINITION  # `try: import x except ImportError: ...`
    if not isinstance(statement, cst.SimpleStatementLine):
        return EXECUTING
    kinds = {_small_kind(small) for small in statement.body}
    return EXECUTING if EXECUTING in kinds else ASSIGNMENT if ASSIGNMENT in kinds else DEFINITION


def _small_kind(small: cst.BaseSmallStatement) -> str:
    if isinstance(small, _DEFINING) or (isinstance(small, cst.AnnAssign) and small.value is None):
        return DEFINITION
    if isinstance(small, cst.Expr) and isinstance(small.value, (cst.SimpleString,
                                                                cst.ConcatenatedString)):
        return DEFINITION  # a docstring
    targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else (
        [small.target] if isinstance(small, cst.AnnAssign) else None)
    if targets is not None and all(_names_only(t) for t in targets):
        return ASSIGNMENT
    return EXECUTING


def _names_only(target: cst.BaseExpression) -> bool:
    if isinstance(target, (cst.Tuple, cst.List)):
        return all(_names_only(e.value) for e in target.elements)
    return isinstance(target.value if isinstance(target, cst.StarredElement) else target,
                      cst.Name)


def _blocker(plan: Plan, ix: ModuleIndex) -> str | None:
    """Why statements this module runs at module level must stay there (they also run when
    it is imported), or None."""
    who = plan.module_importer(ix)
    if who is None:
        return None
    if who == "pytest":
        return ("it runs at module level, when pytest imports this module: move it into an "
                "async fixture")
    return (f"it runs at module level, also when {who} imports this module: move it into an "
            "async function run with asyncio.run() (by this module's `if __name__ == "
            "\"__main__\":` block, or by what imports it)")


def _candidates(module: cst.Module, plan: Plan, ix: ModuleIndex
                ) -> tuple[list[cst.BaseStatement], str | None]:
    """The top-level statements that may run inside the entry point, and the blocker."""
    kinds = [statement_kind(s) for s in module.body]
    if not any(k in (EXECUTING, MAIN_BLOCK) for k in kinds) or plan.web_application(ix):
        return [], None
    blocked = _blocker(plan, ix) if EXECUTING in kinds else None
    found = []
    for i, (statement, kind) in enumerate(zip(module.body, kinds, strict=True)):
        if kind == MAIN_BLOCK and (not blocked or all(k == DEFINITION for k in kinds[i + 1:])):
            found.append(statement)  # (a block followed by module-level work stays)
        elif kind in (EXECUTING, ASSIGNMENT) and not blocked:
            found.append(statement)
    if any(is_suppressed(RULE, statement_suppressions(s)) for s in found):
        return [], None  # a statement to leave alone: nothing moves around it
    return found, blocked


def candidates(module: cst.Module, plan: Plan, ix: ModuleIndex) -> EntryPoint:
    """For the local pass: every statement that may move may await."""
    found, blocked = _candidates(module, plan, ix)
    return EntryPoint(frozenset(id(s) for s in found), blocked)


class _AsyncWork(Visitor):
    """What in a statement needs an async function: awaits, `async for`/`async with`, and
    calls of functions that became async (counted; in a loop they run again and again)."""

    def __init__(self, plan: Plan, ix: ModuleIndex) -> None:
        self.plan, self.ix = plan, ix
        self.awaits = False
        self.calls = 0
        self.loops = 0
        self.in_loop = False
        self.run: set[int] = set()  # calls handed to asyncio.run() or awaited already

    def visit_Await(self, node: cst.Await) -> None:
        self.awaits = True
        self.run.add(id(node.expression))

    def visit_For(self, node: cst.For) -> None:
        self.awaits |= node.asynchronous is not None
        self.loops += 1

    def leave_For(self, original_node: cst.For) -> None:
        self.loops -= 1

    def visit_While(self, node: cst.While) -> None:
        self.loops += 1

    def leave_While(self, original_node: cst.While) -> None:
        self.loops -= 1

    def visit_With(self, node: cst.With) -> None:
        self.awaits |= node.asynchronous is not None

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self.awaits |= node.asynchronous is not None
        self.loops += 1

    def leave_CompFor(self, original_node: cst.CompFor) -> None:
        self.loops -= 1

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False  # its own body runs when called

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_Call(self, node: cst.Call) -> None:
        function = dotted(node.func)
        if function and node.args and self.plan.qualify(self.ix, function) == "asyncio.run":
            self.run.add(id(node.args[0].value))
        name = callee(node.func)
        ref = name and self.plan.resolve_function(self.ix, "", name)
        if not ref or id(node) in self.run or ref not in self.plan.async_functions or (
                self.plan.sync_boundary(ref)):
            return
        self.calls += 1
        self.in_loop |= self.loops > 0


def decide(module: cst.Module, plan: Plan, ix: ModuleIndex, added: ImportChanges
           ) -> EntryPoint:
    """For the colouring pass, on the local pass's tree (`added`: the imports it added):
    the statements that move (none when nothing needs async, or when one call of an async
    function is all there is: SQA301 runs that one with asyncio.run())."""
    found, blocked = _candidates(module, plan, ix)
    work = _AsyncWork(plan, ix)
    for statement in found:
        statement.visit(work)
    if not work.awaits and work.calls < 2 and not work.in_loop:
        return EntryPoint(frozenset(), blocked)
    inert = _Inert(plan, ix, {asname or name: f"{module}.{name}"
                              for module, name, asname in added.add if name})
    moved = found if blocked else moving(module.body, found, inert)
    return EntryPoint(frozenset(id(s) for s in moved), blocked)


def moving(body: Iterable[cst.BaseStatement], found: list[cst.BaseStatement],
           inert: _Inert) -> list[cst.BaseStatement]:
    """The statements that move, in order: the candidates doing work, and from the first of
    them on, whatever could not run earlier without changing what the program does."""
    body = list(body)
    chosen = {id(s) for s in found}
    counts: dict[str, int] = {}
    for statement in body:
        for name in bound_names(statement):
            counts[name] = counts.get(name, 0) + 1
    moved: list[cst.BaseStatement] = []
    moved_names: set[str] = set()
    started = False
    for statement in body:
        kind = statement_kind(statement)
        if kind == DEFINITION and (not started or _stays(statement, counts, moved_names,
                                                         inert)):
            continue
        if kind != DEFINITION and id(statement) not in chosen:
            continue
        if kind == ASSIGNMENT and not _needs_async(statement, inert.plan, inert.ix) and (
                not started or _stays(statement, counts, moved_names, inert)):
            continue
        moved.append(statement)
        moved_names |= bound_names(statement)
        started = True
    return moved


def _needs_async(statement: cst.CSTNode, plan: Plan, ix: ModuleIndex) -> bool:
    work = _AsyncWork(plan, ix)
    statement.visit(work)
    return work.awaits or work.calls > 0


def _stays(statement: cst.BaseStatement, counts: dict[str, int], moved_names: set[str],
           inert: _Inert) -> bool:
    """A definition after the first moved statement that can run before it unchanged."""
    names = bound_names(statement)
    if any(counts.get(n, 0) > 1 for n in names):
        return False
    if isinstance(statement, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom)) for s in statement.body):
        return True
    if isinstance(statement, cst.FunctionDef):
        read = read_names([statement.params, *(d.decorator for d in statement.decorators)])
        return not statement.decorators and not read & moved_names
    if isinstance(statement, cst.ClassDef):
        mapped = qualname(inert.ix, statement.name.value) in inert.plan.mapped_classes
        return not statement.decorators and not mapped and not read_names([statement]) & (
            moved_names)
    if statement_kind(statement) == DEFINITION:
        return True  # docstrings, TYPE_CHECKING imports, import fallbacks
    values = [s.value for s in statement.body if isinstance(s, (cst.Assign, cst.AnnAssign))]
    return all(inert(v) for v in values if v is not None) and not read_names(
        values) & moved_names


@dataclass(frozen=True)
class _Inert:
    """Tells a value built without calls, or with calls of SQLAlchemy's constructors only
    (also those the local pass imported: `create_async_engine`)."""

    plan: Plan
    ix: ModuleIndex
    added: dict[str, str]  # local name -> qualified name of the imports the rewrite adds

    def __call__(self, value: cst.BaseExpression) -> bool:
        calls = _Calls()
        value.visit(calls)
        return all((self.added.get(name) or self.plan.qualify(self.ix, name)).startswith(
            _INERT_CALLS) for name in calls.names)


class _Calls(Visitor):
    def __init__(self) -> None:
        self.names: list[str] = []

    def visit_Call(self, node: cst.Call) -> None:
        self.names.append(dotted(node.func) or "<call>")


class _Names(Visitor):
    """Names read or bound (`bound=True`: only bound) below a node, not counting what a
    nested function, lambda or comprehension binds for itself."""

    def __init__(self, bound: bool) -> None:
        self.bound = bound
        self.names: set[str] = set()

    def visit_Name(self, node: cst.Name) -> None:
        if not self.bound:
            self.names.add(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False  # `.attr` is no name

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False  # `keyword=` is no name

    def _target(self, target: cst.CSTNode) -> None:
        if not self.bound:
            return
        if isinstance(target, cst.Name):
            self.names.add(target.value)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._target(element.value)
        elif isinstance(target, cst.StarredElement):
            self._target(target.value)

    def visit_AssignTarget(self, node: cst.AssignTarget) -> None:
        self._target(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._target(node.target)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._target(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._target(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._target(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._target(node.target)

    def visit_Del(self, node: cst.Del) -> None:
        self._target(node.target)

    def visit_ImportAlias(self, node: cst.ImportAlias) -> None:
        if node.asname is None:
            self._target(cst.Name((dotted(node.name) or "").partition(".")[0]))

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None:
            self._target(node.name.name)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        self._target(node.name)
        return not self.bound

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        self._target(node.name)
        return not self.bound

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return not self.bound

    def visit_CompFor(self, node: cst.CompFor) -> bool:
        return not self.bound


def bound_names(node: cst.CSTNode) -> set[str]:
    """The names a statement binds in the scope it runs in."""
    names = _Names(bound=True)
    node.visit(names)
    return names.names


def read_names(nodes: Iterable[cst.CSTNode]) -> set[str]:
    """Every name mentioned below the nodes (read or bound)."""
    names = _Names(bound=False)
    for node in nodes:
        node.visit(names)
    return names.names
