"""SQA406: `lazy="dynamic"` relationships: a TODO at the declaration to move to WriteOnlyMapped."""

from __future__ import annotations

import libcst as cst

from ..api_surface import RELATIONSHIP_FUNCTIONS
from .base import Case, Rule


class DynamicRelationships(Rule):
    """A `lazy="dynamic"` relationship gets a TODO to move it to `WriteOnlyMapped`.

    It has no asyncio form: its reads run in `run_sync` (SQA400) until the model moves to
    `WriteOnlyMapped["Note"]` with `relationship()` (lazy="write_only"), the 2.0 form: read it
    with `await session.scalars(customer.notes.select())`, add with `customer.notes.add(n)`;
    iterating it raises `TypeError`. Every reader changes with it, so the
    tool does not rewrite the model.
    """

    code = "SQA406"
    summary = 'lazy="dynamic" relationships → TODO: move them to WriteOnlyMapped'
    cases = (
        Case("""
            from sqlalchemy import ForeignKey
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


            class Base(DeclarativeBase):
                pass


            class User(Base):
                __tablename__ = "users"
                id: Mapped[int] = mapped_column(primary_key=True)
                addresses = relationship("Address", lazy="dynamic")


            class Address(Base):
                __tablename__ = "addresses"
                id: Mapped[int] = mapped_column(primary_key=True)
                user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        """, """
            from sqlalchemy import ForeignKey
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


            class Base(DeclarativeBase):
                pass


            class User(Base):
                __tablename__ = "users"
                id: Mapped[int] = mapped_column(primary_key=True)
                # TODO(sqla-asyncify SQA406): User.addresses is lazy="dynamic", which has no asyncio form: its reads run in session.run_sync (SQA400); move it to WriteOnlyMapped[...] (lazy="write_only") and read it with `await session.scalars(obj.addresses.select())`
                addresses = relationship("Address", lazy="dynamic")


            class Address(Base):
                __tablename__ = "addresses"
                id: Mapped[int] = mapped_column(primary_key=True)
                user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        """),  # noqa: E501
    )

    def visit_Call(self, node: cst.Call) -> None:
        if self.ctx.qualify(node.func) not in RELATIONSHIP_FUNCTIONS:
            return
        lazy = next((a.value for a in node.args if a.keyword is not None
                     and a.keyword.value == "lazy"), None)
        if not (isinstance(lazy, cst.SimpleString) and lazy.evaluated_value == "dynamic"):
            return
        attr = self.ctx.assigned_name() or "<name>"
        self.ctx.todo(self.code, f'{self.ctx.scope}.{attr} is lazy="dynamic", which has no asyncio '
                                 "form: its reads run in session.run_sync (SQA400); move it to "
                                 'WriteOnlyMapped[...] (lazy="write_only") and read it with '
                                 f"`await session.scalars(obj.{attr}.select())`", node)
