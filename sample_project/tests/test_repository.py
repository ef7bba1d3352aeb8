import pytest

from bookshop import repository as repo


def test_get_or_create_author_reuses_existing_row(session, catalogue):
    author = repo.get_or_create_author(session, "Ursula K. Le Guin", "Elsewhere")
    assert author.id == catalogue["le_guin"]
    assert author.country == "USA"
    assert repo.get_author_by_name(session, "Nobody") is None


def test_get_book_by_primary_key(session, catalogue):
    book = repo.get_book(session, catalogue["solaris"])
    assert book.title == "Solaris"
    assert book.price_cents == 1450
    assert repo.get_book(session, 9999) is None
    assert repo.count_books(session) == 4


def test_get_book_by_isbn_raises_for_unknown_isbn(session, catalogue):
    assert repo.get_book_by_isbn(session, "222").title == "The Left Hand of Darkness"
    with pytest.raises(repo.NotFound):
        repo.get_book_by_isbn(session, "999")


def test_get_book_with_author_loads_author(session, catalogue):
    book = repo.get_book_with_author(session, catalogue["earthsea"])
    assert book.author.name == "Ursula K. Le Guin"
    assert repo.get_book_with_author(session, 9999) is None


def test_search_matches_title_or_author_and_paginates(session, catalogue):
    by_author = repo.search_books(session, "le guin")
    titles = [book.title for book in by_author]
    assert titles == ["A Wizard of Earthsea", "The Left Hand of Darkness"]
    assert by_author[0].author.name == "Ursula K. Le Guin"

    by_title = repo.search_books(session, "cities")
    assert [book.isbn for book in by_title] == ["444"]

    second_page = repo.search_books(session, "", limit=2, offset=2)
    assert [book.title for book in second_page] == ["Solaris", "The Left Hand of Darkness"]


def test_top_authors_by_review_count(session, catalogue):
    assert repo.top_authors_by_reviews(session) == [
        ("Ursula K. Le Guin", 3),
        ("Stanisław Lem", 1),
    ]
    assert repo.top_authors_by_reviews(session, min_reviews=2) == [("Ursula K. Le Guin", 3)]
    assert repo.top_authors_by_reviews(session, limit=1) == [("Ursula K. Le Guin", 3)]


def test_books_without_reviews_low_stock_and_countries(session, catalogue):
    unreviewed = repo.books_without_reviews(session)
    assert [b.title for b in unreviewed] == ["Invisible Cities"]
    low = repo.low_stock_books(session, threshold=3)
    assert [(b.title, b.stock) for b in low] == [
        ("Invisible Cities", 0),
        ("Solaris", 1),
        ("The Left Hand of Darkness", 2),
    ]
    repo.get_or_create_author(session, "Octavia E. Butler", "USA")
    assert repo.author_countries(session) == ["Italy", "Poland", "USA"]


def test_average_rating_and_review_count(session, catalogue):
    assert repo.average_rating(session, catalogue["earthsea"]) == 4.5
    assert repo.review_count(session, catalogue["earthsea"]) == 2
    assert repo.average_rating(session, catalogue["cities"]) is None
    assert repo.review_count(session, catalogue["cities"]) == 0


def test_add_review_rejects_out_of_range_rating(session, catalogue):
    book = repo.get_book(session, catalogue["cities"])
    with pytest.raises(ValueError):
        repo.add_review(session, book, "dee", 6)


def test_delete_review(session, catalogue):
    book = repo.get_book(session, catalogue["cities"])
    review = repo.add_review(session, book, "dee", 2)
    review_id = review.id
    assert repo.delete_review(session, review_id) is True
    assert repo.review_count(session, catalogue["cities"]) == 0
    assert repo.delete_review(session, review_id) is False


def test_create_order_reserves_stock_and_totals(session, catalogue):
    customer = repo.get_customer_by_email(session, "ana@example.com")
    earthsea = repo.get_book(session, catalogue["earthsea"])
    solaris = repo.get_book(session, catalogue["solaris"])
    order = repo.create_order(session, customer, [(earthsea, 2), (solaris, 1)])
    assert order.total_cents == 2 * 1099 + 1450
    assert earthsea.stock == 3
    assert solaris.stock == 0
    order_id = order.id
    session.commit()

    loaded = repo.get_order_with_lines(session, order_id)
    assert loaded.customer.name == "Ana Lima"
    assert [(line.book.title, line.quantity) for line in loaded.lines] == [
        ("A Wizard of Earthsea", 2),
        ("Solaris", 1),
    ]
    assert repo.order_status(session, loaded.id) == "placed"
    with pytest.raises(repo.NotFound):
        repo.get_order_with_lines(session, 42)


def test_create_order_rejects_non_positive_quantity(session, catalogue):
    customer = repo.get_customer_by_email(session, "ana@example.com")
    book = repo.get_book(session, catalogue["earthsea"])
    with pytest.raises(ValueError):
        repo.create_order(session, customer, [(book, 0)])


def test_sales_figures_ignore_cancelled_orders(session, catalogue):
    customer = repo.get_customer_by_email(session, "ana@example.com")
    other = repo.create_customer(session, "ben@example.com", "Ben Okafor")
    earthsea = repo.get_book(session, catalogue["earthsea"])
    darkness = repo.get_book(session, catalogue["darkness"])
    repo.create_order(session, customer, [(earthsea, 2), (darkness, 1)])
    cancelled = repo.create_order(session, other, [(darkness, 1)])
    cancelled.status = "cancelled"
    session.flush()

    assert repo.bestsellers(session) == [
        ("A Wizard of Earthsea", 2),
        ("The Left Hand of Darkness", 1),
    ]
    assert repo.revenue_cents(session) == 2 * 1099 + 1299
    assert repo.count_active_customers(session) == 1
    assert len(repo.orders_for_customer(session, customer.id)) == 1
