def test_index(client):
    assert b"Welcome" in client.get("/").data


def test_hello(client):
    assert b"Hello, ada!" in client.get("/hello/ada").data


def test_health(client):
    assert client.get("/health").data == b"ok"
