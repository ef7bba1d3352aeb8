def test_add_book(api):
    assert api.post("/books", params={"title": "Solaris"}).json()["id"] == 1


def test_list_books(api):
    assert api.get("/books").json() == ["Solaris"]
