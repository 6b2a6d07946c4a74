"""mutation/run.py's --retest: which mutants are tested again, and when it refuses."""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _load_runner():
    spec = importlib.util.spec_from_file_location("mutation_run", REPO / "mutation" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


run = _load_runner()

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


def _work_db(path: Path, specs: list[tuple[str, str, int]], done: set[int] = frozenset()) -> None:
    """A database with cosmic-ray 8's tables, one job per spec; ``done`` jobs have a result."""
    with sqlite3.connect(path) as con:
        con.executescript(
            "CREATE TABLE work_items (job_id VARCHAR PRIMARY KEY);"
            "CREATE TABLE mutation_specs (module_path VARCHAR, operator_name VARCHAR,"
            " occurrence INTEGER, job_id VARCHAR PRIMARY KEY);"
            "CREATE TABLE work_results (worker_outcome VARCHAR, job_id VARCHAR PRIMARY KEY);"
        )
        for i, (module, op, occ) in enumerate(specs):
            con.execute("INSERT INTO work_items VALUES (?)", (f"job{i}",))
            con.execute(
                "INSERT INTO mutation_specs VALUES (?, ?, ?, ?)", (module, op, occ, f"job{i}")
            )
            if i in done:
                con.execute("INSERT INTO work_results VALUES ('SKIPPED', ?)", (f"job{i}",))


def test_keep_only_leaves_exactly_the_named_mutants(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    specs = [("pkg/m.py", "Add_Sub", 0), ("pkg/m.py", "Add_Sub", 1), ("pkg/m.py", "Eq_NotEq", 0)]
    _work_db(db, specs, done={2})
    kept = run.keep_only(db, {("pkg/m.py", "Add_Sub", 1), ("pkg/m.py", "Eq_NotEq", 0)})
    assert kept == 2
    with sqlite3.connect(db) as con:
        assert {r[0] for r in con.execute("SELECT job_id FROM work_items")} == {"job1", "job2"}
        assert con.execute("SELECT COUNT(*) FROM mutation_specs").fetchone() == (2,)
        assert con.execute("SELECT job_id FROM work_results").fetchall() == [("job2",)]


def test_keep_only_counts_what_is_no_longer_generated(tmp_path: Path) -> None:
    db = tmp_path / "s.sqlite"
    _work_db(db, [("pkg/m.py", "Add_Sub", 0)])
    assert run.keep_only(db, {("pkg/m.py", "Add_Sub", 0), ("pkg/m.py", "Add_Sub", 7)}) == 1


def _session(name: str = "s") -> object:
    return run.Session(name=name, package="p", modules=["pkg/m.py"], tests=[], timeout=1)


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
    _, sessions = run.load_config()
    missing = [
        f"{s.name}: {pattern}"
        for s in sessions
        for pattern in s.modules + s.tests
        if not any(REPO.glob(pattern))
    ]
    assert missing == []
