"""Bookshelf statistics with Query.count(): plain, filtered, over joins, with LIMIT."""
from sqlalchemy import Column, ForeignKey, Integer, String, create_engine
from sqlalchemy.orm import Session, declarative_base, relationship

Base = declarative_base()


class Author(Base):
    __tablename__ = "authors"

    id = Column(Integer, primary_key=True)
    name = Column(String(50), nullable=False)
    books = relationship("Book", back_populates="author", order_by="Book.id")


class Book(Base):
    __tablename__ = "books"

    id = Column(Integer, primary_key=True)
    title = Column(String(100), nullable=False)
    genre = Column(String(20), nullable=False)
    year = Column(Integer, nullable=False)
    author_id = Column(ForeignKey("authors.id"), nullable=False)
    author = relationship("Author", back_populates="books")


engine = create_engine("sqlite://")


def seed(session):
    le_guin = Author(name="Ursula K. Le Guin")
    herbert = Author(name="Frank Herbert")
    pratchett = Author(name="Terry Pratchett")
    newcomer = Author(name="Nobody Yet")
    session.add_all([le_guin, herbert, pratchett, newcomer])
    session.add_all(
        [
            Book(title="A Wizard of Earthsea", genre="fantasy", year=1968, author=le_guin),
            Book(title="The Left Hand of Darkness", genre="scifi", year=1969, author=le_guin),
            Book(title="The Dispossessed", genre="scifi", year=1974, author=le_guin),
            Book(title="Dune", genre="scifi", year=1965, author=herbert),
            Book(title="Guards! Guards!", genre="fantasy", year=1989, author=pratchett),
            Book(title="Small Gods", genre="fantasy", year=1992, author=pratchett),
            Book(title="Night Watch", genre="fantasy", year=2002, author=pratchett),
        ]
    )
    session.commit()


def books_by(session, author_name):
    return session.query(Book).join(Book.author).filter(Author.name == author_name).count()


def authors_in_genre(session, genre):
    # Counts joined rows, exactly as the legacy Query does (one per matching book).
    return session.query(Author).join(Author.books).filter(Book.genre == genre).count()


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        seed(session)
        print("authors:", session.query(Author).count())
        print("books:", session.query(Book).count())
        print("books since 1970:", session.query(Book).filter(Book.year >= 1970).count())
        print("fantasy via filter_by:", session.query(Book).filter_by(genre="fantasy").count())
        print("author x book rows:", session.query(Author).join(Author.books).count())
        print("scifi author rows:", authors_in_genre(session, "scifi"))
        print("pratchett books:", books_by(session, "Terry Pratchett"))
        print("unknown author books:", books_by(session, "Nobody At All"))
        without_books = (
            session.query(Author).outerjoin(Author.books).filter(Book.id.is_(None)).count()
        )
        print("authors without books:", without_books)
        print(
            "first two fantasy:",
            session.query(Book).filter_by(genre="fantasy").order_by(Book.year).limit(2).count(),
        )
        print("skip five:", session.query(Book).order_by(Book.id).offset(5).count())


if __name__ == "__main__":
    main()
