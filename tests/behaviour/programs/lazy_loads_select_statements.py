"""Library catalogue already written in 2.0 style on a sync Session: relationships (many-to-one
and collections, nested two levels) read on the results of session.scalars(...).all(), a loop
over session.scalars(...), session.execute(...).scalar_one(), session.scalar(...) and
session.scalars(select(...).options(selectinload(...))).first() read one hop past the existing
option; each read in the same function and in a helper the result is passed to."""
from sqlalchemy import ForeignKey, String, create_engine, select
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    mapped_column,
    relationship,
    selectinload,
)


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60))
    books: Mapped[list["Book"]] = relationship(back_populates="author", order_by="Book.id")


class Book(Base):
    __tablename__ = "books"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(80))
    author_id: Mapped[int] = mapped_column(ForeignKey("authors.id"))
    author: Mapped[Author] = relationship(back_populates="books")
    reviews: Mapped[list["Review"]] = relationship(back_populates="book", order_by="Review.id")


class Review(Base):
    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    stars: Mapped[int]
    reader: Mapped[str] = mapped_column(String(30))
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    book: Mapped[Book] = relationship(back_populates="reviews")


engine = create_engine("sqlite://")


# --- helpers the results are passed to -------------------------------------------------------


def stars_of(book):
    return [review.stars for review in book.reviews]


def describe_author(author):
    parts = []
    for book in author.books:
        parts.append(f"{book.title} {[r.reader for r in book.reviews]}")
    return f"{author.name}: " + "; ".join(parts)


def describe_book(book):
    return f"{book.title} by {book.author.name} ({len(book.author.books)} books), stars {stars_of(book)}"


def describe_review(review):
    return f"{review.reader} on {review.book.title} by {review.book.author.name}"


# --- the reports -----------------------------------------------------------------------------


def all_authors(session):
    authors = session.scalars(select(Author).order_by(Author.id)).all()
    for author in authors:
        print(author.name, [book.title for book in author.books])
        for book in author.books:
            print("  ", book.title, [review.stars for review in book.reviews])


def all_authors_via_helper(session):
    authors = session.scalars(select(Author).order_by(Author.id)).all()
    for author in authors:
        print(describe_author(author))


def books_of(session, author_id):
    for b in session.scalars(select(Book).where(Book.author_id == author_id).order_by(Book.id)):
        print(b.title, "by", b.author.name, [r.reader for r in b.reviews])
        for review in b.reviews:
            print("  ", review.reader, "->", review.book.author.name)


def books_of_via_helper(session, author_id):
    for b in session.scalars(select(Book).where(Book.author_id == author_id).order_by(Book.id)):
        print(describe_book(b))


def one_author(session, name):
    author = session.execute(select(Author).where(Author.name == name)).scalar_one()
    print(author.name, "wrote", len(author.books))
    for book in author.books:
        print("  ", book.title, sum(review.stars for review in book.reviews))
    print(describe_author(author))


def first_book(session):
    book = session.scalar(select(Book).order_by(Book.id).limit(1))
    print(book.title, "by", book.author.name, "who also wrote",
          [other.title for other in book.author.books if other.id != book.id])
    print(stars_of(book))
    print(describe_book(book))


def first_review(session):
    review = session.scalar(select(Review).where(Review.stars == 5).order_by(Review.id).limit(1))
    print(review.reader, review.book.title, review.book.author.name)
    print(describe_review(review))


def author_with_books(session):
    author = session.scalars(
        select(Author).options(selectinload(Author.books)).order_by(Author.id)
    ).first()
    print(author.name, [book.title for book in author.books])
    for book in author.books:
        print("  ", book.title, [(review.reader, review.stars) for review in book.reviews])


def author_with_books_via_helper(session):
    author = session.scalars(
        select(Author).options(selectinload(Author.books)).order_by(Author.id.desc())
    ).first()
    print(describe_author(author))


def seed():
    with Session(engine) as session:
        herbert = Author(name="Herbert")
        austen = Author(name="Austen")
        joyce = Author(name="Joyce")
        session.add_all(
            [
                Book(title="Dune", author=herbert, reviews=[
                    Review(stars=5, reader="ann"), Review(stars=4, reader="ben")]),
                Book(title="Emma", author=austen, reviews=[Review(stars=3, reader="cy")]),
                Book(title="Children of Dune", author=herbert, reviews=[
                    Review(stars=2, reader="ann")]),
                Book(title="Ulysses", author=joyce, reviews=[
                    Review(stars=5, reader="dee"), Review(stars=1, reader="ben"),
                    Review(stars=4, reader="cy")]),
                Book(title="Persuasion", author=austen),
            ]
        )
        session.commit()


def main():
    Base.metadata.create_all(engine)
    seed()
    # A fresh session per report, so nothing is served from an earlier identity map.
    with Session(engine) as session:
        all_authors(session)
    with Session(engine) as session:
        all_authors_via_helper(session)
    with Session(engine) as session:
        books_of(session, 1)
    with Session(engine) as session:
        books_of_via_helper(session, 3)
    with Session(engine) as session:
        one_author(session, "Austen")
    with Session(engine) as session:
        first_book(session)
    with Session(engine) as session:
        first_review(session)
    with Session(engine) as session:
        author_with_books(session)
    with Session(engine) as session:
        author_with_books_via_helper(session)


if __name__ == "__main__":
    main()
