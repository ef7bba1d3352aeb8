"""SQA309: test clients of an app whose tables moved into its lifespan run that lifespan."""

from __future__ import annotations

from pathlib import PurePath

import libcst as cst

from ..analysis import Plan
from ..analysis.startup import is_pytest_module
from ..config import Config
from ..index import ModuleIndex
from ..rewrite.context import dotted
from ..rewrite.traversal import OwnScopeVisitor
from .base import Case, Rule

TEST_CLIENTS = frozenset({"fastapi.testclient.TestClient", "starlette.testclient.TestClient"})
_FIXTURES = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})
_ENTERING = frozenset({"enter_context", "enterContext"})  # ExitStack, unittest: entered too
_TWO_LINES = (cst.EmptyLine(), cst.EmptyLine())
_MOVED = ("the tables of {app} are now created by its lifespan handler (they were created when "
          "its module was imported)")
# The app module of the cases: its tables are created at import (SQA010 moves that into a
# lifespan handler); the tests of each case follow it in the same module.
_APP_BEFORE = """\
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase

engine = create_engine("sqlite:///./shop.db")


class Base(DeclarativeBase):
    pass


Base.metadata.create_all(bind=engine)
app = FastAPI()
"""
_APP_AFTER = """\
from contextlib import asynccontextmanager

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase

engine = create_async_engine("sqlite+aiosqlite:///./shop.db")


class Base(DeclarativeBase):
    pass


@asynccontextmanager
async def lifespan(_app):
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    yield


app = FastAPI(lifespan=lifespan)
"""
_DOCSTRING = '"""Runs the app\'s lifespan, which creates its tables, for the tests."""'


def _app_argument(ix: ModuleIndex, callee: str, args: tuple[str | None, ...],
                  kwargs: tuple[tuple[str, str | None], ...], plan: Plan) -> str | None:
    """The app a `TestClient(...)` call (as the index has it) is given, qualified."""
    if callee.rpartition(".")[2] != "TestClient" or plan.qualify(ix, callee) not in TEST_CLIENTS:
        return None
    app = args[0] if args else dict(kwargs).get("app")
    return plan.qualify(ix, app) if app else None


class TestClientLifespan(Rule):
    """Test clients of an app whose tables moved into its lifespan run that lifespan.

    Before, the app module created its tables when it was imported, so every client found
    them. Where this run moves that `create_all` into the app's lifespan (SQA010), the
    lifespan creates them, and a test client runs it only inside `with TestClient(app) as
    client:`. So, for an app whose module this run migrates:

    * a module-level `client = TestClient(app)` in a test module or conftest.py stays, and
      an autouse fixture enters it once for the test session (the tables existed for the
      whole session before; a fixture of conftest.py serves every test below it, and the
      client is entered once, never twice at the same time);
    * a fixture returning or yielding `TestClient(app)` (or a name it was assigned to)
      yields it from inside `with TestClient(app) as client:`; what followed the `yield`
      runs inside the `with`, before the lifespan ends;
    * any other `TestClient(app)` — in a test body, a class, a helper module, a fixture of
      another shape, a client a test also enters itself — gets a TODO at the call.

    The app's test modules and conftest.py get these edits also when an incremental run
    leaves them out (only these: the rest of such a file stays as it is).

    Nothing changes where the tests make their own tables: when a test module (or a
    conftest.py above it) calls `create_all` itself and overrides the app's dependencies
    (`app.dependency_overrides[...] = ...`) at module level, or in the fixture making the
    client, that client does not need the app's lifespan.
    """

    code = "SQA309"
    summary = ("TestClient(app) of an app whose tables moved into its lifespan → entered "
               "with `with`")
    after = ("SQA010",)  # its module-level moves (same module) come first
    in_context = True  # the app's tests, left out of an incremental run, still need it
    cases = (
        Case(_APP_BEFORE + """

@pytest.fixture
def client():
    return TestClient(app)
""", _APP_AFTER + """

@pytest.fixture
def client():
    with TestClient(app) as test_client:
        yield test_client
"""),
        Case(_APP_BEFORE + """

def test_health():
    assert TestClient(app).get("/health").status_code == 200
""", _APP_AFTER + """

def test_health():
    # TODO(sqla-asyncify SQA309): the tables of app are now created by its lifespan handler (they were created when its module was imported), and TestClient runs the lifespan only inside `with TestClient(app) as client:`: use the client there (a fixture can yield it from inside the `with`)
    assert TestClient(app).get("/health").status_code == 200
"""),  # noqa: E501
    )

    @classmethod
    def local_scopes(cls, ix: ModuleIndex, plan: Plan, config: Config) -> set[str]:
        return {site.scope for site in ix.calls
                if (app := _app_argument(ix, site.callee, site.args, site.kwargs, plan))
                and plan.gets_lifespan(app, config)}

    def visit_Module(self, node: cst.Module) -> None:
        ix, plan = self.ctx.ix, self.ctx.plan
        self.active = bool(self.local_scopes(ix, plan, self.ctx.config))
        self.own_tables, self.overridden = self._own_tables() if self.active else (False, False)
        self.entered: set[int] = set()  # ids of calls given to enter_context()
        self.module_clients: list[str] = []  # module-level clients to enter in a fixture
        self.fixtures: dict[int, tuple[int, int, str]] = {}  # see `_fixture_shape`
        # names entered by `with name:` in a function, and whether that function is a fixture
        self.entered_names: dict[str, bool] = {}
        for site in ix.calls if self.active else ():
            name, _, method = site.callee.rpartition(".")
            if method == "__enter__":
                info = ix.functions.get(site.scope)
                fixture = info is not None and any(
                    d.rpartition(".")[2] == "fixture" for d in info.decorators)
                self.entered_names[name] = self.entered_names.get(name, True) and fixture

    def _own_tables(self) -> tuple[bool, bool]:
        """Whether this module, or a conftest.py in its folder or above, calls `create_all`
        itself, and whether one overrides the app's dependencies at module level (for every
        client of the app)."""
        folder = PurePath(self.ctx.ix.path).parent
        modules = [ix for ix in self.ctx.plan.modules.values() if ix is self.ctx.ix or (
            PurePath(ix.path).name == "conftest.py"
            and folder.is_relative_to(PurePath(ix.path).parent))]
        creates = any(site.callee.rpartition(".")[2] == "create_all"
                      for ix in modules for site in ix.calls)
        overrides = any(_overrides(name) for ix in modules for name in [
            *ix.names_read.get("", ()), *(site.callee for site in ix.calls if not site.scope)])
        return creates, overrides

    def _on_own_tables(self) -> bool:
        """The client at hand serves tests that make their own tables: they call `create_all`
        and override the app's dependencies for every client, or in the function making this
        one (a fixture setting up a test database)."""
        if not self.own_tables:
            return False
        if self.overridden:
            return True
        finder = _Overrides()
        for _, scope in self.ctx.scopes:
            if isinstance(scope, cst.FunctionDef):
                scope.visit(finder)
        return finder.found

    # -- where the client is made ---------------------------------------------------------------
    def visit_Call(self, node: cst.Call) -> None:
        if not self.active:
            return
        if isinstance(node.func, cst.Attribute) and node.func.attr.value in _ENTERING:
            self.entered.update(id(arg.value) for arg in node.args)
            return
        app = self._lifespan_app(node)
        if app is None or id(node) in self.ctx.with_items or id(node) in self.entered or (
                self._on_own_tables()):
            return
        statement = self.ctx.statements[-1] if self.ctx.statements else None
        name = self._assigned(statement, node)
        if not self.ctx.scopes and len(self.ctx.statements) == 1 and name is not None and (
                is_pytest_module(self.ctx.ix.module)):
            if self.entered_names.get(name):
                return  # a fixture enters it already
            if name in self.entered_names:  # by a test: a fixture would enter it twice
                self.ctx.todo(self.code, (
                    f"{_MOVED.format(app=app)}, which {name} runs only inside "
                    f"`with {name}:`; a test enters it so already, and entering it twice at "
                    f"once breaks it: enter it in one autouse fixture (`with {name}: yield`) "
                    "and drop the test's `with`"), node)
                return
            self.module_clients.append(name)
            self.ctx.change(self.code, f"{name} = TestClient({app}) is entered by an autouse "
                            f"fixture: {app}'s lifespan creates its tables now", node)
            return
        function = self.ctx.function
        shape = self._fixture_shape(function, statement, node) if function is not None else None
        if shape is not None:
            self.fixtures[id(function)] = shape
            self.ctx.change(self.code, f"the fixture yields TestClient({app}) from inside "
                            f"`with`: {app}'s lifespan creates its tables now", node)
            return
        self.ctx.todo(self.code, (
            f"{_MOVED.format(app=app)}, and TestClient runs the lifespan only inside "
            f"`with TestClient({app}) as client:`: use the client there (a fixture can yield "
            "it from inside the `with`)"), node)

    def _lifespan_app(self, call: cst.Call) -> str | None:
        """The app as written, for `TestClient(app)` of an app this run gives a lifespan."""
        argument = next((a.value for a in call.args if a.keyword is None or (
            a.keyword.value == "app")), None) if call.args else None
        written = dotted(argument) if argument is not None else None
        if written is None or self.ctx.qualify(call.func) not in TEST_CLIENTS:
            return None
        qualified = self.ctx.qualify(argument)
        found = qualified and self.ctx.plan.gets_lifespan(qualified, self.ctx.config)
        return written if found else None

    @staticmethod
    def _assigned(statement: cst.CSTNode | None, call: cst.Call) -> str | None:
        """`name` when `statement` is `name = call`."""
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(
            statement.body) == 1 else None
        if isinstance(small, cst.Assign) and len(small.targets) == 1 and small.value is call:
            target = small.targets[0].target
        elif isinstance(small, cst.AnnAssign) and small.value is call:
            target = small.target
        else:
            return None
        return target.value if isinstance(target, cst.Name) else None

    # -- fixtures -------------------------------------------------------------------------------
    def _is_fixture(self, function: cst.FunctionDef) -> bool:
        return any(self.ctx.qualify(d.decorator.func if isinstance(d.decorator, cst.Call)
                                    else d.decorator) in _FIXTURES for d in function.decorators)

    def _fixture_shape(self, function: cst.FunctionDef, statement: cst.CSTNode | None,
                       call: cst.Call) -> tuple[int, int, str] | None:
        """(place of the statement making the client, place of the one handing it out, the
        name it is held in) for a fixture whose body makes the client and then returns or
        yields it — the one `return`/`yield` of the fixture, directly in its body (`return`
        last) — else None."""
        if not self._is_fixture(function) or not isinstance(function.body, cst.IndentedBlock):
            return None
        body = list(function.body.body)
        made = next((i for i, s in enumerate(body) if s is statement), None)
        if made is None:
            return None
        handing = _HandsOut()
        function.body.visit(handing)
        if len(handing.found) != 1:
            return None
        name = self._assigned(statement, call)
        if name is None:  # `return TestClient(app)` / `yield TestClient(app)`
            given = _handed_out(statement)
            if given is not call:
                return None
            out = made
        else:
            out = next((i for i, s in enumerate(body) if i > made and isinstance(
                given := _handed_out(s), cst.Name) and given.value == name), None)
            if out is None:
                return None
        if isinstance(handing.found[0], cst.Return) and out != len(body) - 1:
            return None
        return made, out, name or ""

    def leave_FunctionDef(self, original: cst.FunctionDef,
                          updated: cst.FunctionDef) -> cst.FunctionDef:
        shape = self.fixtures.pop(id(original), None)
        if shape is None or not isinstance(updated.body, cst.IndentedBlock):
            return updated
        made, out, name = shape
        body = list(updated.body.body)
        if len(body) != len(original.body.body):  # another rule split a statement: not ours
            self.ctx.todo(self.code, "yield the TestClient from inside `with TestClient(app) "
                                     "as client:` (its app's lifespan creates the tables)",
                          updated, at=original)
            return updated
        maker = body[made]
        small = maker.body[0] if isinstance(maker, cst.SimpleStatementLine) else None
        value = small.value if isinstance(small, cst.Assign | cst.AnnAssign | cst.Return) else (
            small.value.value if isinstance(small, cst.Expr) and isinstance(
                small.value, cst.Yield) else None)
        if not isinstance(value, cst.Call):
            return updated
        name = name or self.ctx.free_name("client", "test_client")
        handed = cst.SimpleStatementLine(body=[cst.Expr(cst.Yield(cst.Name(name)))])
        inner = [*body[made + 1:out], handed, *body[out + 1:]] if out > made else [
            handed, *body[made + 1:]]
        block = cst.With(items=[cst.WithItem(value, asname=cst.AsName(cst.Name(name)))],
                         body=cst.IndentedBlock(body=inner),
                         leading_lines=maker.leading_lines)
        return updated.with_changes(body=updated.body.with_changes(body=[*body[:made], block]))

    # -- module-level clients -------------------------------------------------------------------
    def leave_Module(self, original: cst.Module, updated: cst.Module) -> cst.Module:
        if not self.module_clients:
            return updated
        pytest = self.ctx.import_module("pytest")
        body = list(updated.body)
        taken: set[str] = set()
        for client in self.module_clients:
            at = next((i for i, s in enumerate(body) if self._assigns(s, client)), None)
            if at is None:
                continue
            name = self.ctx.free_name(f"_{client}_lifespan", taken=taken)
            taken.add(name)
            fixture = cst.parse_statement(
                f"@{pytest}.fixture(autouse=True, scope=\"session\")\n"
                f"def {name}():\n"
                f"    {_DOCSTRING}\n"
                f"    with {client}:\n"
                "        yield\n").with_changes(leading_lines=_TWO_LINES)
            if at + 1 < len(body):
                body[at + 1] = _spaced(body[at + 1])
            body.insert(at + 1, fixture)
        return updated.with_changes(body=body)

    @staticmethod
    def _assigns(statement: cst.CSTNode, name: str) -> bool:
        small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(
            statement.body) == 1 else None
        target = small.targets[0].target if isinstance(small, cst.Assign) and len(
            small.targets) == 1 else small.target if isinstance(small, cst.AnnAssign) else None
        return isinstance(target, cst.Name) and target.value == name and isinstance(
            small.value, cst.Call)


def _overrides(name: str) -> bool:
    """`app.dependency_overrides` (or a method on it), as the index names it."""
    return name.endswith(".dependency_overrides") or ".dependency_overrides." in name


class _Overrides(cst.CSTVisitor):
    """Whether code sets or reads `<app>.dependency_overrides`."""

    found = False

    def visit_Attribute(self, node: cst.Attribute) -> None:
        if node.attr.value == "dependency_overrides":
            self.found = True


class _HandsOut(OwnScopeVisitor):
    """The `return` and `yield` of a function body (not of functions or lambdas in it)."""

    def __init__(self) -> None:
        self.found: list[cst.CSTNode] = []

    def visit_Return(self, node: cst.Return) -> None:
        self.found.append(node)

    def visit_Yield(self, node: cst.Yield) -> None:
        self.found.append(node)


def _handed_out(statement: cst.CSTNode) -> cst.BaseExpression | None:
    """What `return x` / `yield x` (as a whole statement) hands out."""
    small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) and len(
        statement.body) == 1 else None
    if isinstance(small, cst.Return):
        return small.value
    if isinstance(small, cst.Expr) and isinstance(small.value, cst.Yield):
        value = small.value.value
        return value if isinstance(value, cst.BaseExpression) else None
    return None


def _spaced(statement: cst.BaseStatement) -> cst.BaseStatement:
    """`statement` with two blank lines before it (a function def now precedes it)."""
    lines = list(statement.leading_lines)
    blank = next((i for i, line in enumerate(lines) if line.comment is not None), len(lines))
    return statement.with_changes(leading_lines=[*(cst.EmptyLine() for _ in range(
        max(0, 2 - blank))), *lines])
