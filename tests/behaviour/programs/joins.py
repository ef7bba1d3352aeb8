"""Library catalogue: join / outerjoin / multi-entity rows / column rows / filter_by after joins."""
from sqlalchemy import ForeignKey, String, create_engine, func
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Publisher(Base):
    __tablename__ = "publishers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    books: Mapped[list["Book"]] = relationship(back_populates="publisher")


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    genre: Mapped[str] = mapped_column(String(20))
    year: Mapped[int]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    publisher_id: Mapped[int] = mapped_column(ForeignKey("publishers.id"))
    author: Mapped[Author] = relationship(back_populates="books")
    publisher: Mapped[Publisher] = relationship(back_populates="books")


engine = create_engine("sqlite://")


def seed(session):
    penguin = Publisher(name="Penguin")
    ace = Publisher(name="Ace")
    gollancz = Publisher(name="Gollancz")
    le_guin = Author(name="Le Guin")
    herbert = Author(name="Herbert")
    banks = Author(name="Banks")
    quiet = Author(name="Quiet")
    session.add_all([penguin, ace, gollancz, le_guin, herbert, banks, quiet])
    session.add_all(
        [
            Book(title="Earthsea", genre="fantasy", year=1968, author=le_guin, publisher=penguin),
            Book(title="Left Hand", genre="scifi", year=1969, author=le_guin, publisher=ace),
            Book(title="Dispossessed", genre="scifi", year=1974, author=le_guin, publisher=gollancz),
            Book(title="Dune", genre="scifi", year=1965, author=herbert, publisher=ace),
            Book(title="Consider Phlebas", genre="scifi", year=1987, author=banks, publisher=penguin),
            Book(title="The Crow Road", genre="fiction", year=1992, author=banks, publisher=penguin),
        ]
    )
    session.commit()


def titles_with_authors(session):
    return (
        session.query(Author.name, Book.title)
        .join(Book, Author.id == Book.author_id)
        .order_by(Author.name, Book.title)
        .all()
    )


def early_books(session, before_year):
    return (
        session.query(Author, Book)
        .join(Author.books)
        .filter(Book.year < before_year)
        .order_by(Book.year)
        .all()
    )


def authors_writing(session, genre):
    # One Author per match in SQL; the legacy Query de-duplicates entities.
    return (
        session.query(Author)
        .join(Author.books)
        .filter(Book.genre == genre)
        .order_by(Author.name)
        .all()
    )


def books_from(session, publisher_name):
    # filter_by() applies to the last joined entity (Publisher), not Author.
    return (
        session.query(Book)
        .join(Book.author)
        .join(Book.publisher)
        .filter_by(name=publisher_name)
        .order_by(Book.id)
        .all()
    )


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed(session)

        rows = titles_with_authors(session)
        for row in rows:
            print("wrote:", row.name, "-", row.title)
        print("first row as tuple:", tuple(rows[0]))

        for author, book in early_books(session, 1970):
            print("early:", author.name, book.title, book.year)

        print("scifi authors:", [a.name for a in authors_writing(session, "scifi")])

        everyone = (
            session.query(Author.name, Book.title)
            .outerjoin(Author.books)
            .order_by(Author.name, Book.title)
            .all()
        )
        print("outer:", [(name, title) for name, title in everyone])

        idle = session.query(Author).outerjoin(Author.books).filter(Book.id.is_(None)).all()
        print("idle authors:", [a.name for a in idle])

        penguin = books_from(session, "Penguin")
        print("penguin:", [b.title for b in penguin])

        per_publisher = (
            session.query(Publisher.name, func.count(Book.id))
            .join(Publisher.books)
            .join(Book.author)
            .filter(Author.name != "Herbert")
            .group_by(Publisher.name)
            .order_by(Publisher.name)
            .all()
        )
        print("per publisher:", [tuple(r) for r in per_publisher])


if __name__ == "__main__":
    main()
