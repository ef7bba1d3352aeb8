def test_another_module_finds_the_tables(api):
    assert api.post("/books", params={"title": "Ubik"}).status_code == 200
