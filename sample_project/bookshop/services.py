"""Business operations. Each function manages its own session and returns plain data."""

from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from bookshop import repository as repo
from bookshop.db import SessionLocal
from bookshop.models import Book


class OutOfStock(Exception):
    pass


def format_price(cents: int) -> str:
    return f"${cents // 100}.{cents % 100:02d}"


def add_book_to_catalogue(title: str, isbn: str, author_name: str, price_cents: int,
                          stock: int = 0, year: Optional[int] = None,
                          country: str = "Unknown") -> int:
    with SessionLocal.begin() as session:
        author = repo.get_or_create_author(session, author_name, country)
        book = repo.add_book(session, author, title, isbn, price_cents, stock, year)
        book_id = book.id
    return book_id


def register_customer(email: str, name: str) -> int:
    with SessionLocal() as session:
        existing = repo.get_customer_by_email(session, email)
        if existing is not None:
            return existing.id
        customer = repo.create_customer(session, email, name)
        customer_id = customer.id
        session.commit()
    return customer_id


def review_book(isbn: str, reviewer: str, rating: int, body: str = "") -> int:
    with SessionLocal.begin() as session:
        book = repo.get_book_by_isbn(session, isbn)
        review = repo.add_review(session, book, reviewer, rating, body)
        review_id = review.id
    return review_id


def catalogue_search(term: str, page: int = 1, per_page: int = 10) -> list[dict]:
    with SessionLocal() as session:
        books = repo.search_books(session, term, limit=per_page, offset=(page - 1) * per_page)
        results = []
        for book in books:
            results.append({"isbn": book.isbn, "title": book.title, "author": book.author.name,
                            "price": format_price(book.price_cents), "in_stock": book.stock > 0})
        return results


def book_details(book_id: int) -> Optional[dict]:
    with SessionLocal() as session:
        book = repo.get_book_with_author(session, book_id)
        if book is None:
            return None
        rating = repo.average_rating(session, book.id)
        reviews = repo.review_count(session, book.id)
        return {"title": book.title, "author": book.author.name, "country": book.author.country,
                "year": book.published_year, "price": format_price(book.price_cents),
                "average_rating": rating, "reviews": reviews}


def _reserve_items(session: Session, items: dict[str, int]) -> list[tuple[Book, int]]:
    reserved = []
    for isbn in sorted(items):
        book = repo.get_book_by_isbn(session, isbn)
        if book.stock < items[isbn]:
            raise OutOfStock(f"only {book.stock} left of {book.title!r}")
        reserved.append((book, items[isbn]))
    return reserved


def place_order(email: str, items: dict[str, int]) -> dict:
    """Place an order for ``items`` (ISBN -> quantity)."""
    if not items:
        raise ValueError("an order needs at least one item")
    with SessionLocal.begin() as session:
        customer = repo.get_customer_by_email(session, email)
        if customer is None:
            raise repo.NotFound(f"no customer with email {email}")
        reserved = _reserve_items(session, items)
        order = repo.create_order(session, customer, reserved)
        lines = []
        for book, quantity in reserved:
            lines.append((book.title, quantity))
        summary = {"order_id": order.id, "customer": customer.name,
                   "total": format_price(order.total_cents), "lines": lines}
    return summary


def cancel_order(order_id: int) -> str:
    with SessionLocal() as session:
        with session.begin():
            order = repo.get_order_with_lines(session, order_id)
            if order.status == "cancelled":
                return "already cancelled"
            for line in order.lines:
                line.book.stock += line.quantity
            order.status = "cancelled"
            email = order.customer.email
        session.refresh(order)
        return f"order {order.id} for {email}: {order.status}"


def customer_order_history(email: str) -> list[dict]:
    with SessionLocal() as session:
        customer = repo.get_customer_by_email(session, email)
        if customer is None:
            return []
        history = []
        for order in repo.orders_for_customer(session, customer.id):
            lines = []
            for line in order.lines:
                lines.append(f"{line.quantity} x {line.book.title}")
            history.append({"order_id": order.id, "status": order.status,
                            "total": format_price(order.total_cents), "lines": lines})
        return history


def top_authors(min_reviews: int = 1, limit: int = 5) -> list[tuple[str, int]]:
    with SessionLocal() as session:
        return repo.top_authors_by_reviews(session, min_reviews=min_reviews, limit=limit)


def sales_report() -> str:
    with SessionLocal() as session:
        book_count = repo.count_books(session)
        customers = repo.count_active_customers(session)
        revenue = repo.revenue_cents(session)
        lines = [f"Books in catalogue: {book_count}", f"Active customers: {customers}",
                 f"Revenue: {format_price(revenue)}", "Bestsellers:"]
        for title, sold in repo.bestsellers(session):
            lines.append(f"  {title}: {sold}")
        lines.append("Low stock:")
        for book in repo.low_stock_books(session):
            lines.append(f"  {book.title} ({book.stock} left)")
        unreviewed = repo.books_without_reviews(session)
        countries = repo.author_countries(session)
    lines.append(f"Unreviewed titles: {len(unreviewed)}")
    lines.append("Author countries: " + ", ".join(countries))
    return "\n".join(lines)


SEED_BOOKS = [
    ("Ursula K. Le Guin", "USA", "A Wizard of Earthsea", "978-0553383041", 1099, 5, 1968),
    ("Ursula K. Le Guin", "USA", "The Left Hand of Darkness", "978-0441478125", 1299, 2, 1969),
    ("Ursula K. Le Guin", "USA", "The Dispossessed", "978-0061054884", 1199, 4, 1974),
    ("Stanisław Lem", "Poland", "Solaris", "978-0156027601", 1450, 1, 1961),
    ("Stanisław Lem", "Poland", "The Cyberiad", "978-0156027595", 1350, 6, 1965),
    ("Octavia E. Butler", "USA", "Kindred", "978-0807083697", 1599, 3, 1979),
    ("Italo Calvino", "Italy", "Invisible Cities", "978-0156453806", 1250, 0, 1972),
]
SEED_REVIEWS = [
    ("978-0553383041", "ana", 5, "A classic."),
    ("978-0553383041", "ben", 4, "Quiet and wise."),
    ("978-0441478125", "ana", 5, ""),
    ("978-0156027601", "carl", 4, "Unsettling."),
    ("978-0807083697", "dee", 5, "Unforgettable."),
    ("978-0807083697", "ben", 4, ""),
    ("978-0061054884", "dee", 3, "Slow start."),
]
SEED_CUSTOMERS = [("ana@example.com", "Ana Lima"), ("ben@example.com", "Ben Okafor")]


def seed_demo_data() -> dict[str, int]:
    """Load demo data once; running it again is a no-op."""
    with SessionLocal.begin() as session:
        if repo.count_books(session) > 0:
            return {"books": 0, "reviews": 0, "customers": 0}
        for author_name, country, title, isbn, price, stock, year in SEED_BOOKS:
            author = repo.get_or_create_author(session, author_name, country)
            repo.add_book(session, author, title, isbn, price, stock, year)
        for isbn, reviewer, rating, body in SEED_REVIEWS:
            book = repo.get_book_by_isbn(session, isbn)
            repo.add_review(session, book, reviewer, rating, body)
        for email, name in SEED_CUSTOMERS:
            repo.create_customer(session, email, name)
    return {"books": len(SEED_BOOKS), "reviews": len(SEED_REVIEWS),
            "customers": len(SEED_CUSTOMERS)}
