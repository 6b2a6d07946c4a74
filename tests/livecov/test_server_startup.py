"""The server process starts light: only what it runs is imported, and not under the tracer.

The server process imports ``livecov.server.serve``, hence the package ``livecov``; the
test process's side (LiveServer: subprocess, urllib, coverage's reporting) is imported on
first use only. The backend is imported before coverage starts, unless the run measures it.
"""

from __future__ import annotations

import inspect
import os
import subprocess
import sys
from pathlib import Path

import coverage
import pytest
import werkzeug.serving
from coverage.config import CoverageConfig

import livecov
import livecov.live_server
from livecov.live_server import LiveServer, ServerOptions
from livecov.server_coverage import preimported_modules
from tests.livecov.helpers import get, read_data


def unmeasured_python(code: str) -> str:
    """Run ``code`` in a fresh interpreter that nothing measures; its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_the_server_side_imports_neither_the_test_side_nor_coverage() -> None:
    loaded = unmeasured_python(
        "import sys, livecov.server.serve, livecov.server.wsgi;"
        "print(sorted(m for m in ('livecov.live_server', 'coverage', 'subprocess')"
        " if m in sys.modules))"
    )
    assert loaded == "[]"


def test_the_server_side_of_a_wsgi_app_loads_no_asyncio() -> None:
    # asyncio (and livecov's ASGI layer) are for ASGI apps: werkzeug serves without them.
    loaded = unmeasured_python(
        "import sys, livecov.server.serve, livecov.server.build, livecov.server.serve_werkzeug;"
        "print(sorted(m for m in ('asyncio', 'livecov.server.asgi') if m in sys.modules))"
    )
    assert loaded == "[]"


def test_the_package_gives_the_test_side_on_first_use() -> None:
    assert livecov.LiveServer is livecov.live_server.LiveServer
    assert livecov.ServerOptions is livecov.live_server.ServerOptions
    assert livecov.LivecovError.__module__ == "livecov.errors"
    with pytest.raises(AttributeError, match="module 'livecov' has no attribute 'Nothing'"):
        livecov.Nothing  # noqa: B018


def config(**options: object) -> CoverageConfig:
    base = CoverageConfig()
    base.from_args(**options)
    return base


@pytest.mark.parametrize(
    ("server", "measured", "imported_first"),
    [
        ("werkzeug", {"source": ["."]}, ["werkzeug.serving"]),
        ("waitress", {}, ["waitress"]),
        ("gunicorn", {"source": ["src"]}, ["gunicorn.app.base"]),
        ("werkzeug", {"source": [".", "werkzeug"]}, []),
        ("werkzeug", {"source": ["werkzeug.serving"]}, []),
        ("werkzeug", {"source": ["/venv/lib/site-packages/werkzeug"]}, []),
        ("waitress", {"source_pkgs": ["waitress"]}, []),
        ("werkzeug", {"source": ["werkzeugish"]}, ["werkzeug.serving"]),
        ("uvicorn", {}, ["uvicorn"]),
        ("auto", {"source": ["."]}, ["werkzeug.serving"]),
        ("a backend of its own", {}, []),  # nothing known to import early
    ],
)
def test_the_backend_is_imported_before_measuring_unless_source_names_it(
    server: str, measured: dict, imported_first: list[str]
) -> None:
    assert preimported_modules(server, config(**measured)) == imported_first


def test_a_backend_named_in_source_is_measured_from_its_import(project: Path) -> None:
    serving = Path(werkzeug.serving.__file__)
    make_server = inspect.getsourcelines(werkzeug.serving.make_server)[1]  # its `def` line
    measured = coverage.Coverage(source=[".", str(serving.parent)]).config
    server = LiveServer(ServerOptions(app="branchy:app"), measured)
    try:
        assert get(server.start() + "/hello") == "Hello"
        data = read_data(server.stop())
    finally:
        server.cleanup()
    assert make_server in (data.lines(str(serving)) or [])
