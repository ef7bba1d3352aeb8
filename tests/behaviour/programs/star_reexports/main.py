"""The API reached through a module that re-exports it with `import *`: `catalog.Ledger`,
`catalog.total_of`, and the names a star import brings into this module."""
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

import catalog
from catalog import *

engine = create_engine("sqlite://")
Session = sessionmaker(engine)


def report(session):
    ledger = catalog.Ledger(session)
    amounts = [e.amount for e in ledger.open_items("cash")]
    return amounts, catalog.total_of(session, "cash")


def other_total(session):
    return total_of(session, "bank") + len(Ledger(session).open_items("bank"))


def main():
    Base.metadata.create_all(engine)
    with Session() as session:
        session.add_all([Entry(account="cash", amount=5), Entry(account="cash", amount=7),
                         Entry(account="bank", amount=100)])
        session.commit()
    with Session() as session:
        print(report(session))
        print(other_total(session))


if __name__ == "__main__":
    main()
