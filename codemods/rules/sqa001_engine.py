"""SQA001: engines become async engines with an async driver URL."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from .. import urls
from ..api_surface import ENGINE_FACTORIES
from ..context import Context
from .base import RenameReferences

_ASYNC_ENGINE = ("sqlalchemy.ext.asyncio", "create_async_engine")


class AsyncEngine(RenameReferences):
    """create_engine() becomes create_async_engine() with the async driver in the URL.

    Before:
        engine = create_engine("postgresql+psycopg2://app@db/shop", echo=True)
    After:
        engine = create_async_engine("postgresql+asyncpg://app@db/shop", echo=True)

    sqlite → sqlite+aiosqlite, postgresql/psycopg2 → postgresql+asyncpg, mysql/pymysql →
    mysql+aiomysql, mssql+pyodbc → mssql+aioodbc. A URL the tool cannot see (a variable, a
    setting) keeps its expression and gets a TODO naming the mapping. `Engine` annotations
    become `AsyncEngine`.
    """

    code = "SQA001"
    summary = "create_engine() → create_async_engine() with an async driver URL"
    renames = {
        **dict.fromkeys(ENGINE_FACTORIES, _ASYNC_ENGINE),
        **dict.fromkeys(("sqlalchemy.Engine", "sqlalchemy.engine.Engine",
                         "sqlalchemy.engine.base.Engine"),
                        ("sqlalchemy.ext.asyncio", "AsyncEngine")),
    }

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.url_constants: set[str] = set()

    def visit_Module(self, node: cst.Module) -> None:
        """Module-level `URL = "sqlite://..."` constants passed to create_engine(URL)."""
        constants: dict[str, int] = {}
        for stmt in node.body:
            if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(
                    targets=[m.AssignTarget(target=m.Name())], value=m.SimpleString())])):
                name = stmt.body[0].targets[0].target.value
                constants[name] = constants.get(name, 0) + 1
        if not constants:
            return
        used = set()
        for call in m.findall(node, m.Call(args=[m.Arg(value=m.Name()), m.ZeroOrMore()])):
            if self.ctx.qualify(call.func) in ENGINE_FACTORIES:
                used.add(call.args[0].value.value)
        self.url_constants = {n for n in used if constants.get(n) == 1}

    def _url_position(self, call: cst.Call) -> int | None:
        return next((i for i, a in enumerate(call.args)
                     if a.keyword is None or a.keyword.value == "url"), None)

    def _async_literal(self, literal: cst.SimpleString, node: cst.CSTNode
                       ) -> cst.SimpleString | None:
        """The literal with an async driver URL (None: unchanged, with a TODO if unknown)."""
        url = literal.evaluated_value
        new_url = urls.async_url(url if isinstance(url, str) else "")
        if new_url is None:
            self.ctx.todo(self.code, f"no known async driver for {url!r}: put one in the URL "
                                     "(see `sqla-asyncify rules SQA001`)", node)
            return None
        if new_url == url:
            return None
        self.ctx.change(self.code, f"async driver URL {new_url!r}", node)
        return literal.with_changes(value=f"{literal.prefix}{literal.quote}{new_url}"
                                          f"{literal.quote}")

    def leave_Assign(self, original: cst.Assign, updated: cst.Assign) -> cst.Assign:
        if self.ctx.scopes or not self.url_constants or not m.matches(
                updated, m.Assign(targets=[m.AssignTarget(target=m.Name())],
                                  value=m.SimpleString())):
            return updated
        if updated.targets[0].target.value not in self.url_constants:
            return updated
        literal = self._async_literal(updated.value, original)
        return updated.with_changes(value=literal) if literal else updated

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or self.ctx.qualify(original.func) not in (
                ENGINE_FACTORIES):
            return updated
        self.ctx.change(self.code, "create_engine() → create_async_engine()", original)
        position = self._url_position(updated)
        if position is None:
            return updated
        url_arg = updated.args[position]
        value = url_arg.value
        if isinstance(value, cst.SimpleString):
            literal = self._async_literal(value, original)
            if literal is None:
                return updated
            args = list(updated.args)
            args[position] = url_arg.with_changes(value=literal)
            return updated.with_changes(args=args)
        if isinstance(value, cst.Name) and value.value in self.url_constants and (
                self.ctx.plan.binding_scope(self.ctx.ix, self.ctx.scope, value.value) == ""):
            return updated
        self.ctx.todo(self.code, "the engine URL is not a literal; make sure it names an async "
                                 "driver: " + urls.MAPPING_HINT, original)
        return updated
