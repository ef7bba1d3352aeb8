"""SQA001: engines become async engines with an async driver URL."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from .. import urls
from ..api_surface import ENGINE_FACTORIES
from ..rewrite.context import Context
from .base import Case, RenameReferences

_ASYNC_ENGINE = ("sqlalchemy.ext.asyncio", "create_async_engine")


class AsyncEngine(RenameReferences):
    """create_engine() becomes create_async_engine() with the async driver in the URL.

    sqlite → sqlite+aiosqlite, postgresql/psycopg2 → postgresql+asyncpg, mysql/pymysql →
    mysql+aiomysql, mssql+pyodbc → mssql+aioodbc. A URL the tool cannot see (a variable, a
    setting) keeps its expression and gets a TODO naming the mapping. `Engine` annotations
    become `AsyncEngine`.
    """

    code = "SQA001"
    summary = "create_engine() → create_async_engine() with an async driver URL"
    cases = (
        Case("""
            from sqlalchemy import create_engine

            engine = create_engine("postgresql://app@localhost/shop")
        """, """
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+asyncpg://app@localhost/shop")
        """),
    )
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
        constants = [stmt.body[0].targets[0].target.value for stmt in node.body
                     if m.matches(stmt, m.SimpleStatementLine(body=[m.Assign(
                         targets=[m.AssignTarget(target=m.Name())], value=_URL_LITERAL)]))]
        self.url_constants = {name for name in constants if constants.count(name) == 1}

    def _async_url(self, text: str, node: cst.CSTNode) -> str | None:
        """The URL text with an async driver (None: leave it; a TODO if the dialect is unknown
        and the literal is given to create_engine)."""
        new_url = urls.async_url(text)
        if new_url is None or new_url == text:
            return None
        self.ctx.change(self.code, f"database URL → async driver {new_url.split(':')[0]!r}",
                        node)
        return new_url

    def leave_SimpleString(self, original: cst.SimpleString,
                           updated: cst.SimpleString) -> cst.BaseExpression:
        """Every sync database URL literal: the async engine would refuse it at runtime."""
        value = original.evaluated_value
        if not isinstance(value, str) or not urls.looks_like_url(value):
            return updated
        new_url = self._async_url(value, original)
        if new_url is None:
            return updated
        return updated.with_changes(value=f"{updated.prefix}{updated.quote}{new_url}"
                                          f"{updated.quote}")

    def leave_FormattedString(self, original: cst.FormattedString,
                              updated: cst.FormattedString) -> cst.BaseExpression:
        """`f"sqlite:///{path}"`: the scheme is in the literal head."""
        head = updated.parts[0] if updated.parts else None
        if not isinstance(head, cst.FormattedStringText) or not urls.looks_like_url(head.value):
            return updated
        new_head = self._async_url(head.value, original)
        if new_head is None:
            return updated
        return updated.with_changes(parts=[head.with_changes(value=new_head),
                                           *updated.parts[1:]])

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or self.ctx.qualify(original.func) not in (
                ENGINE_FACTORIES):
            return updated
        self.ctx.change(self.code, "create_engine() → create_async_engine()", original)
        url = next((a.value for a in original.args
                    if a.keyword is None or a.keyword.value == "url"), None)
        if url is None or m.matches(url, _URL_LITERAL):
            if isinstance(url, cst.SimpleString) and urls.async_url(
                    str(url.evaluated_value)) is None:
                self.ctx.todo(self.code, f"no known async driver for {url.evaluated_value!r}: "
                                         "put one in the URL (see `sqla-asyncify rules SQA001`)",
                              original)
            return updated
        if isinstance(url, cst.Name) and url.value in self.url_constants and (
                self.ctx.plan.binding_scope(self.ctx.ix, self.ctx.scope, url.value) == ""):
            return updated
        self.ctx.todo(self.code, "the engine URL is not a literal; make sure it names an async "
                                 "driver: " + urls.MAPPING_HINT, original)
        return updated


_URL_LITERAL = m.SimpleString() | m.FormattedString()
