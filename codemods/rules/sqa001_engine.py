"""SQA001: engines become async engines with an async driver URL."""

from __future__ import annotations

import libcst as cst

from .. import urls
from ..api_surface import ENGINE_FACTORIES
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

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or self.ctx.qualify(original.func) not in (
                ENGINE_FACTORIES):
            return updated
        position = next((i for i, a in enumerate(updated.args)
                         if a.keyword is None or a.keyword.value == "url"), None)
        if position is None:
            return updated
        url_arg = updated.args[position]
        literal = url_arg.value
        if isinstance(literal, cst.SimpleString) and "f" not in literal.prefix.lower():
            url = literal.evaluated_value
            new_url = urls.async_url(url if isinstance(url, str) else "")
            if new_url is None:
                self.ctx.todo(self.code, f"no known async driver for {url!r}: put one in the "
                                         "URL (see `sqla-asyncify rules SQA001`)", original)
            elif new_url != url:
                quote = literal.quote
                new_literal = literal.with_changes(value=f"{literal.prefix}{quote}{new_url}{quote}")
                args = list(updated.args)
                args[position] = url_arg.with_changes(value=new_literal)
                self.ctx.change(self.code, f"create_async_engine with async URL {new_url!r}",
                                original)
                return updated.with_changes(args=args)
            self.ctx.change(self.code, "create_engine() → create_async_engine()", original)
            return updated
        self.ctx.todo(self.code, "the engine URL is not a literal; make sure it names an async "
                                 "driver: " + urls.MAPPING_HINT, original)
        return updated
