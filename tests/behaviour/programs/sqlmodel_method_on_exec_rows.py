"""SQLModel rows of session.exec(stmt), stmt narrowed under an if, looped over directly or
through a variable: a model method that queries (and so becomes async) called on the loop
variable is awaited."""
from typing import Optional

from sqlmodel import Field, Session, SQLModel, create_engine, select

engine = create_engine("sqlite://")


class Account(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str

    def last_entry(self, session: Session):
        stmt = select(Entry).where(Entry.account_id == self.id).order_by(Entry.id.desc())
        return session.exec(stmt).first()


class Entry(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    amount: int


def report(**filters):
    stmt = select(Account)
    if "name" in filters:
        stmt = stmt.where(Account.name == filters["name"])
    with Session(engine) as session:
        out = []
        for account in session.exec(stmt):
            out.append((account.name, account.last_entry(session).amount))
        names = session.exec(select(Account.name)).all()  # another exec() in the function
        rows = session.exec(stmt)
        for account in rows:  # through a variable
            out.append((account.name, account.last_entry(session).amount, len(names)))
        return out


def main():
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Account(id=1, name="a"))
        session.add(Entry(account_id=1, amount=5))
        session.commit()
    print(report())


if __name__ == "__main__":
    main()
