"""Query variables the rewrite cannot convert, kept as legacy Queries on the session's
`sync_session` and run through `run_sync` (the async target).

Building a legacy Query does no I/O, so `q = session.sync_session.query(X)...` is fine in an
async function, with `await` in its filters; what runs it needs the greenlet run_sync gives.
Each use that may run it becomes `await session.run_sync(lambda _sync_session: <use>)`: a
terminal (`q.count()`), a call it is handed to (`render(items=q)`, which must run it before
it returns), a loop over it (over `list(q)`, the same rows). The function is then no longer
one holding legacy code, and its callers simply await it.
"""

from __future__ import annotations

from typing import NamedTuple

import libcst as cst

from ..analysis import ObjKind
from ..index.shapes import QUERY_TERMINALS
from .context import Context, dotted
from .query_chain import unwind
from .traversal import BodyScan


class BehindRunSync(NamedTuple):
    sessions: dict[str, cst.BaseExpression]  # variable → the session its starts query
    # node ids → the variable: its `session.query(...)` calls, the calls that run it
    # (terminals, calls handed it) and the loop iterables that are it
    starts: dict[int, str]
    runs: dict[int, str]
    loops: dict[int, str]


NOTHING_BEHIND = BehindRunSync({}, {}, {}, {})


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

    @classmethod
    def find(cls, function: cst.FunctionDef, ctx: Context,
             excluded: frozenset[str]) -> BehindRunSync:
        """`excluded`: variables the rewrite converts to select() itself."""
        scan = cls(ctx, excluded)
        scan.walk(function.body)  # pass 1: the variables and their sessions
        if not set(scan.sessions) - scan.rejected:
            return NOTHING_BEHIND
        found = cls(ctx, excluded)
        found.sessions = {n: s for n, s in scan.sessions.items() if n not in scan.rejected}
        found.rejected = set(scan.rejected)
        found.walk(function.body)  # pass 2: is every read a use run_sync can take?
        left = found.rejected | {n.value for n in found.reads if id(n) not in found.ok_reads}
        names = {n: s for n, s in found.sessions.items() if n not in left}
        return BehindRunSync(
            names, {i: n for n in names for i in found.starts.get(n, ())},
            {call: min(used) for call, used in found.runs.items() if used <= names.keys()},
            {loop: name for loop, name in found.loops.items() if name in names})

    def _root(self, expr: cst.BaseExpression) -> cst.Name | None:
        """The variable a chain of Query steps (no terminal) starts at, if it is one."""
        node = expr
        while isinstance(node, cst.Call) and isinstance(node.func, cst.Attribute) and (
                node.func.attr.value not in QUERY_TERMINALS):
            node = node.func.value
        return node if isinstance(node, cst.Name) and node.value in self.sessions else None

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
            known = self.sessions.setdefault(name, chain.session)
            if not known.deep_equals(chain.session):
                self.rejected.add(name)  # queries on two sessions: which one runs it?
            self.starts.setdefault(name, []).append(id(chain.query_call))
            return
        branches = [node.value.body, node.value.orelse] if isinstance(
            node.value, cst.IfExp) else [node.value]  # `q = q.limit(n) if n else q`
        roots = [self._root(branch) for branch in branches]
        if not self.nested and all(root is not None and root.value == name for root in roots):
            self.ok_reads.update(id(root) for root in roots)  # `q = q.filter(...)`
        else:
            self.rejected.add(name)

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

    def leave_Call(self, original_node: cst.Call) -> None:
        if self.run_depth:
            self.run_depth -= 1

    def visit_For(self, node: cst.For) -> None:
        self._loop(node.iter)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._loop(node.iter)

    def _loop(self, iterable: cst.BaseExpression) -> None:
        root = None if self.nested or self.run_depth else self._root(iterable)
        if root is not None:
            self.loops[id(iterable)] = root.value
            self.ok_reads.add(id(root))

    def visit_Name(self, node: cst.Name) -> None:
        if node.value not in self.sessions or id(node) in self.targets:
            return
        self.reads.append(node)
        if self.run_depth and not self.nested:
            self.ok_reads.add(id(node))  # inside a call run through run_sync
