"""A Django project measured by ``livecov run``: its views and, through
django_coverage_plugin, its templates, in one report, whichever server serves it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import coverage
import pytest

from livecov.cli import main
from tests.livecov.helpers import (
    context_client,
    copy_project,
    get,
    json_report,
    suite_server,
    suite_server_failure,
)

pytest.importorskip("django")
pytest.importorskip("django_coverage_plugin")

SITE = Path(__file__).parent / "django_site"
# A client in another language would do the same: name each request's test in a header.
CLIENT = context_client([("items-two", "/items/2/"), ("index", "/")])
TEMPLATE = "mysite/templates/polls/items.html"

# The app, and the server options: WSGI under werkzeug and gunicorn; ASGI (asgi.py) under
# the server livecov picks for it by itself, uvicorn.
BACKENDS = {
    "werkzeug": ("mysite.wsgi:application", ["--server", "werkzeug"]),
    "gunicorn": ("mysite.wsgi:application", ["--server", "gunicorn", "--workers", "2"]),
    "uvicorn": ("mysite.asgi:application", []),
}


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return copy_project(SITE, tmp_path, monkeypatch, "django_coverage_plugin", CLIENT)


def _run_site(backend: str) -> dict:
    pytest.importorskip(backend)
    app, options = BACKENDS[backend]
    status = main(
        ["run", "--no-html", "--json", "report.json", "--app", app,
         *options, "--env", "DJANGO_SETTINGS_MODULE=mysite.settings",
         "--", sys.executable, "client.py"]
    )  # fmt: skip
    assert status == 0
    return json_report(Path("report.json"))["files"]


def test_django_views_and_templates_in_one_report_whichever_backend(site: Path, capfd) -> None:
    executed = {}
    for backend in sorted(BACKENDS):
        Path(".coverage").unlink(missing_ok=True)
        files = _run_site(backend)

        out = capfd.readouterr().out
        assert "items-two 200" in out
        assert f"({backend})" in out  # the server that served it
        template = files[TEMPLATE]
        # The loop ran for two items; the {% else %} branch ("No items.") never rendered.
        assert template["missing_lines"] == [9], backend
        assert {1, 2, 3, 4, 5, 7} <= set(template["executed_lines"])
        assert template["contexts"]["5"] == ["items-two"]
        views = files["mysite/views.py"]
        assert views["missing_lines"] == []
        assert views["contexts"]["6"] == ["index"]
        assert views["contexts"]["10"] == ["items-two"]
        # The URLconf and the views it imports were loaded before the server listened, under
        # live-server, not by the first request (items-two), whose test did not run them.
        for line in ("1", "2", "5", "9"):
            assert views["contexts"][line] == ["live-server"], (backend, line)
        urls = files["mysite/urls.py"]["contexts"]
        assert set(map(tuple, urls.values())) == {("live-server",)}, backend
        executed[backend] = {name: f["executed_lines"] for name, f in files.items()}
    assert executed["werkzeug"] == executed["gunicorn"]
    # asgi.py and wsgi.py each run only under their own server; everything else the same.
    wsgi_only = {k: v for k, v in executed["werkzeug"].items() if k != "mysite/asgi.py"}
    asgi_only = {k: v for k, v in executed["uvicorn"].items() if k != "mysite/wsgi.py"}
    assert wsgi_only.keys() - {"mysite/wsgi.py"} == asgi_only.keys() - {"mysite/asgi.py"}
    for name in wsgi_only.keys() - {"mysite/wsgi.py"}:
        assert wsgi_only[name] == asgi_only[name], name


DJANGO_ENV = {"DJANGO_SETTINGS_MODULE": "mysite.settings"}
# Appended to urls.py: its import leaves a mark in the server's temporary folder.
MARK_IMPORT = (
    "\nimport os, pathlib\npathlib.Path(os.environ['LIVECOV_TMPDIR'], 'urls-loaded').touch()\n"
)


@pytest.mark.parametrize("backend", ["werkzeug", "gunicorn"])
def test_the_urlconf_is_loaded_before_the_server_listens(site: Path, backend: str) -> None:
    with (site / "mysite/urls.py").open("a") as urls:
        urls.write(MARK_IMPORT)
    options = {"server": backend, "workers": 2 if backend == "gunicorn" else 1, "env": DJANGO_ENV}
    with suite_server(app="mysite.wsgi:application", **options) as server:
        assert (Path(server.tmpdir) / "urls-loaded").exists()  # no request was made yet
        assert get(server.url + "/") == "Django says hello"


# A database in the server's temporary folder, and a reset hook that uses it.
SQLITE_SETTINGS = """
import os
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.path.join(os.environ["LIVECOV_TMPDIR"], "db.sqlite3")}}
"""
DATABASE_RESET = """\
import os
from pathlib import Path

from django.db import connection


def reset():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    Path(os.environ["LIVECOV_TMPDIR"], "reset-ran").touch()
"""


@pytest.mark.parametrize("handler", ["wsgi", "asgi"])
def test_a_reset_hook_can_use_djangos_database_whichever_handler(site: Path, handler: str) -> None:
    """Django's ORM refuses to run inside an event loop (SynchronousOnlyOperation): under
    asgi.py the hook runs in a thread of its own, as under wsgi.py."""
    with (site / "mysite/settings.py").open("a") as settings:
        settings.write(SQLITE_SETTINGS)
    (site / "mysite/live.py").write_text(DATABASE_RESET)
    app = f"mysite.{handler}:application"
    with suite_server(app=app, reset="mysite.live:reset", env=DJANGO_ENV) as server:
        server.reset("tests/test_x.py::test_one")
        assert (Path(server.tmpdir) / "reset-ran").exists()


def test_a_urlconf_that_fails_to_load_stops_the_server_in_one_line(site: Path) -> None:
    (site / "mysite/urls.py").write_text("from mysite import missing_views\n")
    refused = suite_server_failure(app="mysite.wsgi:application", env=DJANGO_ENV)

    assert str(refused) == (  # the app's own code failed (exit status 3), before it listened
        "loading Django's URLconf raised ImportError: cannot import name "
        f"'missing_views' from 'mysite' ({site / 'mysite/__init__.py'})"
    )
    assert f'File "{site / "mysite/urls.py"}", line 1' in refused.output  # the user's traceback


PLUGIN_PYPROJECT = """\
[tool.livecov]
app = "mysite.wsgi:application"

[tool.livecov.env]
DJANGO_SETTINGS_MODULE = "mysite.settings"

[tool.coverage.run]
branch = true
source = ["."]
omit = ["test_*.py"]
plugins = ["django_coverage_plugin"]
"""
PLUGIN_TESTS = """\
def test_two_items(livecov_client):
    assert "<li>item 1</li>" in livecov_client.get("/items/2/").text
"""


@pytest.mark.parametrize("handler", ["wsgi", "asgi"])
def test_django_through_the_pytest_plugin(
    pytester: pytest.Pytester, monkeypatch, handler: str
) -> None:
    monkeypatch.delenv("COVERAGE_PROCESS_CONFIG", raising=False)
    monkeypatch.delenv("COVERAGE_PROCESS_START", raising=False)
    shutil.copytree(SITE, pytester.path, dirs_exist_ok=True)
    app = f'app = "mysite.{handler}:application"'
    pyproject = PLUGIN_PYPROJECT.replace('app = "mysite.wsgi:application"', app)
    pytester.makefile(".toml", pyproject=pyproject)
    pytester.makepyfile(test_site=PLUGIN_TESTS)

    result = pytester.runpytest_subprocess("--cov", "--cov-report=term-missing", timeout=180)

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["mysite/templates/polls/items.html * 9*"])
    data = coverage.CoverageData(str(pytester.path / ".coverage"))
    data.read()
    template = str(pytester.path / TEMPLATE)
    assert data.contexts_by_lineno(template)[5] == ["test_site.py::test_two_items"]
