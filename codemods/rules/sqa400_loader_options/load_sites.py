"""Where SQA400 looks: the statements of a function that load mapped objects into a
variable (or return them), and the options their queries already have."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import libcst as cst

from ...analysis import ObjKind
from ...analysis.helpers import FINISHER_SESSION
from ...index import PASSING_ON, CallSite
from ...index.shapes import OBJECT_TERMINALS as _OBJECT_TERMINALS
from ...index.shapes import ONE_OBJECT_TERMINALS, one_loaded_root, runs_a_statement
from ...index.shapes import RESULT_STEPS as _RESULT_STEPS
from ...index.shapes import RUN_VERBS as _RUNS_SELECT
from ...rewrite.context import Context, callee, chained_callee, dotted, result_callee
from ...rewrite.query_chain import QueryChain, unwind
from ...rewrite.query_variables import QueryVariableScan
from ...rewrite.traversal import Visitor

# Result methods a loaded object comes out of (`session.execute(select(E)).scalar()` too).
_OBJECT_STEPS = _RESULT_STEPS | {"scalar"}


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
    # `session.scalars(stmt)` / `q.all()`: the statement variable the query was built in
    statement: str | None = None


@dataclass
class StatementVariable:
    """`stmt = select(E)...` (or a legacy `q = session.query(E)...`) built once in a function
    and refined only by `stmt = stmt.where(...)`."""

    build: cst.Call  # the value of the assignment that builds it
    steps: list[cst.Call]  # the calls of the build and of the refinements
    uses: int  # reads of the variable other than the refinements' own
    legacy: bool
    # `if ...: stmt = select(E)... else: stmt = select(E)...`: every build (the first is
    # `build`), when each selects the same entity and none has options of its own
    builds: tuple[cst.Call, ...] = ()
    # builds selecting different things (`q = s.query(A)...`, later `q = s.query(B)`): a run
    # may load the objects of any of them, so each build gets what its own entity needs
    mixed: bool = False


class StatementVariables(Visitor):
    """The statement variables of one function body (nested functions count as reads)."""

    def __init__(self) -> None:
        self.values: dict[str, list[cst.BaseExpression | None]] = {}
        self.reads: dict[str, int] = {}
        self.targets: set[int] = set()

    @classmethod
    def find(cls, function: cst.FunctionDef, ctx: Context) -> dict[str, StatementVariable]:
        scan = cls()
        scan.walk(function.body)
        params = {p.name.value for p in (*function.params.posonly_params,
                                         *function.params.params,
                                         *function.params.kwonly_params)}
        found: dict[str, StatementVariable] = {}
        for name, values in scan.values.items():
            if name in params or any(v is None for v in values):
                continue
            builds = [v for v in values if _chain_root(v) is None or (
                _chain_root(v).value != name)]
            if not builds or not all(isinstance(b, cst.Call) for b in builds):
                continue
            selected = [_selected(b, ctx) for b in builds]
            kinds = {s[0] if s else None for s in selected}
            if len(kinds) != 1 or None in kinds:
                continue  # (a build that is neither: what a run loads is unknown)
            steps = [call for v in values for call in _chain_calls(v)]
            found[name] = StatementVariable(builds[0], steps,
                                            scan.reads.get(name, 0) - (  # not refinements'
                                                len(values) - len(builds)), kinds.pop(),
                                            tuple(builds),
                                            len(builds) > 1 and not _same_selects(builds, ctx))
        return found

    def visit_Assign(self, node: cst.Assign) -> None:
        target = node.targets[0].target if len(node.targets) == 1 else None
        if isinstance(target, cst.Name):
            self.values.setdefault(target.value, []).append(node.value)
            self.targets.add(id(target))
        else:
            for t in node.targets:
                self._rebound(t.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        if isinstance(node.target, cst.Name) and node.value is not None:
            self.values.setdefault(node.target.value, []).append(node.value)
            self.targets.add(id(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._rebound(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._rebound(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._rebound(node.target)

    def visit_AsName(self, node: cst.AsName) -> None:
        self._rebound(node.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._rebound(node.target)

    def _rebound(self, target: cst.CSTNode) -> None:
        """Names bound otherwise than by `name = value`: not statement variables."""
        if isinstance(target, cst.Name):
            self.values.setdefault(target.value, []).append(None)
            self.targets.add(id(target))
        elif isinstance(target, cst.Tuple | cst.List):
            for element in target.elements:
                self._rebound(element.value)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self.targets.add(id(node.attr))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self.targets.add(id(node.keyword))

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) not in self.targets:
            self.reads[node.value] = self.reads.get(node.value, 0) + 1


def _selected(build: cst.BaseExpression, ctx: Context
              ) -> tuple[bool, Sequence[cst.Arg]] | None:
    """(legacy, what it selects) for `session.query(...)...` (legacy) or `select(...)...`."""
    bottom = _chain_bottom(build)
    if isinstance(bottom, cst.Call) and (ctx.qualify(bottom.func) or "").endswith(".select"):
        return False, bottom.args
    chain = unwind(build)
    if chain is not None and chain.query_call is not None and (
            ctx.kind(chain.session) is ObjKind.SESSION):
        return True, chain.query_call.args
    return None


def _same_selects(builds: list[cst.BaseExpression], ctx: Context) -> bool:
    """Every build is `select(E)...` (or every one `session.query(E)...`, which a first run
    turns into the former) of the same one entity, with the same options."""
    selected = set()
    for build in builds:
        found = _selected(build, ctx)
        if found is None or len(found[1]) != 1:
            return False
        legacy, args = found
        options = tuple(sorted(cst.Module([]).code_for_node(a.value) for c in _chain_calls(
            build) if c.func.attr.value == "options" for a in c.args))
        selected.add((legacy, dotted(args[0].value), options))
    return len(selected) == 1 and None not in next(iter(selected))


def loaded_root(called: cst.BaseExpression, variable: str | None) -> str | None:
    """What the index files reads on `variable = called` under, for a call (`repo.orders()`
    for its result; the variable's own root for one object, see `one_loaded_root`)."""
    name = result_callee(called.func) if isinstance(called, cst.Call) else None
    if name is None:
        return None
    return one_loaded_root(variable, name) if variable and (
        _one_loaded(called) or runs_a_statement(name)) else f"{name}()"


def _one_loaded(value: cst.Call) -> bool:
    """`s.query(E).first()`, `(await s.scalars(stmt)).first()` (the index's `_one_loaded`)."""
    func = value.func
    if not isinstance(func, cst.Attribute) or func.attr.value not in ONE_OBJECT_TERMINALS:
        return False
    inner = func.value.expression if isinstance(func.value, cst.Await) else func.value
    return isinstance(inner, cst.Call)


def _chain_calls(expr: cst.BaseExpression) -> list[cst.Call]:
    calls = []
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        calls.append(expr)
        expr = expr.func.value
    return calls


def _chain_bottom(expr: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        expr = expr.func.value
    return expr


def _chain_root(expr: cst.BaseExpression | None) -> cst.Name | None:
    bottom = _chain_bottom(expr) if expr is not None else None
    return bottom if isinstance(bottom, cst.Name) and bottom is not expr else None



# Select methods replacing what it selects
_RESELECTING = frozenset({"with_only_columns", "add_columns", "with_entities"})


class LoadSites(Visitor):
    """Statements of one function (not nested ones) that load objects into a variable."""

    def __init__(self, ctx: Context, select_statements: set[int],
                 variables: dict[str, StatementVariable] | None = None,
                 convertible: set[str] | None = None) -> None:
        self.ctx = ctx
        self.variables = variables or {}  # statement variables of the function
        self.convertible = convertible or set()  # legacy ones SQA100 turns into select()
        self.select_statements = select_statements  # filled: the select()s found loading
        self.sites: list[LoadSite] = []
        # loads of objects the tool cannot give options to (a statement built where it cannot
        # follow it, a class it cannot tell): (variable the objects go to, None: returned;
        # the statement to report on; what the tool cannot follow, for the TODO; the
        # loading expression)
        self.unresolved: list[tuple[str | None, cst.CSTNode, str, cst.BaseExpression]] = []
        self.statement: cst.CSTNode | None = None  # findings are reported on the statement
        self.assigned: dict[str, cst.BaseExpression] = {}  # variable → its latest value
        # variable → every `variable = value` so far, with its statement: `return variable`
        # hands back what any of them loaded (`x = q.first()`, then `if not x: x = ...`)
        self.bound: dict[str, list[tuple[cst.BaseExpression, cst.CSTNode]]] = {}

    @classmethod
    def find(cls, function: cst.FunctionDef, ctx: Context, select_statements: set[int]
             ) -> tuple[LoadSites, dict[str, StatementVariable]]:
        variables = StatementVariables.find(function, ctx)
        convertible = QueryVariableScan.convertible(function, ctx).convertible if any(
            v.legacy for v in variables.values()) else frozenset()
        visitor = cls(ctx, select_statements, variables, convertible)
        visitor.walk(function.body)
        return visitor, variables

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
            self.bound.setdefault(target.value, []).append((node.value, self.statement or node))
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

    def visit_Attribute(self, node: cst.Attribute) -> None:
        """`session.get(Order, 1).customer.name`: objects loaded and read at once (the
        index files the reads under the call, `session.get()`)."""
        called = _unawaited(node.value)
        if not isinstance(called, cst.Call) or self.statement is None or (
                node.attr.value in _OBJECT_STEPS):
            return  # (`session.scalars(stmt).all()`: the statement using it is the site)
        chained = chained_callee(called.func)
        root = loaded_root(called, None) or (f"{chained}()" if chained else None)
        if root is not None:
            self._load(node.value, root, self.statement)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        if isinstance(node.target, cst.Name) and self.statement is not None:
            self._load(node.iter, node.target.value, self.statement, iterated=True)

    def visit_Return(self, node: cst.Return) -> None:
        if node.value is None or self.statement is None:
            return
        for returned, iterated in _handed_back(node.value):
            bound = self.bound.get(returned.value) if isinstance(returned, cst.Name) else None
            for value, statement in bound or [(returned, self.statement)]:
                self._load(value, None, statement, iterated)

    def _load(self, value: cst.BaseExpression, variable: str | None, node: cst.CSTNode,
              iterated: bool = False, position: int | None = None) -> None:
        """Sites for `variable = value` (`position`: the variable is that element of each
        row of a query selecting several entities)."""
        found = len(self.sites)
        handed = _passed_on(value)
        # `list(session.exec(stmt))`, `sorted(q)`: what it is handed is iterated
        self._find(handed, variable, node, iterated or handed is not value, position)
        lister = _lister(value, handed)
        for site in self.sites[found:] if lister is not None else ():
            if site.key == id(handed):  # SQA100 runs `list(query)` as the list() call's
                site.key = id(lister)
        called = _unawaited(handed)
        root = loaded_root(called, variable)
        held = _passed_on(self.assigned[called.value]) if isinstance(called, cst.Name) and (
            called.value in self.assigned) else None
        if root is None and isinstance(held, cst.Await | cst.Call):
            # `for x in q` on `q = <call>` just before: the index files x's reads under what
            # it named q's value there (q itself for a chain it has no name for,
            # `s.query(E).filter(...).order_by(...)`)
            root = loaded_root(_unawaited(held), called.value) or called.value
        # `for x in q` / `for x in result`: the index files x's reads under what q holds
        alias = self.ctx.ix.aliases.get(self.ctx.scope, {}).get(called.value) if isinstance(
            called, cst.Name) else None
        finisher = self.ctx.plan.query_finishers.get((self.ctx.ix.module, self.ctx.scope))
        if isinstance(called, cst.Name) and finisher and called.value == finisher.param:
            alias = (called.value, "")  # `for x in query`: x's reads are filed under `query`
        for site in self.sites[found:]:
            site.root = root or (alias[0] if alias and not alias[1] else None)

    def _find(self, value: cst.BaseExpression, variable: str | None, node: cst.CSTNode,
              iterated: bool, position: int | None) -> None:
        ctx = self.ctx
        if self._select_load(value, variable, node, iterated, position):
            return
        if isinstance(value, cst.Await) and isinstance(value.expression, cst.Call) and (
                isinstance(value.expression.func, cst.Attribute)) and (
                value.expression.func.attr.value == "get"):
            value = value.expression  # `await session.get(E, pk)`: already async code
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
            terminal = value.func.attr.value
            if terminal == "get" and ctx.kind(value.func.value) is ObjKind.SESSION and (
                    value.args):  # session.get(E, pk)
                entity = dotted(value.args[0].value)
                mapped = entity and ctx.plan.mapped_class(ctx.ix, ctx.scope, entity)
                # `options=[...]` it already has (a re-run, or async code): those are loaded
                existing = {path for a in value.args if a.keyword is not None and (
                    a.keyword.value == "options") and isinstance(a.value, cst.List)
                            for e in a.value.elements for path in _option_paths(e.value)}
                if mapped:
                    self.sites.append(LoadSite(id(value), variable, mapped, existing, node,
                                               value.func.value))
                return
            chain = unwind(value.func.value) if terminal in _OBJECT_TERMINALS and not (
                iterated) else None
            key = id(value)
        else:
            chain, key = None, id(value)
        if iterated and chain is None:
            chain = unwind(value)
        if chain is None and self._finisher_load(value, variable, node, iterated, key):
            return
        if chain is not None:
            self._chain_load(chain, key, value, variable, node, position)
            return
        # `q.all()`, `for x in q` on `q = session.query(E)...`
        root = _chain_root(value) if not isinstance(value, cst.Name) else value
        held = self.variables.get(root.value) if root is not None else None
        if held is None or not held.legacy or root.value not in self.convertible or not (
                iterated or isinstance(value, cst.Call) and isinstance(
                    value.func, cst.Attribute) and value.func.attr.value in _OBJECT_TERMINALS):
            return
        if held.mixed:  # each build gets the options its own objects need
            for build in held.builds:
                self._chain_load(unwind(build), id(build), value, variable, node, position)
            return
        chain = unwind(held.build)
        chain.steps += [(c.func.attr.value, c) for c in held.steps]
        self._chain_load(chain, key, value, variable, node, position, root.value)

    def _chain_load(self, chain: QueryChain, key: int, value: cst.BaseExpression,
                    variable: str | None, node: cst.CSTNode, position: int | None,
                    statement: str | None = None) -> None:
        """The site for objects a legacy query chain loads (element `position` of its rows)."""
        ctx = self.ctx
        selected = chain.query_call.args if chain.query_call else ()
        if len(selected) != 1 and (position is None or position >= len(selected)) or (
                ctx.kind(chain.session) is not ObjKind.SESSION):
            return
        entity = dotted(selected[position or 0].value)
        mapped = entity and ctx.plan.mapped_class(ctx.ix, ctx.scope, entity)
        if mapped:
            existing = {path for name, call in chain.steps if name == "options"
                        for arg in call.args for path in _option_paths(arg.value)}
            self.sites.append(LoadSite(key, variable, mapped, existing, node, chain.session,
                                       statement=statement))
        elif entity:
            self._unnamed_class(entity, value, variable, node)

    def _unnamed_class(self, entity: str, value: cst.BaseExpression, variable: str | None,
                       node: cst.CSTNode) -> None:
        """`db.query(self.model)`, `select(self.model)`: objects of a class the tool cannot
        name get no options; under asyncio their relationships cannot load lazily."""
        if self.ctx.async_target and not self.ctx.plan.mapped_class(
                self.ctx.ix, self.ctx.scope, entity.rpartition(".")[0]):  # (no model's column)
            self.unresolved.append((variable, node, f"the tool cannot tell which class "
                                    f"`{entity}` is, so this query gets no loader options",
                                    value))


    def _finisher_load(self, value: cst.BaseExpression, variable: str | None,
                       node: cst.CSTNode, iterated: bool, key: int) -> bool:
        """`query.all()`, `for x in query` in a query finisher (see `Plan.query_finishers`),
        on the parameter its callers hand a query of one mapped class."""
        ctx = self.ctx
        finisher = ctx.plan.query_finishers.get((ctx.ix.module, ctx.scope))
        root = _chain_root(value) if not isinstance(value, cst.Name) else value
        if finisher is None or root is None or root.value != finisher.param or not (
                iterated or isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute)
                and value.func.attr.value in _OBJECT_TERMINALS):
            return False
        existing = {path for call in _chain_calls(value) if isinstance(call.func, cst.Attribute)
                    and call.func.attr.value == "options"
                    for arg in call.args for path in _option_paths(arg.value)}
        session = cst.Name(finisher.session_param or FINISHER_SESSION)
        self.sites.append(LoadSite(key, variable, finisher.entity, existing, node, session))
        return True

    def _select_load(self, value: cst.BaseExpression, target: str | None,
                     node: cst.CSTNode, iterated: bool, position: int | None) -> bool:
        """`session.scalars(select(E)...)` and the other ways 2.0-style code runs a select
        of one entity (awaited or not, with result methods after it): objects of E; or
        element `position` of the rows `for a, b in session.execute(select(A, B))`."""
        ctx = self.ctx
        expr, scalars, ended, followed = value, False, iterated, 0
        while not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute) and (
                expr.func.attr.value in _RUNS_SELECT) and expr.args and (
                ctx.kind(expr.func.value) is ObjKind.SESSION)):
            if isinstance(expr, cst.Await):
                expr = expr.expression
                continue
            if isinstance(expr, cst.Name) and expr.value in self.assigned and followed < 3:
                expr = self.assigned[expr.value]  # `result = session.execute(...)`; result.x()
                followed += 1
                continue
            if not (isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute)) or (
                    expr.func.attr.value not in _OBJECT_STEPS):
                return False
            scalars |= expr.func.attr.value.startswith("scalar")
            ended |= expr.func.attr.value in _OBJECT_TERMINALS | {"scalar_one",
                                                                  "scalar_one_or_none", "scalar"}
            expr = expr.func.value
        method = expr.func.attr.value
        scalars |= method != "execute"
        statement = expr.args[0].value
        variable = self.variables.get(statement.value) if isinstance(
            statement, cst.Name) else None
        if isinstance(statement, cst.Name) and variable is None:
            # built where the tool cannot follow it: a parameter, a module-level statement
            self.unresolved.append((target, node, f"the statement `{statement.value}` run here "
                                    "is built where the tool cannot follow it", value))
            return True
        picked = position if position is not None and iterated and not scalars else (
            None if position is None and scalars and (ended or method == "scalar") else -1)
        if variable is not None and variable.mixed:  # each build gets what its objects need
            for build in variable.builds:
                self._select_site(build, list(_chain_calls(build)), picked, value, target, node,
                                  expr.func.value, None)
            return True
        if variable is not None and not variable.legacy:  # `stmt = select(E)...`; run(stmt)
            steps, built = list(variable.steps), variable.build
        else:
            steps, built = _chain_calls(statement), statement
        return self._select_site(built, steps, picked, value, target, node, expr.func.value,
                                 statement, statement.value if variable is not None else None)

    def _select_site(self, built: cst.BaseExpression, steps: list[cst.Call],
                     position: int | None, value: cst.BaseExpression, target: str | None,
                     node: cst.CSTNode, session: cst.BaseExpression,
                     statement: cst.BaseExpression | None, name: str | None = None) -> bool:
        """The site for the objects of `select(...)` (built, then refined by `steps`) run
        here: one entity's objects (`position` None) or the element at `position` of its
        rows (-1: neither); the options go onto `statement` as it is run, or, without one,
        onto the build."""
        bottom = _chain_bottom(built)
        if not (isinstance(bottom, cst.Call) and (
                self.ctx.qualify(bottom.func) or "").endswith(".select")) or any(
                call.func.attr.value in _RESELECTING for call in steps):
            return False  # (what `select(E).with_only_columns(...)` runs is not E's objects)
        if position is None and len(bottom.args) == 1:
            entity = dotted(bottom.args[0].value)
        elif position is not None and 0 <= position < len(bottom.args):
            entity = dotted(bottom.args[position].value)
        else:
            return False
        mapped = entity and self.ctx.plan.mapped_class(self.ctx.ix, self.ctx.scope, entity)
        if not mapped:
            if entity and (entity.endswith(".__class__") or self.ctx.plan.holds_some_model(
                    self.ctx.ix, self.ctx.scope, entity)):  # objects, of a class unknown here
                self._unnamed_class(entity, value, target, node)
            return False
        existing = {path for call in steps if call.func.attr.value == "options"
                    for arg in call.args for path in _option_paths(arg.value)}
        key = statement if statement is not None else built
        self.select_statements.add(id(key))
        self.sites.append(LoadSite(id(key), target, mapped, existing, node, session,
                                   statement=name))
        return True


def _handed_back(value: cst.BaseExpression) -> list[tuple[cst.BaseExpression, bool]]:
    """What a `return` hands back objects of, and whether it is iterated for them: `x`;
    each of `a, b`; `xs` of `xs[0]`; `xs` of `{x.id: x for x in xs}` / `[x for x in xs]`
    (as the index's `holding` reads them)."""
    if isinstance(value, cst.Tuple):
        return [found for element in value.elements for found in _handed_back(element.value)]
    while isinstance(value, cst.Subscript):
        value = value.value
    element = value.value if isinstance(value, cst.DictComp) else value.elt if isinstance(
        value, cst.ListComp | cst.SetComp | cst.GeneratorExp) else None
    if element is not None:
        loop = value.for_in
        if loop.inner_for_in is None and isinstance(element, cst.Name) and isinstance(
                loop.target, cst.Name) and element.value == loop.target.value:
            return [(loop.iter, True)]
        return []
    return [(value, False)]


def _unawaited(value: cst.BaseExpression) -> cst.BaseExpression:
    return value.expression if isinstance(value, cst.Await) else value


def _passed_on(value: cst.BaseExpression) -> cst.BaseExpression:
    """`sorted(session.query(E).all(), key=...)` → what it hands on (the index's `holding`)."""
    while _passing_on(value):
        value = value.args[0].value
    return value


def _passing_on(value: cst.BaseExpression) -> bool:
    return isinstance(value, cst.Call) and isinstance(value.func, cst.Name) and (
        value.func.value in PASSING_ON) and bool(value.args)


def _lister(value: cst.BaseExpression, handed: cst.BaseExpression) -> cst.Call | None:
    """The `list(handed)` call among the wrappers of `value`, if `handed` is its argument."""
    while _passing_on(value) and value is not handed:
        inner = value.args[0].value
        if inner is handed and value.func.value == "list" and len(value.args) == 1:
            return value
        value = inner
    return None


def _option_paths(option: cst.BaseExpression) -> list[tuple[str, ...]]:
    """`selectinload(A.b).joinedload(B.c)` → [("b",), ("b", "c")];
    `selectinload(A.b).selectin_polymorphic([...])` → [("b",), ("b", "*")]."""
    attrs: list[str] = []
    node = option
    while isinstance(node, cst.Call):
        name = node.func.attr.value if isinstance(node.func, cst.Attribute) else dotted(
            node.func)
        if name and name.rpartition(".")[2] == "selectin_polymorphic":
            attrs.append("*")
        elif node.args and isinstance(node.args[0].value, cst.Attribute):
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
