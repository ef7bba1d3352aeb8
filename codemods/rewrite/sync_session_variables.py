"""Query variables the rewrite cannot convert, kept as legacy Queries on the session's
`sync_session` and run through `run_sync` (the async target).

Building a legacy Query does no I/O, so `q = session.sync_session.query(X)...` is fine in an
async function, with `await` in its filters; what runs it needs the greenlet run_sync gives.
Each use that may run it becomes `await session.run_sync(lambda _sync_session: <use>)`: a
terminal (`q.count()`), a call it is handed to (`render(items=q)`, which must run it before
it returns), a loop over it (over `list(q)`, the same rows). The function is then no longer
one holding legacy code, and its callers simply await it.

A function handing such a Query back (a builder, `Plan.legacy_builders`) builds it the same
way, and its callers take a call of it as a start: a variable it is assigned to, or a chain
run on it directly (`catalog.linked(X).filter(...).all()`), runs behind run_sync on the
session the builder's query is on, named as the caller sees it (`catalog.session` for
`self.session`, the argument given for a session parameter).
"""

from __future__ import annotations

from typing import NamedTuple

import libcst as cst

from ..analysis import ObjKind
from ..index.shapes import QUERY_TERMINALS
from .context import Context, callee, dotted
from .query_chain import session_given, unwind
from .traversal import BodyScan


class BehindRunSync(NamedTuple):
    sessions: dict[str, cst.BaseExpression]  # variable → the session its starts query
    # `session.query(...)` calls (node ids) → the variable they start
    starts: dict[int, str]
    # node ids → the (async) session they run on: the calls that run a variable or a
    # builder's Query (terminals, calls handed it) and the loop iterables that are one
    runs: dict[int, cst.BaseExpression]
    loops: dict[int, cst.BaseExpression]
    builder_calls: frozenset[int]  # calls of a builder whose Query is run behind run_sync


NOTHING_BEHIND = BehindRunSync({}, {}, {}, {}, frozenset())
RETURNED = "<returned>"  # a builder's `return session.query(...)...`, as a variable


class SyncSessionScan(BodyScan):
    """The local variables of one function that hold legacy Queries on one async session,
    with every read a use run_sync can take: a further step assigned back to the variable,
    a terminal, an argument of a call, the iterable of a loop."""

    def __init__(self, ctx: Context, excluded: frozenset[str]) -> None:
        super().__init__()
        self.ctx, self.excluded = ctx, excluded
        self.sessions: dict[str, cst.BaseExpression] = {}
        self.starts: dict[str, list[int]] = {}
        self.rejected: set[str] = set()
        self.reads: list[cst.Name] = []
        self.ok_reads: set[int] = set()
        self.runs: dict[int, set[str]] = {}  # run call → the variables it runs
        self.loops: dict[int, str] = {}
        self.run_depth = 0  # inside a call that runs one: its inner uses run there too
        # where a builder's Query is run directly: node id → the session, the builder call
        self.direct: dict[int, tuple[cst.BaseExpression, cst.Call]] = {}
        self.built: dict[str, list[int]] = {}  # variable → the builder calls it starts as
        self.derived: dict[str, set[str]] = {}  # variable → the variables it starts from
        self.builder = (ctx.ix.module, ctx.scope) in ctx.plan.legacy_builders

    @classmethod
    def find(cls, function: cst.FunctionDef, ctx: Context,
             excluded: frozenset[str]) -> BehindRunSync:
        """`excluded`: variables the rewrite converts to select() itself."""
        scan = cls(ctx, excluded)
        scan.walk(function.body)  # pass 1: the variables and their sessions
        if not set(scan.sessions) - scan.rejected and not scan.direct:
            return NOTHING_BEHIND
        found = cls(ctx, excluded)
        found.sessions = {n: s for n, s in scan.sessions.items() if n not in scan.rejected}
        found.rejected = set(scan.rejected)
        found.walk(function.body)  # pass 2: is every read a use run_sync can take?
        left = found.rejected | {n.value for n in found.reads if id(n) not in found.ok_reads}
        while derived_left := {n for n, sources in found.derived.items()
                               if n not in left and sources & left}:
            left |= derived_left  # started from a variable that stays as it is
        names = {n: s for n, s in found.sessions.items() if n not in left}
        runs = {call: names[min(used)] for call, used in found.runs.items()
                if used <= names.keys()}
        runs |= {call: session for call, (session, _) in found.direct.items()}
        return BehindRunSync(
            names, {i: n for n in names for i in found.starts.get(n, ())}, runs,
            {loop: names[name] for loop, name in found.loops.items() if name in names},
            frozenset({i for n in names for i in found.built.get(n, ())} | {
                id(call) for _, call in found.direct.values()}))

    def _root(self, expr: cst.BaseExpression) -> cst.Name | None:
        """The variable a chain of Query steps (no terminal) starts at, if it is one."""
        node = expr
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and (
                node.func.attr.value not in QUERY_TERMINALS):
            node = node.func.value
        return node if isinstance(node, cst.Name) and node.value in self.sessions else None

    def _built(self, expr: cst.BaseExpression) -> tuple[cst.BaseExpression, cst.Call] | None:
        """A chain of Query steps (no terminal) on what a builder returns: the session it is
        on, as named here, and the builder's call."""
        node = expr
        while not self.nested and isinstance(node, cst.Call | cst.Await):
            call = node.expression if isinstance(node, cst.Await) else node
            if not isinstance(call, cst.Call):
                return None
            if (session := builder_session(self.ctx, call)) is not None:
                return session, call
            if not isinstance(call.func, cst.Attribute) or node is not call or (
                    call.func.attr.value in QUERY_TERMINALS):
                return None
            node = call.func.value
        return None

    def visit_Assign(self, node: cst.Assign) -> None:
        for t in node.targets:
            self.targets.add(id(t.target))
        target = node.targets[0].target if len(node.targets) == 1 else None
        if not isinstance(target, cst.Name) or target.value in self.excluded:
            return
        name = target.value
        chain = unwind(node.value)
        if chain is not None and chain.query_call is not None and not self.nested and all(
                step not in QUERY_TERMINALS for step, _ in chain.steps) and self._async_session(
                    chain.session):
            self._start(name, chain.session)
            self.starts.setdefault(name, []).append(id(chain.query_call))
            return
        if (built := self._built(node.value)) is not None:  # `q = catalog.linked(X)`
            self._start(name, built[0])
            self.built.setdefault(name, []).append(id(built[1]))
            return
        branches = [node.value.body, node.value.orelse] if isinstance(
            node.value, cst.IfExp) else [node.value]  # `q = q.limit(n) if n else q`
        roots = [self._root(branch) for branch in branches]
        if self.nested or not all(root is not None for root in roots):
            self.rejected.add(name)
            return
        self.ok_reads.update(id(root) for root in roots)  # `q = q.filter(...)`
        for root in roots:
            if root is not None and root.value != name:  # `narrowed = q.filter(...)`
                self._start(name, self.sessions[root.value])
                self.derived.setdefault(name, set()).add(root.value)

    def _start(self, name: str, session: cst.BaseExpression) -> None:
        known = self.sessions.setdefault(name, session)
        if not known.deep_equals(session):
            self.rejected.add(name)  # queries on two sessions: which one runs it?

    def visit_Return(self, node: cst.Return) -> None:
        """A builder hands its variable (or a query it starts there) back: its callers run
        it behind run_sync."""
        if not self.builder or self.nested or node.value is None:
            return
        if (root := self._root(node.value)) is not None:
            self.ok_reads.add(id(root))
            return
        chain = unwind(node.value)
        if chain is not None and chain.query_call is not None and all(
                step not in QUERY_TERMINALS for step, _ in chain.steps) and self._async_session(
                    chain.session):
            self._start(RETURNED, chain.session)
            self.starts.setdefault(RETURNED, []).append(id(chain.query_call))

    def _async_session(self, session: cst.BaseExpression) -> bool:
        name = dotted(session)  # (on `.sync_session` already: an earlier run's)
        return name is not None and not name.endswith(".sync_session") and self.ctx.kind(
            session) is ObjKind.SESSION

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self.rejected.add(node.target.value)

    def visit_Call(self, node: cst.Call) -> None:
        if self.nested or self.run_depth:
            if self.run_depth:
                self.run_depth += 1
            return
        used: set[str] = set()
        func = node.func
        if isinstance(func, cst.Attribute) and func.attr.value in QUERY_TERMINALS and (
                root := self._root(func.value)) is not None:
            used.add(root.value)  # `q.count()`
        for arg in node.args:
            if (root := self._root(arg.value)) is not None:
                used.add(root.value)  # `render(items=q)`, `paginate(q.filter(...), 1)`
        if used:
            self.runs[id(node)] = used
            self.run_depth = 1
        elif isinstance(func, cst.Attribute) and func.attr.value in QUERY_TERMINALS and (
                built := self._built(func.value)) is not None:
            self.direct[id(node)] = built  # `catalog.linked(X).filter(...).all()`
            self.run_depth = 1

    def leave_Call(self, original_node: cst.Call) -> None:
        if self.run_depth:
            self.run_depth -= 1

    def visit_For(self, node: cst.For) -> None:
        self._loop(node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._loop(node.iter)

    def _loop(self, iterable: cst.BaseExpression) -> None:
        if self.nested or self.run_depth:
            return
        root = self._root(iterable)
        if root is not None:
            self.loops[id(iterable)] = root.value
            self.ok_reads.add(id(root))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value not in self.sessions or id(node) in self.targets:
            return
        self.reads.append(node)
        if self.run_depth and not self.nested:
            self.ok_reads.add(id(node))  # inside a call run through run_sync


def builder_session(ctx: Context, call: cst.Call) -> cst.BaseExpression | None:
    """For a call of a legacy builder: the session its Query is on, as this scope names it
    (`catalog.session` for a method's `self.session`, the argument for a parameter, the
    same name in the builder's own module); None when it is no builder or has no name
    here."""
    plan = ctx.plan
    name = callee(call.func)
    ref = plan.resolve_function(ctx.ix, ctx.scope, name) if name else None
    session = plan.legacy_builders.get(ref) if ref else None
    if session is None:
        return None
    head, *attrs = session.split(".")
    if head in plan.modules[ref[0]].functions[ref[1]].params:
        return session_given(ctx, call, ref, head, attrs)
    if ref[0] == ctx.ix.module and head in ctx.ix.module_names:
        return cst.parse_expression(session)
    return None
