"""Authors, books and reviews (legacy Query API)."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import desc, func, or_, select
from sqlalchemy.orm import Session, joinedload

from bookshop.errors import NotFound
from bookshop.models import Author, Book, Review


def get_author_by_name(session: Session, name: str) -> Optional[Author]:
    return session.query(Author).filter_by(name=name).one_or_none()


def get_or_create_author(session: Session, name: str, country: str = "Unknown") -> Author:
    author = get_author_by_name(session, name)
    if author is None:
        author = Author(name=name, country=country)
        session.add(author)
        session.flush()
    return author


def author_countries(session: Session) -> list[str]:
    rows = session.query(Author.country).distinct().order_by(Author.country).all()
    return [row[0] for row in rows]


def top_authors_by_reviews(session: Session, min_reviews: int = 1, limit: int = 5):
    rows = (
        session.query(Author.name, func.count(Review.id).label("review_count"))
        .join(Author.books)
        .join(Book.reviews)
        .group_by(Author.id, Author.name)
        .having(func.count(Review.id) >= min_reviews)
        .order_by(desc("review_count"), Author.name)
        .limit(limit)
        .all()
    )
    return [(name, count) for name, count in rows]


def add_book(session: Session, author: Author, title: str, isbn: str, price_cents: int,
             stock: int = 0, published_year: Optional[int] = None) -> Book:
    book = Book(author=author, title=title, isbn=isbn, price_cents=price_cents,
                stock=stock, published_year=published_year)
    session.add(book)
    session.flush()
    return book


def get_book(session: Session, book_id: int) -> Optional[Book]:
    return session.query(Book).get(book_id)


def get_book_by_isbn(session: Session, isbn: str) -> Book:
    book = session.query(Book).filter(Book.isbn == isbn).first()
    if book is None:
        raise NotFound(f"no book with ISBN {isbn}")
    return book


def isbn_taken(session: Session, isbn: str) -> bool:
    return session.query(Book.id).filter_by(isbn=isbn).first() is not None


def get_book_with_author(session: Session, book_id: int) -> Optional[Book]:
    return (
        session.query(Book)
        .options(joinedload(Book.author))
        .filter(Book.id == book_id)
        .one_or_none()
    )


def get_book_with_reviews(session: Session, book_id: int) -> Optional[Book]:
    return (
        session.query(Book)
        .options(joinedload(Book.author))
        .filter(Book.id == book_id)
        .one_or_none()
    )


def count_books(session: Session) -> int:
    return session.query(Book).count()


def search_books(session: Session, term: str, limit: int = 10, offset: int = 0) -> list[Book]:
    pattern = f"%{term}%"
    return (
        session.query(Book)
        .join(Book.author)
        .filter(or_(Book.title.ilike(pattern), Author.name.ilike(pattern)))
        .order_by(Book.title, Book.id)
        .limit(limit)
        .offset(offset)
        .all()
    )


def books_without_reviews(session: Session) -> list[Book]:
    query = session.query(Book).outerjoin(Book.reviews).filter(Review.id.is_(None))
    return query.order_by(Book.title).all()


def low_stock_books(session: Session, threshold: int = 3) -> list[Book]:
    stmt = select(Book).where(Book.stock < threshold).order_by(Book.stock, Book.title)
    return list(session.execute(stmt).scalars().all())


def restock_book(session: Session, book_id: int, quantity: int) -> bool:
    """Add ``quantity`` copies with one UPDATE; False when the book does not exist."""
    updated = (
        session.query(Book)
        .filter(Book.id == book_id)
        .update({Book.stock: Book.stock + quantity}, synchronize_session="fetch")
    )
    return updated == 1


def add_review(session: Session, book: Book, reviewer: str, rating: int, body: str = "") -> Review:
    if not 1 <= rating <= 5:
        raise ValueError("rating must be between 1 and 5")
    review = Review(book=book, reviewer=reviewer, rating=rating, body=body)
    session.add(review)
    session.flush()
    return review


def average_rating(session: Session, book_id: int) -> Optional[float]:
    value = session.query(func.avg(Review.rating)).filter(Review.book_id == book_id).scalar()
    return None if value is None else round(float(value), 2)


def review_count(session: Session, book_id: int) -> int:
    return session.query(Review).filter_by(book_id=book_id).count()


def delete_review(session: Session, review_id: int) -> bool:
    review = session.get(Review, review_id)
    if review is None:
        return False
    session.delete(review)
    session.commit()
    return True
