"""SQA101: the audit of legacy Query chains no rule converted, wrapped or marked."""

from __future__ import annotations

from typing import ClassVar

import libcst as cst

from ..analysis import ObjKind, Plan
from ..analysis.project import scope_chain
from ..index import ModuleIndex
from ..results import Kind, Tag
from ..rewrite.context import callee, dotted
from .base import AuditRule, Case

_SESSIONS = (ObjKind.SESSION, ObjKind.FLASK_SESSION)


def _names_query(site_callee: str) -> bool:
    """`x.query`, `x.query().all`, `Model.query.get`: a call site of the Query API."""
    return "query" in (part.removesuffix("()") for part in site_callee.split("."))


class UnconvertedQueries(AuditRule):
    """A legacy Query chain left as it is, with no run_sync and no TODO, gets a TODO saying why.

    After every other rule, each `x.query(...)` call and each `Model.query.<...>` chain still
    in a file that uses SQLAlchemy (or imports a project module that does) must be converted,
    run inside `session.run_sync(...)`, or marked. The TODO says why the tool passed it by:
    usually the receiver is not recognised as a session (an untyped parameter nobody calls,
    an attribute, another module's attribute). A receiver the tool knows to be something else
    (an engine, a project class with its own `query` method, an outside library's object) is
    left alone.
    """

    code = "SQA101"
    summary = "audit: legacy Query chains left unconverted without a marker → TODO saying why"
    targets = frozenset({"async", "sync"})
    # TODO markers of these rules on a statement speak about its query already
    covering: ClassVar[tuple[str, ...]] = ("SQA1", "SQA3")
    cases = (
        Case("""
            from sqlalchemy import func


            def count_rows(session, entity):
                return session.query(func.count()).select_from(entity).scalar()
        """, """
            from sqlalchemy import func


            def count_rows(session, entity):
                # TODO(sqla-asyncify SQA101): legacy query left as it is: `session` is an untyped parameter and nothing in the project calls `count_rows()` (annotate it: `session: Session`)
                return session.query(func.count()).select_from(entity).scalar()
        """),  # noqa: E501
        Case("""
            import sqlalchemy
            import search


            def lookup(term):
                return search.index.query(term)
        """),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.called: set[int] = set()  # `.query` attributes that are a call's function
        self.flagged: set[int] = set()  # statements with an SQA101 TODO from this pass
        self.receivers: set[int] = set()  # attributes something else is read from

    @classmethod
    def scopes(cls, ix: ModuleIndex, plan: Plan) -> set[str]:
        if ix.module in plan.context or not plan.database_module(ix):
            return set()
        return {site.scope for site in ix.calls if _names_query(site.callee)} | {
            scope for scope, names in ix.names_read.items()
            if any(n.endswith(".query") for n in names)}  # `q = Recipe.query`

    def visit_Call(self, node: cst.Call) -> None:
        func = node.func
        if not (isinstance(func, cst.Attribute) and func.attr.value == "query"):
            return
        self.called.add(id(func))
        name = callee(func)
        if name and self.ctx.plan.resolve_call(self.ctx.ix, self.ctx.scope, name):
            return  # the project's own `query` function or method
        receiver = func.value
        kind = self.ctx.kind(receiver)
        if kind in _SESSIONS:
            self._flag("the tool could not follow this query here: convert it to select() "
                       "by hand", node)
            return
        receiver_name = dotted(receiver)
        if receiver_name is None and isinstance(receiver, cst.Call) and (
                made := callee(receiver.func)):
            receiver_name = f"{made}()"
        if kind is not None or (receiver_name and self.ctx.plan.unrelated(
                self.ctx.ix, self.ctx.scope, receiver_name)):
            return  # provably something else: an engine, an outside library's object, …
        self._flag(self._why(receiver, receiver_name), node)

    def visit_Attribute(self, node: cst.Attribute) -> None:
        """`Model.query.filter_by(...)`, or `Model.query` itself stored or handed on:
        Flask-SQLAlchemy's query property."""
        self.receivers.add(id(node.value))
        if node.attr.value == "query" and id(node) not in self.receivers | self.called:
            self._model_query(node, bare=True)  # (the outer attribute was visited first)
        inner = node.value
        if not (isinstance(inner, cst.Attribute) and inner.attr.value == "query") or (
                id(inner) in self.called):
            return
        self._model_query(inner)

    def _model_query(self, node: cst.Attribute, bare: bool = False) -> None:
        model = dotted(node.value)
        if model is None:
            return
        plan, ix, scope = self.ctx.plan, self.ctx.ix, self.ctx.scope
        mapped = plan.mapped_class(ix, scope, model)
        if mapped is None and model in ("cls", "self", "self.__class__"):
            self._flag(f"`{model}.query` in a class the tool does not know as mapped (a "
                       "mixin?): the legacy Query it gives is left as it is", node)
            return
        if mapped is None and not model.rpartition(".")[2][:1].isupper():
            return  # `request.query.get(...)`: not a class's query property
        if mapped is not None and self.ctx.async_target and plan.flask_db(mapped):
            self._flag(f"`{model}.query` runs on Flask-SQLAlchemy's db.session, which has no "
                       "asyncio support, so it stays synchronous; --target sync moves it to "
                       "select()", node)
            return
        if mapped is not None and bare:
            self._flag(f"`{model}.query` is stored or handed on here: the tool converts a "
                       "Model.query chain where it is run; convert it to select() by hand",
                       node)
            return
        if mapped is not None:
            self._flag(f"`{model}.query` is a query property the tool cannot tie to a session",
                       node)
            return
        qualified = plan.qualify(ix, model)
        module = qualified.rpartition(".")[0]
        where = "" if module in ("", ix.module) else (
            f" (it comes from `{module}`, "
            + ("which is not among the migrated files)" if module not in plan.modules
               else "where the tool finds no mapped class of that name)"))
        self._flag(f"`{model}` is not recognised as a Flask-SQLAlchemy model{where}", node)

    def _why(self, receiver: cst.BaseExpression, name: str | None) -> str:
        if isinstance(receiver, cst.Call) and name:
            return (f"`{name}` returns something the tool does not recognise as a session "
                    "(annotate its return type)")
        if name is None:
            return "the tool could not follow this query (its receiver is an expression)"
        return self.ctx.plan.not_a_session(self.ctx.ix, self.ctx.scope, name)

    def _flag(self, reason: str, node: cst.CSTNode) -> None:
        if self._exempt():
            return
        statement = self.ctx.statements[-1] if self.ctx.statements else None
        if statement is None or id(statement) in self.flagged:
            return
        self.flagged.add(id(statement))
        self.ctx.report(self.code, Kind.TODO, f"legacy query left as it is: {reason}", node,
                        tag=Tag.AUDIT)

    def _exempt(self) -> bool:
        """Inside run_sync (a lambda given to it, a function it runs), or spoken for already
        (a TODO about it on the statement, a skip reported there)."""
        ctx, plan = self.ctx, self.ctx.plan
        if any(id(lam) in ctx.run_sync_lambdas for lam in ctx.lambdas):
            return True
        for scope in scope_chain(ctx.scope)[:-1]:
            ref = (ctx.ix.module, scope)
            if ref in plan.keep_sync or ref in plan.legacy or plan.run_sync_callers(ref):
                return True
        return ctx.reported_here() or any(
            code.startswith(self.covering) for code in ctx.marker_codes())
