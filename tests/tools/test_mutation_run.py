"""mutation/run.py: its sessions (mutation/sessions/*.toml), and --retest: which mutants are
tested again (the retest filter, on a real cosmic-ray session), and when it refuses."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.tools.scripts import REPO, load_script

run = load_script("mutation/run.py", "mutation_run")

SOURCE = "def f(a, b):\n    x = 1\n    return a + b\n\n\ndef g():\n    return 2\n"
DIFF_ADD = (
    "--- mutation diff ---\n--- a/pkg/m.py\n+++ b/pkg/m.py\n@@ -1,3 +1,3 @@\n"
    " def f(a, b):\n     x = 1\n-    return a + b\n+    return a - b\n"
)


def _item(op: str, occurrence: int, path: str = "pkg/m.py") -> dict:
    return {"mutations": [{"module_path": path, "operator_name": op, "occurrence": occurrence}]}


def _result(test_outcome: str, diff: str = DIFF_ADD, worker: str = "normal") -> dict:
    return {"worker_outcome": worker, "test_outcome": test_outcome, "output": "", "diff": diff}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "m.py").write_text(SOURCE)
    return tmp_path


def test_a_diff_that_still_applies_has_no_mismatch(tree: Path) -> None:
    assert run.diff_mismatch(DIFF_ADD, tree) is None


def test_a_changed_line_is_reported_with_its_place(tree: Path) -> None:
    (tree / "pkg" / "m.py").write_text(SOURCE.replace("a + b", "b + a"))
    assert run.diff_mismatch(DIFF_ADD, tree) == "pkg/m.py:3 is no longer 'return a + b'"


def test_a_changed_context_line_is_a_mismatch_too(tree: Path) -> None:
    (tree / "pkg" / "m.py").write_text(SOURCE.replace("x = 1", "x = 2"))
    assert run.diff_mismatch(DIFF_ADD, tree) == "pkg/m.py:2 is no longer 'x = 1'"


def test_a_shorter_file_is_a_mismatch(tree: Path) -> None:
    (tree / "pkg" / "m.py").write_text("def f(a, b):\n")
    assert run.diff_mismatch(DIFF_ADD, tree) == "pkg/m.py:2 is no longer 'x = 1'"


def test_only_survivors_and_failures_are_tested_again() -> None:
    assert not run.needs_retest({"result": _result("killed")})
    assert not run.needs_retest(
        {"result": _result("killed", worker="normal") | {"output": "timeout"}}
    )
    assert not run.needs_retest({"result": _result("", worker="skipped")})
    assert run.needs_retest({"result": _result("survived")})
    assert run.needs_retest({"result": _result("incompetent")})
    assert run.needs_retest({"result": _result("", worker="exception")})
    assert run.needs_retest({"result": None})


def test_a_retest_keeps_the_survivors_new_results_and_every_other_earlier_one() -> None:
    previous = [
        {"item": _item("Add_Sub", 0), "result": _result("survived")},
        {"item": _item("Add_Sub", 1), "result": _result("killed")},
    ]
    now = [
        {"item": _item("Add_Sub", 0), "result": _result("killed")},
        {"item": _item("Add_Sub", 1), "result": _result("", worker="skipped")},
    ]
    assert run.merge_retest(now, previous) == [now[0], previous[1]]
    assert run.merge_retest(now, None) == now


@pytest.fixture(scope="module")
def cosmic_ray(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """cosmic-ray's venv, as make mutation makes it (mutation/requirements.txt)."""
    where = tmp_path_factory.mktemp("cosmic-ray")
    return run.make_tool_venv(where, run.find_uv(), where / "setup.log")


def _session_db(tools: Path, tree: Path) -> Path:
    """A cosmic-ray session of pkg/m.py, initialised from a config like the checked-in ones.

    cosmic-ray's init takes seconds; a session of a source initialised before is a copy of
    that one's fresh database (the database names the module by its relative path)."""
    db = tree / "session.sqlite"
    source = (tree / "pkg" / "m.py").read_text()
    fresh = tools.parent / f"fresh-{hashlib.sha256(source.encode()).hexdigest()[:16]}.sqlite"
    if not fresh.exists():
        config = tree / "session.toml"
        config.write_text(
            '[cosmic-ray]\nmodule-path = "pkg/m.py"\ntimeout = 10.0\nexcluded-modules = []\n'
            'test-command = "true"\n[cosmic-ray.distributor]\nname = "local"\n'
        )
        subprocess.run([tools / "cosmic-ray", "init", config, db], cwd=tree, check=True)
        shutil.copy(db, fresh)
    shutil.copy(fresh, db)
    return db


def _pending(tools: Path, db: Path) -> set[tuple[str, str, int]]:
    dump = subprocess.run(
        [tools / "cosmic-ray", "dump", db], capture_output=True, text=True, check=True
    ).stdout
    items = [json.loads(line) for line in dump.splitlines()]
    return {run.mutant_key(item) for item, result in items if result is None}


def _retest_filter(tools: Path, db: Path, keep: list[tuple[str, str, int]]) -> int:
    keys = db.with_suffix(".json")
    keys.write_text(json.dumps(keep))
    command = [tools / "python", REPO / run.RETEST_FILTER, db, "--keep", keys]
    return subprocess.run(command, capture_output=True, check=False).returncode


def test_the_retest_filter_leaves_exactly_the_survivors_to_test(
    cosmic_ray: Path, tree: Path
) -> None:
    db = _session_db(cosmic_ray, tree)
    every = sorted(_pending(cosmic_ray, db))
    assert len(every) > 2
    survivors = [every[0], every[-1]]
    assert _retest_filter(cosmic_ray, db, survivors) == 0
    assert _pending(cosmic_ray, db) == set(survivors)


def test_the_retest_filter_refuses_a_survivor_no_longer_generated(
    cosmic_ray: Path, tree: Path
) -> None:
    db = _session_db(cosmic_ray, tree)
    gone = ("pkg/m.py", "core/NoSuchOperator", 0)
    assert _retest_filter(cosmic_ray, db, [gone]) == 3


def _session(name: str = "s") -> object:
    return run.Session(
        name=name,
        config=Path(f"{name}.toml"),
        package="p",
        modules=["pkg/m.py"],
        test_command="true",
        timeout=1,
    )


def _saved(tmp_path: Path, sessions: list[dict]) -> Path:
    path = tmp_path / "results.json"
    path.write_text(json.dumps(sessions))
    return path


def test_load_previous_attaches_results_when_the_source_is_unchanged(
    tmp_path: Path, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "REPO", tree)
    results = [{"item": _item("Add_Sub", 0), "result": _result("survived")}]
    session = _session()
    run.load_previous(
        _saved(tmp_path, [{"session": "s", "error": None, "results": results}]), [session]
    )
    assert session.previous == results


@pytest.mark.parametrize(
    ("saved", "message"),
    [
        ([], "has no results for session s"),
        ([{"session": "s", "error": "exec failed", "results": []}], "did not finish there"),
        ([{"session": "s", "error": None, "results": []}], "did not finish there"),
        ({"not": "a list"}, "not a results file of --json"),
    ],
)
def test_load_previous_refuses_what_cannot_be_retested(
    tmp_path: Path, tree: Path, monkeypatch: pytest.MonkeyPatch, saved: object, message: str
) -> None:
    monkeypatch.setattr(run, "REPO", tree)
    with pytest.raises(run.SetupError, match=message):
        run.load_previous(_saved(tmp_path, saved), [_session()])


def test_load_previous_refuses_when_the_source_changed(
    tmp_path: Path, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "REPO", tree)
    (tree / "pkg" / "m.py").write_text(SOURCE.replace("a + b", "a * b"))
    results = [{"item": _item("Add_Sub", 0), "result": _result("killed")}]
    saved = _saved(tmp_path, [{"session": "s", "error": None, "results": results}])
    with pytest.raises(run.SetupError, match=r"pkg/m.py:3 is no longer .*run it in full"):
        run.load_previous(saved, [_session()])


def test_retest_with_a_missing_file_exits_2_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run.main(["--session", "livecov-browser", "--retest", str(tmp_path / "none.json")])
    assert code == 2
    assert "not a results file of --json" in capsys.readouterr().err


def test_saved_results_load_back_for_retest(
    tmp_path: Path, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "REPO", tree)
    done = _session("done")
    done.results = [{"item": _item("Add_Sub", 0), "result": _result("survived")}]
    path = tmp_path / "saved.json"
    run.write_json(path, [done])
    again = _session("done")
    run.load_previous(path, [again])
    assert again.previous == done.results


def test_a_diff_ending_past_the_last_newline_still_applies(tree: Path) -> None:
    # cosmic-ray's diffs of a file's last lines have one more, empty, context line.
    diff = (
        "--- mutation diff ---\n--- a/pkg/m.py\n+++ b/pkg/m.py\n@@ -6,3 +6,3 @@\n"
        " def g():\n-    return 2\n+    return 3\n \n"
    )
    assert run.diff_mismatch(diff, tree) is None


def test_every_session_names_modules_and_tests_that_exist() -> None:
    # A test file renamed or merged away stops its session at the baseline, an hour into
    # `make mutation`; this says so at once.
    sessions = run.load_sessions()
    tests = {s.name: [w for w in s.test_command.split() if w.endswith(".py")] for s in sessions}
    missing = [
        f"{s.name}: {pattern}"
        for s in sessions
        for pattern in s.modules + tests[s.name]
        if not any(REPO.glob(pattern))
    ]
    assert missing == []
    assert all(tests.values())


def test_every_session_counts_for_a_package_with_a_target() -> None:
    targets = run.load_targets()
    assert {s.package for s in run.load_sessions()} == set(targets)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[cosmic-ray]\nmodule-path = [\n", "Invalid value"),
        ('[cosmic-ray]\nmodule-path = "m.py"\n', "no 'make-mutation' key"),
    ],
)
def test_a_session_file_that_is_not_a_session_is_named_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, problem: str
) -> None:
    monkeypatch.setattr(run, "REPO", tmp_path)
    (tmp_path / "broken.toml").write_text(text)
    with pytest.raises(run.SetupError, match=rf"^broken.toml: not a session: .*{problem}"):
        run.load_sessions(tmp_path)


# Modules with nothing cosmic-ray could mutate: an entry point's two lines, a docstring.
NOTHING_TO_MUTATE = {
    "livecov/src/livecov/__main__.py",
    "livecov/src/livecov/jinja/__main__.py",
    "livecov/src/livecov/server/__init__.py",
}


def test_every_source_module_is_mutated_by_a_session() -> None:
    # A module added without a session is never mutated, and the package's score says
    # nothing about it (livecov/affected/ went unmeasured that way).
    mutated = {
        str(path.relative_to(REPO))
        for session in run.load_sessions()
        for pattern in session.modules
        for path in REPO.glob(pattern)
    }
    sources = {
        str(path.relative_to(REPO))
        for package in ("flaskr", "livecov")
        for path in (REPO / package / "src").rglob("*.py")
    }
    assert sources - mutated == NOTHING_TO_MUTATE


def test_the_sample_filter_keeps_one_mutant_in_n_the_same_on_every_run(
    cosmic_ray: Path, tree: Path
) -> None:
    db = _session_db(cosmic_ray, tree)
    every = sorted(_pending(cosmic_ray, db))
    samples = []
    for _ in range(2):
        db.unlink()
        db = _session_db(cosmic_ray, tree)
        command = [cosmic_ray / "python", REPO / run.SAMPLE_FILTER, db, "--every", "2"]
        subprocess.run(command, check=True)
        samples.append(_pending(cosmic_ray, db))
    assert len(every) > 3
    assert samples[0] == samples[1]
    assert len(samples[0]) == (len(every) + 1) // 2
    assert samples[0] < set(every)


def test_samples_with_other_starts_are_disjoint_and_together_the_whole(
    cosmic_ray: Path, tree: Path
) -> None:
    db = _session_db(cosmic_ray, tree)
    every = _pending(cosmic_ray, db)
    samples = []
    for start in ("0", "1", "2"):
        db.unlink()
        db = _session_db(cosmic_ray, tree)
        command = [cosmic_ray / "python", REPO / run.SAMPLE_FILTER, db, "--every", "3"]
        subprocess.run([*command, "--start", start], check=True)
        samples.append(_pending(cosmic_ray, db))
    assert all(samples)
    assert sum(map(len, samples)) == len(every)
    assert set().union(*samples) == every


def test_the_sessions_sample_and_start_reach_the_filter(tmp_path: Path) -> None:
    session = _session()
    session.sample, session.sample_start = 21, 10
    command = run.sample_command(session, tmp_path / "tools", tmp_path, tmp_path / "s.sqlite")
    assert command[1] == str(tmp_path / run.SAMPLE_FILTER)
    assert command[-4:] == ["--every", "21", "--start", "10"]


def test_a_start_outside_the_sample_is_refused_by_the_filter(cosmic_ray: Path, tree: Path) -> None:
    db = _session_db(cosmic_ray, tree)
    before = _pending(cosmic_ray, db)
    command = [cosmic_ray / "python", REPO / run.SAMPLE_FILTER, db, "--every", "3"]
    done = subprocess.run([*command, "--start", "3"], capture_output=True, text=True)
    assert done.returncode != 0
    assert "--start must be 0 to 2, not 3" in done.stderr
    assert _pending(cosmic_ray, db) == before


def _sampled_session(killed: int, survived: int, sample: int, start: int = 0) -> object:
    session = _session()
    session.sample = sample
    session.sample_start = start
    session.results = [{"result": _result("killed")}] * killed
    for i in range(survived):
        mutant = {"module_path": "pkg/m.py", "start_pos": [3, 4], "operator_name": "Add_Sub"}
        item = {"mutations": [mutant | {"occurrence": i, "definition_name": "f"}]}
        session.results.append({"item": item, "result": _result("survived")})
    return session


def test_a_sampled_score_is_reported_with_its_95_percent_interval() -> None:
    out = io.StringIO()
    run.report([_sampled_session(9, 1, sample=3)], {"p": 80.0}, out=out)
    # 9 of 10: the Wilson interval is 59.6-98.2 % (tabulated).
    assert "9/10 killed = 90.0% (target 80%, a 1-in-3 sample: 95% interval 59.6-98.2%)" in (
        out.getvalue()
    )


def test_a_sample_with_another_start_says_which() -> None:
    out = io.StringIO()
    run.report([_sampled_session(9, 1, sample=3, start=2)], {"p": 80.0}, out=out)
    assert "a 1-in-3 sample (start 2): 95% interval 59.6-98.2%" in out.getvalue()


def test_a_full_run_reports_no_interval() -> None:
    out = io.StringIO()
    run.report([_sampled_session(9, 1, sample=1)], {"p": 80.0}, out=out)
    assert "9/10 killed = 90.0% (target 80%): OK" in out.getvalue()


def test_the_interval_stays_within_0_and_100() -> None:
    assert run.wilson_interval(10, 10)[1] == 100.0
    assert run.wilson_interval(0, 10)[0] == 0.0
    assert run.wilson_interval(0, 0) == (0.0, 100.0)


def test_a_retest_keeps_the_sample_of_the_run_it_retests(
    tmp_path: Path, tree: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(run, "REPO", tree)
    results = [{"item": _item("Add_Sub", 0), "result": _result("survived")}]
    session = _session()
    saved = [{"session": "s", "error": None, "sample": 3, "sample_start": 1, "results": results}]
    run.load_previous(_saved(tmp_path, saved), [session])
    assert (session.sample, session.sample_start) == (3, 1)


def test_sample_below_one_or_with_retest_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (["--sample", "0"], ["--sample", "2", "--retest", "r.json"]):
        with pytest.raises(SystemExit) as exit_:
            run.main(argv)
        assert exit_.value.code == 2
    assert "--sample must be 1 or more" in capsys.readouterr().err


def test_a_sample_start_outside_0_to_n_minus_1_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for argv in (["--sample-start", "1"], ["--sample", "3", "--sample-start", "3"]):
        with pytest.raises(SystemExit) as exit_:
            run.main(argv)
        assert exit_.value.code == 2
        assert "--sample-start must be 0 to N-1 for --sample N" in capsys.readouterr().err


def test_a_resumed_session_is_recognised_by_its_mutants(cosmic_ray: Path, tree: Path) -> None:
    kept = _session_db(cosmic_ray, tree)
    again = kept.rename(tree / "kept.sqlite")
    assert run.mutants(_session_db(cosmic_ray, tree)) == run.mutants(again)
    (tree / "session.sqlite").unlink()
    (tree / "pkg" / "m.py").write_text(SOURCE.replace("x = 1", "x = 1\n    y = x + 2"))
    assert run.mutants(_session_db(cosmic_ray, tree)) != run.mutants(again)


def test_a_kept_databases_sample_is_read_back(cosmic_ray: Path, tree: Path) -> None:
    db = _session_db(cosmic_ray, tree)
    assert run.kept_sample(db) == 1
    command = [cosmic_ray / "python", REPO / run.SAMPLE_FILTER, db, "--every", "3"]
    subprocess.run(command, check=True)
    assert run.kept_sample(db) == 3


def test_resume_without_a_kept_run_or_with_retest_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run.main(["--session", "livecov-browser", "--resume", str(tmp_path)]) == 2
    assert f"--resume {tmp_path}: no kept run of livecov-browser" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        run.main(["--resume", str(tmp_path), "--retest", "r.json"])
    assert exit_.value.code == 2
    assert "--resume goes on with a kept run" in capsys.readouterr().err
