from fastapi.testclient import TestClient
from shop.main import app

client = TestClient(app)


def test_health():
    assert client.get("/health").json() == {"ok": True}


def test_missing_item():
    assert "No such item" in client.get("/items/7").text
