"""mutation/covering_tests.py: which tests a mutant runs under ``make mutation
--covering-tests``, and that every doubt runs the session's whole test list."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from coverage import CoverageData

from tests.tools.scripts import REPO, load_script

covering = load_script("mutation/covering_tests.py", "covering_tests")
run = load_script("mutation/run.py", "mutation_run_covering")

SOURCE = (
    "import os\n"  # 1
    "\n"
    "\n"
    "def f(a):\n"  # 4
    "    total = (a +\n"  # 5
    "             1)\n"  # 6: the statement's second line
    "    return total\n"  # 7
    "\n"
    "\n"
    "def g():\n"  # 10
    "    return 2\n"  # 11
)
COMMAND = [".venv/bin/python", "-m", "pytest", "-x", "tests/t_one.py", "tests/t_two.py"]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    for root in ("pristine", "work"):
        (tmp_path / root / "pkg").mkdir(parents=True)
        (tmp_path / root / "pkg" / "m.py").write_text(SOURCE)
    return tmp_path


INDEX = {
    "pkg/m.py": {
        "1": "*",
        "5": ["tests/t_two.py::test_f", "tests/t_one.py::test_f"],
        "7": ["tests/t_two.py::test_f", "tests/t_one.py::test_f"],
        "11": ["tests/t_one.py::test_g"],
    }
}


def _mutate(tree: Path, old: str, new: str) -> None:
    path = tree / "work" / "pkg" / "m.py"
    path.write_text(path.read_text().replace(old, new, 1))


def _tests(tree: Path) -> list[str] | None:
    return covering.tests_for(INDEX, tree / "pristine", tree / "work")


def test_a_mutant_runs_the_tests_that_ran_its_line(tree: Path) -> None:
    _mutate(tree, "return 2", "return 3")
    assert _tests(tree) == ["tests/t_one.py::test_g"]


def test_a_line_inside_a_statement_counts_as_the_statements_first_line(tree: Path) -> None:
    _mutate(tree, "1)", "2)")
    assert _tests(tree) == ["tests/t_one.py::test_f", "tests/t_two.py::test_f"]


def test_a_line_run_without_a_test_context_runs_everything(tree: Path) -> None:
    _mutate(tree, "import os", "import sys")
    assert _tests(tree) is None


def test_a_line_no_test_ran_runs_everything(tree: Path) -> None:
    _mutate(tree, "def g():", "def g(x=1):")
    assert _tests(tree) is None


def test_no_change_found_runs_everything(tree: Path) -> None:
    assert _tests(tree) is None


def test_changed_removed_and_added_lines_name_the_pristine_lines() -> None:
    old = "a\nb\nc\n"
    assert covering.changed_lines(old, "a\nB\nc\n") == {2}
    assert covering.changed_lines(old, "a\nc\n") == {2}
    assert covering.changed_lines(old, "a\nb\nx\nc\n") == {3}


def test_the_selection_replaces_the_test_files_in_their_order() -> None:
    tests = ["tests/t_two.py::test_f", "tests/t_one.py::test_g[1]"]
    assert covering.select(COMMAND, tests) == [
        ".venv/bin/python",
        "-m",
        "pytest",
        "-x",
        "tests/t_one.py::test_g[1]",
        "tests/t_two.py::test_f",
    ]
    assert covering.select(COMMAND, None) == COMMAND


def test_a_single_test_the_command_names_is_replaced_too() -> None:
    command = [*COMMAND[:4], "tests/t_one.py::test_g", "tests/t_two.py"]
    assert covering.select(command, ["tests/t_two.py::test_f"]) == [
        *COMMAND[:4],
        "tests/t_two.py::test_f",
    ]


def test_the_index_names_each_lines_tests_and_marks_context_free_lines(tmp_path: Path) -> None:
    module = tmp_path / "pkg" / "m.py"
    module.parent.mkdir()
    module.write_text(SOURCE)
    config = tmp_path / "session.toml"
    config.write_text('[cosmic-ray]\nmodule-path = ["pkg/m.py"]\n')
    data = CoverageData(str(tmp_path / ".coverage"))
    data.set_context("")
    data.add_lines({str(module): [1, 4]})  # at import
    data.set_context("tests/t_one.py::test_f|setup")
    data.add_lines({str(module): [5]})
    data.set_context("tests/t_two.py::test_f[a|b]|run")
    data.add_lines({str(module): [5, 7]})
    data.write()
    index = covering.build_index(tmp_path / ".coverage", config, tmp_path)
    assert index == {
        "pkg/m.py": {
            "1": "*",
            "4": "*",
            "5": ["tests/t_one.py::test_f", "tests/t_two.py::test_f[a|b]"],
            "7": ["tests/t_two.py::test_f[a|b]"],
        }
    }


def test_run_execs_the_command_with_the_selected_tests(tree: Path) -> None:
    index = tree / "index.json"
    index.write_text(json.dumps(INDEX))
    _mutate(tree, "return 2", "return 3")
    printer = [sys.executable, "-c", "import sys; print(sys.argv[1:])", "tests/t_one.py"]
    tool = REPO / "mutation" / "covering_tests.py"
    out = subprocess.run(
        [sys.executable, tool, "run", index, tree / "pristine", "--", *printer],
        cwd=tree / "work",
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out == "['tests/t_one.py::test_g']\n"


def test_a_wrong_call_prints_the_usage_and_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, REPO / "mutation" / "covering_tests.py", "index"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "covering_tests.py run INDEX.json PRISTINE_DIR" in result.stderr


def test_the_recording_run_is_every_test_under_coverage_with_test_contexts() -> None:
    command = ".venv/bin/python -m pytest -x -q -p no:cov -p no:livecov tests/t.py"
    assert run.recording_command(command) == [
        ".venv/bin/python",
        "-m",
        "coverage",
        "run",
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cov",
        "tests/t.py",
        "--livecov-test-contexts",
        "-p",
        "mutation.covering_tests",
    ]


def test_a_test_command_that_is_not_pytest_cannot_cover() -> None:
    with pytest.raises(run.SetupError, match="needs a test command `PYTHON -m pytest"):
        run.recording_command("make check")


def test_keep_copies_the_pristine_folders_too(tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    (logs / "s.pristine" / "pkg").mkdir(parents=True)
    (logs / "s.pristine" / "pkg" / "m.py").write_text(SOURCE)
    (logs / "s.log").write_text("log")
    run.keep_logs(logs, tmp_path / "kept")
    assert (tmp_path / "kept" / "s.pristine" / "pkg" / "m.py").read_text() == SOURCE
    assert (tmp_path / "kept" / "s.log").read_text() == "log"


def test_a_process_a_test_starts_records_under_that_test(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What patch = subprocess hands a child, as a test sees it; the child here reads it back.
    base = {"context": None, "branch": True}
    serialized = base64.b64encode(json.dumps(base).encode()).decode()
    monkeypatch.setenv(covering.CHILD_CONFIG, serialized)
    pytester.makepyfile(
        test_child="""
        import base64, json, os, subprocess, sys

        def test_starts_a_child():
            out = subprocess.run(
                [sys.executable, "-c", "import os; print(os.environ['COVERAGE_PROCESS_CONFIG'])"],
                capture_output=True, text=True, check=True,
            ).stdout
            print("CHILD", json.loads(base64.b64decode(out))["context"])
        """
    )
    monkeypatch.setenv("PYTHONPATH", str(REPO))
    result = pytester.runpytest_subprocess(
        "-p", "mutation.covering_tests", "-p", "no:playwright", "-p", "no:livecov", "-s"
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*CHILD test_child.py::test_starts_a_child|child*"])
    assert json.loads(base64.b64decode(os.environ[covering.CHILD_CONFIG])) == base
