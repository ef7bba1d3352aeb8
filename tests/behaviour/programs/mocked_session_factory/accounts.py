"""A module using a session factory; test_accounts.py patches what it uses."""

from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

engine = create_engine("sqlite:///accounts.db")
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(30))


def open_account(owner: str) -> None:
    with SessionLocal() as session:
        session.add(Account(owner=owner))
        session.commit()


def owner_of(account_id: int) -> str:
    with SessionLocal() as session:
        return session.get(Account, account_id).owner


def greeting(account_id: int) -> str:
    return f"Dear {owner_of(account_id)}"


def audit_session() -> Session:
    return Session(engine)
