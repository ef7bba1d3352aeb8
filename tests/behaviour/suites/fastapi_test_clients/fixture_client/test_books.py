import pytest
from fastapi.testclient import TestClient

from fastapi_startup_tables import app


@pytest.fixture
def client():
    yield TestClient(app)


@pytest.fixture
def librarian():
    librarian = TestClient(app)
    librarian.headers.update({"X-Role": "librarian"})
    return librarian


def test_add_book(client):
    assert client.post("/books", params={"title": "Dune"}).json()["title"] == "Dune"


def test_librarian_lists_books(librarian):
    librarian.post("/books", params={"title": "Emma"})
    assert "Emma" in librarian.get("/books").json()
