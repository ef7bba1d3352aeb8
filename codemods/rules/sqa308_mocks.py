"""SQA308: mocks in tests of names the migration renamed, or of objects that became async."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from ..analysis import ObjKind, Plan
from ..api_surface import (
    CONNECTION_COROUTINES,
    ENGINE_CONTEXTS,
    ENGINE_COROUTINES,
    SESSION_COROUTINES,
    SESSION_SYNC_METHODS,
    STARTABLES,
    TRANSACTION_COROUTINES,
)
from ..index import ModuleIndex
from ..rewrite.build import call, keyword, with_keyword_default
from ..rewrite.traversal import Visitor
from .base import USERS_AND_ADDRESSES, AuditRule, Case, RenameReferences

_PATCH = frozenset({"unittest.mock.patch", "mock.patch"})
_PATCH_OBJECT = frozenset({"unittest.mock.patch.object", "mock.patch.object"})
# pytest-mock's fixtures: `mocker.patch(...)` returns the mock itself
_MOCKERS = frozenset({"mocker", "class_mocker", "module_mocker", "package_mocker",
                      "session_mocker"})
_PATCH_NAMES = ("patch", "patch.object", "setattr")  # how the calls `form` knows end
_SYNC_MOCKS = frozenset({"MagicMock", "Mock"})  # their calls return values, not awaitables
_MOCK_MODULES = frozenset({"unittest.mock", "mock", *_MOCKERS})
_ASYNC_CM_KINDS = frozenset({ObjKind.SESSION, ObjKind.CONNECTION, ObjKind.TRANSACTION})
_CLASS_NAMES = {ObjKind.FACTORY: "async_sessionmaker", ObjKind.SESSION: "AsyncSession",
                ObjKind.ENGINE: "AsyncEngine", ObjKind.CONNECTION: "AsyncConnection",
                ObjKind.TRANSACTION: "async transaction"}
_COROUTINES = {ObjKind.SESSION: SESSION_COROUTINES, ObjKind.CONNECTION: CONNECTION_COROUTINES,
               ObjKind.ENGINE: ENGINE_COROUTINES, ObjKind.TRANSACTION: TRANSACTION_COROUTINES}
_STAND_IN = {
    ObjKind.FACTORY: "the code under test enters the sessions it makes with `async with` and "
                     "awaits their methods (execute, scalars, get, commit, …)",
    ObjKind.SESSION: "the code under test awaits its methods (execute, scalars, get, commit, "
                     "…) and enters it with `async with`",
    ObjKind.ENGINE: "the code under test enters `connect()`/`begin()` with `async with` and "
                    "awaits the connection's methods",
}
_ASYNC_STAND_IN = ("a stand-in must be an async context manager with async methods — a "
                   "MagicMock configured through `__aenter__`, whose awaited methods are "
                   "AsyncMocks (`fake.execute = AsyncMock(return_value=result)`)")

# A position in a chain of mock attributes: ("obj", kind, mock) an object of that kind, `mock`
# saying what its methods are: "sync" (a MagicMock's), "spec" (a MagicMock with the async
# class as spec: AsyncMocks for the coroutines), "async" (an AsyncMock's: all AsyncMocks);
# ("call", kind) something whose call gives one; ("method", kind, name) a method of such an
# object; ("cm", kind) an async context manager entering as `kind`; ("enter"/"exit", kind)
# its `__aenter__`/`__aexit__`; ("coroutine", kind, name, mock) a method the code under test
# awaits.
_State = tuple


def form(qualified: str) -> str | None:
    """What kind of patching call a callee (qualified) is: "patch", "object", "setattr"."""
    head, _, rest = qualified.partition(".")
    if qualified in _PATCH or (head in _MOCKERS and rest == "patch"):
        return "patch"
    if qualified in _PATCH_OBJECT or (head in _MOCKERS and rest == "patch.object"):
        return "object"
    if head == "monkeypatch" and rest == "setattr":
        return "setattr"
    return None


def _step(state: _State | None, segment: str) -> _State | None:
    """The position after `.segment` (`()` for a call, or `.return_value`)."""
    if state is None:
        return None
    if segment == "return_value":
        segment = "()"
    what, kind = state[0], state[1]
    if segment == "()":
        if what == "call":
            return "obj", kind, "sync"
        if what == "obj" and kind in (ObjKind.FACTORY, ObjKind.SESSION):
            # `SessionLocal()`, a scoped registry's `Scoped()`: a MagicMock's return_value
            return "obj", ObjKind.SESSION, "sync"
        if what == "method":
            return _called_method(kind, state[2])
        if what == "enter":
            return "obj", kind, "async"  # what `async with` binds: an AsyncMock's return_value
        return None
    if what == "obj":
        if segment in ("__enter__", "__aenter__") and kind in _ASYNC_CM_KINDS:
            return "enter", kind
        if segment in ("__exit__", "__aexit__") and kind in _ASYNC_CM_KINDS:
            return "exit", kind
        if kind in _COROUTINES and segment in _COROUTINES[kind] - ENGINE_CONTEXTS or (
                kind is ObjKind.SESSION and segment == "query"):
            return "coroutine", kind, segment, state[2]
        return "method", kind, segment
    if what == "cm":
        if segment in ("__enter__", "__aenter__"):
            return "enter", kind
        if segment in ("__exit__", "__aexit__"):
            return "exit", ObjKind.TRANSACTION
    return None


def _called_method(kind: ObjKind, method: str) -> _State | None:
    """What calling `method` of an object of `kind` gives, as far as mocks configure it."""
    if kind is ObjKind.FACTORY and method == "begin":
        return "cm", ObjKind.SESSION
    if kind is ObjKind.ENGINE and method in ENGINE_CONTEXTS:
        return "cm", ObjKind.CONNECTION
    if kind in (ObjKind.SESSION, ObjKind.CONNECTION) and method in STARTABLES:
        return "cm", ObjKind.TRANSACTION
    return None


def _chain(node: cst.BaseExpression) -> tuple[str, list[cst.Attribute]] | None:
    """`root.a.b.c` as its root name and its Attribute nodes, innermost first."""
    attributes: list[cst.Attribute] = []
    while isinstance(node, cst.Attribute):
        attributes.append(node)
        node = node.value
    return (node.value, attributes[::-1]) if isinstance(node, cst.Name) and attributes else None


@dataclass
class _Patch:
    """One patching call: what it replaces and with what."""

    call: cst.Call
    form: str
    name_node: cst.SimpleString  # the string naming the target (or its attribute)
    dotted: bool  # `name_node` is the whole dotted path (`"app.db.Session"`)
    owner: str  # the qualified module (or class) the name is looked up in
    attr: str
    value: cst.Arg | None  # `new=` / monkeypatch's value


@dataclass(frozen=True)
class _Chain:
    """`root.a.b.c` read or assigned in a statement."""

    root: str
    attributes: list[cst.Attribute]  # innermost first
    statement: cst.CSTNode | None
    value: cst.BaseExpression | None = None  # assigned to the chain
    binds: str | None = None  # the name the chain is assigned to (`x = m.return_value`)


@dataclass(frozen=True)
class _Tracked:
    """What a mock (or a name in the test) stands in for: its position, how the TODOs name
    it, and the module the code under test uses it in."""

    state: _State
    what: str
    module: ModuleIndex

    def at(self, state: _State) -> _Tracked:
        return _Tracked(state, self.what, self.module)


@dataclass
class _Body:
    """What a function (or the module's own statements) binds, for the mocks in it."""

    assigned: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    defs: dict[str, bool] = field(default_factory=dict)  # name -> is async def
    params: set[str] = field(default_factory=set)  # parameters of the function(s)
    chains: list[_Chain] = field(default_factory=list)
    patches: list[tuple[_Patch, list[str]]] = field(default_factory=list)  # (patch, mocks)


class _Collect(Visitor):
    """One walk over a function (or over module-level statements, functions excluded)."""

    def __init__(self, rule: MockedNames, body: _Body, functions: bool) -> None:
        super().__init__()
        self.rule, self.body, self.functions = rule, body, functions
        self.statement: cst.CSTNode | None = None
        self.patchers: dict[str, _Patch] = {}  # `p = patch(...)`: name -> patch
        self.seen: set[int] = set()  # Attribute nodes already in a recorded chain

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef):
            self.body.defs[node.name.value] = node.asynchronous is not None
            if not self.functions:
                return False  # (each function is a body of its own)
            self.body.params.update(p.name.value for p in (
                *node.params.posonly_params, *node.params.params, *node.params.kwonly_params))
            self._decorators(node)
        elif isinstance(node, cst.SimpleStatementLine):
            self.statement = node
        elif isinstance(node, cst.Assign) and len(node.targets) == 1:
            self._assign(node.targets[0].target, node.value)
        elif isinstance(node, cst.AnnAssign) and node.value is not None:
            self._assign(node.target, node.value)
        elif isinstance(node, cst.WithItem) and node.asname is not None and isinstance(
                node.asname.name, cst.Name):
            patch = self._patch_of(node.item)
            if patch is not None:
                self._mocks(patch).append(node.asname.name.value)
        elif isinstance(node, cst.Attribute) and id(node) not in self.seen:
            self._record(node)
        elif isinstance(node, cst.Call):
            patch = self.rule.patch(node)
            if patch is not None and not any(p.call is node for p, _ in self.body.patches):
                self.body.patches.append((patch, []))
        return True

    def _patch_of(self, node: cst.BaseExpression) -> _Patch | None:
        if isinstance(node, cst.Name) and node.value in self.patchers:
            return self.patchers[node.value]
        return self.rule.patch(node) if isinstance(node, cst.Call) else None

    def _mocks(self, patch: _Patch) -> list[str]:
        for known, mocks in self.body.patches:
            if known.call is patch.call:
                return mocks
        self.body.patches.append((patch, []))
        return self.body.patches[-1][1]

    def _assign(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        if isinstance(target, cst.Name):
            self.body.assigned.setdefault(target.value, []).append(value)
            call = value if isinstance(value, cst.Call) else None
            patch = self.rule.patch(call) if call else None
            if patch is not None and patch.form != "setattr":
                if self.rule.ctx.qualify(call.func).partition(".")[0] in _MOCKERS:
                    self._mocks(patch).append(target.value)  # mocker.patch returns the mock
                else:
                    self.patchers[target.value] = patch
            elif call and isinstance(call.func, cst.Attribute) and (
                    call.func.attr.value == "start"):
                started = self._patch_of(call.func.value)
                if started is not None:
                    self._mocks(started).append(target.value)
        if isinstance(target, cst.Attribute):
            self._record(target, value=value)
        elif isinstance(target, cst.Name) and isinstance(value, cst.Attribute):
            self._record(value, binds=target.value)

    def _record(self, node: cst.Attribute, value: cst.BaseExpression | None = None,
                binds: str | None = None) -> None:
        found = _chain(node)
        if found is not None:
            self.seen.update(id(a) for a in found[1])
            self.body.chains.append(_Chain(found[0], found[1], self.statement, value, binds))

    def _decorators(self, node: cst.FunctionDef) -> None:
        """`@patch(...)` hands its mock to the function: the one nearest the def first."""
        params = [p.name.value for p in node.params.params]
        if params[:1] in (["self"], ["cls"]):
            params = params[1:]
        position = 0
        for decorator in reversed(node.decorators):
            patch = self.rule.patch(decorator.decorator) if isinstance(
                decorator.decorator, cst.Call) else None
            if patch is None:
                continue
            mocks = self._mocks(patch)
            if patch.value is None and patch.form != "setattr":
                if position < len(params):
                    mocks.append(params[position])
                position += 1

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, cst.SimpleStatementLine):
            self.statement = None


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
            from unittest.mock import MagicMock, patch, AsyncMock

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
            from unittest.mock import patch


            def test_nothing_renamed():
                with patch("os.getcwd", return_value="/"):
                    pass
        """),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        # node id -> (the new node, or what makes it from the node as updated; why)
        self.replace: dict[int, tuple[cst.BaseExpression | Callable, str]] = {}
        self.todos: dict[int, list[str]] = {}  # node id (a call, a statement) -> messages
        self.depth = 0  # functions around the current node
        self.module_defs: dict[str, bool] = {}  # the module's functions: name -> async def
        self.own: set[str] | None = None

    @classmethod
    def scopes(cls, ix: ModuleIndex, plan: Plan) -> set[str]:
        if not (plan.state.renamed or plan.async_functions):
            return set()

        def patches(callee: str) -> bool:
            return callee.endswith(_PATCH_NAMES) and form(plan.qualify(ix, callee)) is not None

        found = {site.scope for site in ix.calls if patches(site.callee)}
        return found | {q for q, f in ix.functions.items() if any(map(patches, f.decorators))}

    # -- recognising a patch ----------------------------------------------------------------
    def patch(self, call: cst.BaseExpression) -> _Patch | None:
        if not isinstance(call, cst.Call):
            return None
        qualified = self.ctx.qualify(call.func)
        kind = form(qualified) if qualified else None
        if kind is None:
            return None
        positional = [a for a in call.args if a.keyword is None and a.star == ""]
        keyword = {a.keyword.value: a for a in call.args if a.keyword is not None}
        first = positional[0].value if positional else None
        if kind == "patch" or (kind == "setattr" and isinstance(first, cst.SimpleString)):
            text = first.evaluated_value if isinstance(first, cst.SimpleString) else None
            if not isinstance(text, str) or "." not in text:
                return None
            owner, _, attr = text.rpartition(".")
            value = positional[1] if len(positional) > 1 else keyword.get(
                "new" if kind == "patch" else "value")
            return _Patch(call, kind, first, True, owner, attr, value)
        name = positional[1].value if len(positional) > 1 else None
        text = name.evaluated_value if isinstance(name, cst.SimpleString) else None
        owner = self.ctx.qualify(first) if first is not None else None
        if not isinstance(text, str) or owner is None:
            return None
        value = positional[2] if len(positional) > 2 else keyword.get(
            "new" if kind == "object" else "value")
        return _Patch(call, kind, name, False, owner, text, value)

    def _resolve(self, patch: _Patch) -> tuple[str, str] | None:
        """(project module, name in it: `Name` or `Class.attr`) the patch replaces."""
        modules = self.ctx.plan.modules
        if patch.owner in modules:
            return patch.owner, patch.attr
        parts = patch.owner.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:cut])
            if module in modules:
                owner = ".".join(parts[cut:])
                if owner in modules[module].classes:
                    return module, f"{owner}.{patch.attr}"
                return None
        return None

    # -- traversal --------------------------------------------------------------------------
    def visit_Module(self, node: cst.Module) -> None:
        body = _Body()
        _Collect(self, body, functions=False).walk(node)
        self.module_defs = body.defs
        self._decide(body)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self.depth += 1
        if self.own is None:  # the scopes holding patches (others are entered for other rules)
            self.own = self.scopes(self.ctx.ix, self.ctx.plan)
        scope = self.ctx.scope
        if self.depth == 1 and any(s == scope or s.startswith(f"{scope}.") for s in self.own):
            body = _Body()
            _Collect(self, body, functions=True).walk(node)
            self._decide(body)

    def leave_FunctionDef(self, original: cst.FunctionDef, updated: cst.FunctionDef
                          ) -> cst.FunctionDef:
        self.depth -= 1
        return updated

    def visit_Call(self, node: cst.Call) -> None:
        self._report(node)

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> None:
        self._report(node)

    def _report(self, node: cst.CSTNode) -> None:
        for message in self.todos.pop(id(node), ()):
            self.ctx.todo(self.code, message, node)

    def _replaced(self, original: cst.CSTNode, updated: cst.CSTNode) -> cst.CSTNode:
        found = self.replace.pop(id(original), None)
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

    # -- decisions --------------------------------------------------------------------------
    def _todo(self, node: cst.CSTNode, message: str) -> None:
        self.todos.setdefault(id(node), []).append(message)

    def _decide(self, body: _Body) -> None:
        tracked: dict[str, _Tracked] = {}  # name -> what it stands in for
        for patch, mocks in body.patches:
            start = self._target(patch, body)
            if start is None:
                continue
            for mock in mocks:
                tracked[mock] = start
            self._stand_ins(patch, start, body, tracked)
        if tracked:
            self._chains(body, tracked)

    def _target(self, patch: _Patch, body: _Body) -> _Tracked | None:
        """Retarget a renamed name; the position of what the patch stands in for, if it
        became async (None: nothing to follow)."""
        plan = self.ctx.plan
        resolved = self._resolve(patch)
        if resolved is None:
            self._library_name(patch)
            return None
        module, name = resolved
        ix = plan.modules[module]
        new = plan.renamed_in(module).get(name)
        if new is not None:
            self._retarget(patch, new, f"`{module}.{name}` is now `{module}.{new}`")
            kind = plan.call_result_kind(ix, "", name)
            return _Tracked(("call", kind), f"`{module}.{new}`, formerly `{name}`", ix) if (
                kind) else None
        found = plan.lookup(f"{module}.{name}")  # (where an imported function is defined)
        ref = (found[0].module, found[1]) if found else (module, name)
        if ref in plan.async_functions and not plan.sync_boundary(ref):
            self._function(patch, module, name, body)
            return None
        if "." in name or not self._migrated(module, name):
            return None
        kind = plan.kind(ix, "", name)
        if kind in _STAND_IN:
            return _Tracked(("obj", kind, "sync"), f"`{module}.{name}`", ix)
        return None

    def _migrated(self, module: str, name: str) -> bool:
        """The module defining `module.name` is rewritten for the async target."""
        plan = self.ctx.plan
        found = plan.lookup(f"{module}.{name}")
        defining = found[0] if found else plan.modules[module]
        return self.ctx.async_target and defining.module not in plan.context and (
            not defining.runs_under_alembic)

    def _retarget(self, patch: _Patch, new: str, why: str) -> None:
        node = patch.name_node
        if node.prefix not in ("", "u"):
            self._todo(patch.call, f"{why}: patch that name")
            return
        text = f"{patch.owner}.{new}" if patch.dotted else new
        self.replace[id(node)] = (node.with_changes(
            value=f"{node.prefix}{node.quote}{text}{node.quote}"),
            f"{why}: the mock patches the new name")

    def _library_name(self, patch: _Patch) -> None:
        """`patch("sqlalchemy.orm.Session")` where the project's code moved to another name."""
        plan = self.ctx.plan
        qualified = f"{patch.owner}.{patch.attr}"
        renames = {q: t for rule in RenameReferences.__subclasses__()
                   for q, t in rule.renames.items()}
        target = renames.get(qualified)
        if target is None or not any(
                plan.qualify(plan.modules[m], old) == qualified
                for m, old, _ in plan.state.renamed if m in plan.modules):
            return
        self._todo(patch.call, f"the migrated code no longer uses `{qualified}` but "
                               f"`{'.'.join(target)}`: patch that name where the code under "
                               "test looks it up (the module using it)")

    # -- functions that became async --------------------------------------------------------
    def _function(self, patch: _Patch, module: str, name: str, body: _Body) -> None:
        what = f"`{module}.{name}` is now async def: the code under test awaits what it returns"
        method = "." in name
        value = patch.value.value if patch.value is not None else None
        if value is None:
            new_callable = next((a.value for a in patch.call.args if a.keyword is not None
                                 and a.keyword.value == "new_callable"), None)
            if new_callable is not None and self._mock_class(new_callable) in _SYNC_MOCKS:
                self._async_mock(new_callable, what)
            return  # patch() makes an AsyncMock for an async def
        if isinstance(value, cst.Call):
            mock = self._mock_class(value.func)
            if mock in _SYNC_MOCKS:
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
                mock = self._mock_class(bound[0].func)
                if mock in _SYNC_MOCKS:
                    self._async_mock(bound[0].func, what)
                    return
                if mock == "AsyncMock":
                    return
        if isinstance(value, cst.Lambda):
            self._wrap(patch, value, what, method)
            return
        self._todo(patch.call, f"{what}; `{self._text(value)}` must be awaitable: an async "
                               "def, or AsyncMock(side_effect=...) around it")

    def _wrap(self, patch: _Patch, value: cst.BaseExpression, what: str, method: bool) -> None:
        """A lambda or sync function given for an async one: `AsyncMock(side_effect=f)`."""
        if method:
            self._todo(patch.call, f"{what}; make `{self._text(value)}` an async def taking "
                                   "self (an AsyncMock on the class would not receive self)")
            return
        self.replace[id(value)] = (lambda updated: call(cst.Name(self.ctx.import_name(
            "unittest.mock", "AsyncMock")), [keyword("side_effect", updated)]),
            f"{what}: the stand-in runs as AsyncMock(side_effect=...)")

    def _mock_class(self, func: cst.BaseExpression) -> str | None:
        """"MagicMock", "Mock", "AsyncMock" for unittest.mock's (or pytest-mock's) classes."""
        qualified = self.ctx.qualify(func) or ""
        module, _, name = qualified.rpartition(".")
        return name if module in _MOCK_MODULES else None

    def _async_mock(self, func: cst.BaseExpression, what: str) -> None:
        module = (self.ctx.qualify(func) or "unittest.mock").rpartition(".")[0]
        self.replace[id(func)] = (
            lambda updated: updated.with_changes(attr=cst.Name("AsyncMock")) if isinstance(
                updated, cst.Attribute) else cst.Name(self.ctx.import_name(module, "AsyncMock")),
            f"{what}: its stand-in becomes an AsyncMock")

    @staticmethod
    def _text(node: cst.CSTNode) -> str:
        return cst.Module(body=()).code_for_node(node)

    # -- objects that became async ----------------------------------------------------------
    def _stand_ins(self, patch: _Patch, start: _Tracked, body: _Body,
                   tracked: dict[str, _Tracked]) -> None:
        """What the patch puts in place (`new=`, `return_value=`, monkeypatch's value)."""
        state = start.state
        keyword = {a.keyword.value: a.value for a in patch.call.args if a.keyword is not None}
        given = [(patch.value.value, state)] if patch.value is not None else []
        if "return_value" in keyword:
            given.append((keyword["return_value"], _step(state, "()")))
        if "side_effect" in keyword:
            value = keyword["side_effect"]
            given.append((value.body, _step(state, "()")) if isinstance(value, cst.Lambda)
                         else (value, None))
        for value, position in given:
            if isinstance(value, cst.Lambda) and position is not None:
                value, position = value.body, _step(position, "()")
            if isinstance(value, cst.Name) and position is not None and (
                    self._mock_binding(value.value, body)):
                self._track(value.value, start.at(position), body, tracked)
            elif not (isinstance(value, cst.Call) and self._mock_class(value.func)
                      and not value.args):
                self._todo(patch.call, self._changed(start.what, state))

    def _mock_binding(self, name: str, body: _Body) -> cst.Call | None:
        """The `MagicMock(...)`/`Mock(...)` call `name` is bound to (once) in the function."""
        bound = body.assigned.get(name, [])
        call = bound[0] if len(bound) == 1 else None
        return call if isinstance(call, cst.Call) and (
            self._mock_class(call.func) in _SYNC_MOCKS) else None

    def _track(self, name: str, found: _Tracked, body: _Body,
               tracked: dict[str, _Tracked]) -> None:
        """`name` (a MagicMock) stands in for an object of the state's kind: it gets the spec
        of the async class, which makes its coroutine methods AsyncMocks."""
        mock = self._mock_binding(name, body)
        state, what = found.state, found.what
        if state[0] != "obj" or mock is None or name in tracked:
            return
        spec = self._async_class(state[1], found.module)
        if spec is None or any(a.keyword is None or a.keyword.value in ("spec", "spec_set")
                               for a in mock.args):
            tracked[name] = found.at(("obj", state[1], "sync"))  # (its own spec, or none)
            return
        self.replace[id(mock)] = (
            lambda updated: with_keyword_default(updated, "spec", self.ctx.import_name(*spec))
            or updated,
            f"`{name}` stands in for an {_CLASS_NAMES[state[1]]} (through {what}): "
            f"spec={spec[1]} makes the methods the code under test awaits AsyncMocks")
        tracked[name] = found.at(("obj", state[1], "spec"))

    @staticmethod
    def _async_class(kind: ObjKind, module: ModuleIndex) -> tuple[str, str] | None:
        """The async class a stand-in of `kind` takes as its spec (for a session, SQLModel's
        where the module using it imports sqlmodel)."""
        if kind is ObjKind.SESSION:
            if any(q.partition(".")[0] == "sqlmodel" for q in module.imports.values()):
                return "sqlmodel.ext.asyncio.session", "AsyncSession"
            return "sqlalchemy.ext.asyncio", "AsyncSession"
        if kind in (ObjKind.ENGINE, ObjKind.CONNECTION):
            return "sqlalchemy.ext.asyncio", _CLASS_NAMES[kind]
        return None

    @staticmethod
    def _changed(what: str, state: _State) -> str:
        kind = state[1]
        is_now = "now makes" if state[0] == "call" else "is now"
        return f"{what} {is_now} an {_CLASS_NAMES[kind]}: {_STAND_IN[kind]}; {_ASYNC_STAND_IN}"

    def _chains(self, body: _Body, tracked: dict[str, _Tracked]) -> None:
        """Configuration of the tracked mocks: `m.return_value.__enter__.return_value = x`."""
        done: set[int] = set()
        changed = True
        while changed:
            changed = False
            for chain in body.chains:
                root, attributes, statement = chain.root, chain.attributes, chain.statement
                if root not in tracked or id(attributes[-1]) in done:
                    continue
                done.add(id(attributes[-1]))
                state, what = tracked[root].state, tracked[root].what
                for i, attribute in enumerate(attributes):
                    segment = attribute.attr.value
                    if state[0] == "coroutine" and segment in ("return_value", "side_effect"):
                        if statement is not None and (state[3] == "sync" or state[2] == "query"
                                                      or i + 1 < len(attributes)):
                            self._todo(statement, self._configured(state, root, what))
                        state = None
                        break
                    if state[:3] == ("obj", ObjKind.SESSION, "async") and (
                            segment in SESSION_SYNC_METHODS) and statement is not None:
                        self._todo(statement, self._unawaited(segment, what))
                    state = _step(state, segment)
                    if state is None:
                        break
                    if state[0] in ("enter", "exit") and segment in ("__enter__", "__exit__"):
                        new = f"__a{segment[2:]}"
                        self.replace[id(attribute)] = (attribute.with_changes(
                            attr=cst.Name(new)), f"{what}: the code under test now uses "
                                                 f"`async with`: {segment} → {new}")
                if state is None:
                    continue
                if chain.binds and chain.binds not in tracked and state[0] == "obj":
                    tracked[chain.binds] = tracked[root].at(state)  # a child of the mock
                    changed = True
                value = chain.value
                if isinstance(value, cst.Name) and value.value not in tracked:
                    self._track(value.value, tracked[root].at(state), body, tracked)
                    changed = changed or value.value in tracked

    @staticmethod
    def _unawaited(method: str, what: str) -> str:
        return (f"the session `async with` gives for {what} is an AsyncMock here: the code "
                f"under test calls its {method}() without await, so the call returns a "
                "coroutine that is never awaited (a RuntimeWarning, an error where warnings "
                "are errors); set `….__aenter__.return_value = MagicMock(spec=AsyncSession)` "
                "and check that mock")

    @staticmethod
    def _configured(state: _State, root: str, what: str) -> str:
        kind, method, awaitable = state[1], state[2], state[3] != "sync"
        cls = _CLASS_NAMES[kind]
        if method == "query":
            return (f"`{root}` stands in for an AsyncSession (through {what}), which has no "
                    "query(): the migrated code runs select() through `await "
                    "session.scalars(...)` / `await session.execute(...)`; configure those")
        if not awaitable:
            return (f"`{root}` stands in for an {cls} (through {what}), whose {method}() the "
                    f"migrated code awaits: a MagicMock's methods cannot be awaited; make "
                    f"`{method}` an AsyncMock (`….{method} = AsyncMock(return_value=...)`), or "
                    f"give the stand-in spec={cls}")
        return (f"`{root}` stands in for an {cls} (through {what}), whose {method}() the "
                f"migrated code awaits: its return_value is what `await` gives, and is an "
                f"AsyncMock whose methods return coroutines; set it to a MagicMock "
                f"(`….{method}.return_value = MagicMock()`) before configuring its methods")
