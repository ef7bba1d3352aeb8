"""Reading list: relationships read in nested loops, in (nested) comprehensions and through
`y = x.rel` aliases, all without loader options in the queries."""
from sqlalchemy import ForeignKey, String, create_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class Author(Base):
    __tablename__ = "authors"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
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
    reviewer: Mapped[str] = mapped_column(String(40))
    stars: Mapped[int]
    book_id: Mapped[int] = mapped_column(ForeignKey("books.id"))
    book: Mapped[Book] = relationship(back_populates="reviews")


engine = create_engine("sqlite://")


def print_all_reviews(session):
    for author in session.query(Author).order_by(Author.id):
        print("author", author.name)
        for book in author.books:
            for review in book.reviews:
                print("  ", review.reviewer, review.book.title, review.stars)


def print_review_counts(session):
    authors = session.query(Author).order_by(Author.name).all()
    for author in authors:
        counts = [(book.title, len(book.reviews)) for book in author.books]
        print("counts", author.name, counts)


def print_star_table(session):
    authors = session.query(Author).order_by(Author.id).all()
    table = {
        author.name: [[review.stars for review in book.reviews] for book in author.books]
        for author in authors
    }
    print("stars", table)


def print_reviewers(session):
    reviewers = sorted(
        {review.reviewer
         for author in session.query(Author).all()
         for book in author.books
         for review in book.reviews}
    )
    print("reviewers", reviewers)


def print_review_sources(session):
    for review in session.query(Review).order_by(Review.id):
        book = review.book
        author = book.author
        print("review", review.id, "of", book.title, "by", author.name)


def print_first_books(session):
    for author in session.query(Author).order_by(Author.id).all():
        books = author.books
        if not books:
            print("first book of", author.name, "-")
            continue
        first = books[0]
        reviews = first.reviews
        print("first book of", author.name, first.title, [r.reviewer for r in reviews])


def seed():
    with Session(engine) as session:
        herbert = Author(name="Herbert")
        austen = Author(name="Austen")
        joyce = Author(name="Joyce")
        session.add_all([herbert, austen, joyce])
        session.add_all(
            [
                Book(title="Dune", author=herbert, reviews=[
                    Review(reviewer="ann", stars=5), Review(reviewer="ben", stars=4)]),
                Book(title="Dune Messiah", author=herbert, reviews=[
                    Review(reviewer="cat", stars=3)]),
                Book(title="Emma", author=austen, reviews=[
                    Review(reviewer="ben", stars=4), Review(reviewer="dan", stars=5),
                    Review(reviewer="ann", stars=2)]),
                Book(title="Persuasion", author=austen),
            ]
        )
        session.commit()


def main():
    Base.metadata.create_all(engine)
    seed()
    # A fresh session per report, so nothing is served from an earlier identity map.
    with Session(engine) as session:
        print_all_reviews(session)
    with Session(engine) as session:
        print_review_counts(session)
    with Session(engine) as session:
        print_star_table(session)
    with Session(engine) as session:
        print_reviewers(session)
    with Session(engine) as session:
        print_review_sources(session)
    with Session(engine) as session:
        print_first_books(session)


if __name__ == "__main__":
    main()
