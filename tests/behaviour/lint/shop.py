"""Models and a seeded database shared by the lint behaviour programs (aiosqlite)."""

from __future__ import annotations

from sqlalchemy import ForeignKey
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    bio: Mapped[str] = mapped_column(deferred=True, default="")
    addresses: Mapped[list[Address]] = relationship(back_populates="user")


class Address(Base):
    __tablename__ = "addresses"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    email: Mapped[str]
    user: Mapped[User] = relationship(back_populates="addresses")


async def seeded(path: str = ":memory:") -> tuple[AsyncEngine, async_sessionmaker]:
    """An engine with two users (the first with two addresses) and its default factory
    (expire_on_commit=True, as async_sessionmaker's default)."""
    engine = create_async_engine(f"sqlite+aiosqlite:///{path}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    maker = async_sessionmaker(engine)
    async with maker() as session:
        session.add_all([User(id=1, name="ann", bio="b1", addresses=[
            Address(id=1, email="a@x"), Address(id=2, email="b@x")]),
            User(id=2, name="bob", bio="b2")])
        await session.commit()
    return engine, maker


def outcome(error: BaseException) -> str:
    """The exception as the program prints it: its class, and the one it wraps."""
    wrapped = getattr(error, "orig", None)
    return f"{type(error).__name__}" + (f" ({type(wrapped).__name__})" if wrapped else "")


async def run_checks(maker: async_sessionmaker, *checks) -> None:
    """Each check on a session of its own, printing what it returned or raised."""
    for check in checks:
        async with maker() as session:
            try:
                print(check.__name__, "->", await check(session))
            except Exception as error:  # noqa: BLE001 - the failure is what it shows
                print(check.__name__, "->", outcome(error))
