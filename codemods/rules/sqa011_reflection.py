"""SQA011: reflection on an async engine runs on the sync connection behind it."""

from __future__ import annotations

import libcst as cst

from ..analysis import ObjKind
from ..rewrite.build import run_sync_lambda
from ..rewrite.connections import connection, on_connection
from ..rewrite.context import Context
from .base import Case, Rule

_TABLES = frozenset({"sqlalchemy.Table", "sqlalchemy.schema.Table",
                     "sqlalchemy.sql.schema.Table", "sqlmodel.Table"})
_INSPECT = frozenset({"sqlalchemy.inspect", "sqlalchemy.inspection.inspect"})
_BINDS = (ObjKind.ENGINE, ObjKind.CONNECTION)
_SYNC_CONN = cst.Name("sync_conn")


class AsyncReflection(Rule):
    """Table(..., autoload_with=engine) and inspect(engine).<method>(...) run through run_sync.

    An async engine or connection cannot be inspected (NoInspectionAvailable): the statement
    runs inside `async with engine.connect() as conn:` (on a connection: directly), the
    reflection in `await conn.run_sync(lambda sync_conn: ...)` on the sync connection. An
    Inspector kept in a variable, reflection at module level, in a lambda, a generator
    expression or the header of an `if`/`for`/`while` get a TODO saying how to move it.
    (`metadata.reflect(engine)` is SQA010's.)
    """

    code = "SQA011"
    ensures = frozenset({"awaited-io"})
    needs = frozenset({"async-functions", "async-objects"})
    summary = "Table(autoload_with=engine), inspect(engine).x() → await conn.run_sync(lambda ...)"
    cases = (
        Case("""
            from sqlalchemy import MetaData, Table, create_engine, inspect

            engine = create_engine("sqlite:///shop.db")


            def describe(metadata: MetaData) -> list:
                if not inspect(engine).has_table("users"):
                    return []
                users = Table("users", metadata, autoload_with=engine)
                return [column.name for column in users.columns]
        """, """
            from sqlalchemy import MetaData, Table, inspect
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///shop.db")


            async def describe(metadata: MetaData) -> list:
                # TODO(sqla-asyncify SQA011): inspect(engine) needs a sync connection, but it is in the header of a compound statement (assign the result to a variable before it)
                if not inspect(engine).has_table("users"):
                    return []
                async with engine.connect() as conn:
                    users = await conn.run_sync(lambda sync_conn: Table("users", metadata, autoload_with=sync_conn))
                return [column.name for column in users.columns]
        """),  # noqa: E501
    )

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.generators = 0  # generator expressions around the current node
        self.chained: set[int] = set()  # ids of `inspect(x)` calls a method is called on
        # id of a statement (as read) → the bind and connection its reflection runs on
        self.pending: dict[int, tuple[cst.BaseExpression, cst.BaseExpression]] = {}

    def visit_GeneratorExp(self, node: cst.GeneratorExp) -> None:
        self.generators += 1

    def leave_GeneratorExp(self, original: cst.GeneratorExp,
                           updated: cst.BaseExpression) -> cst.BaseExpression:
        self.generators -= 1
        return updated

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Call):
            self.chained.add(id(node.func.value))

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if type(updated) is not cst.Call:
            return updated
        qualified = self.ctx.qualify(original.func)
        if qualified in _TABLES:
            index = next((i for i, a in enumerate(original.args)
                          if a.keyword is not None and a.keyword.value == "autoload_with"), None)
            if index is None or self.ctx.kind(original.args[index].value) not in _BINDS:
                return updated
            args = list(updated.args)
            bind = original.args[index].value
            args[index] = args[index].with_changes(value=_SYNC_CONN)
            return self._run_sync(original, updated, bind, updated.with_changes(args=args),
                                  "Table(autoload_with=...)",
                                  f"Table(..., autoload_with={_code(bind)})")
        if qualified in _INSPECT and original.args and id(original) not in self.chained and (
                self.ctx.kind(original.args[0].value) in _BINDS):
            bind = _code(original.args[0].value)
            held = self.ctx.assigned_name()
            self.ctx.todo(self.code, f"inspect({bind}) fails on an async engine or "
                          f"connection (NoInspectionAvailable): move the code using "
                          f"{f'`{held}`' if held else 'the Inspector'} into a function "
                          f"`def f(sync_conn): {held or 'insp'} = inspect(sync_conn); ...` run "
                          f"by `await conn.run_sync(f)` on `async with {bind}.connect() as "
                          "conn:`", original)
            return updated
        func = original.func
        if not isinstance(func, cst.Attribute) or not isinstance(func.value, cst.Call) or (
                self.ctx.qualify(func.value.func) not in _INSPECT) or not func.value.args:
            return updated
        bind = func.value.args[0].value
        if self.ctx.kind(bind) not in _BINDS:
            return updated
        # another rule may have rewritten the call already: leave it to that rule then
        inspector = updated.func.value if isinstance(updated.func, cst.Attribute) else None
        if not isinstance(inspector, cst.Call) or not inspector.args:
            return updated
        sync = inspector.with_changes(args=[inspector.args[0].with_changes(value=_SYNC_CONN)])
        return self._run_sync(original, updated, bind,
                              updated.with_changes(func=updated.func.with_changes(value=sync)),
                              f"inspect({_code(bind)}).{func.attr.value}()",
                              f"inspect({_code(bind)})")

    def _run_sync(self, original: cst.Call, updated: cst.Call, bind: cst.BaseExpression,
                  work: cst.BaseExpression, what: str, subject: str) -> cst.BaseExpression:
        """`await conn.run_sync(lambda sync_conn: work)`; the statement around it goes into
        `async with bind.connect() as conn:` when it is left."""
        statement = self.ctx.statements[-1] if self.ctx.statements else None
        pending = self.pending.get(id(statement))
        reason = self.ctx.cannot_await() or (
            "it is in a generator expression (use a list comprehension)" if self.generators
            else "it is in the header of a compound statement (assign the result to a "
            "variable before it)" if type(statement) is not cst.SimpleStatementLine
            else "the line holds several statements" if len(statement.body) > 1
            else "another engine is reflected in the same statement"
            if pending and not pending[0].deep_equals(bind) else None)
        if reason:
            self.ctx.todo(self.code, f"{subject} needs a sync connection, but {reason}",
                          original)
            return updated
        conn = pending[1] if pending else connection(self.ctx, bind, self.ctx.kind(bind))
        self.pending[id(statement)] = (bind, conn)
        self.ctx.io_scopes.add(self.ctx.scope)
        self.ctx.change(self.code, f"{what} through run_sync on an async connection", original)
        return cst.Await(run_sync_lambda(conn, _SYNC_CONN, work))

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.BaseStatement) -> cst.BaseStatement:
        pending = self.pending.pop(id(original), None)
        if pending is None or type(updated) is not cst.SimpleStatementLine:
            return updated
        return on_connection(updated, pending[0], pending[1], "connect")


def _code(expr: cst.BaseExpression) -> str:
    return cst.Module([]).code_for_node(expr)
