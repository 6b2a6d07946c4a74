"""bench/common.py on the kept tools it drives: hyperfine's rounds, wrk's load.

What is ours there, and pinned here: the rounds alternate (A B, then B A) and keep each
round's pair together, a failing command stops the comparison and is named, and wrk's
summary (through its Lua ``done()`` hook) gives the requests the server really answered,
with the per-test header changing every ``every`` requests.
"""

from __future__ import annotations

import http.server
import importlib.util
import itertools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_common() -> Any:
    """bench/common.py as a module, without its imports' side effects on this process."""
    saved_env = dict(os.environ)
    os.environ["BENCH_KEEP_ENV"] = "1"  # it would drop PYTHONDONTWRITEBYTECODE
    try:
        spec = importlib.util.spec_from_file_location("bench_common", REPO / "bench" / "common.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        os.environ.clear()
        os.environ.update(saved_env)


common = _load_common()
# CI installs both (.ci/run), as `make bench-tools` does; elsewhere a missing one says so.
needs_hyperfine = pytest.mark.skipif(
    shutil.which("hyperfine") is None, reason="hyperfine is not installed (make bench-tools)"
)
needs_wrk = pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (make bench-tools)"
)


@needs_hyperfine
def test_rounds_alternate_the_order_and_keep_each_rounds_pair(tmp_path: Path) -> None:
    ran = tmp_path / "order"
    commands = {name: f"echo {name} >> {ran}" for name in ("A", "B")}
    timings = common.alternate_commands(lambda _round: commands, 3, cwd=tmp_path)
    assert ran.read_text().split() == ["A", "B", "B", "A", "A", "B"]
    assert [len(timings[name]) for name in ("A", "B")] == [3, 3]
    # hyperfine takes the shell's start-up off: an echo's own time is about nothing
    assert all(t.wall >= 0 and t.code == 0 for name in timings for t in timings[name])


@needs_hyperfine
def test_each_round_gets_its_own_commands(tmp_path: Path) -> None:
    common.alternate_commands(lambda n: {"A": f"touch round-{n}"}, 2, cwd=tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["round-0", "round-1"]


@needs_hyperfine
def test_the_cpu_time_is_the_commands(tmp_path: Path) -> None:
    busy = f"{sys.executable} -c 'sum(range(3 * 10**7))'"
    timings = common.alternate_commands(lambda _round: {"busy": busy, "idle": "sleep 0.2"}, 1)
    assert timings["busy"][0].cpu > 5 * timings["idle"][0].cpu


@needs_hyperfine
def test_a_failing_command_stops_the_comparison_naming_it_and_its_output() -> None:
    with pytest.raises(common.CommandFailed, match=r"exited with 1:\nwent wrong") as failed:
        common.hyperfine({"A": "true", "B": "echo went wrong; exit 3"})
    assert "exit 3" in str(failed.value)


@needs_hyperfine
def test_a_failing_command_is_timed_when_failures_are_allowed(tmp_path: Path) -> None:
    printed = tmp_path / "output.txt"
    timings = common.hyperfine({"A": "echo why; exit 3"}, allow_fail=True, output=printed)
    assert timings["A"].code == 3
    assert printed.read_text() == "why\n"


class _Recorder(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as wrk expects
    seen: list[str | None]

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Livecov-Context"))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[str | None]]]:
    seen: list[str | None] = []
    handler = type("Handler", (_Recorder,), {"seen": seen})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", seen
    finally:
        server.shutdown()
        server.server_close()


@needs_wrk
def test_wrks_summary_counts_the_requests_the_server_answered(
    recorder: tuple[str, list[str | None]],
) -> None:
    url, seen = recorder
    result = common.load(url, seconds=1, connections=1)
    assert result.requests > 0
    assert result.errors == 0
    assert abs(result.requests - len(seen)) <= 1  # one may be cut off at the deadline
    assert result.rps == pytest.approx(result.requests / result.seconds)
    assert set(seen) == {None}


@needs_wrk
def test_a_new_test_name_every_n_requests(recorder: tuple[str, list[str | None]]) -> None:
    url, seen = recorder
    common.load(url, seconds=1, connections=1, cycle=("Livecov-Context", "t-", 3), every=5)
    groups = [(name, len(list(run))) for name, run in itertools.groupby(seen)]
    assert len(groups) > 4
    assert [name for name, _ in groups[:4]] == ["t-0", "t-1", "t-2", "t-0"]
    assert {size for _, size in groups[1:-1]} == {5}  # the first and last may be cut


def test_load_goes_to_the_loopback_only() -> None:
    with pytest.raises(ValueError, match="only send load to the loopback"):
        common.load("http://192.0.2.1/", seconds=1)


# A parent that only waits, and a child that spins until it has used 0.3 s of CPU, then
# says so and waits: gunicorn's master and a worker, in miniature.
SPINNING_CHILD = """
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", '''
import sys, time
while time.process_time() < 0.3:
    pass
print("spun", flush=True)
sys.stdin.read()
'''], stdin=subprocess.PIPE, stdout=sys.stdout)
sys.stdin.read()
child.stdin.close()
child.wait()
"""


def test_the_servers_cpu_time_counts_its_live_workers() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", SPINNING_CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout.readline() == "spun\n"
        assert common.tree_cpu_seconds(parent.pid) >= 0.3
        assert common.process_cpu_seconds(parent.pid) < 0.3
    finally:
        parent.stdin.close()
        parent.wait(timeout=30)
