"""A method handed a legacy query that it counts and pages through (a query finisher),
called through `self` and through an instance: handed the select() and the session instead,
it gives the same pages."""
from sqlalchemy import String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Ticket(Base):
    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    priority: Mapped[int] = mapped_column(default=0)


engine = create_engine("sqlite://")


class Pager:
    def __init__(self, per_page: int) -> None:
        self.per_page = per_page

    def page(self, query, number):
        total = query.count()
        items = query.offset((number - 1) * self.per_page).limit(self.per_page).all()
        return total, [t.title for t in items]

    def urgent(self, session: Session, number: int):
        return self.page(session.query(Ticket).filter(Ticket.priority >= 3).order_by(
            Ticket.title), number)


def pages(session: Session):
    pager = Pager(2)
    return [pager.page(session.query(Ticket).order_by(Ticket.id), n) for n in (1, 2, 3)]


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Ticket(title=f"t{i}", priority=i % 5) for i in range(7)])
        session.commit()
        print(pages(session))
        print(Pager(3).urgent(session, 1))


if __name__ == "__main__":
    main()
