"""A soak of per-request contexts: concurrent clients over many contexts, resets between
rounds, then every context's lines checked against a serial run of the same requests.

The short version runs in the suite (tests/livecov/test_sysmon_contexts.py), the long one
is bench/soak_contexts.py. The server serves the exactness apps (``exact``, WSGI, or
``exact_asgi``, ASGI); context ``ctx-K`` always asks for the same routes (its own subset of
four), so the lines it must carry are those of one serial pass over its routes. Everything
is bounded: rounds of ``seconds`` each, at most ``max_requests`` per round, loopback only.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import coverage

from livecov import LiveServer, ServerOptions
from livecov.client import Client

ROUTES = ("/thread", "/generator", "/caught", "/stream")
# The reset hook lives in a module of its own, left out of the measurement: reset runs
# between contexts (alone in the gate) and belongs to none of them.
RESET_MODULE = "soak_reset"
Lines = set[tuple[str, int]]


def workers_for(server: str) -> int | None:
    """Two worker processes where the server has them (gunicorn), else its default."""
    return 2 if server == "gunicorn" else None


def routes_of(context: int) -> tuple[str, ...]:
    """Context ``context``'s routes: one of the 15 non-empty subsets of ROUTES."""
    mask = context % 15 + 1
    return tuple(route for bit, route in enumerate(ROUTES) if mask >> bit & 1)


@dataclass
class SoakResult:
    requests: int = 0
    asked: set[str] = field(default_factory=set)  # the contexts the clients sent
    failures: list[str] = field(default_factory=list)
    rss_first_round: int = 0  # kB, the server and its workers, after the first round
    rss_end: int = 0  # kB, the same after the last round
    by_context: dict[str, Lines] = field(default_factory=dict)  # what the soak recorded
    expected: dict[str, Lines] = field(default_factory=dict)  # a serial run, with ctrace

    @property
    def wrong_contexts(self) -> list[str]:
        """Contexts sent or recorded whose lines differ from the serial run's."""
        names = sorted(self.asked | set(self.by_context))
        return [n for n in names if self.by_context.get(n) != self.expected.get(n)]


def prepare(project: Path) -> None:
    """The reset hook's module and a line-coverage configuration that leaves it out."""
    (project / f"{RESET_MODULE}.py").write_text("def reset():\n    return None\n")


def _config(project: Path, core: str | None) -> coverage.Coverage:
    core_line = f"core = {core}\n" if core else ""
    rc = f"[run]\nbranch = false\nsource = .\nomit = {RESET_MODULE}.py\n{core_line}"
    (project / ".coveragerc").write_text(rc)
    return coverage.Coverage(config_file=str(project / ".coveragerc"))


def soak(
    project: Path,
    app: str,
    server: str,
    clients: int = 8,
    contexts: int = 20,
    rounds: int = 3,
    seconds: float = 1.0,
    max_requests: int = 20_000,  # in all rounds together
) -> SoakResult:
    """Soak ``app`` under ``server`` measured as livecov chooses, then check it serially."""
    prepare(project)
    result = SoakResult()
    options = ServerOptions(
        app=app, server=server, workers=workers_for(server), reset=f"{RESET_MODULE}:reset"
    )
    live = LiveServer(options, _config(project, None).config)
    try:
        live.start()
        for number in range(rounds):
            _round(live.url, result, clients, contexts, seconds, max_requests)
            live.reset()
            if number == 0:
                result.rss_first_round = group_rss_kb(live.process.pid)  # type: ignore[union-attr]
        result.rss_end = group_rss_kb(live.process.pid)  # type: ignore[union-attr]
        result.by_context = _lines_by_context(live.stop())
    finally:
        live.cleanup()
    result.expected = _serial(project, app, server, contexts)
    return result


def _round(
    url: str, result: SoakResult, clients: int, contexts: int, seconds: float, limit: int
) -> None:
    deadline = time.monotonic() + seconds
    lock = threading.Lock()

    def client(number: int) -> None:
        turn = 0
        while time.monotonic() < deadline:
            context = (number + turn * clients) % contexts
            turn += 1
            for route in routes_of(context):
                with lock:
                    if result.requests >= limit:
                        return
                    result.requests += 1
                    result.asked.add(f"ctx-{context}")
                failure = _get(url + route, f"ctx-{context}")
                if failure:
                    with lock:
                        result.failures.append(failure)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def _get(url: str, context: str) -> str:
    """'' when ``url`` answered 200 for ``context``, else what went wrong."""
    try:
        with Client(url, context) as client:
            status = client.get("").status_code
    except OSError as error:  # refused, dropped, timed out
        return f"{url} {context}: {error}"
    return "" if status == 200 else f"{url} {context}: {status}"


def _serial(project: Path, app: str, server: str, contexts: int) -> dict[str, Lines]:
    """Each context's routes once, one request at a time, measured with ctrace."""
    options = ServerOptions(
        app=app, server=server, workers=workers_for(server), reset=f"{RESET_MODULE}:reset"
    )
    live = LiveServer(options, _config(project, "ctrace").config)
    try:
        live.start()
        for context in range(contexts):
            for route in routes_of(context):
                failure = _get(live.url + route, f"ctx-{context}")
                assert not failure, failure
        return _lines_by_context(live.stop())
    finally:
        live.cleanup()


def _lines_by_context(files: list[Path]) -> dict[str, Lines]:
    by_context: dict[str, Lines] = {}
    for path in files:
        data = coverage.CoverageData(str(path))
        data.read()
        for measured in data.measured_files():
            for line, names in data.contexts_by_lineno(measured).items():
                for name in names:
                    if name.startswith("ctx-"):
                        by_context.setdefault(name, set()).add((Path(measured).name, line))
    return by_context


def group_rss_kb(pgid: int) -> int:
    """The resident memory of every process in group ``pgid`` (the server, its workers)."""
    total = 0
    for proc in Path("/proc").iterdir():
        try:
            if not proc.name.isdigit() or _pgid(proc) != pgid:
                continue
            status = (proc / "status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue  # gone meanwhile
        total += next(
            (int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")),
            0,
        )
    return total


def _pgid(proc: Path) -> int:
    return int((proc / "stat").read_text().rsplit(") ", 1)[1].split()[2])
