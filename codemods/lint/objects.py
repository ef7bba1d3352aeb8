"""What lint rules ask about names in async code: which mapped class an object is of (and the
session that loaded it), which attributes that class maps, whether a session expires its
objects on commit."""

from __future__ import annotations

import re

import libcst as cst

from ..api_surface import (
    ASYNC_ENGINE_FACTORIES,
    ASYNC_SESSION_CLASSES,
    ASYNC_SESSIONMAKERS,
    ENGINE_CLASSES,
    ENGINE_FACTORIES,
    EXPIRE_ON_COMMIT,
    SESSION_CLASSES,
    SESSIONMAKERS,
)
from ..index import ModuleIndex
from ..index.model import CALL, ENTER, PARAM, TYPE
from ..index.shapes import RESULT_STEPS, RUN_VERBS
from ..rewrite.context import callee, dotted
from .base import LintContext

# Calls that make an AsyncSession (`sessionmaker(class_=AsyncSession)` too) or its factory.
FACTORIES = ASYNC_SESSION_CLASSES | ASYNC_SESSIONMAKERS | SESSIONMAKERS
_SINGLE = RESULT_STEPS - {"all", "fetchall", "partitions"} | {"scalar"}


def unwrap(expr: cst.BaseExpression) -> cst.BaseExpression:
    while isinstance(expr, cst.Await):
        expr = expr.expression
    return expr


def session_of(ctx: LintContext, scope: str, expr: cst.BaseExpression) -> str | None:
    """The dotted name of the session `expr` is, if it is one."""
    name = dotted(expr)
    return name if name and ctx.plan.kind(ctx.ix, scope, name) is not None and (
        ctx.plan.kind(ctx.ix, scope, name).value == "session") else None


def loaded(ctx: LintContext, scope: str, value: cst.BaseExpression
           ) -> tuple[str, str | None, bool] | None:
    """(mapped class, session, one object?) of what `value` evaluates to: `await
    s.get(E, pk)`, `(await s.scalars(select(E)...)).first()` (one object), `.all()` (a list of
    them), `E(...)` (a new object, no session yet)."""
    expr, single = unwrap(value), None
    while isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
        method, receiver = expr.func.attr.value, expr.func.value
        session = session_of(ctx, scope, receiver)
        if session is not None and method in ("get", "get_one") and expr.args:
            cls = ctx.mapped_class(scope, expr.args[0].value)
            return (cls, session, True) if cls else None
        if session is not None and method in RUN_VERBS and expr.args:
            statement = expr.args[0].value
            if not (isinstance(statement, cst.Call) and len(statement.args) == 1):
                return None
            bottom = statement
            while isinstance(bottom.func, cst.Attribute) and isinstance(bottom.func.value,
                                                                         cst.Call):
                bottom = bottom.func.value
            if not (ctx.qualify(bottom.func) or "").endswith(".select") or len(bottom.args) != 1:
                return None
            cls = ctx.mapped_class(scope, bottom.args[0].value)
            one = single if single is not None else method == "scalar"
            return (cls, session, one) if cls else None
        if method not in RESULT_STEPS | {"scalar"}:  # `repo.load(...)`: a project method
            return _returned(ctx, scope, expr) if single is None else None
        if single is None and method not in ("unique", "scalars"):
            single = method in _SINGLE
        expr = unwrap(receiver)
        if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Attribute):
            continue
        return None
    if isinstance(expr, cst.Call):
        cls = ctx.mapped_class(scope, expr.func)
        return (cls, None, True) if cls else _returned(ctx, scope, expr)
    return None


_COLLECTIONS = frozenset({"list", "List", "Sequence", "typing.List", "typing.Sequence",
                          "collections.abc.Sequence", "tuple", "set"})


def _returned(ctx: LintContext, scope: str, call: cst.Call
              ) -> tuple[str, str | None, bool] | None:
    """What a project function returns, from its return annotation (`-> Customer`,
    `-> list[Order]`): the session that loaded it is not known."""
    name = callee(call.func)
    ref = ctx.plan.resolve_function(ctx.ix, scope, name) if name else None
    info = ctx.plan.modules[ref[0]].functions.get(ref[1]) if ref else None
    if info is None:
        return None
    module = ctx.plan.modules[ref[0]]
    for returned in info.returns:
        cls = ctx.plan.mapped_class(module, ref[1], returned)
        if cls:
            return cls, None, not any(r in _COLLECTIONS for r in info.returns)
    return None


def mapped_attributes(ctx: LintContext, cls: str) -> tuple[set[str], set[str]]:
    """(columns, relationships) a mapped class maps, its mapped bases' too."""
    columns: set[str] = set()
    relationships: set[str] = set()
    found = ctx.plan.lookup(cls)
    for module, name in ctx.plan.lineage(found) if found else ():
        info = module.classes[name]
        columns |= info.columns
        relationships |= set(info.relationships)
    return columns, relationships


def lazy_relationships(ctx: LintContext, cls: str) -> set[str]:
    """The relationships of `cls` a read loads implicitly (not eager, not raise)."""
    _, relationships = mapped_attributes(ctx, cls)
    found = ctx.plan.lookup(cls)
    lazy = set()
    for module, name in ctx.plan.lineage(found) if found else ():
        for attr, info in module.classes[name].relationships.items():
            if attr in relationships and info.lazy in (None, "select", "True"):
                lazy.add(attr)
    return lazy


def expires_on_commit(ctx: LintContext, factory: str | None) -> bool:
    """Whether sessions made by `factory` (a dotted name, None: unknown, e.g. a parameter)
    expire their objects on commit: what its module-level definition says, else what every
    factory of the project says (the default, True, when one leaves it out or there is none)."""
    if factory is not None:
        qualified = ctx.plan.qualify(ctx.ix, factory)
        if qualified in FACTORIES:  # `AsyncSession(engine)` in the function: see the call
            return True
        found = ctx.plan.lookup(qualified)
        if found is not None:
            module, name = found
            for call in module.top_level_calls:
                if call.target == name and ctx.plan.qualify(module, call.callee) in FACTORIES:
                    return _expires(ctx, module.path, call.line, call.kwargs)
    sites = [(ix, site) for ix in ctx.plan.modules.values() for site in ix.calls
             if ctx.plan.qualify(ix, site.callee) in FACTORIES]
    return not sites or any(_expires(ctx, ix.path, site.line, site.kwargs)
                            for ix, site in sites)


# the index keeps keyword values that are names, not constants: `expire_on_commit=False` is
# read from the call's text (its first lines)
_KEYWORD = re.compile(EXPIRE_ON_COMMIT + r"\s*=\s*(\w+)")
_CALL_LINES = 6


def _expires(ctx: LintContext, path: str, line: int,
             kwargs: tuple[tuple[str, str | None], ...]) -> bool:
    if EXPIRE_ON_COMMIT not in dict(kwargs):
        return True
    text = "\n".join(ctx.texts.get(path, "").splitlines()[line - 1:line - 1 + _CALL_LINES])
    match = _KEYWORD.search(text)
    return match is None or match.group(1) != "False"


def made_by(call: cst.BaseExpression) -> tuple[str | None, bool | None]:
    """`Factory()` / `Factory.begin()` / `AsyncSession(engine, expire_on_commit=False)`: the
    factory's dotted name, and what the call itself says about expire_on_commit."""
    call = unwrap(call)
    if not isinstance(call, cst.Call):
        return None, None
    func = call.func
    if isinstance(func, cst.Attribute) and func.attr.value == "begin":
        func = func.value
    said = next((not (isinstance(a.value, cst.Name) and a.value.value == "False")
                 for a in call.args if a.keyword and a.keyword.value == EXPIRE_ON_COMMIT), None)
    return dotted(func), said


SYNC = "sync"
ASYNC = "async"
_MADE = {**dict.fromkeys(SESSION_CLASSES | ENGINE_FACTORIES | ENGINE_CLASSES
                         - {"sqlalchemy.ext.asyncio.AsyncEngine"}, SYNC),
         **dict.fromkeys(ASYNC_SESSION_CLASSES | ASYNC_ENGINE_FACTORIES
                         | {"sqlalchemy.ext.asyncio.AsyncEngine"}, ASYNC)}
_MAKERS = {**dict.fromkeys(SESSIONMAKERS, SYNC), **dict.fromkeys(ASYNC_SESSIONMAKERS, ASYNC)}


def flavour(ctx: LintContext, scope: str, name: str, ix: ModuleIndex | None = None,
            depth: int = 0) -> str | None:
    """SYNC or ASYNC: whether the session or engine `name` holds in `scope` is a sync or an
    asyncio one, from its annotation or the call that made it (a factory's too); None when
    neither says."""
    ix = ix or ctx.ix
    plan = ctx.plan
    for binding in plan.bindings(ix, scope, name):
        if binding.origin in (PARAM, TYPE):
            for target in binding.targets:
                found = _MADE.get(plan.qualify(ix, target))
                if found:
                    return found
        elif binding.origin in (CALL, ENTER) and binding.targets:
            qualified = plan.qualify(ix, binding.targets[0].removesuffix(".begin"))
            if qualified in _MADE:
                return _MADE[qualified]
            where = plan.lookup(qualified)
            if where is None or depth > 2 or "." in where[1]:
                continue
            module, factory = where
            for call in module.top_level_calls:
                made = _MAKERS.get(plan.qualify(module, call.callee))
                if call.target == factory and made and "class_" not in dict(call.kwargs):
                    return made
    return None
