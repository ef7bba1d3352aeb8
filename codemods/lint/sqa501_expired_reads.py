"""SQA501: attributes read after commit()/rollback()/expire(), or relationships after a
refresh() that does not name them: the read reloads implicitly (MissingGreenlet)."""

from __future__ import annotations

from dataclasses import dataclass, field

import libcst as cst

from ..rewrite.context import dotted
from ..rules.base import USERS_AND_ADDRESSES
from .base import LintCase, LintContext, LintRule
from .objects import (
    expires_on_commit,
    lazy_relationships,
    loaded,
    made_by,
    mapped_attributes,
    session_of,
    unwrap,
)


@dataclass
class _Object:
    cls: str
    session: str | None  # the session it was loaded by or added to (None: not known)
    new: bool  # built here (`E(...)`): transient again after a rollback


@dataclass
class _Expired:
    attrs: set[str]  # the mapped attributes not loaded any more
    why: str  # "after `await session.commit()`", …
    fix: str


@dataclass
class _State:
    expired: dict[str, _Expired] = field(default_factory=dict)
    objects: dict[str, _Object] = field(default_factory=dict)
    lists: dict[str, _Object] = field(default_factory=dict)  # `xs = (...).all()`

    def copy(self) -> _State:
        return _State(dict(self.expired), dict(self.objects), dict(self.lists))


def _merge(a: _State | None, b: _State | None) -> _State | None:
    """The state after either of two paths (None: the path does not go on)."""
    if a is None or b is None:
        return a or b
    merged = a.copy()
    for name, expired in b.expired.items():
        merged.expired.setdefault(name, expired)
    merged.objects.update({k: v for k, v in b.objects.items() if k not in merged.objects})
    merged.lists.update({k: v for k, v in b.lists.items() if k not in merged.lists})
    return merged


class ExpiredReads(LintRule):
    """Objects read after `commit()`, `rollback()` or `expire()` are refreshed first.

    `await session.commit()` expires every object of the session when it expires on commit
    (the default of `AsyncSession` and `async_sessionmaker`); `rollback()` always does,
    `expire(obj)` / `expire_all()` do what they say, and the end of an `async with
    session.begin():` block commits. The next plain read of an expired attribute reloads it
    implicitly, which under asyncio raises `MissingGreenlet`. `await session.refresh(obj)`
    reloads columns but leaves lazy relationships expired: a relationship read after it needs
    its name (`refresh(obj, ["rel"])`). Reads are followed in the function, through `if`,
    loops and `try`; sessions that set `expire_on_commit=False` (where they are made, or
    every factory of the project) are not reported for commits.
    """

    code = "SQA501"
    summary = ("attribute read after commit()/rollback()/expire() (or a relationship after "
               "refresh() without names) → await session.refresh(obj, [...]) first")
    cases = (
        LintCase("""
            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User


            async def rename(session: AsyncSession, user_id: int, name: str) -> str:
                user = await session.get(User, user_id)
                user.name = name
                await session.commit()
                return f"{user.id}: {user.name}"
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User


            async def rename(session: AsyncSession, user_id: int, name: str) -> str:
                user = await session.get(User, user_id)
                user.name = name
                await session.commit()
                await session.refresh(user)
                return f"{user.id}: {user.name}"
        """, models=USERS_AND_ADDRESSES),
        LintCase("""
            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User


            async def add_user(session: AsyncSession, name: str) -> int:
                user = User(name=name)
                session.add(user)
                await session.commit()
                await session.refresh(user)
                return len(user.addresses)
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User


            async def add_user(session: AsyncSession, name: str) -> int:
                user = User(name=name)
                session.add(user)
                await session.commit()
                await session.refresh(user, ["addresses"])
                return len(user.addresses)
        """, models=USERS_AND_ADDRESSES),
    )

    def check(self, ctx: LintContext) -> None:
        for scope, function in ctx.async_functions():
            _Flow(ctx, scope, function).run()


class _Flow:
    """One function's statements in order, with what is expired at each."""

    def __init__(self, ctx: LintContext, scope: str, function: cst.FunctionDef) -> None:
        self.ctx, self.scope, self.function = ctx, scope, function
        self.made: dict[str, tuple[str | None, bool | None]] = {}  # session → its factory
        self.reported: set[tuple[str, int]] = set()

    def run(self) -> None:
        state = _State()
        params = self.function.params
        for param in (*params.posonly_params, *params.params, *params.kwonly_params):
            annotation = param.annotation.annotation if param.annotation else None
            cls = self.ctx.mapped_class(self.scope, annotation) if annotation else None
            if cls:
                state.objects[param.name.value] = _Object(cls, None, False)
        self._block(self.function.body, state)

    # -- statements -----------------------------------------------------------------------------
    def _block(self, block: cst.BaseSuite, state: _State | None) -> _State | None:
        statements = block.body if isinstance(block, cst.IndentedBlock) else (block,)
        for statement in statements:
            if state is None:
                return None
            state = self._statement(statement, state)
        return state

    def _statement(self, node: cst.CSTNode, state: _State) -> _State | None:
        if isinstance(node, cst.SimpleStatementLine | cst.SimpleStatementSuite):
            for small in node.body:
                self._reads(small, state)
                self._effects(small, state)
                if isinstance(small, cst.Return | cst.Raise | cst.Continue | cst.Break):
                    return None
            return state
        if isinstance(node, cst.If):
            self._reads(node.test, state)
            body = self._block(node.body, state.copy())
            other = node.orelse
            if isinstance(other, cst.If):
                return _merge(body, self._statement(other, state.copy()))
            return _merge(body, self._block(other.body, state.copy()) if other else state)
        if isinstance(node, cst.For | cst.While):
            self._reads(node.iter if isinstance(node, cst.For) else node.test, state)
            inner = state.copy()
            if isinstance(node, cst.For):
                self._bind_loop(node, inner)
            after = _merge(state, self._block(node.body, inner))
            return self._block(node.orelse.body, after) if node.orelse and after else after
        if isinstance(node, cst.Try | cst.TryStar):
            body = self._block(node.body, state.copy())
            outcomes = [self._block(node.orelse.body, body) if node.orelse and body else body]
            for handler in node.handlers:
                outcomes.append(self._block(handler.body, _merge(state, body) or state.copy()))
            after = None
            for outcome in outcomes:
                after = _merge(after, outcome)
            if node.finalbody:
                after = self._block(node.finalbody.body, after or state.copy()) if after else (
                    None)
            return after
        if isinstance(node, cst.With):
            committed: list[str] = []
            for item in node.items:
                self._reads(item.item, state)
                call = unwrap(item.item)
                if isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute) and (
                        call.func.attr.value == "begin"):
                    session = session_of(self.ctx, self.scope, call.func.value)
                    if session:  # `async with session.begin():` commits at its end
                        committed.append(session)
                if item.asname and isinstance(item.asname.name, cst.Name):
                    self.made[item.asname.name.value] = made_by(item.item)
            after = self._block(node.body, state)
            for session in committed if after else ():
                self._expire_all(after, session, "commit", f"the end of `async with {session}"
                                 ".begin():` (a commit)")
            return after
        if isinstance(node, cst.FunctionDef | cst.ClassDef):
            return state
        return state  # match and others: not followed

    def _bind_loop(self, node: cst.For, state: _State) -> None:
        if not isinstance(node.target, cst.Name):
            return
        name = node.target.value
        state.expired.pop(name, None)
        source = unwrap(node.iter)
        held = state.lists.get(source.value) if isinstance(source, cst.Name) else None
        found = loaded(self.ctx, self.scope, source) if held is None else None
        if held is not None:
            state.objects[name] = held
            if source.value in state.expired:  # an object of a list of expired objects
                expired = state.expired[source.value]
                state.expired[name] = _Expired(set(expired.attrs), expired.why, expired.fix)
        elif found is not None:
            state.objects[name] = _Object(found[0], found[1], False)
        else:
            state.objects.pop(name, None)

    # -- what a statement does ------------------------------------------------------------------
    def _effects(self, small: cst.BaseSmallStatement, state: _State) -> None:
        if isinstance(small, cst.Assign | cst.AnnAssign):
            targets = [t.target for t in small.targets] if isinstance(small, cst.Assign) else [
                small.target]
            for target in targets:
                self._assigned(target, small.value, state)
            return
        if not isinstance(small, cst.Expr):
            return
        call = unwrap(small.value)
        if not (isinstance(call, cst.Call) and isinstance(call.func, cst.Attribute)):
            return
        session = session_of(self.ctx, self.scope, call.func.value)
        if session is None:
            return
        method = call.func.attr.value
        first = call.args[0].value if call.args else None
        target = first.value if isinstance(first, cst.Name) else None
        if method == "add" and target in state.objects:
            state.objects[target].session = session
        elif method in ("commit", "rollback", "expire_all"):
            self._expire_all(state, session, method, f"`{dotted(call.func) }()`")
        elif method == "expire" and target in state.objects:
            names = _names(call.args[1].value) if len(call.args) > 1 else None
            columns, relationships = mapped_attributes(self.ctx, state.objects[target].cls)
            self._expire(state, target, names or columns | relationships,
                         f"`{dotted(call.func)}({target})`", session)
        elif method == "refresh" and target in state.objects:
            names = _names(call.args[1].value) if len(call.args) > 1 else None
            expired = state.expired.get(target)
            if expired is None:
                return
            left = expired.attrs - set(names) if names else expired.attrs & lazy_relationships(
                self.ctx, state.objects[target].cls)
            if not left:
                del state.expired[target]
            elif names:
                expired.attrs = left
            else:
                state.expired[target] = _Expired(
                    left, f"`{dotted(call.func)}({target})` without attribute names, which "
                          "leaves lazy relationships expired",
                    f"name them: `await {session}.refresh({target}, "
                    f"[{', '.join(repr(a) for a in sorted(left))}])`")

    def _assigned(self, target: cst.BaseExpression, value: cst.BaseExpression | None,
                  state: _State) -> None:
        if isinstance(target, cst.Attribute) and isinstance(target.value, cst.Name):
            expired = state.expired.get(target.value.value)
            if expired is not None:  # set again: read back as assigned, no load
                expired.attrs.discard(target.attr.value)
            return
        if not isinstance(target, cst.Name):
            return
        name = target.value
        state.expired.pop(name, None)
        state.objects.pop(name, None)
        state.lists.pop(name, None)
        if value is None:
            return
        self.made[name] = made_by(value)
        found = loaded(self.ctx, self.scope, value)
        if found is not None:
            cls, session, one = found
            (state.objects if one else state.lists)[name] = _Object(
                cls, session, session is None)

    def _expires(self, session: str) -> bool:
        factory, said = self.made.get(session, (None, None))
        return said if said is not None else expires_on_commit(self.ctx, factory)

    def _expire_all(self, state: _State, session: str, method: str, where: str) -> None:
        if method == "commit" and not self._expires(session):
            return
        for name, obj in {**state.objects, **state.lists}.items():
            if obj.session not in (None, session) or (method == "rollback" and obj.new):
                continue
            columns, relationships = mapped_attributes(self.ctx, obj.cls)
            self._expire(state, name, columns | relationships, where, session)

    def _expire(self, state: _State, name: str, attrs: set[str], where: str,
                session: str) -> None:
        fix = (f"`await {session}.refresh(obj)` for each after it" if name in state.lists
               else f"`await {session}.refresh({name})` after it, or read `await "
                    f"{name}.awaitable_attrs.{{attr}}`")
        state.expired[name] = _Expired(set(attrs), f"{where}, which expired {name}", fix)

    # -- reads ----------------------------------------------------------------------------------
    def _reads(self, node: cst.CSTNode, state: _State) -> None:
        if not state.expired:
            return
        elements = _comprehended(node)
        for attribute in _attribute_reads(node):
            shown, attr = attribute.value.value, attribute.attr.value
            name = elements.get(shown, shown)
            expired = state.expired.get(name)
            if expired is None or attr not in expired.attrs:
                continue
            line, _ = self.ctx.position(attribute)
            if (name, line) in self.reported:
                continue
            self.reported.add((name, line))
            self.ctx.report(ExpiredReads.code, attribute,
                            f"{shown}.{attr} is read after {expired.why}: the implicit reload "
                            "raises MissingGreenlet under asyncio; "
                            f"{expired.fix.replace('{attr}', attr)}", self.scope)
            del state.expired[name]  # one finding per object and expiry


def _names(expr: cst.BaseExpression) -> list[str] | None:
    if not isinstance(expr, cst.List | cst.Tuple):
        return None
    found = [e.value.evaluated_value for e in expr.elements
             if isinstance(e.value, cst.SimpleString)]
    return [f for f in found if isinstance(f, str)] or None


def _comprehended(node: cst.CSTNode) -> dict[str, str]:
    """`[u.name for u in users]`: each comprehension variable → the name it iterates."""
    found: dict[str, str] = {}

    class _Fors(cst.CSTVisitor):
        def visit_CompFor(self, comp: cst.CompFor) -> None:
            if isinstance(comp.target, cst.Name) and isinstance(comp.iter, cst.Name):
                found[comp.target.value] = comp.iter.value

    node.visit(_Fors())
    return found


def _attribute_reads(node: cst.CSTNode) -> list[cst.Attribute]:
    """`name.attr` loads in `node` (not assignment targets, nor nested functions)."""
    found: list[cst.Attribute] = []

    class _Reads(cst.CSTVisitor):
        def visit_Attribute(self, attribute: cst.Attribute) -> None:
            if isinstance(attribute.value, cst.Name):
                found.append(attribute)

        def visit_Assign(self, assign: cst.Assign) -> bool:
            assign.value.visit(self)
            for target in assign.targets:  # `x.a[0] = …` reads x.a; `x.a = …` does not
                if not isinstance(target.target, cst.Attribute):
                    target.target.visit(self)
            return False

        def visit_FunctionDef(self, function: cst.FunctionDef) -> bool:
            return False

        def visit_Lambda(self, function: cst.Lambda) -> bool:
            return False

    node.visit(_Reads())
    return found
