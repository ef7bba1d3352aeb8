"""SQA302: tests and fixtures that became async are marked for the project's async plugin."""

from __future__ import annotations

from pathlib import PurePath

import libcst as cst

from ..rewrite.context import dotted
from .base import COLOURING, Case, Rule

# pytest's xunit-style hooks: called as plain functions, never awaited
_XUNIT_HOOKS = frozenset({"setup_method", "teardown_method", "setup_class", "teardown_class",
                          "setup_function", "teardown_function", "setup_module",
                          "teardown_module"})
# the per-test ones, once async: renamed, and awaited around each test by an autouse fixture
_METHOD_HOOKS = {"setup_method": "async_setup_method", "teardown_method": "async_teardown_method"}
_HOOK_FIXTURE = "_async_xunit_methods"
_FIXTURE = "pytest.fixture"
_TEST_CASES = frozenset({"unittest.TestCase", "unittest.case.TestCase"})
# unittest's async hooks: what IsolatedAsyncioTestCase awaits instead
_ASYNC_HOOKS = {"setUp": "asyncSetUp", "tearDown": "asyncTearDown"}
HOOKS_RENAMED = {**_METHOD_HOOKS, **_ASYNC_HOOKS}  # what a hook this rule makes async is called


class AsyncTests(Rule):
    """Tests and fixtures that now await are marked for pytest-asyncio (or anyio).

        def test_first_user(session):
            assert first_user(session).name == "ann"

        @pytest.mark.asyncio
        async def test_first_user(session):
            assert (await first_user(session)).name == "ann"

    With `pytest-plugin = "anyio"` tests get `@pytest.mark.anyio` and fixtures keep
    `@pytest.fixture`. Async fixtures scoped wider than a function get a TODO: their event
    loop scope must match (`loop_scope=`).
    """

    code = "SQA302"
    ensures = frozenset({"awaited-callers"})
    summary = "async tests get @pytest.mark.asyncio, async fixtures @pytest_asyncio.fixture"
    cases = (
        Case("""
            import pytest
            from sqlalchemy import create_engine
            from sqlalchemy.orm import Session


            @pytest.fixture
            def session():
                with Session(create_engine("sqlite://")) as session:
                    yield session


            def test_commit(session: Session) -> None:
                session.commit()
        """, """
            import pytest
            import pytest_asyncio
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine


            @pytest_asyncio.fixture
            async def session():
                async with AsyncSession(create_async_engine("sqlite+aiosqlite://"), expire_on_commit=False) as session:
                    yield session


            async def test_commit(session: AsyncSession) -> None:
                await session.commit()
        """),  # noqa: E501
    )
    phase = COLOURING
    after = ("SQA300",)

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.hook_classes: set[str] = set()  # classes whose setup/teardown_method it renamed

    def leave_FunctionDef(self, original: cst.FunctionDef,
                          updated: cst.FunctionDef) -> cst.FunctionDef:
        ref = (self.ctx.ix.module, self.ctx.scope)
        if original.asynchronous is not None or ref not in self.ctx.plan.async_functions:
            return updated
        fixture = next((d for d in updated.decorators if self._is_fixture(d)), None)
        if fixture is not None:
            return self._fixture(original, updated, fixture)
        owner = self.ctx.plan.owner_class(self.ctx.ix, self.ctx.scope)
        if owner and self._test_case(owner):
            return self._test_case_method(original, updated)
        if original.name.value in _METHOD_HOOKS and owner and self._in_test_module():
            return self._method_hook(original, updated, owner)
        if original.name.value in _XUNIT_HOOKS and self._in_test_module():
            self.ctx.todo(self.code, f"pytest calls {original.name.value}() without awaiting "
                                     "it, and it now awaits: move its work into an autouse "
                                     "async fixture (setup before its `yield`, teardown after)",
                          original)
            return updated
        if self._is_test(original):
            return self._test(original, updated)
        return updated

    def _method_hook(self, original: cst.FunctionDef, updated: cst.FunctionDef,
                     owner: str) -> cst.FunctionDef:
        """`async def setup_method(self, method)` → `async_setup_method`, which the class's
        autouse fixture awaits before each test (pytest would call it without awaiting)."""
        name = original.name.value
        self.hook_classes.add(owner)
        self.ctx.change(self.code, f"async {name}() → {_METHOD_HOOKS[name]}(), awaited by an "
                                   "autouse fixture around each test", original)
        return updated.with_changes(name=cst.Name(_METHOD_HOOKS[name]))

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        """`super().setup_method(method)` in a hook made async calls the renamed one (the
        call as SQA300 left it: awaited)."""
        call = updated.expression if isinstance(updated, cst.Await) else updated
        func = call.func if isinstance(call, cst.Call) else None
        if not isinstance(func, cst.Attribute) or func.attr.value not in _METHOD_HOOKS or (
                self._async_hook(self.ctx.plan.owner_class(self.ctx.ix, self.ctx.scope),
                                 func.attr.value) is None):
            return updated
        renamed = call.with_changes(func=func.with_changes(
            attr=cst.Name(_METHOD_HOOKS[func.attr.value])))
        return updated.with_changes(expression=renamed) if isinstance(
            updated, cst.Await) else renamed

    def _async_hook(self, owner: str | None, hook: str) -> list[str] | None:
        """The parameters of the nearest `hook` of the class `owner` (of this module) or its
        project bases, if it became async."""
        if owner is None:
            return None
        plan = self.ctx.plan
        for ix, cls in plan.lineage((self.ctx.ix, owner)):
            info = ix.functions.get(f"{cls}.{hook}")
            if info is not None:
                return list(info.params) if (
                    ix.module, f"{cls}.{hook}") in plan.async_functions else None
        return None

    def _hook_fixture(self, owner: str) -> cst.FunctionDef:
        """The autouse fixture awaiting the class's async setup/teardown around each test."""
        plugin = self.ctx.config.pytest_plugin
        module = self.ctx.import_module("pytest" if plugin == "anyio" else "pytest_asyncio")
        lines = []
        for hook, at in (("setup_method", 0), ("teardown_method", 1)):
            params = self._async_hook(owner, hook)
            if params is not None:  # pytest hands the test function to a hook that takes it
                arg = "request.function" if len(params) > 1 else ""
                lines.append((at, f"await self.{_METHOD_HOOKS[hook]}({arg})"))
        body = [text for at, text in lines if at == 0] + ["yield"] + [
            text for at, text in lines if at == 1]
        code = (f"@{module}.fixture(autouse=True)\n"
                f"async def {_HOOK_FIXTURE}(self, request):\n"
                + "".join(f"    {line}\n" for line in body))
        fixture = cst.parse_statement(code)
        assert isinstance(fixture, cst.FunctionDef)
        return fixture

    def leave_ClassDef(self, original: cst.ClassDef, updated: cst.ClassDef) -> cst.ClassDef:
        """A unittest.TestCase whose methods now await becomes an IsolatedAsyncioTestCase
        (unittest never awaits a coroutine method of a plain TestCase). A test class whose
        setup_method/teardown_method became async gets the fixture that awaits them."""
        if self.ctx.scope in self.hook_classes:
            fixture = self._hook_fixture(self.ctx.scope)
            body = list(updated.body.body)
            docstring = 0 if updated.get_docstring(clean=False) is None else 1
            after = body[docstring:]
            if after:  # the blank line that was above the first method goes above the fixture
                fixture = fixture.with_changes(leading_lines=after[0].leading_lines)
                after[0] = after[0].with_changes(leading_lines=[cst.EmptyLine(indent=False)])
            updated = updated.with_changes(body=updated.body.with_changes(
                body=[*body[:docstring], fixture, *after]))
        if not self._test_case(self.ctx.scope) or not self._awaits(self.ctx.scope):
            return updated
        bases = []
        for arg in updated.bases:
            if self.ctx.qualify(arg.value) in _TEST_CASES:
                arg = arg.with_changes(value=cst.Attribute(
                    value=cst.Name(self.ctx.import_module("unittest")),
                    attr=cst.Name("IsolatedAsyncioTestCase")))
                self.ctx.change(self.code, "TestCase → unittest.IsolatedAsyncioTestCase (its "
                                           "tests now await)", original)
            bases.append(arg)
        return updated.with_changes(bases=bases)

    def _test_case(self, scope: str) -> bool:
        return any(a in _TEST_CASES for a in self.ctx.plan.ancestors(self.ctx.ix, scope))

    def _awaits(self, class_scope: str) -> bool:
        prefix = f"{class_scope}."
        return any(module == self.ctx.ix.module and name.startswith(prefix)
                   for module, name in self.ctx.plan.async_functions)

    def _test_case_method(self, original: cst.FunctionDef,
                          updated: cst.FunctionDef) -> cst.FunctionDef:
        name = original.name.value
        if name in _ASYNC_HOOKS:
            self.ctx.change(self.code, f"async {name}() → {_ASYNC_HOOKS[name]}(), which "
                                       "IsolatedAsyncioTestCase awaits", original)
            return updated.with_changes(name=cst.Name(_ASYNC_HOOKS[name]))
        if name in ("setUpClass", "tearDownClass"):
            self.ctx.todo(self.code, f"{name}() now awaits, and unittest has no async "
                                     "class-level hook: move that work into asyncSetUp() or a "
                                     "module-level asyncio.run()", original)
        return updated

    def _is_fixture(self, decorator: cst.Decorator) -> bool:
        target = decorator.decorator
        if isinstance(target, cst.Call):
            target = target.func
        return self.ctx.qualify(target) == _FIXTURE

    def _in_test_module(self) -> bool:
        """A test module, a conftest.py, or a test package's `__init__.py` (base classes)."""
        path = PurePath(self.ctx.ix.path)
        return path.name.startswith("test_") or path.name.endswith("_test.py") or (
            path.name == "conftest.py") or any(part in ("test", "tests") for part in path.parts)

    def _is_test(self, function: cst.FunctionDef) -> bool:
        """A `test*` function or method of a test module. Any class counts: a base class
        not collected itself (`class DeleteCase:`) hands its tests to `Test*` subclasses,
        and the mark does nothing where pytest does not collect it."""
        name = PurePath(self.ctx.ix.path).name
        in_test_file = name.startswith("test_") or name.endswith("_test.py")
        in_classes = all(isinstance(node, cst.ClassDef) for _, node in self.ctx.scopes[:-1])
        return in_test_file and function.name.value.startswith("test") and in_classes

    def _test(self, original: cst.FunctionDef, updated: cst.FunctionDef) -> cst.FunctionDef:
        plugin = self.ctx.config.pytest_plugin
        if any(dotted(d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator)
               in (f"pytest.mark.{plugin}",) for d in updated.decorators):
            return updated
        pytest = self.ctx.import_module("pytest")
        marker = cst.Decorator(decorator=cst.parse_expression(f"{pytest}.mark.{plugin}"))
        self.ctx.change(self.code, f"async test → @pytest.mark.{plugin}", original)
        return updated.with_changes(decorators=[*updated.decorators, marker])

    def _fixture(self, original: cst.FunctionDef, updated: cst.FunctionDef,
                 fixture: cst.Decorator) -> cst.FunctionDef:
        call = fixture.decorator if isinstance(fixture.decorator, cst.Call) else None
        scope = next((a.value for a in call.args if a.keyword and a.keyword.value == "scope"),
                     None) if call else None
        if scope is not None and not (isinstance(scope, cst.SimpleString)
                                      and scope.evaluated_value == "function"):
            self.ctx.todo(self.code, "an async fixture with a wider scope needs a matching event "
                                     "loop: add loop_scope= to it and to the tests using it",
                          original)
        if self.ctx.config.pytest_plugin == "anyio":
            return updated
        module = self.ctx.import_module("pytest_asyncio")
        name = cst.Attribute(value=cst.Name(module), attr=cst.Name("fixture"))
        new = call.with_changes(func=name) if call else name
        self.ctx.change(self.code, "async fixture → @pytest_asyncio.fixture", original)
        return updated.with_changes(decorators=[
            d.with_changes(decorator=new) if d is fixture else d for d in updated.decorators])
