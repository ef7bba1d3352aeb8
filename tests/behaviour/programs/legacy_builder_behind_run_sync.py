"""A method builds a legacy Query on the catalog's session — rows of two shapes under a
condition — and hands it back; another method hands it on with one more filter. Neither can
become a select(), so both build it on the session's sync_session, and each caller that runs
it (through a variable, a copy of it narrowed further, or a chain run directly) does so
inside run_sync; a filter that became async is awaited just before. Same rows out."""
from sqlalchemy import ForeignKey, and_, create_engine, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    hidden: Mapped[bool] = mapped_column(default=False)


class Loan(Base):
    __tablename__ = "loans"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    reader: Mapped[int]


engine = create_engine("sqlite://")


class Catalog:
    def __init__(self, session: Session) -> None:
        self.session = session

    def visible(self):
        hidden = self.session.scalars(select(Book.id).where(Book.hidden)).all()
        return Book.id.not_in(hidden)

    def with_loans(self, entity, reader):
        if reader:
            query = (self.session.query(entity, Loan.id)
                     .select_from(Book)
                     .outerjoin(Loan, and_(Loan.book_id == Book.id, Loan.reader == reader)))
        else:
            query = self.session.query(entity, None)
        return query.order_by(Book.id)

    def titled(self, reader, prefix):
        books = self.with_loans(Book.title, reader)
        return books.filter(Book.title.startswith(prefix))

    def page(self, entity, joined, size, reader=0):
        if joined:
            query = self.with_loans(entity, reader)
        else:
            query = self.session.query(entity)
        query = query.filter(self.visible())
        first = query.filter(Book.id > 1)
        return query.count(), first.limit(size).all()

    def lent_count(self, reader):
        return len(self.with_loans(Book.id, reader).filter(self.visible()).filter(
            Loan.id.is_not(None)).all())


class Shelf:
    """A helper method whose Query converts (its callers chain on the select() it returns),
    and a builder returning its legacy Query directly."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def visible(self):
        hidden = self.session.scalars(select(Book.id).where(Book.hidden)).all()
        return Book.id.not_in(hidden)

    def loans_of(self, reader):
        return self.session.query(Book.title, Loan.id).join(Loan).filter(Loan.reader == reader)

    def count_for(self, reader):
        return self.loans_of(reader).filter(self.visible()).count()

    def with_flag(self, entity):
        return self.session.query(entity, None).order_by(Book.id)

    def flagged(self):
        return self.with_flag(Book.title).filter(self.visible()).all()


def report(catalog: Catalog) -> None:
    print(catalog.page(Book.title, True, 5, 7))
    print(catalog.page(Book.title, False, 1))
    print(catalog.lent_count(7), catalog.lent_count(8))
    print(catalog.titled(7, "b").all())


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Book(title="a"), Book(title="b", hidden=True), Book(title="bc"),
                         Book(title="d"), Loan(book_id=3, reader=7), Loan(book_id=1, reader=7)])
        session.commit()
        report(Catalog(session))
        shelf = Shelf(session)
        print(shelf.count_for(7), shelf.count_for(8), shelf.flagged())


if __name__ == "__main__":
    main()
