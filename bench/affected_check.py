"""Proof that ``livecov affected`` selects what matters (``make affected-check``).

1. A throw-away copy of the repository (the tracked files as they are in the working tree)
   is committed in a fresh git repository; the project's venv runs it, with the copy's
   flaskr and livecov first on ``sys.path``. The real tree is never touched.
2. Baseline: flaskr's suite (tests/unit and tests/e2e: unit and browser tests) measured
   with per-test contexts, flaskr only, combined, recorded (``livecov record``), as
   ``make test`` does; and pytest-testmon's baseline (``pytest --testmon``) on the same tests.
3. Each change of CHANGES, one at a time, on the clean copy: ``livecov affected`` (timed),
   the selected run (``pytest --livecov-affected``), then every other test of the suite
   (together: the full suite, run once; its time is the sum), and pytest-testmon's
   selected run from its baseline. A test failing in the full suite that a selected run did
   not run is *missed*.
4. A table, and bench/results/affected_check.json. Exit status 1 if livecov missed a test.

    python bench/affected_check.py [--only NAME,NAME] [--no-testmon] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
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
"""


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
class Result:
    change: str
    kind: str
    full_tests: int
    full_seconds: float
    failing: list[str]
    affected_seconds: float  # the livecov affected command alone
    selected: int
    selected_seconds: float
    missed: list[str]
    testmon_selected: int | None = None
    testmon_seconds: float | None = None
    testmon_missed: list[str] = field(default_factory=list)
    everything: list[str] = field(default_factory=list)


class Copy:
    """The throw-away repository and how to run things in it."""

    def __init__(self, where: Path) -> None:
        self.top = where
        self.repo = where / "repo"
        self.data = where / "baseline.coverage"
        self.report = where / "report.json"
        self.testmon_baseline = where / "testmondata"
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

    def run(self, *args: str, timeout: float = 1800) -> common.Timed:
        return common.run_timed(
            [str(self.bin / args[0]), *args[1:]],
            cwd=self.repo,
            env=self.env,
            timeout=timeout,
            check=False,
        )

    def pytest(self, *options: str, skip: set[str] | None = None) -> Run:
        self.report.unlink(missing_ok=True)
        skip_file = self.top / "skip.json"
        skip_file.write_text(json.dumps(sorted(skip or ())))
        self.env["AFFECTED_CHECK_SKIP"] = str(skip_file)
        timed = self.run("pytest", "-q", "-p", "affected_check_reporter", *options, *SUITE)
        if not self.report.exists():
            raise common.CommandFailed(["pytest", *options], timed.code, timed.output)
        return Run(timed.seconds, json.loads(self.report.read_text()))

    def baseline(self, testmon: bool) -> None:
        common.log("baseline: the flaskr suite measured with per-test contexts")
        timed = self.run(
            "coverage",
            "run",
            f"--source={FLASKR}",
            "-m",
            "pytest",
            "-q",
            "--livecov-test-contexts",
            *SUITE,
        )
        if timed.code:
            raise common.CommandFailed("coverage run (baseline)", timed.code, timed.output)
        steps = [["coverage", "combine", "-q"], ["livecov", "record"]]
        if (self.repo / "livecov/src/livecov/jinja.py").exists():  # as make test does
            steps.insert(1, ["python", "-m", "livecov.jinja", ".coverage"])
        for step in steps:
            done = self.run(*step)
            if done.code:
                raise common.CommandFailed(step, done.code, done.output)
        shutil.move(self.repo / ".coverage", self.data)
        if testmon:
            common.log("baseline: pytest --testmon")
            self.pytest("--testmon")
            shutil.copy2(self.repo / ".testmondata", self.testmon_baseline)

    def check(self, change: Change, testmon: bool) -> Result:
        target = self.repo / FLASKR / change.path
        text = target.read_text()
        if change.old not in text:
            raise SystemExit(f"change {change.name}: {change.old!r} is not in {change.path}")
        target.write_text(text.replace(change.old, change.new, 1))
        try:
            return self._measure(change, testmon)
        finally:
            self.git("checkout", "-q", "--", ".")

    def _measure(self, change: Change, testmon: bool) -> Result:
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
            selected=len(selected.ran),
            selected_seconds=selected.seconds,
            missed=sorted(rest.failed),
            everything=everything,
        )
        if testmon:
            common.log(f"{change.name}: pytest --testmon")
            shutil.copy2(self.testmon_baseline, self.repo / ".testmondata")
            picked = self.pytest("--testmon")
            result.testmon_selected = len(picked.ran)
            result.testmon_seconds = picked.seconds
            result.testmon_missed = sorted(failing - picked.ran)
        common.log(
            f"{change.name}: {len(failing)} failing, livecov ran {result.selected} "
            f"(missed {len(result.missed)}), testmon ran {result.testmon_selected} "
            f"(missed {len(result.testmon_missed)})"
        )
        return result


def table(results: list[Result]) -> str:
    header = [
        "change",
        "kind",
        "failing",
        "livecov selected",
        "missed",
        "time vs full",
        "testmon selected",
        "missed",
        "time vs full",
    ]
    rows = [header]
    for r in results:
        testmon = (
            [
                f"{r.testmon_selected}/{r.full_tests} ({share(r.testmon_selected, r.full_tests)})",
                str(len(r.testmon_missed)),
                f"{r.testmon_seconds:.0f} s / {r.full_seconds:.0f} s",
            ]
            if r.testmon_selected is not None and r.testmon_seconds is not None
            else ["-", "-", "-"]
        )
        rows.append(
            [
                r.change,
                r.kind,
                str(len(r.failing)),
                f"{r.selected}/{r.full_tests} ({share(r.selected, r.full_tests)})",
                str(len(r.missed)),
                f"{r.selected_seconds:.0f} s / {r.full_seconds:.0f} s",
                *testmon,
            ]
        )
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def share(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f} %" if whole else "-"


def summary(results: list[Result]) -> dict[str, float | int | None]:
    def median(values: list[float]) -> float | None:
        return statistics.median(values) if values else None

    with_testmon = [r for r in results if r.testmon_selected is not None]
    return {
        "changes": len(results),
        "livecov_missed": sum(len(r.missed) for r in results),
        "livecov_median_share": median([r.selected / r.full_tests for r in results]),
        "livecov_median_time_ratio": median([r.selected_seconds / r.full_seconds for r in results]),
        "affected_median_seconds": median([r.affected_seconds for r in results]),
        "affected_max_seconds": max((r.affected_seconds for r in results), default=None),
        "testmon_missed": sum(len(r.testmon_missed) for r in with_testmon),
        "testmon_median_share": median(
            [(r.testmon_selected or 0) / r.full_tests for r in with_testmon]
        ),
        "testmon_median_time_ratio": median(
            [(r.testmon_seconds or 0) / r.full_seconds for r in with_testmon]
        ),
    }


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="", help="comma-separated change names")
    parser.add_argument("--no-testmon", action="store_true", help="skip pytest-testmon")
    parser.add_argument("--keep", action="store_true", help="keep the copy (its path is shown)")
    parser.add_argument("--reuse", metavar="DIR", help="a copy kept by --keep, its baselines")
    args = parser.parse_args(argv)
    only = {n for n in args.only.split(",") if n}
    changes = [c for c in CHANGES if not only or c.name in only]
    started = time.perf_counter()
    where = Path(args.reuse or tempfile.mkdtemp(prefix="affected-check-"))
    try:
        copy = Copy(where)
        if not args.reuse:
            copy.make()
            copy.baseline(testmon=not args.no_testmon)
        results = [copy.check(change, testmon=not args.no_testmon) for change in changes]
    finally:
        if args.keep:
            common.log(f"the copy: {where}")
        else:
            shutil.rmtree(where, ignore_errors=True)
    print(table(results))
    for r in results:
        for test in r.missed:
            print(f"MISSED by livecov ({r.change}): {test}")
        for test in r.testmon_missed:
            print(f"missed by testmon ({r.change}): {test}")
    totals = summary(results)
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
