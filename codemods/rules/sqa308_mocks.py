"""SQA308: mocks in tests of names the migration renamed, or of objects that became async.

The rule decides what each patch replaces (`_target`: retargeted to a renamed name, a
function made async, an object that became async); following the mocks from there lives in
`rewrite/mock_tracking.py`, recognising the patching calls in `rewrite/mocks.py`, the
scopes that may hold something in `analysis/mock_scopes.py`.
"""

from __future__ import annotations

import libcst as cst

from ..analysis import Plan
from ..analysis.mock_positions import STAND_IN
from ..analysis.mock_scopes import PATCH_NAMES, conftest_patches, form, handed_to
from ..index import ModuleIndex
from ..rewrite.build import call, keyword
from ..rewrite.mock_tracking import (
    SYNC_MOCKS,
    Edits,
    MockTracker,
    Tracked,
    mock_class,
)
from ..rewrite.mocks import Body, Collect, Patch
from .base import USERS_AND_ADDRESSES, AuditRule, Case, RenameReferences


class MockedNames(AuditRule):
    """Mocks in tests of what the migration renamed, or of what became async, keep working.

    A patch of a name the migration replaced in its module (`patch("app.db.Session")` after
    `from sqlalchemy.orm import Session` became `AsyncSession`; `sessionmaker`,
    `create_engine`, `scoped_session` and SQLModel's `Session` alike) is retargeted to the
    name the module binds now — `patch()`, `mock.patch.object()`, pytest-mock's
    `mocker.patch()` and `monkeypatch.setattr()`; a patch of the library's own name
    (`patch("sqlalchemy.orm.Session")`) gets a TODO.

    Stand-ins for what became async: the mock `patch()` makes for an `async def` is an
    AsyncMock already, so `patch("app.users.load", return_value=user)` is left alone; a sync
    stand-in given as `new=` or to `monkeypatch.setattr()` becomes awaitable (`MagicMock(...)`
    → `AsyncMock(...)`; a lambda or sync function `f` → `AsyncMock(side_effect=f)`, which
    calls it and hands back its result when awaited). On a mock of a session factory,
    session or engine, `__enter__`/`__exit__` become `__aenter__`/`__aexit__` (the code under
    test now uses `async with`); return values configured for methods it now awaits, and
    stand-ins the tool cannot follow, get a TODO saying what changed.

    A mock is followed through the test module: into the helper functions (and methods of
    the test class) a test hands it to, from a fixture (of the module, or of a conftest.py
    above it) yielding or returning it to the tests taking that fixture, from a class-level
    `@patch(...)` into each test method, and from `setUp` (`self.factory = ...`) into the
    class's other methods.
    `patch.multiple(target, Name=DEFAULT, ...)` is one patch per keyword; its mocks are found
    as `mocks["Name"]` or as the keyword parameter `Name` of a decorated test.
    """

    code = "SQA308"
    summary = ("mocks of renamed or now-async names in tests → retargeted, AsyncMock, "
               "__aenter__; else TODO")
    cases = (
        Case("""
            from unittest.mock import MagicMock, patch

            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker

            from models import User

            SessionLocal = sessionmaker(bind=create_engine("sqlite://"))


            def add_user(name: str) -> None:
                with SessionLocal() as session:
                    session.add(User(name=name))
                    session.commit()


            def test_add_user():
                with patch("case.SessionLocal") as factory:
                    session = MagicMock()
                    factory.return_value.__enter__.return_value = session
                    add_user("ann")
                session.commit.assert_called_once_with()
        """, """
            from unittest.mock import MagicMock, patch

            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

            from models import User

            SessionLocal = async_sessionmaker(bind=create_async_engine("sqlite+aiosqlite://"), expire_on_commit=False)


            async def add_user(name: str) -> None:
                async with SessionLocal() as session:
                    session.add(User(name=name))
                    await session.commit()


            async def test_add_user():
                with patch("case.SessionLocal") as factory:
                    session = MagicMock(spec=AsyncSession)
                    factory.return_value.__aenter__.return_value = session
                    await add_user("ann")
                session.commit.assert_called_once_with()
        """, models=USERS_AND_ADDRESSES),  # noqa: E501
        Case("""
            from unittest.mock import MagicMock, patch

            from sqlalchemy.orm import Session

            from models import User


            def user_name(session: Session, user_id: int) -> str:
                return session.get(User, user_id).name


            def greeting(session: Session, user_id: int) -> str:
                return f"Hello {user_name(session, user_id)}"


            def test_greeting():
                with patch("case.user_name", new=MagicMock(return_value="ann")):
                    assert greeting(MagicMock(), 1) == "Hello ann"
        """, """
            from unittest.mock import AsyncMock, MagicMock, patch

            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User


            async def user_name(session: AsyncSession, user_id: int) -> str:
                return (await session.get(User, user_id)).name


            async def greeting(session: AsyncSession, user_id: int) -> str:
                return f"Hello {await user_name(session, user_id)}"


            async def test_greeting():
                with patch("case.user_name", new=AsyncMock(return_value="ann")):
                    assert await greeting(MagicMock(), 1) == "Hello ann"
        """, models=USERS_AND_ADDRESSES),
        Case("""
            import unittest
            from unittest.mock import MagicMock, patch

            from sqlalchemy import create_engine
            from sqlalchemy.orm import sessionmaker

            from models import User

            SessionLocal = sessionmaker(bind=create_engine("sqlite://"))


            def add_user(name: str) -> None:
                with SessionLocal() as session:
                    session.add(User(name=name))
                    session.commit()


            def _enter_gives(factory, session):
                factory.return_value.__enter__.return_value = session


            @patch("case.SessionLocal")
            class AddUserTest(unittest.TestCase):
                def test_add_user(self, factory):
                    session = MagicMock()
                    _enter_gives(factory, session)
                    add_user("ann")
                    session.commit.assert_called_once_with()
        """, """
            import unittest
            from unittest.mock import MagicMock, patch

            from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

            from models import User

            SessionLocal = async_sessionmaker(bind=create_async_engine("sqlite+aiosqlite://"), expire_on_commit=False)


            async def add_user(name: str) -> None:
                async with SessionLocal() as session:
                    session.add(User(name=name))
                    await session.commit()


            def _enter_gives(factory, session):
                factory.return_value.__aenter__.return_value = session


            @patch("case.SessionLocal")
            class AddUserTest(unittest.IsolatedAsyncioTestCase):
                async def test_add_user(self, factory):
                    session = MagicMock(spec=AsyncSession)
                    _enter_gives(factory, session)
                    await add_user("ann")
                    session.commit.assert_called_once_with()
        """, models=USERS_AND_ADDRESSES),  # noqa: E501
        Case("""
            from unittest.mock import patch


            def test_nothing_renamed():
                with patch("os.getcwd", return_value="/"):
                    pass
        """),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.edits = Edits()
        self.module_defs: dict[str, bool] = {}  # the module's functions: name -> async def

    @classmethod
    def scopes(cls, ix: ModuleIndex, plan: Plan) -> set[str]:
        if not (plan.renamed or plan.async_functions):
            return set()

        def patching(callee: str) -> bool:
            return callee.endswith(PATCH_NAMES) and form(plan.qualify(ix, callee)) is not None

        found = {site.scope for site in ix.calls if patching(site.callee)}
        found |= {q for q, f in ix.functions.items() if any(map(patching, f.decorators))}
        # a class decorator patches each test method (and is retargeted at module level)
        patched = {q for q, c in ix.classes.items() if any(map(patching, c.decorators))}
        found |= {q for q, f in ix.functions.items() if f.owner_class in patched}
        if patched:
            found.add("")
        # tests taking a fixture of a conftest.py above that hands out a patch's mock
        fixtures = conftest_patches(ix, plan)
        found |= {q for q, f in ix.functions.items() if fixtures.keys() & set(f.params)}
        return found | handed_to(ix, found) if found else found

    # -- traversal --------------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        own = self.scopes(self.ctx.ix, self.ctx.plan)
        if not own:  # no patch in the module (the index's calls): nothing to track or retarget
            return
        body = Body()
        Collect(self.ctx.qualify, body, functions=False).walk(node)
        self.module_defs = body.defs
        MockTracker(self.ctx, self.edits, self._target).run(node, body, own,
                                                            self._conftest_mocks())

    def visit_Call(self, node: cst.Call) -> None:
        self._report(node)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._report(node)

    def _report(self, node: cst.CSTNode) -> None:
        for message in self.edits.todos.pop(id(node), ()):
            self.ctx.todo(self.code, message, node)

    def _replaced(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:
        found = self.edits.replace.pop(id(original), None)
        if found is None:
            return updated
        new, why = found
        self.ctx.change(self.code, why, original)
        return new(updated) if callable(new) else new

    def leave_SimpleString(self, original: cst.SimpleString, updated: cst.SimpleString
                           ) -> cst.BaseExpression:
        return self._replaced(original, updated)

    def leave_Attribute(self, original: cst.Attribute, updated: cst.BaseExpression
                        ) -> cst.BaseExpression:
        return self._replaced(original, updated)

    def leave_Name(self, original: cst.Name, updated: cst.BaseExpression) -> cst.BaseExpression:
        return self._replaced(original, updated)

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        return self._replaced(original, updated)

    def leave_Lambda(self, original: cst.Lambda, updated: cst.BaseExpression
                     ) -> cst.BaseExpression:
        return self._replaced(original, updated)

    # -- what a patch replaces --------------------------------------------------------------
    def _todo(self, node: cst.CSTNode, message: str) -> None:
        self.edits.todo(node, message)

    def _resolve(self, owner: str, attr: str) -> tuple[str, str] | None:
        """(project module, name in it: `Name` or `Class.attr`) `owner.attr` names."""
        modules = self.ctx.plan.modules
        if owner in modules:
            return owner, attr
        parts = owner.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if module in modules:
                cls = ".".join(parts[cut:])
                return (module, f"{cls}.{attr}") if cls in modules[module].classes else None
        return None

    def _target(self, patch: Patch, body: Body) -> Tracked | None:
        """Retarget a renamed name; the position of what the patch stands in for, if it
        became async (None: nothing to follow)."""
        resolved = self._resolve(patch.owner, patch.attr)
        if resolved is None:
            self._library_name(patch)
            return None
        module, name = resolved
        new = self.ctx.plan.renamed_in(module).get(name)
        if new is not None:
            self._retarget(patch, new, f"`{module}.{name}` is now `{module}.{new}`", body)
        elif self._made_async(module, name):
            self._function(patch, module, name, body)
        return self._position(module, name)

    def _position(self, module: str, name: str) -> Tracked | None:
        """Where a mock of `module.name` starts, for what became async (None: nothing to
        follow — a function made async is the patch's own business)."""
        plan = self.ctx.plan
        ix = plan.modules[module]
        new = plan.renamed_in(module).get(name)
        if new is not None:
            kind = plan.call_result_kind(ix, "", name)
            return Tracked(("call", kind), f"`{module}.{new}`, formerly `{name}`", ix) if (
                kind) else None
        if self._made_async(module, name) or "." in name or not self._migrated(module, name):
            return None
        kind = plan.kind(ix, "", name)
        return Tracked(("obj", kind, "sync"), f"`{module}.{name}`", ix) if (
            kind in STAND_IN) else None

    def _made_async(self, module: str, name: str) -> bool:
        plan = self.ctx.plan
        found = plan.lookup(f"{module}.{name}")  # (where an imported function is defined)
        ref = (found[0].module, found[1]) if found else (module, name)
        return ref in plan.async_functions and not plan.sync_boundary(ref)

    def _conftest_mocks(self) -> dict[str, Tracked]:
        """The mocks the fixtures of conftest.py files above this module hand out."""
        found = {}
        for fixture, (owner, attr) in conftest_patches(self.ctx.ix, self.ctx.plan).items():
            resolved = self._resolve(owner, attr)
            start = self._position(*resolved) if resolved else None
            if start is not None:
                found[fixture] = start
        return found

    def _migrated(self, module: str, name: str) -> bool:
        """The module defining `module.name` is rewritten for the async target."""
        plan = self.ctx.plan
        found = plan.lookup(f"{module}.{name}")
        defining = found[0] if found else plan.modules[module]
        return self.ctx.async_target and defining.module not in plan.context and (
            not defining.runs_under_alembic)

    def _retarget(self, patch: Patch, new: str, why: str, body: Body) -> None:
        node = patch.name_node
        if isinstance(node, cst.Name):  # patch.multiple(..., Session=DEFAULT)
            self._retarget_keyword(patch, node, new, why, body)
            return
        if node.prefix not in ("", "u"):
            self._todo(patch.call, f"{why}: patch that name")
            return
        text = f"{patch.owner}.{new}" if patch.dotted else new
        self.edits.replace[id(node)] = (node.with_changes(
            value=f"{node.prefix}{node.quote}{text}{node.quote}"),
            f"{why}: the mock patches the new name")

    def _retarget_keyword(self, patch: Patch, node: cst.Name, new: str, why: str, body: Body
                          ) -> None:
        """patch.multiple's keyword, and the keys its dict of mocks is read with
        (`mocks["Session"]`); a DEFAULT mock handed to a decorated function as the keyword
        argument of that name gets a TODO."""
        mocks = body.mocks_of(patch)
        if patch.value is None and id(patch.call) in body.decorating or any(
                "[" not in mock for mock in mocks):
            self._todo(patch.call, f"{why}: patch `{new}=` instead, and take the mock as the "
                                   f"parameter `{new}`")
            return
        self.edits.replace[id(node)] = (node.with_changes(value=new),
                                        f"{why}: the mock patches the new name")
        for mock in mocks:
            for key in body.keys.get(mock, ()):
                self.edits.replace[id(key)] = (key.with_changes(
                    value=f"{key.prefix}{key.quote}{new}{key.quote}"),
                    f"{why}: the mock is found under the new name")

    def _library_name(self, patch: Patch) -> None:
        """`patch("sqlalchemy.orm.Session")` where the project's code moved to another name."""
        plan = self.ctx.plan
        qualified = f"{patch.owner}.{patch.attr}"
        renames = {q: t for rule in RenameReferences.__subclasses__()
                   for q, t in rule.renames.items()}
        target = renames.get(qualified)
        if target is None or not any(
                plan.qualify(plan.modules[m], old) == qualified
                for m, old, _ in plan.renamed if m in plan.modules):
            return
        self._todo(patch.call, f"the migrated code no longer uses `{qualified}` but "
                               f"`{'.'.join(target)}`: patch that name where the code under "
                               "test looks it up (the module using it)")

    # -- functions that became async --------------------------------------------------------
    def _function(self, patch: Patch, module: str, name: str, body: Body) -> None:
        what = f"`{module}.{name}` is now async def: the code under test awaits what it returns"
        method = "." in name
        value = patch.value.value if patch.value is not None else None
        if value is None:
            new_callable = next((a.value for a in patch.call.args if a.keyword is not None
                                 and a.keyword.value == "new_callable"), None)
            if new_callable is not None and (
                    mock_class(self.ctx.qualify, new_callable) in SYNC_MOCKS):
                self._async_mock(new_callable, what)
            return  # patch() makes an AsyncMock for an async def
        if isinstance(value, cst.Call):
            mock = mock_class(self.ctx.qualify, value.func)
            if mock in SYNC_MOCKS:
                self._async_mock(value.func, what)
            elif mock != "AsyncMock":
                self._todo(patch.call, f"{what}; make this stand-in awaitable (an AsyncMock)")
            return
        if isinstance(value, cst.Name):
            bound = body.assigned.get(value.value, [])
            defs = {**self.module_defs, **body.defs}
            if value.value in defs and not bound and value.value not in body.params:
                if defs[value.value]:
                    return  # an async def already
                self._wrap(patch, value, what, method)
                return
            if len(bound) == 1 and isinstance(bound[0], cst.Call):
                mock = mock_class(self.ctx.qualify, bound[0].func)
                if mock in SYNC_MOCKS:
                    self._async_mock(bound[0].func, what)
                    return
                if mock == "AsyncMock":
                    return
        if isinstance(value, cst.Lambda):
            self._wrap(patch, value, what, method)
            return
        self._todo(patch.call, f"{what}; `{self._text(value)}` must be awaitable: an async "
                               "def, or AsyncMock(side_effect=...) around it")

    def _wrap(self, patch: Patch, value: cst.BaseExpression, what: str, method: bool) -> None:
        """A lambda or sync function given for an async one: `AsyncMock(side_effect=f)`."""
        if method:
            self._todo(patch.call, f"{what}; make `{self._text(value)}` an async def taking "
                                   "self (an AsyncMock on the class would not receive self)")
            return
        self.edits.replace[id(value)] = (lambda updated: call(cst.Name(self.ctx.import_name(
            "unittest.mock", "AsyncMock")), [keyword("side_effect", updated)]),
            f"{what}: the stand-in runs as AsyncMock(side_effect=...)")

    def _async_mock(self, func: cst.BaseExpression, what: str) -> None:
        module = (self.ctx.qualify(func) or "unittest.mock").rpartition(".")[0]
        self.edits.replace[id(func)] = (
            lambda updated: updated.with_changes(attr=cst.Name("AsyncMock")) if isinstance(
                updated, cst.Attribute) else cst.Name(self.ctx.import_name(module, "AsyncMock")),
            f"{what}: its stand-in becomes an AsyncMock")

    @staticmethod
    def _text(node: cst.CSTNode) -> str:
        return cst.Module(body=()).code_for_node(node)

