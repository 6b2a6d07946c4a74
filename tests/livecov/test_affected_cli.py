"""``livecov affected`` and ``livecov record`` on the command line; ``livecov run`` records."""

from __future__ import annotations

from pathlib import Path

from livecov.affected.record import read_record
from livecov.cli import main
from tests.livecov.affected_project import Project
from tests.livecov.helpers import livecov_command
from tests.projects import commit_all

BIG = "tests/test_views.py::test_big"


def test_prints_the_affected_tests_one_per_line(repo: Project, capsys) -> None:
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    repo.write("tests/test_new.py", "def test_new(): pass\n")

    assert main(["affected"]) == 0

    out, err = capsys.readouterr()
    assert out.splitlines() == ["tests/test_new.py", BIG]
    assert err.splitlines() == [
        f"livecov: 2 of 4 tests affected by 2 changed file(s) since {repo.select().base[:12]}"
    ]


def test_explain_says_which_lines_selected_each_test(repo: Project, capsys) -> None:
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    assert main(["affected", "--explain"]) == 0
    assert capsys.readouterr().out.splitlines() == [BIG, "    views.py:12 changed"]


def test_base_and_data_file_and_warnings(repo: Project, capsys) -> None:
    repo.data.rename(repo.root / "main.coverage")
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    repo.commit()
    assert main(["affected", "--data-file", "main.coverage", "--base", "HEAD~1"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [BIG]
    assert main(["affected", "--data-file", "main.coverage", "--base", "HEAD"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[0].startswith("livecov: the data was measured at ")


def test_every_test_when_the_data_cannot_tell(repo: Project, capsys) -> None:
    repo.write("tests/conftest.py", "import os\n")
    assert main(["affected"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 4
    assert "livecov: every test is affected since " in err
    assert err.rstrip().endswith("tests/conftest.py changed and no test data covers it")


def test_errors_are_one_line_and_exit_4(repo: Project, capsys) -> None:
    assert main(["affected", "--base", "nope"]) == 4
    assert capsys.readouterr().err == (
        "livecov: 'nope' is not a commit of this repository (--base)\n"
    )
    assert main(["affected", "--data-file", "missing.coverage"]) == 4
    assert "livecov: no coverage data in missing.coverage" in capsys.readouterr().err


def test_record_stores_the_commit_and_the_files(repo: Project, capsys) -> None:
    repo.edit("views.py", 'return "big"', 'return "BIG"')
    head = repo.commit()
    assert main(["record"]) == 0
    assert capsys.readouterr().out == (
        f"livecov: .coverage was measured at {head[:12]}, 3 files recorded (for livecov affected)\n"
    )
    stored = read_record(".coverage")
    assert stored is not None
    assert stored.commit == head
    assert main(["affected"]) == 0
    assert capsys.readouterr().out == ""  # recorded at the change: nothing since


def test_livecov_run_records_the_commit(project: Path) -> None:
    commit = commit_all(project)
    ran = livecov_command("run", "--app", "branchy:app", "--no-html", "--", "true", cwd=project)
    assert ran.returncode == 0, ran.stderr
    stored = read_record(project / ".coverage")
    assert stored is not None
    assert "branchy.py" in stored.files
    assert stored.commit == commit
