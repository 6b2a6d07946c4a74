"""Figure 3: what coverage costs a live server: requests/s of flaskr's index.

For each server (werkzeug, waitress, uvicorn) the same flaskr server is started by livecov's
``LiveServer`` with coverage (the project's own settings: branch on, source = flaskr/src/flaskr
and livecov/src/livecov, per-request contexts on) and without (``coverage_config=None``), runs
alternating, and loaded on 127.0.0.1 with ``wrk -t1 -c4 -d5s``. The index has 20 posts in
the database (two pages).
uvicorn serves ASGI apps only: there flaskr is wrapped by a2wsgi (bench/flaskr_asgi.py),
so the page is the same and the ASGI layer, its gate and uvicorn are what differ.

Besides requests/s, the server's CPU time per request is read from /proc (the server
process and its live descendants: gunicorn's workers are where it serves): on a shared
machine it is steadier than requests/s, and it is what the tracer adds.

More variants (``--variants``, comma-separated, the first is the baseline) show what
coverage.py's options do. A variant is a base and "+"-flags:

  nocov          LiveServer(coverage_config=None): the baseline
  cov            the project's settings: branch, source, per-request contexts  [default]
  plain          not livecov: the server's own command (``flask run --with-threads``,
                 ``waitress-serve``, ``uvicorn``), unmeasured: the bare server
  coverage-run   not livecov: ``coverage run --branch --rcfile=/dev/null`` of that command:
                 no ``source``, nothing else configured
  slipcover      not livecov: SlipCover (``python -m slipcover --source flaskr/src/flaskr``)
                 of that command, line coverage; ``slipcover+branch``: its branch coverage.
                 No contexts, not coverage.py's data: the anchor of what coverage can cost.
                 Needs ``uv pip install slipcover`` into the venv that runs this script
  flags of cov:  +nobranch  branch = false       +noctx     --no-contexts (no gate/lock)
                 +allfiles  no ``source`` (every file outside stdlib and site-packages)
                 +pytrace   core = pytrace       +sysmon    core = sysmon (Python 3.12+;
                 with branch only from 3.14, so use +sysmon+nobranch+noctx before that)
                 +ctrace    core = ctrace (the C tracer, whatever livecov would choose)
                 +thread    concurrency = thread (the default, spelled out)
                 +noplugins no [run] plugins (the project's livecov.jinja needs ctrace)
  any:           +t1        1 waitress thread (livecov's default is 4)
                 +switch    requests alternate two contexts: a switch per request
                 +suite     a new context every 20 requests, as a browser suite's tests
                            switch (what per-request contexts cost in practice)
                 +alt       the server imports livecov and the app from --alt-src DIR:
                            a change to the server side tried on a copy, in the same run

    python bench/coverage_overhead.py                                  # the figure, ~1 min
    python bench/coverage_overhead.py --servers waitress --variants \
        nocov,cov,cov+noctx,cov+nobranch,cov+allfiles,cov+pytrace,coverage-run
    python bench/coverage_overhead.py --alt-src /tmp/benchcopy/livecov/src \
        --variants nocov,cov,cov+alt

Per-request contexts on sys.monitoring (line coverage, Python 3.12+: livecov chooses sysmon
and re-arms it at each switch) against the C tracer with contexts, sysmon without contexts
and no coverage, every backend, in one run (docs/benchmarks.md 3d):

    BENCH_NO_REEXEC=1 .venv-3.13/bin/python bench/coverage_overhead.py \
        --servers werkzeug,waitress,gunicorn,uvicorn --runs 3 --variants \
        nocov+suite,cov+nobranch+noplugins+suite,cov+nobranch+noplugins+ctrace+suite,\
        cov+nobranch+noplugins+noctx,cov+suite

livecov's fast path (``--no-contexts``, line coverage: livecov chooses sysmon on 3.12+)
against the C tracer and against no coverage, on another Python, in one run:

    make VENV=.venv-3.13 PYTHON=python3.13 .venv-3.13/.synced
    BENCH_NO_REEXEC=1 .venv-3.13/bin/python bench/coverage_overhead.py \
        --variants nocov,cov+nobranch+noctx,cov+nobranch+noctx+ctrace
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import Figure, Stats, ratios

NAME = "coverage_overhead"
TITLE = "3. Coverage overhead on a live server (requests/s of flaskr's index)"
COMMAND_BASES = ("plain", "coverage-run", "slipcover")  # no livecov
BASES = ("nocov", "cov", *COMMAND_BASES)
COV_FLAGS = ("nobranch", "noctx", "noplugins", "allfiles", "pytrace", "sysmon", "ctrace", "thread")
FAST_PATH = "cov+nobranch+noctx"  # what livecov measures with sysmon on Python 3.12+
SYSMON_CONTEXTS = "cov+nobranch+noplugins+suite"  # sysmon re-armed per context, Python 3.12+
# uvicorn serves flaskr through a2wsgi; the factory creates the database itself.
ASGI_APP = {"app": "bench.flaskr_asgi:create_app", "setup": None}


def variant_settings(base: str, flags: list[str]) -> tuple[Any, bool]:
    """(coverage config or None, contexts on) for a livecov variant."""
    if base == "nocov":
        return None, "noctx" not in flags
    changes: dict[str, Any] = {}
    if "nobranch" in flags:
        changes["branch"] = False
    if "allfiles" in flags:
        changes["source"] = None
    if "noplugins" in flags:
        changes["plugins"] = []
    if "pytrace" in flags:
        changes["core"] = "pytrace"
    if "sysmon" in flags:
        changes["core"] = "sysmon"
    if "ctrace" in flags:
        changes["core"] = "ctrace"
    if "thread" in flags:
        changes["concurrency"] = ["thread"]
    return common.project_coverage_config(**changes), "noctx" not in flags


def check_variant(variant: str) -> str:
    """'' if the variant is known, else what is wrong with it."""
    base, *flags = variant.split("+")
    if base not in BASES:
        return f"unknown base {base!r} (one of {', '.join(BASES)})"
    for flag in flags:
        known = (
            flag in ("switch", "suite", "alt", "t1")
            or (flag[:1] == "t" and flag[1:].isdigit())
            or (base == "cov" and flag in COV_FLAGS)
            or (base == "slipcover" and flag == "branch")
        )
        if not known:
            return f"unknown flag {flag!r} for {base}"
    return ""


class CommandServer:
    """The server started as its own command, without livecov: bare (``plain``), under
    ``coverage run --branch`` with no configuration (``coverage-run``), or under SlipCover
    (``slipcover``, ``slipcover+branch``: no contexts, its own data format; the floor of
    what line coverage can cost, ISSTA'23)."""

    def __init__(self, server: str, base: str, flags: list[str]) -> None:
        self.server, self.base, self.flags = server, base, flags
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-command-server-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def measure(self) -> list[str]:
        """What runs the server's module: coverage.py, SlipCover, or nothing."""
        if self.base == "coverage-run":
            return ["-m", "coverage", "run", "--branch", "--rcfile=/dev/null"]
        if self.base == "slipcover":
            source = str(common.ROOT / "flaskr" / "src" / "flaskr")
            branch = ["--branch"] if "branch" in self.flags else []
            return ["-m", "slipcover", *branch, "--source", source, "--json", "--out", self.data]
        return []

    @property
    def data(self) -> str:
        return str(self.tmp / "slipcover.json")

    def server_command(self, port: int) -> list[str]:
        if self.server == "waitress":
            return [
                "-m",
                "waitress",
                f"--listen=127.0.0.1:{port}",
                "--threads=4",
                "--call",
                "flaskr:create_app",
            ]
        if self.server == "uvicorn":
            app_dir = ["--app-dir", str(common.ROOT)]  # bench.flaskr_asgi: flaskr via a2wsgi
            return ["-m", "uvicorn", *app_dir, "--factory", ASGI_APP["app"], "--port", str(port)]
        return [
            "-m",
            "flask",
            "--app",
            "flaskr",
            "run",
            "--port",
            str(port),
            "--with-threads",
            "--no-reload",
            "--no-debugger",
        ]

    def start(self) -> str:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = common.clean_env(FLASKR_INSTANCE_PATH=str(self.tmp / "instance"))
        py = sys.executable
        if self.server != "uvicorn":  # bench.flaskr_asgi's factory creates its database
            subprocess.run(
                [py, "-m", "flask", "--app", "flaskr", "init-db"],
                env=env,
                check=True,
                cwd=self.tmp,
                capture_output=True,
            )
        self.process = subprocess.Popen(
            [py, *self.measure(), *self.server_command(port)],
            cwd=self.tmp,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.url = f"http://127.0.0.1:{port}"
        common.wait_http(self.url + "/hello", timeout=30)
        return self.url

    @property
    def db_path(self) -> Path:
        return self.tmp / "instance" / "flaskr.sqlite"

    def stop(self) -> None:
        """Stop the server (SIGINT: coverage.py and SlipCover save at exit), then check that
        SlipCover wrote its data: a measured variant that measured nothing is no figure."""
        import shutil
        import signal

        try:
            if self.process:
                os.killpg(self.process.pid, signal.SIGINT)
                try:
                    self.process.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(self.process.pid, signal.SIGKILL)
                    self.process.wait()
            if self.base == "slipcover" and not Path(self.data).is_file():
                raise RuntimeError("SlipCover wrote no coverage data")
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


def one_run(
    server: str, variant: str, args: argparse.Namespace, samples: dict[str, list[dict[str, float]]]
) -> float:
    """Start, seed, load, stop; returns requests/s and keeps the details in ``samples``."""
    from livecov import LiveServer

    base, *flags = variant.split("+")
    if base in COMMAND_BASES:
        live: Any = CommandServer(server, base, flags)
        try:
            url = live.start()
        except BaseException:
            live.stop()
            raise
        db_path, pid = live.db_path, live.process.pid
    else:
        config, contexts = variant_settings(base, flags)
        threads = next(
            (int(f[1:]) for f in flags if f[:1] == "t" and f[1:].isdigit()), args.threads
        )
        app = ASGI_APP if server == "uvicorn" else {}
        live = LiveServer(
            common.flaskr_options(server=server, contexts=contexts, threads=threads, **app),
            config,
        )
        saved = os.environ.get("PYTHONPATH")
        if "alt" in flags:  # the server process imports livecov (and the app) from --alt-src
            os.environ["PYTHONPATH"] = os.pathsep.join(
                [str(args.alt_src), *([saved] if saved else [])]
            )
        try:
            url = live.start()
        finally:
            if "alt" in flags:
                if saved is None:
                    os.environ.pop("PYTHONPATH", None)
                else:
                    os.environ["PYTHONPATH"] = saved
        db_path, pid = live.tmpdir / "instance" / "flaskr.sqlite", live.process.pid
    try:
        common.seed_posts(db_path, args.posts)
        common.sequential_latencies(url + "/", 20)  # templates compiled, connections warm
        cpu0 = common.tree_cpu_seconds(pid)
        flags = variant.split("+")
        cycle, every = None, 1
        if "switch" in flags:
            cycle = ("Livecov-Context", "bench-test-", 2)
        if "suite" in flags:
            cycle, every = ("Livecov-Context", "bench-test-", 10**9), 20
        result = common.load(url + "/", args.seconds, args.connections, cycle=cycle, every=every)
        cpu1 = common.tree_cpu_seconds(pid)
        if result.errors:
            raise RuntimeError(f"{result.errors} failed requests under load")
    finally:
        if base in COMMAND_BASES:
            live.stop()
        else:
            try:
                files = live.stop()
                if live.coverage_config is not None and not files:
                    raise RuntimeError("the server wrote no coverage data")
            finally:
                live.cleanup()
    samples.setdefault(variant, []).append(
        {
            "rps": result.rps,
            "cpu_ms_per_request": (cpu1 - cpu0) * 1000 / max(result.requests, 1),
            "latency_ms_p50": result.latency_ms_p50,
            "requests": result.requests,
        }
    )
    return result.rps


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = common.load_benchmark_parser(__doc__)
    parser.add_argument("--posts", type=int, default=20)
    parser.add_argument("--servers", default="werkzeug,waitress,uvicorn")
    parser.add_argument(
        "--threads", type=int, default=4, help="waitress threads (livecov's default: 4)"
    )
    parser.add_argument(
        "--variants",
        default="nocov,cov",
        help="comma-separated, the first is the baseline (see above)",
    )
    parser.add_argument(
        "--alt-src",
        type=Path,
        default=None,
        help="variants ending +alt run the server with this folder (a copy's livecov/src) first "
        "on PYTHONPATH "
        "(to try a change to livecov's server side on a copy, in the same run)",
    )
    parser.add_argument("--name", default=NAME, help="results file name (bench/results/NAME.json)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    for v in variants:
        if check_variant(v):
            parser.error(f"variant {v!r}: {check_variant(v)}")
        if "alt" in v.split("+")[1:] and args.alt_src is None:
            parser.error(f"{v} needs --alt-src")
    servers = [s.strip() for s in args.servers.split(",") if s.strip()]
    command_variants = [v for v in variants if v.split("+")[0] in COMMAND_BASES]
    if command_variants and "gunicorn" in servers:
        parser.error(
            f"{command_variants[0]} starts werkzeug, waitress or uvicorn: leave gunicorn out"
        )
    common.require_tools(parser, "wrk")

    figures: list[Figure] = []
    details: dict[str, Any] = {
        "python": sys.version.split()[0],
        "posts": args.posts,
        "load": f"wrk -t1 -c{args.connections} -d{args.seconds:g}s",
    }
    base = variants[0]
    for server in servers:
        samples: dict[str, list[dict[str, float]]] = {}
        runners = {
            v: (lambda v=v, server=server, samples=samples: one_run(server, v, args, samples))
            for v in variants
        }
        rps = common.alternate(runners, args.runs, label=f"{server}:", on_error="nan")
        details[server] = samples
        cpu = {v: [s["cpu_ms_per_request"] for s in samples.get(v, [])] for v in variants}
        for v in variants:
            figures.append(
                Figure.from_stats(
                    f"3.{server}.{v}.rps",
                    f"{server}: req/s, {v}",
                    Stats.of(_finite(rps[v])),
                    "req/s",
                )
            )
        for v in variants[1:]:
            cost = ratios(rps[base], rps[v])
            target = {"cov": "<= 1.5", FAST_PATH: "<= 1.1", SYSMON_CONTEXTS: "<= 1.15"}.get(v, "")
            figures.append(
                Figure.from_stats(
                    f"3.{server}.{v}.cost",
                    f"{server}: slowdown {v} vs {base} (req/s ratio)",
                    _finite_stats(cost),
                    "x",
                    target,
                )
            )
            cpu_cost = ratios(cpu[v], cpu[base]) if len(cpu[v]) == len(cpu[base]) else Stats.of([])
            figures.append(
                Figure.from_stats(
                    f"3.{server}.{v}.cpu",
                    f"{server}: server CPU/request {v} vs {base}",
                    _finite_stats(cpu_cost),
                    "x",
                    note=f"CPU ms/request {base} {_med(cpu[base]):.2f}, {v} {_med(cpu[v]):.2f}",
                )
            )
    common.write_results(args.name, TITLE, figures, details, started)
    return 0


def _finite(values: list[float]) -> list[float]:
    return [v for v in values if v == v]


def _finite_stats(stats: Stats) -> Stats:
    return Stats.of(_finite(stats.values))


def _med(values: list[float]) -> float:
    vals = _finite(values)
    return Stats.of(vals).median if vals else float("nan")


if __name__ == "__main__":
    sys.exit(main())
