"""Which local variables holding a legacy query a function can convert to `select()`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import libcst as cst

from ..analysis import ObjKind
from ..analysis.helpers import FinisherShape
from ..index.shapes import (
    BUILDER_STEPS,
    CONSUMERS,
    IN_OPERATORS,
    QUERY_TERMINALS,
    STATEMENT_TERMINALS,
)
from .context import Context, callee, dotted
from .query_chain import (
    QueryChain,
    RowShape,
    SelectBuilder,
    Unsupported,
    model_query_chain,
    unknown_elements,
    unwind,
)
from .traversal import BodyScan

# Steps that change what the rows hold: on the variable itself only in the function body (no
# branch or loop around), where every later use sees the new shape.
_SHAPE_STEPS = frozenset({"with_entities", "add_columns", "add_column", "add_entity"})
_CHAIN_STEPS = BUILDER_STEPS | _SHAPE_STEPS
# Terminals that end a converted variable's chain (a bulk `delete`/`update` only of one
# built by filters: else the variable stays legacy, see `QueryVariable.filtered_only`).
_VARIABLE_TERMINALS = frozenset({*QUERY_TERMINALS, *STATEMENT_TERMINALS})


class VariableScan(NamedTuple):
    convertible: frozenset[str]
    # started on two paths as rows no one run fits (objects vs Rows, or rows needing
    # `.unique()` vs rows it raises on): they stay legacy (name → why)
    mixed_shapes: Mapping[str, str]
    # assigned under a branch or loop: what a join left filter_by() to apply to depends on
    # the path, which the rewrite does not follow
    branched: frozenset[str] = frozenset()


class _RowRun(NamedTuple):
    entity: bool  # objects through scalars(), else Rows through execute()
    unique: bool  # legacy de-duplicated these rows: `.unique()`
    unhashable: bool  # `.unique()` would raise on them


_RESHAPED = "objects on one path and rows of other columns on another"


def _conflict(runs: list[_RowRun]) -> str | None:
    """Why no one run of the variable fits its starts on different paths, if so.
    (`.unique()` on the rows of a path without joins changes nothing, so a variable whose
    start on any path needs it gets it on all.)"""
    if len({run.entity for run in runs}) > 1:
        return _RESHAPED
    if any(run.unique for run in runs) and any(run.unhashable for run in runs):
        return ("rows legacy Query de-duplicated on one path and rows holding a JSON or ARRAY "
                "value (which .unique() cannot hash) on another")
    return None


class QueryVariableScan(BodyScan):
    """Finds the variables of one function that hold a legacy query and never escape.

    A variable qualifies when every assignment is `q = session.query(...)...` or
    `q = q.<step>(...)`, and every read is the start of a chain ending in a terminal
    (`q.filter(...).all()`), a `for` over it, or `list(q)` — or `return q` in a query helper
    (its callers run the select() it returns). Returned otherwise, passed on, stored in an
    attribute or read in a nested function, it escapes and stays as it is (with a TODO).
    """

    def __init__(self, ctx: Context) -> None:
        super().__init__()
        self.ctx = ctx
        self.helper = (ctx.ix.module, ctx.scope) in ctx.plan.query_helpers
        self.candidates: set[str] = set()
        self.rejected: set[str] = set()
        self.ok_reads: set[int] = set()
        self.reads: list[tuple[cst.Name, int]] = []  # (read, position)
        self.derived: list[tuple[str, str]] = []  # (variable, the variable it is built from)
        self.starts: dict[str, list[QueryChain]] = {}  # variable → the queries it starts as
        # `rows = rows.limit(n).all()` as a statement of the function body: the variable holds
        # rows from there on (variable → where, in names visited)
        self.ended: dict[str, int] = {}
        self.top_level: set[int] = set()  # the function body's own small statements
        self.reshaped: set[str] = set()  # variables given another row shape under a branch
        self.branched: set[str] = set()  # variables assigned under a branch or loop
        self.position = 0  # names visited so far

    @classmethod
    def convertible(cls, function: cst.FunctionDef, ctx: Context) -> VariableScan:
        top_level = {id(small) for stmt in function.body.body
                     if isinstance(stmt, cst.SimpleStatementLine) for small in stmt.body}
        first = cls(ctx)
        first.top_level = top_level
        finisher = ctx.plan.query_finishers.get((ctx.ix.module, ctx.scope))
        if finisher is not None:  # its callers hand it a select() of one mapped class
            first.candidates.add(finisher.param)
        first.walk(function.body)  # pass 1: which names are assigned queries
        if not first.candidates - first.rejected:
            return VariableScan(frozenset(), {})
        second = cls(ctx)
        second.top_level = top_level
        second.candidates = first.candidates - first.rejected
        second.rejected = set(first.rejected)
        second.walk(function.body)  # pass 2: is every read of them a convertible use?
        escaped = {n.value for n, at in second.reads if id(n) not in second.ok_reads
                   and at <= second.ended.get(n.value, at)}
        left = second.rejected | escaped | {  # a use has no select() form: see local_pass
            name for scope, name in ctx.legacy_variables if scope == ctx.scope}
        # a variable built from another (`page = q.limit(n)`) converts with it or not at all
        changed = True
        while changed:
            changed = False
            for derived, root in second.derived:
                if (derived in left) != (root in left):
                    left |= {derived, root}
                    changed = True
        mixed = {name: why for name, starts in second.starts.items()
                 if (why := _conflict(list(filter(None, map(second._row_run, starts)))))}
        mixed |= {name: _RESHAPED for name in second.reshaped & second.candidates}
        return VariableScan(frozenset(second.candidates - left - mixed.keys()), mixed,
                            frozenset(second.branched))

    def _row_run(self, chain: QueryChain) -> _RowRun | None:
        """How the select() a start builds must be run (None: no faithful select(); its
        rewrite says so)."""
        try:
            statement = SelectBuilder(self.ctx).build(chain, chain.steps, unknown_ok=True)
        except Unsupported:
            return None
        if len(statement.elements) == 1 and unknown_elements(statement.elements):
            return None  # objects or Rows: whatever runs it says so
        return _RowRun(statement.shape is RowShape.ENTITY, statement.needs_unique,
                       any(e.unhashable for e in statement.elements))

    def _variable_chain(self, expr: cst.BaseExpression) -> cst.Name | None:
        """The variable a chain of allowed steps starts at, if any."""
        steps = []
        node = expr
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute):
            steps.append(node.func.attr.value)
            node = node.func.value
        if isinstance(node, cst.Name) and node.value in self.candidates:
            if all(step in _CHAIN_STEPS for step in steps):
                return node
            if steps[0] in _VARIABLE_TERMINALS and all(s in _CHAIN_STEPS for s in steps[1:]):
                return None  # `x = q.all()`, `for x in q.all()`: visit_Call judges the terminal
            self.rejected.add(node.value)
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        for t in node.targets:
            if isinstance(t.target, cst.Name):
                self.targets.add(id(t.target))
        if not isinstance(target, cst.Name) or self.nested:
            return
        if id(node) not in self.top_level:
            self.branched.add(target.value)
        if target.value in self.ended:
            self.rejected.add(target.value)  # a query again after holding rows: not followed
            return
        chain = unwind(node.value) or model_query_chain(node.value, self.ctx)
        if chain is not None and chain.query_call is not None and chain.session_kind(
                self.ctx) in (ObjKind.SESSION, ObjKind.FLASK_SESSION) and all(
                    step in _CHAIN_STEPS for step, _ in chain.steps):
            self.candidates.add(target.value)
            self.starts.setdefault(target.value, []).append(chain)
            return
        if isinstance(node.value, cst.IfExp) and target.value in self.candidates:
            self._refined_either_way(target.value, node.value)
            return
        root = self._variable_chain(node.value)
        if root is None:
            if not self._ends(target.value, node):
                self.rejected.add(target.value)
            return
        self.ok_reads.add(id(root))
        if root.value == target.value and id(node) not in self.top_level and _SHAPE_STEPS & (
                _step_names(node.value)):
            self.reshaped.add(target.value)  # `if c: q = q.with_entities(...)`: two shapes
        if root.value != target.value:  # `page = q.limit(n)`: a query built from another
            self.candidates.add(target.value)
            self.derived.append((target.value, root.value))

    def _refined_either_way(self, name: str, value: cst.IfExp) -> None:
        """`q = q.filter(...) if newest else q`: each branch is the variable or a chain of
        steps on it that keeps its row shape."""
        for branch in (value.body, value.orelse):
            if isinstance(branch, cst.Name) and branch.value == name:
                self.ok_reads.add(id(branch))
                continue
            root = self._variable_chain(branch)
            if root is None or root.value != name or _SHAPE_STEPS & _step_names(branch):
                self.rejected.add(name)
                return
            self.ok_reads.add(id(root))

    def _ends(self, name: str, node: cst.Assign) -> bool:
        """`name = name.<steps>.<terminal>()` in the function body itself (no branch or loop
        around it): the query is run there and the name holds its rows afterwards."""
        steps = []
        value = node.value
        while isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
            steps.append(value.func.attr.value)
            value = value.func.value
        if not (isinstance(value, cst.Name) and value.value == name and name in self.candidates
                and id(node) in self.top_level and steps and steps[0] in _VARIABLE_TERMINALS
                and all(step in _CHAIN_STEPS for step in steps[1:])):
            return False
        self.ended[name] = self.position
        return True

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.rejected.add(node.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        if self.nested:
            return
        handed = self._handed_to_finisher(node)
        if handed is not None:
            self.ok_reads.add(id(handed))  # `paginate(q, 1)`: it runs the select() itself
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _VARIABLE_TERMINALS:
            root = self._variable_chain(node.func.value)
        elif dotted(node.func) in CONSUMERS | {"list"} or isinstance(
                node.func, cst.Attribute) and node.func.attr.value in IN_OPERATORS:
            for arg in node.args:
                root = self._variable_chain(arg.value)
                if root is not None:
                    self.ok_reads.add(id(root))
            return
        else:
            return
        if root is not None:
            self.ok_reads.add(id(root))

    def _handed_to_finisher(self, node: cst.Call) -> cst.Name | None:
        """The variable a call hands a query finisher of the project, if any."""
        ctx = self.ctx
        if not ctx.plan.query_finishers or not node.args:
            return None  # (the common case: no name to resolve)
        name = callee(node.func)
        ref = name and ctx.plan.resolve_function(ctx.ix, ctx.scope, name)
        finisher = ctx.plan.query_finishers.get(ref) if ref else None
        arg = finisher and finisher_argument(node, finisher, ctx.plan.implicit_self(name, ref))
        value = arg.value if arg else None
        return value if isinstance(value, cst.Name) and value.value in self.candidates else None

    def visit_Return(self, node: cst.Return) -> None:
        root = self._variable_chain(node.value) if self.helper and not self.nested and (
            node.value is not None) else None
        if root is not None:  # `return q`, `return q.order_by(...)`
            self.ok_reads.add(id(root))

    def visit_Subscript(self, node: cst.Subscript) -> None:
        root = None if self.nested else self._variable_chain(node.value)
        if root is not None:
            self.ok_reads.add(id(root))

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.target, cst.Name):
            self.rejected.add(node.target.value)
        self._iterated(node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._iterated(node.iter)

    def _iterated(self, expr: cst.BaseExpression) -> None:
        root = None if self.nested else self._variable_chain(expr)
        if root is not None:
            self.ok_reads.add(id(root))

    def visit_Name(self, node: cst.Name) -> None:
        self.position += 1
        if node.value in self.candidates and id(node) not in self.targets:
            self.reads.append((node, self.position))

    def visit_Attribute(self, node: cst.Attribute) -> None:
        super().visit_Attribute(node)
        if node.attr.value == "statement" and not self.nested:
            root = self._variable_chain(node.value)
            if root is not None:
                self.ok_reads.add(id(root))


def finisher_argument(call: cst.Call, finisher: FinisherShape, skip: int) -> cst.Arg | None:
    """The argument a call of a query finisher hands it the query in (`skip`: 1 when the
    call passes `self` implicitly)."""
    positional = [a for a in call.args if a.keyword is None]
    at = finisher.position - skip
    return next((a for a in call.args if a.keyword is not None
                 and a.keyword.value == finisher.param), None) or (
        positional[at] if 0 <= at < len(positional) else None)


def _step_names(expr: cst.BaseExpression) -> set[str]:
    """The methods a chain `root.a(...).b(...)` calls."""
    names = set()
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        names.add(expr.func.attr.value)
        expr = expr.func.value
    return names
