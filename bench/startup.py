"""Figure 2: start-up, spawn -> first successful response, livecov vs the floor.

  livecov   ``LiveServer(...).start()`` (werkzeug, coverage with the project's settings,
            setup hook flaskr.db:init_db, fresh temporary instance) + the first GET /hello
  nocov     the same with ``coverage_config=None``
  floor     ``bench/floor_server.py``: a process that imports flaskr, builds the app, binds
            a socket and answers that one request (no coverage, no set-up)

  floor_cov the floor with coverage.py started first (the project's settings): what any
            coverage-measured server pays, livecov or not

Runs alternate (livecov, nocov, floor, floor_cov, then rotated). The target is livecov <= 1.2x the
floor, as a per-round ratio. The stop (SIGTERM -> coverage saved) is reported beside it.

    python bench/startup.py [--runs 5] [--server werkzeug]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import Figure, Stats, ratios

NAME = "startup"
TITLE = "2. Start-up: spawn -> first response (GET /hello)"


def time_livecov(server: str, coverage_on: bool, stops: list[float], phases: list[float]) -> float:
    from livecov import LiveServer

    config = common.project_coverage_config() if coverage_on else None
    began = time.perf_counter()
    live = LiveServer(common.flaskr_options(server=server), config)
    try:
        url = live.start()
        with urllib.request.urlopen(url + "/hello", timeout=30) as resp:
            if resp.read() != b"Hello, World!":
                raise RuntimeError("unexpected /hello answer")
        elapsed = time.perf_counter() - began
        phases.append(live.startup_seconds)
        files = live.stop()
        stops.append(live.stop_seconds)
        if coverage_on and not files:
            raise RuntimeError("the server wrote no coverage data")
    finally:
        live.cleanup()
    return elapsed


def time_floor(app: str, coverage_on: bool = False) -> float:
    tmp = tempfile.mkdtemp(prefix="bench-floor-")
    env = common.clean_env(FLASKR_INSTANCE_PATH=os.path.join(tmp, "instance"))
    extra = []
    if coverage_on:  # the project's settings, data files into the temporary folder
        extra = ["--coverage", str(common.ROOT / "pyproject.toml")]
        env["COVERAGE_FILE"] = os.path.join(tmp, ".coverage")
    began = time.perf_counter()
    proc = subprocess.Popen(
        [common.project_python(), str(common.BENCH / "floor_server.py"), "--app", app, *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=common.ROOT,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().decode().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"floor server failed: {proc.communicate(timeout=10)[1].decode()}")
        with urllib.request.urlopen(url + "/hello", timeout=30) as resp:
            resp.read()
        elapsed = time.perf_counter() - began
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--server", default="werkzeug")
    parser.add_argument("--app", default="flaskr:create_app")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    stops: list[float] = []
    phases: list[float] = []
    stops_nocov: list[float] = []
    phases_nocov: list[float] = []
    cpu: dict[str, list[float]] = {}

    def with_cpu(name: str, fn: Callable[[], float]) -> Callable[[], float]:
        # CPU time of the children (the server process, reaped by then): steadier than wall
        # time on a shared machine.
        def run() -> float:
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            value = fn()
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            cpu.setdefault(name, []).append(used)
            return value

        return run

    times = common.alternate(
        {
            "livecov": with_cpu("livecov", lambda: time_livecov(args.server, True, stops, phases)),
            "nocov": with_cpu(
                "nocov", lambda: time_livecov(args.server, False, stops_nocov, phases_nocov)
            ),
            "floor": with_cpu("floor", lambda: time_floor(args.app)),
            "floor_cov": with_cpu("floor_cov", lambda: time_floor(args.app, coverage_on=True)),
        },
        args.runs,
        warmup=1,  # the first spawn pays for cold caches (.pyc, page cache)
        label="startup:",
    )
    del stops[: len(stops) - args.runs], stops_nocov[: len(stops_nocov) - args.runs]
    for values in cpu.values():
        del values[: len(values) - args.runs]  # the warm-up round
    ratio = ratios(times["livecov"], times["floor"])
    figures = [
        Figure.from_stats(
            "2.livecov",
            f"livecov start + first GET ({args.server}, coverage)",
            Stats.of(times["livecov"]),
            "s",
        ),
        Figure.from_stats("2.nocov", "  same without coverage", Stats.of(times["nocov"]), "s"),
        Figure.from_stats(
            "2.floor", "floor: import + build + bind + answer", Stats.of(times["floor"]), "s"
        ),
        Figure.from_stats(
            "2.floor_cov",
            "floor under coverage (same settings, no livecov)",
            Stats.of(times["floor_cov"]),
            "s",
        ),
        Figure.from_stats("2.ratio", "livecov / floor", ratio, "x", "<= 1.2"),
        Figure.from_stats(
            "2.ratio_floor_cov",
            "livecov / floor under coverage",
            ratios(times["livecov"], times["floor_cov"]),
            "x",
            note="what livecov adds beyond coverage.py's own start-up cost",
        ),
        Figure.from_stats(
            "2.ratio_nocov",
            "livecov without coverage / floor",
            ratios(times["nocov"], times["floor"]),
            "x",
        ),
        Figure.from_stats(
            "2.cpu_ratio",
            "CPU time livecov / floor (server process, start to exit)",
            ratios(cpu["livecov"], cpu["floor"]),
            "x",
            note=f"CPU s: livecov {Stats.of(cpu['livecov']).median:.3f}, "
            f"floor {Stats.of(cpu['floor']).median:.3f}, "
            f"floor under coverage {Stats.of(cpu['floor_cov']).median:.3f} "
            "(livecov's includes its stop and data save)",
        ),
        Figure.from_stats("2.stop", "livecov stop (SIGTERM -> data saved)", Stats.of(stops), "s"),
    ]
    common.write_results(
        NAME,
        TITLE,
        figures,
        {
            "server": args.server,
            "times": times,
            "stop_seconds": stops,
            "startup_seconds_reported_by_livecov": phases,
            "stop_seconds_nocov": stops_nocov,
            "cpu_seconds": cpu,
        },
        started,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
