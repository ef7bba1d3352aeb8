"""Running sync-only work (DDL, reflection) on an async connection: `async with
engine.begin()/connect() as conn:` around the statement, `await conn.run_sync(...)` in it."""

from __future__ import annotations

import libcst as cst

from ..analysis import ObjKind
from .build import method_call
from .context import Context


def connection(ctx: Context, bind: cst.BaseExpression, kind: ObjKind) -> cst.BaseExpression:
    """The async connection to run the work on: `bind` itself, or for an engine a name for
    the connection it opens, read or bound nowhere in the current function (nor in the
    functions inside it)."""
    if kind is ObjKind.CONNECTION:
        if type(bind) is cst.Call and isinstance(bind.func, cst.Attribute) and (
                bind.func.attr.value == "connection") and ctx.kind(
                    bind.func.value) is ObjKind.SESSION:
            # `AsyncSession.connection()` is a coroutine: `(await session.connection())`
            return cst.Await(bind, lpar=[cst.LeftParen()], rpar=[cst.RightParen()])
        return bind
    scope = ctx.scope
    used = {name for where, names in ctx.ix.names_read.items()
            if where == scope or where.startswith(f"{scope}.") for name in names}
    name, n = "conn", 1
    while name in used:
        n += 1
        name = f"conn{n}"
    return cst.Name(name)


def on_connection(statement: cst.SimpleStatementLine, bind: cst.BaseExpression,
                  conn: cst.BaseExpression, verb: str) -> cst.BaseStatement:
    """`statement` (which uses `conn`, from `connection()`) under `async with
    bind.<verb>() as conn:`; as it is when `bind` is the connection."""
    if conn is bind or (type(conn) is cst.Await and conn.expression is bind):
        return statement
    return cst.With(
        asynchronous=cst.Asynchronous(),
        items=[cst.WithItem(item=method_call(bind, verb), asname=cst.AsName(name=conn))],
        body=cst.IndentedBlock(body=[statement.with_changes(leading_lines=[])]),
        leading_lines=statement.leading_lines,
    )
