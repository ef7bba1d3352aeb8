"""Data-access helpers. Every function takes the caller's Session."""

from __future__ import annotations

from typing import Optional

from sqlalchemy import desc, distinct, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from bookshop.models import Author, Book, Customer, Order, OrderLine, Review


class NotFound(Exception):
    pass


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


def get_book_with_author(session: Session, book_id: int) -> Optional[Book]:
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
        .options(selectinload(Book.author))
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


def get_customer_by_email(session: Session, email: str) -> Optional[Customer]:
    return session.query(Customer).filter_by(email=email).first()


def create_customer(session: Session, email: str, name: str) -> Customer:
    customer = Customer(email=email, name=name)
    session.add(customer)
    session.flush()
    return customer


def create_order(session: Session, customer: Customer, items: list[tuple[Book, int]]) -> Order:
    order = Order(customer=customer, status="placed")
    total = 0
    for book, quantity in items:
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        line = OrderLine(book=book, quantity=quantity, unit_price_cents=book.price_cents)
        order.lines.append(line)
        book.stock -= quantity
        total += quantity * book.price_cents
    order.total_cents = total
    session.add(order)
    session.flush()
    return order


def get_order_with_lines(session: Session, order_id: int) -> Order:
    order = (
        session.query(Order)
        .options(joinedload(Order.customer), selectinload(Order.lines).joinedload(OrderLine.book))
        .filter(Order.id == order_id)
        .one_or_none()
    )
    if order is None:
        raise NotFound(f"order {order_id} does not exist")
    return order


def orders_for_customer(session: Session, customer_id: int) -> list[Order]:
    return (
        session.query(Order)
        .options(selectinload(Order.lines).selectinload(OrderLine.book))
        .filter(Order.customer_id == customer_id)
        .order_by(Order.id)
        .all()
    )


def order_status(session: Session, order_id: int) -> str:
    return session.query(Order.status).filter(Order.id == order_id).one()[0]


def count_active_customers(session: Session) -> int:
    query = session.query(func.count(distinct(Order.customer_id)))
    return query.filter(Order.status != "cancelled").scalar()


def bestsellers(session: Session, limit: int = 3) -> list[tuple[str, int]]:
    rows = (
        session.query(Book.title, func.sum(OrderLine.quantity).label("sold"))
        .join(OrderLine, OrderLine.book_id == Book.id)
        .join(Order, Order.id == OrderLine.order_id)
        .filter(Order.status != "cancelled")
        .group_by(Book.id, Book.title)
        .order_by(desc("sold"), Book.title)
        .limit(limit)
        .all()
    )
    return [(title, int(total)) for title, total in rows]


def revenue_cents(session: Session) -> int:
    query = session.query(func.coalesce(func.sum(Order.total_cents), 0))
    return int(query.filter(Order.status != "cancelled").scalar())
