"""sys.monitoring with per-request contexts records exactly what the C tracer records.

coverage.py's sysmon core reports a line once (its callback returns DISABLE); livecov's
server re-arms the events at each context switch (livecov.server.measuring.events_rearm),
so every context records each line it runs. The proof: the same requests, served by each backend
measured once with ctrace and once with sysmon, give the same set of (file, context,
line). The requests run code in threads, generators, async tasks, a streamed body and an
exception path; first each context alone in turn (every line is first run by one context,
then by the other), then from concurrent clients of both contexts.
"""

from __future__ import annotations

import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import coverage
import pytest

from livecov import LiveServer, ServerOptions
from livecov.client import Client
from livecov.cores import CTRACE, SYSMON
from tests.livecov.helpers import read_data
from tests.livecov.soak import soak, workers_for

pytestmark = pytest.mark.skipif(sys.version_info < (3, 12), reason="sys.monitoring is Python 3.12+")

CONTEXTS = ("test-a", "test-b")
ROUTES = ("/thread", "/generator", "/caught", "/boom", "/stream", "/resume")
# /resume moves one generator shared by the process: one request at a time.
CONCURRENT_ROUTES = [route for route in ROUTES if route != "/resume"]
Triple = tuple[str, str, int]


def request(url: str, context: str) -> int:
    """The status ``url`` answers for the test ``context`` (/boom: 500)."""
    with Client(url, context) as client:
        return client.get("").status_code


def drive(url: str) -> list[int]:
    """Each context alone in turn, then two clients of each context at once."""
    statuses = [request(url + route, context) for context in CONTEXTS for route in ROUTES]
    clients = [*CONTEXTS, *CONTEXTS]
    with ThreadPoolExecutor(len(clients)) as pool:
        rounds = pool.map(
            lambda context: [request(url + route, context) for route in CONCURRENT_ROUTES * 3],
            clients,
        )
        return statuses + [status for statuses in rounds for status in statuses]


def measured(project: Path, app: str, server: str, core: str) -> tuple[set[Triple], str]:
    """Serve ``app`` measured with ``core`` (None: livecov's choice), drive it, stop; the
    (file, context, line) recorded, and the core livecov chose."""
    core_line = "" if core == SYSMON else f"core = {core}\n"
    (project / ".coveragerc").write_text(f"[run]\nbranch = false\nsource = .\n{core_line}")
    options = ServerOptions(app=app, server=server, workers=workers_for(server))
    live = LiveServer(options, coverage.Coverage().config)
    try:
        live.start()
        statuses = drive(live.url)
        data = read_data(live.stop())
    finally:
        live.cleanup()
    assert sorted(set(statuses)) == [200, 500]
    return triples(data), live.core_choice.core or core


def triples(data: coverage.CoverageData) -> set[Triple]:
    """Every (file name, context, line) ``data`` holds."""
    return {
        (Path(path).name, context, line)
        for path in data.measured_files()
        for line, contexts in data.contexts_by_lineno(path).items()
        for context in contexts
    }


@pytest.mark.parametrize(
    ("app", "server"),
    [
        ("exact:app", "werkzeug"),
        ("exact:app", "waitress"),
        ("exact:app", "gunicorn"),
        ("exact_asgi:app", "uvicorn"),
        ("exact_asgi:app", "gunicorn"),  # gunicorn's uvicorn workers
    ],
)
def test_sysmon_records_the_same_lines_per_context_as_ctrace(
    project: Path, monkeypatch: pytest.MonkeyPatch, app: str, server: str
) -> None:
    monkeypatch.delenv("COVERAGE_CORE", raising=False)
    reference, reference_core = measured(project, app, server, CTRACE)
    fast, fast_core = measured(project, app, server, SYSMON)
    assert (reference_core, fast_core) == (CTRACE, SYSMON)
    assert fast == reference
    module = app.partition(":")[0] + ".py"
    by_context = {
        context: {line for name, recorded, line in fast if (name, recorded) == (module, context)}
        for context in CONTEXTS
    }
    # Lines both contexts ran: each was first run by test-a, then recorded for test-b too.
    assert len(by_context["test-a"] & by_context["test-b"]) > 20
    assert by_context["test-a"] == by_context["test-b"]


# -- the test process: `coverage run -m pytest --livecov-test-contexts` ----------------------

LIBRARY = """\
def shared(count):
    total = 0
    for number in range(count):
        total += number
    return total


def squares(count):
    for number in range(count):
        yield number * number
"""

TESTS = """\
import threading

from library import shared, squares

COUNTER = squares(100)


def test_one():
    assert shared(3) == 3
    assert next(COUNTER) == 0


def test_two():
    worker = threading.Thread(target=shared, args=(4,))
    worker.start()
    worker.join()
    assert next(COUNTER) == 1
"""


def measured_test_run(pytester: pytest.Pytester, core: str) -> set[Triple]:
    """The (file, context, line) of the two tests run under ``coverage run`` with ``core``."""
    (pytester.path / ".coveragerc").write_text(
        f"[run]\nbranch = false\nsource = .\ncore = {core}\n"
    )
    pytester.makepyfile(library=LIBRARY, test_library=TESTS)
    command = [sys.executable, "-m", "coverage", "run", "-m", "pytest", "-p", "no:cov"]
    result = pytester.run(*command, "-p", "no:randomly", "--livecov-test-contexts")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    data = coverage.CoverageData(str(pytester.path / ".coverage"))
    data.read()
    return triples(data)


def test_the_test_process_names_every_test_on_its_lines_under_sysmon(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The throw-away run is measured by its own settings only, not by this suite's.
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START", "COVERAGE_CORE"):
        monkeypatch.delenv(name, raising=False)
    reference = measured_test_run(pytester, CTRACE)
    fast = measured_test_run(pytester, SYSMON)
    assert fast == reference
    # shared()'s body (lines 2-5), run by both tests: under sysmon first by test_one.
    for test in ("test_one", "test_two"):
        context = f"test_library.py::{test}|run"
        assert {("library.py", context, line) for line in range(2, 6)} <= fast


# -- the soak, short: bench/soak_contexts.py runs it for minutes ------------------------------


@pytest.mark.parametrize(
    ("app", "server"), [("exact:app", "werkzeug"), ("exact_asgi:app", "uvicorn")]
)
def test_a_short_soak_keeps_every_contexts_lines_and_fails_no_request(
    project: Path, monkeypatch: pytest.MonkeyPatch, app: str, server: str
) -> None:
    monkeypatch.delenv("COVERAGE_CORE", raising=False)
    result = soak(project, app, server, clients=6, contexts=20, rounds=2, seconds=1.5)
    assert result.failures == []
    assert len(result.asked) >= 6  # each client sent at least one context of its own
    assert result.wrong_contexts == []
