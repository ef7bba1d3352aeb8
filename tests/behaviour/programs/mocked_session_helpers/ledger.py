"""A small ledger on a session factory; test_ledger.py mocks it in the ways a suite does."""

from sqlalchemy import String, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

engine = create_engine("sqlite:///ledger.db")
SessionLocal = sessionmaker(bind=engine)


class Base(DeclarativeBase):
    pass


class Entry(Base):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(40))
    cents: Mapped[int]


def record(label: str, cents: int) -> None:
    with SessionLocal() as session:
        session.add(Entry(label=label, cents=cents))
        session.commit()


def labels() -> list[str]:
    with SessionLocal() as session:
        return list(session.scalars(select(Entry.label).order_by(Entry.id)))


def report_session() -> Session:
    return Session(engine)
