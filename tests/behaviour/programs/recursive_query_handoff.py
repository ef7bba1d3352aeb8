"""A function that calls itself with a legacy query built in the call: the recursive call
runs where its caller runs (never behind run_sync of its own), and a re-run changes nothing."""
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    closed: Mapped[bool] = mapped_column(default=False)


def count_open(query, session=None):
    if session is not None:
        return count_open(session.query(Ticket).filter(Ticket.closed.is_(False)))
    return query.count()


def report(session: Session):
    session.commit()
    return count_open(None, session=session)


def main():
    import sqlalchemy as sa

    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Ticket(id=i, closed=i % 3 == 0) for i in range(1, 10)])
        print(report(session))


if __name__ == "__main__":
    main()
