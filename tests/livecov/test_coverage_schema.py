"""An unknown coverage.py data schema stops livecov in one line, never with wrong numbers.

livecov reads and writes coverage.py's SQLite file only through ``livecov.coverage_data``,
which checks ``coverage_schema``'s version first: each access is tried on real coverage data
(``coverage run`` with branches and a context) whose version is doctored.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import coverage.sqldata
import pytest

from livecov.coverage_data import (
    KNOWN_SCHEMA_VERSION,
    add_context_markers,
    arc_ends_by_context,
    read_data,
    read_meta,
    restart_stray_arcs,
    write_meta,
)
from livecov.errors import EXIT_COVERAGE_LOST, CoverageSchemaError
from livecov.measure import prepare_server_file

SCRIPT = "def choose(x):\n    if x:\n        return 1\n    return 2\n\n\nchoose(1)\n"
UNKNOWN = 99
REFUSAL = (
    f"is coverage.py data of schema version {UNKNOWN}, which livecov does not know "
    f"(it reads version {KNOWN_SCHEMA_VERSION}): measure with a coverage.py release livecov "
    "supports, or upgrade livecov"
)


@pytest.fixture
def data_file(tmp_path: Path) -> Path:
    """Real coverage data: ``coverage run --branch`` of a script, under a test's context."""
    (tmp_path / "script.py").write_text(SCRIPT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", "--branch", "--context=t.py::one", "script.py"],
        cwd=tmp_path,
        env=env,
        check=True,
    )
    return tmp_path / ".coverage"


def doctor(data_file: Path, version: int) -> None:
    with contextlib.closing(sqlite3.connect(data_file)) as db, db:
        db.execute("update coverage_schema set version = ?", (version,))


def rows(data_file: Path, query: str) -> list[Any]:
    with contextlib.closing(sqlite3.connect(data_file)) as db:
        return db.execute(query).fetchall()


def test_livecov_knows_the_schema_of_the_coverage_py_installed(data_file: Path) -> None:
    assert coverage.sqldata.SCHEMA_VERSION == KNOWN_SCHEMA_VERSION
    assert rows(data_file, "select version from coverage_schema") == [(KNOWN_SCHEMA_VERSION,)]
    write_meta(data_file, "livecov.test", "kept")
    assert read_meta(data_file, "livecov.test") == "kept"
    add_context_markers(data_file, str.upper)
    assert read_data(data_file).measured_contexts() == {"t.py::one", "T.PY::ONE"}
    script = str(data_file.with_name("script.py"))
    assert arc_ends_by_context(data_file, script) == {
        number: ["t.py::one"] for number in (1, 2, 3, 7)
    }


ACCESSES: dict[str, Callable[[Path], object]] = {
    "read": read_data,
    "markers": lambda path: add_context_markers(path, str.upper),
    "write meta": lambda path: write_meta(path, "livecov.test", "x"),
    "read meta": lambda path: read_meta(path, "livecov.test"),
    "arc ends": lambda path: arc_ends_by_context(path, "script.py"),
    "repair": lambda path: restart_stray_arcs(path, "livecov.jinja.JinjaPlugin"),
    "server file": prepare_server_file,
}


@pytest.mark.parametrize("access", ACCESSES.values(), ids=ACCESSES.keys())
def test_every_access_refuses_an_unknown_schema_and_changes_nothing(
    data_file: Path, access: Callable[[Path], object]
) -> None:
    doctor(data_file, UNKNOWN)
    before = rows(data_file, "select * from context"), rows(data_file, "select * from meta")
    with pytest.raises(CoverageSchemaError) as refused:
        access(data_file)
    assert str(refused.value) == f"{data_file} {REFUSAL}"
    assert refused.value.exit_status == EXIT_COVERAGE_LOST
    assert (rows(data_file, "select * from context"), rows(data_file, "select * from meta")) == (
        before
    )


def test_the_commands_refuse_an_unknown_schema_in_one_line(data_file: Path) -> None:
    doctor(data_file, UNKNOWN)
    folder = data_file.parent
    subprocess.run(["git", "init", "-q"], cwd=folder, check=True)  # livecov record needs git
    livecov = str(Path(sys.executable).with_name("livecov"))
    commands = {
        "livecov.jinja": [sys.executable, "-m", "livecov.jinja", ".coverage"],
        "livecov": [livecov, "record", "--data-file", ".coverage"],
    }
    for prefix, command in commands.items():
        done = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=False)
        assert (done.returncode, done.stdout) == (EXIT_COVERAGE_LOST, "")
        assert done.stderr.splitlines() == [f"{prefix}: .coverage {REFUSAL}"]
