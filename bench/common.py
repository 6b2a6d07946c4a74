"""Shared helpers for the benchmarks in bench/.

The machine these run on is shared and noisy, so every figure here is the median of
several runs, reported with its min and max, and every comparison is a ratio of A and B
measured in the same run, alternating A and B (``alternate``). Nothing here sends traffic
anywhere but 127.0.0.1, and every load is bounded in time and count.

Each benchmark script prints its figures and writes them, with the machine and versions,
to ``bench/results/<name>.json``; ``bench/run_all.py`` runs them all and prints one table.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import json
import os
import platform
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
RESULTS = BENCH / "results"
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
# The tutorial's "Test Coverage" chapter as a text file, to rebuild the tutorial's tests from
# (bench/tutorial.py); without it the tests of Flask's own examples/tutorial are used.
SEED = Path(os.environ["BENCH_SEED"]) if os.environ.get("BENCH_SEED") else None

# Python may be told not to write bytecode (some agent shells and CI images set this). Then
# every process compiles coverage.py, Flask, pytest's rewritten test modules... from source,
# which triples start-up times and hides what a developer sees. The benchmarks let Python
# cache bytecode as usual, and record whether the variable was set; BENCH_KEEP_ENV=1 keeps it.
DONTWRITEBYTECODE_WAS_SET = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
if not os.environ.get("BENCH_KEEP_ENV"):
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    sys.dont_write_bytecode = False

# Set by an outer measured run (make test, coverage run, pytest): a benchmarked child
# would measure itself, or take the outer run's pytest options.
OUTER_RUN_VARS = ("COVERAGE_PROCESS_START", "COVERAGE_PROCESS_CONFIG", "PYTEST_ADDOPTS")


def clean_env(*also_drop: str, **values: str) -> dict[str, str]:
    """This environment without the outer run's variables (and ``also_drop``), plus ``values``."""
    drop = {*OUTER_RUN_VARS, *also_drop}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, **values}


# -- the interpreter --------------------------------------------------------------------


def project_python() -> str:
    """The project's venv interpreter when there is one, else this one."""
    return str(VENV_PYTHON) if VENV_PYTHON.exists() else sys.executable


def ensure_project_venv() -> None:
    """Re-run this script under the project's venv (livecov, coverage, flask live there)."""
    if not VENV_PYTHON.exists() or os.environ.get("BENCH_NO_REEXEC"):
        return
    if Path(sys.prefix).resolve() == (ROOT / ".venv").resolve():
        return
    os.environ["BENCH_NO_REEXEC"] = "1"
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), *sys.argv])  # noqa: S606


# -- statistics ---------------------------------------------------------------------------


@dataclass
class Stats:
    median: float
    min: float
    max: float
    n: int
    values: list[float]

    @classmethod
    def of(cls, values: Sequence[float]) -> Stats:
        vals = [float(v) for v in values]
        if not vals:
            return cls(float("nan"), float("nan"), float("nan"), 0, [])
        return cls(statistics.median(vals), min(vals), max(vals), len(vals), vals)

    def fmt(self, digits: int = 3, scale: float = 1.0) -> str:
        if not self.n:
            return "n/a"
        return (
            f"{self.median * scale:.{digits}g} "
            f"({self.min * scale:.{digits}g}-{self.max * scale:.{digits}g}, n={self.n})"
        )


def load_benchmark_parser(description: str | None) -> argparse.ArgumentParser:
    """The options of a benchmark that puts a live server under load with wrk."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5, help="of load per measurement")
    parser.add_argument("--connections", type=int, default=4, help="wrk's open connections")
    return parser


def ratios(a: Sequence[float], b: Sequence[float]) -> Stats:
    """The per-round ratios a[i] / b[i] (both measured in the same round), summarized."""
    return Stats.of([x / y for x, y in zip(a, b, strict=True) if y])


def alternate(
    variants: dict[str, Callable[[], float]],
    runs: int,
    warmup: int = 0,
    label: str = "",
    on_error: str = "raise",
) -> dict[str, list[float]]:
    """Run each variant ``runs`` times, interleaved: A B, B A, A B, ... (rotating order).

    Returns the measured values per variant, in round order, so ``ratios`` can pair them.
    A variant that raises aborts the whole comparison (``on_error="raise"``), or is
    recorded as NaN (``on_error="nan"``) so the other variants still get their runs.
    """
    names = list(variants)
    for _ in range(warmup):
        for name in names:
            variants[name]()
    values: dict[str, list[float]] = {name: [] for name in names}
    for round_no in range(runs):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            try:
                value = variants[name]()
            except Exception as exc:
                if on_error == "raise":
                    raise
                log(f"  {label} {name}: failed: {exc}")
                value = float("nan")
            values[name].append(value)
            log(f"  {label} round {round_no + 1}/{runs} {name}: {value:.4g}")
    return values


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- commands -----------------------------------------------------------------------------


class CommandFailed(RuntimeError):
    def __init__(self, cmd: str | Sequence[str], code: int, output: str) -> None:
        self.cmd, self.code, self.output = cmd, code, output
        text = cmd if isinstance(cmd, str) else shlex.join(cmd)
        tail = "\n".join(output.splitlines()[-25:])
        super().__init__(f"`{text}` exited with {code}:\n{tail}")


@dataclass
class Timed:
    seconds: float
    code: int
    output: str


def run_timed(
    cmd: str | Sequence[str],
    *,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 600,
    check: bool = True,
) -> Timed:
    """Run a command (a string goes through the shell); its wall time, status and output.

    It runs in a session of its own; at the timeout that whole process group is killed (a
    plain ``subprocess.run`` timeout would kill only the shell and leave the rest running).
    """
    began = time.perf_counter()
    with subprocess.Popen(
        cmd,
        shell=isinstance(cmd, str),
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    ) as proc:
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            try:  # what it printed, unless something outside the group still holds the pipe
                out = proc.communicate(timeout=30)[0].decode(errors="replace")
            except subprocess.TimeoutExpired:
                out = ""
            raise CommandFailed(cmd, -1, out + f"\n(timed out after {timeout:g} s)") from None
    seconds = time.perf_counter() - began
    output = stdout.decode(errors="replace")
    if check and proc.returncode != 0:
        raise CommandFailed(cmd, proc.returncode, output)
    return Timed(seconds, proc.returncode, output)


@dataclass
class Timing:
    """One timed run of a command, as hyperfine measured it."""

    wall: float  # seconds
    cpu: float  # user + system seconds of the command and the children it waited for
    code: int


def hyperfine(
    commands: dict[str, str],
    *,
    cwd: str | Path | None = None,
    env: dict[str, str] | None = None,
    warmup: int = 0,
    allow_fail: bool = False,
    timeout: float = 600,
    output: Path | None = None,
) -> dict[str, Timing]:
    """One run of each command (through the shell), in this order, timed by hyperfine.

    hyperfine measures the wall time (less the shell's own start-up, which it calibrates),
    the CPU time and the exit status; ``warmup`` untimed runs of each come first. The whole
    invocation is bounded by ``timeout``: hyperfine and its commands run in a session of
    their own, killed together at the deadline. What the commands print goes to ``output``
    (by default a temporary file, shown only when hyperfine fails).
    """
    tool = require_tool("hyperfine")
    with tempfile.TemporaryDirectory(prefix="bench-hyperfine-") as tmp:
        report = Path(tmp) / "hyperfine.json"
        output = output or Path(tmp) / "output.txt"
        cmd = [tool, "--runs", "1", "--warmup", str(warmup), "--style", "none"]
        cmd += ["--export-json", str(report), "--output", str(output)]
        cmd += ["--ignore-failure"] if allow_fail else []
        for name in commands:
            cmd += ["--command-name", name]
        cmd += commands.values()
        timed = run_timed(cmd, cwd=cwd, env=env, timeout=timeout, check=False)
        if timed.code != 0:
            printed = output.read_text(errors="replace") if output.exists() else ""
            raise CommandFailed(list(commands.values()), timed.code, printed + timed.output)
        results = json.loads(report.read_text())["results"]
    return {
        r["command"]: Timing(r["times"][0], r["user"] + r["system"], r["exit_codes"][0])
        for r in results
    }


def alternate_commands(
    commands: Callable[[int], dict[str, str]],
    runs: int,
    *,
    label: str = "",
    warmup: int = 0,
    **options: Any,
) -> dict[str, list[Timing]]:
    """``runs`` rounds of ``hyperfine``, each one run of every command, the order rotating
    (A B, B A, ...) as in ``alternate``; ``commands(round)`` gives a round's commands (a
    round may name its own output files). The warm-up runs are in the first round."""
    timings: dict[str, list[Timing]] = {}
    for round_no in range(runs):
        named = commands(round_no)
        names = list(named)
        shift = round_no % len(names)
        order = {name: named[name] for name in names[shift:] + names[:shift]}
        measured = hyperfine(order, warmup=warmup if round_no == 0 else 0, **options)
        for name in names:
            timings.setdefault(name, []).append(measured[name])
            log(f"  {label} round {round_no + 1}/{runs} {name}: {measured[name].wall:.4g} s")
    return timings


def walls(timings: list[Timing]) -> list[float]:
    return [t.wall for t in timings]


def cpus(timings: list[Timing]) -> list[float]:
    return [t.cpu for t in timings]


def in_shell(cmd: Sequence[str], cwd: str | Path, **env: str) -> str:
    """``cmd`` as one shell command line run in ``cwd`` with ``env`` added (for hyperfine)."""
    prefix = ["env", *(f"{k}={v}" for k, v in env.items())] if env else []
    return f"cd {shlex.quote(str(cwd))} && {shlex.join([*prefix, *cmd])}"


def junit_summary(path: Path) -> dict[str, Any]:
    """Counts and pytest's own session time from its ``--junit-xml`` report."""
    import xml.etree.ElementTree as ET

    suite = ET.parse(path).getroot().find("testsuite")  # noqa: S314 - our own pytest wrote it
    if suite is None:
        return {}
    counts = {k: int(suite.get(k, 0)) for k in ("tests", "failures", "errors", "skipped")}
    return {"counts": counts, "session_seconds": float(suite.get("time", "nan"))}


class MissingTool(RuntimeError):
    pass


def require_tool(name: str) -> str:
    """The path to ``name``, a tool the benchmarks run (wrk, hyperfine). ``make bench``
    installs the missing ones first (Debian packages, as root); a script run alone says
    in one line what is missing."""
    found = shutil.which(name)
    if found is None:
        raise MissingTool(
            f"{name} is not installed: `make bench-tools` (Debian: apt-get install {name})"
        )
    return found


def require_tools(parser: argparse.ArgumentParser, *names: str) -> None:
    """Every tool of ``names``, or the script's usage error naming the first one missing."""
    try:
        for name in names:
            require_tool(name)
    except MissingTool as exc:
        parser.error(str(exc))


def tool_version(cmd: Sequence[str]) -> str:
    """The first line ``cmd`` prints ("?" if none), or "not found"."""
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "not found"
    return (out.strip().splitlines() or ["?"])[0]


# -- HTTP load on 127.0.0.1 ------------------------------------------------------------------


def _check_loopback(url: str) -> None:
    host = urllib.request.urlparse(url).hostname or ""
    if not (host.startswith("127.") or host in ("localhost", "::1")):
        raise ValueError(f"benchmarks only send load to the loopback interface, not {host!r}")


@dataclass
class Load:
    requests: int
    seconds: float
    rps: float
    latency_ms_p50: float
    errors: int


# wrk's Lua hooks: ``request`` names a new test every ``every`` requests (when asked), and
# ``done`` prints wrk's own summary as one JSON line (no parsing of its text report).
_WRK_SCRIPT = """\
local header, prefix, every, count = %s
local i = 0
if header ~= "" then
  request = function()
    i = i + 1
    return wrk.format(nil, nil, {[header] = prefix .. (math.floor(i / every) %% count)})
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\\n{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50),
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def load(
    url: str,
    seconds: float = 5,
    connections: int = 4,
    headers: dict[str, str] | None = None,
    cycle: tuple[str, str, int] | None = None,
    every: int = 1,
) -> Load:
    """Bounded load on ``url`` with ``wrk -t1``: its requests, rate, median latency, errors
    (non-2xx/3xx answers and socket errors).

    ``cycle=(header, prefix, n)`` gives request i the header ``header: prefix<i // every % n>``
    (``every=20``: a new name every 20 requests, as a test suite switches tests).
    """
    _check_loopback(url)
    wrk = require_tool("wrk")
    cmd = [wrk, "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "5s"]
    for k, v in (headers or {}).items():
        cmd += ["-H", f"{k}: {v}"]
    header, prefix, count = cycle or ("", "", 1)
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(_WRK_SCRIPT % json.dumps([header, prefix, every, count])[1:-1])
        script.flush()
        out = subprocess.run(
            [*cmd, "-s", script.name, url],
            capture_output=True,
            text=True,
            timeout=seconds + 30,
            check=True,
        ).stdout
    summary = json.loads(out.strip().splitlines()[-1])
    secs = summary["duration_us"] / 1e6
    return Load(
        summary["requests"],
        secs,
        summary["requests"] / secs,
        summary["p50_us"] / 1000,
        summary["errors"],
    )


def sequential_latencies(
    url: str, count: int, headers: dict[str, str] | None = None
) -> list[float]:
    """Latency (seconds) of ``count`` GETs one after another on one keep-alive connection."""
    _check_loopback(url)
    parts = urllib.request.urlparse(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "") or "/"
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    out = []
    try:
        for _ in range(count):
            t0 = time.perf_counter()
            conn.request("GET", target, headers=headers or {})
            resp = conn.getresponse()
            resp.read()
            if resp.status != 200:
                raise RuntimeError(f"GET {url} answered {resp.status}")
            out.append(time.perf_counter() - t0)
    finally:
        conn.close()
    return out


def wait_http(url: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                resp.read()
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _stat(pid: int) -> list[str]:
    """/proc/PID/stat's fields after the command name (which may hold spaces and parens):
    [0] is the state, [1] the parent's pid, [11] and [12] user and system CPU time."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process alone (Linux /proc)."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and every live descendant: gunicorn's master
    does little, its workers serve; reading the master alone would count nothing of them.
    A descendant that ends between two readings takes its time with it (its parent's
    cutime counts it only once reaped), so read around a load that keeps the workers."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(int(_stat(int(entry.name))[1]), []).append(int(entry.name))
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        with contextlib.suppress(OSError):
            total += process_cpu_seconds(current)
        todo.extend(children.get(current, []))
    return total


# -- the flaskr live server ------------------------------------------------------------------

FLASKR_ENV = {"FLASKR_INSTANCE_PATH": "{tmpdir}/instance"}


def flaskr_options(**overrides: Any) -> Any:
    from livecov import ServerOptions

    opts: dict[str, Any] = {
        "app": "flaskr:create_app",
        "setup": "flaskr.db:init_db",
        "env": dict(FLASKR_ENV),
        "cwd": str(ROOT),
    }
    opts.update(overrides)
    return ServerOptions(**opts)


def project_coverage_config(**changes: Any) -> Any:
    """The project's own coverage configuration (pyproject.toml), with ``changes`` applied."""
    import coverage

    with chdir(ROOT):
        config = coverage.Coverage(config_file=str(ROOT / "pyproject.toml")).config
    for key, value in changes.items():
        setattr(config, key, value)
    return config


def seed_posts(db_path: Path, count: int, body: str = "A post body.\nSecond line.") -> None:
    """Insert a user and ``count`` posts straight into a flaskr database with sqlite3."""
    import sqlite3

    db = sqlite3.connect(db_path, timeout=30)
    try:
        cur = db.execute("INSERT INTO user (username, password) VALUES ('bench', 'x')")
        author = cur.lastrowid
        db.executemany(
            "INSERT INTO post (author_id, title, body, created) VALUES (?, ?, ?,"
            " datetime('2020-01-01', ? || ' seconds'))",
            ((author, f"Post number {i}", body, i) for i in range(count)),
        )
        db.commit()
    finally:
        db.close()


@contextlib.contextmanager
def chdir(path: str | Path) -> Iterator[None]:
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


# -- figures, JSON, tables ------------------------------------------------------------------------


@dataclass
class Figure:
    """One reported figure: a median with its min-max, and its target if it has one."""

    id: str
    label: str
    median: float | None
    min: float | None = None
    max: float | None = None
    unit: str = ""
    runs: int = 0
    target: str = ""  # e.g. "<= 1.2"
    note: str = ""
    met: bool | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_stats(
        cls,
        id: str,
        label: str,
        stats: Stats,
        unit: str = "",
        target: str = "",
        note: str = "",
        scale: float = 1.0,
        **extra: Any,
    ) -> Figure:
        fig = cls(
            id,
            label,
            stats.median * scale if stats.n else None,
            stats.min * scale if stats.n else None,
            stats.max * scale if stats.n else None,
            unit,
            stats.n,
            target,
            note,
            extra=extra,
        )
        fig.met = check_target(fig.median, target)
        return fig

    @classmethod
    def missing(cls, id: str, label: str, note: str, target: str = "") -> Figure:
        return cls(id, label, None, target=target, note=note)


def check_target(value: float | None, target: str) -> bool | None:
    match = re.fullmatch(r"\s*(<=|>=|<|>)\s*([\d.eE+-]+)\s*", target or "")
    if value is None or not match or value != value:  # NaN
        return None
    op, bound = match.group(1), float(match.group(2))
    return {"<=": value <= bound, ">=": value >= bound, "<": value < bound, ">": value > bound}[op]


def _num(value: float | None) -> str:
    if value is None or value != value:
        return "n/a"
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def figure_row(fig: Figure | dict[str, Any]) -> list[str]:
    f = fig if isinstance(fig, dict) else asdict(fig)
    spread = "" if f["min"] is None else f"{_num(f['min'])}-{_num(f['max'])}"
    met = {True: "yes", False: "NO", None: ""}[f.get("met")]
    return [
        f["id"],
        f["label"],
        _num(f["median"]),
        spread,
        f["unit"],
        str(f["runs"] or ""),
        f["target"],
        met,
    ]


TABLE_HEADER = ["#", "figure", "median", "min-max", "unit", "runs", "target", "met"]


def format_table(rows: list[list[str]], header: list[str] = TABLE_HEADER) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), line]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def markdown_table(rows: list[list[str]], header: list[str] = TABLE_HEADER) -> str:
    esc = [[c.replace("|", "\\|") for c in r] for r in rows]
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(r) + " |" for r in esc]
    return "\n".join(out)


PACKAGES = ["flask", "werkzeug", "coverage", "waitress", "gunicorn", "uvicorn", "slipcover"]
PACKAGES += ["pytest", "pytest-cov", "pytest-xdist", "playwright", "hypothesis", "jinja2"]


def machine_info() -> dict[str, Any]:
    """The machine and the versions that produced a figure."""
    cpu = "?"
    with contextlib.suppress(OSError):
        for text_line in Path("/proc/cpuinfo").read_text().splitlines():
            if text_line.startswith("model name"):
                cpu = text_line.split(":", 1)[1].strip()
                break
    # This interpreter's: every script runs in the venv it measures (ensure_project_venv,
    # or BENCH_NO_REEXEC=1 under another one).
    versions = {"python": sys.version.split()[0]}
    for name in PACKAGES:
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            versions[name] = importlib.metadata.version(name)
    git = ["git", "-C", str(ROOT)]
    commit = tool_version([*git, "rev-parse", "--short", "HEAD"])
    if tool_version([*git, "status", "--porcelain"]) not in ("?", "not found"):
        commit += " (+ uncommitted changes)"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "os": platform.platform(terse=True),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "wrk": tool_version(["wrk", "--version"]),
        "hyperfine": tool_version(["hyperfine", "--version"]),
        "git": commit,
        "PYTHONDONTWRITEBYTECODE": (
            ("set in the caller's environment; " if DONTWRITEBYTECODE_WAS_SET else "not set; ")
            + (
                "kept (BENCH_KEEP_ENV)"
                if os.environ.get("PYTHONDONTWRITEBYTECODE")
                else "unset for the benchmarks"
            )
        ),
    }


def command_line() -> str:
    rel = os.path.relpath(sys.argv[0], ROOT) if sys.argv else "?"
    return shlex.join(["python", rel, *sys.argv[1:]])


def write_results(
    name: str,
    title: str,
    figures: list[Figure],
    details: dict[str, Any] | None = None,
    started: float | None = None,
) -> Path:
    """Write ``bench/results/<name>.json`` and print the figures as a table."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "name": name,
        "title": title,
        "command": command_line(),
        "when": time.strftime("%Y-%m-%d %H:%M:%S %z"),
        "wall_seconds": round(time.perf_counter() - started, 1) if started else None,
        "machine": machine_info(),
        "figures": [asdict(f) for f in figures],
        "details": details or {},
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
    print(f"\n{title}")
    print(format_table([figure_row(f) for f in figures]))
    for f in figures:
        if f.note:
            print(f"  [{f.id}] {f.note}")
    print(
        f"(results: {os.path.relpath(path)}; machine load average "
        f"{payload['machine']['load_average']})"
    )
    return path
