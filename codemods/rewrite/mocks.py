"""Patching calls in tests, and what a function does with the mocks they make (for SQA308).

`patches()` recognises a patching call — `patch()`, `patch.object()`, `patch.multiple()`,
pytest-mock's `mocker.patch...` and `monkeypatch.setattr()` — as one `Patch` per name it
replaces. `Collect` walks a function (or a module's own statements) once and records in a
`Body` what the rule needs to follow the mocks: the names each patch's mock is bound to
(`with patch(...) as m`, `m = mocker.patch(...)`, `p.start()`, a decorator's parameter, also
a class decorator's on each test method), assignments, attribute chains read or assigned
(`m.return_value.__enter__.return_value = fake`), calls that hand names on, and the names a
fixture hands out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import libcst as cst

from ..analysis.mock_scopes import MOCKERS, form, is_default
from .traversal import Visitor

Qualify = Callable[[cst.BaseExpression], "str | None"]


@dataclass
class Patch:
    """One name a patching call replaces, and with what."""

    call: cst.Call
    form: str
    name_node: cst.SimpleString | cst.Name  # what names the target (patch.multiple: a keyword)
    dotted: bool  # `name_node` is the whole dotted path (`"app.db.Session"`)
    owner: str  # the qualified module (or class) the name is looked up in
    attr: str
    value: cst.Arg | None  # `new=` / monkeypatch's value / patch.multiple's non-DEFAULT value

    @property
    def key(self) -> tuple[int, str]:
        return id(self.call), self.attr

    def bound(self, name: str) -> str:
        """How the mock is reached from `name`, what the call (or its `start()`, or its
        `with`) gives: patch.multiple gives a dict of the mocks by attribute name."""
        return subscript_key(name, self.attr) if self.form == "multiple" else name


def subscript_key(name: str, key: str) -> str:
    """The name the rule tracks `name["key"]` by."""
    return f"{name}[{key!r}]"


def patches(call: cst.BaseExpression, qualify: Qualify) -> list[Patch]:
    """The names a patching call replaces (none: not a patching call the rule follows)."""
    if not isinstance(call, cst.Call):
        return []
    qualified = qualify(call.func)
    kind = form(qualified) if qualified else None
    if kind is None:
        return []
    positional = [a for a in call.args if a.keyword is None and a.star == ""]
    keyword = {a.keyword.value: a for a in call.args if a.keyword is not None}
    first = positional[0].value if positional else None
    if kind == "multiple":
        owner = first.evaluated_value if isinstance(first, cst.SimpleString) else (
            qualify(first) if first is not None else None)
        if not isinstance(owner, str):
            return []
        return [Patch(call, kind, arg.keyword, False, owner, name,
                      None if is_default(qualify(arg.value)) else arg)
                for name, arg in keyword.items()
                if name not in ("spec", "spec_set", "create", "new_callable", "autospec")]
    if kind == "patch" or (kind == "setattr" and isinstance(first, cst.SimpleString)):
        text = first.evaluated_value if isinstance(first, cst.SimpleString) else None
        if not isinstance(text, str) or "." not in text:
            return []
        owner, _, attr = text.rpartition(".")
        value = positional[1] if len(positional) > 1 else keyword.get(
            "new" if kind == "patch" else "value")
        return [Patch(call, kind, first, True, owner, attr, value)]
    name = positional[1].value if len(positional) > 1 else None
    text = name.evaluated_value if isinstance(name, cst.SimpleString) else None
    owner = qualify(first) if first is not None else None
    if not isinstance(text, str) or owner is None:
        return []
    value = positional[2] if len(positional) > 2 else keyword.get(
        "new" if kind == "object" else "value")
    return [Patch(call, kind, name, False, owner, text, value)]


def chain(node: cst.BaseExpression) -> tuple[str, list[cst.Attribute]] | None:
    """`root.a.b.c` as its root (a name, or `name["key"]`) and its Attribute nodes,
    innermost first."""
    attributes: list[cst.Attribute] = []
    while isinstance(node, cst.Attribute):
        attributes.append(node)
        node = node.value
    root, attributes = root_name(node), attributes[::-1]
    if root == "self" and attributes:  # `self.factory.return_value`: the root is an attribute
        root, attributes = f"self.{attributes[0].attr.value}", attributes[1:]
    return (root, attributes) if root is not None and attributes else None


def root_name(node: cst.BaseExpression) -> str | None:
    """`name`, `self.name` (a mock kept on the test case), or `name["key"]` (a dict of
    mocks) as `subscript_key` spells it."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute) and isinstance(node.value, cst.Name) and (
            node.value.value == "self"):
        return f"self.{node.attr.value}"
    if isinstance(node, cst.Subscript) and isinstance(node.value, cst.Name) and len(
            node.slice) == 1 and isinstance(node.slice[0].slice, cst.Index):
        key = node.slice[0].slice.value
        if isinstance(key, cst.SimpleString) and isinstance(key.evaluated_value, str):
            return subscript_key(node.value.value, key.evaluated_value)
    return None


@dataclass(frozen=True)
class Chain:
    """`root.a.b.c` read or assigned in a statement."""

    root: str
    attributes: list[cst.Attribute]  # innermost first
    statement: cst.CSTNode | None
    value: cst.BaseExpression | None = None  # assigned to the chain
    binds: str | None = None  # the name the chain is assigned to (`x = m.return_value`)


@dataclass
class Body:
    """What a function (or the module's own statements) binds, for the mocks in it."""

    assigned: dict[str, list[cst.BaseExpression]] = field(default_factory=dict)
    defs: dict[str, bool] = field(default_factory=dict)  # name -> is async def
    params: list[str] = field(default_factory=list)  # parameters of the function(s)
    chains: list[Chain] = field(default_factory=list)
    patches: list[tuple[Patch, list[str]]] = field(default_factory=list)  # (patch, mocks)
    aliases: list[tuple[str, str]] = field(default_factory=list)  # `a = b`, `a = d["k"]`
    calls: list[cst.Call] = field(default_factory=list)  # `f(...)`, `self.f(...)`
    hands_out: list[str] = field(default_factory=list)  # `return name` / `yield name`
    keys: dict[str, list[cst.SimpleString]] = field(default_factory=dict)  # `d["k"]`: "k"s
    decorating: set[int] = field(default_factory=set)  # ids of the calls that decorate

    def mocks_of(self, patch: Patch) -> list[str]:
        return next((mocks for known, mocks in self.patches if known.key == patch.key), [])


class Collect(Visitor):
    """One walk over a function (or over module-level statements, functions excluded).

    `inherited`: the patches of the decorators of the class around a test method, which
    hand their mocks to it after its own decorators' ones."""

    def __init__(self, qualify: Qualify, body: Body, functions: bool,
                 inherited: Sequence[cst.Decorator] = ()) -> None:
        super().__init__()
        self.qualify, self.body, self.functions = qualify, body, functions
        self.inherited = inherited
        self.statement: cst.CSTNode | None = None
        self.patchers: dict[str, list[Patch]] = {}  # `p = patch(...)`: name -> its patches
        self.seen: set[int] = set()  # Attribute nodes already in a recorded chain
        self.depth = 0  # functions entered

    def on_visit(self, node: cst.CSTNode) -> bool:
        if isinstance(node, cst.FunctionDef):
            self.body.defs[node.name.value] = node.asynchronous is not None
            if not self.functions:
                return False  # (each function is a body of its own)
            self.depth += 1
            self.body.params.extend(p.name.value for p in (
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
            for patch in self._patches_of(node.item):
                self._mocks(patch).append(patch.bound(node.asname.name.value))
        elif isinstance(node, cst.Attribute) and id(node) not in self.seen:
            self._record(node)
        elif isinstance(node, cst.Call):
            for patch in patches(node, self.qualify):
                self._mocks(patch)
            if isinstance(node.func, cst.Name) or isinstance(node.func, cst.Attribute) and (
                    isinstance(node.func.value, cst.Name) and node.func.value.value == "self"):
                self.body.calls.append(node)
        elif isinstance(node, cst.Decorator):
            self.body.decorating.add(id(node.decorator))
        elif isinstance(node, cst.Subscript) and (root := root_name(node)) is not None:
            self.body.keys.setdefault(root, []).append(node.slice[0].slice.value)
        elif isinstance(node, (cst.Return, cst.Yield)) and self.depth == 1 and isinstance(
                node.value, cst.Name):
            self.body.hands_out.append(node.value.value)
        return True

    def _patches_of(self, node: cst.BaseExpression) -> list[Patch]:
        name = root_name(node) if isinstance(node, (cst.Name, cst.Attribute)) else None
        if name in self.patchers:
            return self.patchers[name]
        return patches(node, self.qualify)

    def _mocks(self, patch: Patch) -> list[str]:
        for known, mocks in self.body.patches:
            if known.key == patch.key:
                return mocks
        self.body.patches.append((patch, []))
        return self.body.patches[-1][1]

    def _assign(self, target: cst.BaseExpression, value: cst.BaseExpression) -> None:
        name = root_name(target) if isinstance(target, (cst.Name, cst.Attribute)) else None
        if name is not None:  # `m = ...`, `self.m = ...`
            self.body.assigned.setdefault(name, []).append(value)
            call = value if isinstance(value, cst.Call) else None
            found = [p for p in patches(call, self.qualify) if p.form != "setattr"] if (
                call) else []
            if found and self.qualify(call.func).partition(".")[0] in MOCKERS:
                for patch in found:  # mocker.patch returns the mock
                    self._mocks(patch).append(patch.bound(name))
            elif found:
                self.patchers[name] = found
            elif call and isinstance(call.func, cst.Attribute) and (
                    call.func.attr.value == "start"):
                for started in self._patches_of(call.func.value):
                    self._mocks(started).append(started.bound(name))
            root = root_name(value)
            if root is not None:
                self.body.aliases.append((name, root))
        if isinstance(target, cst.Attribute) and name is None:
            self._record(target, value=value)
        elif name is not None and isinstance(value, cst.Attribute):
            self._record(value, binds=name)

    def _record(self, node: cst.Attribute, value: cst.BaseExpression | None = None,
                binds: str | None = None) -> None:
        found = chain(node)
        if found is not None:
            self.seen.update(id(a) for a in found[1])
            self.body.chains.append(Chain(found[0], found[1], self.statement, value, binds))

    def _decorators(self, node: cst.FunctionDef) -> None:
        """`@patch(...)` hands its mock to the function: the one nearest the def first, then
        those of the class around a test method; patch.multiple's DEFAULT mocks come as
        keyword arguments named after their attributes."""
        params = [p.name.value for p in node.params.params]
        if params[:1] in (["self"], ["cls"]):
            params = params[1:]
        named = {*params, *(p.name.value for p in node.params.kwonly_params)}
        position = 0
        for decorator in [*reversed(node.decorators), *reversed(self.inherited)]:
            for patch in patches(decorator.decorator, self.qualify):
                mocks = self._mocks(patch)
                if patch.value is not None or patch.form == "setattr":
                    continue
                if patch.form == "multiple":
                    if patch.attr in named:
                        mocks.append(patch.attr)
                    continue
                if position < len(params):
                    mocks.append(params[position])
                position += 1

    def on_leave(self, original_node: cst.CSTNode) -> None:
        if isinstance(original_node, cst.SimpleStatementLine):
            self.statement = None
        elif isinstance(original_node, cst.FunctionDef) and self.functions:
            self.depth -= 1


def class_patches(node: cst.ClassDef, qualify: Qualify) -> list[cst.Decorator]:
    """The decorators of a class that patch (for each of its test methods)."""
    return [d for d in node.decorators if patches(d.decorator, qualify)]


def functions(module: cst.Module) -> list[tuple[str, cst.FunctionDef, cst.ClassDef | None]]:
    """The module's functions and methods (not those nested in functions): (qualname, node,
    the class it is defined in)."""
    found: list[tuple[str, cst.FunctionDef, cst.ClassDef | None]] = []

    def walk(statements: Sequence[cst.CSTNode], prefix: str, owner: cst.ClassDef | None
             ) -> None:
        for statement in statements:
            if isinstance(statement, cst.FunctionDef):
                found.append((f"{prefix}{statement.name.value}", statement, owner))
            elif isinstance(statement, cst.ClassDef):
                walk(_block(statement.body), f"{prefix}{statement.name.value}.", statement)
            elif isinstance(statement, (cst.If, cst.Try, cst.With, cst.For, cst.While)):
                for block in _blocks(statement):
                    walk(block, prefix, owner)

    walk(module.body, "", None)
    return found


def _block(body: cst.BaseSuite) -> Sequence[cst.CSTNode]:
    return body.body if isinstance(body, cst.IndentedBlock) else ()


def _blocks(statement: cst.CSTNode) -> list[Sequence[cst.CSTNode]]:
    blocks = [_block(statement.body)]
    extra = getattr(statement, "orelse", None)
    while extra is not None:
        blocks.append(_block(extra.body))
        extra = getattr(extra, "orelse", None) if isinstance(extra, cst.If) else None
    for handler in getattr(statement, "handlers", ()):
        blocks.append(_block(handler.body))
    final = getattr(statement, "finalbody", None)
    if final is not None:
        blocks.append(_block(final.body))
    return blocks
