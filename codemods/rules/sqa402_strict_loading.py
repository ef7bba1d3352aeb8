"""SQA402 (opt-in, --strict-loading): relationships raise instead of loading implicitly."""

from __future__ import annotations

import libcst as cst

from ..api_surface import RELATIONSHIP_FUNCTIONS
from ..rewrite.build import with_keyword_default
from .base import Case, Rule


class StrictLoading(Rule):
    """With `--strict-loading`, relationships without a `lazy=` get `lazy="raise"`.

    A load the migration could not prove then fails loudly in the tests
    (`InvalidRequestError: 'User.addresses' is not available due to lazy='raise'`) instead of
    as `MissingGreenlet` in production, far from its cause. SQLModel's
    `Relationship()` gets `sa_relationship_kwargs={"lazy": "raise"}`.
    """

    code = "SQA402"
    summary = "--strict-loading: relationship(...) → relationship(..., lazy=\"raise\")"
    cases = (
        Case("""
            from sqlalchemy import ForeignKey
            from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


            class Base(DeclarativeBase):
                pass


            class User(Base):
                __tablename__ = "users"
                id: Mapped[int] = mapped_column(primary_key=True)
                addresses: Mapped[list["Address"]] = relationship()


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
                addresses: Mapped[list["Address"]] = relationship(lazy="raise")


            class Address(Base):
                __tablename__ = "addresses"
                id: Mapped[int] = mapped_column(primary_key=True)
                user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
        """, strict_loading=True),
    )

    def leave_Call(self, original: cst.Call, updated: cst.BaseExpression) -> cst.BaseExpression:
        if not self.ctx.config.strict_loading or not isinstance(updated, cst.Call):
            return updated
        qualified = self.ctx.qualify(original.func)
        if qualified not in RELATIONSHIP_FUNCTIONS:
            return updated
        if qualified == "sqlmodel.Relationship":
            changed = with_keyword_default(updated, "sa_relationship_kwargs", '{"lazy": "raise"}')
        else:
            changed = with_keyword_default(updated, "lazy", '"raise"')
        if changed is None:
            return updated  # a loading strategy is already chosen
        self.ctx.change(self.code, 'relationship(lazy="raise"): implicit loads fail loudly',
                        original)
        return changed
