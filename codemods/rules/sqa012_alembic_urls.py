"""SQA012: Alembic's synchronous engine keeps a sync driver for a URL the app moved to asyncio."""

from __future__ import annotations

import libcst as cst

from .. import urls
from ..analysis import Plan
from ..analysis.sync_modules import ALEMBIC
from ..api_surface import ENGINE_FACTORIES
from ..config import Config
from ..index import ModuleIndex
from ..rewrite.context import dotted
from .base import Case, Rule

# `config.set_main_option("sqlalchemy.url", URL)`: Alembic reads the option as text
_SET_OPTION = "set_main_option"


class AlembicSyncUrls(Rule):
    """A URL Alembic's env.py takes from the application whose literal the run moved to an
    async driver is turned back to the sync driver it named, where env.py uses it.

        config.set_main_option("sqlalchemy.url", settings.DATABASE_URL)

    becomes

        config.set_main_option("sqlalchemy.url", make_url(settings.DATABASE_URL).set(
            drivername="postgresql").render_as_string(hide_password=False))

    and `create_engine(URL)` / `context.configure(url=URL)` get `make_url(URL).set(...)`.
    Alembic runs env.py without an event loop, so it needs the sync driver, whatever the
    application's engine now uses (a URL set in the environment included).
    """

    code = "SQA012"
    summary = ("Alembic env.py: URLs from the app the run moved to an async driver → "
               "make_url(...).set(drivername=<the sync one>)")
    targets = frozenset({"sync"})
    cases = (
        Case("""
            from alembic import context
            from sqlalchemy import create_engine

            from models import DATABASE_URL


            def run_migrations_online():
                with create_engine(DATABASE_URL).connect() as connection:
                    context.configure(connection=connection)
        """, """
            from alembic import context
            from sqlalchemy import create_engine, make_url

            from models import DATABASE_URL


            def run_migrations_online():
                with create_engine(make_url(DATABASE_URL).set(drivername="postgresql")).connect() as connection:
                    context.configure(connection=connection)
        """, models="""
            from sqlalchemy import create_engine

            DATABASE_URL = "postgresql://app@localhost/shop"
            engine = create_engine(DATABASE_URL)
        """, models_after="""
            from sqlalchemy.ext.asyncio import create_async_engine

            DATABASE_URL = "postgresql+asyncpg://app@localhost/shop"
            engine = create_async_engine(DATABASE_URL)
        """),  # noqa: E501
        Case("""
            from alembic import context
            from sqlalchemy import create_engine

            from models import ARCHIVE_URL

            # only Alembic's engine reads ARCHIVE_URL: its literal keeps the sync driver
            engine = create_engine(ARCHIVE_URL)
        """, models="""
            ARCHIVE_URL = "sqlite:///archive.db"
        """),
    )

    @classmethod
    def local_scopes(cls, ix: ModuleIndex, plan: Plan, config: Config) -> set[str]:
        """`context.configure(url=...)` in an offline-mode function names no SQLAlchemy."""
        if config.kept_sync != ALEMBIC:
            return set()
        return {site.scope for site in ix.calls
                if site.callee.rpartition(".")[2] in ("configure", _SET_OPTION)}

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if self.ctx.config.kept_sync != ALEMBIC or not isinstance(updated, cst.Call):
            return updated
        func = original.func
        option = isinstance(func, cst.Attribute) and func.attr.value == _SET_OPTION and len(
            original.args) == 2 and isinstance(original.args[0].value, cst.SimpleString) and (
            original.args[0].value.evaluated_value == "sqlalchemy.url")
        if option:
            at = 1
        elif self.ctx.qualify(func) in ENGINE_FACTORIES:
            at = next((i for i, a in enumerate(original.args)
                       if a.keyword is None or a.keyword.value == "url"), -1)
        elif isinstance(func, cst.Attribute) and func.attr.value == "configure":
            at = next((i for i, a in enumerate(original.args)
                       if a.keyword is not None and a.keyword.value == "url"), -1)
        else:
            return updated
        if at < 0:
            return updated
        url = self._moved_url(original.args[at].value)
        if url is None:
            return updated
        name, scheme = url
        make_url = self.ctx.import_name("sqlalchemy", "make_url")
        text = f'{make_url}({name}).set(drivername="{scheme}")' + (
            ".render_as_string(hide_password=False)" if option else "")
        self.ctx.change(self.code, f"{name} names an async driver now: Alembic's synchronous "
                                   f"engine gets it with the sync driver {scheme!r}", original)
        args = list(updated.args)
        args[at] = args[at].with_changes(value=cst.parse_expression(text))
        return updated.with_changes(args=args)

    def _moved_url(self, value: cst.BaseExpression) -> tuple[str, str] | None:
        """(the name as written, the sync scheme of its literal) for a URL of the application
        the run moves to an async driver."""
        name = dotted(value)
        plan = self.ctx.plan
        source = name and plan.engine_urls.source(self.ctx.ix, self.ctx.scope, name)
        if not name or not source or plan.stays_sync(source.module) or (
                source.name not in plan.engine_urls.names):
            return None
        written = f"{source.scheme}://"
        return (name, source.scheme) if urls.async_url(written) not in (None, written) else None
