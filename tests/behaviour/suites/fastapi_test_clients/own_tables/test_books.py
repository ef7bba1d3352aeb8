def test_add_book(client):
    assert client.post("/books", params={"title": "Dune"}).json() == {"id": 1, "title": "Dune"}


def test_each_test_starts_empty(client):
    assert client.get("/books").json() == []
