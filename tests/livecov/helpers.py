"""Helpers for livecov's own tests: sample-app line tags, data, processes, ports."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import coverage
import pytest

from livecov.client import Client
from livecov.errors import LivecovError
from livecov.live_server import LiveServer, ServerOptions
from livecov.measure import merge_into_running

APPS = Path(__file__).parent / "apps"


@dataclass(frozen=True)
class Backend:
    """A server and the sample app it serves: ``branchy`` (WSGI) or its twin ``branchy_asgi``
    (ASGI), with the same routes and line tags, so one test holds for every backend."""

    name: str
    server: str
    module: str

    def app(self, name: str = "app") -> str:
        return f"{self.module}:{name}"

    def source(self, project: Path) -> Path:
        return project / f"{self.module}.py"

    def __str__(self) -> str:
        return self.name


WERKZEUG = Backend("werkzeug", "werkzeug", "branchy")
WAITRESS = Backend("waitress", "waitress", "branchy")
GUNICORN = Backend("gunicorn", "gunicorn", "branchy")
UVICORN = Backend("uvicorn", "uvicorn", "branchy_asgi")
GUNICORN_UVICORN = Backend("gunicorn-uvicorn", "gunicorn", "branchy_asgi")
# One per kind of app, each under its default server: the tests of what every backend must do.
DEFAULT_BACKENDS = [WERKZEUG, UVICORN]
MULTI_WORKER_BACKENDS = [GUNICORN, GUNICORN_UVICORN]
ALL_BACKENDS = [WERKZEUG, WAITRESS, GUNICORN, UVICORN, GUNICORN_UVICORN]
REPO = Path(__file__).parents[2]


def rcfile(plugins: str = "") -> str:
    """A .coveragerc that measures a test project's own files, its client scripts omitted."""
    plugin_line = f"plugins = {plugins}\n" if plugins else ""
    run = f"[run]\nbranch = true\nsource = .\nomit = client*\n{plugin_line}"
    return run + "[html]\nshow_contexts = true\n"


RCFILE = rcfile()


@contextmanager
def reaped(process: subprocess.Popen, group: bool = False) -> Iterator[subprocess.Popen]:
    """``process`` for the block; after it, killed if still running (its whole process group
    with ``group``), waited for, and its pipes closed: nothing outlives a failing test."""
    try:
        yield process
    finally:
        if process.poll() is None:  # pragma: no cover - only when a test fails
            if group:
                os.killpg(process.pid, signal.SIGKILL)
            else:
                process.kill()
        process.wait(timeout=60)
        for stream in (process.stdin, process.stdout, process.stderr):
            if stream is not None:
                stream.close()


def livecov_command(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed ``livecov`` command, as a shell runs it (its arguments are not the
    interned strings a call of ``main([...])`` from Python would pass)."""
    script = Path(sys.executable).with_name("livecov")
    return subprocess.run(
        [str(script), *arguments], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def livecov_lines(err: str) -> list[str]:
    """The lines livecov itself wrote in ``err`` (they start with ``livecov:``)."""
    return [line for line in err.splitlines() if line.startswith("livecov:")]


def unmeasured_command(*arguments: str) -> list[str]:
    """A Python command that the suite's own measurement leaves alone: without ``site``,
    coverage.py's ``patch = subprocess`` never starts in it. For the commands a test kills:
    killed while writing, a measured one leaves a half-written data file that ``coverage
    combine`` then warns about. Such commands import only the standard library."""
    return [sys.executable, "-S", *arguments]


def context_client(requests: list[tuple[str, str]]) -> str:
    """A client for ``livecov run``: GETs each path, naming its test in the context header,
    as a client in any language would."""
    return f"""\
import os, urllib.request
url = os.environ["LIVE_SERVER_URL"]
for context, path in {requests!r}:
    request = urllib.request.Request(url + path, headers={{"Livecov-Context": context}})
    with urllib.request.urlopen(request, timeout=30) as response:
        print(context, response.status)
"""


def copy_project(
    source: Path, where: Path, monkeypatch: pytest.MonkeyPatch, plugins: str, client: str
) -> Path:
    """``source`` copied to ``where``, with a .coveragerc using ``plugins`` and a client.py;
    ``where`` becomes the cwd."""
    shutil.copytree(source, where, dirs_exist_ok=True)
    (where / ".coveragerc").write_text(rcfile(plugins))
    (where / "client.py").write_text(client)
    monkeypatch.chdir(where)
    return where


def tagged_lines(path: Path) -> dict[str, set[int]]:
    """Lines of a sample app by ``# route: NAME...`` tag ('' for untagged lines)."""
    tags: dict[str, set[int]] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        _, sep, names = line.partition("# route: ")
        for name in names.split() if sep else [""]:
            tags.setdefault(name, set()).add(number)
    return tags


def expected_executed(path: Path, routes: set[str]) -> set[int]:
    """The statements of ``path`` that requests to ``routes`` (plus import) execute."""
    statements = _statement_lines(path)
    tags = tagged_lines(path)
    tagged = set().union(*(lines for tag, lines in tags.items() if tag))
    chosen = set().union(*(tags.get(route, set()) for route in routes))
    return (statements - tagged) | (statements & chosen)


def _statement_lines(path: Path) -> set[int]:
    cov = coverage.Coverage(data_file=None)
    _, statements, _, _, _ = cov.analysis2(str(path))
    return set(statements)


def json_report(path: Path) -> dict:
    return json.loads(path.read_text())


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purposes: it runs no code and holds no port.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ")[-1][0] != "Z"


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    members = [p for p in Path("/proc").iterdir() if p.name.isdigit()]
    return any(_pgid_of(p) == pgid and pid_alive(int(p.name)) for p in members)


def _pgid_of(proc: Path) -> int | None:
    try:
        return int((proc / "stat").read_text().split(") ")[-1].split()[2])
    except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
        return None


@contextmanager
def sighup_default() -> Iterator[None]:
    """Children started inside get SIGHUP's default action, even under ``nohup``.

    An ignored signal stays ignored across exec; a test that kills a child with SIGHUP
    must not depend on how the suite itself was started.
    """
    previous = signal.signal(signal.SIGHUP, signal.SIG_DFL)
    try:
        yield
    finally:
        signal.signal(signal.SIGHUP, previous)


def _measured_like_this_run(options: dict) -> tuple[LiveServer, bool]:
    """A LiveServer measured like this test run is; whether a measurement is running.

    Without a running measurement, the sample project's configuration (cwd) is used.
    """
    running = coverage.Coverage.current()
    config = running.config if running else coverage.Coverage().config
    if running:
        # Serve from where the run's measurement started, so its relative settings
        # (source, relative_files) mean the same; the sample apps come from the cwd, put
        # before the inherited PYTHONPATH (not in its place: a run whose livecov comes from
        # PYTHONPATH, such as make affected-proof's copy, must serve that livecov, the
        # one it measures).
        options["cwd"] = str(REPO)
        options["pythonpath"] = [os.getcwd(), *options.get("pythonpath", [])]
    return LiveServer(ServerOptions(**options), config), running is not None


def project_config() -> coverage.CoverageConfig:
    """The coverage configuration of the project in the current folder (the sample
    project's .coveragerc, in the ``project`` fixture): what a server measures its app with."""
    return coverage.Coverage().config


def sample_project(folder: Path) -> Path:
    """Fill ``folder`` with the sample apps and a coverage config; return it."""
    for app in APPS.glob("*.py"):
        shutil.copy(app, folder)
    (folder / ".coveragerc").write_text(RCFILE)
    return folder


FASTAPI_PYPROJECT = """\
[tool.livecov]
app = "fastapi_app:app"

[tool.coverage.run]
branch = true
source = ["."]
omit = ["test_*.py"]
"""
FASTAPI_TESTS = """\
def test_items(livecov_client):
    assert livecov_client.get("/items/4").text == "item 4, session open: True"


def test_sync(livecov_client):
    assert livecov_client.get("/sync").text == "sync, in a worker thread: True"
"""


def fastapi_api_project(folder: Path) -> Path:
    """Fill ``folder`` with the sample FastAPI app and its API tests through livecov's
    pytest plugin (test_app.py: test_items, test_sync); return it."""
    shutil.copy(APPS / "fastapi_app.py", folder)
    (folder / "pyproject.toml").write_text(FASTAPI_PYPROJECT)
    (folder / "test_app.py").write_text(FASTAPI_TESTS)
    return folder


@contextmanager
def suite_server(**options) -> Iterator[LiveServer]:
    """A LiveServer measured like this test run is, its data merged into the run's.

    This is how livecov's own server-side code counts in the suite's coverage.
    """
    server, running = _measured_like_this_run(options)
    try:
        server.start()
        yield server
        files = server.stop()
        server.collected = read_data(files)  # type: ignore[attr-defined]
        if running:
            merge_into_running(files)
    finally:
        server.cleanup()


def suite_server_failure(**options) -> LivecovError:
    """Start a server that must fail to start; return the error it gave.

    Measured like :func:`suite_server`: whatever the server saved before it went (its
    checks, its error reports) counts in the suite's coverage.
    """
    server, running = _measured_like_this_run(options)
    try:
        try:
            server.start()
        except LivecovError as exc:
            if running:
                merge_into_running(sorted(server.data_dir.glob(".coverage.*")))
            return exc
        raise AssertionError(f"the server started at {server.url}")
    finally:
        server.cleanup()


def measure_like_unit_tests(project: Path, code: str, branch: bool = True) -> None:
    """Write ``.coverage`` in ``project`` as a unit-test run of ``code`` would."""
    (project / "unit_run.py").write_text(code)
    rc = project / "unit.rc"
    rc.write_text(f"[run]\nbranch = {branch}\nsource = .\nomit = unit_run.py\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS")}
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", f"--rcfile={rc}", "unit_run.py"],
        cwd=project,
        env=env,
        check=True,
    )


def read_data(files: list[Path]) -> coverage.CoverageData:
    """All of ``files`` combined, in memory."""
    combined = coverage.CoverageData(no_disk=True)
    for path in files:
        data = coverage.CoverageData(str(path))
        data.read()
        combined.update(data)
    return combined


def port_closed(url: str) -> bool:
    """True when nothing listens at ``url`` any more (its server is gone)."""
    host, port = url.removeprefix("http://").split(":")
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def get(url: str, context: str | None = None) -> str:
    """What ``url`` answers, asked by livecov's own client naming the test ``context`` (none:
    no test named); an error status raises, a dropped connection raises ``OSError``."""
    with Client(url, context) as client:
        return client.get("").raise_for_status().text
