import httpx
import pytest


@pytest.fixture
def client(live_server, request):
    headers = {"Livecov-Context": request.node.nodeid}
    with httpx.Client(base_url=live_server.url, headers=headers) as client:
        yield client


def test_add_then_show(client):
    assert client.post("/items/1", params={"name": "pen"}).json() == {"added": "pen"}
    assert "<h1>pen</h1>" in client.get("/items/1").text


def test_empty_store(client):
    assert "No such item" in client.get("/items/1").text
