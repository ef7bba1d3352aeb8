"""SQA403: attributes read after rollback()/expire() would reload implicitly: a TODO."""

from __future__ import annotations

import libcst as cst

from ..analysis import ObjKind
from ..rewrite.context import dotted
from ..rewrite.traversal import Visitor
from .base import USERS_AND_ADDRESSES, Case, Rule

_EXPIRING = frozenset({"rollback", "expire", "expire_all"})


class ExpiredReads(Rule):
    """Objects read after `session.rollback()` / `expire()` need `await session.refresh(obj)`.

    `rollback()` expires everything even with `expire_on_commit=False`, and `expire()` does
    what it says; the next plain attribute read then needs I/O.
    """

    code = "SQA403"
    summary = "reads after rollback()/expire() → TODO: await session.refresh(obj) first"
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
                # TODO(sqla-asyncify SQA403): rollback() expires every loaded object: user.name is read afterwards and would reload implicitly (MissingGreenlet): await session.refresh(user) after it
                await session.rollback()
                return user.name
        """, models=USERS_AND_ADDRESSES),  # noqa: E501
    )

    def __init__(self, ctx) -> None:
        super().__init__(ctx)
        self.expiring_scopes = ctx.scopes_calling(_EXPIRING)

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        if self.ctx.scope not in self.expiring_scopes:
            return
        statements = _Statements.collect(node)
        assigned: list[set[str]] = []
        names: set[str] = set()
        for stmt in statements:
            assigned.append(set(names))
            names |= _assigned_names(stmt)
        for position, stmt in enumerate(statements):
            call = self._expiring_call(stmt)
            if call is None:
                continue
            before = assigned[position]
            read = sorted({chain for later in statements[position + 1:]
                           for chain in _reads(later) if chain.split(".")[0] in before
                           and self._plain_object(chain.split(".")[0])})
            if read:
                first = read[0].split(".")[0]
                self.ctx.todo(self.code, f"{call}() expires every loaded object: "
                                         f"{', '.join(read[:3])} is read afterwards and would "
                                         "reload implicitly (MissingGreenlet): await "
                                         f"session.refresh({first}) after it", stmt, at=stmt)

    def _plain_object(self, name: str) -> bool:
        """Not a session, engine, …: a variable that may hold a loaded object."""
        return self.ctx.plan.kind(self.ctx.ix, self.ctx.scope, name) is None

    def _expiring_call(self, stmt: cst.SimpleStatementLine) -> str | None:
        for small in stmt.body:
            value = small.value if isinstance(small, cst.Expr) else None
            if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute) and (
                    value.func.attr.value in _EXPIRING) and self.ctx.kind(
                    value.func.value) is ObjKind.SESSION:
                return value.func.attr.value
        return None


class _Statements(Visitor):
    """The simple statements of a function in source order (not of nested functions)."""

    def __init__(self) -> None:
        self.found: list[cst.SimpleStatementLine] = []

    @classmethod
    def collect(cls, function: cst.FunctionDef) -> list[cst.SimpleStatementLine]:
        visitor = cls()
        visitor.walk(function.body)
        return visitor.found

    def visit_FunctionDef(self, node: cst.FunctionDef) -> bool:
        return False

    def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
        self.found.append(node)
        return False


def _assigned_names(stmt: cst.SimpleStatementLine) -> set[str]:
    return {t.target.value for small in stmt.body if isinstance(small, cst.Assign)
            for t in small.targets if isinstance(t.target, cst.Name)}


class _Chains(Visitor):
    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        name = dotted(node)
        if name:
            self.found.add(name)
        return False


def _reads(stmt: cst.SimpleStatementLine) -> set[str]:
    visitor = _Chains()
    visitor.walk(stmt)
    return visitor.found
