import pytest

from bookshop.errors import Conflict, NotFound, OutOfStock
from bookshop.services import catalogue, ordering


def test_seed_is_idempotent(bound_db):
    assert catalogue.seed_demo_data() == {"books": 7, "reviews": 7, "customers": 2}
    assert catalogue.seed_demo_data() == {"books": 0, "reviews": 0, "customers": 0}


def test_catalogue_search_returns_plain_rows(shop):
    rows = catalogue.catalogue_search("lem")
    assert rows == [
        {"id": 4, "isbn": "978-0156027601", "title": "Solaris", "author": "Stanisław Lem",
         "price": "$14.50", "in_stock": True},
        {"id": 5, "isbn": "978-0156027595", "title": "The Cyberiad", "author": "Stanisław Lem",
         "price": "$13.50", "in_stock": True},
    ]
    assert catalogue.catalogue_search("zzz") == []


def test_catalogue_search_pagination(shop):
    first = catalogue.catalogue_search("", page=1, per_page=3)
    second = catalogue.catalogue_search("", page=3, per_page=3)
    assert [row["title"] for row in first] == [
        "A Wizard of Earthsea", "Invisible Cities", "Kindred",
    ]
    assert [row["title"] for row in second] == ["The Left Hand of Darkness"]


def test_add_book_and_details(bound_db):
    book_id = catalogue.add_book_to_catalogue(
        "Parable of the Sower", "978-1538732182", "Octavia E. Butler", 1799,
        stock=2, year=1993, country="USA",
    )
    details = catalogue.book_details(book_id)
    assert details == {
        "id": book_id, "isbn": "978-1538732182", "title": "Parable of the Sower",
        "author": "Octavia E. Butler", "country": "USA", "year": 1993, "price": "$17.99",
        "stock": 2, "average_rating": None, "reviews": 0,
    }
    catalogue.review_book("978-1538732182", "ana", 5)
    catalogue.review_book("978-1538732182", "ben", 4)
    assert catalogue.book_details(book_id)["average_rating"] == 4.5
    assert catalogue.book_details(12345) is None


def test_add_book_with_taken_isbn_is_a_conflict(shop):
    with pytest.raises(Conflict):
        catalogue.add_book_to_catalogue("Copy", "978-0156027601", "Someone", 100)
    assert catalogue.catalogue_search("Copy") == []


def test_book_reviews_in_a_caller_session(shop, session):
    assert catalogue.book_reviews(session, 6) == [
        {"reviewer": "dee", "rating": 5, "body": "Unforgettable."},
        {"reviewer": "ben", "rating": 4, "body": ""},
    ]
    assert catalogue.book_reviews(session, 7) == []
    assert catalogue.book_reviews(session, 99) is None
    with pytest.raises(NotFound):
        catalogue.review_book_by_id(session, 99, "ana", 5)


def test_register_customer_returns_existing_id(bound_db):
    first = ordering.register_customer("cy@example.com", "Cy Twombly")
    assert ordering.register_customer("cy@example.com", "Someone Else") == first


def test_place_order_and_history(shop):
    summary = ordering.place_order("ben@example.com", {"978-0807083697": 2, "978-0156027601": 1})
    assert summary["customer"] == "Ben Okafor"
    assert summary["total"] == "$46.48"
    assert summary["lines"] == [("Solaris", 1), ("Kindred", 2)]

    history = ordering.customer_order_history("ben@example.com")
    assert history == [{
        "order_id": summary["order_id"], "status": "placed", "total": "$46.48",
        "lines": ["1 x Solaris", "2 x Kindred"],
    }]
    assert ordering.customer_order_history("nobody@example.com") == []


def test_place_order_out_of_stock_changes_nothing(shop):
    with pytest.raises(OutOfStock):
        ordering.place_order("ana@example.com", {"978-0553383041": 1, "978-0156453806": 1})
    assert ordering.customer_order_history("ana@example.com") == []
    assert catalogue.catalogue_search("Earthsea")[0]["in_stock"] is True


def test_place_order_validation(shop):
    with pytest.raises(ValueError):
        ordering.place_order("ana@example.com", {})
    with pytest.raises(NotFound):
        ordering.place_order("nobody@example.com", {"978-0553383041": 1})
    with pytest.raises(NotFound):
        ordering.place_order("ana@example.com", {"000": 1})


def test_cancel_order_restocks_books(shop):
    summary = ordering.place_order("ana@example.com", {"978-0156027601": 1})
    assert catalogue.catalogue_search("Solaris")[0]["in_stock"] is False

    message = ordering.cancel_order(summary["order_id"])
    assert message == f"order {summary['order_id']} for ana@example.com: cancelled"
    assert catalogue.catalogue_search("Solaris")[0]["in_stock"] is True
    assert ordering.cancel_order(summary["order_id"]) == "already cancelled"
    with pytest.raises(NotFound):
        ordering.cancel_order(999)


def test_top_authors(shop):
    assert catalogue.top_authors() == [
        ("Ursula K. Le Guin", 4),
        ("Octavia E. Butler", 2),
        ("Stanisław Lem", 1),
    ]
    assert catalogue.top_authors(min_reviews=2, limit=1) == [("Ursula K. Le Guin", 4)]


def test_order_dashboard_and_description(shop, session):
    first = ordering.place_order("ana@example.com", {"978-0553383041": 1})
    second = ordering.place_order("ben@example.com", {"978-0156027595": 2})
    ordering.cancel_order(first["order_id"])

    dashboard = ordering.order_dashboard(session)
    assert dashboard == {
        "by_status": {"cancelled": 1, "placed": 1},
        "recent": [
            {"order_id": second["order_id"], "customer": "ben@example.com",
             "status": "placed", "total": "$27.00"},
            {"order_id": first["order_id"], "customer": "ana@example.com",
             "status": "cancelled", "total": "$10.99"},
        ],
    }
    assert ordering.describe_order(session, second["order_id"]) == {
        "order_id": second["order_id"], "status": "placed", "customer": "ben@example.com",
        "total": "$27.00",
        "lines": [{"isbn": "978-0156027595", "title": "The Cyberiad", "quantity": 2,
                   "unit_price": "$13.50"}],
    }
    assert ordering.describe_order(session, 999) is None
    assert ordering.order_history(session, "nobody@example.com") is None


def test_sales_report(shop):
    ordering.place_order("ana@example.com", {"978-0553383041": 2})
    ordering.place_order("ben@example.com", {"978-0553383041": 1, "978-0807083697": 1})
    cancelled = ordering.place_order("ben@example.com", {"978-0156027595": 3})
    ordering.cancel_order(cancelled["order_id"])

    assert catalogue.sales_report() == "\n".join([
        "Books in catalogue: 7",
        "Active customers: 2",
        "Revenue: $48.96",
        "Bestsellers:",
        "  A Wizard of Earthsea: 3",
        "  Kindred: 1",
        "Low stock:",
        "  Invisible Cities (0 left)",
        "  Solaris (1 left)",
        "  A Wizard of Earthsea (2 left)",
        "  Kindred (2 left)",
        "  The Left Hand of Darkness (2 left)",
        "Unreviewed titles: 2",
        "Author countries: Italy, Poland, USA",
    ])
