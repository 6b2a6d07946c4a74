"""livecov's HTTP client bound to the live server: httpx's where httpx is installed, else
livecov's own over urllib; the same calls give the same answers from a real server."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from livecov.client import Client, client_for
from tests.livecov.helpers import APPS, sample_project, suite_server


@pytest.fixture(scope="module")
def echo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The echo app, served (and measured) like the suite's other servers."""
    project = sample_project(tmp_path_factory.mktemp("echo"))
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(project)
        with suite_server(app="echo:app") as server:
            yield server.url


@pytest.fixture(params=["httpx", "urllib"])
def client(request: pytest.FixtureRequest, echo_url: str, monkeypatch) -> Iterator[Any]:
    """A client for the echo app naming the test "a-test": httpx's, or livecov's own
    when httpx is not installed."""
    if request.param == "urllib":
        monkeypatch.setitem(sys.modules, "httpx", None)  # as if not installed: import fails
    with client_for(echo_url, "a-test") as made:
        assert type(made) is (httpx.Client if request.param == "httpx" else Client)
        yield made


def test_a_request_names_its_test_and_goes_to_the_server(client: Any) -> None:
    answer = client.get("/items", params={"page": 2, "tag": ["a", "b"]})
    assert answer.status_code == 200
    assert answer.is_success
    assert answer.headers["content-type"] == "application/json"
    echoed = answer.json()
    assert (echoed["method"], echoed["path"]) == ("GET", "/items")
    assert echoed["query"] == "page=2&tag=a&tag=b"
    assert echoed["context"] == "a-test"


@pytest.mark.parametrize(
    ("kwargs", "body", "content_type"),
    [
        ({"json": {"n": "é"}}, '{"n":"é"}', "application/json"),
        ({"data": {"name": "alice"}}, "name=alice", "application/x-www-form-urlencoded"),
        ({}, "", ""),
    ],
)
def test_bodies_go_as_json_or_a_form(
    client: Any, kwargs: dict[str, Any], body: str, content_type: str
) -> None:
    echoed = client.post("/submit", **kwargs).json()
    assert (echoed["method"], echoed["body"]) == ("POST", body)
    assert echoed["content_type"] == content_type
    assert echoed["context"] == "a-test"


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_every_method(client: Any, method: str) -> None:
    assert getattr(client, method)("/x").json()["method"] == method.upper()


def test_headers_add_to_the_context_and_urls_may_be_absolute(client: Any, echo_url) -> None:
    echoed = client.request("GET", f"{echo_url}/abs?q=1", headers={"X-Extra": "yes"}).json()
    assert (echoed["path"], echoed["query"], echoed["extra"]) == ("/abs", "q=1", "yes")
    assert echoed["context"] == "a-test"


def test_an_error_status_is_an_answer_until_asked_to_raise(client: Any) -> None:
    answer = client.get("/missing")
    assert (answer.status_code, answer.text, answer.is_success) == (404, "néant", False)
    with pytest.raises(Exception, match="404"):
        answer.raise_for_status()
    ok = client.get("/fine")
    assert ok.raise_for_status() is ok


# status: (is a success, raise_for_status raises), as httpx's Response says
STATUSES = {
    200: (True, False),
    299: (True, False),
    300: (False, True),
    399: (False, True),
    400: (False, True),
    500: (False, True),
}


@pytest.mark.parametrize("status", sorted(STATUSES))
def test_success_and_failure_are_told_apart_at_the_same_statuses(client: Any, status: int) -> None:
    success, raises = STATUSES[status]
    answer = client.get(f"/status/{status}")
    assert (answer.status_code, answer.is_success) == (status, success)
    if raises:
        with pytest.raises(Exception, match=str(status)):
            answer.raise_for_status()
    else:
        assert answer.raise_for_status() is answer


def test_livecovs_own_client_is_importable_without_httpx() -> None:
    # httpx is only for type checkers here: importing it would fail where it is not installed.
    code = "import sys; sys.modules['httpx'] = None; import livecov.client; print('imported')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, "imported\n"), done.stderr


def test_a_redirect_is_answered_as_it_is(client: Any) -> None:
    answer = client.get("/redirect")
    assert (answer.status_code, answer.headers["location"]) == (302, "/elsewhere")


def test_cookies_are_kept_between_requests(client: Any) -> None:
    assert client.get("/cookie").text == "set"
    assert client.get("/after").json()["cookie"] == "session=abc"


def test_livecov_client_is_bound_to_the_server_and_names_its_test(
    pytester: pytest.Pytester,
) -> None:
    # Measured by the suite, like test_plugin_errors.py's runs.
    Path(pytester.path, "pyproject.toml").write_text('[tool.livecov]\napp = "echo:app"\n')
    (pytester.path / "echo.py").write_text((APPS / "echo.py").read_text())
    pytester.makepyfile(
        test_api="""\
def test_api(livecov_client):
    assert livecov_client.get("/hello").json()["context"] == "test_api.py::test_api"
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cov", timeout=180)
    result.assert_outcomes(passed=1)


def test_livecovs_own_client_may_name_no_test(echo_url: str) -> None:
    with Client(echo_url + "/", headers={"X-Extra": "1"}) as client:
        echoed = client.get("/x").json()
    assert (echoed["path"], echoed["context"], echoed["extra"]) == ("/x", None, "1")
