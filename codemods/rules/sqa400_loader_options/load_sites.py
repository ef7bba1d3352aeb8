"""Where SQA400 looks: the statements of a function that load mapped objects into a
variable (or return them), and the options their queries already have."""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from ...analysis import ObjKind
from ...index import PASSING_ON, CallSite
from ...index.shapes import OBJECT_TERMINALS as _OBJECT_TERMINALS
from ...index.shapes import RESULT_STEPS as _RESULT_STEPS
from ...index.shapes import RUN_VERBS as _RUNS_SELECT
from ...rewrite.context import Context, callee, dotted
from ...rewrite.query_chain import unwind
from ...rewrite.traversal import Visitor


@dataclass
class LoadSite:
    """A statement that loads objects of one mapped class into a variable."""

    key: int  # id of the node the rewrite looks the options up by
    variable: str | None  # None: the objects are returned to the callers; "self.x": kept
    entity: str  # qualified mapped class
    existing: set[tuple[str, ...]]  # attribute paths already loaded by options in the query
    node: cst.CSTNode
    session: cst.BaseExpression | None = None  # the session that loaded them
    # the name the index files reads under: `x = s.query(E).first()` → "s.query().first()"
    root: str | None = None
    # `render(session.get(Order, 1))`: the project function and parameter that receive them
    handed_to: tuple[tuple[str, str], str] | None = None



class LoadSites(Visitor):
    """Statements of one function (not nested ones) that load objects into a variable."""

    def __init__(self, ctx: Context, select_statements: set[int]) -> None:
        self.ctx = ctx
        self.select_statements = select_statements  # filled: the select()s found loading
        self.sites: list[LoadSite] = []
        self.statement: cst.CSTNode | None = None  # findings are reported on the statement
        self.assigned: dict[str, cst.BaseExpression] = {}  # variable → its latest value

    @classmethod
    def find(cls, function: cst.FunctionDef, ctx: Context, select_statements: set[int]
             ) -> list[LoadSite]:
        visitor = cls(ctx, select_statements)
        visitor.walk(function.body)
        return visitor.sites

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.statement = node

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        if isinstance(target, cst.Name):
            self.assigned[target.value] = node.value
            self._load(node.value, target.value, self.statement or node)
        elif isinstance(target, cst.Attribute) and dotted(target.value) == "self":
            self._load(node.value, f"self.{target.attr.value}", self.statement or node)

    def visit_For(self, node: cst.For) -> None:
        if isinstance(node.target, cst.Name):
            self._load(node.iter, node.target.value, node, iterated=True)
        elif isinstance(node.target, cst.Tuple):  # `for order, customer in s.query(O, C)`
            rows = self.assigned.get(node.iter.value, node.iter) if isinstance(
                node.iter, cst.Name) else node.iter  # `rows = s.execute(...)`; `for … in rows`
            for position, element in enumerate(node.target.elements):
                if isinstance(element.value, cst.Name):
                    self._load(rows, element.value.value, node, iterated=True,
                               position=position)

    def visit_Call(self, node: cst.Call) -> None:
        """`render(session.get(Order, 1))`: objects loaded right into a project function."""
        ctx = self.ctx
        name = callee(node.func)
        target = name and ctx.plan.resolve_function(ctx.ix, ctx.scope, name)
        if not target or self.statement is None:
            return
        site = CallSite(ctx.scope, name, tuple(_passed(a.value) for a in node.args
                                               if a.keyword is None),
                        tuple((a.keyword.value, _passed(a.value)) for a in node.args
                              if a.keyword is not None), 0)
        for arg in node.args:
            passed = _passed(arg.value)
            if not passed or not passed.endswith("()"):
                continue
            for param in ctx.plan.parameters_given(site, target, passed):
                found = len(self.sites)
                self._load(arg.value, None, self.statement)
                for load in self.sites[found:]:
                    load.handed_to = (target, param)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if isinstance(node.target, cst.Name) and self.statement is not None:
            self._load(node.iter, node.target.value, self.statement, iterated=True)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is not None and self.statement is not None:
            self._load(node.value, None, self.statement)

    def _load(self, value: cst.BaseExpression, variable: str | None, node: cst.CSTNode,
              iterated: bool = False, position: int | None = None) -> None:
        """Sites for `variable = value` (`position`: the variable is that element of each
        row of a query selecting several entities)."""
        found = len(self.sites)
        while isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and (
                value.func.value in PASSING_ON) and value.args:
            value = value.args[0].value  # `sorted(session.query(E).all(), key=...)`
        self._find(value, variable, node, iterated, position)
        called = value.expression if isinstance(value, cst.Await) else value
        name = callee(called.func) if isinstance(called, cst.Call) else None
        for site in self.sites[found:]:
            site.root = f"{name}()" if name else None

    def _find(self, value: cst.BaseExpression, variable: str | None, node: cst.CSTNode,
              iterated: bool, position: int | None) -> None:
        ctx = self.ctx
        if self._select_load(value, variable, node, iterated, position):
            return
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
            terminal = value.func.attr.value
            if terminal == "get" and ctx.kind(value.func.value) is ObjKind.SESSION and (
                    value.args):  # session.get(E, pk)
                entity = dotted(value.args[0].value)
                mapped = entity and ctx.plan.mapped_class(ctx.ix, ctx.scope, entity)
                if mapped:
                    self.sites.append(LoadSite(id(value), variable, mapped, set(), node,
                                               value.func.value))
                return
            chain = unwind(value.func.value) if terminal in _OBJECT_TERMINALS and not (
                iterated) else None
            key = id(value)
        else:
            chain, key = None, id(value)
        if iterated and chain is None:
            chain = unwind(value)
        selected = chain.query_call.args if chain and chain.query_call else ()
        if len(selected) != 1 and (position is None or position >= len(selected)) or (
                ctx.kind(chain.session) is not ObjKind.SESSION):
            return
        entity = dotted(selected[position or 0].value)
        mapped = entity and ctx.plan.mapped_class(ctx.ix, ctx.scope, entity)
        if mapped:
            existing = {path for name, call in chain.steps if name == "options"
                        for arg in call.args for path in _option_paths(arg.value)}
            self.sites.append(LoadSite(key, variable, mapped, existing, node, chain.session))


    def _select_load(self, value: cst.BaseExpression, variable: str | None,
                     node: cst.CSTNode, iterated: bool, position: int | None) -> bool:
        """`session.scalars(select(E)...)` and the other ways 2.0-style code runs a select
        of one entity (awaited or not, with result methods after it): objects of E; or
        element `position` of the rows `for a, b in session.execute(select(A, B))`."""
        ctx = self.ctx
        expr, scalars, ended = value, False, iterated
        while not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and (
                expr.func.attr.value in _RUNS_SELECT) and expr.args and (
                ctx.kind(expr.func.value) is ObjKind.SESSION)):
            if isinstance(expr, cst.Await):
                expr = expr.expression
                continue
            if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)) or (
                    expr.func.attr.value not in _RESULT_STEPS):
                return False
            scalars |= expr.func.attr.value.startswith("scalar")
            ended |= expr.func.attr.value in _OBJECT_TERMINALS | {"scalar_one",
                                                                  "scalar_one_or_none"}
            expr = expr.func.value
        method = expr.func.attr.value
        scalars |= method != "execute"
        statement = expr.args[0].value
        steps: list[cst.Call] = []
        bottom = statement
        while isinstance(bottom, cst.Call) and isinstance(bottom.func, cst.Attribute):
            steps.append(bottom)
            bottom = bottom.func.value
        if not (isinstance(bottom, cst.Call) and (ctx.qualify(bottom.func) or "").endswith(
                ".select")):
            return False
        if position is None and scalars and (ended or method == "scalar") and (
                len(bottom.args) == 1):
            entity = dotted(bottom.args[0].value)
        elif position is not None and iterated and not scalars and position < len(bottom.args):
            entity = dotted(bottom.args[position].value)
        else:
            return False
        mapped = entity and ctx.plan.mapped_class(ctx.ix, ctx.scope, entity)
        if not mapped:
            return False
        existing = {path for call in steps if call.func.attr.value == "options"
                    for arg in call.args for path in _option_paths(arg.value)}
        self.select_statements.add(id(statement))
        self.sites.append(LoadSite(id(statement), variable, mapped, existing, node,
                                   expr.func.value))
        return True


def _option_paths(option: cst.BaseExpression) -> list[tuple[str, ...]]:
    """`selectinload(A.b).joinedload(B.c)` → [("b",), ("b", "c")]."""
    attrs: list[str] = []
    node = option
    while isinstance(node, cst.Call):
        if node.args and isinstance(node.args[0].value, cst.Attribute):
            attrs.append(node.args[0].value.attr.value)
        func = node.func
        node = func.value if isinstance(func, cst.Attribute) and isinstance(
            func.value, cst.Call) else None
    attrs.reverse()
    return [tuple(attrs[:i]) for i in range(1, len(attrs) + 1)]


def _passed(value: cst.BaseExpression) -> str | None:
    """An argument as the index names it: a dotted name, or `f()` for a call's result."""
    if isinstance(value, cst.Await):
        value = value.expression
    if isinstance(value, cst.Call):
        name = callee(value.func)
        return f"{name}()" if name else None
    return dotted(value)
