"""bench/affected_proof.py: how a mutant is judged, what a resumed run skips, the summary.

The harness's runs take hours; these pin its decisions: a mutant the selected tests fail
on is caught; one only the rest of the suite fails on is a miss, kept with the selector's
explanation; results of another source are not taken as done.
"""

from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from livecov.affected.report import affected_report
from tests.livecov.affected_project import Project

REPO = Path(__file__).resolve().parents[2]


def _load_proof() -> Any:
    """The script as a module, without its imports' side effects on this process."""
    saved_path, saved_env = list(sys.path), dict(os.environ)
    os.environ["BENCH_KEEP_ENV"] = "1"  # bench/common.py would drop PYTHONDONTWRITEBYTECODE
    try:
        spec = importlib.util.spec_from_file_location(
            "bench_affected_proof", REPO / "bench" / "affected_proof.py"
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path[:] = saved_path
        os.environ.clear()
        os.environ.update(saved_env)


proof = _load_proof()
Run = proof.affected_check.Run
Timed = proof.common.Timed


def explain_output(project: Project, monkeypatch: pytest.MonkeyPatch) -> str:
    """What ``livecov affected --explain`` prints (stdout and stderr, as the harness reads)."""
    monkeypatch.chdir(project.root)
    out = io.StringIO()
    affected_report(project.data, explain=True, out=out, err=out)
    return out.getvalue()


def test_explain_output_gives_the_selected_tests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(tmp_path)
    project.measure()
    project.edit("helpers.py", "total = y * 2", "total = y * 3")
    selected, everything = proof.parse_explain(explain_output(project, monkeypatch))
    assert selected == project.select().node_ids()
    assert selected
    assert everything == ""


def test_explain_output_gives_why_every_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project(tmp_path)
    project.measure()
    project.edit("tests/conftest.py", "", "import os\n")
    selected, everything = proof.parse_explain(explain_output(project, monkeypatch))
    assert everything == "tests/conftest.py changed and no test data covers it"
    assert selected == project.select().node_ids()


class ScriptedCopy:
    """The copy's commands, answering as a mutated suite would: the selector's output,
    then each pytest run's outcomes in turn; testmon's runs, with what testmon selected."""

    def __init__(
        self,
        data: Path,
        explain: Timed,
        runs: list[tuple[Run, int]],
        testmon: list[tuple[Run, int, list[str]]] | None = None,
    ) -> None:
        self.data = data
        self.own_selector = False  # a livecov session's copy judges with this tree's
        self.selector_envs: list[dict[str, str]] = []
        self.explain = explain
        self.runs = runs
        self.testmon = testmon or []
        self.pytest_calls: list[tuple[tuple[str, ...], set[str] | None]] = []
        self.testmon_modes: list[str] = []

    def run(self, *args: str, env: dict[str, str] | None = None) -> Timed:
        assert args[:2] == ("livecov", "affected")
        self.selector_envs.append(env or {})
        return self.explain

    def selector_env(self) -> dict[str, str]:
        return {"PYTHONPATH": "this tree"} if self.own_selector else {}

    def pytest_run(self, *options: str, skip: set[str] | None = None) -> tuple[Run, int]:
        self.pytest_calls.append((options, skip))
        return self.runs.pop(0)

    def testmon_run(self, mode: str) -> tuple[Run, int, list[str]]:
        self.testmon_modes.append(mode)
        return self.testmon.pop(0)


STATE = {
    "source": "abc",
    "suite": ["t::a", "t::b", "t::c", "t::d"],
    "full_seconds": 40.0,
    "durations": {"t::a": 1.0, "t::b": 1.0, "t::c": 2.0, "t::d": 4.0},
}
MUTANT = proof.Mutant("flaskr-blog", "flaskr/src/flaskr/blog.py", "core/X", 0, 12)
SELECTED = "t::a\n    blog.py:12 changed\nlivecov: 1 of 4 tests affected by 1 changed file(s)\n"


def judge(explain: Timed, runs: list[tuple[Run, int]], diff: str = "-a\n+b\n") -> Any:
    copy = ScriptedCopy(Path("baseline.coverage"), explain, runs)
    (outcome,) = proof._judge(MUTANT, copy, STATE, diff)
    return outcome, copy


def judge_both(
    explain: Timed, runs: list[tuple[Run, int]], testmon: list[tuple[Run, int, list[str]]]
) -> Any:
    """livecov and testmon on one mutant: their outcomes, and the copy's calls."""
    copy = ScriptedCopy(Path("baseline.coverage"), explain, runs, testmon)
    livecov, testmon_outcome = proof._judge(MUTANT, copy, STATE, "-a\n+b\n", ["livecov", "testmon"])
    return livecov, testmon_outcome, copy


def test_a_mutant_the_selected_tests_fail_on_is_caught_without_the_rest() -> None:
    outcome, copy = judge(Timed(0.3, 0, SELECTED), [(Run(5.0, {"t::a": "failed"}), 1)])
    assert (outcome.outcome, outcome.failing, outcome.selected) == ("caught", ["t::a"], 1)
    assert outcome.time_share == 1.0 / 8.0  # t::a's second of the suite's eight
    assert outcome.selected_seconds == 5.0
    assert len(copy.pytest_calls) == 1  # the rest of the suite is not run
    assert {"-x", "--livecov-affected="} <= set(copy.pytest_calls[0][0])


def test_a_selected_run_that_cannot_collect_is_caught() -> None:
    outcome, _ = judge(Timed(0.3, 0, SELECTED), [(Run(2.0, {}), 2)])
    assert outcome.outcome == "caught"


def test_a_failure_only_the_rest_of_the_suite_finds_is_a_miss_with_the_explanation() -> None:
    outcome, copy = judge(
        Timed(0.3, 0, SELECTED),
        [(Run(5.0, {"t::a": "passed"}), 0), (Run(30.0, {"t::b": "failed", "t::c": "passed"}), 1)],
    )
    assert (outcome.outcome, outcome.failing) == ("miss", ["t::b"])
    assert outcome.explain == SELECTED
    assert copy.pytest_calls[1] == ((), {"t::a"})  # the rest: every test not selected


def test_a_mutant_no_test_fails_on_is_not_killed_and_keeps_no_explanation() -> None:
    outcome, _ = judge(
        Timed(0.3, 0, SELECTED), [(Run(5.0, {"t::a": "passed"}), 0), (Run(30.0, {}), 0)]
    )
    assert (outcome.outcome, outcome.failing, outcome.explain) == ("not-killed", [], "")


def test_nothing_selected_and_the_rest_failing_to_collect_is_a_miss() -> None:
    nothing = "livecov: 0 of 4 tests affected by 1 changed file(s) since abc\n"
    outcome, _ = judge(Timed(0.3, 0, nothing), [(Run(1.0, {}), 5), (Run(3.0, {}), 2)])
    assert (outcome.outcome, outcome.selected) == ("miss", 0)
    assert outcome.failing == ["(the run failed to collect)"]


def test_every_test_selected_and_passing_is_not_killed_though_no_test_is_left() -> None:
    # pytest says 5 (no tests collected) when every test was deselected from the rest.
    outcome, _ = judge(
        Timed(0.3, 0, SELECTED), [(Run(60.0, {"t::a": "passed"}), 0), (Run(1.0, {}), 5)]
    )
    assert (outcome.outcome, outcome.failing) == ("not-killed", [])


def test_a_refusing_selector_or_an_unapplied_mutant_is_not_judged() -> None:
    refused, copy = judge(Timed(0.3, 4, "livecov: no coverage data\n"), [])
    assert (refused.outcome, refused.explain) == ("selector-error", "livecov: no coverage data\n")
    assert copy.pytest_calls == []
    unapplied, _ = judge(Timed(0.3, 0, SELECTED), [], diff="")
    assert unapplied.outcome == "not-applied"


def test_testmon_passing_where_livecovs_selection_fails_is_a_miss_without_the_rest() -> None:
    livecov, testmon, copy = judge_both(
        Timed(0.3, 0, SELECTED),
        [(Run(5.0, {"t::a": "failed"}), 1)],
        [(Run(2.0, {"t::c": "passed"}), 0, ["t::c", "t::d"])],
    )
    assert (livecov.outcome, livecov.selector) == ("caught", "livecov")
    assert (testmon.outcome, testmon.selector, testmon.failing) == ("miss", "testmon", ["t::a"])
    assert (testmon.selected, testmon.time_share) == (2, 6.0 / 8.0)  # what testmon selected
    assert "t::c\nt::d\n" in testmon.explain
    assert copy.testmon_modes == ["testmon"]
    assert len(copy.pytest_calls) == 1  # the suite kills it: no need for the rest


def test_when_no_selector_catches_it_the_rest_runs_once_without_any_selected_test() -> None:
    livecov, testmon, copy = judge_both(
        Timed(0.3, 0, SELECTED),
        [(Run(5.0, {"t::a": "passed"}), 0), (Run(30.0, {"t::d": "failed"}), 1)],
        [(Run(2.0, {"t::c": "passed"}), 0, ["t::c"])],
    )
    assert (livecov.outcome, livecov.failing) == ("miss", ["t::d"])
    assert (testmon.outcome, testmon.failing) == ("miss", ["t::d"])
    assert livecov.explain == SELECTED
    assert copy.pytest_calls[-1] == ((), {"t::a", "t::c"})


def test_caught_by_both_runs_no_rest_and_keeps_no_explanation() -> None:
    livecov, testmon, copy = judge_both(
        Timed(0.3, 0, SELECTED),
        [(Run(5.0, {"t::a": "failed"}), 1)],
        [(Run(2.0, {}), 2, [])],  # testmon's run could not collect
    )
    assert (livecov.outcome, testmon.outcome) == ("caught", "caught")
    assert (livecov.explain, testmon.explain) == ("", "")
    assert len(copy.pytest_calls) == 1


def test_not_killed_by_the_rest_is_not_killed_for_each_selector() -> None:
    livecov, testmon, _ = judge_both(
        Timed(0.3, 0, SELECTED),
        [(Run(5.0, {"t::a": "passed"}), 0), (Run(30.0, {"t::b": "passed"}), 0)],
        [(Run(2.0, {}), 5, [])],  # testmon selected nothing
    )
    assert (livecov.outcome, testmon.outcome) == ("not-killed", "not-killed")
    assert testmon.selected == 0


def row(
    key: str, outcome: str, source: str = "abc", selected: int = 1, selector: str = "livecov"
) -> dict[str, Any]:
    return {
        "selector": selector,
        "key": key,
        "source": source,
        "outcome": outcome,
        "suite": 4,
        "selected": selected,
        "selected_seconds": 4.0 * selected,
        "time_share": 0.1 * selected,
        "full_seconds": 40.0,
        "affected_seconds": 0.4,
        "everything": "",
    }


def test_a_resumed_run_skips_only_the_mutants_done_on_the_same_source(tmp_path: Path) -> None:
    results = tmp_path / "r.jsonl"
    assert proof.done_keys(results, "abc") == set()
    lines = [
        row("s:a", "caught"),
        row("s:b", "miss", source="older"),
        row("s:a", "miss", selector="testmon"),
    ]
    results.write_text("".join(json.dumps(r) + "\n" for r in lines))
    assert proof.done_keys(results, "abc") == {("livecov", "s:a"), ("testmon", "s:a")}


def test_the_summary_counts_outcomes_and_takes_medians_over_judged_mutants() -> None:
    rows = [
        row("s:a", "caught", selected=1),
        row("s:b", "caught", selected=2),
        row("s:c", "not-killed", selected=4),
        row("s:d", "not-applied", selected=0),
    ]
    totals = proof.summary(rows)
    assert totals["outcomes"] == {"caught": 2, "not-killed": 1, "not-applied": 1}
    assert (totals["killed_by_suite"], totals["misses"]) == (2, 0)
    assert totals["median_selected_share"] == 0.5  # of 1/4, 2/4, 4/4
    assert totals["median_time_share"] == 0.2  # of 0.1, 0.2, 0.4


def test_sessions_of_one_kind_are_accepted_each_refusal_in_one_line() -> None:
    assert [s.name for s in proof.sessions_named(["flaskr-templates"])] == ["flaskr-templates"]
    assert [s.name for s in proof.sessions_named(["livecov-browser"])] == ["livecov-browser"]
    with pytest.raises(SystemExit, match="need baselines of their own"):
        proof.sessions_named(["flaskr-core", "livecov-cli"])
    with pytest.raises(SystemExit, match="unknown session"):
        proof.sessions_named(["nope"])


def test_flaskr_sessions_measure_flaskrs_suite_livecovs_their_own_test_files() -> None:
    flaskr = proof.sessions_named(["flaskr-core", "flaskr-templates"])
    assert proof.suite_of(flaskr) == (["tests/unit", "tests/e2e"], "flaskr/src/flaskr")
    livecov = proof.sessions_named(["livecov-browser"])
    assert proof.suite_of(livecov) == (["tests/livecov/test_browser.py"], "livecov/src/livecov")


def test_a_livecov_mutant_is_judged_by_this_trees_selector_not_the_copys_plugin() -> None:
    copy = ScriptedCopy(
        Path("baseline.coverage"), Timed(0.3, 0, SELECTED), [(Run(2.0, {"t::a": "failed"}), 1)]
    )
    copy.own_selector = True
    (outcome,) = proof._judge(MUTANT, copy, STATE, "-a\n+b\n")
    assert outcome.outcome == "caught"
    assert copy.selector_envs == [{"PYTHONPATH": "this tree"}]
    assert copy.pytest_calls == [(("-x",), {"t::b", "t::c", "t::d"})]  # all but t::a skipped


def test_every_template_of_flaskr_gives_its_mutants_with_their_text(tmp_path: Path) -> None:
    (session,) = proof.sessions_named(["flaskr-templates"])
    mutants = list(proof.template_mutants(session, REPO))
    assert len({m.key for m in mutants}) == len(mutants) > 50
    first = mutants[0]
    original = (REPO / first.path).read_text()
    assert first.source != original
    assert first.operator.startswith("templates/")


def test_a_progress_line_names_the_mutant_and_the_share() -> None:
    outcome, _ = judge(Timed(0.3, 0, SELECTED), [(Run(5.0, {"t::a": "failed"}), 1)])
    assert proof.progress_line(3, 10, outcome) == (
        "affected-proof: [3/10] flaskr/src/flaskr/blog.py:12 core/X: caught, "
        "1/4 selected (25 %), 5 s"
    )


def test_sessions_take_turns_so_a_stopped_run_has_sampled_each() -> None:
    blog = [proof.Mutant("blog", "b.py", "op", n, n) for n in range(3)]
    templates = [proof.Mutant("templates", "t.html", "op", 0, 1)]
    assert [m.key for m in proof.interleave([blog, templates])] == [
        "blog:b.py:op:0",
        "templates:t.html:op:0",
        "blog:b.py:op:1",
        "blog:b.py:op:2",
    ]


def test_the_source_fingerprint_ignores_what_cannot_break_a_test(tmp_path: Path) -> None:
    project = Project(tmp_path)
    project.write("pyproject.toml", '[tool.livecov.affected]\nignore = ["docs/*"]\n')
    project.write("docs/notes.md", "one\n")
    project.commit()
    before = proof.source_fingerprint(tmp_path)
    project.write("docs/notes.md", "two\n")
    assert proof.source_fingerprint(tmp_path) == before
    project.edit("helpers.py", "total = y * 2", "total = y * 3")
    assert proof.source_fingerprint(tmp_path) != before


def test_the_report_prints_each_miss_and_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missed = row("flaskr-blog:b.py:op:1", "miss") | {
        "path": "b.py",
        "line": 3,
        "diff": "-a\n+b\n",
        "failing": ["t::b"],
        "explain": SELECTED,
    }
    lines = [
        row("flaskr-blog:b.py:op:0", "caught"),
        missed,
        row("flaskr-blog:b.py:op:0", "caught", selector="testmon", selected=4),
        row("x:t:op:0", "caught", "older"),
    ]
    results = tmp_path / "r.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in lines))
    totals = proof.report(results, "abc")
    printed = capsys.readouterr().out
    assert "MISS [livecov] flaskr-blog:b.py:op:1 (b.py:3)\n-a\n+b\n" in printed
    assert "failing tests the selection did not run:\n  t::b" in printed
    assert totals["livecov"]["mutants"] == 2  # the other source's row is not counted
    assert "| livecov | flaskr-blog | 2 | 2 | 1 | **1** | 0 | 0 | 25 % | 10 % |" in printed
    assert "| livecov | all | 2 | 2 | 1 | **1** | 0 | 0 | 25 % | 10 % |" in printed
    # every test selected: testmon says no why, its selection is the whole suite
    assert "| testmon | all | 1 | 1 | 1 | **0** | 0 | 1 | 100 % | 40 % |" in printed
    assert proof.any_misses(totals)
    assert not proof.any_misses({"testmon": totals["livecov"]})  # testmon's misses: figures
    assert proof.report(results)["livecov"]["mutants"] == 1  # by default, the last row's source


def test_each_tests_time_is_its_phases_from_the_durations_report() -> None:
    report = (
        "============================= slowest durations =============================\n"
        "2.50s setup    tests/e2e/test_a.py::test_x[chromium]\n"
        "0.25s call     tests/e2e/test_a.py::test_x[chromium]\n"
        "0.01s teardown tests/e2e/test_a.py::test_x[chromium]\n"
        "0.00s call     tests/unit/test_b.py::test_y[a b]\n"
        "276 passed in 80.00s\n"
    )
    assert proof.test_durations(report) == {
        "tests/e2e/test_a.py::test_x[chromium]": 2.76,
        "tests/unit/test_b.py::test_y[a b]": 0.0,
    }


def process_state(pid: int) -> str:
    """R, S, Z (dead, not yet reaped)... or "gone"."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def test_an_interrupted_run_stops_the_runs_it_started_in_their_own_sessions() -> None:
    # A stand-in for the harness: it starts a run in a session of its own, as run_timed does.
    harness = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import subprocess, sys, time\n"
            "run = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
            " start_new_session=True)\n"
            "print(run.pid, flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        run = int(harness.stdout.readline())
        assert process_state(run) in ("R", "S")
        proof.stop_children(harness.pid)
        assert process_state(run) in ("Z", "gone")  # killed; its parent has yet to reap it
        assert harness.poll() is None  # what started it is left alone
    finally:
        harness.kill()
        harness.wait()
        harness.stdout.close()


def test_the_copy_runs_its_own_flaskr_and_livecov(tmp_path: Path) -> None:
    copy = proof.ProofCopy(tmp_path)
    path = copy.env["PYTHONPATH"].split(os.pathsep)
    assert path[:2] == [str(tmp_path / "repo/flaskr/src"), str(tmp_path / "repo/livecov/src")]
    assert str(REPO / "livecov/src") not in path
