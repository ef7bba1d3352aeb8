"""SQA100's rule: where legacy Query chains are found (calls, assignments, loops, returns,
subscripts) and what each becomes."""

from __future__ import annotations

import libcst as cst

from ...analysis import ObjKind, Plan
from ...analysis.helpers import FINISHER_SESSION
from ...api_surface import SELECT_FUNCTIONS
from ...config import Config
from ...index import ModuleIndex
from ...index.shapes import BUILDER_STEPS, CONSUMERS, IN_OPERATORS, STATEMENT_TERMINALS
from ...index.shapes import QUERY_TERMINALS as TERMINALS
from ...results import Kind, Tag
from ...rewrite.build import ReplaceExpression, comma_separated, method_call, run_sync_lambda
from ...rewrite.context import callee, dotted
from ...rewrite.query_chain import (
    Element,
    QueryChain,
    QueryVariable,
    RowShape,
    Unsupported,
    helper_query_chain,
    model_query_chain,
    unknown_elements,
    unwind,
)
from ...rewrite.query_variables import QueryVariableScan, VariableScan, finisher_argument
from ...rewrite.sync_session_variables import NOTHING_BEHIND, BehindRunSync, SyncSessionScan
from ...rewrite.traversal import Visitor
from ..base import Rule
from .cases import CASES
from .running import ChainRunner

FLASK_QUERY_TODO = ("Flask-SQLAlchemy has no asyncio support: this query stays synchronous on "
                    "db.session; --target sync moves it to select(), or move this data layer "
                    "off Flask-SQLAlchemy first")
_NO_VARIABLES = VariableScan(frozenset(), {})
# what their functions are handed is SQLAlchemy's business, not a function that runs a Query
_SQLALCHEMY_PACKAGES = frozenset({"sqlalchemy", "sqlmodel", "flask_sqlalchemy"})
# Flask-SQLAlchemy's Query terminals → its `db.*` helpers that take a select() (3.x).
_FLASK_TERMINALS = frozenset({"get_or_404", "first_or_404", "one_or_404", "paginate"})


_FILTERS = frozenset({"filter", "where", "filter_by"})  # steps a bulk delete()/update() takes


class QueryToSelect(ChainRunner, Rule):
    """Legacy Query chains become select() run through `await session.scalars/execute`.

    Semantics kept: `first()` keeps LIMIT 1; `scalar()` still refuses two
    rows; `count()` counts the same subquery; rows holding entities are de-duplicated with
    `.unique()` where legacy did it (joins, joined eager loads); single-column queries still
    return Rows. A chain with no faithful form runs unchanged through `session.run_sync`.
    """

    code = "SQA100"
    ensures = frozenset({"awaited-io"})
    needs = frozenset({"async-functions", "async-objects"})
    summary = "session.query(...) → select() executed with await session.scalars/execute"
    cases = CASES
    targets = frozenset({"async", "sync"})
    after = ("SQA400",)  # the loader options it adds to the queries this rule converts
    reads = frozenset({"loader_options"})

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        # Per function: its query variables (what it may convert), and their state once
        # converted.
        self.variables: list[tuple[VariableScan, dict[str, QueryVariable]]] = []
        # Per function: the query variables it keeps on the session's sync_session, run
        # through run_sync (`Plan.behind_run_sync`)
        self.behind: list[BehindRunSync] = []
        self.saw_query = False  # the current simple statement calls some `.query(`
        self.query_scopes: set[str] | None = None
        self.builder_scopes: set[str] | None = None  # see _builder_scopes
        self.reported: set[int] = set()  # `.query()` calls a TODO already speaks about
        self.project_packages: set[str] | None = None  # top-level names of its modules

    @classmethod
    def local_scopes(cls, ix: ModuleIndex, plan: Plan, config: Config) -> set[str]:
        """Callers of a query helper run the select() it returns now, also in a module that
        names no SQLAlchemy (a view calling a service); and query finishers run the select()
        they are handed (a pagination module); and the callers of a legacy builder run
        its Query behind run_sync."""
        helpers, finishers = plan.query_helpers, plan.query_finishers
        return {site.scope for site in ix.calls
                if helpers and plan.resolve_function(ix, site.scope, site.callee) in helpers} | {
            scope for module, scope in [*finishers, *plan.behind_run_sync]
            if module == ix.module}

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        finisher = self.ctx.plan.query_finishers.get((self.ctx.ix.module, self.ctx.scope))
        scan = QueryVariableScan.convertible(node, self.ctx) if finisher or self._has_query(
            node) else _NO_VARIABLES
        converted: dict[str, QueryVariable] = {}
        if finisher is not None and finisher.param in scan.convertible:
            # what its callers hand it: a select() of one mapped class, and the session
            session = cst.Name(finisher.session_param or FINISHER_SESSION)
            # only filter_by() names the entity
            named = self.ctx.project_reference(finisher.entity) if (
                finisher.names_entity) else None
            converted[finisher.param] = QueryVariable(
                cst.Name(finisher.param), session, [Element(named or cst.Name("_"),
                                                            finisher.entity, True, named)],
                finisher.may_repeat_entities, False, session_kind=ObjKind.SESSION)
        elif finisher is not None:
            self.ctx.todo(self.code, f"its callers hand `{finisher.param}` a select(), but it "
                                     "uses it in a way the tool cannot convert: convert it by "
                                     "hand", node, at=node)
        self.variables.append((scan, converted))
        here = (self.ctx.ix.module, self.ctx.scope)
        behind = here in self.ctx.plan.behind_run_sync and (
            self._has_query(node) or self.ctx.scope in self._builder_scopes())
        self.behind.append(SyncSessionScan.find(node, self.ctx, scan.convertible) if behind
                           else NOTHING_BEHIND)

    def _has_query(self, function: cst.FunctionDef) -> bool:
        """Cheap check (from the index) that the function calls some `.query(...)`, or reads
        a query property (`Model.query`)."""
        if self.query_scopes is None:
            ix = self.ctx.ix
            self.query_scopes = {site.scope for site in ix.calls
                                 if site.callee.endswith(".query")} | {
                scope for scope, names in ix.names_read.items()
                if any(name.endswith(".query") for name in names)}
        return self.ctx.scope in self.query_scopes

    def _builder_scopes(self) -> set[str]:
        """The scopes of this module calling a legacy builder (from the index, once)."""
        if self.builder_scopes is None:
            plan, ix = self.ctx.plan, self.ctx.ix
            self.builder_scopes = {site.scope for site in ix.calls if plan.legacy_builders and (
                plan.resolve_function(ix, site.scope, site.callee) in plan.legacy_builders)}
        return self.builder_scopes

    def leave_FunctionDef(self, original: cst.FunctionDef,
                          updated: cst.FunctionDef) -> cst.FunctionDef:
        self.variables.pop()
        self.behind.pop()
        finisher = self.ctx.plan.query_finishers.get((self.ctx.ix.module, self.ctx.scope))
        if finisher is None or finisher.session_param is not None:
            return updated
        # the session its callers' queries ran on, a keyword-only parameter
        annotation = self.ctx.import_name("sqlalchemy.ext.asyncio", "AsyncSession") if (
            self.ctx.async_target) else self.ctx.import_name("sqlalchemy.orm", "Session")
        param = cst.Param(cst.Name(FINISHER_SESSION), cst.Annotation(cst.Name(annotation)))
        params = updated.params
        star = params.star_arg if isinstance(params.star_arg, cst.Param) else cst.ParamStar()
        self.ctx.change(self.code, f"handed a select() instead of a legacy Query: it gets "
                                   f"`{FINISHER_SESSION}` to run it", original)
        return updated.with_changes(params=params.with_changes(
            star_arg=star, kwonly_params=[*params.kwonly_params, param]))

    @property
    def _converted(self) -> dict[str, QueryVariable]:
        return self.variables[-1][1] if self.variables and self.ctx.function else {}

    def _converted_variable(self, node: cst.CSTNode) -> str | None:
        """The local query variable this legacy use stays on that the rewrite converts to
        select() elsewhere in the function: a chain on it, or one of its starts."""
        if not self.variables or self.ctx.function is None:
            return None
        scan, converted = self.variables[-1]
        if isinstance(node, cst.Assign):
            target = node.targets[0].target
            if isinstance(target, cst.Name) and target.value in scan.convertible:
                return target.value
            node = node.value
        if isinstance(node, cst.For):
            node = node.iter
        elif isinstance(node, cst.Subscript):
            node = node.value
        chain = unwind(node, converted) if isinstance(node, cst.BaseExpression) else None
        variable = chain.variable if chain is not None else None
        return variable.expr.value if variable is not None and isinstance(
            variable.expr, cst.Name) and variable.expr.value in converted else None

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        """`q = session.query(X)...` / `q = q.filter(...)` for a variable that never escapes."""
        if not self.variables or self.ctx.function is None or len(updated.targets) != 1:
            return updated
        target = updated.targets[0].target
        scan, converted = self.variables[-1]
        if not isinstance(target, cst.Name):
            return updated
        if target.value in self._behind.sessions:
            return updated  # a legacy Query on the sync_session (see leave_Call)
        kept_legacy = self.ctx.legacy_variables.get((self.ctx.scope, target.value))
        start = unwind(original.value)
        if kept_legacy is not None and start is not None:
            self._spoken_for(start)
            why = kept_legacy.removeprefix(f"query variable `{target.value}` not converted: ")
            self._leave_legacy(f"query variable `{target.value}` stays a legacy query, since "
                               f"where it is built or used has no select() form: {why}",
                               original)
            return updated
        if target.value in scan.mixed_shapes:
            if start is not None:
                self._spoken_for(start)
            self._leave_legacy(f"query variable `{target.value}` holds "
                               f"{scan.mixed_shapes[target.value]}: no single select() run "
                               "fits where it is used; convert it by hand", original)
            return updated
        if target.value not in scan.convertible:
            return updated
        if isinstance(updated.value, cst.IfExp) and target.value in converted:
            return self._refined_either_way(original, updated, target.value, converted)
        chain = self._run_chain(updated.value, original)
        if chain is None:
            converted.pop(target.value, None)  # `rows = rows.all()`: it holds rows from here
            return updated
        try:
            statement = self._builder().build(chain, chain.steps, unknown_ok=True)
        except Unsupported as exc:
            self._leave_legacy(f"query variable `{target.value}` not converted: {exc}",
                               original)
            return updated
        # What another path's assignment needed holds wherever the paths meet: `.unique()`,
        # and that a join leaves filter_by() no one entity.
        previous = converted.get(target.value)
        repeats, joined = statement.needs_unique, statement.joined
        elements = statement.elements
        if previous is not None:
            repeats |= previous.may_repeat_entities and not any(
                e.unhashable for e in statement.elements)
            joined |= previous.joined
            if unknown_elements(previous.elements) and not unknown_elements(elements):
                elements = previous.elements  # (the same row shape: what runs it must know)
        converted[target.value] = QueryVariable(
            cst.Name(target.value), self._session(chain), elements,
            repeats, joined,
            plain=not chain.steps and (chain.variable is None or chain.variable.plain),
            joined_to=None if target.value in scan.branched else statement.joined_to,
            session_kind=chain.known_kind,
            filtered_only=bool(chain.steps) and all(
                step in _FILTERS for step, _ in chain.steps) and (
                    previous is None and chain.variable is None or (
                        previous is not None and chain.variable is previous
                        and previous.filtered_only)))
        self.ctx.change(self.code, f"query variable `{target.value}` → select()", original,
                        Tag.QUERY_VARIABLE)
        # loader options SQA400 put where the variable is built (every run of it needs them)
        return updated.with_changes(value=self._with_loaders(original.value,
                                                             self._finish(statement)))

    def _refined_either_way(self, original: cst.Assign, updated: cst.Assign, name: str,
                            converted: dict[str, QueryVariable]) -> cst.Assign:
        """`q = q.filter(...) if newest else q`: each branch's steps on the select()."""
        variable = converted[name]
        branches = []
        repeats = variable.may_repeat_entities
        joined = variable.joined
        try:
            for branch in (updated.value.body, updated.value.orelse):
                chain = unwind(branch, converted)
                if chain is None or not chain.steps:
                    branches.append(branch)  # the variable itself
                    continue
                statement = self._builder().build(chain, chain.steps, unknown_ok=True)
                repeats |= statement.needs_unique
                joined |= statement.joined
                branches.append(self._finish(statement))
        except Unsupported as exc:
            self._leave_legacy(f"query variable `{name}` not converted: {exc}", original)
            return updated
        # (`.unique()` on rows of a branch that did not join changes nothing: distinct
        # entities)
        converted[name] = QueryVariable(cst.Name(name), variable.session, variable.elements,
                                        repeats, joined, session_kind=variable.session_kind)
        self.ctx.change(self.code, f"query variable `{name}` → select()", original,
                        Tag.QUERY_VARIABLE)
        return updated.with_changes(value=updated.value.with_changes(body=branches[0],
                                                                     orelse=branches[1]))

    # -- entry points ---------------------------------------------------------------------------
    @property
    def _behind(self) -> BehindRunSync:
        return self.behind[-1] if self.behind and self.ctx.function else NOTHING_BEHIND

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call):
            return updated
        behind = self._behind
        if id(original) in behind.starts:
            return self._on_sync_session(original, updated)
        if id(original) in behind.runs:
            return self._behind_run_sync(original, updated)
        self._untaken_builder(original, behind)
        if isinstance(updated.func, cst.Attribute) and updated.func.attr.value == "first":
            limited = self._exec_first(original, updated)
            if limited is not updated:
                return limited
        if isinstance(updated.func, cst.Attribute) and updated.func.attr.value in IN_OPERATORS:
            args = [self._in_operand(original, arg) for arg in updated.args]
            if any(new is not old for new, old in zip(args, updated.args, strict=True)):
                return updated.with_changes(args=args)
        if isinstance(updated.func, cst.Attribute):
            method = updated.func.attr.value
            known = method in TERMINALS or method in STATEMENT_TERMINALS or (
                method in _FLASK_TERMINALS)
            chain = self._chain(updated.func.value, method) if known or (
                model_query_chain(updated.func.value, self.ctx)) else None
            if chain is None or not known:
                return self._handed_a_query(original, updated)  # `pages.paginate(q, 1)`
            if self._flask_in_async(chain, original):
                return updated
            if method in _FLASK_TERMINALS:
                return self._flask_terminal(original, updated, chain, method)
            if method in TERMINALS:
                return self._terminal(original, updated, chain, method)
            return self._statement_terminal(original, updated, chain, method)
        builtin = self._builtin(updated.func)
        if builtin == "list" and len(updated.args) == 1:
            chain = self._run_chain(updated.args[0].value, original)
            if chain is not None:
                return self._terminal(original, updated, chain, "all", listed=True)
        elif builtin in CONSUMERS:
            args = [self._consumed(original, arg) for arg in updated.args]
            if any(new is not old for new, old in zip(args, updated.args, strict=True)):
                return updated.with_changes(args=args)
        elif builtin is None:
            return self._handed_a_query(original, updated)
        return updated

    def _untaken_builder(self, original: cst.Call, behind: BehindRunSync) -> None:
        """A call of a legacy builder whose Query this function uses in a way run_sync
        cannot take (outside a function kept sync, which runs inside run_sync already)."""
        ctx = self.ctx
        if ctx.scope not in self._builder_scopes() or id(original) in behind.builder_calls or (
                ctx.ix.module, ctx.scope) in ctx.plan.keep_sync or not ctx.async_target:
            return
        name = callee(original.func)
        ref = ctx.plan.resolve_function(ctx.ix, ctx.scope, name) if name else None
        if ref in ctx.plan.legacy_builders:
            ctx.todo(self.code, f"{name}() hands back a legacy Query built on the session's "
                                "sync_session, which must run inside run_sync: the tool cannot "
                                "follow where it goes from here; run it with await "
                                "session.run_sync(lambda _: <the use>) or convert it to "
                                "select() by hand", original)

    def _on_sync_session(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        """`session.query(...)` of a variable kept legacy → `session.sync_session.query(...)`
        (of the registry's session, for a scoped one): built here, run only inside run_sync."""
        assert isinstance(updated.func, cst.Attribute)
        self.reported.add(id(original))
        name = self._behind.starts[id(original)]
        ctx = self.ctx
        if (ctx.ix.module, ctx.scope) in ctx.plan.legacy_builders:
            ctx.todo(self.code, "the legacy Query this function hands back stays one (the tool "
                                "cannot convert it), built on the session's sync_session: "
                                "where its callers run it, they do so through run_sync; "
                                "convert it to select() by hand to drop these", original)
        else:
            ctx.todo(self.code, f"query variable `{name}` stays a legacy Query (the tool "
                                "cannot convert where it is used), built on the session's "
                                "sync_session; each use that runs it goes through run_sync, "
                                "and a function it is handed must run it before it returns: "
                                "convert it to select() by hand to drop these", original)
        self.ctx.change(self.code, f"legacy query variable `{name}` → on the session's "
                                   "sync_session, run through run_sync", original)
        return updated.with_changes(func=updated.func.with_changes(value=cst.Attribute(
            value=self.ctx.run_sync_receiver(updated.func.value), attr=cst.Name("sync_session"))))

    def _behind_run_sync(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        """A use that runs a query variable kept on the sync_session, inside run_sync."""
        behind = self._behind
        session = behind.runs.get(id(original)) or behind.loops[id(original)]
        self.ctx.report(self.code, Kind.RUN_SYNC, "runs a legacy Query: inside run_sync",
                        original)
        return self._await(run_sync_lambda(self.ctx.run_sync_receiver(session),
                                           cst.Name("_sync_session"), updated), original)

    def _to_finisher(self, original: cst.Call, updated: cst.Call) -> cst.Call | None:
        """`paginate(session.query(X).filter(...), page)` for a query finisher of the
        project: `paginate(select(X).where(...), page, session=session)`."""
        ctx = self.ctx
        if not ctx.plan.query_finishers or not updated.args:
            return None
        name = callee(updated.func)
        ref = name and ctx.plan.resolve_function(ctx.ix, ctx.scope, name)
        finisher = ctx.plan.query_finishers.get(ref) if ref else None
        if finisher is None:
            return None
        arg = finisher_argument(updated, finisher, ctx.plan.implicit_self(name, ref))
        chain = unwind(arg.value, self._converted) if arg is not None else None
        if chain is None or chain.variable is None and chain.query_call is None:
            return None  # (the plan saw a query there: a rewrite in between changed it)
        if isinstance(arg.value, cst.Name) and chain.variable is None:
            self._leave_legacy(f"{name}() is handed a select(), but query variable "
                               f"`{arg.value.value}` stays legacy here: convert it by hand",
                               original)
            return updated
        try:
            statement = self._builder().build(chain, chain.steps)
        except Unsupported as exc:
            self._leave_legacy(f"{name}() is handed a select(), but this query has none: "
                               f"{exc}", original)
            return updated
        self._spoken_for(chain)
        args = [a.with_changes(value=self._finish(statement)) if a is arg else a
                for a in updated.args]
        if finisher.session_param is None:
            args = comma_separated([*args, cst.Arg(
                self._session(chain), keyword=cst.Name(FINISHER_SESSION),
                equal=cst.AssignEqual(whitespace_before=cst.SimpleWhitespace(""),
                                      whitespace_after=cst.SimpleWhitespace("")))])
        ctx.change(self.code, f"legacy query handed to {name}() → select()" + (
            f", with {FINISHER_SESSION}=" if finisher.session_param is None else ""), original)
        return updated.with_changes(args=args)

    def _handed_a_query(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        finished = self._to_finisher(original, updated)
        if finished is not None:
            return finished
        return self._run_sync_call(original, updated)

    def _run_sync_call(self, original: cst.Call, updated: cst.Call) -> cst.BaseExpression:
        """`paginate(session.query(X).filter(...), page)`: a function that runs the legacy
        Query it is handed, called with the async session, runs inside run_sync with the sync
        session in its place (every mention of the session in the call is the sync one
        there). Only for a plain function: the project's (sync, no generator, hands back no
        Query) or an imported one outside SQLAlchemy (with a TODO: the tool cannot see it)."""
        ctx = self.ctx
        if not ctx.async_target or ctx.in_run_sync_lambda or ctx.cannot_await():
            return updated
        handed = [(position, arg, chain) for position, arg in enumerate(updated.args)
                  if not arg.star and (chain := unwind(arg.value, self._converted)) is not None]
        chains = [chain for _, _, chain in handed]
        if not chains or any(c.variable is not None or c.query_call is None or c.session_kind(
                ctx) is not ObjKind.SESSION or any(step not in BUILDER_STEPS for step, _ in
                                                   c.steps) for c in chains):
            return updated
        session = chains[0].session
        if any(not c.session.deep_equals(session) for c in chains):
            return updated
        name = callee(updated.func)
        ref = name and ctx.plan.resolve_function(ctx.ix, ctx.scope, name)
        outside = not ref and name is not None and self._outside_function(name)
        if ref == (ctx.ix.module, ctx.scope):
            return updated  # a recursive call runs where its caller does: not behind run_sync
        if ref:
            info = ctx.plan.modules[ref[0]].functions[ref[1]]
            if info.is_async or info.is_generator or info.returns_query_object or any(
                    param is None or param in info.produces
                    for param in self._params_given(handed, name, ref)):
                return updated  # the Query (or a generator running it) would come back
        elif not outside:
            return updated
        for chain in chains:
            self._spoken_for(chain)
        param = cst.Name("sync_session")
        body = ReplaceExpression(session, param).transform(updated)
        shown = name or "the function"
        ctx.report(self.code, Kind.RUN_SYNC, f"{shown}() is handed a legacy Query: called "
                                             "inside run_sync with the sync session", original)
        if outside:
            ctx.todo(self.code, f"{shown}() is handed a legacy Query, so it runs inside "
                                "run_sync with the sync session: check that it runs the query "
                                "before it returns (what it hands back is used outside "
                                "run_sync), or give it a select() and the session", original)
        return self._await(run_sync_lambda(ctx.run_sync_receiver(session), param, body),
                           original)

    def _params_given(self, handed: list[tuple[int, cst.Arg, QueryChain]], name: str,
                      ref: tuple[str, str]) -> list[str | None]:
        """The parameters of the project function `ref` the arguments holding legacy
        queries go to (None: one the tool cannot tell)."""
        params = self.ctx.plan.modules[ref[0]].functions[ref[1]].params
        skip = self.ctx.plan.implicit_self(name, ref)
        return [arg.keyword.value if arg.keyword is not None else (
            params[position + skip] if position + skip < len(params) else None)
            for position, arg, _ in handed]

    def _outside_function(self, name: str) -> bool:
        """`name` is imported from a package outside the project and SQLAlchemy."""
        qualified = self.ctx.ix.imports.get(name.partition(".")[0])
        top = qualified.partition(".")[0] if qualified else ""
        if self.project_packages is None:
            self.project_packages = {m.partition(".")[0] for m in self.ctx.plan.modules}
        return bool(top) and top not in _SQLALCHEMY_PACKAGES and (
            top not in self.project_packages)

    def _run_chain(self, expr: cst.BaseExpression, original: cst.CSTNode) -> QueryChain | None:
        """The chain `expr` is, to be run or turned into a select() at `original` (None: not
        a chain, or a Flask-SQLAlchemy one left synchronous with its TODO)."""
        chain = self._chain(expr)
        return None if chain is None or self._flask_in_async(chain, original) else chain

    def _flask_in_async(self, chain: QueryChain, original: cst.CSTNode) -> bool:
        """Flask-SQLAlchemy has no async support: with the async target its queries stay as
        they are (never awaited on the synchronous `db.session`), each with a TODO."""
        if not self.ctx.async_target or chain.session_kind(self.ctx) is not (
                ObjKind.FLASK_SESSION):
            return False
        if chain.made_up or id(chain.query_call) not in self.reported:  # (TODOs never repeat)
            self._spoken_for(chain)
            self.ctx.todo(self.code, FLASK_QUERY_TODO, original)
        return True

    def _flask_terminal(self, original: cst.Call, updated: cst.Call, chain: QueryChain,
                        method: str) -> cst.BaseExpression:
        """`Model.query...first_or_404()` → `db.first_or_404(select(...).limit(1))` & co."""
        db = chain.session.value if isinstance(chain.session, cst.Attribute) else None
        try:
            if db is None:
                raise Unsupported("the Flask-SQLAlchemy `db` object is not in reach")
            if method == "get_or_404":
                if chain.steps or len(chain.query_call.args) != 1:
                    raise Unsupported("get_or_404() after other query methods")
                args = [cst.Arg(chain.query_call.args[0].value), *updated.args]
                return self._flask_call(original, chain, db, method, args)
            statement = self._builder().build(chain, chain.steps)
            if statement.shape is not RowShape.ENTITY or statement.needs_unique:
                raise Unsupported(f"{method}() on rows that legacy Query de-duplicated")
        except Unsupported as exc:
            return self._run_sync(original, updated, chain, str(exc))
        stmt = self._finish(statement)
        if method == "first_or_404":
            stmt = method_call(stmt, "limit", [cst.Arg(cst.Integer("1"))])
        return self._flask_call(original, chain, db, method, [cst.Arg(stmt), *updated.args])

    def _flask_call(self, original: cst.CSTNode, chain: QueryChain, db: cst.BaseExpression,
                    method: str, args: list[cst.Arg]) -> cst.Call:
        self._session(chain)  # the import of `db`
        self.ctx.change(self.code, f"query.{method}() → db.{method}(select(...))", original)
        return method_call(db, method, comma_separated(args))

    def _exec_first(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        """SQLModel `session.exec(select(X)...).first()` gets LIMIT 1 like Query.first() did
       : without it the async driver buffers every row."""
        target = updated.func.value
        awaited = isinstance(target, cst.Await)
        call = target.expression if awaited else target
        exec_call = original.func.value  # as read: `session.exec(stmt)`
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "exec" and call.args
                and isinstance(exec_call, cst.Call) and isinstance(exec_call.func, cst.Attribute)
                and self.ctx.kind(exec_call.func.value) is ObjKind.SESSION):
            return updated
        statement = call.args[0].value
        root = statement
        limited_already = False  # (a second run: the LIMIT is there; LIMIT 0 must stay too)
        while isinstance(root, cst.Call) and isinstance(root.func, cst.Attribute):
            limited_already |= root.func.attr.value in ("limit", "slice")
            root = root.func.value
        if limited_already or not isinstance(root, cst.Call) or self.ctx.qualify(
                root.func) not in SELECT_FUNCTIONS:
            return updated
        limited = method_call(statement, "limit", [cst.Arg(cst.Integer("1"))])
        call = call.with_changes(args=[call.args[0].with_changes(value=limited),
                                       *call.args[1:]])
        self.ctx.change(self.code, "exec(select(...)).first() → LIMIT 1, as Query.first() had",
                        original)
        return updated.with_changes(func=updated.func.with_changes(
            value=target.with_changes(expression=call) if awaited else call))

    def _builtin(self, func: cst.BaseExpression) -> str | None:
        """The builtin a call's name refers to, unless the module or function shadows it."""
        if not isinstance(func, cst.Name):
            return None
        name = func.value
        shadowed = name in self.ctx.ix.imports or self.ctx.plan.binding_scope(
            self.ctx.ix, self.ctx.scope, name) is not None or name in self.ctx.ix.module_names
        return None if shadowed else name

    def _in_operand(self, original: cst.Call, arg: cst.Arg) -> cst.Arg:
        """`col.in_(session.query(X.id).filter(...))`: the query is the IN subquery, as its
        select() is."""
        chain = self._run_chain(arg.value, original) if arg.keyword is None and not (
            arg.star) else None
        statement = self._select_for(chain) if chain else None
        if statement is None:
            return arg
        self._spoken_for(chain)
        self.ctx.change(self.code, "a query inside in_() → its select(), the same subquery",
                        original)
        return arg.with_changes(value=self._finish(statement))

    def _consumed(self, original: cst.Call, arg: cst.Arg) -> cst.Arg:
        """`sorted(session.query(X))`: the argument becomes the executed rows."""
        chain = self._run_chain(arg.value, original) if arg.keyword is None and not (
            arg.star) else None
        if chain is None:
            return arg
        rows = self._terminal(original, method_call(arg.value, "all"), chain, "all")
        return arg.with_changes(value=rows)

    def _statement_terminal(self, original: cst.Call, updated: cst.Call, chain: QueryChain,
                            method: str) -> cst.BaseExpression:
        """`q.subquery()`, `q.exists()`, `q.label(...)`: the select() itself, not run."""
        statement = self._select_for(chain)
        if statement is None:
            return updated  # reported as a query used as a value
        self.ctx.change(self.code, f"query.{method}() → select().{STATEMENT_TERMINALS[method]}()",
                        original)
        return updated.with_changes(func=updated.func.with_changes(
            value=self._finish(statement), attr=cst.Name(STATEMENT_TERMINALS[method])))

    def leave_Attribute(self, original: cst.Attribute,
                        updated: cst.BaseExpression) -> cst.BaseExpression:
        """`q.statement` is the select() itself."""
        if not isinstance(updated, cst.Attribute) or updated.attr.value != "statement":
            return updated
        chain = self._run_chain(updated.value, original)
        statement = self._select_for(chain) if chain else None
        if statement is None:
            return updated
        self.ctx.change(self.code, "query.statement → the select() itself", original)
        return self._finish(statement)

    def leave_Subscript(self, original: cst.Subscript,
                        updated: cst.BaseExpression) -> cst.BaseExpression:
        """`q[i]` (IndexError kept) and `q[a:b]` run the query with OFFSET/LIMIT."""
        if not isinstance(updated, cst.Subscript) or len(updated.slice) != 1:
            return updated
        chain = self._run_chain(updated.value, original)
        if chain is None:
            return updated
        if self._blocked():
            return self._terminal(original, updated, chain, "all")  # leaves the TODO
        index = updated.slice[0].slice
        try:
            bounds = _slice_bounds(index)
            statement = self._builder().build(chain, chain.steps)
        except Unsupported as exc:
            return self._run_sync(original, updated, chain, str(exc))
        start, stop = bounds
        stmt = method_call(self._finish(statement), "slice", comma_separated([cst.Arg(start),
                                                                       cst.Arg(stop)]))
        rows = method_call(self._rows(chain, statement, stmt, original), "all")
        if isinstance(index, cst.Index):
            self.ctx.change(self.code, "query[i] → slice(i, i + 1) of the executed select(); "
                                       "[0] keeps the IndexError", original)
            return cst.Subscript(value=rows, slice=[cst.SubscriptElement(
                cst.Index(cst.Integer("0")))])
        self.ctx.change(self.code, "query[a:b] → .slice(a, b) of the executed select()", original)
        return rows

    def leave_For(self, original: cst.For, updated: cst.For) -> cst.For:
        return self._iterate(original, updated)

    def leave_CompFor(self, original: cst.CompFor, updated: cst.CompFor) -> cst.CompFor:
        return self._iterate(original, updated)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self.saw_query = False

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "query":
            self.saw_query = True

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.BaseStatement) -> cst.BaseStatement:
        if not self.saw_query:
            return updated
        for _ in _LegacyQueries.find(updated, self):
            self._leave_legacy("a legacy query the tool cannot follow here (stored, returned, "
                               "passed on, or used with a method it cannot map): convert it "
                               "to select() by hand", original)
        return updated

    # -- helpers --------------------------------------------------------------------------------
    def _chain(self, expr: cst.BaseExpression, method: str | None = None) -> QueryChain | None:
        """The legacy chain `expr` is (`method`: the call made on it), if it can be run."""
        chain = unwind(expr, self._converted) or model_query_chain(expr, self.ctx) or (
            helper_query_chain(expr, self.ctx))
        if chain is None or chain.session_kind(self.ctx) not in (ObjKind.SESSION,
                                                                 ObjKind.FLASK_SESSION):
            return None
        if self._custom_methods(chain, method):
            return None
        if any(name in TERMINALS or name in _FLASK_TERMINALS for name, _ in chain.steps):
            return None
        return chain

    def _custom_methods(self, chain: QueryChain, method: str | None) -> bool:
        """A model queried through a project query class that defines a method the chain
        calls: a select() would skip that method, so the query stays (with a TODO)."""
        if chain.query_class is None or self.ctx.async_target and chain.session_kind(
                self.ctx) is ObjKind.FLASK_SESSION:
            return False  # a Flask-SQLAlchemy query stays as it is (see _flask_in_async)
        name, methods = chain.query_class
        used = sorted(methods & {*(n for n, _ in chain.steps), *([method] if method else [])})
        if not used:
            return False
        self._leave_legacy(f"the model's query class {name} defines "
                           f"{', '.join(f'{u}()' for u in used)}: a select() would not apply "
                           "it; build the select() in a function that does the same, or keep "
                           "this query", chain.query_call)
        return True

    def leave_Return(self, original: cst.Return, updated: cst.Return) -> cst.Return:
        """A query helper (see Plan.query_helpers) returns the select() itself."""
        if updated.value is None or (self.ctx.ix.module, self.ctx.scope) not in (
                self.ctx.plan.query_helpers):
            return updated
        chain = self._run_chain(updated.value, original)
        statement = self._select_for(chain) if chain else None
        if statement is None:
            return updated
        self.ctx.change(self.code, "returns a select() now; its callers run it", original)
        # loader options SQA400 put where the variable is built (every run of it needs them)
        return updated.with_changes(value=self._with_loaders(original.value,
                                                             self._finish(statement)))

    # -- iteration ------------------------------------------------------------------------------
    def _iterate(self, original: cst.For | cst.CompFor, updated: cst.For | cst.CompFor
                 ) -> cst.For | cst.CompFor:
        if id(original.iter) in self._behind.loops:  # the same rows, run inside run_sync
            listed = cst.Call(func=cst.Name("list"), args=[cst.Arg(updated.iter)])
            return updated.with_changes(iter=self._behind_run_sync(original.iter, listed))
        chain = self._run_chain(updated.iter, original)
        if chain is None:
            return updated
        reason = self._blocked()
        if reason:
            self._spoken_for(chain)
            self.ctx.todo(self.code, f"iterating a legacy query needs await, but {reason}",
                          original)
            return updated
        try:
            statement = self._builder().build(chain, chain.steps)
        except Unsupported as exc:
            if not self.ctx.async_target:
                return self._run_sync(original, updated, chain, str(exc))
            result = self._run_sync(original, method_call(updated.iter, "all"), chain, str(exc))
            return updated.with_changes(iter=result)
        if statement.streaming is not None and self.ctx.async_target:
            executor = "stream_scalars" if statement.shape is RowShape.ENTITY else "stream"
            stream = self._execute(chain, executor, self._finish(statement), original)
            self.ctx.change(self.code, "iterating a yield_per() query → async for over "
                                       f"await session.{executor}(...)", original)
            return updated.with_changes(asynchronous=cst.Asynchronous(), iter=stream.with_changes(
                lpar=[], rpar=[]))
        self.ctx.change(self.code, "iterating a query → iterating the executed select(): "
                        + self._describe("all", statement, False).split(": ", 1)[1], original)
        rows = self._rows(chain, statement, self._with_loaders(
            original.iter, self._finish(statement)), original)
        if isinstance(rows, cst.Await):
            rows = rows.with_changes(lpar=[], rpar=[])  # `for x in await s.scalars(...)`
        return updated.with_changes(iter=rows)



def _slice_bounds(index: cst.BaseSlice) -> tuple[cst.BaseExpression, cst.BaseExpression]:
    """(start, stop) for `q[i]` / `q[a:b]` when they are plain non-negative values."""

    def plain(node: cst.BaseExpression | None) -> cst.BaseExpression:
        if isinstance(node, cst.Integer) or dotted(node) is not None:
            return node
        raise Unsupported("an index or slice bound the tool cannot prove non-negative")

    if isinstance(index, cst.Index):
        start = plain(index.value)
        stop = (cst.Integer(str(int(start.value) + 1)) if isinstance(start, cst.Integer)
                else cst.BinaryOperation(start, cst.Add(), cst.Integer("1")))
        return start, stop
    assert isinstance(index, cst.Slice)
    if index.step is not None or index.upper is None:
        raise Unsupported("a slice with a step or without an end")
    return (cst.Integer("0") if index.lower is None else plain(index.lower)), plain(index.upper)


class _LegacyQueries(Visitor):
    """Legacy `session.query(...)` calls still present in a statement after the rewrite."""

    def __init__(self, rule: QueryToSelect) -> None:
        self.rule = rule
        self.found: list[cst.Call] = []

    @classmethod
    def find(cls, stmt: cst.CSTNode, rule: QueryToSelect) -> list[cst.Call]:
        visitor = cls(rule)
        visitor.walk(stmt)
        return visitor.found

    def visit_Lambda(self, node: cst.Lambda) -> bool:
        return False  # run_sync bodies keep their legacy query on purpose

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and node.func.attr.value == "query" and (
                id(node) not in self.rule.reported) and not (  # (kept there, behind run_sync)
                isinstance(node.func.value, cst.Attribute) and node.func.value.attr.value == (
                    "sync_session")) and self.rule.ctx.kind(node.func.value) is ObjKind.SESSION:
            self.found.append(node)
