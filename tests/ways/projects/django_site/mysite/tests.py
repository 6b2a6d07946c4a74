from django.test import SimpleTestCase


class ViewTests(SimpleTestCase):
    def test_health(self):
        assert self.client.get("/health/").content == b"ok"

    def test_no_items(self):
        self.assertContains(self.client.get("/items/0/"), "No items.")
