from fastapi.testclient import TestClient

from fastapi_startup_tables import app

client = TestClient(app)


def test_add_book():
    assert client.post("/books", params={"title": "Dune"}).json()["title"] == "Dune"


def test_list_books():
    client.post("/books", params={"title": "Anathem"})
    assert client.get("/books").json() == ["Anathem", "Dune"]
