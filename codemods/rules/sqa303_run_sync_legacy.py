"""SQA303: migrated code calls legacy (not yet migrated) functions through run_sync."""

from __future__ import annotations

import libcst as cst
import libcst.matchers as m

from ..analysis import ObjKind
from ..analysis.colouring import legacy_reason
from ..results import Kind
from ..rewrite.build import ReplaceExpression, run_sync_lambda
from ..rewrite.context import callee, dotted
from ..rewrite.traversal import Visitor
from .base import Case, Rule

# a legacy Query built in a call's arguments (outside a lambda they run outside run_sync)
_LEGACY_QUERY = m.Call(func=m.Attribute(attr=m.Name("query")))


class _SessionNames(Visitor):
    """Names in an expression that hold a session, also attributes (`self.session`)."""

    def __init__(self, rule: RunSyncLegacy) -> None:
        self.rule = rule
        self.found: dict[str, cst.Name | cst.Attribute] = {}

    def visit_Name(self, node: cst.Name) -> None:
        if self.rule.ctx.is_reference(node) and self.rule.ctx.kind(node) is ObjKind.SESSION:
            self.found.setdefault(node.value, node)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        name = dotted(node)
        if name and self.rule.ctx.kind(node) is ObjKind.SESSION:
            self.found.setdefault(name, node)
            return False
        return True


def _awaits(call: cst.Call) -> bool:
    """Some argument of the call awaits."""
    return bool(m.findall(call, m.Await()))


def _occurs(nodes: list[cst.Arg], expr: cst.BaseExpression) -> bool:
    """`expr` is somewhere in these arguments."""
    same = m.MatchIfTrue(lambda node: node.deep_equals(expr))
    return any(m.findall(node, same) for node in nodes)


class RunSyncLegacy(Rule):
    """Calls into functions an incremental run leaves synchronous go through run_sync.

    `run_sync` hands the legacy function the AsyncSession's own sync Session, so it keeps
    working unchanged. A later run that migrates the function unwraps the call (SQA304). The
    same happens within one run to a function whose legacy query the tool cannot convert: it
    stays synchronous (with a TODO) and its callers run it through run_sync. So does an
    event listener that would become async, with what it calls: SQLAlchemy calls listeners
    synchronously, handing them a sync Session.
    """

    code = "SQA303"
    ensures = frozenset({"awaited-io"})
    needs = frozenset({"async-functions", "async-objects"})
    summary = "calls to not-yet-migrated session functions → await session.run_sync(fn, ...)"
    cases = (
        Case("""
            from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
            from sqlalchemy_pages import paginate


            class Base(DeclarativeBase):
                pass


            class User(Base):
                __tablename__ = "users"
                id: Mapped[int] = mapped_column(primary_key=True)


            def count(session: Session, newest: bool) -> int:
                query = session.query(User)
                query = query.filter(User.id > 100) if newest else query
                return paginate(query, 1).total


            def report(session: Session) -> int:
                session.commit()
                return count(session, True)
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column
            from sqlalchemy_pages import paginate


            class Base(DeclarativeBase):
                pass


            class User(Base):
                __tablename__ = "users"
                id: Mapped[int] = mapped_column(primary_key=True)


            # TODO(sqla-asyncify SQA303): count() is kept synchronous, and migrated callers run it with await session.run_sync(...), since it holds a legacy query the tool cannot convert: a legacy query the tool cannot follow here (stored, returned, passed on, or used with a method it cannot map): convert it to select() by hand
            def count(session: Session, newest: bool) -> int:
                query = session.query(User)
                query = query.filter(User.id > 100) if newest else query
                return paginate(query, 1).total


            async def report(session: AsyncSession) -> int:
                await session.commit()
                return await session.run_sync(count, True)
        """),  # noqa: E501
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.inline_receivers: set[int] = set()  # `Repo(session)` in `Repo(session).load()`

    def visit_Call(self, node: cst.Call) -> None:
        if isinstance(node.func, cst.Attribute) and isinstance(node.func.value, cst.Call):
            self.inline_receivers.add(id(node.func.value))

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        ref = (self.ctx.ix.module, self.ctx.scope)
        if ref in self.ctx.plan.keep_sync:
            why = self.ctx.plan.kept_because(ref) or legacy_reason(
                "convert its legacy query by hand")
            name = _shell_body_name(node) if ref in self.ctx.plan.sync_shells else (
                node.name.value)
            self.ctx.todo(self.code, f"{name}() is kept synchronous, and migrated "
                                     "callers run it with await session.run_sync(...), since "
                                     f"{why}",
                          node, at=node)

    def leave_FunctionDef(self, original: cst.FunctionDef,
                          updated: cst.FunctionDef) -> cst.FunctionDef:
        ref = (self.ctx.ix.module, self.ctx.scope)
        if ref not in self.ctx.plan.sync_shells:
            return updated
        return self._shell(original, updated, self.ctx.take_markers(original, self.code))

    def _shell(self, original: cst.FunctionDef, updated: cst.FunctionDef,
               markers: list[str]) -> cst.FunctionDef:
        """`async def route(..., db: AsyncSession = Depends(...))` whose body is the route's
        own, unchanged, in a nested function that `await db.run_sync(...)` runs with the sync
        session. Every parameter is handed over, so the body may assign to any of them."""
        params = updated.params
        session = next(p for p in _all_params(params)
                       if self.ctx.kind(p.name) is ObjKind.SESSION)
        inner_name = _shell_body_name(original)
        others = [_bare(p) for p in [*params.posonly_params, *params.params] if p is not session]
        kwonly = [_bare(p) for p in params.kwonly_params if p is not session]
        star_arg = params.star_arg if isinstance(params.star_arg, cst.Param) else None
        inner_params = cst.Parameters(
            params=[_bare(session), *others],
            star_arg=star_arg or (cst.ParamStar() if kwonly else cst.MaybeSentinel.DEFAULT),
            kwonly_params=kwonly, star_kwarg=params.star_kwarg)
        docstring, body = _split_docstring(updated)
        inner = cst.FunctionDef(
            name=cst.Name(inner_name), params=inner_params, body=updated.body.with_changes(
                body=body), returns=updated.returns,
            leading_lines=[cst.EmptyLine(comment=cst.Comment(text)) for text in markers])
        args = [cst.Arg(cst.Name(inner_name)), *(cst.Arg(p.name) for p in others)]
        if star_arg is not None:
            args.append(cst.Arg(star_arg.name, star="*"))
        args += [cst.Arg(p.name, keyword=p.name, equal=cst.AssignEqual(
            whitespace_before=cst.SimpleWhitespace(""),
            whitespace_after=cst.SimpleWhitespace(""))) for p in kwonly]
        if isinstance(params.star_kwarg, cst.Param):
            args.append(cst.Arg(params.star_kwarg.name, star="**"))
        run = cst.Await(cst.Call(func=cst.Attribute(
            value=self.ctx.run_sync_receiver(session.name), attr=cst.Name("run_sync")),
            args=args))
        async_session = self.ctx.import_name("sqlalchemy.ext.asyncio", "AsyncSession")
        outer_session = session.with_changes(annotation=cst.Annotation(cst.Name(async_session)))
        self.ctx.report(self.code, Kind.RUN_SYNC, f"{original.name.value}() runs its legacy body "
                        "through run_sync", original)
        return updated.with_changes(
            asynchronous=cst.Asynchronous(),
            params=params.deep_replace(session, outer_session),
            body=updated.body.with_changes(body=[
                *docstring, inner,
                cst.SimpleStatementLine([cst.Return(run)],
                                        leading_lines=[cst.EmptyLine(indent=False)])]))

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not isinstance(updated, cst.Call) or not self.ctx.plan.legacy or (
                self.ctx.in_run_sync_lambda):
            return updated
        name = callee(original.func)
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        if name and plan.legacy_class(ix, name):
            if id(original) in self.inline_receivers:
                return updated  # the method call around it goes through run_sync whole
            return self._legacy_instance(original, updated)
        ref = name and plan.resolve_function(ix, scope, name)
        if not ref or ref not in plan.legacy:
            return updated
        finder = _SessionNames(self)
        finder.walk(original)
        held = None if finder.found else plan.instance_session(ix, scope, name.split(".")[0])
        if held:  # `repo.recent()` on `repo = LegacyRepo(session)`: it holds session.sync_session
            call = run_sync_lambda(self.ctx.run_sync_receiver(cst.Name(held)),
                                   cst.Name("_sync_session"), updated)
            return self._awaited(call, original, ref)
        first = updated.args[0].value if updated.args and updated.args[0].keyword is None and (
            not updated.args[0].star) else None
        given_first = next((found for found in finder.found.values()
                            if first is not None and first.deep_equals(found)), None)
        if given_first is not None:  # `f(session, ...)`: the others are values handed over
            finder.found = {"": given_first}
        if len(finder.found) != 1:
            kept = ref in self.ctx.plan.keep_sync
            self.ctx.todo(self.code, f"{ref[1]}() is "
                          + ("kept synchronous" if kept else "not migrated in this run")
                          + " and no single session is passed to it: "
                          + ("run it with await <session>.run_sync(...) on the session it uses"
                             if kept else "migrate its module too"), original)
            return updated
        session = next(iter(finder.found.values()))
        positional = [a for a in updated.args if a.keyword is None and not a.star]
        if updated.args and updated.args[0] in positional and (
                updated.args[0].value.deep_equals(session)) and not _occurs(
                updated.args[1:], session) and dotted_ok(updated) and not any(
                m.findall(arg, _LEGACY_QUERY) for arg in updated.args[1:]):
            call = cst.Call(func=cst.Attribute(
                value=self.ctx.run_sync_receiver(session), attr=cst.Name("run_sync")),
                args=[cst.Arg(updated.func), *updated.args[1:]])
        elif _awaits(updated):  # a lambda cannot await what the call is handed
            self.ctx.todo(self.code, f"{ref[1]}() is kept synchronous: run it with await "
                                     "<session>.run_sync(...), awaiting what it is handed "
                                     "before the call", original)
            return updated
        else:
            param = cst.Name("sync_session")
            body = ReplaceExpression(session, param).transform(updated)
            if m.findall(body, m.Call(func=m.Attribute(value=~m.Name(param.value),
                                                       attr=m.Name("query")))):
                self.ctx.todo(self.code, f"{ref[1]}() is kept synchronous, and a legacy Query "
                                         "on another session is built in its arguments: "
                                         "convert that query to select() by hand", original)
                return updated
            call = run_sync_lambda(self.ctx.run_sync_receiver(session), param, body)
        return self._awaited(call, original, ref) or updated

    def _awaited(self, call: cst.Call, original: cst.Call, ref: tuple[str, str]
                 ) -> cst.BaseExpression | None:
        if id(original) in self.ctx.awaited:  # `await f(...)` of an earlier run: that await
            awaited: cst.BaseExpression = call  # now awaits the run_sync
        else:
            awaited = self.ctx.await_(self.code, call, original, f"{ref[1]}()")
            if awaited is call:
                return None
        why = ("is kept synchronous" if ref in self.ctx.plan.keep_sync
               else f"is not migrated in this run ({ref[0]})")
        self.ctx.report(self.code, Kind.RUN_SYNC, f"{ref[1]}() {why}: called through run_sync",
                        original)
        return awaited

    def _legacy_instance(self, original: cst.Call, updated: cst.Call) -> cst.Call:
        """`LegacyRepo(session)` → `LegacyRepo(session.sync_session)`: its methods run sync,
        inside run_sync."""
        args = []
        for arg in updated.args:
            if isinstance(arg.value, cst.Name) and self.ctx.kind(arg.value) is ObjKind.SESSION:
                arg = arg.with_changes(value=cst.Attribute(value=arg.value,
                                                           attr=cst.Name("sync_session")))
                self.ctx.change(self.code, "a class this run leaves sync gets the session's "
                                           "sync_session", original)
            args.append(arg)
        return updated.with_changes(args=args)


def _bare(param: cst.Param) -> cst.Param:
    """The parameter without its default (the shell hands every value over)."""
    return param.with_changes(default=None, equal=cst.MaybeSentinel.DEFAULT,
                              comma=cst.MaybeSentinel.DEFAULT)


def _shell_body_name(function: cst.FunctionDef) -> str:
    return f"{function.name.value}_sync"


def _all_params(params: cst.Parameters) -> list[cst.Param]:
    return [*params.posonly_params, *params.params, *params.kwonly_params]


def _split_docstring(function: cst.FunctionDef
                     ) -> tuple[list[cst.BaseStatement], list[cst.BaseStatement]]:
    """The docstring stays on the route (frameworks read it), the rest moves."""
    body = list(function.body.body)
    if function.get_docstring(clean=False) is None:
        return [], body
    return body[:1], body[1:] or [cst.SimpleStatementLine([cst.Pass()])]


def dotted_ok(call: cst.Call) -> bool:
    """`fn(...)` / `module.fn(...)`: the function can be handed to run_sync as it is."""
    node = call.func
    while isinstance(node, cst.Attribute):
        node = node.value
    return isinstance(node, cst.Name)
