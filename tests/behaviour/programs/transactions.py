"""Bank transfers: session.begin() blocks, SessionLocal.begin(), rollback on exceptions."""
from sqlalchemy import CheckConstraint, String, create_engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, sessionmaker


class Base(DeclarativeBase):
    pass


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(30), unique=True)
    balance: Mapped[int]


class InsufficientFunds(Exception):
    pass


engine = create_engine("sqlite://")
SessionLocal = sessionmaker(bind=engine)


def balances():
    with SessionLocal() as session:
        rows = session.query(Account.owner, Account.balance).order_by(Account.owner).all()
        return [(owner, balance) for owner, balance in rows]


def transfer(session, source_owner, target_owner, amount):
    with session.begin():
        source = session.query(Account).filter_by(owner=source_owner).one()
        target = session.query(Account).filter_by(owner=target_owner).one()
        source.balance -= amount
        target.balance += amount
        if source.balance < 0:
            raise InsufficientFunds(f"{source_owner} cannot send {amount}")


def open_accounts():
    with SessionLocal.begin() as session:
        session.add_all(
            [
                Account(owner="alice", balance=100),
                Account(owner="bob", balance=50),
                Account(owner="carol", balance=0),
            ]
        )


def main():
    Base.metadata.create_all(engine)
    open_accounts()
    print("opened:", balances())

    with SessionLocal() as session:
        transfer(session, "alice", "bob", 30)
    print("after transfer:", balances())

    try:
        with SessionLocal() as session:
            transfer(session, "carol", "alice", 10)
    except InsufficientFunds as exc:
        print("refused:", exc)
    print("after refused transfer:", balances())

    with SessionLocal() as session:
        try:
            with session.begin():
                session.add(Account(owner="temp", balance=1))
                session.flush()
                inside = session.query(Account).filter_by(owner="temp").count()
                print("temp inside block:", inside)
                raise RuntimeError("abort the block")
        except RuntimeError as exc:
            print("caught:", exc)
        outside = session.query(Account).filter_by(owner="temp").count()
        print("temp after rollback:", outside)

    try:
        with SessionLocal.begin() as session:
            session.add(Account(owner="dave", balance=5))
            session.add(Account(owner="alice", balance=5))
    except IntegrityError as exc:
        print("duplicate owner:", type(exc).__name__)
    print("after failed batch:", balances())

    try:
        with SessionLocal.begin() as session:
            bob = session.query(Account).filter(Account.owner == "bob").one()
            bob.balance = -1
    except IntegrityError as exc:
        print("check constraint:", type(exc).__name__)

    with SessionLocal.begin() as session:
        session.add(Account(owner="erin", balance=7))
    print("final:", balances())


if __name__ == "__main__":
    main()
