def test_add_then_show(livecov_client):
    assert livecov_client.post("/items/1", params={"name": "pen"}).json() == {"added": "pen"}
    assert "<h1>pen</h1>" in livecov_client.get("/items/1").text


def test_empty_store(livecov_client):
    assert "No such item" in livecov_client.get("/items/1").text
