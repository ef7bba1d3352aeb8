"""Following the mocks of a test module through what configures them (for SQA308).

A patch says what its mock stands in for (`MockTracker` asks the rule through `target`); the
tracker follows the mock from there: to the names it is bound to, through the chains that
configure it (`m.return_value.__enter__.return_value = fake`: `__enter__` becomes
`__aenter__`, `fake` gets spec=AsyncSession), into the helper functions of the module a test
hands it to (`_configure(m)`, `self._configure(m)`), from the fixtures (of the module or of
a conftest.py above it) that hand it out to the tests taking them, from a class's `@patch`
decorators into each test method, and from `setUp` keeping it on `self` into the class's
other methods. It records its edits and TODOs in `Edits`, which the rule applies while it
walks the tree. Which scopes the audit enters for this is `analysis/mock_scopes.py`'s
answer, from the index.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import libcst as cst

from ..analysis import ObjKind
from ..analysis.mock_positions import CLASS_NAMES, Position, changed, configured, step, unawaited
from ..analysis.mock_scopes import MOCK_MODULES, SET_UPS, TEST_PREFIX
from ..api_surface import SESSION_SYNC_METHODS
from ..index import ModuleIndex
from .build import with_keyword_default
from .mocks import (
    Body,
    Collect,
    Patch,
    Qualify,
    class_patches,
    functions,
    root_name,
)

# a helper's parameter given a name of its caller: (that name, the caller's body, its mocks)
_Link = tuple["str", Body, "dict[str, Tracked]"]
SYNC_MOCKS = frozenset({"MagicMock", "Mock"})  # their calls return values, not awaitables
_FIXTURES = frozenset({"pytest.fixture", "pytest_asyncio.fixture"})


@dataclass(frozen=True)
class Tracked:
    """What a mock (or a name in the test) stands in for: its position, how the TODOs name
    it, and the module the code under test uses it in."""

    position: Position
    what: str
    module: ModuleIndex

    def at(self, position: Position) -> Tracked:
        return Tracked(position, self.what, self.module)


@dataclass
class Edits:
    """The edits decided before the walk: node id -> (the new node, or what makes it from
    the node as updated; why), and node id (a call, a statement) -> TODO messages."""

    replace: dict[int, tuple[cst.BaseExpression | Callable, str]] = field(default_factory=dict)
    todos: dict[int, list[str]] = field(default_factory=dict)

    def todo(self, node: cst.CSTNode, message: str) -> None:
        messages = self.todos.setdefault(id(node), [])
        if message not in messages:  # (a helper reached from two tests)
            messages.append(message)


def mock_class(qualify: Qualify, func: cst.BaseExpression) -> str | None:
    """"MagicMock", "Mock", "AsyncMock" for unittest.mock's (or pytest-mock's) classes."""
    module, _, name = (qualify(func) or "").rpartition(".")
    return name if module in MOCK_MODULES else None


class MockTracker:
    """Decides, for one module, what the mocks its patches make need (see the module doc).

    `target(patch, body)` (the rule's) retargets or checks the patch and says what its mock
    stands in for (None: nothing to follow)."""

    def __init__(self, ctx, edits: Edits, target: Callable[[Patch, Body], Tracked | None]
                 ) -> None:
        self.ctx, self.edits, self.target = ctx, edits, target
        self.decided: dict[tuple[int, str], Tracked | None] = {}  # patch key -> its start
        self.bodies: dict[int, Body] = {}  # FunctionDef id -> what it binds
        self.functions_of: dict[int, cst.FunctionDef] = {}  # Body id -> its function
        # (function, parameter, position, caller's body): a helper followed from a caller
        self.followed: set[tuple[int, str, Position, int]] = set()
        self.module_functions: dict[str, cst.FunctionDef] = {}
        self.methods: dict[int, dict[str, cst.FunctionDef]] = {}  # class id -> its methods
        self.owners: dict[int, cst.ClassDef | None] = {}  # FunctionDef id -> its class
        self.fixtures: dict[str, Tracked] = {}  # fixture name -> the mock it hands out
        self.instance: dict[int, dict[str, Tracked]] = {}  # class id -> `self.m` of setUp
        self.set_ups: dict[int, Body] = {}  # class id -> its setUp

    def run(self, module: cst.Module, module_body: Body, own: set[str],
            fixtures: dict[str, Tracked]) -> None:
        """Decide the module's own statements, then the functions `own` names (where patches
        are, and the functions their mocks may reach: see `handed_to`), fixtures first.
        `fixtures`: the mocks conftest.py's fixtures hand out, by fixture name."""
        self.decide(module_body)
        listed = functions(module)
        shadowed = {node.name.value for _, node, owner in listed
                    if owner is None and self._fixture_name(node)}
        self.fixtures = {k: v for k, v in fixtures.items() if k not in shadowed}
        for qualname, node, owner in listed:
            self.owners[id(node)] = owner
            if owner is None and "." not in qualname:
                self.module_functions[node.name.value] = node
            elif owner is not None:
                self.methods.setdefault(id(owner), {})[node.name.value] = node
        holding = [(q, n) for q, n, _ in listed if any(
            s == q or s.startswith(f"{q}.") for s in own)]
        holding.sort(key=lambda item: (not self._fixture_name(item[1]),
                                       item[1].name.value not in SET_UPS))
        for _, node in holding:
            owner = self.owners.get(id(node))
            given = {p: self.fixtures[p] for p in self._params(node) if p in self.fixtures}
            if owner is not None and node.name.value not in SET_UPS:
                given.update(self.instance.get(id(owner), {}))  # what setUp keeps on self
            tracked = self._function(node, given)
            if owner is not None and node.name.value in SET_UPS:
                self.instance.setdefault(id(owner), {}).update(
                    (k, v) for k, v in tracked.items() if k.startswith("self."))
                self.set_ups[id(owner)] = self._body(node)

    def _function(self, node: cst.FunctionDef, given: dict[str, Tracked]
                  ) -> dict[str, Tracked]:
        tracked = self.decide(self._body(node), dict(given))
        name = self._fixture_name(node)
        if name is not None:
            for handed in self._body(node).hands_out:
                if handed in tracked:
                    self.fixtures[name] = tracked[handed]
        return tracked

    def _body(self, node: cst.FunctionDef) -> Body:
        body = self.bodies.get(id(node))
        if body is None:
            owner = self.owners.get(id(node))
            inherited = class_patches(owner, self.ctx.qualify) if owner is not None and (
                node.name.value.startswith(TEST_PREFIX)) else ()
            body = self.bodies[id(node)] = Body()
            self.functions_of[id(body)] = node
            Collect(self.ctx.qualify, body, functions=True, inherited=inherited).walk(node)
        return body

    @staticmethod
    def _params(node: cst.FunctionDef) -> list[str]:
        return [p.name.value for p in (*node.params.posonly_params, *node.params.params,
                                       *node.params.kwonly_params)]

    def _fixture_name(self, node: cst.FunctionDef) -> str | None:
        """The name tests ask for the fixture by, or None: not a fixture."""
        return node.name.value if any(self.ctx.qualify(
            d.decorator.func if isinstance(d.decorator, cst.Call) else d.decorator) in _FIXTURES
            for d in node.decorators) else None

    # -- one body ---------------------------------------------------------------------------
    def decide(self, body: Body, tracked: dict[str, Tracked] | None = None,
               links: dict[str, _Link] | None = None) -> dict[str, Tracked]:
        """Follow the mocks of `body` (and `tracked`, what it is given); the names tracked.
        `links`: the helper's parameters given a name of its caller, which a tracked mock
        may be configured to hand out (`m.return_value.__enter__.return_value = session`)."""
        tracked = tracked if tracked is not None else {}
        for patch, mocks in body.patches:
            owned = patch.key not in self.decided
            if owned:  # a class decorator's patch is decided once, with the module
                self.decided[patch.key] = self.target(patch, body)
            start = self.decided[patch.key]
            if start is None:
                continue
            for mock in mocks:
                tracked[mock] = start
            if owned:
                self._stand_ins(patch, start, body, tracked)
        size = 0
        while len(tracked) > size:  # (a helper may have tracked a name of this body)
            size = len(tracked)
            self._chains(body, tracked, links or {})
            self._helpers(body, tracked)
        return tracked

    def _stand_ins(self, patch: Patch, start: Tracked, body: Body,
                   tracked: dict[str, Tracked]) -> None:
        """What the patch puts in place (`new=`, `return_value=`, monkeypatch's value)."""
        position = start.position
        keyword = {a.keyword.value: a.value for a in patch.call.args if a.keyword is not None}
        given = [(patch.value.value, position)] if patch.value is not None else []
        if patch.form != "multiple":
            if "return_value" in keyword:
                given.append((keyword["return_value"], step(position, "()")))
            if "side_effect" in keyword:
                value = keyword["side_effect"]
                given.append((value.body, step(position, "()")) if isinstance(
                    value, cst.Lambda) else (value, None))
        for value, at in given:
            if isinstance(value, cst.Lambda) and at is not None:
                value, at = value.body, step(at, "()")
            if isinstance(value, cst.Name) and at is not None and (
                    self.mock_binding(value.value, body)):
                self._track(value.value, start.at(at), body, tracked)
            elif not (isinstance(value, cst.Call) and mock_class(self.ctx.qualify, value.func)
                      and not value.args):
                self.edits.todo(patch.call, changed(start.what, position))

    def mock_binding(self, name: str, body: Body) -> cst.Call | None:
        """The `MagicMock(...)`/`Mock(...)` call `name` is bound to (once) in the function."""
        bound = body.assigned.get(name, [])
        call = bound[0] if len(bound) == 1 else None
        return call if isinstance(call, cst.Call) and (
            mock_class(self.ctx.qualify, call.func) in SYNC_MOCKS) else None

    def _track(self, name: str, found: Tracked, body: Body,
               tracked: dict[str, Tracked]) -> None:
        """`name` (a MagicMock) stands in for an object of the position's kind: it gets the
        spec of the async class, which makes its coroutine methods AsyncMocks."""
        mock = self.mock_binding(name, body)
        if found.position[0] != "obj" or mock is None or name in tracked:
            return
        tracked[name] = found.at(self._spec(mock, found, f"`{name}`"))

    def _spec(self, mock: cst.Call, found: Tracked, label: str) -> Position:
        """Give `mock` (a `MagicMock(...)` standing in for an object of the position's kind)
        the async class as its spec; the position of the mock then."""
        kind, what = found.position[1], found.what
        spec = _async_class(kind, found.module)
        if spec is None or any(a.keyword is None or a.keyword.value in ("spec", "spec_set")
                               for a in mock.args):
            return "obj", kind, "sync"  # (its own spec, or none)
        self.edits.replace[id(mock)] = (
            lambda updated: with_keyword_default(updated, "spec", self.ctx.import_name(*spec))
            or updated,
            f"{label} stands in for an {CLASS_NAMES[kind]} (through {what}): "
            f"spec={spec[1]} makes the methods the code under test awaits AsyncMocks")
        return "obj", kind, "spec"

    def _chains(self, body: Body, tracked: dict[str, Tracked], links: dict[str, _Link]
                ) -> None:
        """Configuration of the tracked mocks: `m.return_value.__enter__.return_value = x`."""
        done: set[int] = set()
        changed_ = True
        while changed_:
            changed_ = False
            for name, root in body.aliases:  # `factory = mocks["SessionLocal"]`, `b = a`
                if root in tracked and name not in tracked:
                    tracked[name] = tracked[root]
                    changed_ = True
            for chain in body.chains:
                if chain.root not in tracked or id(chain.attributes[-1]) in done:
                    continue
                done.add(id(chain.attributes[-1]))
                position = self._follow(chain.root, chain.attributes, chain.statement,
                                        tracked[chain.root])
                if position is None:
                    continue
                if chain.binds and chain.binds not in tracked and position[0] == "obj":
                    tracked[chain.binds] = tracked[chain.root].at(position)  # a child of it
                    changed_ = True
                value = chain.value
                if position[0] == "obj" and isinstance(value, cst.Call) and (
                        mock_class(self.ctx.qualify, value.func) in SYNC_MOCKS):
                    self._spec(value, tracked[chain.root].at(position), "the MagicMock")
                given = root_name(value) if isinstance(value, (cst.Name, cst.Attribute)) else None
                if given is not None and given not in tracked:
                    found = tracked[chain.root].at(position)
                    if given in links:  # the caller's mock, given to the helper
                        name, caller, caller_tracked = links[given]
                        self._track(name, found, caller, caller_tracked)
                        if name in caller_tracked:
                            tracked[given] = caller_tracked[name]
                    else:  # (`self.session`: made in setUp, maybe)
                        self._track(given, found, body if given in body.assigned else (
                            self._set_up(body) or body), tracked)
                    changed_ = changed_ or given in tracked

    def _follow(self, root: str, attributes: list[cst.Attribute],
                statement: cst.CSTNode | None, found: Tracked) -> Position | None:
        """The position at the end of `root.a.b.c`, deciding the edits on the way."""
        position, what = found.position, found.what
        for i, attribute in enumerate(attributes):
            segment = attribute.attr.value
            if position[0] == "coroutine" and segment in ("return_value", "side_effect"):
                if statement is not None and (position[3] == "sync" or position[2] == "query"
                                              or i + 1 < len(attributes)):
                    self.edits.todo(statement, configured(position, root, what))
                return None
            if position[:3] == ("obj", ObjKind.SESSION, "async") and (
                    segment in SESSION_SYNC_METHODS) and statement is not None:
                self.edits.todo(statement, unawaited(segment, what))
            position = step(position, segment)
            if position is None:
                return None
            if position[0] in ("enter", "exit") and segment in ("__enter__", "__exit__"):
                new = f"__a{segment[2:]}"
                self.edits.replace[id(attribute)] = (attribute.with_changes(
                    attr=cst.Name(new)), f"{what}: the code under test now uses "
                                         f"`async with`: {segment} → {new}")
        return position

    # -- helpers the mocks are handed to ----------------------------------------------------
    def _helpers(self, body: Body, tracked: dict[str, Tracked]) -> None:
        """`_configure(m)` / `self._configure(m)` of a function of the module (or a method of
        the class) given a tracked mock: follow it in there as the parameter it binds."""
        for call in body.calls:
            function = self._callee(call, body)
            if function is None:
                continue
            params = [p.name.value for p in (*function.params.posonly_params,
                                             *function.params.params)]
            if isinstance(call.func, cst.Attribute) and params[:1] in (["self"], ["cls"]):
                params = params[1:]
            if any(a.star for a in call.args):
                continue
            positional = [a for a in call.args if a.keyword is None]
            bound = {params[i]: a.value for i, a in enumerate(positional) if i < len(params)}
            bound.update((a.keyword.value, a.value) for a in call.args if a.keyword is not None
                         and a.keyword.value in self._params(function))
            roots = {param: root for param, value in bound.items()
                     if (root := root_name(value)) is not None}
            fresh = {p: tracked[r] for p, r in roots.items() if r in tracked
                     and (id(function), p, tracked[r].position, id(body)) not in self.followed}
            if fresh:  # (once for each caller: its names are linked)
                self.followed.update((id(function), p, t.position, id(body))
                                     for p, t in fresh.items())
                links = {p: (r, body, tracked) for p, r in roots.items() if r not in tracked}
                self.decide(self._body(function), fresh, links)

    def _set_up(self, body: Body) -> Body | None:
        """The setUp of the class whose method `body` is."""
        owner = self.owners.get(id(self.functions_of.get(id(body))))
        return self.set_ups.get(id(owner)) if owner is not None else None

    def _callee(self, call: cst.Call, body: Body) -> cst.FunctionDef | None:
        """The module's function, or the method of the class of `body`, `call` calls."""
        if isinstance(call.func, cst.Name):
            if call.func.value in body.assigned or call.func.value in body.params:
                return None  # (a local name)
            return self.module_functions.get(call.func.value)
        caller = self.functions_of.get(id(body))
        owner = self.owners.get(id(caller)) if caller is not None else None
        return self.methods.get(id(owner), {}).get(call.func.attr.value) if owner else None


def _async_class(kind: ObjKind, module: ModuleIndex) -> tuple[str, str] | None:
    """The async class a stand-in of `kind` takes as its spec (for a session, SQLModel's
    where the module using it imports sqlmodel)."""
    if kind is ObjKind.SESSION:
        if any(q.partition(".")[0] == "sqlmodel" for q in module.imports.values()):
            return "sqlmodel.ext.asyncio.session", "AsyncSession"
        return "sqlalchemy.ext.asyncio", "AsyncSession"
    if kind in (ObjKind.ENGINE, ObjKind.CONNECTION):
        return "sqlalchemy.ext.asyncio", CLASS_NAMES[kind]
    return None

