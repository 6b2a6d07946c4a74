"""Proof that ``livecov affected`` selects what matters (``make affected-check``).

1. A throw-away copy of the repository (the tracked files as they are in the working tree)
   is committed in a fresh git repository; the project's venv runs it, with the copy's
   flaskr and livecov first on ``sys.path``. The real tree is never touched.
2. Baseline: flaskr's suite (tests/unit and tests/e2e: unit and browser tests) measured
   with per-test contexts, flaskr only, combined, repaired (livecov.jinja), recorded
   (``livecov record``), as ``make test`` does; and pytest-testmon's baseline (``pytest
   --testmon``) on the same tests, once per testmon mode (TESTMON_MODES).
3. Each change of CHANGES, one at a time, on the clean copy: ``livecov affected`` (timed),
   the selected run (``pytest --livecov-affected``), then every other test of the suite
   (together: the full suite, run once; its time is the sum), and pytest-testmon's
   selected run from its baseline. A test failing in the full suite that a selector did
   not run is *missed*.
4. A table, and bench/results/affected_check.json. Exit status 1 if livecov missed a test.

    python bench/affected_check.py [--only NAME,NAME] [--testmon MODE,MODE | --no-testmon]
                                   [--keep] [--reuse DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common

SUITE = ["tests/unit", "tests/e2e"]
FLASKR = "flaskr/src/flaskr"
# A pytest plugin, written into the copy: each run's node ids and outcomes, as JSON.
REPORTER = """
import json, os

outcomes = {}

def pytest_runtest_logreport(report):
    if report.when == "call" or report.outcome != "passed":
        previous = outcomes.get(report.nodeid)
        if previous != "failed":
            outcomes[report.nodeid] = report.outcome

def pytest_collection_modifyitems(config, items):
    skip = os.environ.get("AFFECTED_CHECK_SKIP")
    if skip:
        with open(skip) as f:
            names = set(json.load(f))
        dropped = [item for item in items if item.nodeid in names]
        items[:] = [item for item in items if item.nodeid not in names]
        config.hook.pytest_deselected(items=dropped)

def pytest_sessionfinish(session):
    with open(os.environ["AFFECTED_CHECK_REPORT"], "w") as f:
        json.dump(outcomes, f)


if os.environ.get("AFFECTED_CHECK_UNMEASURED_SERVER"):
    # The live server runs, but nothing measures it: as a server started by any other
    # fixture (pytest-flask's live_server, a subprocess) would for a testmon user.
    import livecov.pytest_plugin

    class UnmeasuredLiveServer(livecov.pytest_plugin.LiveServer):
        def __init__(self, options, coverage_config=None, **kwargs):
            super().__init__(options, None, **kwargs)

    livecov.pytest_plugin.LiveServer = UnmeasuredLiveServer
"""

# pytest-testmon's runs, by what they can see: name -> extra environment of its runs.
TESTMON_MODES = {
    # What a testmon user has: testmon measures the test process only; what a browser test
    # runs in the live server (views, SQL, templates) is invisible to it.
    "testmon": {"AFFECTED_CHECK_UNMEASURED_SERVER": "1"},
    # livecov's plugin loaded as in make test: it measures the server with the measurement
    # running in the test process (testmon's own Coverage: no template plugin) and hands
    # the server's data, each request under its test's node id, to it when the session's
    # live server stops, before testmon reads its last batch.
    "testmon+livecov": {},
}


@dataclass
class Change:
    name: str
    kind: str
    path: str  # under flaskr/src/flaskr
    old: str
    new: str


CHANGES = [
    Change("message", "view", "blog.py", '"Title is required."', '"A title is required."'),
    Change("login", "view", "auth.py", 'error = "Incorrect username."', 'error = "No such user."'),
    Change(
        "refactor",
        "view",
        "auth.py",
        '    session.clear()\n    return redirect(url_for("index"))',
        '    session.pop("user_id", None)\n'
        '    session.clear()\n    return redirect(url_for("index"))',
    ),
    Change("order", "SQL", "blog.py", "ORDER BY created DESC, p.id DESC", "ORDER BY created ASC"),
    Change(
        "delete",
        "SQL",
        "blog.py",
        '"DELETE FROM post WHERE id = ?"',
        "\"DELETE FROM post WHERE id = ? AND title = ''\"",
    ),
    Change("pages", "helper", "blog.py", "    if page < 1:", "    if page < 0:"),
    Change("title-limit", "helper", "blog.py", "MAX_TITLE_LENGTH = 200", "MAX_TITLE_LENGTH = 120"),
    Change(
        "crlf",
        "helper",
        "blog.py",
        '.replace("\\r\\n", "\\n")',
        "",
    ),
    Change(
        "byline",
        "template",
        "templates/blog/index.html",
        "by {{ post['username'] }} on",
        "by {{ post['username'] }}, on",
    ),
    Change("nav", "template", "templates/base.html", ">Log In<", ">Sign In<"),
    Change(
        "error-page",
        "template",
        "templates/error.html",
        "Back to the posts",
        "Back to the blog",
    ),
    Change(
        "unique",
        "schema",
        "schema.sql",
        "username TEXT UNIQUE NOT NULL",
        "username TEXT NOT NULL",
    ),
]


@dataclass
class Run:
    seconds: float
    outcomes: dict[str, str]

    @property
    def ran(self) -> set[str]:
        return set(self.outcomes)

    @property
    def failed(self) -> set[str]:
        return {t for t, o in self.outcomes.items() if o == "failed"}


@dataclass
class Pick:
    """What one selector ran for a change."""

    selected: int
    seconds: float
    missed: list[str]  # failing in the full suite, not run by the selector


def pick(run: Run, failing: set[str]) -> Pick:
    return Pick(len(run.ran), run.seconds, sorted(failing - run.ran))


@dataclass
class Result:
    change: str
    kind: str
    full_tests: int
    full_seconds: float
    failing: list[str]
    affected_seconds: float  # the livecov affected command alone
    picks: dict[str, Pick] = field(default_factory=dict)  # "livecov", then testmon's modes
    everything: list[str] = field(default_factory=list)


def remove_database(path: Path) -> None:
    """An SQLite database and its write-ahead log (testmon's is in WAL mode)."""
    for name in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        name.unlink(missing_ok=True)


def copy_database(source: Path, target: Path) -> None:
    """``source`` as SQLite sees it, its write-ahead log included, into a fresh ``target``.

    Not a file copy: testmon's data sits in ``.testmondata-wal`` until a checkpoint, and a
    leftover log beside the copy would be replayed into it.
    """
    remove_database(target)
    with sqlite3.connect(source) as old, sqlite3.connect(target) as new:
        old.backup(new)
    old.close()
    new.close()


class Copy:
    """The throw-away repository and how to run things in it."""

    def __init__(self, where: Path) -> None:
        self.top = where
        self.repo = where / "repo"
        self.data = where / "baseline.coverage"
        self.report = where / "report.json"
        self.env = common.clean_env(
            "COVERAGE_FILE",
            "VIRTUAL_ENV",
            PYTHONPATH=os.pathsep.join(
                # The copy's flaskr (what changes); this tree's livecov (what is measured).
                [str(self.repo / "flaskr/src"), str(common.ROOT / "livecov/src"), str(where)]
            ),
            AFFECTED_CHECK_REPORT=str(self.report),
        )
        self.bin = common.ROOT / ".venv" / "bin"
        self.suite = list(SUITE)  # the test paths every run is given
        self.source = FLASKR  # what the baseline measures
        where.mkdir(exist_ok=True)
        (where / "affected_check_reporter.py").write_text(REPORTER)

    def make(self) -> None:
        files = subprocess.run(
            ["git", "ls-files", "-z"], cwd=common.ROOT, capture_output=True, check=True
        ).stdout.decode()
        for name in filter(None, files.split("\0")):
            source = common.ROOT / name
            if source.is_file():
                target = self.repo / name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, target)
        self.git("init", "-q")
        exclude = self.repo / ".git" / "info" / "exclude"
        exclude.write_text(".testmondata*\n.coverage*\ntest-artifacts/\n.hypothesis/\n")
        self.git("add", "-A")
        self.git("-c", "user.name=check", "-c", "user.email=check@localhost", "commit", "-qm", "x")

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=self.repo, capture_output=True, text=True, check=True
        ).stdout

    def run(
        self, *args: str, timeout: float = 1800, env: dict[str, str] | None = None
    ) -> common.Timed:
        return common.run_timed(
            [str(self.bin / args[0]), *args[1:]],
            cwd=self.repo,
            env={**self.env, **(env or {})},
            timeout=timeout,
            check=False,
        )

    def testmon_baseline(self, mode: str) -> Path:
        return self.top / f"testmondata-{mode.replace('+', '-')}"

    def pytest(
        self, *options: str, skip: set[str] | None = None, env: dict[str, str] | None = None
    ) -> Run:
        self.report.unlink(missing_ok=True)
        skip_file = self.top / "skip.json"
        skip_file.write_text(json.dumps(sorted(skip or ())))
        self.env["AFFECTED_CHECK_SKIP"] = str(skip_file)
        timed = self.run(
            "pytest", "-q", "-p", "affected_check_reporter", *options, *self.suite, env=env or {}
        )
        if not self.report.exists():
            raise common.CommandFailed(["pytest", *options], timed.code, timed.output)
        return Run(timed.seconds, json.loads(self.report.read_text()))

    def baseline(self, testmon: list[str]) -> None:
        common.log(f"baseline: {' '.join(self.suite)} measured with per-test contexts")
        timed = self.run(
            "coverage",
            "run",
            f"--source={self.source}",
            "-m",
            "pytest",
            "-q",
            "--livecov-test-contexts",
            *self.suite,
        )
        if timed.code:
            raise common.CommandFailed("coverage run (baseline)", timed.code, timed.output)
        steps = [["coverage", "combine", "-q"], ["livecov", "record"]]
        if list((self.repo / "livecov/src/livecov").glob("jinja*")):  # as make test does
            steps.insert(1, ["python", "-m", "livecov.jinja", ".coverage"])
        for step in steps:
            done = self.run(*step)
            if done.code:
                raise common.CommandFailed(step, done.code, done.output)
        shutil.move(self.repo / ".coverage", self.data)
        for mode in testmon:
            common.log(f"baseline: pytest --testmon ({mode})")
            remove_database(self.repo / ".testmondata")
            self.pytest("--testmon", env=TESTMON_MODES[mode])
            copy_database(self.repo / ".testmondata", self.testmon_baseline(mode))

    def check(self, change: Change, testmon: list[str]) -> Result:
        target = self.repo / FLASKR / change.path
        text = target.read_text()
        if change.old not in text:
            raise SystemExit(f"change {change.name}: {change.old!r} is not in {change.path}")
        target.write_text(text.replace(change.old, change.new, 1))
        try:
            return self._measure(change, testmon)
        finally:
            self.git("checkout", "-q", "--", ".")

    def _measure(self, change: Change, testmon: list[str]) -> Result:
        times = []
        for _ in range(3):
            affected = self.run("livecov", "affected", "--data-file", str(self.data), "--explain")
            times.append(affected.seconds)
        everything = [
            line.split(": ", 1)[1]
            for line in affected.output.splitlines()
            if line.startswith("livecov: every test is affected")
        ]
        common.log(f"{change.name}: the selected tests (pytest --livecov-affected)")
        selected = self.pytest(f"--livecov-affected-data={self.data}", "--livecov-affected=")
        # The rest of the suite: with the selected run, the full suite, run once.
        common.log(f"{change.name}: the other tests ({len(selected.ran)} selected)")
        rest = self.pytest(skip=selected.ran)
        failing = selected.failed | rest.failed
        result = Result(
            change=change.name,
            kind=change.kind,
            full_tests=len(selected.ran | rest.ran),
            full_seconds=selected.seconds + rest.seconds,
            failing=sorted(failing),
            affected_seconds=statistics.median(times),
            picks={"livecov": pick(selected, failing)},
            everything=everything,
        )
        for mode in testmon:
            common.log(f"{change.name}: pytest --testmon ({mode})")
            copy_database(self.testmon_baseline(mode), self.repo / ".testmondata")
            result.picks[mode] = pick(self.pytest("--testmon", env=TESTMON_MODES[mode]), failing)
        ran = ", ".join(
            f"{n} ran {p.selected} (missed {len(p.missed)})" for n, p in result.picks.items()
        )
        common.log(f"{change.name}: {len(failing)} failing; {ran}")
        common.log(f"{change.name}: {json.dumps(asdict(result))}")  # kept if a later one fails
        return result


def table(results: list[Result], selectors: list[str]) -> str:
    header = ["change", "kind", "failing"]
    for name in selectors:
        header += [f"{name} selected", "missed", "time vs full"]
    rows = [header]
    for r in results:
        row = [r.change, r.kind, str(len(r.failing))]
        for name in selectors:
            row += pick_cells(r.picks.get(name), r)
        rows.append(row)
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def pick_cells(chosen: Pick | None, result: Result) -> list[str]:
    if chosen is None:
        return ["-", "-", "-"]
    return [
        f"{chosen.selected}/{result.full_tests} ({share(chosen.selected, result.full_tests)})",
        str(len(chosen.missed)),
        f"{chosen.seconds:.0f} s / {result.full_seconds:.0f} s",
    ]


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "-"


def summary(results: list[Result], selectors: list[str]) -> dict[str, float | int | None]:
    def median(values: list[float]) -> float | None:
        return statistics.median(values) if values else None

    totals: dict[str, float | int | None] = {
        "changes": len(results),
        "affected_median_seconds": median([r.affected_seconds for r in results]),
        "affected_max_seconds": max((r.affected_seconds for r in results), default=None),
    }
    for name in selectors:
        picked = [(r.picks[name], r) for r in results if name in r.picks]
        totals[f"{name}_missed"] = sum(len(p.missed) for p, _ in picked)
        totals[f"{name}_median_share"] = median([p.selected / r.full_tests for p, r in picked])
        totals[f"{name}_median_time_ratio"] = median(
            [p.seconds / r.full_seconds for p, r in picked]
        )
    return totals


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help="comma-separated change names")
    parser.add_argument(
        "--testmon",
        default="testmon",
        help=f"comma-separated pytest-testmon modes, of {', '.join(TESTMON_MODES)} "
        "(default: testmon, what a testmon user has)",
    )
    parser.add_argument("--no-testmon", action="store_true", help="skip pytest-testmon")
    parser.add_argument("--keep", action="store_true", help="keep the copy (its path is shown)")
    parser.add_argument("--reuse", metavar="DIR", help="a copy kept by --keep, its baselines")
    args = parser.parse_args(argv)
    only = {n for n in args.only.split(",") if n}
    changes = [c for c in CHANGES if not only or c.name in only]
    testmon = [] if args.no_testmon else [m for m in args.testmon.split(",") if m]
    unknown = sorted(set(testmon) - set(TESTMON_MODES) | only - {c.name for c in CHANGES})
    if unknown:
        parser.error(f"unknown change or testmon mode: {', '.join(unknown)}")
    selectors = ["livecov", *testmon]
    started = time.perf_counter()
    where = Path(args.reuse or tempfile.mkdtemp(prefix="affected-check-"))
    try:
        copy = Copy(where)
        if args.reuse:
            copy.git("checkout", "-q", "--", ".")  # what a stopped run left changed
        else:
            copy.make()
            copy.baseline(testmon)
        results = [copy.check(change, testmon) for change in changes]
    finally:
        if args.keep:
            common.log(f"the copy: {where}")
        else:
            shutil.rmtree(where, ignore_errors=True)
    print(table(results, selectors))
    for r in results:
        for name, chosen in r.picks.items():
            for test in chosen.missed:
                print(f"missed by {name} ({r.change}): {test}")
    totals = summary(results, selectors)
    print(json.dumps(totals, indent=2))
    figures = [
        common.Figure(
            "affected.missed",
            "failing tests livecov missed",
            totals["livecov_missed"],
            target="<= 0",
        ),
        common.Figure(
            "affected.seconds",
            "livecov affected, median per change",
            totals["affected_median_seconds"],
            unit="s",
            target="< 1",
        ),
    ]
    for f in figures:
        f.met = common.check_target(f.median, f.target)
    common.write_results(
        "affected_check",
        "livecov affected: selected vs full suite, and pytest-testmon",
        figures,
        details={"summary": totals, "results": [asdict(r) for r in results]},
        started=started,
    )
    return 1 if totals["livecov_missed"] else 0


if __name__ == "__main__":
    sys.exit(main())
