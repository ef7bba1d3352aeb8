import pytest

from bookshop.cli import main, parse_items


@pytest.fixture
def db_url(empty_database_url):
    url = empty_database_url
    assert main(["--db", url, "init"]) == 0
    assert main(["--db", url, "seed"]) == 0
    return url


def test_init_and_seed(empty_database_url, tmp_path, capsys):
    url = empty_database_url
    assert main(["--db", url, "init"]) == 0
    assert main(["--db", url, "seed"]) == 0
    assert main(["--db", url, "seed"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Database initialised.",
        "Seeded 7 books, 7 reviews, 2 customers",
        "Seeded 0 books, 0 reviews, 0 customers",
    ]
    if url.startswith("sqlite"):
        assert (tmp_path / "bookshop.db").exists()


def test_search_command(db_url, capsys):
    capsys.readouterr()
    assert main(["--db", db_url, "search", "darkness"]) == 0
    assert capsys.readouterr().out == (
        "978-0441478125  The Left Hand of Darkness by Ursula K. Le Guin  $12.99\n"
    )
    assert main(["--db", db_url, "search", "no such book"]) == 0
    assert capsys.readouterr().out == "No matches.\n"


def test_order_then_history_and_report(db_url, capsys):
    capsys.readouterr()
    assert main(["--db", db_url, "order", "ana@example.com",
                 "978-0061054884:1", "978-0156027595:2"]) == 0
    assert capsys.readouterr().out == "Order 1 for Ana Lima: $38.99\n"

    assert main(["--db", db_url, "history", "ana@example.com"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "#1 [placed] $38.99",
        "    1 x The Dispossessed",
        "    2 x The Cyberiad",
    ]

    assert main(["--db", db_url, "report"]) == 0
    report = capsys.readouterr().out
    assert "Revenue: $38.99" in report
    assert "  The Cyberiad: 2" in report


def test_order_errors_exit_with_status_1(db_url, capsys):
    capsys.readouterr()
    assert main(["--db", db_url, "order", "ana@example.com", "978-0156453806:1"]) == 1
    assert "only 0 left of 'Invisible Cities'" in capsys.readouterr().err
    assert main(["--db", db_url, "order", "ana@example.com", "not-an-item"]) == 1
    assert "bad item" in capsys.readouterr().err


def test_cancel_command_restocks(db_url, capsys):
    assert main(["--db", db_url, "order", "ben@example.com", "978-0156027601:1"]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "cancel", "1"]) == 0
    assert main(["--db", db_url, "cancel", "1"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "order 1 for ben@example.com: cancelled",
        "already cancelled",
    ]
    assert main(["--db", db_url, "history", "ben@example.com"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "#1 [cancelled] $14.50"
    assert main(["--db", db_url, "cancel", "7"]) == 1
    assert "order 7 does not exist" in capsys.readouterr().err


def test_top_authors_command(db_url, capsys):
    capsys.readouterr()
    assert main(["--db", db_url, "top-authors", "--min-reviews", "2"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "Ursula K. Le Guin: 4",
        "Octavia E. Butler: 2",
    ]


def test_parse_items_merges_duplicates():
    assert parse_items(["111:1", "222:3", "111:2"]) == {"111": 3, "222": 3}
