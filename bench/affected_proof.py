"""Safety of ``livecov affected`` on every mutant (``make affected-proof``).

Every mutant the full suite kills is a change with known failing tests: the ground truth
a test selector must meet. For each mutant of the chosen sessions (mutation/sessions.toml:
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

Each mutant's line is appended to a JSON Lines file (default
bench/results/affected_proof.jsonl) as soon as it is done: a stopped run resumes where it
stopped (mutants of the same source already there are skipped). The copy and its
baseline are kept in ``--work`` for the next run while the source is the same.

    python bench/affected_proof.py [--sessions flaskr-blog,flaskr-templates] [--limit N]
                                   [--every N] [--results FILE] [--work DIR] [--fresh]
                                   [--summary]
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
from livecov.affected import load_affected_settings

SESSIONS = ["flaskr-blog", "flaskr-core", "flaskr-templates"]
RESULTS = common.RESULTS / "affected_proof.jsonl"
WORK = Path(tempfile.gettempdir()) / "livecov-affected-proof"
RUN_TIMEOUT = 900  # seconds for one pytest run over (part of) the suite: a hang is a kill


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
    """affected_check's copy, its baseline kept between runs, and a timed plain pytest run."""

    def __init__(self, where: Path) -> None:
        super().__init__(where)
        # The copy's livecov too (affected_check runs this tree's): the selector, the plugin
        # and the live server stay the version the baseline was measured with, for hours,
        # while this checkout moves on.
        self.env["PYTHONPATH"] = os.pathsep.join(
            [str(self.repo / "flaskr/src"), str(self.repo / "livecov/src"), str(where)]
        )
        self.state = where / "state.json"
        self.last_output = ""  # of the last pytest run

    def load_state(self) -> dict[str, Any]:
        return json.loads(self.state.read_text()) if self.state.exists() else {}

    def prepare(self, source: str) -> dict[str, Any]:
        """The baseline for ``source``: kept from an earlier run, or measured now."""
        state = self.load_state()
        if state.get("source") == source and self.data.exists() and self.repo.exists():
            self.restore()
            common.log(f"affected-proof: the copy and baseline in {self.top} are reused")
        else:
            shutil.rmtree(self.repo, ignore_errors=True)
            self.make()
            self.baseline([])
            state = {"source": source}
        if "durations" not in state:  # also for a baseline kept by an earlier version
            common.log("affected-proof: the full suite, unmeasured, for its time and its tests")
            full, code = self.pytest_run("--durations=0", "--durations-min=0")
            if code or full.failed:
                failed = sorted(full.failed)
                raise SystemExit(f"affected-proof: the unmutated suite fails: {failed}")
            state |= {
                "suite": sorted(full.ran),
                "full_seconds": full.seconds,
                "durations": test_durations(self.last_output),
            }
            self.state.write_text(json.dumps(state))
        return state

    def restore(self) -> None:
        self.git("checkout", "-q", "--", ".")

    def pytest_run(
        self, *options: str, skip: set[str] | None = None
    ) -> tuple[affected_check.Run, int]:
        """The suite (less ``skip``) with ``options``: outcomes, wall time, exit status.

        A run that hangs past RUN_TIMEOUT has its process group killed and counts as failed.
        """
        self.report.unlink(missing_ok=True)
        skip_file = self.top / "skip.json"
        skip_file.write_text(json.dumps(sorted(skip or ())))
        self.env["AFFECTED_CHECK_SKIP"] = str(skip_file)
        args = ["pytest", "-q", "-p", "affected_check_reporter", *options, *affected_check.SUITE]
        try:
            timed = self.run(*args, timeout=RUN_TIMEOUT)
        except common.CommandFailed as exc:  # the timeout
            return affected_check.Run(RUN_TIMEOUT, {"(timeout)": "failed"}), exc.code
        self.last_output = timed.output
        outcomes = json.loads(self.report.read_text()) if self.report.exists() else {}
        return affected_check.Run(timed.seconds, outcomes), timed.code


# -- the mutants -------------------------------------------------------------------------


def sessions_named(names: list[str]) -> list[Any]:
    _, sessions = mutation_run.load_config()
    by_name = {s.name: s for s in sessions}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"affected-proof: unknown session(s): {', '.join(unknown)}")
    not_flaskr = [n for n in names if not by_name[n].package.startswith("flaskr")]
    if not_flaskr:
        raise SystemExit(
            f"affected-proof: {', '.join(not_flaskr)}: only flaskr's sessions are supported "
            "(the baseline measures flaskr's suite)"
        )
    return [by_name[n] for n in names]


def template_mutants(session: Any, repo: Path) -> Iterator[Mutant]:
    for path in templates.template_files(session.modules, repo):
        for m in templates.mutants(path, (repo / path).read_text()):
            yield Mutant(
                session.name, path, f"templates/{m.operator}", m.occurrence, m.line, m.source
            )


def cosmic_ray_mutants(session: Any, repo: Path, tools: Path) -> Iterator[Mutant]:
    """The session's mutants as ``cosmic-ray init`` lists them, filtered as make mutation does."""
    config, _ = mutation_run.load_config()
    cfg = repo.parent / f"{session.name}.toml"
    db = repo.parent / f"{session.name}.sqlite"
    db.unlink(missing_ok=True)
    cfg.write_text(mutation_run.cosmic_ray_config(session, repo, config["operators"]["exclude"]))
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
        config, _ = mutation_run.load_config()
        tools = mutation_run.make_tool_venv(
            work, mutation_run.find_uv(), config, work / "setup.log"
        )
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


def prove(mutant: Mutant, copy: ProofCopy, tools: Path | None, state: dict[str, Any]) -> Outcome:
    diff = apply(mutant, copy, tools)
    try:
        return _judge(mutant, copy, state, diff)
    finally:
        copy.restore()


def _judge(mutant: Mutant, copy: ProofCopy, state: dict[str, Any], diff: str) -> Outcome:
    outcome = Outcome(
        key=mutant.key,
        source=state["source"],
        path=mutant.path,
        line=mutant.line,
        operator=mutant.operator,
        outcome="not-applied",
        suite=len(state["suite"]),
        selected=0,
        everything="",
        affected_seconds=0.0,
        selected_seconds=0.0,
        full_seconds=state["full_seconds"],
        time_share=0.0,
        diff=diff,
    )
    if not diff:
        return outcome
    affected = copy.run("livecov", "affected", "--data-file", str(copy.data), "--explain")
    outcome.affected_seconds = affected.seconds
    if affected.code:  # the selector refused: no selection to judge
        outcome.outcome = "selector-error"
        outcome.explain = affected.output
        return outcome
    chosen, outcome.everything = parse_explain(affected.output)
    outcome.selected = len(chosen)
    durations = state["durations"]
    outcome.time_share = sum(durations.get(t, 0.0) for t in chosen) / sum(durations.values())
    # -x: a caught mutant needs one failure; one that is not caught runs every selected test.
    selected, code = copy.pytest_run(
        "-x", f"--livecov-affected-data={copy.data}", "--livecov-affected="
    )
    outcome.selected_seconds = selected.seconds
    if selected.failed or code not in (0, 5):  # 5: nothing selected
        outcome.outcome = "caught"
        outcome.failing = sorted(selected.failed)
        return outcome
    rest, code = copy.pytest_run(skip=selected.ran)
    outcome.failing = sorted(rest.failed) or (["(the run failed to collect)"] if code else [])
    outcome.outcome = "miss" if outcome.failing else "not-killed"
    if outcome.failing:
        outcome.explain = affected.output
    return outcome


# -- results -----------------------------------------------------------------------------


def done_keys(results: Path, source: str) -> set[str]:
    if not results.exists():
        return set()
    lines = (json.loads(line) for line in results.read_text().splitlines() if line.strip())
    return {r["key"] for r in lines if r["source"] == source}


def progress_line(number: int, total: int, o: Outcome) -> str:
    share = f"{o.selected}/{o.suite} selected ({100 * o.selected / o.suite:.0f} %)"
    return (
        f"affected-proof: [{number}/{total}] {o.path}:{o.line} {o.operator}: {o.outcome}, "
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
        "everything_selected": sum(1 for r in applied if r["everything"]),
        "median_affected_seconds": median([r["affected_seconds"] for r in applied]),
    }


def report(results: Path, source: str | None = None) -> dict[str, Any]:
    """Print the misses, the totals and the table of ``source``'s rows (default: the
    source of the file's last row, the latest run's)."""
    rows = [json.loads(line) for line in results.read_text().splitlines() if line.strip()]
    source = source or (rows[-1]["source"] if rows else "")
    rows = [r for r in rows if r["source"] == source]
    for r in rows:
        if r["outcome"] == "miss":
            print(f"\nMISS {r['key']} ({r['path']}:{r['line']})\n{r['diff']}")
            print("failing tests the selection did not run:", *r["failing"], sep="\n  ")
            print("livecov affected --explain:\n" + r["explain"])
    totals = summary(rows)
    by_session: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_session.setdefault(r["key"].split(":", 1)[0], []).append(r)
    totals["sessions"] = {name: summary(group) for name, group in by_session.items()}
    print(json.dumps(totals, indent=2))
    print(markdown(totals))
    return totals


def markdown(totals: dict[str, Any]) -> str:
    """The results table of docs/benchmarks.md: one row per session, then all of them."""
    header = (
        "| session | mutants | killed by the suite | caught | **missed** | not killed "
        "| every test selected | selected (median) | time vs full suite (median) |"
    )
    lines = [header, "|" + "---|" * 9]
    named = [*totals["sessions"].items(), ("all", totals)]
    for name, t in named:
        share, time_share = t["median_selected_share"], t["median_time_share"]
        lines.append(
            f"| {name} | {t['mutants']} | {t['killed_by_suite']} "
            f"| {t['outcomes'].get('caught', 0)} | **{t['misses']}** "
            f"| {t['outcomes'].get('not-killed', 0)} | {t['everything_selected']} "
            f"| {_percent(share)} | {_percent(time_share)} |"
        )
    return "\n".join(lines)


def _percent(share: float | None) -> str:
    return "-" if share is None else f"{100 * share:.0f} %"


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
    parser.add_argument("--results", type=Path, default=RESULTS, help="JSON Lines, appended")
    parser.add_argument("--work", type=Path, default=WORK, help="the copy, kept for resuming")
    parser.add_argument("--fresh", action="store_true", help="measure the baseline anew")
    parser.add_argument(
        "--summary", action="store_true", help="only report --results (its latest source's rows)"
    )
    args = parser.parse_args(argv)
    sessions = sessions_named([n for n in args.sessions.split(",") if n])
    if args.summary:
        totals = report(args.results)
        return 1 if totals["misses"] else 0
    source = source_fingerprint()
    if args.fresh:
        shutil.rmtree(args.work, ignore_errors=True)
    args.work.mkdir(parents=True, exist_ok=True)
    args.results.parent.mkdir(parents=True, exist_ok=True)
    copy = ProofCopy(args.work)
    state = copy.prepare(source)
    done = done_keys(args.results, source)
    tools = None
    if any(s.kind != "templates" for s in sessions):
        tools = cosmic_ray_tools(args.work)
    mutants = interleave([session_mutants(s, copy.repo, tools)[:: args.every] for s in sessions])
    left = [m for m in mutants if m.key not in done]
    todo = left[: args.limit]
    common.log(
        f"affected-proof: {len(mutants)} mutants in {', '.join(s.name for s in sessions)}; "
        f"{len(mutants) - len(left)} done before, {len(todo)} to do now"
    )
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _interrupt)
    try:
        for number, mutant in enumerate(todo, 1):
            outcome = prove(mutant, copy, tools, state)
            with args.results.open("a") as f:
                f.write(json.dumps(asdict(outcome)) + "\n")
            common.log(progress_line(number, len(todo), outcome))
    except KeyboardInterrupt:
        stop_children()
        common.log(f"affected-proof: interrupted; the mutants done are in {args.results}")
        return 130
    totals = report(args.results, source)
    return 1 if totals["misses"] else 0


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
