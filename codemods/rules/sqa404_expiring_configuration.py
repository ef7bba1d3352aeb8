"""SQA404: configuration that makes attributes expire (and reload implicitly) gets a TODO."""

from __future__ import annotations

import libcst as cst

from ..api_surface import (
    ASYNC_SESSION_CLASSES,
    ASYNC_SESSIONMAKERS,
    EXPIRE_ON_COMMIT,
    SESSION_CLASSES,
    SESSIONMAKERS,
)
from ..rewrite.build import with_keyword_default
from .base import Case, Rule

_COLUMN_FUNCTIONS = frozenset({"mapped_column", "Column", "column_property"})
_SESSION_FACTORIES = (SESSIONMAKERS | SESSION_CLASSES | ASYNC_SESSIONMAKERS
                      | ASYNC_SESSION_CLASSES)


class ExpiringConfiguration(Rule):
    """`expire_on_commit=True` kept explicitly, and columns refreshed by the database on UPDATE.

        class Post(Base):
            # TODO(sqla-asyncify SQA404): Post.updated is computed by the database on UPDATE …
            updated: Mapped[datetime] = mapped_column(server_default=func.now(),
                                                      onupdate=func.now())

    The tool adds `expire_on_commit=False` only where the code did not choose (also to an
    `AsyncSession(engine)`/`async_sessionmaker(engine)` already in the code); a column with
    `onupdate=`/`server_onupdate=` is expired after an UPDATE flush unless the mapper sets
    `eager_defaults=True`; so is a `server_default=` column after an INSERT when the project's
    database (from its URL literals) is MySQL, which has no RETURNING.
    """

    code = "SQA404"
    summary = ("expire_on_commit=False on bare AsyncSession/async_sessionmaker; explicit "
               "expire_on_commit=True, onupdate columns, server defaults without RETURNING → "
               "TODO")
    cases = (
        Case("""
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///shop.db")


            async def save(user) -> None:
                async with AsyncSession(engine) as session:
                    session.add(user)
                    await session.commit()
        """, """
            from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

            engine = create_async_engine("sqlite+aiosqlite:///shop.db")


            async def save(user) -> None:
                async with AsyncSession(engine, expire_on_commit=False) as session:
                    session.add(user)
                    await session.commit()
        """),
    )

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        """Code already on AsyncSession that left the default: `expire_on_commit=False`, as the
        sessions the migration creates have (a read after commit() would reload)."""
        if not isinstance(updated, cst.Call) or (
                self.ctx.qualify(original.func) not in ASYNC_SESSION_CLASSES | ASYNC_SESSIONMAKERS):
            return updated
        changed = with_keyword_default(updated, EXPIRE_ON_COMMIT, "False")
        if changed is None:
            return updated
        self.ctx.change(self.code, "expire_on_commit=False: attributes read after commit() "
                                   "would reload implicitly (MissingGreenlet)", original)
        return changed

    def visit_Call(self, node: cst.Call) -> None:
        qualified = self.ctx.qualify(node.func) or ""
        keywords = {a.keyword.value: a.value for a in node.args if a.keyword is not None}
        if qualified in _SESSION_FACTORIES:
            value = keywords.get(EXPIRE_ON_COMMIT)
            if isinstance(value, cst.Name) and value.value == "True":
                self.ctx.todo(self.code, "expire_on_commit=True: every attribute read after "
                                         "commit() reloads implicitly (MissingGreenlet under "
                                         "asyncio): set it to False or `await "
                                         "session.refresh(obj)` after each commit", node)
        elif qualified.rpartition(".")[2] not in _COLUMN_FUNCTIONS or not (
                self._in_mapped_class()) or self._eager_defaults():
            return
        elif "onupdate" in keywords or "server_onupdate" in keywords:
            self.ctx.todo(self.code, f"{self._attribute_name()} is computed by the database on "
                                     "UPDATE: it is expired after the flush and reading it "
                                     "reloads implicitly; add __mapper_args__ = "
                                     '{"eager_defaults": True} or refresh', node)
        elif "server_default" in keywords and (
                dialects := self.ctx.plan.dialects_without_returning):
            self.ctx.todo(self.code, f"{self._attribute_name()} has a server default and "
                                     f"{'/'.join(sorted(dialects))} has no INSERT … RETURNING: it "
                                     "is expired after the INSERT and reading it reloads "
                                     "implicitly; add __mapper_args__ = "
                                     '{"eager_defaults": True} or refresh', node)

    def _eager_defaults(self) -> bool:
        """The class sets `__mapper_args__ = {"eager_defaults": True}`."""
        cls = self.ctx.scopes[-1][1]
        assert isinstance(cls, cst.ClassDef)
        for statement in cls.body.body:
            small = statement.body[0] if isinstance(statement, cst.SimpleStatementLine) else None
            if isinstance(small, cst.Assign) and isinstance(small.value, cst.Dict) and any(
                    isinstance(t.target, cst.Name) and t.target.value == "__mapper_args__"
                    for t in small.targets):
                return any(isinstance(e, cst.DictElement) and isinstance(e.key, cst.SimpleString)
                           and e.key.evaluated_value == "eager_defaults"
                           and isinstance(e.value, cst.Name) and e.value.value == "True"
                           for e in small.value.elements)
        return False

    def _in_mapped_class(self) -> bool:
        """A mapped class, or a mixin or abstract base mapped classes take columns from."""
        if not self.ctx.scopes or not isinstance(self.ctx.scopes[-1][1], cst.ClassDef):
            return False
        qualified = f"{self.ctx.ix.module}.{self.ctx.scope}" if self.ctx.ix.module else (
            self.ctx.scope)
        return qualified in self.ctx.plan.mapped_classes or self.ctx.plan.is_model_base(
            self.ctx.ix, self.ctx.scope)

    def _attribute_name(self) -> str:
        return f"{self.ctx.scope}.{self.ctx.assigned_name() or 'this column'}"
