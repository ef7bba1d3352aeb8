"""Catalogue: searching, describing, adding and reviewing books; reports; demo data."""

from __future__ import annotations

from typing import Optional

from sqlalchemy.orm import Session

from bookshop.db import SessionLocal
from bookshop.errors import Conflict, NotFound
from bookshop.repositories import books, customers, orders


def format_price(cents: int) -> str:
    return f"${cents // 100}.{cents % 100:02d}"


def search_catalogue(session: Session, term: str, page: int = 1, per_page: int = 10) -> list[dict]:
    found = books.search_books(session, term, limit=per_page, offset=(page - 1) * per_page)
    results = []
    for book in found:
        results.append({"id": book.id, "isbn": book.isbn, "title": book.title,
                        "author": book.author.name, "price": format_price(book.price_cents),
                        "in_stock": book.stock > 0})
    return results


def catalogue_search(term: str, page: int = 1, per_page: int = 10) -> list[dict]:
    with SessionLocal() as session:
        return search_catalogue(session, term, page=page, per_page=per_page)


def describe_book(session: Session, book_id: int) -> Optional[dict]:
    book = books.get_book_with_author(session, book_id)
    if book is None:
        return None
    rating = books.average_rating(session, book.id)
    reviews = books.review_count(session, book.id)
    return {"id": book.id, "isbn": book.isbn, "title": book.title, "author": book.author.name,
            "country": book.author.country, "year": book.published_year,
            "price": format_price(book.price_cents), "stock": book.stock,
            "average_rating": rating, "reviews": reviews}


def book_details(book_id: int) -> Optional[dict]:
    with SessionLocal() as session:
        return describe_book(session, book_id)


def book_reviews(session: Session, book_id: int) -> Optional[list[dict]]:
    book = books.get_book_with_reviews(session, book_id)
    if book is None:
        return None
    reviews = []
    for review in sorted(book.reviews, key=lambda r: r.id):
        reviews.append({"reviewer": review.reviewer, "rating": review.rating,
                        "body": review.body})
    return reviews


def create_book(session: Session, title: str, isbn: str, author_name: str, price_cents: int,
                stock: int = 0, year: Optional[int] = None, country: str = "Unknown") -> int:
    if books.isbn_taken(session, isbn):
        raise Conflict(f"ISBN {isbn} is already in the catalogue")
    author = books.get_or_create_author(session, author_name, country)
    book = books.add_book(session, author, title, isbn, price_cents, stock, year)
    return book.id


def add_book_to_catalogue(title: str, isbn: str, author_name: str, price_cents: int,
                          stock: int = 0, year: Optional[int] = None,
                          country: str = "Unknown") -> int:
    with SessionLocal.begin() as session:
        book_id = create_book(session, title, isbn, author_name, price_cents, stock, year, country)
    return book_id


def review_book_by_id(session: Session, book_id: int, reviewer: str, rating: int,
                      body: str = "") -> int:
    book = books.get_book(session, book_id)
    if book is None:
        raise NotFound(f"book {book_id} does not exist")
    review = books.add_review(session, book, reviewer, rating, body)
    return review.id


def review_book(isbn: str, reviewer: str, rating: int, body: str = "") -> int:
    with SessionLocal.begin() as session:
        book = books.get_book_by_isbn(session, isbn)
        review = books.add_review(session, book, reviewer, rating, body)
        review_id = review.id
    return review_id


def top_authors(min_reviews: int = 1, limit: int = 5) -> list[tuple[str, int]]:
    with SessionLocal() as session:
        return books.top_authors_by_reviews(session, min_reviews=min_reviews, limit=limit)


def sales_figures(session: Session) -> dict:
    low_stock = []
    for book in books.low_stock_books(session):
        low_stock.append({"title": book.title, "stock": book.stock})
    bestsellers = []
    for title, sold in orders.bestsellers(session):
        bestsellers.append({"title": title, "sold": sold})
    return {
        "books": books.count_books(session),
        "customers": customers.count_customers(session),
        "active_customers": orders.count_active_customers(session),
        "revenue": format_price(orders.revenue_cents(session)),
        "bestsellers": bestsellers,
        "low_stock": low_stock,
        "unreviewed": len(books.books_without_reviews(session)),
        "countries": books.author_countries(session),
    }


def sales_report() -> str:
    with SessionLocal() as session:
        figures = sales_figures(session)
    lines = [f"Books in catalogue: {figures['books']}",
             f"Active customers: {figures['active_customers']}",
             f"Revenue: {figures['revenue']}", "Bestsellers:"]
    for entry in figures["bestsellers"]:
        lines.append(f"  {entry['title']}: {entry['sold']}")
    lines.append("Low stock:")
    for entry in figures["low_stock"]:
        lines.append(f"  {entry['title']} ({entry['stock']} left)")
    lines.append(f"Unreviewed titles: {figures['unreviewed']}")
    lines.append("Author countries: " + ", ".join(figures["countries"]))
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
        if books.count_books(session) > 0:
            return {"books": 0, "reviews": 0, "customers": 0}
        for author_name, country, title, isbn, price, stock, year in SEED_BOOKS:
            author = books.get_or_create_author(session, author_name, country)
            books.add_book(session, author, title, isbn, price, stock, year)
        for isbn, reviewer, rating, body in SEED_REVIEWS:
            book = books.get_book_by_isbn(session, isbn)
            books.add_review(session, book, reviewer, rating, body)
        for email, name in SEED_CUSTOMERS:
            customers.create_customer(session, email, name)
    return {"books": len(SEED_BOOKS), "reviews": len(SEED_REVIEWS),
            "customers": len(SEED_CUSTOMERS)}
