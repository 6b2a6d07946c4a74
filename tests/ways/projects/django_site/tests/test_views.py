def test_health(client):
    assert client.get("/health/").content == b"ok"


def test_no_items(client):
    assert b"No items." in client.get("/items/0/").content
