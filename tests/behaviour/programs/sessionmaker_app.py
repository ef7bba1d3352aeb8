"""Lending library service: module-level sessionmaker, typed helpers calling each other."""
from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import Date, ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Member(Base):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    copies: Mapped[int] = mapped_column(default=1)


class Loan(Base):
    __tablename__ = "loans"

    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    due: Mapped[date] = mapped_column(Date)
    returned: Mapped[bool] = mapped_column(default=False)


engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)

TODAY = date(2024, 3, 15)


def add_member(session: Session, name: str) -> Member:
    member = Member(name=name)
    session.add(member)
    session.flush()
    return member


def add_book(session: Session, title: str, copies: int = 1) -> Book:
    book = Book(title=title, copies=copies)
    session.add(book)
    session.flush()
    return book


def find_member(session: Session, name: str) -> Optional[Member]:
    return session.query(Member).filter(Member.name == name).one_or_none()


def available_copies(session: Session, book_id: int) -> int:
    book = session.get(Book, book_id)
    on_loan = (
        session.query(Loan).filter(Loan.book_id == book_id, Loan.returned.is_(False)).count()
    )
    return book.copies - on_loan


def lend(session: Session, book_id: int, member_name: str, due: date) -> Optional[Loan]:
    member = find_member(session, member_name)
    if member is None or available_copies(session, book_id) <= 0:
        return None
    loan = Loan(book_id=book_id, member_id=member.id, due=due)
    session.add(loan)
    session.commit()
    return loan


def give_back(session: Session, loan_id: int) -> None:
    loan = session.get(Loan, loan_id)
    loan.returned = True
    session.commit()


def overdue_report(session: Session) -> list[tuple[str, str, str]]:
    loans = (
        session.query(Loan)
        .filter(Loan.returned.is_(False), Loan.due < TODAY)
        .order_by(Loan.due, Loan.id)
        .all()
    )
    report = []
    for loan in loans:
        member = session.get(Member, loan.member_id)
        book = session.get(Book, loan.book_id)
        report.append((member.name, book.title, loan.due.isoformat()))
    return report


def setup() -> tuple[int, int]:
    with SessionLocal() as session:
        for name in ("ines", "jon", "kim"):
            add_member(session, name)
        dune = add_book(session, "Dune", copies=2)
        emma = add_book(session, "Emma")
        session.commit()
        return dune.id, emma.id


def main() -> None:
    Base.metadata.create_all(engine)
    dune_id, emma_id = setup()
    print("books:", dune_id, emma_id)

    with SessionLocal() as session:
        first = lend(session, dune_id, "ines", date(2024, 3, 1))
        print("loan 1:", first.id, first.book_id, first.due.isoformat())
        second = lend(session, dune_id, "jon", date(2024, 3, 20))
        print("loan 2:", second.id, second.member_id)
        print("third dune copy:", lend(session, dune_id, "kim", date(2024, 3, 2)))
        print("unknown member:", lend(session, emma_id, "zoe", date(2024, 3, 2)))
        emma_loan = lend(session, emma_id, "kim", date(2024, 2, 28))
        print("emma loan:", emma_loan.id)
        print("dune available:", available_copies(session, dune_id))

    with SessionLocal() as session:
        print("overdue:", overdue_report(session))
        give_back(session, emma_loan.id)
        print("overdue after return:", overdue_report(session))
        print("emma available:", available_copies(session, emma_id))


if __name__ == "__main__":
    main()
