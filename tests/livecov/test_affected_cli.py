"""``livecov affected`` and ``livecov record`` on the command line; ``livecov run`` records."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from livecov.affected.record import read_record
from livecov.cli import main
from tests.livecov.affected_project import Project
from tests.livecov.helpers import APPS, RCFILE

BIG = "tests/test_views.py::test_big"


@pytest.fixture
def project_with_apps(tmp_path: Path) -> Path:
    """A git repository with the sample app and the coverage settings of livecov's tests."""
    folder = tmp_path / "apps"
    folder.mkdir()
    shutil.copy(APPS / "branchy.py", folder)
    (folder / ".coveragerc").write_text(RCFILE)
    (folder / ".gitignore").write_text(".coverage*\nhtmlcov/\n__pycache__/\n")
    return folder


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    project = Project(tmp_path)
    project.measure()
    monkeypatch.chdir(tmp_path)
    return project


def livecov(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed ``livecov`` command."""
    script = Path(sys.executable).with_name("livecov")
    return subprocess.run(
        [str(script), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_prints_the_affected_tests_one_per_line(project: Project, capsys) -> None:
    project.edit("views.py", 'return "big"', 'return "BIG"')
    project.write("tests/test_new.py", "def test_new(): pass\n")

    assert main(["affected"]) == 0

    out, err = capsys.readouterr()
    assert out.splitlines() == ["tests/test_new.py", BIG]
    assert err.splitlines() == [
        f"livecov: 2 of 4 tests affected by 2 changed file(s) since {project.select().base[:12]}"
    ]


def test_explain_says_which_lines_selected_each_test(project: Project, capsys) -> None:
    project.edit("views.py", 'return "big"', 'return "BIG"')
    assert main(["affected", "--explain"]) == 0
    assert capsys.readouterr().out.splitlines() == [BIG, "    views.py:12 changed"]


def test_base_and_data_file_and_warnings(project: Project, capsys) -> None:
    project.data.rename(project.root / "main.coverage")
    project.edit("views.py", 'return "big"', 'return "BIG"')
    project.commit()
    assert main(["affected", "--data-file", "main.coverage", "--base", "HEAD~1"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [BIG]
    assert main(["affected", "--data-file", "main.coverage", "--base", "HEAD"]) == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines()[0].startswith("livecov: the data was measured at ")


def test_every_test_when_the_data_cannot_tell(project: Project, capsys) -> None:
    project.write("tests/conftest.py", "import os\n")
    assert main(["affected"]) == 0
    out, err = capsys.readouterr()
    assert len(out.splitlines()) == 4
    assert "livecov: every test is affected since " in err
    assert err.rstrip().endswith("tests/conftest.py changed and no test data covers it")


def test_errors_are_one_line_and_exit_4(project: Project, capsys) -> None:
    assert main(["affected", "--base", "nope"]) == 4
    assert capsys.readouterr().err == (
        "livecov: 'nope' is not a commit of this repository (--base)\n"
    )
    assert main(["affected", "--data-file", "missing.coverage"]) == 4
    assert "livecov: no coverage data in missing.coverage" in capsys.readouterr().err


def test_record_stores_the_commit_and_the_files(project: Project, capsys) -> None:
    project.edit("views.py", 'return "big"', 'return "BIG"')
    head = project.commit()
    assert main(["record"]) == 0
    assert capsys.readouterr().out == (
        f"livecov: .coverage was measured at {head[:12]}, 3 files recorded (for livecov affected)\n"
    )
    stored = read_record(".coverage")
    assert stored is not None
    assert stored.commit == head
    assert main(["affected"]) == 0
    assert capsys.readouterr().out == ""  # recorded at the change: nothing since


def test_the_installed_command_runs_affected_and_record(project: Project) -> None:
    project.edit("views.py", 'return "small"', 'return "SMALL"')
    recorded = livecov("record", "--data-file", ".coverage", cwd=project.root)
    assert recorded.returncode == 0, recorded.stderr
    project.git("checkout", "views.py")  # back to the commit: the change is undone
    listed = livecov("affected", cwd=project.root)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == ["tests/test_views.py::test_small"]


def test_livecov_run_records_the_commit(project_with_apps: Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=project_with_apps, check=True)
    subprocess.run(["git", "add", "-A"], cwd=project_with_apps, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@localhost", "commit", "-qm", "x"],
        cwd=project_with_apps,
        check=True,
    )
    ran = livecov("run", "--app", "branchy:app", "--no-html", "--", "true", cwd=project_with_apps)
    assert ran.returncode == 0, ran.stderr
    stored = read_record(project_with_apps / ".coverage")
    assert stored is not None
    assert "branchy.py" in stored.files
    assert (
        stored.commit
        == subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=project_with_apps, capture_output=True, text=True
        ).stdout.strip()
    )
