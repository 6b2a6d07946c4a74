"""A ``warmup`` hook loads, in each server process before it listens, what the app would load
on its first request: those import-time lines count for ``live-server``, not for the test
whose request happened to come first. (Django's URLconf is loaded so without a hook:
test_django.py.)"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from livecov.cli import main
from tests.livecov.helpers import context_client, get, json_report, suite_server

LAZY_APP = """\
def app(environ, start_response):
    from lazy_views import answer

    start_response("200 OK", [("Content-Type", "text/plain")])
    return [answer().encode()]


def load_views():
    import lazy_views  # noqa: F401
"""
LAZY_VIEWS = """\
GREETING = "loaded lazily"


def answer():
    return GREETING
"""


def run_lazy_app(project: Path, toml: str, *options: str) -> dict[str, list[str]]:
    """Serve the lazy app to one request of the test "first"; the contexts of lazy_views.py."""
    (project / "lazy_app.py").write_text(LAZY_APP)
    (project / "lazy_views.py").write_text(LAZY_VIEWS)
    (project / "client.py").write_text(context_client([("first", "/")]))
    (project / "pyproject.toml").write_text(f'[tool.livecov]\napp = "lazy_app:app"\n{toml}')
    status = main(
        ["run", "--no-html", "--json", "report.json", *options, "--", sys.executable, "client.py"]
    )
    assert status == 0
    return json_report(project / "report.json")["files"]["lazy_views.py"]["contexts"]


@pytest.mark.parametrize(
    ("toml", "options"),
    [('warmup = "lazy_app:load_views"\n', []), ("", ["--warmup", "lazy_app:load_views"])],
    ids=["tool.livecov", "command line"],
)
def test_a_warmup_hook_loads_the_views_under_live_server(
    project: Path, toml: str, options: list[str]
) -> None:
    contexts = run_lazy_app(project, toml, *options)
    assert contexts["1"] == ["live-server"]  # GREETING = ...: run by the import
    assert contexts["4"] == ["live-server"]  # def answer(): too
    assert contexts["5"] == ["first"]  # the body, by the request


def test_without_it_the_first_request_is_credited_with_the_import(project: Path) -> None:
    contexts = run_lazy_app(project, "")
    assert contexts["1"] == ["first"]
    assert contexts["5"] == ["first"]


def test_the_warmup_hook_runs_before_the_server_listens(project: Path) -> None:
    (project / "lazy_app.py").write_text(LAZY_APP)
    (project / "lazy_views.py").write_text(
        "import os, pathlib\npathlib.Path(os.environ['LIVECOV_TMPDIR'], 'loaded').touch()\n"
        + LAZY_VIEWS
    )
    with suite_server(app="lazy_app:app", warmup="lazy_app:load_views") as server:
        assert (Path(server.tmpdir) / "loaded").exists()  # no request was made yet
        assert get(server.url + "/") == "loaded lazily"
