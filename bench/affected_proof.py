"""Safety of ``livecov affected`` on every mutant (``make affected-proof``).

Every mutant the full suite kills is a change with known failing tests: the ground truth
a test selector must meet. For each mutant of the chosen sessions (mutation/sessions/:
cosmic-ray's mutants of flaskr's Python, mutation/templates.py's of its templates):

1. The mutant is applied in a throw-away copy (bench/affected_check.py's ``Copy``: the
   tracked files in a fresh git repository, run by the project's venv with the copy's
   flaskr and livecov first on ``sys.path``). The real tree is never mutated.
2. ``livecov affected --explain`` on the suite's data, measured once on the unmutated copy
   (as ``make affected-check`` does: tests/unit and tests/e2e, flaskr measured).
3. The selected tests run (``pytest --livecov-affected``). A failing test, or a run that
   fails to collect, is the mutant **caught**.
4. Otherwise every other test of the suite runs: a test failing there is a **miss** (the
   full suite kills the mutant, the selection did not), reported with the mutant's diff,
   the failing tests and ``--explain``; no failure is a mutant the suite does not kill.

``--selectors`` judges other selectors on the same mutants, in the same pass: pytest-testmon
(``testmon``: its own data, taken by ``pytest --testmon`` on the unmutated copy with the live
server unmeasured, as a testmon user has it; ``testmon+livecov``: livecov's plugin hands it
the server's lines; bench/affected_check.py's TESTMON_MODES). Each selector's selected run
(``pytest -x --testmon`` from its kept baseline) goes before the rest of the suite, which
runs once: a selector whose run passes on a mutant another's run, or the rest, fails on
has missed it.

Each mutant's line is appended to a JSON Lines file (default
bench/results/affected_proof.jsonl) as soon as it is done: a stopped run resumes where it
stopped (mutants of the same source already there are skipped). The copy and its
baseline are kept in ``--work`` for the next run while the source is the same.

    python bench/affected_proof.py [--sessions flaskr-blog,flaskr-templates] [--limit N]
                                   [--every N] [--selectors livecov,testmon,testmon+livecov]
                                   [--results FILE] [--work DIR] [--fresh] [--summary]
"""

from __future__ import annotations

import argparse
import contextlib
import fnmatch
import hashlib
import importlib.util
import itertools
import json
import os
import re
import select
import shlex
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import affected_check
import common
from livecov.affected.settings import load_affected_settings

SESSIONS = ["flaskr-blog", "flaskr-core", "flaskr-templates"]
SELECTORS = ["livecov", *affected_check.TESTMON_MODES]
LIVECOV = "livecov/src/livecov"
RESULTS = common.RESULTS / "affected_proof.jsonl"
WORK = Path(tempfile.gettempdir()) / "livecov-affected-proof"
RUN_TIMEOUT = 900  # seconds for one pytest run over (part of) the suite: a hang is a kill
# A pytest plugin, written beside the copy: the tests a run will run, once every plugin has
# deselected (testmon's deselection is trylast), as JSON.
SELECTION_REPORTER = """
import json, os

def pytest_collection_finish(session):
    with open(os.environ["AFFECTED_PROOF_SELECTION"], "w") as f:
        json.dump([item.nodeid for item in session.items], f)
"""


def _load(name: str, path: Path) -> Any:
    """mutation/run.py and mutation/templates.py, as modules (they are scripts)."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


mutation_run = _load("affected_proof_mutation_run", common.ROOT / "mutation" / "run.py")
templates = _load("affected_proof_templates", common.ROOT / "mutation" / "templates.py")


@dataclass
class Mutant:
    """One mutant, as its session names it: file, operator, occurrence."""

    session: str
    path: str  # repo-relative
    operator: str
    occurrence: int
    line: int
    source: str | None = None  # a template mutant's text; cosmic-ray's are applied by it

    @property
    def key(self) -> str:
        return f"{self.session}:{self.path}:{self.operator}:{self.occurrence}"


@dataclass
class Outcome:
    """What one mutant did to the selection and to the suite."""

    key: str
    source: str  # the source's fingerprint: results of another source are not reused
    path: str
    line: int
    operator: str
    outcome: str  # caught, miss, not-killed, not-applied, selector-error
    suite: int  # tests in the suite
    selected: int
    everything: str  # why every test was selected, or ""
    affected_seconds: float
    selected_seconds: float  # the selected run's wall time, to its first failure (-x)
    full_seconds: float  # the unmutated full suite's run
    time_share: float  # the selected tests' share of the full run's test time
    failing: list[str] = field(default_factory=list)  # the selected run's, or the rest's
    diff: str = ""
    explain: str = ""  # livecov affected --explain, kept for a miss
    selector: str = "livecov"  # or one of affected_check.TESTMON_MODES


# -- the source and the copy ---------------------------------------------------------------


def source_fingerprint(root: Path = common.ROOT) -> str:
    """A hash of every tracked file as it is in the working tree, but those that cannot
    break a test (``[tool.livecov.affected] ignore``: docs, bench, mutation): results stay
    valid while this harness and the docs change."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    ).stdout.decode()
    ignore = load_affected_settings(root / "pyproject.toml").ignore
    digest = hashlib.sha256()
    for name in sorted(filter(None, listed.split("\0"))):
        path = root / name
        if path.is_file() and not any(fnmatch.fnmatchcase(name, glob) for glob in ignore):
            digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


class ProofCopy(affected_check.Copy):
    """affected_check's copy, its baselines kept between runs, and timed plain pytest runs."""

    def __init__(
        self, where: Path, suite: list[str] | None = None, source: str | None = None
    ) -> None:
        super().__init__(where)
        self.suite = suite or self.suite
        self.source = source or self.source
        # A livecov mutant must not mutate the selector that judges it: livecov affected
        # runs from this tree, and the selected tests are the rest of the suite skipped.
        self.own_selector = self.source == LIVECOV
        # The copy's livecov too (affected_check runs this tree's): the selector, the plugin
        # and the live server stay the version the baseline was measured with, for hours,
        # while this checkout moves on.
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(self.repo / "flaskr/src"), str(self.repo / "livecov/src"), str(where)]
        )
        self.state = where / "state.json"
        self.selection = where / "selection.json"
        (where / "affected_proof_selection.py").write_text(SELECTION_REPORTER)
        self.env["AFFECTED_PROOF_SELECTION"] = str(self.selection)
        self.last_output = ""  # of the last pytest run

    def load_state(self) -> dict[str, Any]:
        return json.loads(self.state.read_text()) if self.state.exists() else {}

    def prepare(self, source: str, testmon: list[str] | None = None) -> dict[str, Any]:
        """The baselines for ``source`` (livecov's, and testmon's in each mode of
        ``testmon``): kept from an earlier run, or measured now."""
        state = self.load_state()
        same = (
            state.get("source") == source and state.get("paths", affected_check.SUITE) == self.suite
        )
        if same and self.data.exists() and self.repo.exists():
            self.restore()
            common.log(f"affected-proof: the copy and baseline in {self.top} are reused")
        else:
            shutil.rmtree(self.repo, ignore_errors=True)
            self.make()
            self.baseline([])
            state = {"source": source, "paths": self.suite}
        if "durations" not in state:  # also for a baseline kept by an earlier version
            common.log("affected-proof: the full suite, unmeasured, for its time and its tests")
            full, code = self.pytest_run("--durations=0", "--durations-min=0")
            _refuse_failures(full, code, "the unmutated suite")
            state |= {
                "suite": sorted(full.ran),
                "full_seconds": full.seconds,
                "durations": test_durations(self.last_output),
            }
            self.state.write_text(json.dumps(state))
        for mode in testmon or []:
            if mode not in state.get("testmon", []):
                common.log(f"affected-proof: pytest-testmon's baseline ({mode})")
                affected_check.remove_database(self.repo / ".testmondata")
                full, code = self.pytest_run("--testmon", env=affected_check.TESTMON_MODES[mode])
                _refuse_failures(full, code, f"the unmutated suite under testmon ({mode})")
                affected_check.copy_database(
                    self.repo / ".testmondata", self.testmon_baseline(mode)
                )
                state["testmon"] = [*state.get("testmon", []), mode]
                self.state.write_text(json.dumps(state))
        return state

    def restore(self) -> None:
        self.git("checkout", "-q", "--", ".")

    def pytest_run(
        self, *options: str, skip: set[str] | None = None, env: dict[str, str] | None = None
    ) -> tuple[affected_check.Run, int]:
        """The suite (less ``skip``) with ``options``: outcomes, wall time, exit status.

        A run that hangs past RUN_TIMEOUT has its process group killed and counts as failed.
        """
        self.report.unlink(missing_ok=True)
        self.selection.unlink(missing_ok=True)
        skip_file = self.top / "skip.json"
        skip_file.write_text(json.dumps(sorted(skip or ())))
        self.env["AFFECTED_CHECK_SKIP"] = str(skip_file)
        args = [
            "pytest",
            "-q",
            "-p",
            "affected_check_reporter",
            "-p",
            "affected_proof_selection",
            *options,
            *self.suite,
        ]
        try:
            timed = self.run(*args, timeout=RUN_TIMEOUT, env=env)
        except common.CommandFailed as exc:  # the timeout
            return affected_check.Run(RUN_TIMEOUT, {"(timeout)": "failed"}), exc.code
        self.last_output = timed.output
        outcomes = json.loads(self.report.read_text()) if self.report.exists() else {}
        return affected_check.Run(timed.seconds, outcomes), timed.code

    def selector_env(self) -> dict[str, str]:
        """What ``livecov affected`` runs with: the copy's livecov, or this tree's."""
        if not self.own_selector:
            return {}
        paths = [self.repo / "flaskr/src", common.ROOT / "livecov/src", self.top]
        return {"PYTHONPATH": os.pathsep.join(map(str, paths))}

    def testmon_run(self, mode: str) -> tuple[affected_check.Run, int, list[str]]:
        """``pytest -x --testmon`` in ``mode`` from its unmutated baseline: the run, its exit
        status and the tests testmon selected (collected and not deselected)."""
        affected_check.copy_database(self.testmon_baseline(mode), self.repo / ".testmondata")
        run, code = self.pytest_run("-x", "--testmon", env=affected_check.TESTMON_MODES[mode])
        chosen = json.loads(self.selection.read_text()) if self.selection.exists() else []
        return run, code, chosen


def _refuse_failures(run: affected_check.Run, code: int, what: str) -> None:
    if code or run.failed:
        raise SystemExit(f"affected-proof: {what} fails: {sorted(run.failed)}")


# -- the mutants -------------------------------------------------------------------------


def sessions_named(names: list[str]) -> list[Any]:
    sessions = mutation_run.load_sessions()
    by_name = {s.name: s for s in sessions}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"affected-proof: unknown session(s): {', '.join(unknown)}")
    chosen = [by_name[n] for n in names]
    if len({_is_flaskr(s) for s in chosen}) > 1:
        raise SystemExit(
            "affected-proof: flaskr's and livecov's sessions need baselines of their own: "
            "give one kind per run (and a --work of its own)"
        )
    return chosen


def _is_flaskr(session: Any) -> bool:
    return bool(session.package.startswith("flaskr"))


def suite_of(sessions: list[Any]) -> tuple[list[str], str]:
    """The test paths and the measured source of the sessions' baseline: flaskr's suite for
    flaskr's sessions; for livecov's, the test files their test commands run (the ground
    truth of make mutation's kill), livecov measured."""
    if all(_is_flaskr(s) for s in sessions):
        return list(affected_check.SUITE), affected_check.FLASKR
    paths = {
        word for s in sessions for word in shlex.split(s.test_command) if word.startswith("tests/")
    }
    return sorted(paths), LIVECOV


def template_mutants(session: Any, repo: Path) -> Iterator[Mutant]:
    for path in templates.template_files(session.modules, repo):
        for m in templates.mutants(path, (repo / path).read_text()):
            yield Mutant(
                session.name, path, f"templates/{m.operator}", m.occurrence, m.line, m.source
            )


def cosmic_ray_mutants(session: Any, repo: Path, tools: Path) -> Iterator[Mutant]:
    """The session's mutants as ``cosmic-ray init`` lists them, filtered as make mutation does."""
    cfg = repo / session.config  # the session's checked-in cosmic-ray config
    db = repo.parent / f"{session.name}.sqlite"
    db.unlink(missing_ok=True)
    for step in (["cosmic-ray", "init", cfg, db], ["cr-filter-operators", db, cfg]):
        subprocess.run([str(tools / step[0]), *map(str, step[1:])], cwd=repo, check=True)
    with contextlib.closing(sqlite3.connect(db)) as con:
        rows = con.execute(
            "SELECT module_path, operator_name, occurrence, start_pos_row FROM mutation_specs"
            " WHERE job_id NOT IN (SELECT job_id FROM work_results)"  # filtered out
            " ORDER BY module_path, start_pos_row, operator_name, occurrence"
        ).fetchall()
    for path, operator, occurrence, line in rows:
        yield Mutant(session.name, path, operator, occurrence, line)


def session_mutants(session: Any, repo: Path, tools: Path | None) -> list[Mutant]:
    if session.kind == "templates":
        return list(template_mutants(session, repo))
    assert tools is not None
    return list(cosmic_ray_mutants(session, repo, tools))


def interleave(lists: list[list[Mutant]]) -> list[Mutant]:
    """One of each session in turn: a stopped run has covered every session alike."""
    rounds = itertools.zip_longest(*lists)
    return [m for round_ in rounds for m in round_ if m is not None]


def cosmic_ray_tools(work: Path) -> Path:
    """cosmic-ray in a venv of its own (mutation/run.py's), made once per work folder."""
    tools = work / "cosmic-ray-venv" / "bin"
    if not (tools / "cosmic-ray").exists():
        tools = mutation_run.make_tool_venv(work, mutation_run.find_uv(), work / "setup.log")
    return tools


def apply(mutant: Mutant, copy: ProofCopy, tools: Path | None) -> str:
    """Apply ``mutant`` in the copy; its diff (empty: it could not be applied)."""
    if mutant.source is not None:
        (copy.repo / mutant.path).write_text(mutant.source)
    else:
        assert tools is not None
        subprocess.run(
            [
                str(tools / "cosmic-ray"),
                "apply",
                mutant.path,
                mutant.operator,
                str(mutant.occurrence),
            ],
            cwd=copy.repo,
            capture_output=True,
            check=False,
        )
    return copy.git("diff")


# -- one mutant --------------------------------------------------------------------------


DURATION = re.compile(r"^(?P<seconds>\d+\.\d+)s (?:setup|call|teardown) +(?P<test>\S.*)$")


def test_durations(output: str) -> dict[str, float]:
    """Each test's setup + call + teardown seconds, from ``pytest --durations=0``'s report."""
    durations: dict[str, float] = {}
    for line in output.splitlines():
        found = DURATION.match(line)
        if found:
            test = found["test"]
            durations[test] = durations.get(test, 0.0) + float(found["seconds"])
    return durations


def parse_explain(output: str) -> tuple[list[str], str]:
    """The selected node ids in ``livecov affected --explain``'s output, and why every test."""
    selected = [line for line in output.splitlines() if line and not line[0].isspace()]
    selected = [line for line in selected if not line.startswith("livecov: ")]
    marker = "livecov: every test is affected since "
    everything = next(
        (line.split(": ", 2)[2] for line in output.splitlines() if line.startswith(marker)), ""
    )
    return selected, everything


def prove(
    mutant: Mutant,
    copy: ProofCopy,
    tools: Path | None,
    state: dict[str, Any],
    selectors: list[str],
) -> list[Outcome]:
    diff = apply(mutant, copy, tools)
    try:
        return _judge(mutant, copy, state, diff, selectors)
    finally:
        copy.restore()


@dataclass
class _Pick:
    """One selector's selected run on a mutant."""

    outcome: Outcome
    ran: set[str]
    failed: set[str]
    caught: bool


def _judge(
    mutant: Mutant,
    copy: ProofCopy,
    state: dict[str, Any],
    diff: str,
    selectors: list[str] | None = None,
) -> list[Outcome]:
    """Each selector's outcome on the mutant: its selected run, then (unless every
    selector caught it) the rest of the suite, once, for the ground truth."""
    picks: list[_Pick] = []
    for selector in selectors or ["livecov"]:
        outcome = _blank_outcome(mutant, state, diff, selector)
        if not diff:
            picks.append(_Pick(outcome, set(), set(), caught=False))
        elif selector == "livecov":
            picks.append(_livecov_pick(outcome, copy, state))
        else:
            picks.append(_testmon_pick(outcome, copy, state))
    judged = [p for p in picks if p.outcome.outcome == "judging"]
    undecided = [p for p in judged if not p.caught]
    if undecided:
        caught_by_others = sorted(set().union(*(p.failed for p in judged if p.caught)))
        if any(p.caught for p in judged):
            failing = caught_by_others or ["(another selector's run failed to collect)"]
        else:
            ran = set().union(*(p.ran for p in undecided))
            rest, code = copy.pytest_run(skip=ran)
            # 5: no test left to run (the selections ran every test), not a failure.
            failed_otherwise = code not in (0, 5)
            failing = sorted(rest.failed) or (
                ["(the run failed to collect)"] if failed_otherwise else []
            )
        for p in undecided:
            p.outcome.failing = failing
            p.outcome.outcome = "miss" if failing else "not-killed"
            if not failing:
                p.outcome.explain = ""  # kept for a miss only
    for p in judged:
        if p.caught:
            p.outcome.outcome = "caught"
            p.outcome.explain = ""
    return [p.outcome for p in picks]


def _blank_outcome(mutant: Mutant, state: dict[str, Any], diff: str, selector: str) -> Outcome:
    return Outcome(
        key=mutant.key,
        source=state["source"],
        path=mutant.path,
        line=mutant.line,
        operator=mutant.operator,
        outcome="judging" if diff else "not-applied",
        suite=len(state["suite"]),
        selected=0,
        everything="",
        affected_seconds=0.0,
        selected_seconds=0.0,
        full_seconds=state["full_seconds"],
        time_share=0.0,
        diff=diff,
        selector=selector,
    )


def _time_share(chosen: list[str], state: dict[str, Any]) -> float:
    durations = state["durations"]
    return sum(durations.get(t, 0.0) for t in chosen) / sum(durations.values())


def _is_caught(run: affected_check.Run, code: int) -> bool:
    """A failing test, or a run that failed otherwise (it could not collect); 5: nothing
    was selected."""
    return bool(run.failed) or code not in (0, 5)


def _livecov_pick(outcome: Outcome, copy: ProofCopy, state: dict[str, Any]) -> _Pick:
    affected = copy.run(
        "livecov", "affected", "--data-file", str(copy.data), "--explain", env=copy.selector_env()
    )
    outcome.affected_seconds = affected.seconds
    outcome.explain = affected.output
    if affected.code:  # the selector refused: no selection to judge
        outcome.outcome = "selector-error"
        return _Pick(outcome, set(), set(), caught=False)
    chosen, outcome.everything = parse_explain(affected.output)
    outcome.selected = len(chosen)
    outcome.time_share = _time_share(chosen, state)
    # -x: a caught mutant needs one failure; one that is not caught runs every selected test.
    if copy.own_selector:  # not the copy's plugin: it may be the mutant
        everything = set(state["suite"])
        selected, code = copy.pytest_run(
            "-x", skip=set() if outcome.everything else everything - set(chosen)
        )
    else:
        selected, code = copy.pytest_run(
            "-x", f"--livecov-affected-data={copy.data}", "--livecov-affected="
        )
    outcome.selected_seconds = selected.seconds
    caught = _is_caught(selected, code)
    outcome.failing = sorted(selected.failed)
    return _Pick(outcome, selected.ran, selected.failed, caught)


def _testmon_pick(outcome: Outcome, copy: ProofCopy, state: dict[str, Any]) -> _Pick:
    selected, code, chosen = copy.testmon_run(outcome.selector)
    outcome.selected = len(chosen)
    outcome.time_share = _time_share(chosen, state)
    outcome.selected_seconds = selected.seconds
    outcome.explain = f"pytest --testmon ({outcome.selector}) selected:\n" + "".join(
        f"{t}\n" for t in chosen
    )
    caught = _is_caught(selected, code)
    outcome.failing = sorted(selected.failed)
    return _Pick(outcome, selected.ran, selected.failed, caught)


# -- results -----------------------------------------------------------------------------


def done_keys(results: Path, source: str) -> set[tuple[str, str]]:
    """(selector, mutant key) of the rows of ``source`` in ``results``."""
    if not results.exists():
        return set()
    lines = (json.loads(line) for line in results.read_text().splitlines() if line.strip())
    return {(r.get("selector", "livecov"), r["key"]) for r in lines if r["source"] == source}


def progress_line(number: int, total: int, o: Outcome) -> str:
    share = f"{o.selected}/{o.suite} selected ({100 * o.selected / o.suite:.0f} %)"
    by = "" if o.selector == "livecov" else f" [{o.selector}]"
    return (
        f"affected-proof: [{number}/{total}] {o.path}:{o.line} {o.operator}: {o.outcome}{by}, "
        f"{share}, {o.selected_seconds:.0f} s"
    )


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts by outcome; over the mutants the suite kills, the medians of share and time."""
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["outcome"]] = counts.get(r["outcome"], 0) + 1
    killed = [r for r in rows if r["outcome"] in ("caught", "miss")]
    applied = [r for r in rows if r["outcome"] not in ("not-applied", "selector-error")]

    def median(values: list[float]) -> float | None:
        return round(statistics.median(values), 3) if values else None

    return {
        "mutants": len(rows),
        "outcomes": counts,
        "killed_by_suite": len(killed),
        "misses": counts.get("miss", 0),
        "median_selected_share": median([r["selected"] / r["suite"] for r in applied]),
        "median_time_share": median([r["time_share"] for r in applied]),
        "everything_selected": sum(
            1 for r in applied if r["everything"] or r["selected"] >= r["suite"]
        ),
        "median_affected_seconds": median([r["affected_seconds"] for r in applied]),
    }


def report(results: Path, source: str | None = None) -> dict[str, Any]:
    """Print the misses, the totals and the table of ``source``'s rows (default: the
    source of the file's last row, the latest run's); the totals of each selector."""
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    source = source or (rows[-1]["source"] if rows else "")
    rows = [r for r in rows if r["source"] == source]
    by_selector: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_selector.setdefault(r.get("selector", "livecov"), []).append(r)
    totals: dict[str, Any] = {}
    for selector, selected_rows in by_selector.items():
        for r in selected_rows:
            if r["outcome"] == "miss":
                print(f"\nMISS [{selector}] {r['key']} ({r['path']}:{r['line']})\n{r['diff']}")
                print("failing tests the selection did not run:", *r["failing"], sep="\n  ")
                print(f"{selector}'s selection:\n" + r["explain"])
        totals[selector] = summary(selected_rows)
        by_session: dict[str, list[dict[str, Any]]] = {}
        for r in selected_rows:
            by_session.setdefault(r["key"].split(":", 1)[0], []).append(r)
        totals[selector]["sessions"] = {name: summary(group) for name, group in by_session.items()}
    print(json.dumps(totals, indent=2))
    print(markdown(totals))
    return totals


def markdown(totals: dict[str, Any]) -> str:
    """The results table of docs/benchmarks.md: per selector, one row per session, then
    all of them."""
    header = (
        "| selector | session | mutants | killed by the suite | caught | **missed** "
        "| not killed | every test selected | selected (median) "
        "| time vs full suite (median) |"
    )
    lines = [header, "|" + "---|" * 10]
    for selector, of_selector in totals.items():
        named = [*of_selector["sessions"].items(), ("all", of_selector)]
        for name, t in named:
            share, time_share = t["median_selected_share"], t["median_time_share"]
            lines.append(
                f"| {selector} | {name} | {t['mutants']} | {t['killed_by_suite']} "
                f"| {t['outcomes'].get('caught', 0)} | **{t['misses']}** "
                f"| {t['outcomes'].get('not-killed', 0)} | {t['everything_selected']} "
                f"| {_percent(share)} | {_percent(time_share)} |"
            )
    return "\n".join(lines)


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.0f} %"


def any_misses(totals: dict[str, Any]) -> bool:
    """Whether livecov missed a mutant (testmon's misses are the comparison, not a failure)."""
    return bool(totals.get("livecov", {}).get("misses"))


# -- main --------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    common.ensure_project_venv()
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sessions", default=",".join(SESSIONS), help="comma-separated")
    parser.add_argument("--limit", type=int, help="stop after this many new mutants")
    parser.add_argument(
        "--every",
        type=int,
        default=1,
        metavar="N",
        help="only every Nth mutant of each session, in source order (a sample spread over "
        "every file; default 1: all)",
    )
    parser.add_argument(
        "--selectors",
        default="livecov",
        help=f"comma-separated, of {', '.join(SELECTORS)} (default: livecov); each judged on "
        "the same mutants in the same pass",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON Lines, appended")
    parser.add_argument("--work", type=Path, default=WORK, help="the copy, kept for resuming")
    parser.add_argument("--fresh", action="store_true", help="measure the baseline anew")
    parser.add_argument(
        "--summary", action="store_true", help="only report --results (its latest source's rows)"
    )
    args = parser.parse_args(argv)
    sessions = sessions_named([n for n in args.sessions.split(",") if n])
    selectors = [n for n in args.selectors.split(",") if n]
    unknown = sorted(set(selectors) - set(SELECTORS))
    if unknown or not selectors:
        parser.error(f"--selectors: {', '.join(unknown) or 'none'}: of {', '.join(SELECTORS)}")
    if args.summary:
        return 1 if any_misses(report(args.results)) else 0
    source = source_fingerprint()
    if args.fresh:
        shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True, exist_ok=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    copy = ProofCopy(args.work, *suite_of(sessions))
    state = copy.prepare(source, [s for s in selectors if s != "livecov"])
    done = done_keys(args.results, source)
    tools = None
    if any(s.kind != "templates" for s in sessions):
        tools = cosmic_ray_tools(args.work)
    mutants = interleave([session_mutants(s, copy.repo, tools)[:: args.every] for s in sessions])
    left = [m for m in mutants if any((s, m.key) not in done for s in selectors)]
    todo = left[: args.limit]
    common.log(
        f"affected-proof: {len(mutants)} mutants in {', '.join(s.name for s in sessions)}; "
        f"{len(mutants) - len(left)} done before, {len(todo)} to do now"
    )
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        for number, mutant in enumerate(todo, 1):
            missing = [s for s in selectors if (s, mutant.key) not in done]
            outcomes = prove(mutant, copy, tools, state, missing)
            with args.results.open("a") as f:
                f.writelines(json.dumps(asdict(o)) + "\n" for o in outcomes)
            for outcome in outcomes:
                common.log(progress_line(number, len(todo), outcome))
    except KeyboardInterrupt:
        stop_children()
        common.log(f"affected-proof: interrupted; the mutants done are in {args.results}")
        return 130
    return 1 if any_misses(report(args.results, source)) else 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def stop_children(parent: int | None = None) -> None:
    """Kill every process ``parent`` (this one) started, and theirs: each test run has a
    session of its own (run_timed's), so a signal to this process does not reach them."""
    parent = parent or os.getpid()
    ended = []  # pidfds: readable once their process has ended
    for pid in mutation_run._descendants({parent}) - {parent}:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            ended.append(os.pidfd_open(pid))
            signal.pidfd_send_signal(ended[-1], signal.SIGKILL)
    for pidfd in ended:
        select.select([pidfd], [], [], 10)
        os.close(pidfd)


if __name__ == "__main__":
    sys.exit(main())
