import pytest

from bookshop import repository as repo
from bookshop import services


@pytest.fixture
def shop(bound_db):
    services.seed_demo_data()
    return bound_db


def test_seed_is_idempotent(bound_db):
    assert services.seed_demo_data() == {"books": 7, "reviews": 7, "customers": 2}
    assert services.seed_demo_data() == {"books": 0, "reviews": 0, "customers": 0}


def test_catalogue_search_returns_plain_rows(shop):
    rows = services.catalogue_search("lem")
    assert rows == [
        {"isbn": "978-0156027601", "title": "Solaris", "author": "Stanisław Lem",
         "price": "$14.50", "in_stock": True},
        {"isbn": "978-0156027595", "title": "The Cyberiad", "author": "Stanisław Lem",
         "price": "$13.50", "in_stock": True},
    ]
    assert services.catalogue_search("zzz") == []


def test_catalogue_search_pagination(shop):
    first = services.catalogue_search("", page=1, per_page=3)
    second = services.catalogue_search("", page=3, per_page=3)
    assert [row["title"] for row in first] == [
        "A Wizard of Earthsea", "Invisible Cities", "Kindred",
    ]
    assert [row["title"] for row in second] == ["The Left Hand of Darkness"]


def test_add_book_and_details(bound_db):
    book_id = services.add_book_to_catalogue(
        "Parable of the Sower", "978-1538732182", "Octavia E. Butler", 1799,
        stock=2, year=1993, country="USA",
    )
    details = services.book_details(book_id)
    assert details == {
        "title": "Parable of the Sower", "author": "Octavia E. Butler", "country": "USA",
        "year": 1993, "price": "$17.99", "average_rating": None, "reviews": 0,
    }
    services.review_book("978-1538732182", "ana", 5)
    services.review_book("978-1538732182", "ben", 4)
    assert services.book_details(book_id)["average_rating"] == 4.5
    assert services.book_details(12345) is None


def test_register_customer_returns_existing_id(bound_db):
    first = services.register_customer("cy@example.com", "Cy Twombly")
    assert services.register_customer("cy@example.com", "Someone Else") == first


def test_place_order_and_history(shop):
    summary = services.place_order("ben@example.com", {"978-0807083697": 2, "978-0156027601": 1})
    assert summary["customer"] == "Ben Okafor"
    assert summary["total"] == "$46.48"
    assert summary["lines"] == [("Solaris", 1), ("Kindred", 2)]

    history = services.customer_order_history("ben@example.com")
    assert history == [{
        "order_id": summary["order_id"], "status": "placed", "total": "$46.48",
        "lines": ["1 x Solaris", "2 x Kindred"],
    }]
    assert services.customer_order_history("nobody@example.com") == []


def test_place_order_out_of_stock_changes_nothing(shop):
    with pytest.raises(services.OutOfStock):
        services.place_order("ana@example.com", {"978-0553383041": 1, "978-0156453806": 1})
    assert services.customer_order_history("ana@example.com") == []
    assert services.catalogue_search("Earthsea")[0]["in_stock"] is True


def test_place_order_validation(shop):
    with pytest.raises(ValueError):
        services.place_order("ana@example.com", {})
    with pytest.raises(repo.NotFound):
        services.place_order("nobody@example.com", {"978-0553383041": 1})
    with pytest.raises(repo.NotFound):
        services.place_order("ana@example.com", {"000": 1})


def test_cancel_order_restocks_books(shop):
    summary = services.place_order("ana@example.com", {"978-0156027601": 1})
    assert services.catalogue_search("Solaris")[0]["in_stock"] is False

    message = services.cancel_order(summary["order_id"])
    assert message == f"order {summary['order_id']} for ana@example.com: cancelled"
    assert services.catalogue_search("Solaris")[0]["in_stock"] is True
    assert services.cancel_order(summary["order_id"]) == "already cancelled"


def test_top_authors(shop):
    assert services.top_authors() == [
        ("Ursula K. Le Guin", 4),
        ("Octavia E. Butler", 2),
        ("Stanisław Lem", 1),
    ]
    assert services.top_authors(min_reviews=2, limit=1) == [("Ursula K. Le Guin", 4)]


def test_sales_report(shop):
    services.place_order("ana@example.com", {"978-0553383041": 2})
    services.place_order("ben@example.com", {"978-0553383041": 1, "978-0807083697": 1})
    cancelled = services.place_order("ben@example.com", {"978-0156027595": 3})
    services.cancel_order(cancelled["order_id"])

    assert services.sales_report() == "\n".join([
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
