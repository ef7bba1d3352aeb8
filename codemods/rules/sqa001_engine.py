"""SQA001: engines become async engines with an async driver URL."""

from __future__ import annotations

import enum

import libcst as cst
import libcst.matchers as m

from .. import api_surface as api
from .. import urls
from ..api_surface import CONFIG_ENGINE_FACTORIES, CONNECTION_CLASSES, ENGINE_FACTORIES
from ..index.redefinitions import DefinitionKeys
from ..rewrite.context import Context, callee, dotted
from ..rewrite.traversal import Visitor
from .base import Case, RenameReferences

_ASYNC_ENGINE = ("sqlalchemy.ext.asyncio", "create_async_engine")


class AsyncEngine(RenameReferences):
    """create_engine() becomes create_async_engine() with the async driver in the URL.

    sqlite → sqlite+aiosqlite, postgresql/postgres/psycopg2 → postgresql+asyncpg, mysql/pymysql
    → mysql+aiomysql, mssql+pyodbc → mssql+aioodbc (psycopg 3 has an asyncio side and stays).
    A URL moving to asyncpg gets asyncpg's `ssl=` for libpq's `sslmode=`, and a TODO for any
    libpq parameter asyncpg refuses (`application_name`, `connect_timeout`, `options`, ...),
    naming where it goes instead. The driver of `URL.create("postgresql", ...)`,
    `url.set(drivername=...)` and the text of `make_url("...")` move the same way. A URL the
    tool cannot see (a variable, a setting) keeps its expression and gets a TODO naming the
    mapping. `Engine` annotations become `AsyncEngine`.

    URL literals elsewhere change only where they feed an engine: held by a name an engine
    reads its URL from (`DATABASE_URL = "..."` for `create_engine(DATABASE_URL)`, the default
    of `make_engine(url=...)`, what callers pass there). Any other URL stays as written — a
    Flask-SQLAlchemy `SQLALCHEMY_DATABASE_URI` (it keeps its sync engine), a URL nothing
    converted reads; text compared with a URL (`url.startswith("sqlite://")`) gets a TODO when
    the run converts engines, since their URLs no longer start that way.
    """

    code = "SQA001"
    ensures = frozenset({"async-objects"})
    needs = frozenset({"awaited-io"})
    summary = "create_engine() → create_async_engine() with an async driver URL"
    cases = (
        Case("""
            from sqlalchemy import create_engine

            engine = create_engine("postgresql://app@localhost/shop")
        """, """
            from sqlalchemy.ext.asyncio import create_async_engine

            engine = create_async_engine("postgresql+asyncpg://app@localhost/shop")
        """),
        Case("""
            from sqlalchemy import URL, create_engine

            secure = create_engine("postgresql://app@db/shop?sslmode=require")
            parts = create_engine(URL.create("postgresql", host="db"))
        """, """
            from sqlalchemy import URL
            from sqlalchemy.ext.asyncio import create_async_engine

            secure = create_async_engine("postgresql+asyncpg://app@db/shop?ssl=require")
            parts = create_async_engine(URL.create("postgresql+asyncpg", host="db"))
        """),
        Case("""
            import os

            from sqlalchemy import create_engine

            DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite:///shop.db")
            ARCHIVE_URL = "sqlite:///archive.db"  # nothing that makes an engine reads it

            engine = create_engine(DATABASE_URL)
        """, """
            import os

            from sqlalchemy.ext.asyncio import create_async_engine

            DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///shop.db")
            ARCHIVE_URL = "sqlite:///archive.db"  # nothing that makes an engine reads it

            # TODO(sqla-asyncify SQA001): the engine URL `DATABASE_URL` may come from the environment (its default now names an async driver): a URL set there must name one too: sqlite → sqlite+aiosqlite, postgresql/psycopg2 → postgresql+asyncpg, mysql/pymysql → mysql+aiomysql, mssql+pyodbc → mssql+aioodbc
            engine = create_async_engine(DATABASE_URL)
        """),  # noqa: E501
        Case("""
            from flask import Flask
            from flask_sqlalchemy import SQLAlchemy

            app = Flask(__name__)
            app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql://app@localhost/shop"
            db = SQLAlchemy(app)
        """),  # Flask-SQLAlchemy keeps its synchronous engine, and so its URL
    )
    renames = {
        **dict.fromkeys(ENGINE_FACTORIES, _ASYNC_ENGINE),
        **dict.fromkeys(CONFIG_ENGINE_FACTORIES, ("sqlalchemy.ext.asyncio",
                                                  "async_engine_from_config")),
        **dict.fromkeys(("sqlalchemy.Engine", "sqlalchemy.engine.Engine",
                         "sqlalchemy.engine.base.Engine"),
                        ("sqlalchemy.ext.asyncio", "AsyncEngine")),
        **dict.fromkeys(CONNECTION_CLASSES - {"sqlalchemy.ext.asyncio.AsyncConnection"},
                        ("sqlalchemy.ext.asyncio", "AsyncConnection")),
    }

    def __init__(self, ctx: Context) -> None:
        super().__init__(ctx)
        self.module: cst.Module | None = None
        self.url_uses: _UrlUses | None = None  # found at the first URL literal

    def visit_Module(self, node: cst.Module) -> None:
        self.module, self.url_uses = node, None

    def _uses(self) -> _UrlUses:
        if self.url_uses is None:
            self.url_uses = _UrlUses.find(self.module, self.ctx)
        return self.url_uses

    def _async_url(self, text: str, node: cst.CSTNode) -> str | None:
        """The URL text with an async driver where it feeds an engine the run converts (None:
        leave it)."""
        new_url = urls.async_url(text)
        if new_url is None or new_url == text:
            return None
        use = self._uses().found.get(id(node), _Use.OTHER)
        if use is _Use.TEXT and self.ctx.plan.engine_urls.any_engine:
            self.ctx.todo(self.code, f"text compared with a database URL ({text!r}): the URLs "
                                     "this run gives an async driver now begin "
                                     f"{new_url.partition('://')[0] + '://'!r}; check that "
                                     "this still matches the URL it tests", node)
        if use is not _Use.ENGINE:
            return None
        self.ctx.change(self.code, f"database URL → async driver {new_url.split(':')[0]!r}",
                        node)
        if new_url.startswith(f"{urls.ASYNCPG}://"):
            new_url, rejected, _ = urls.asyncpg_query(new_url)
            self._asyncpg_rejects(rejected, node)
        return new_url

    def _asyncpg_rejects(self, rejected: list[str], node: cst.CSTNode) -> None:
        if rejected:
            self.ctx.todo(self.code, "asyncpg refuses these libpq parameters of the URL "
                                     "(connect() got an unexpected keyword argument): "
                                     + "; ".join(rejected) + "; take them out of the URL",
                          node)

    def leave_SimpleString(self, original: cst.SimpleString,
                           updated: cst.SimpleString) -> cst.BaseExpression:
        """A sync database URL an engine reads: the async engine would refuse it at runtime."""
        value = original.evaluated_value
        if isinstance(value, str) and urls.async_drivername(value):
            return self._drivername(original, updated, value)
        if not isinstance(value, str) or not urls.looks_like_url(value):
            return updated
        new_url = self._async_url(value, original)
        if new_url is None:
            return updated
        return updated.with_changes(value=f"{updated.prefix}{updated.quote}{new_url}"
                                          f"{updated.quote}")

    def _drivername(self, original: cst.SimpleString, updated: cst.SimpleString,
                    value: str) -> cst.SimpleString:
        """`URL.create("postgresql", ...)`, `url.set(drivername="postgresql")` feeding an
        engine the run converts."""
        if self._uses().drivernames.get(id(original)) is not _Use.ENGINE:
            return updated
        new = urls.async_drivername(value)
        self.ctx.change(self.code, f"URL drivername → async driver {new!r}", original)
        return updated.with_changes(value=f"{updated.prefix}{updated.quote}{new}{updated.quote}")

    def leave_FormattedString(self, original: cst.FormattedString,
                              updated: cst.FormattedString) -> cst.BaseExpression:
        """`f"sqlite:///{path}"`: the scheme is in the literal head."""
        head = updated.parts[0] if updated.parts else None
        if not isinstance(head, cst.FormattedStringText) or not urls.looks_like_url(head.value):
            return updated
        new_head = self._async_url(head.value, original)
        if new_head is None:
            return updated
        parts = [head.with_changes(value=new_head)]
        in_query, rejected = "?" in new_head, []
        for part in updated.parts[1:]:
            if isinstance(part, cst.FormattedStringText) and new_head.startswith(
                    f"{urls.ASYNCPG}://"):
                text, more, in_query = urls.asyncpg_query(part.value, in_query)
                part, rejected = part.with_changes(value=text), rejected + more
            parts.append(part)
        self._asyncpg_rejects(rejected, original)
        return updated.with_changes(parts=parts)

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call):
            return updated
        if self.ctx.qualify(original.func) in CONFIG_ENGINE_FACTORIES:
            self.ctx.todo(self.code, "the engine URL comes from the configuration "
                                     "(`sqlalchemy.url`): make it name an async driver: "
                                     + urls.MAPPING_HINT, original)
            return updated
        if self.ctx.qualify(original.func) not in ENGINE_FACTORIES:
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
        if isinstance(url, cst.Call) and self._uses().names_driver(url):
            return updated  # its literal moves to an async driver with the engine
        name = dotted(url)
        source = name and self.ctx.plan.engine_urls.source(self.ctx.ix, self.ctx.scope, name)
        if source and source.origin == "literal":
            return updated  # the literal it holds moves to an async driver with the engine
        if source and source.origin == "environment":
            self.ctx.todo(self.code, f"the engine URL `{name}` may come from the environment "
                                     "(its default now names an async driver): a URL set there "
                                     "must name one too: " + urls.MAPPING_HINT, original)
            return updated
        self.ctx.todo(self.code, "the engine URL is not a literal; make sure it names an async "
                                 "driver: " + urls.MAPPING_HINT, original)
        return updated


_URL_LITERAL = m.SimpleString() | m.FormattedString()
# str methods whose arguments are text to compare a URL with, not URLs an engine reads
_TEXT_METHODS = frozenset({"startswith", "endswith", "removeprefix", "removesuffix", "find",
                           "rfind", "index", "rindex", "count", "replace", "split", "rsplit",
                           "partition", "rpartition"})
# `x.get(key, default)`, `os.getenv(key, default)`: the default is the value
_DEFAULTING = frozenset({"get", "getenv", "pop"})
# the value flows through these to the node around them
_PASS_THROUGH = (cst.Arg, cst.BooleanOperation, cst.IfExp, cst.BinaryOperation,
                 cst.ConcatenatedString, cst.FormattedStringExpression, cst.Element, cst.List,
                 cst.Tuple)


class _Use(enum.Enum):
    ENGINE = "an engine the run converts reads it"
    TEXT = "compared as text"
    OTHER = "nothing the tool can tie to a converted engine"


class _UrlUses(Visitor):
    """What each database URL literal of a module feeds (see `AsyncEngine`)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.stack: list[cst.CSTNode] = []
        self.found: dict[int, _Use] = {}  # URL literals
        self.drivernames: dict[int, _Use] = {}  # of `URL.create(...)`, `.set(drivername=...)`
        self.scopes: list[str] = []
        self.keys = DefinitionKeys(ctx.ix.redefined)
        self.scope_of: dict[int, str] = {}  # id of a function or class -> its scope key
        # the functions and classes holding URL literals, and those around them (the index
        # knows): the rest of a large module is not walked
        self.wanted = {".".join(s.split(".")[:i]) for s in ctx.ix.url_scopes
                       for i in range(1, len(s.split(".")) + 1)}

    @classmethod
    def find(cls, module: cst.Module | None, ctx: Context) -> _UrlUses:
        visitor = cls(ctx)
        if module is not None:
            visitor.walk(module)
        return visitor

    def on_visit(self, node: cst.CSTNode) -> bool:
        # (exact types: this runs for every node of the module, and isinstance on libcst's
        # ABCs is slow)
        kind = type(node)
        head = node if kind is cst.SimpleString else (
            node.parts[0] if kind is cst.FormattedString and node.parts else None)
        text = head.evaluated_value if type(head) is cst.SimpleString else (
            head.value if type(head) is cst.FormattedStringText else None)
        if isinstance(text, str) and urls.looks_like_url(text):
            self.found[id(node)] = self._use(node)
        elif kind is cst.Call and (drivername := self._drivername(node)) is not None:
            self.drivernames[id(drivername)] = self._use(node)
        self.stack.append(node)
        if kind is cst.FunctionDef or kind is cst.ClassDef:
            outer = self.scopes[-1] if self.scopes else ""
            name = self.keys.key(outer, node.name.value) if (
                kind is cst.FunctionDef) else node.name.value
            self.scopes.append(f"{outer}.{name}" if outer else name)
            self.scope_of[id(node)] = self.scopes[-1]
            return self.scopes[-1] in self.wanted
        return True

    def on_leave(self, original_node: cst.CSTNode) -> None:
        self.stack.pop()
        if type(original_node) is cst.FunctionDef or type(original_node) is cst.ClassDef:
            self.scopes.pop()

    def _use(self, node: cst.CSTNode) -> _Use:
        """Walk out from the literal to where its value goes."""
        child = node
        for depth in range(len(self.stack) - 1, -1, -1):
            parent = self.stack[depth]
            if isinstance(parent, cst.Call):
                if child is parent.func or not isinstance(child, cst.Arg):
                    return _Use.OTHER
                flows, use = self._argument(parent, child, depth)
                if not flows:
                    return use
            elif isinstance(parent, (cst.Comparison, cst.ComparisonTarget)):
                return _Use.TEXT
            elif isinstance(parent, cst.DictElement):
                return self._named(_key(parent.key)) if child is parent.value else _Use.OTHER
            elif isinstance(parent, cst.Assign):
                return _Use.ENGINE if any(self._named(_key(t.target)) is _Use.ENGINE
                                          for t in parent.targets) else _Use.OTHER
            elif isinstance(parent, cst.AnnAssign):
                return self._named(_key(parent.target))
            elif isinstance(parent, cst.Param):
                return self._named(parent.name.value)
            elif isinstance(parent, cst.Return):
                function = next((n for n in reversed(self.stack[:depth])
                                 if isinstance(n, cst.FunctionDef)), None)
                return self._named(function.name.value if function else None)
            elif not isinstance(parent, _PASS_THROUGH):
                return _Use.OTHER
            child = parent
        return _Use.OTHER

    def _drivername(self, call: cst.Call) -> cst.SimpleString | None:
        """The dialect+driver literal of `URL.create("postgresql", ...)` or
        `url.set(drivername="postgresql")`."""
        keyword = next((a.value for a in call.args
                        if a.keyword is not None and a.keyword.value == "drivername"), None)
        if self.ctx.qualify(call.func) in api.URL_CREATE:
            given = call.args[0].value if call.args and call.args[0].keyword is None else keyword
        elif isinstance(call.func, cst.Attribute) and call.func.attr.value == "set":
            given = keyword
        else:
            return None
        return given if isinstance(given, cst.SimpleString) else None

    def names_driver(self, call: cst.Call) -> bool:
        """`URL.create("postgresql", ...)`, `x.set(drivername="...")`, `make_url("<URL>")`."""
        return self._drivername(call) is not None or (
            self.ctx.qualify(call.func) in api.MAKE_URL and bool(call.args)
            and m.matches(call.args[0].value, _URL_LITERAL))

    def _argument(self, call: cst.Call, arg: cst.Arg, depth: int) -> tuple[bool, _Use]:
        """(the value flows on out of the call, else what the call does with it)."""
        qualified = self.ctx.qualify(call.func)
        method = call.func.attr.value if isinstance(call.func, cst.Attribute) else (
            qualified.rpartition(".")[2] if qualified else None)
        positional = [a for a in call.args if a.keyword is None and not a.star]
        if qualified in ENGINE_FACTORIES:
            first = positional[0] if positional else None
            url = arg is first or (arg.keyword is not None and arg.keyword.value == "url")
            return False, _Use.ENGINE if url else _Use.OTHER
        if method in _TEXT_METHODS:
            return False, _Use.TEXT
        if qualified in api.MAKE_URL:
            return True, _Use.OTHER  # the URL object holds what the literal says
        if method in _DEFAULTING and arg is not (positional[0] if positional else None):
            return True, _Use.OTHER
        if method == "setdefault" and positional and arg is not positional[0]:
            return False, self._named(_key(positional[0].value))
        if arg.keyword is not None:
            name = arg.keyword.value
            if method == "add_argument" and name == "default":
                name = _argparse_dest(call)
            return False, self._named(name)
        if arg.star or arg not in positional:
            return False, _Use.OTHER
        scope = next((self.scope_of[id(n)] for n in reversed(self.stack[:depth])
                      if isinstance(n, (cst.FunctionDef, cst.ClassDef))), "")
        name = callee(call.func)
        ref = self.ctx.plan.resolve_function(self.ctx.ix, scope, name) if name else None
        info = self.ctx.plan.modules[ref[0]].functions.get(ref[1]) if ref else None
        if info is None:
            return False, _Use.OTHER
        params = info.params[1:] if info.params[:1] in (("self",), ("cls",)) else info.params
        index = positional.index(arg)
        return False, self._named(params[index] if index < len(params) else None)

    def _named(self, name: str | None) -> _Use:
        return _Use.ENGINE if name and name in self.ctx.plan.engine_urls.names else _Use.OTHER


def _key(node: cst.BaseExpression | None) -> str | None:
    """The name a value is stored under: `x`, `obj.x`, `config["x"]`, `{"x": ...}`."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        return node.attr.value
    if isinstance(node, cst.Subscript) and len(node.slice) == 1 and isinstance(
            node.slice[0].slice, cst.Index):
        return _key(node.slice[0].slice.value)
    if isinstance(node, cst.SimpleString) and isinstance(node.evaluated_value, str):
        return node.evaluated_value
    return None


def _argparse_dest(call: cst.Call) -> str | None:
    """The attribute `add_argument("--db", ...)` stores its value under (`db`)."""
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == "dest":
            return _key(arg.value)
    options = [str(a.value.evaluated_value) for a in call.args if a.keyword is None
               and isinstance(a.value, cst.SimpleString)]
    name = next((o for o in options if o.startswith("--")), options[0] if options else None)
    return name.lstrip("-").replace("-", "_") if name else None
