"""Objects returned by repository functions and read by their callers (also in loops)."""
from sqlalchemy import ForeignKey, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str]
    books: Mapped[list["Book"]] = relationship(back_populates="author")


class Book(Base):
    __tablename__ = "books"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str]
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")
    reviews: Mapped[list["Review"]] = relationship(back_populates="book")


class Review(Base):
    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(primary_key=True)
    stars: Mapped[int]
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    book: Mapped[Book] = relationship(back_populates="reviews")


engine = create_engine("sqlite://")


def get_book(session, book_id):
    return session.query(Book).filter(Book.id == book_id).one()


def all_books(session):
    return session.query(Book).order_by(Book.id).all()


def describe(session, book_id):
    book = get_book(session, book_id)
    return f"{book.title} by {book.author.name}: {[r.stars for r in book.reviews]}"


def catalogue(session):
    lines = []
    for book in all_books(session):
        lines.append(f"{book.title} ({book.author.name})")
    return lines


def main():
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        a = Author(name="Herbert")
        session.add_all([Book(title="Dune", author=a, reviews=[Review(stars=5), Review(stars=4)]),
                         Book(title="Children", author=a)])
        session.commit()
    with Session(engine) as session:
        print(describe(session, 1))
        print(catalogue(session))


if __name__ == "__main__":
    main()
