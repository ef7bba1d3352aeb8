import pytest

from bookshop.errors import NotFound
from bookshop.repositories import books, customers, orders
from bookshop.repositories.orders import OrderRepository


def test_get_or_create_author_reuses_existing_row(session, catalogue):
    author = books.get_or_create_author(session, "Ursula K. Le Guin", "Elsewhere")
    assert author.id == catalogue["le_guin"]
    assert author.country == "USA"
    assert books.get_author_by_name(session, "Nobody") is None


def test_get_book_by_primary_key(session, catalogue):
    book = books.get_book(session, catalogue["solaris"])
    assert book.title == "Solaris"
    assert book.price_cents == 1450
    assert books.get_book(session, 9999) is None
    assert books.count_books(session) == 4


def test_get_book_by_isbn_raises_for_unknown_isbn(session, catalogue):
    assert books.get_book_by_isbn(session, "222").title == "The Left Hand of Darkness"
    with pytest.raises(NotFound):
        books.get_book_by_isbn(session, "999")
    assert books.isbn_taken(session, "222") is True
    assert books.isbn_taken(session, "999") is False


def test_get_book_with_author_loads_author(session, catalogue):
    book = books.get_book_with_author(session, catalogue["earthsea"])
    assert book.author.name == "Ursula K. Le Guin"
    assert books.get_book_with_author(session, 9999) is None


def test_get_book_with_reviews_loads_reviews(session, catalogue):
    book = books.get_book_with_reviews(session, catalogue["earthsea"])
    assert book.author.country == "USA"
    assert sorted(review.reviewer for review in book.reviews) == ["ana", "ben"]
    assert books.get_book_with_reviews(session, catalogue["cities"]).reviews == []
    assert books.get_book_with_reviews(session, 9999) is None


def test_search_matches_title_or_author_and_paginates(session, catalogue):
    by_author = books.search_books(session, "le guin")
    titles = [book.title for book in by_author]
    assert titles == ["A Wizard of Earthsea", "The Left Hand of Darkness"]
    assert by_author[0].author.name == "Ursula K. Le Guin"

    by_title = books.search_books(session, "cities")
    assert [book.isbn for book in by_title] == ["444"]

    second_page = books.search_books(session, "", limit=2, offset=2)
    assert [book.title for book in second_page] == ["Solaris", "The Left Hand of Darkness"]


def test_top_authors_by_review_count(session, catalogue):
    assert books.top_authors_by_reviews(session) == [
        ("Ursula K. Le Guin", 3),
        ("Stanisław Lem", 1),
    ]
    assert books.top_authors_by_reviews(session, min_reviews=2) == [("Ursula K. Le Guin", 3)]
    assert books.top_authors_by_reviews(session, limit=1) == [("Ursula K. Le Guin", 3)]


def test_books_without_reviews_low_stock_and_countries(session, catalogue):
    unreviewed = books.books_without_reviews(session)
    assert [b.title for b in unreviewed] == ["Invisible Cities"]
    low = books.low_stock_books(session, threshold=3)
    assert [(b.title, b.stock) for b in low] == [
        ("Invisible Cities", 0),
        ("Solaris", 1),
        ("The Left Hand of Darkness", 2),
    ]
    books.get_or_create_author(session, "Octavia E. Butler", "USA")
    assert books.author_countries(session) == ["Italy", "Poland", "USA"]


def test_restock_book_updates_in_one_statement(session, catalogue):
    cities = books.get_book_by_isbn(session, "444")
    assert cities.stock == 0
    assert books.restock_book(session, catalogue["cities"], 4) is True
    assert cities.stock == 4
    assert books.restock_book(session, 9999, 1) is False
    session.commit()
    assert books.get_book_by_isbn(session, "444").stock == 4


def test_average_rating_and_review_count(session, catalogue):
    assert books.average_rating(session, catalogue["earthsea"]) == 4.5
    assert books.review_count(session, catalogue["earthsea"]) == 2
    assert books.average_rating(session, catalogue["cities"]) is None
    assert books.review_count(session, catalogue["cities"]) == 0


def test_add_review_rejects_out_of_range_rating(session, catalogue):
    book = books.get_book(session, catalogue["cities"])
    with pytest.raises(ValueError):
        books.add_review(session, book, "dee", 6)


def test_delete_review(session, catalogue):
    book = books.get_book(session, catalogue["cities"])
    review = books.add_review(session, book, "dee", 2)
    review_id = review.id
    assert books.delete_review(session, review_id) is True
    assert books.review_count(session, catalogue["cities"]) == 0
    assert books.delete_review(session, review_id) is False


def test_customers_list_and_count(session, catalogue):
    customers.create_customer(session, "ben@example.com", "Ben Okafor")
    customers.create_customer(session, "al@example.com", "Al Jones")
    assert [c.email for c in customers.list_customers(session)] == [
        "al@example.com", "ana@example.com", "ben@example.com",
    ]
    assert customers.count_customers(session) == 3
    assert customers.get_customer_by_email(session, "nobody@example.com") is None


def test_create_order_reserves_stock_and_totals(session, catalogue):
    customer = customers.get_customer_by_email(session, "ana@example.com")
    earthsea = books.get_book(session, catalogue["earthsea"])
    solaris = books.get_book(session, catalogue["solaris"])
    order = orders.create_order(session, customer, [(earthsea, 2), (solaris, 1)])
    assert order.total_cents == 2 * 1099 + 1450
    assert earthsea.stock == 3
    assert solaris.stock == 0
    order_id = order.id
    session.commit()

    loaded = orders.get_order_with_lines(session, order_id)
    assert loaded.customer.name == "Ana Lima"
    assert [(line.book.title, line.quantity) for line in loaded.lines] == [
        ("A Wizard of Earthsea", 2),
        ("Solaris", 1),
    ]
    assert orders.order_status(session, loaded.id) == "placed"
    with pytest.raises(NotFound):
        orders.get_order_with_lines(session, 42)


def test_create_order_rejects_non_positive_quantity(session, catalogue):
    customer = customers.get_customer_by_email(session, "ana@example.com")
    book = books.get_book(session, catalogue["earthsea"])
    with pytest.raises(ValueError):
        orders.create_order(session, customer, [(book, 0)])


def test_sales_figures_ignore_cancelled_orders(session, catalogue):
    customer = customers.get_customer_by_email(session, "ana@example.com")
    other = customers.create_customer(session, "ben@example.com", "Ben Okafor")
    earthsea = books.get_book(session, catalogue["earthsea"])
    darkness = books.get_book(session, catalogue["darkness"])
    orders.create_order(session, customer, [(earthsea, 2), (darkness, 1)])
    cancelled = orders.create_order(session, other, [(darkness, 1)])
    cancelled.status = "cancelled"
    session.flush()

    assert orders.bestsellers(session) == [
        ("A Wizard of Earthsea", 2),
        ("The Left Hand of Darkness", 1),
    ]
    assert orders.revenue_cents(session) == 2 * 1099 + 1299
    assert orders.count_active_customers(session) == 1
    assert len(orders.orders_for_customer(session, customer.id)) == 1


def test_order_repository_class(session, catalogue):
    repository = OrderRepository(session)
    customer = customers.get_customer_by_email(session, "ana@example.com")
    other = customers.create_customer(session, "ben@example.com", "Ben Okafor")
    earthsea = books.get_book(session, catalogue["earthsea"])
    solaris = books.get_book(session, catalogue["solaris"])
    first = orders.create_order(session, customer, [(earthsea, 1)])
    second = orders.create_order(session, other, [(solaris, 1), (earthsea, 1)])
    second.status = "cancelled"
    first_id, second_id = first.id, second.id
    session.commit()

    assert repository.get(9999) is None
    with pytest.raises(NotFound):
        repository.require(9999)
    loaded = repository.require(second_id)
    assert loaded.customer.email == "ben@example.com"
    assert [line.book.isbn for line in loaded.lines] == ["333", "111"]
    assert [order.id for order in repository.for_customer(catalogue["customer"])] == [first_id]
    recent = repository.recent(limit=5)
    assert [(order.id, order.customer.name) for order in recent] == [
        (second_id, "Ben Okafor"),
        (first_id, "Ana Lima"),
    ]
    assert repository.count_by_status() == {"cancelled": 1, "placed": 1}
