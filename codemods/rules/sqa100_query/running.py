"""Running a legacy Query chain as select(): the terminals (`all`, `first`, `count`, `get`,
bulk `update`/`delete`, ...) and the `run_sync` fallback for chains without a faithful form."""

from __future__ import annotations

import libcst as cst

from ...api_surface import SELECT_FUNCTIONS
from ...index.shapes import RESULT_METHODS
from ...results import Kind
from ...rewrite.build import (
    ReplaceExpression,
    comma_separated,
    keyword,
    method_call,
    parenthesize,
    run_sync_lambda,
)
from ...rewrite.context import Context
from ...rewrite.query_chain import (
    QueryChain,
    RowShape,
    SelectBuilder,
    Statement,
    Unsupported,
    runs_alike,
    unknown_elements,
)

# Query methods SQLAlchemy 2.0 removed: the code fails on 2.x already, run_sync cannot help.
_REMOVED = {
    "from_self": "rewrite it as sq = stmt.subquery(); aliased(Entity, sq)",
    "select_entity_from": "select from an aliased() subquery instead",
}


class ChainRunner:
    """The SQA100 methods that turn a recognised chain into an executed select()."""

    code: str
    ctx: Context
    reported: set[int]  # `.query()` calls a TODO or skip already speaks about

    def _spoken_for(self, chain: QueryChain) -> None:
        """A TODO or skip now speaks about the chain's `.query()` call. Only a call of the
        source counts: a `Model.query` chain's call is made up here, and once it is gone its
        id may be another node's."""
        if chain.query_call is not None and not chain.made_up:
            self.reported.add(id(chain.query_call))

    def _session(self, chain: QueryChain) -> cst.BaseExpression:
        """The chain's session, for a rewrite that is kept (with the import it needs)."""
        if chain.session_import is not None:
            self.ctx.imports.add[chain.session_import] = None
        return chain.session

    def _builder(self) -> SelectBuilder:
        return SelectBuilder(self.ctx)

    def _select_for(self, chain: QueryChain) -> Statement | None:
        """The select() for a chain that is not run here, or None if it has no faithful form."""
        try:
            return self._builder().build(chain, chain.steps)
        except Unsupported:
            return None

    def _finish(self, statement: Statement) -> cst.BaseExpression:
        """The statement, now that the rewrite is kept: add the imports it needs."""
        for key in statement.imports:
            self.ctx.imports.add[key] = None
        return statement.expr

    def _with_loaders(self, original: cst.CSTNode, stmt: cst.BaseExpression
                      ) -> cst.BaseExpression:
        """The loader options SQA400 decided for this query, appended."""
        options = self.ctx.outputs.loader_options.get(id(original))
        return method_call(stmt, "options", comma_separated([cst.Arg(o) for o in options])) if (
            options) else stmt

    def _await(self, call: cst.BaseExpression, original: cst.CSTNode) -> cst.BaseExpression:
        if not self.ctx.async_target:
            return call  # --target sync: 2.0-style select() on the same sync session
        return self.ctx.await_(self.code, call, original, "the query")

    def _leave_legacy(self, reason: str, node: cst.CSTNode) -> None:
        """A legacy query stays here, with a TODO saying why; with the async target its
        function may be kept sync behind run_sync (and its TODO there gives this reason).
        Where it is a use of a query variable converted to select() (or another start of
        one), the variable must stay legacy: the file's pass is redone so."""
        variable = self._converted_variable(node)
        if variable is not None:
            self.ctx.broken_variables.setdefault((self.ctx.scope, variable), reason)
        self.ctx.todo(self.code, reason, node)
        if self.ctx.async_target and self.ctx.function is not None:
            self.ctx.unconverted_scopes.setdefault(self.ctx.scope, reason)

    def _blocked(self) -> str | None:
        """Why the rewrite cannot await here (never, for the sync target)."""
        return self.ctx.cannot_await() if self.ctx.async_target else None

    def _execute(self, chain: QueryChain, method: str, stmt: cst.BaseExpression,
                 original: cst.CSTNode, *extra: cst.Arg) -> cst.BaseExpression:
        call = method_call(self._session(chain), method, comma_separated([cst.Arg(stmt), *extra]))
        return parenthesize(self._await(call, original))

    def _rows(self, chain: QueryChain, statement: Statement, stmt: cst.BaseExpression,
              original: cst.CSTNode) -> cst.BaseExpression:
        executor = "scalars" if statement.shape is RowShape.ENTITY else "execute"
        result = self._execute(chain, executor, stmt, original)
        return method_call(result, "unique") if statement.needs_unique else result

    # -- terminals ------------------------------------------------------------------------------
    def _terminal(self, original: cst.Call, updated: cst.Call, chain: QueryChain,
                  terminal: str, listed: bool = False) -> cst.BaseExpression:
        result = self._terminal_expr(original, updated, chain, terminal, listed)
        if updated.lpar and result is not updated and not getattr(result, "lpar", True):
            result = result.with_changes(lpar=updated.lpar, rpar=updated.rpar)  # keep layout
        return result

    def _terminal_expr(self, original: cst.Call, updated: cst.Call, chain: QueryChain,
                       terminal: str, listed: bool) -> cst.BaseExpression:
        reason = self._blocked()
        if reason:
            self._spoken_for(chain)
            self.ctx.todo(self.code, f"legacy query must run on the async session, but {reason}",
                          original)
            return updated
        removed = next((name for name, _ in chain.steps if name in _REMOVED), None)
        if removed:
            self._spoken_for(chain)
            self._leave_legacy(f"Query.{removed}() was removed in SQLAlchemy 2.0: "
                               + _REMOVED[removed], original)
            return updated
        try:
            if terminal == "get":
                return self._get(original, updated, chain)
            if terminal in ("delete", "update"):
                return self._bulk(original, updated, chain, terminal)
            if updated.args and not listed and terminal not in ("value", "values"):
                raise Unsupported(f".{terminal}() with arguments")
            if terminal in ("value", "values") and (not updated.args or any(
                    a.keyword or a.star for a in updated.args)):
                raise Unsupported(f"Query.{terminal}() without columns")
            statement = self._builder().build(chain, chain.steps, unknown_ok=True)
            unknown = unknown_elements(statement.elements)
            if unknown and not runs_alike(terminal, statement.elements):
                raise Unsupported(unknown)
        except Unsupported as exc:
            return self._run_sync(original, updated, chain, str(exc))
        if unknown and terminal != "count":
            self.ctx.todo(self.code, f"the tool {unknown}: the rows are Rows either way, but if "
                                     "it is a mapped class, add loader options for the "
                                     "relationships read on it", original)
        if statement.streaming is not None and self.ctx.async_target:
            return self._run_sync(original, updated, chain, "yield_per() outside a for loop "
                                  "(AsyncSession.execute refuses server-side cursors)")
        stmt = self._with_loaders(original, self._finish(statement))
        if terminal in ("value", "values"):
            return self._values(original, updated, chain, stmt, terminal)
        if terminal == "count":
            func = self.ctx.import_name("sqlalchemy", "func")
            select = cst.Name(self.ctx.import_name("sqlalchemy", "select", SELECT_FUNCTIONS))
            counted = method_call(cst.Call(func=select, args=[cst.Arg(method_call(cst.Name(func),
                                                                          "count"))]),
                              "select_from", [cst.Arg(method_call(stmt, "subquery"))])
            if statement.execution_options:  # autoflush=False & co. apply to the count itself
                counted = method_call(counted, "execution_options",
                                  comma_separated(statement.execution_options))
            self.ctx.change(self.code, "count() → select(func.count()) over the same subquery",
                            original)
            return self._await(method_call(self._session(chain), "scalar", [cst.Arg(counted)]),
                               original)
        if terminal == "first":
            stmt = method_call(stmt, "limit", [cst.Arg(cst.Integer("1"))])
        if terminal == "scalar":
            method = "one_or_none" if statement.shape is RowShape.ENTITY else (
                "scalar_one_or_none")
        else:
            method = RESULT_METHODS[terminal]
        self.ctx.change(self.code, self._describe(terminal, statement, listed), original)
        return method_call(self._rows(chain, statement, stmt, original), method)

    def _values(self, original: cst.Call, updated: cst.Call, chain: QueryChain,
                stmt: cst.BaseExpression, terminal: str) -> cst.BaseExpression:
        """`q.value(c)` → first row's value or None; `q.values(*c)` → an iterator of Rows."""
        stmt = method_call(stmt, "with_only_columns", comma_separated(list(updated.args)))
        self.ctx.change(self.code, f"query.{terminal}() → select().with_only_columns() executed",
                        original)
        if terminal == "value":
            return self._await(method_call(self._session(chain), "scalar", [cst.Arg(stmt)]),
                               original)
        rows = self._execute(chain, "execute", stmt, original)
        return cst.Call(func=cst.Name("iter"), args=[cst.Arg(rows.with_changes(
            lpar=[], rpar=[]) if isinstance(rows, cst.Await) else rows)])

    @staticmethod
    def _describe(terminal: str, statement: Statement, listed: bool) -> str:
        what = "list(query)" if listed else f"query.{terminal}()"
        rows = {RowShape.ENTITY: "objects via scalars()", RowShape.MIXED: "rows via execute()",
                RowShape.COLUMNS: "rows via execute()"}[statement.shape]
        notes = [rows]
        if terminal == "first":
            notes.append("LIMIT 1 kept")
        if terminal == "scalar":
            notes.append("still refuses two rows")
        if statement.needs_unique:
            notes.append(".unique() as legacy de-duplicated entities")
        return f"{what} → select(): " + ", ".join(notes)

    def _get(self, original: cst.Call, updated: cst.Call, chain: QueryChain
             ) -> cst.BaseExpression:
        if any(name != "options" for name, _ in chain.steps) or (
                chain.variable is not None and not chain.variable.plain):
            raise Unsupported("Query.get() after methods other than options()")
        if len(updated.args) != 1 or updated.args[0].keyword is not None:
            raise Unsupported("Query.get() takes one primary key argument")
        statement = self._builder().build(chain, [])
        if statement.shape is not RowShape.ENTITY:
            raise Unsupported("Query.get() on a query that does not select one entity")
        args = [cst.Arg(statement.elements[0].node), updated.args[0]]
        options = [a for _, call in chain.steps for a in call.args] + [
            cst.Arg(o) for o in self.ctx.outputs.loader_options.get(id(original), [])]
        message = "query(E).get(pk) → " + ("await " if self.ctx.async_target else "") + (
            "session.get(E, pk)")
        if options:
            elements = [cst.StarredElement(a.value) if a.star == "*" else cst.Element(a.value)
                        for a in options]  # `.options(*loaders)` keeps its unpacking
            args += [keyword("options", cst.List(comma_separated(elements))),
                     keyword("populate_existing", cst.Name("True"))]
            message += (" with options=[...] and populate_existing=True (options are ignored "
                        "on an identity-map hit otherwise)")
        self.ctx.change(self.code, message, original)
        return self._await(method_call(self._session(chain), "get", comma_separated(args)),
                           original)

    def _bulk(self, original: cst.Call, updated: cst.Call, chain: QueryChain,
              terminal: str) -> cst.BaseExpression:
        statement = self._builder().build(chain, chain.steps, for_dml=True)
        if statement.shape is not RowShape.ENTITY:
            raise Unsupported(f"bulk {terminal}() on a query that does not select one entity")
        sync = None
        values = None
        for arg in updated.args:
            if arg.keyword is None and terminal == "update" and values is None:
                values = arg
            elif arg.keyword is not None and arg.keyword.value == "synchronize_session":
                sync = arg.value
            else:
                raise Unsupported(f"Query.{terminal}() with arguments the tool cannot map")
        if terminal == "update" and values is None:
            raise Unsupported("Query.update() without values")
        dml = cst.Call(func=cst.Name(self.ctx.import_name("sqlalchemy", terminal)),
                       args=[cst.Arg(statement.elements[0].node)])
        if statement.where:
            dml = method_call(dml, "where", comma_separated(statement.where))
        if values is not None:
            dml = method_call(dml, "values", [values.with_changes(comma=cst.MaybeSentinel.DEFAULT)])
        extra = []
        if sync is not None:
            extra.append(keyword("execution_options", cst.Dict([cst.DictElement(
                cst.SimpleString('"synchronize_session"'), sync)])))
        result = self._execute(chain, "execute", dml, original, *extra)
        if values is not None and self.ctx.async_target and _has_sql_expression(values.value) \
                and not (sync is not None and sync.deep_equals(cst.Name("False"))):
            self.ctx.todo(self.code, "objects already loaded that this update matches get the "
                                     "SQL-computed attributes expired: reading them afterwards "
                                     "needs `await session.refresh(obj)`",
                          original)
        if any(ix.has_bulk_listeners for ix in self.ctx.plan.modules.values()):
            self.ctx.todo(self.code, f"after_bulk_{terminal} listeners do not fire for "
                                     f"{terminal}() statements: port them to do_orm_execute",
                          original)
        self.ctx.change(self.code, f"query.{terminal}() → await session.execute({terminal}(...))"
                        + (", rowcount" if id(original) not in self.ctx.statement_values else ""),
                        original)
        if id(original) in self.ctx.statement_values:
            return result.with_changes(lpar=[], rpar=[])
        return cst.Attribute(value=result, attr=cst.Name("rowcount"))

    def _run_sync(self, original: cst.Call, updated: cst.Call, chain: QueryChain,
                  reason: str) -> cst.BaseExpression:
        if not self.ctx.async_target or chain.variable is not None:
            # the legacy Query still works on a sync 2.x session; a chain on a converted
            # variable or helper has no legacy query left to run (its function is kept sync)
            self._spoken_for(chain)
            self._leave_legacy(reason if chain.variable is not None and (
                self._converted_variable(original)) else f"kept the legacy query: {reason}",
                original)
            return updated
        param = cst.Name("sync_session")
        body = ReplaceExpression(chain.session, param).transform(updated)
        lazy = isinstance(updated, cst.Call) and isinstance(updated.func, cst.Attribute) and (
            updated.func.attr.value == "values")
        if lazy:  # an iterator would run outside the greenlet: materialise it inside
            body = cst.Call(func=cst.Name("list"), args=[cst.Arg(body)])
        self.ctx.report(self.code, Kind.RUN_SYNC, f"kept as a legacy query inside run_sync: "
                                                  f"{reason}", original)
        result = self._await(run_sync_lambda(self.ctx.run_sync_receiver(self._session(chain)),
                                             param, body), original)
        return cst.Call(func=cst.Name("iter"), args=[cst.Arg(result)]) if lazy else result



def _is_plain_value(node: cst.BaseExpression) -> bool:
    """A Python value (literal, variable, container of those), not a SQL expression."""
    if isinstance(node, (cst.BaseNumber, cst.BaseString, cst.Name)):
        return True
    if isinstance(node, cst.UnaryOperation):
        return _is_plain_value(node.expression)
    if isinstance(node, (cst.List, cst.Tuple, cst.Set)):
        return all(isinstance(e, cst.Element) and _is_plain_value(e.value) for e in node.elements)
    if isinstance(node, cst.Dict):
        return all(isinstance(e, cst.DictElement) and _is_plain_value(e.key)
                   and _is_plain_value(e.value) for e in node.elements)
    return False


def _has_sql_expression(values: cst.BaseExpression) -> bool:
    """An update value computed by SQL (`func.upper(User.name)`, `User.n + 1`)."""
    if isinstance(values, cst.Dict):
        return any(isinstance(e, cst.DictElement) and not _is_plain_value(e.value)
                   for e in values.elements)
    return True  # not a literal dict: cannot tell


