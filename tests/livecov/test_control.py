"""The test side's control client, and the run's server found in the environment."""

from __future__ import annotations

import urllib.error
from pathlib import Path

import pytest

from livecov.control import RunServer
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
