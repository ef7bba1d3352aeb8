import pytest

from bookshop.repositories import books

EARTHSEA = "978-0553383041"
SOLARIS = "978-0156027601"
KINDRED = "978-0807083697"
CITIES = "978-0156453806"


@pytest.fixture
def api(shop, client):
    """A TestClient over the seeded demo shop."""
    return client


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "version": "0.4.0"}


def test_list_books_searches_and_paginates(api):
    response = api.get("/books")
    assert response.status_code == 200
    rows = response.json()
    assert len(rows) == 7
    assert rows[0] == {"id": 1, "isbn": EARTHSEA, "title": "A Wizard of Earthsea",
                       "author": "Ursula K. Le Guin", "price": "$10.99", "in_stock": True}

    by_author = api.get("/books", params={"q": "lem"}).json()
    assert [row["title"] for row in by_author] == ["Solaris", "The Cyberiad"]
    page = api.get("/books", params={"page": 2, "per_page": 3}).json()
    assert [row["title"] for row in page] == ["Solaris", "The Cyberiad", "The Dispossessed"]
    assert api.get("/books", params={"page": 0}).status_code == 422


def test_get_book_details(api):
    response = api.get("/books/6")
    assert response.status_code == 200
    assert response.json() == {
        "id": 6, "isbn": KINDRED, "title": "Kindred", "author": "Octavia E. Butler",
        "country": "USA", "year": 1979, "price": "$15.99", "stock": 3,
        "average_rating": 4.5, "reviews": 2,
    }


def test_unknown_book_is_404(api):
    response = api.get("/books/999")
    assert response.status_code == 404
    assert response.json() == {"detail": "book 999 not found"}
    assert api.get("/books/999/reviews").status_code == 404
    assert api.post("/books/999/reviews", json={"reviewer": "x", "rating": 3}).status_code == 404
    assert api.post("/books/999/stock", json={"quantity": 1}).status_code == 404


def test_create_book(api):
    payload = {"title": "Parable of the Sower", "isbn": "978-1538732182",
               "author": "Octavia E. Butler", "price_cents": 1799, "stock": 2, "year": 1993}
    response = api.post("/books", json=payload)
    assert response.status_code == 201
    created = response.json()
    assert created["id"] == 8
    assert created["author"] == "Octavia E. Butler"
    assert created["country"] == "USA"
    assert created["price"] == "$17.99"
    assert api.get("/books/8").json()["title"] == "Parable of the Sower"

    duplicate = api.post("/books", json=payload)
    assert duplicate.status_code == 409
    assert "already in the catalogue" in duplicate.json()["detail"]
    assert api.post("/books", json={"title": "No price"}).status_code == 422


def test_reviews_list_and_add(api):
    assert api.get("/books/1/reviews").json() == [
        {"reviewer": "ana", "rating": 5, "body": "A classic."},
        {"reviewer": "ben", "rating": 4, "body": "Quiet and wise."},
    ]
    review = {"reviewer": "eve", "rating": 4, "body": "Dreamy."}
    response = api.post("/books/7/reviews", json=review)
    assert response.status_code == 201
    assert response.json()["average_rating"] == 4.0
    assert api.post("/books/7/reviews", json={"reviewer": "eve", "rating": 6}).status_code == 422
    assert api.get("/books/7").json()["reviews"] == 1


def test_restock(api):
    response = api.post("/books/7/stock", json={"quantity": 5})
    assert response.status_code == 200
    assert response.json() == {"id": 7, "stock": 5}
    assert api.get("/books", params={"q": "Invisible"}).json()[0]["in_stock"] is True
    assert api.post("/books/7/stock", json={"quantity": 0}).status_code == 422


def test_place_order_and_read_it_back(api, session):
    response = api.post("/orders", json={
        "email": "ben@example.com",
        "items": [{"isbn": KINDRED, "quantity": 1}, {"isbn": SOLARIS, "quantity": 1},
                  {"isbn": KINDRED, "quantity": 1}],
    })
    assert response.status_code == 201
    summary = response.json()
    assert summary == {
        "order_id": 1, "customer": "Ben Okafor", "total": "$46.48",
        "lines": [{"title": "Solaris", "quantity": 1}, {"title": "Kindred", "quantity": 2}],
    }

    order = api.get("/orders/1")
    assert order.status_code == 200
    assert order.json() == {
        "order_id": 1, "status": "placed", "customer": "ben@example.com", "total": "$46.48",
        "lines": [
            {"isbn": SOLARIS, "title": "Solaris", "quantity": 1, "unit_price": "$14.50"},
            {"isbn": KINDRED, "title": "Kindred", "quantity": 2, "unit_price": "$15.99"},
        ],
    }
    assert api.get("/orders/2").status_code == 404
    assert books.get_book_by_isbn(session, KINDRED).stock == 1


def test_place_order_errors_change_nothing(api):
    unknown_customer = api.post("/orders", json={
        "email": "nobody@example.com", "items": [{"isbn": EARTHSEA, "quantity": 1}],
    })
    assert unknown_customer.status_code == 404
    assert unknown_customer.json() == {"detail": "no customer with email nobody@example.com"}

    unknown_book = api.post("/orders", json={
        "email": "ana@example.com", "items": [{"isbn": "000", "quantity": 1}],
    })
    assert unknown_book.status_code == 404

    out_of_stock = api.post("/orders", json={
        "email": "ana@example.com",
        "items": [{"isbn": EARTHSEA, "quantity": 1}, {"isbn": CITIES, "quantity": 1}],
    })
    assert out_of_stock.status_code == 409
    assert out_of_stock.json() == {"detail": "only 0 left of 'Invisible Cities'"}

    assert api.post("/orders", json={"email": "ana@example.com", "items": []}).status_code == 422
    assert api.get("/customers/ana@example.com/orders").json() == []
    assert api.get("/books/1").json()["stock"] == 5


def test_customer_orders(api):
    api.post("/orders", json={"email": "ana@example.com",
                              "items": [{"isbn": EARTHSEA, "quantity": 2}]})
    response = api.get("/customers/ana@example.com/orders")
    assert response.status_code == 200
    assert response.json() == [{
        "order_id": 1, "status": "placed", "total": "$21.98",
        "lines": ["2 x A Wizard of Earthsea"],
    }]
    missing = api.get("/customers/nobody@example.com/orders")
    assert missing.status_code == 404


def test_register_customer(api):
    created = api.post("/customers", json={"email": "cy@example.com", "name": "Cy Twombly"})
    assert created.status_code == 201
    assert created.json() == {"id": 3, "created": True}
    again = api.post("/customers", json={"email": "cy@example.com", "name": "Someone Else"})
    assert again.json() == {"id": 3, "created": False}
    assert api.get("/customers/cy@example.com/orders").json() == []


def test_cancel_order(api):
    api.post("/orders", json={"email": "ana@example.com",
                              "items": [{"isbn": SOLARIS, "quantity": 1}]})
    assert api.get("/books/4").json()["stock"] == 0

    response = api.post("/orders/1/cancel")
    assert response.status_code == 200
    assert response.json() == {"order_id": 1, "status": "cancelled"}
    assert api.get("/books/4").json()["stock"] == 1

    again = api.post("/orders/1/cancel")
    assert again.status_code == 409
    assert again.json() == {"detail": "order 1 is already cancelled"}
    assert api.post("/orders/99/cancel").status_code == 404


def test_order_dashboard_and_sales_report(api):
    api.post("/orders", json={"email": "ana@example.com",
                              "items": [{"isbn": EARTHSEA, "quantity": 2}]})
    api.post("/orders", json={"email": "ben@example.com",
                              "items": [{"isbn": KINDRED, "quantity": 1}]})
    api.post("/orders/1/cancel")

    dashboard = api.get("/orders", params={"limit": 1}).json()
    assert dashboard == {
        "by_status": {"cancelled": 1, "placed": 1},
        "recent": [{"order_id": 2, "customer": "ben@example.com", "status": "placed",
                    "total": "$15.99"}],
    }
    report = api.get("/reports/sales").json()
    assert report == {
        "books": 7, "customers": 2, "active_customers": 1, "revenue": "$15.99",
        "bestsellers": [{"title": "Kindred", "sold": 1}],
        "low_stock": [
            {"title": "Invisible Cities", "stock": 0},
            {"title": "Solaris", "stock": 1},
            {"title": "Kindred", "stock": 2},
            {"title": "The Left Hand of Darkness", "stock": 2},
        ],
        "unreviewed": 2,
        "countries": ["Italy", "Poland", "USA"],
    }
