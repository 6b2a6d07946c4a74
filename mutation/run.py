"""Mutation testing of flaskr and livecov with cosmic-ray, in a throw-away copy.

    python mutation/run.py                       # every session in mutation/sessions/
    python mutation/run.py --session flaskr-blog # only some sessions (repeatable)
    python mutation/run.py --jobs 2              # sessions run in two copies at once
    python mutation/run.py --list                # the sessions, and exit
    python mutation/run.py --json r.json         # also save every result
    python mutation/run.py --retest r.json       # after adding tests: only r.json's survivors
    python mutation/run.py --sample 3            # one mutant in 3: an estimate, with its interval
    python mutation/run.py --sample 3 --sample-start 1  # another third, none tested twice
    python mutation/run.py --covering-tests      # each mutant: only the tests that ran its line
    python mutation/run.py --keep k/ ...; python mutation/run.py --resume k/  # go on later

Each session is a cosmic-ray config of its own, checked in: mutation/sessions/NAME.toml
(its ``[make-mutation]`` table names the package it counts for); the packages' targets are
in mutation/targets.toml. What this script adds to cosmic-ray, which mutates the files it
is given in place and judges one session at a time (docs/testing.md says why each is ours):

The repository is never mutated: its files (tracked, and untracked ones that are not
ignored, as they are on disk now) are copied to a temporary folder; there the project
venv is made with ``uv sync --locked`` (so the copy's own src is the installed, editable
flaskr/livecov, which also serves livecov's test servers) and cosmic-ray is installed
into a second venv from mutation/requirements.txt. The temporary folder, and every
process started from it, is removed at the end, on error, on Ctrl-C and on SIGTERM/SIGHUP.

Prints, per package, killed/total and every surviving mutant (file:line, operator, diff).
Exits 1 when a package is under its target in targets.toml, 2 on a setup error.
``--retest`` skips every mutant but the earlier survivors with a cosmic-ray filter of
ours (mutation/retest_filter.py), as cr-filter-operators skips the excluded operators;
``--sample N`` keeps one mutant in N the same way (mutation/sample_filter.py) and reports
each package's score as an estimate with its 95 % interval. ``--covering-tests`` runs
each mutant's tests through mutation/covering_tests.py (see there: the tests that ran the
mutated line, from one run of the session's tests under coverage with a context per test).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import os
import queue
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SESSIONS = Path("mutation") / "sessions"  # in the repository, and in its copies
TARGETS = REPO / "mutation" / "targets.toml"
REQUIREMENTS = REPO / "mutation" / "requirements.txt"
RETEST_FILTER = Path("mutation") / "retest_filter.py"
SAMPLE_FILTER = Path("mutation") / "sample_filter.py"
COVERING_TESTS = Path("mutation") / "covering_tests.py"
TMP_PREFIX = "flaskr-livecov-mutation-"


class SetupError(Exception):
    pass


@dataclass
class Session:
    name: str
    config: Path  # its cosmic-ray config, relative to the repository (and to a copy)
    package: str
    modules: list[str]
    test_command: str
    timeout: float
    kind: str = "python"  # or "templates": mutation/templates.py instead of cosmic-ray
    # With --retest: the earlier results; only their survivors are tested again.
    previous: list[dict] | None = None
    # With --sample N: one mutant in N is tested (mutation/sample_filter.py).
    sample: int = 1
    sample_start: int = 0  # which of the N disjoint samples (--sample-start)
    # With --covering-tests: each mutant runs only the tests that ran its line.
    covering: bool = False
    # With --resume DIR: the kept database (and covering-tests files) to go on from.
    resume: Path | None = None
    # Filled in by the run.
    results: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None


def load_session(path: Path) -> Session:
    """A session from its cosmic-ray config (``path`` in the repository)."""
    with open(path, "rb") as f:
        config = tomllib.load(f)
    cosmic_ray, ours = config["cosmic-ray"], config["make-mutation"]
    modules = cosmic_ray["module-path"]
    return Session(
        name=path.stem,
        config=path.relative_to(REPO),
        package=ours["package"],
        modules=[modules] if isinstance(modules, str) else modules,
        test_command=cosmic_ray["test-command"],
        timeout=float(cosmic_ray["timeout"]),
        kind=ours.get("kind", "python"),
    )


def load_sessions(folder: Path = REPO / SESSIONS) -> list[Session]:
    """Every session in ``folder``; SetupError naming the file that is not a session."""
    sessions = []
    for path in sorted(folder.glob("*.toml")):
        try:
            sessions.append(load_session(path))
        except (tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            problem = f"no {exc} key" if isinstance(exc, KeyError) else str(exc)
            raise SetupError(f"{path.relative_to(REPO)}: not a session: {problem}") from None
    return sessions


def load_targets(path: Path = TARGETS) -> dict[str, float]:
    with open(path, "rb") as f:
        return {package: float(t) for package, t in tomllib.load(f)["targets"].items()}


# Re-testing survivors -------------------------------------------------------------------


def mutant_key(item: dict) -> tuple[str, str, int]:
    """What names one mutant across runs of unchanged source: module, operator, occurrence."""
    m = item["mutations"][0]
    return (m["module_path"], m["operator_name"], m["occurrence"])


def load_previous(path: Path, sessions: list[Session]) -> None:
    """Attach the results an earlier ``--json`` run saved to the matching sessions.

    Raises SetupError when the file is unreadable, a session in it ended with an error,
    or the source it mutated has changed since (then its mutants are different ones).
    """
    try:
        saved = {s["session"]: s for s in json.loads(path.read_text())}
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise SetupError(f"--retest {path}: not a results file of --json ({exc})") from exc
    for session in sessions:
        earlier = saved.get(session.name)
        if earlier is None:
            raise SetupError(f"--retest {path}: has no results for session {session.name}")
        if earlier["error"] or not earlier["results"]:
            raise SetupError(
                f"--retest {path}: session {session.name} did not finish there; run it in full"
            )
        for r in earlier["results"]:
            problem = diff_mismatch((r["result"] or {}).get("diff") or "", REPO)
            if problem:
                raise SetupError(
                    f"--retest {path}: {problem}; the source changed since, so the mutants "
                    f"of session {session.name} are not the same: run it in full"
                )
        session.sample = earlier.get("sample", 1)
        session.sample_start = earlier.get("sample_start", 0)
        session.previous = earlier["results"]


def diff_mismatch(diff: str, root: Path) -> str | None:
    """Why a mutant's unified diff no longer applies to the files under ``root``, or None."""
    lines: list[str] = []
    path = ""
    row = 0
    for d in diff.splitlines():
        if d.startswith("--- a/"):
            path = d[len("--- a/") :].strip()
            lines = _source_lines(root / path)
        elif d.startswith("@@"):
            row = int(d.split()[1].split(",")[0].lstrip("-"))
        elif d.startswith((" ", "-")) and not d.startswith("---") and row:
            if row > len(lines) or lines[row - 1] != d[1:]:
                return f"{path}:{row} is no longer {d[1:].strip()!r}"
            row += 1
    return None


@functools.cache
def _source_lines(path: Path) -> list[str]:
    """A file's lines as cosmic-ray's diffs count them (read once per run, however many
    mutants it has): split on "\n", so a final newline is followed by one "" line."""
    return path.read_text().split("\n") if path.exists() else []


def needs_retest(result: dict) -> bool:
    return outcome(result["result"]) not in ("killed", "timeout", "skipped")


# Processes ------------------------------------------------------------------------------

_started: list[subprocess.Popen] = []
_started_lock = threading.Lock()
_stopping = threading.Event()


PROGRESS_SECONDS = 60


def run(
    cmd: list[str],
    cwd: Path,
    log: Path | None = None,
    progress: Callable[[], None] | None = None,
    **kwargs,
) -> int:
    """Run ``cmd`` in its own session (so it can be stopped as a group); return its status.

    ``progress`` is called every PROGRESS_SECONDS while it runs.
    """
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    try:
        proc = subprocess.Popen(
            cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
        )
        with _started_lock:
            _started.append(proc)
        while True:
            try:
                return proc.wait(timeout=PROGRESS_SECONDS if progress else None)
            except subprocess.TimeoutExpired:
                progress()
    finally:
        if log:
            out.close()


def tested_so_far(db: Path) -> tuple[int, int]:
    """(mutants done, mutants in all) from cosmic-ray's work database, read-only."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        total = con.execute("SELECT COUNT(*) FROM work_items").fetchone()[0]
        done = con.execute("SELECT COUNT(*) FROM work_results").fetchone()[0]
    return done, total


def _descendants(pids: set[int]) -> set[int]:
    """``pids`` and every process below them (Linux /proc), including other sessions."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), list(pids)
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, []))
    return found


def _using(tmp: Path) -> set[int]:
    """Processes whose command line names a file in ``tmp`` (e.g. the copy's venv python):
    what the tests started and left behind, reparented away from our tree."""
    prefix = str(tmp).encode()
    pids = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError, ValueError):
            if prefix in cmdline.read_bytes():
                pids.add(int(cmdline.parent.name))
    pids.discard(os.getpid())
    return pids


def stop_everything(tmp: Path | None) -> None:
    _stopping.set()
    with _started_lock:
        roots = {p.pid for p in _started if p.poll() is None}
    for _ in range(3):
        pids = _descendants(roots) | (_using(tmp) if tmp else set())
        pids.discard(os.getpid())
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)


def _raise_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


# Setup ----------------------------------------------------------------------------------


def repo_files() -> list[str]:
    try:
        out = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO,
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise SetupError(f"git ls-files failed in {REPO}: {exc}") from None
    names = [n for n in out.decode().split("\0") if n]
    return [n for n in names if (REPO / n).is_file() and not n.startswith("mutation/.")]


def find_uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    if not Path(uv).exists():
        raise SetupError("uv not found: put it on PATH or set UV=/path/to/uv (make does)")
    return uv


def make_copy(tmp: Path, index: int, files: list[str], uv: str, log: Path) -> Path:
    """A copy of the repository with its venv (editable install of the copy's own src)."""
    copy = tmp / f"copy{index}"
    for name in files:
        target = copy / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target)
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": os.environ.get("UV_PYTHON_DOWNLOADS", "never")}
    env.pop("VIRTUAL_ENV", None)
    if run([uv, "sync", "--locked", "--quiet"], copy, log, env=env) != 0:
        raise SetupError(f"uv sync failed in the copy; see {log}")
    probe = subprocess.run(
        [str(copy / ".venv/bin/python"), "-c", "import flaskr, livecov; print(livecov.__file__)"],
        cwd=tmp,
        capture_output=True,
        text=True,
    )
    if not probe.stdout.startswith(str(copy / "livecov" / "src")):
        raise SetupError(f"the copy's venv does not import the copy's src: {probe.stdout}")
    return copy


def make_tool_venv(tmp: Path, uv: str, log: Path) -> Path:
    venv = tmp / "cosmic-ray-venv"
    env = {**os.environ, "VIRTUAL_ENV": str(venv)}
    python = sys.executable if sys.version_info >= (3, 11) else "python3"
    if run([uv, "venv", "--quiet", "--python", python, str(venv)], tmp, log) != 0:
        raise SetupError(f"uv venv failed; see {log}")
    if run([uv, "pip", "install", "--quiet", "-r", str(REQUIREMENTS)], tmp, log, env=env) != 0:
        raise SetupError(f"installing cosmic-ray failed; see {log}")
    return venv / "bin"


# Sessions -------------------------------------------------------------------------------


def run_session(session: Session, copy: Path, tools: Path, logs: Path) -> None:
    start = time.monotonic()
    cfg = str(copy / session.config)  # the checked-in config, as the copy has it
    db = logs / f"{session.name}.sqlite"
    log = logs / f"{session.name}.log"
    # No stale bytecode: cosmic-ray's test runs set PYTHONDONTWRITEBYTECODE themselves.
    for cache in copy.glob("*/src/**/__pycache__"):
        shutil.rmtree(cache, ignore_errors=True)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    env.pop("VIRTUAL_ENV", None)
    steps = [
        ([str(tools / "cosmic-ray"), "init", cfg, str(db)], "init"),
        ([str(tools / "cr-filter-operators"), str(db), cfg], "operator filter"),
    ]
    if session.resume is not None:
        fresh = logs / f"{session.name}.fresh.sqlite"
        if run([str(tools / "cosmic-ray"), "init", cfg, str(fresh)], copy, log, env=env) != 0:
            session.error = "init failed; see the log (kept only with --keep)"
            return
        if mutants(fresh) != mutants(session.resume / db.name):
            session.error = (
                f"the source changed since the run kept in {session.resume}: its mutants "
                "are not the same; run the session afresh"
            )
            return
        shutil.copy2(session.resume / db.name, db)
        steps = []  # its filters (operators, sample, retest) were applied when it began
        session.sample = kept_sample(db)
    elif session.previous is not None:
        keys = logs / f"{session.name}.retest.json"
        keys.write_text(json.dumps(sorted(survivor_keys(session.previous))))
        retest = [str(tools / "python"), str(copy / RETEST_FILTER), str(db), "--keep", str(keys)]
        steps.append((retest, "retest filter (only the earlier survivors)"))
    elif session.sample > 1:
        steps.append((sample_command(session, tools, copy, db), "sample filter"))
    if not session.covering:  # its recording run is the baseline: every test must pass
        steps.append(
            ([str(tools / "cosmic-ray"), "baseline", cfg], "baseline (tests on unmutated code)")
        )
    if session.covering:
        steps += covering_steps(session, copy, logs)
        cfg = str(logs / f"{session.name}.covering.toml")
        kept_index = session.resume / f"{session.name}.covering.json" if session.resume else None
        if kept_index is not None and kept_index.exists():  # the same source: the same index
            shutil.copy2(kept_index, logs / kept_index.name)
            steps = [step for step in steps if not step[1].startswith("covering-tests")]
    steps.append(([str(tools / "cosmic-ray"), "exec", cfg, str(db)], "exec"))

    def report_progress() -> None:
        done, total = tested_so_far(db)
        minutes = (time.monotonic() - start) / 60
        print(f"mutation: {session.name}: {done}/{total} mutants, {minutes:.0f} min", flush=True)

    for cmd, what in steps:
        if _stopping.is_set():
            return
        progress = report_progress if what == "exec" else None
        if run(cmd, copy, log, progress=progress, env=env) != 0:
            session.error = f"{what} failed; see the log (kept only with --keep)"
            session.seconds = time.monotonic() - start
            return
    dump = subprocess.run(
        [str(tools / "cosmic-ray"), "dump", str(db)], capture_output=True, text=True, check=True
    ).stdout
    pairs = [json.loads(line) for line in dump.splitlines()]
    results = [{"item": item, "result": result} for item, result in pairs]
    session.results = merge_retest(results, session.previous)
    session.seconds = time.monotonic() - start


def sample_command(session: Session, tools: Path, copy: Path, db: Path) -> list[str]:
    """The cosmic-ray filter that keeps ``session``'s sample of the mutants in ``db``."""
    every = ["--every", str(session.sample), "--start", str(session.sample_start)]
    return [str(tools / "python"), str(copy / SAMPLE_FILTER), str(db), *every]


def mutants(db: Path) -> set[tuple]:
    """Every mutant a cosmic-ray database holds, by where and what it is."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        return set(
            con.execute(
                "SELECT module_path, operator_name, occurrence, start_pos_row, start_pos_col "
                "FROM mutation_specs"
            )
        )


def kept_sample(db: Path) -> int:
    """N of the 1-in-N sample a kept database was filtered to (1: not sampled)."""
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as con:
        row = con.execute(
            "SELECT output FROM work_results WHERE output LIKE 'Filtered: not in the 1-in-%'"
        ).fetchone()
    return int(row[0].split("1-in-")[1].split()[0]) if row else 1


def recording_command(test_command: str) -> list[str]:
    """The session's test command under ``coverage run`` with a context per test: every
    test runs (no ``-x``), livecov's plugin names the contexts and covering_tests names
    the contexts of the processes each test starts. Run in the copy (relative paths)."""
    python, *args = shlex.split(test_command)
    if args[:2] != ["-m", "pytest"]:
        raise SetupError(f"--covering-tests needs a test command `PYTHON -m pytest ...`: {python}")
    kept = [a for a in args[2:] if a != "-x"]
    for i, arg in enumerate(kept):  # flaskr's sessions leave livecov's plugin out
        if arg == "-p" and i + 1 < len(kept) and kept[i + 1] == "no:livecov":
            del kept[i : i + 2]
            break
    plugin = "mutation.covering_tests"  # importable from the copy's root, where it runs
    coverage_run = [python, "-m", "coverage", "run", "-m", "pytest"]
    return [*coverage_run, *kept, "--livecov-test-contexts", "-p", plugin]


def covering_steps(session: Session, copy: Path, logs: Path) -> list[tuple[list[str], str]]:
    """Steps that record which test ran which line of the session's modules, keep the
    modules' pristine text, and write the config whose test command selects by them."""
    pristine = logs / f"{session.name}.pristine"
    for module in session.modules:
        for path in copy.glob(module):
            target = pristine / path.relative_to(copy)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)
    index = logs / f"{session.name}.covering.json"
    python = str(copy / ".venv" / "bin" / "python")
    tool = str(copy / COVERING_TESTS)
    selecting = f"{python} {tool} run {index} {pristine} -- {session.test_command}"
    config = (copy / session.config).read_text()
    line = next(x for x in config.splitlines() if x.startswith("test-command ="))
    derived = config.replace(line, f"test-command = {json.dumps(selecting)}")
    (logs / f"{session.name}.covering.toml").write_text(derived)
    # The data where `make test` writes it (the copy's .coverage, children's beside it):
    # COVERAGE_FILE would reach the tests' own inner coverage runs.
    command = [python, tool, "index", ".coverage", str(copy / session.config), str(index)]
    return [
        (["rm", "-f", ".coverage"], "covering-tests clean"),
        (recording_command(session.test_command), "covering-tests run (the baseline)"),
        ([python, "-m", "coverage", "combine", "-q"], "covering-tests combine"),
        (command, "covering-tests index"),
        (["rm", "-f", ".coverage"], "covering-tests clean"),
    ]


def survivor_keys(previous: list[dict]) -> set[tuple[str, str, int]]:
    """The earlier results' mutants that --retest tests again."""
    return {mutant_key(r["item"]) for r in previous if needs_retest(r)}


def merge_retest(results: list[dict], previous: list[dict] | None) -> list[dict]:
    """This run's results; with --retest, the earlier survivors' new results plus the
    earlier results of every other mutant (which the retest filter skipped this time)."""
    if previous is None:
        return results
    again = survivor_keys(previous)
    return [r for r in results if mutant_key(r["item"]) in again] + [
        r for r in previous if mutant_key(r["item"]) not in again
    ]


# Report ---------------------------------------------------------------------------------


def outcome(result: dict | None) -> str:
    if result is None:
        return "not run"
    if result["worker_outcome"] == "skipped":
        return "skipped"
    if result["worker_outcome"] != "normal":
        return "error"  # cosmic-ray could not apply the mutation: counted as not killed
    if result["test_outcome"] == "killed":
        return "timeout" if result["output"] == "timeout" else "killed"
    return result["test_outcome"]  # survived, incompetent


def report(sessions: list[Session], targets: dict[str, float], out=sys.stdout) -> bool:
    ok = True
    by_package: dict[str, list[Session]] = {}
    for s in sessions:
        by_package.setdefault(s.package, []).append(s)
    print("\n=== Mutation testing (cosmic-ray; templates: mutation/templates.py) ===", file=out)
    for package, group in by_package.items():
        counts: dict[str, int] = {}
        survivors = []
        for s in group:
            for r in s.results:
                o = outcome(r["result"])
                counts[o] = counts.get(o, 0) + 1
                if o not in ("killed", "timeout", "skipped", "not run"):
                    survivors.append((s, r, o))
        killed = counts.get("killed", 0) + counts.get("timeout", 0)
        total = sum(n for o, n in counts.items() if o not in ("skipped", "not run"))
        score = 100.0 * killed / total if total else 0.0
        target = targets.get(package, 0.0)
        complete = all(s.error is None for s in group) and not counts.get("not run")
        verdict = "OK" if score >= target and complete else "UNDER TARGET"
        if not complete:
            verdict = "INCOMPLETE"
        ok &= verdict == "OK"
        sample = max(s.sample for s in group)
        estimate = ""
        if sample > 1:
            low, high = wilson_interval(killed, total)
            start = max(s.sample_start for s in group)
            which = f" (start {start})" if start else ""
            estimate = f", a 1-in-{sample} sample{which}: 95% interval {low:.1f}-{high:.1f}%"
        print(
            f"\n--- {package}: {killed}/{total} killed = {score:.1f}% "
            f"(target {target:.0f}%{estimate}): {verdict}",
            file=out,
        )
        print("    " + ", ".join(f"{o}: {n}" for o, n in sorted(counts.items())), file=out)
        for s in group:
            n = sum(1 for r in s.results if outcome(r["result"]) != "skipped")
            state = f"ERROR: {s.error}" if s.error else f"{n} mutants"
            if s.covering:
                state += " (covering tests only: survivors final after --retest without it)"
            print(f"    session {s.name}: {state}, {s.seconds / 60:.1f} min", file=out)
        if survivors:
            print(f"\n    {len(survivors)} surviving mutant(s):", file=out)
        for _s, r, o in sorted(survivors, key=lambda x: _where(x[1])):
            m = r["item"]["mutations"][0]
            print(
                f"\n  [{o}] {m['module_path']}:{m['start_pos'][0]} "
                f"{m['operator_name']} #{m['occurrence']} (in {m['definition_name']})",
                file=out,
            )
            diff = (r["result"] or {}).get("diff") or ""
            for d in diff.splitlines():
                if d.startswith(("-", "+")) and not d.startswith(("---", "+++")):
                    print(f"      {d}", file=out)
    return ok


def wilson_interval(killed: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """The 95 % Wilson score interval of a sampled kill rate, in percent (it stays inside
    0-100 and is honest near 100 %, where the normal approximation is not)."""
    if total == 0:
        return 0.0, 100.0
    p = killed / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    half = z * ((p * (1 - p) / total + z * z / (4 * total * total)) ** 0.5) / (1 + z * z / total)
    return 100.0 * max(0.0, centre - half), 100.0 * min(1.0, centre + half)


def write_json(path: Path, sessions: list[Session]) -> None:
    """Save the sessions' results (for --retest, or any other tool)."""
    fields = [
        {
            "session": s.name,
            "package": s.package,
            "seconds": s.seconds,
            "sample": s.sample,
            "sample_start": s.sample_start,
            "covering_tests": s.covering,
            "error": s.error,
            "results": s.results,
        }
        for s in sessions
    ]
    path.write_text(json.dumps(fields, indent=1))


def keep_logs(logs: Path, keep: Path) -> None:
    """--keep: the session databases, logs and covering-tests files (folders too)."""
    keep.mkdir(parents=True, exist_ok=True)
    for f in logs.iterdir():
        if f.is_dir():
            shutil.copytree(f, keep / f.name, dirs_exist_ok=True)
        else:
            shutil.copy2(f, keep / f.name)


def _where(r: dict) -> tuple:
    m = r["item"]["mutations"][0]
    return (m["module_path"], m["start_pos"][0], m["operator_name"], m["occurrence"])


# Main -----------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--session", action="append", help="run only this session (repeatable)")
    parser.add_argument("--package", action="append", help="run only this package's sessions")
    parser.add_argument("--jobs", type=int, default=1, help="copies working at once (default 1)")
    parser.add_argument("--list", action="store_true", help="list the sessions and exit")
    parser.add_argument("--keep", metavar="DIR", help="copy session databases and logs to DIR")
    parser.add_argument("--json", metavar="FILE", help="also write all results as JSON to FILE")
    parser.add_argument(
        "--retest",
        metavar="FILE",
        type=Path,
        help="test again only the survivors in FILE (an earlier --json); its killed mutants "
        "are counted as they were. For after adding tests, with the source unchanged",
    )
    parser.add_argument(
        "--sample",
        metavar="N",
        type=int,
        default=1,
        help="test one mutant in N (spread over every module): the score is then an "
        "estimate, printed with its 95%% interval",
    )
    parser.add_argument(
        "--sample-start",
        metavar="K",
        type=int,
        default=0,
        help="with --sample N: which of the N disjoint samples, 0 to N-1 (default 0); "
        "runs with other starts add mutants none of the earlier ones tested",
    )
    parser.add_argument(
        "--covering-tests",
        action="store_true",
        help="each mutant runs only the tests that ran its line (mutation/covering_tests.py); "
        "its survivors are final only after --retest without it",
    )
    parser.add_argument(
        "--resume",
        metavar="DIR",
        type=Path,
        help="go on from the databases an interrupted run kept with --keep DIR (with "
        "their own sample and filters); refused for a session whose source changed",
    )
    args = parser.parse_args(argv)
    if args.resume and args.retest:
        parser.error("--resume goes on with a kept run; --retest starts from a finished one")
    if args.sample < 1:
        parser.error("--sample must be 1 or more")
    if args.sample_start and not 0 < args.sample_start < args.sample:
        parser.error(f"--sample-start must be 0 to N-1 for --sample N, not {args.sample_start}")
    if args.sample > 1 and args.retest:
        parser.error("--retest retests an earlier run's survivors; its sample is already chosen")

    try:
        sessions = load_sessions()
    except SetupError as exc:
        print(f"mutation: {exc}", file=sys.stderr)
        return 2
    if args.session:
        unknown = set(args.session) - {s.name for s in sessions}
        if unknown:
            parser.error(f"unknown session(s): {', '.join(sorted(unknown))}")
        sessions = [s for s in sessions if s.name in args.session]
    if args.package:
        sessions = [s for s in sessions if s.package in args.package]
    for s in sessions:
        if args.resume:
            if not (args.resume / f"{s.name}.sqlite").exists():
                print(f"mutation: --resume {args.resume}: no kept run of {s.name}", file=sys.stderr)
                return 2
            s.resume = args.resume.resolve()
        s.sample = args.sample if s.kind == "python" else 1  # templates: few, all run
        s.sample_start = args.sample_start if s.sample > 1 else 0
        s.covering = args.covering_tests and s.kind == "python"
        if s.covering:
            try:
                recording_command(s.test_command)
            except SetupError as exc:
                print(f"mutation: {s.name}: {exc}", file=sys.stderr)
                return 2
    if args.list:
        for s in sessions:
            print(f"{s.name:20} {s.package:8} {' '.join(s.modules)}")
        return 0
    if args.retest:  # after the --sample loop: an earlier sample is kept
        try:
            load_previous(args.retest, sessions)
        except SetupError as exc:
            print(f"mutation: {exc}", file=sys.stderr)
            return 2

    # SIGINT too: a process started in the background by a non-interactive shell inherits
    # it as ignored, and Python then installs no KeyboardInterrupt handler for it.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_interrupt)
    tmp = Path(tempfile.mkdtemp(prefix=TMP_PREFIX))
    logs = tmp / "logs"
    logs.mkdir()
    started = time.monotonic()
    try:
        uv = find_uv()
        print(f"mutation: working in {tmp} (removed at the end)", flush=True)
        files = repo_files()
        tools = make_tool_venv(tmp, uv, logs / "setup.log")
        version = subprocess.run(
            [str(tools / "cosmic-ray"), "--version"], capture_output=True, text=True
        ).stdout.strip()
        jobs = max(1, min(args.jobs, len(sessions)))
        copies = [make_copy(tmp, i, files, uv, logs / "setup.log") for i in range(jobs)]
        print(
            f"mutation: {version}; {len(sessions)} session(s) in {jobs} copy(ies); "
            f"setup took {time.monotonic() - started:.0f} s",
            flush=True,
        )
        work: queue.Queue[Session] = queue.Queue()
        for s in sessions:
            work.put(s)

        def worker(copy: Path) -> None:
            while not _stopping.is_set():
                try:
                    s = work.get_nowait()
                except queue.Empty:
                    return
                print(f"mutation: session {s.name} started", flush=True)
                if s.kind == "templates":
                    sys.path.insert(0, str(REPO / "mutation"))
                    import templates

                    command = shlex.split(s.test_command)
                    templates.run_session(s, copy, command, logs, _stopping.is_set)
                else:
                    run_session(s, copy, tools, logs)
                if _stopping.is_set():
                    return
                done = sum(1 for r in s.results if outcome(r["result"]) in ("killed", "timeout"))
                n = sum(1 for r in s.results if outcome(r["result"]) != "skipped")
                print(
                    f"mutation: session {s.name} done in {s.seconds / 60:.1f} min: "
                    f"{done}/{n} killed" + (f" ({s.error})" if s.error else ""),
                    flush=True,
                )

        threads = [threading.Thread(target=worker, args=(c,), daemon=True) for c in copies]
        for t in threads:
            t.start()
        while any(t.is_alive() for t in threads):
            time.sleep(0.5)
        ok = report(sessions, load_targets())
        print(f"\nmutation: total time {(time.monotonic() - started) / 60:.1f} min")
        if args.json:
            write_json(Path(args.json), sessions)
        return 0 if ok else 1
    except SetupError as exc:
        print(f"mutation: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nmutation: interrupted; stopping and cleaning up", file=sys.stderr)
        finished = [s for s in sessions if s.results]
        if args.json and finished:  # hours of work: keep the sessions that ended
            write_json(Path(args.json), finished)
            print(f"mutation: {len(finished)} finished session(s) saved in {args.json}")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not skip cleanup
        stop_everything(tmp)
        try:
            if args.keep:
                keep_logs(logs, Path(args.keep))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
