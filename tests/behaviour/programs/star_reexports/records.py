from sqlalchemy import ForeignKey
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

__all__ = ["Base", "Entry", "Ledger", "total_of"]


class Base(DeclarativeBase):
    pass


class Entry(Base):
    __tablename__ = "entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    account: Mapped[str]
    amount: Mapped[int]
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("entries.id"))


class Ledger:
    def __init__(self, session: Session):
        self.session = session

    def open_items(self, account):
        return self.session.query(Entry).filter_by(account=account).order_by(Entry.id).all()


def total_of(session: Session, account):
    return sum(e.amount for e in session.query(Entry).filter(Entry.account == account))
