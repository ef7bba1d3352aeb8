"""SQA403: objects read after rollback()/expire() are refreshed where they expired."""

from __future__ import annotations

import libcst as cst

from ..results import Kind
from ..rewrite.reads import Body
from ..rewrite.refreshes import (
    FunctionState,
    already_there,
    changes,
    class_of,
    expired_print,
    expired_print_todo,
    holds_plain_value,
    in_entry_point,
    refresh_statement,
    relationships_read,
    with_inserted,
)
from .base import USERS_AND_ADDRESSES, Case, Rule

_EXPIRING = frozenset({"rollback", "expire", "expire_all"})


class ExpiredReads(Rule):
    """Objects read after `session.rollback()` / `expire()` get `await session.refresh(obj)`.

    `rollback()` expires everything even with `expire_on_commit=False`, and `expire()` does
    what it says; the next plain attribute read then needs I/O, which the synchronous program
    did implicitly (also when the object was added to another session first). The tool
    refreshes each object the function reads (or returns) afterwards right after the call,
    naming the lazy relationships read next in a second refresh (a plain refresh leaves them
    unloaded). Objects built in the rolled-back transaction are transient again and need
    nothing; an object added to the session in that transaction that the tool cannot tell
    new from loaded gets a TODO naming it.
    """

    code = "SQA403"
    needs = frozenset({"async-functions", "async-objects"})
    summary = "reads after rollback()/expire() → await session.refresh(obj) after it"
    cases = (
        Case("""
            from sqlalchemy.orm import Session

            from models import User


            def rename(session: Session, user_id: int, name: str) -> str:
                user = session.get(User, user_id)
                user.name = name
                session.rollback()
                return user.name
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User


            async def rename(session: AsyncSession, user_id: int, name: str) -> str:
                user = await session.get(User, user_id)
                user.name = name
                await session.rollback()
                await session.refresh(user)
                return user.name
        """, models=USERS_AND_ADDRESSES),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.expiring_scopes = ctx.scopes_calling(_EXPIRING)
        self.after: dict[int, list[cst.BaseStatement]] = {}

    def visit_Module(self, node: cst.Module) -> None:
        if "" in self.expiring_scopes and in_entry_point(self.ctx):
            self._body(node, None)  # a script's statements, run in its async entry point

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.ctx.scope in self.expiring_scopes:
            self._body(node, self.ctx.cannot_await())

    def _body(self, node: Body, cannot: str | None) -> None:
        """`cannot`: why the body cannot await (a TODO instead of the refresh)."""
        state = FunctionState.collect(self.ctx, node)
        previous: dict[str, int] = {}
        tried = _tried_commits(node, state)
        for call in state.calls:
            start = previous.get(call.session, -1)
            # a commit in a `try:` may fail, leaving what it would have committed to the
            # rollback in its handler: it does not start a new transaction here
            if call.method == "rollback" or (call.method == "commit" and not any(
                    call.position in body for body in tried.values())):
                previous[call.session] = call.position
            if call.method not in _EXPIRING:
                continue
            changed = changes(self.ctx, state, start, call.position)
            names = sorted(state.bound_before(call.position))
            given = _expired_names(call.call)
            if call.method == "expire":
                first = call.call.args[0].value if call.call.args else None
                names = [first.value] if isinstance(first, cst.Name) else []
            for name in names:
                if name in ("self", "cls") or self.ctx.plan.kind(
                        self.ctx.ix, self.ctx.scope, name) is not None or (
                            holds_plain_value(node, name)):
                    continue
                # until it is refreshed, or the session closes (a read after that failed in
                # the sync program too: the object is detached)
                end = next((c.position for c in state.calls if c.position > call.position
                            and ((c.method == "close" and c.session == call.session) or (
                                c.method == "refresh" and c.call.args and isinstance(
                                    c.call.args[0].value, cst.Name)
                                and c.call.args[0].value.value == name))),
                           len(state.statements))
                chains, first_read = state.chains_after(name, call.position, end)
                if first_read is None:
                    continue
                if call.method == "rollback" and name in changed.built:
                    continue  # new in the rolled-back transaction: transient again, not expired
                shown = ", ".join(sorted(set(chains))[:3])
                if cannot or (call.method == "rollback" and name in changed.added):
                    why = cannot or (f"{name} was added in the rolled-back transaction: if it "
                                     "was new it is transient again (nothing to reload), "
                                     "otherwise it is expired")
                    self.ctx.todo(self.code, f"{call.method}() expires {name}: {shown} is read "
                                             "afterwards and would reload implicitly "
                                             f"(MissingGreenlet); {why}: await "
                                             f"{call.session}.refresh({name}) after it if it "
                                             "was loaded before", call.statement,
                                  at=call.statement)
                    continue
                cls = class_of(self.ctx, node, name)
                # printed first, while expired (a SQLModel object shows no fields): after that
                printing = expired_print(self.ctx, state, call, name, cls, chains, first_read)
                if printing is not None and printing.closed:
                    continue  # expired until the session closes, as in the sync program
                if printing is not None and not printing.known:
                    expired_print_todo(self.ctx, self.code, call, name)
                anchor, position = (printing.statement, printing.end) if (
                    printing and printing.statement) else (call.statement, call.position)
                relationships = relationships_read(self.ctx, cls, name, chains, lazy_only=True)
                refreshes = [refresh_statement(call.session, name, given)]
                if relationships and given is None:
                    refreshes.append(refresh_statement(call.session, name, relationships))
                self._related(call, cls, name, chains, relationships)
                for statement in refreshes:
                    code = cst.Module([]).code_for_node(statement).strip()
                    if already_there(state, position, statement, 1):
                        continue
                    if self.ctx.report(self.code, Kind.CHANGE, f"{code}: {call.method}() "
                                       f"expires {name}, read afterwards ({shown}); the sync "
                                       "program reloaded it there", call.statement,
                                       at=call.statement):
                        self.after.setdefault(id(anchor), []).append(statement)
                        self.ctx.io_scopes.add(self.ctx.scope)

    def _related(self, call, cls: str | None, name: str, chains: list[str],
                 relationships: list[str]) -> None:
        """The rollback expired the objects `name`'s many-to-one relationships hold too, and
        loading the relationship finds them in the identity map, still expired: a read
        through it (`item.shelf.label`) gets a TODO."""
        plan = self.ctx.plan
        for attr in relationships if cls is not None else ():
            info = plan.relationship(cls, attr)
            inner = sorted({c for c in chains if c.startswith(f"{name}.{attr}.")})
            if info is None or info.uselist is not False or not inner:
                continue
            target = (plan.relationship_target(cls, attr) or "<its class>").rpartition(".")[2]
            self.ctx.todo(self.code, f"{call.method}() also expires the object {name}.{attr} "
                                     f"holds, and {', '.join(inner[:2])} is read afterwards: "
                                     f"refreshing {name} finds it in the identity map still "
                                     "expired, so that read loads implicitly "
                                     "(MissingGreenlet); load it again explicitly, e.g. "
                                     f"await {call.session}.get({target}, <its key>, "
                                     "populate_existing=True)", call.statement,
                          at=call.statement)

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.BaseStatement
                                  ) -> cst.BaseStatement | cst.FlattenSentinel:
        return with_inserted(original, updated, {}, self.after)

    # a print inside a compound statement: the refresh goes after it
    leave_If = leave_For = leave_While = leave_Try = leave_With = leave_SimpleStatementLine


def _tried_commits(node: Body, state: FunctionState) -> dict[int, set[int]]:
    """Positions of the statements in each `try:` body of the function, by the try's id:
    a commit there may fail, leaving what it would have committed to the rollback."""
    found: dict[int, set[int]] = {}
    for statement in state.statements:
        if isinstance(statement, cst.Try):
            inner = FunctionState.collect_positions(statement.body, state)
            found[id(statement)] = inner
    return found


def _expired_names(call: cst.Call) -> list[str] | None:
    """`expire(obj, ["name", "email"])`: the attribute names it expires."""
    names = call.args[1].value if len(call.args) > 1 else None
    if not isinstance(names, cst.List | cst.Tuple):
        return None
    found = [e.value.evaluated_value for e in names.elements
             if isinstance(e.value, cst.SimpleString)]
    return [f for f in found if isinstance(f, str)] or None
