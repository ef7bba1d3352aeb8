"""A query selecting an entity and a column the tool cannot classify (picked from a dict at
run time), run with first() and count(): the rows are Rows either way, so the select() is
run the same; with all() it stays legacy behind run_sync."""
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(40))


class Read(Base):
    __tablename__ = "reads"
    id: Mapped[int] = mapped_column(primary_key=True)
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    done: Mapped[bool]
    stars: Mapped[int]


COLUMNS = {"done": Read.done, "stars": Read.stars}
MODELS = {"book": Book, "read": Read}


def read_state(session: Session, book_id: int, name: str):
    column = COLUMNS.get(name)
    if column is not None:
        q = session.query(Book, column).outerjoin(Read, Read.book_id == Book.id)
    else:
        q = session.query(Book, None)
    row = q.filter(Book.id == book_id).first()
    return (row[0].title, row[1]) if row else None


def rated(session: Session, name: str):
    column = COLUMNS[name]
    return session.query(Book, column).join(Read, Read.book_id == Book.id).count()


def how_many(session: Session, name: str):
    model = MODELS[name]  # a class only known at run time: counted the same either way
    found = session.query(model).filter(model.id > 0)
    return found.count()


def every_state(session: Session, name: str):
    column = COLUMNS[name]
    rows = session.query(Book, column).outerjoin(Read, Read.book_id == Book.id).order_by(
        Book.id).all()
    return [(book.title, value) for book, value in rows]


def main():
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all([Book(id=1, title="Dune"), Book(id=2, title="Emma"),
                         Read(book_id=1, done=True, stars=5), Read(book_id=1, done=False,
                                                                  stars=3)])
        session.commit()
        print(read_state(session, 1, "done"), read_state(session, 2, "stars"),
              read_state(session, 1, "nothing"))
        print(rated(session, "stars"), how_many(session, "book"), how_many(session, "read"))
        print(every_state(session, "stars"))


if __name__ == "__main__":
    main()
