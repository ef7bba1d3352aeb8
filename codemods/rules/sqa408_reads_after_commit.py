"""SQA408: reads after commit() that the synchronous program reloaded: refresh the object."""

from __future__ import annotations

import libcst as cst

from ..results import Kind
from ..rewrite.reads import Body
from ..rewrite.refreshes import (
    ExpiredPrint,
    FunctionState,
    SessionCall,
    already_there,
    changes,
    class_of,
    database_computed,
    expire_statement,
    expired_print,
    expired_print_todo,
    explicit_sessions,
    in_entry_point,
    project_expires_on_commit,
    refresh_statement,
    relationships_read,
    response_refreshes,
    with_inserted,
)
from .base import USERS_AND_ADDRESSES, Case, Rule

_BOUNDARIES = frozenset({"commit", "rollback", "close", "expire_all", "expunge_all"})


class ReadsAfterCommit(Rule):
    """Reads after `commit()` see what the synchronous program saw.

    A sync session expires every object on `commit()` (the default `expire_on_commit=True`):
    the first read afterwards reloads it from the database. The migrated sessions keep
    `expire_on_commit=False` (an expired attribute cannot reload itself under asyncio), so
    they read what is in memory, which differs from the reloaded row where the transaction
    moved relationships or foreign keys (the other side of a relationship without
    `back_populates`, a link appended twice), where SQL the ORM does not see changed rows,
    or where an object written in the transaction is printed whole (the database's types
    convert what was assigned). There the tool inserts `await session.refresh(obj)` after the
    commit, with the relationships read next named (`await session.refresh(obj, ["team"])`):
    a plain refresh leaves lazy relationships unloaded, so one read afterwards would fail.
    That also applies after a `session.refresh(obj)` of the original code, and to a FastAPI
    route whose `response_model` serializes relationships of the object it returns. Sessions
    whose factory set `expire_on_commit` in the original code are left as they are.

    A SQLModel object printed whole right after the commit printed no fields in the sync
    program (SQLModel prints its `__dict__`, empty while expired): the tool expires it after
    the commit with `session.expire(obj)` and refreshes it after the print, unless the
    print ends the `with` block of the session or follows it (then it stays expired and
    detached, as it did).
    """

    code = "SQA408"
    needs = frozenset({"async-functions", "async-objects"})
    summary = ("reads after commit() that sync reloaded, relationships read after refresh() "
               "→ await session.refresh(obj, [names])")
    cases = (
        Case("""
            # an address handed to another user by its foreign key
            from sqlalchemy.orm import Session

            from models import Address, User


            def move(session: Session, address_id: int, user_id: int) -> str:
                address = session.get(Address, address_id)
                # the sync program reloads address.user after the commit: the new owner
                address.user_id = user_id
                session.commit()
                return address.user.name
        """, """
            # an address handed to another user by its foreign key
            from sqlalchemy.ext.asyncio import AsyncSession
            from sqlalchemy.orm import joinedload

            from models import Address, User


            async def move(session: AsyncSession, address_id: int, user_id: int) -> str:
                address = await session.get(Address, address_id, options=[joinedload(Address.user)], populate_existing=True)
                # the sync program reloads address.user after the commit: the new owner
                address.user_id = user_id
                await session.commit()
                await session.refresh(address, ["user"])
                return address.user.name
        """, models=USERS_AND_ADDRESSES),  # noqa: E501
        Case("""
            from sqlalchemy.ext.asyncio import AsyncSession

            from models import User


            async def rename(session: AsyncSession, user: User, name: str) -> str:
                user.name = name
                await session.commit()
                return user.name
        """, models=USERS_AND_ADDRESSES),
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.scopes = ctx.scopes_calling({"commit", "refresh", "begin"})
        self.expiring = None  # computed on first use: a project question
        self.after: dict[int, list[cst.BaseStatement]] = {}
        self.before: dict[int, list[cst.BaseStatement]] = {}

    def visit_Module(self, node: cst.Module) -> None:
        if "" in self.scopes and in_entry_point(self.ctx):
            self._body(node)  # a script's statements, run in its async entry point

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.ctx.scope in self.scopes and not self.ctx.cannot_await():
            self._body(node)
            self._response(node, self.state)

    def _body(self, node: Body) -> None:
        state = self.state = FunctionState.collect(self.ctx, node)
        if self.expiring is None:
            self.expiring = project_expires_on_commit(self.ctx)
        if self.expiring:
            self._after_commits(node, state)
        self._after_refreshes(node, state)

    def _insert(self, table: dict[int, list[cst.BaseStatement]],
                statement: cst.BaseStatement, new: cst.SimpleStatementLine,
                why: str, position: int | None = None) -> bool:
        code = cst.Module([]).code_for_node(new).strip()
        present = {cst.Module([]).code_for_node(s).strip() for s in table.get(id(statement), [])}
        position = self.state.positions[id(statement)] if position is None else position
        if code in present or already_there(self.state, position, new,
                                            1 if table is self.after else -1):
            return False
        if not self.ctx.report(self.code, Kind.CHANGE, f"{code}: {why}", statement,
                               at=statement):
            return False
        table.setdefault(id(statement), []).append(new)
        self.ctx.io_scopes.add(self.ctx.scope)
        return True

    def _deeper(self, node: Body, name: str, cls: str | None, chains: list[str],
                relationships: list[str], anchor: cst.BaseStatement) -> None:
        """A refresh naming `relationships` loads them, not the relationships of what they
        hold: a read one level deeper that loads lazily gets a TODO."""
        if cls is None:
            return
        deeper = sorted({".".join(h[1] for h in hops[:2]) for chain in chains
                         if len(hops := self.ctx.plan.relationship_paths(cls, chain.partition(
                             ".")[2])) > 1 and hops[0][1] in relationships
                         and self.ctx.plan.loads_implicitly(*hops[1])})
        for path in deeper:
            first, _, second = path.partition(".")
            self.ctx.todo(self.code, f"{name}.{path} is read after this commit; the refresh of "
                                     f"{name}.{first} below does not load its {second}, so "
                                     "that read loads lazily (MissingGreenlet): add await "
                                     f'session.refresh({name}.{first}, ["{second}"]) (for each '
                                     "object when it is a collection)", anchor, at=anchor)

    def _boundary(self, state: FunctionState, position: int, session: str) -> int:
        """The next statement after `position` that ends what a commit leaves: another
        commit, a rollback, closing the session (or the function's end)."""
        return next((c.position for c in state.calls if c.position > position
                     and c.session == session and c.method in _BOUNDARIES),
                    len(state.statements))

    def _after_commits(self, node: Body, state: FunctionState) -> None:
        explicit = explicit_sessions(self.ctx, node)
        previous: dict[str, int] = {}
        for call in state.calls:
            start = previous.get(call.session, -1)
            if call.method in _BOUNDARIES:
                previous[call.session] = call.position
            if call.method != "commit" or call.session.split(".")[0] in explicit:
                continue
            changed = changes(self.ctx, state, start, call.position + call.block_end)
            end = self._boundary(state, call.position, call.session)
            for name in sorted(state.bound_before(call.position)):
                if name in ("self", "cls") or self.ctx.plan.kind(
                        self.ctx.ix, self.ctx.scope, name) is not None:
                    continue
                # up to the code's own refresh of it (see _after_refreshes) or expire (SQA403)
                until = next((c.position for c in state.calls if call.position < c.position < end
                              and c.method in ("refresh", "expire") and c.call.args and isinstance(
                                  c.call.args[0].value, cst.Name)
                              and c.call.args[0].value.value == name), end)
                chains, first = state.chains_after(name, call.position, until)
                if first is None:
                    continue
                cls = class_of(self.ctx, node, name)
                relationships = relationships_read(self.ctx, cls, name, chains)
                printed = any(c == f"{name}.__str__" or c == f"{name}.__repr__"
                              for c in chains)
                written = name in changed.written or name in changed.built
                computed = written and database_computed(self.ctx, cls)
                shown = expired_print(self.ctx, state, call, name, cls, chains, first) if (
                    printed and (written or changed.raw_sql)) else None
                if shown is not None and shown.known:
                    self._expired_print(node, state, call, name, cls, shown)
                    continue
                if shown is not None:  # refreshed below, which may print otherwise
                    expired_print_todo(self.ctx, self.code, call, name)
                if changed.raw_sql or computed or (printed and written):
                    why = ("SQL the ORM did not see ran before this commit"
                           if changed.raw_sql else f"{cls.rpartition('.')[2]} has columns "
                           "the database computes on UPDATE" if computed and cls else
                           f"{name} was written before this commit and is printed after it")
                    self._insert(self.after, call.statement,
                                 refresh_statement(call.session, name),
                                 f"the sync program reloaded {name} on its first read after "
                                 f"commit(); {why}", call.position)
                    if relationships:
                        self._insert(self.after, call.statement,
                                     refresh_statement(call.session, name, relationships),
                                     "refresh() leaves relationships unloaded; they are "
                                     "read next", call.position)
                        self._deeper(node, name, cls, chains, relationships, call.statement)
                elif changed.relationships and relationships:
                    self._insert(self.after, call.statement,
                                 refresh_statement(call.session, name, relationships),
                                 "the sync program reloaded "
                                 f"{', '.join(f'{name}.{r}' for r in relationships)} after "
                                 "commit(); relationships or foreign keys changed before it, "
                                 "so what is in memory can differ", call.position)
                    self._deeper(node, name, cls, chains, relationships, call.statement)

    def _expired_print(self, node: Body, state: FunctionState, call: SessionCall, name: str,
                       cls: str | None, shown: ExpiredPrint) -> None:
        """Printed right after the commit: expire the object as the sync session did (the
        print shows no fields), and load it again after the print."""
        self._insert(self.after, call.statement, expire_statement(call.session, name),
                     f"the sync program expired {name} on commit(), and a SQLModel object "
                     "prints no fields while expired", call.position)
        if shown.closed:
            return
        chains, _ = state.chains_after(name, shown.end, len(state.statements))
        relationships = relationships_read(self.ctx, cls, name, chains)
        self._insert(self.after, shown.statement, refresh_statement(call.session, name),
                     f"the sync program reloaded {name} on its next read", shown.end)
        if relationships:
            self._insert(self.after, shown.statement,
                         refresh_statement(call.session, name, relationships),
                         "refresh() leaves relationships unloaded; they are read next",
                         shown.end)
            self._deeper(node, name, cls, chains, relationships, shown.statement)

    def _after_refreshes(self, node: Body, state: FunctionState) -> None:
        """`session.refresh(obj)` of the original code, then `obj.rel`: refresh() leaves lazy
        relationships unloaded, so name the ones read next."""
        for call in state.calls:
            if call.method != "refresh" or len(call.call.args) != 1 or call.call.args[
                    0].keyword is not None or not isinstance(call.call.args[0].value, cst.Name):
                continue
            name = call.call.args[0].value.value
            # up to the next refresh of the same object (one of another object in between
            # leaves this one as it was)
            end = next((c.position for c in state.calls if c.position > call.position
                        and c.session == call.session and (c.method in _BOUNDARIES or (
                            c.method == "refresh" and _refreshes(c.call, name)))),
                       len(state.statements))
            chains, first = state.chains_after(name, call.position, end)
            cls = class_of(self.ctx, node, name)
            relationships = relationships_read(self.ctx, cls, name, chains, lazy_only=True)
            if first is not None and relationships:
                self._insert(self.after, call.statement,
                             refresh_statement(call.session, name, relationships),
                             "refresh() leaves lazy relationships unloaded and they are read "
                             "next")
                self._deeper(node, name, cls, chains, relationships, call.statement)

    def _response(self, node: cst.FunctionDef, state: FunctionState) -> None:
        """A route whose response_model serializes relationships of the object it returns:
        load them before the return."""
        found = response_refreshes(self.ctx, node, state)
        if not found:
            return
        for statement, session, name, relationships in found:
            self._insert(self.before, statement,
                         refresh_statement(session, name, relationships),
                         f"response_model serializes {', '.join(relationships)} of {name} "
                         "after the route returns, where nothing can load them")

    def leave_SimpleStatementLine(self, original: cst.SimpleStatementLine,
                                  updated: cst.BaseStatement
                                  ) -> cst.BaseStatement | cst.FlattenSentinel:
        return with_inserted(original, updated, self.before, self.after)

    def leave_With(self, original: cst.With, updated: cst.BaseStatement
                   ) -> cst.BaseStatement | cst.FlattenSentinel:
        return with_inserted(original, updated, self.before, self.after)

    # a print inside a compound statement: the refresh goes after it (_expired_print)
    leave_If = leave_For = leave_While = leave_Try = leave_With


def _refreshes(call: cst.Call, name: str) -> bool:
    """`session.refresh(name, ...)`."""
    return bool(call.args) and isinstance(call.args[0].value, cst.Name) and (
        call.args[0].value.value == name)
