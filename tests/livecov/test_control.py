"""The test side's control client, and the run's server found in the environment."""

from __future__ import annotations

import http.server
import threading
import urllib.error
from pathlib import Path

import pytest

from livecov.control import RunServer, post_control
from livecov.errors import ControlActionError
from tests.livecov.helpers import get, suite_server


def test_the_run_server_is_named_by_its_url_and_token() -> None:
    url, token = "http://127.0.0.1:9", "t0ken"
    assert RunServer.from_environment({}) is None
    assert RunServer.from_environment({"LIVE_SERVER_URL": url}) is None  # no token: not a run's
    assert RunServer.from_environment({"LIVECOV_TOKEN": token}) is None
    found = RunServer.from_environment({"LIVE_SERVER_URL": url, "LIVECOV_TOKEN": token})
    assert found == RunServer(url, token, None, resets=True)
    with_tmpdir = {"LIVE_SERVER_URL": url, "LIVECOV_TOKEN": token, "LIVECOV_TMPDIR": "/t"}
    assert RunServer.from_environment(with_tmpdir) == RunServer(url, token, Path("/t"))


def test_a_run_server_resets_through_the_hook(project: Path) -> None:
    with suite_server(app="branchy:app", setup="branchy:seed") as server:
        attached = RunServer(server.url, server.token)
        attached.reset("a-test")
        assert attached.resets
        assert get(server.url + "/seeded") == "seeded 2"


def test_a_run_server_without_a_hook_stops_asking(project: Path) -> None:
    with suite_server(app="branchy:app") as server:
        attached = RunServer(server.url, server.token)
        attached.reset("a-test")  # 404: no reset action
        assert not attached.resets


def test_a_refused_reset_is_raised(project: Path) -> None:
    with suite_server(app="branchy:app", setup="branchy:seed") as server:
        attached = RunServer(server.url, "not-the-token")
        with pytest.raises(urllib.error.HTTPError, match="403"):
            attached.reset()
        assert attached.resets


class _PlainFailure(http.server.BaseHTTPRequestHandler):
    status = 502
    body = b"Bad Gateway"

    def do_POST(self) -> None:
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("status", [405, 429])
def test_a_reset_refused_with_a_status_other_than_404_is_raised(status: int) -> None:
    # Only 404 means "no reset hook": a refusal sorting after it (a proxy's 429, say) is
    # raised, and the next test asks again.
    handler = type("Refusing", (_PlainFailure,), {"status": status, "body": b"refused"})
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as proxy:
        serving = threading.Thread(target=proxy.serve_forever)
        serving.start()
        try:
            attached = RunServer(f"http://127.0.0.1:{proxy.server_address[1]}", "t0ken")
            with pytest.raises(urllib.error.HTTPError, match=str(status)):
                attached.reset()
            assert attached.resets
        finally:
            proxy.shutdown()
            serving.join()


# Answers that are not livecov's: plain text, JSON without an error, JSON that is no object.
NOT_LIVECOVS = [b"Bad Gateway", b'{"detail": "upstream down"}', b'["error"]']


@pytest.mark.parametrize("body", NOT_LIVECOVS)
def test_a_failed_action_without_livecovs_answer_names_its_status(body: bytes) -> None:
    # A proxy, say, answering in its own words: the line names the status, not its error.
    handler = type("Failure", (_PlainFailure,), {"body": body})
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as proxy:
        serving = threading.Thread(target=proxy.serve_forever)
        serving.start()
        try:
            url = f"http://127.0.0.1:{proxy.server_address[1]}"
            with pytest.raises(ControlActionError, match=r"^the server's reset failed: HTTP 502"):
                post_control(url, "t0ken", "reset")
        finally:
            proxy.shutdown()
            serving.join()
