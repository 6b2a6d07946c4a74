"""``pytest --livecov-affected``: only the tests a change can break run (real pytest runs).

The project is the plugin tests' own (tests/livecov/test_pytest_plugin.py): a live server
whose lines are attributed to the test whose request ran them, committed in git.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from livecov.affected.record import read_record
from tests.livecov.test_pytest_plugin import measure_with_pytest_cov, write_plugin_project
from tests.projects import commit_all, edit, git, head

SQUARE_LINE = "body = str(number * number)"


@pytest.fixture(scope="module")
def measured_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project in git, measured with per-test contexts by pytest-cov (which records).

    Measured once for the module (a pytest run with a live server is the slow part) with
    ``relative_files``, so that each test's copy of it reads the same data as its own.
    This suite's measurement stays off for that run; the runs in the tests are measured.
    """
    project = write_plugin_project(
        tmp_path_factory.mktemp("measured"), coverage_run="relative_files = true\n"
    )
    (project / ".gitignore").write_text(
        ".coverage*\n__pycache__/\n.pytest_cache/\nrunpytest-*\nstdout\nstderr\n"
    )
    commit_all(project, "project")
    measure_with_pytest_cov(project, passed=3)
    return project


@pytest.fixture
def measured(measured_once: Path, pytester: pytest.Pytester) -> Path:
    """This test's own copy of the measured project, in pytester's folder."""
    shutil.copytree(measured_once, pytester.path, dirs_exist_ok=True)
    return pytester.path


def test_pytest_cov_records_the_commit(measured: Path) -> None:
    stored = read_record(measured / ".coverage")
    assert stored is not None
    assert stored.commit == head(measured)
    assert set(stored.files) == {"branchy.py"}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_runs_only_the_tests_a_change_can_break(
    pytester: pytest.Pytester, measured: Path, workers: list[str]
) -> None:
    # A line only test_square's requests ran, in the server; and a test the data never saw.
    edit(measured / "branchy.py", SQUARE_LINE, "body = str(number**2)")
    pytester.makepyfile(test_new="def test_new():\n    pass\n")

    result = pytester.runpytest_subprocess("-p", "no:cov", "--livecov-affected", "-v", *workers)

    result.assert_outcomes(passed=2)
    ran = result.stdout.str()
    assert "test_square.py::test_square" in ran
    assert "test_new.py::test_new" in ran
    assert "test_hello.py::test_hello" not in ran
    since = head(measured)[:12]  # the commit measured, by git's short name
    result.stdout.fnmatch_lines(
        [
            f"livecov affected: 2 of 3 tests affected by 2 changed file(s) since {since}",
            f"*livecov affected: 2 selected, 2 deselected (not affected by the changes since "
            f"{since})",
        ]
    )


@pytest.mark.parametrize("more", [[], ["test_hello.py"]], ids=["alone", "with-other-paths"])
def test_a_test_path_after_the_option_is_a_path(
    pytester: pytest.Pytester, measured: Path, more: list[str]
) -> None:
    # The option's value is optional: argparse takes the next word for it.
    edit(measured / "branchy.py", SQUARE_LINE, "body = str(number**2)")

    result = pytester.runpytest_subprocess(
        "-p", "no:cov", "--livecov-affected", "test_square.py", *more
    )

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*livecov affected: 1 selected, * deselected*"])


def test_a_path_taken_for_the_option_keeps_its_place_before_the_others(
    pytester: pytest.Pytester, measured: Path
) -> None:
    edit(measured / "pyproject.toml", "[tool.livecov]", "# changed\n[tool.livecov]")  # every test
    first, then, last = (
        "test_square.py",
        "test_hello.py::test_seeded_afresh_for_each_test",
        "test_hello.py::test_hello",
    )

    result = pytester.runpytest_subprocess(
        "-p", "no:cov", "-v", "--livecov-affected", first, then, last
    )

    ran = [line.split(" ")[0] for line in result.stdout.lines if " PASSED" in line]
    assert ran == ["test_square.py::test_square", then, last]


def test_shards_split_the_selected_tests(pytester: pytest.Pytester, measured: Path) -> None:
    # Selection runs first (tryfirst), then pytest-split splits what is left: every shard
    # selects the same, and together the shards run each selected test once.
    edit(measured / "branchy.py", SQUARE_LINE, "body = str(number**2)")
    pytester.makepyfile(test_new="def test_new():\n    pass\n")
    ran = []
    for group in ("1", "2"):
        result = pytester.runpytest_subprocess(
            "-p", "no:cov", "--livecov-affected=", "--splits", "2", "--group", group, "-v"
        )
        assert result.ret == 0, result.stdout.str()
        ran += [line.split(" ")[0] for line in result.stdout.lines if " PASSED" in line]
    assert sorted(ran) == ["test_new.py::test_new", "test_square.py::test_square"]


def test_an_unmeasured_change_runs_everything(pytester: pytest.Pytester, measured: Path) -> None:
    edit(measured / "pyproject.toml", "[tool.livecov]", "# changed\n[tool.livecov]")

    result = pytester.runpytest_subprocess("-p", "no:cov", "--livecov-affected=HEAD")

    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(
        [
            "livecov affected: every test is affected since *: pyproject.toml changed and no "
            "test data covers it",
            "*livecov affected: 3 selected, 0 deselected*",
        ]
    )


def test_the_data_and_the_base_can_be_named(pytester: pytest.Pytester, measured: Path) -> None:
    (measured / ".coverage").rename(measured / "main.coverage")
    edit(measured / "branchy.py", SQUARE_LINE, "body = str(number**2)")
    git(measured, "commit", "-qam", "square")

    result = pytester.runpytest_subprocess(
        "-p", "no:cov", "--livecov-affected-data", "main.coverage", "--livecov-affected=HEAD"
    )

    result.assert_outcomes(passed=0)
    result.stdout.fnmatch_lines(
        [
            "livecov: the data was measured at *, not at the base *",
            "livecov affected: 0 of 3 tests affected by 0 changed file(s) since *",
        ]
    )


@pytest.mark.parametrize("configured", [True, False], ids=["pytest.ini", "no-configuration"])
def test_a_data_file_above_the_project_in_two_words_is_refused(
    pytester: pytest.Pytester, measured: Path, configured: bool
) -> None:
    """pytest took it for a test path when it chose its rootdir, before livecov's options
    were known: the rootdir above the project, its configuration missed."""
    if configured:
        (measured / "pytest.ini").write_text("[pytest]\n")
    data = measured.parent / f"{measured.name}.coverage"
    shutil.copy(measured / ".coverage", data)

    refused = pytester.runpytest_subprocess("--livecov-affected", "--livecov-affected-data", data)
    taken = pytester.runpytest_subprocess(
        "-p", "no:cov", f"--livecov-affected-data={data}", "--livecov-affected"
    )

    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    refused.stderr.fnmatch_lines(
        [
            f"ERROR: livecov: pytest took {data} for a test path when it chose its rootdir "
            f"({measured.parent}, not {measured}): write --livecov-affected-data={data}"
        ]
    )
    assert taken.ret == pytest.ExitCode.OK
    taken.stdout.fnmatch_lines([f"rootdir: {measured}", "livecov affected: *"])


def test_a_data_file_beside_the_configuration_is_found_from_a_subfolder(
    pytester: pytest.Pytester, measured: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (measured / "pytest.ini").write_text("[pytest]\n")
    (measured / "sub").mkdir()
    monkeypatch.chdir(measured / "sub")  # the rootdir pytest finds from here: measured

    result = pytester.runpytest_subprocess(
        "-p", "no:cov", "--livecov-affected", "--livecov-affected-data", "../.coverage"
    )

    result.stdout.fnmatch_lines([f"rootdir: {measured}", "livecov affected: *"])


def test_the_data_file_is_where_coverage_py_is_configured_to_write_it(
    pytester: pytest.Pytester, measured: Path
) -> None:
    (measured / ".coverage").rename(measured / ".coverage-main")  # both ignored by git
    (measured / ".coveragerc").write_text("[run]\ndata_file = .coverage-main\n")
    edit(measured / "branchy.py", SQUARE_LINE, "body = str(number**2)")

    result = pytester.runpytest_subprocess("-p", "no:cov", "--livecov-affected")

    result.assert_outcomes(passed=1)


def test_missing_data_is_a_usage_error(pytester: pytest.Pytester, measured: Path) -> None:
    (measured / ".coverage").unlink()
    result = pytester.runpytest_subprocess("-p", "no:cov", "--livecov-affected")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: livecov: no coverage data in .coverage: run the tests measured first "
            "(pytest --cov, livecov run)"
        ]
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_no_test_affected_is_a_success(
    pytester: pytest.Pytester, measured: Path, workers: list[str]
) -> None:
    """Not pytest's "no tests collected" (status 5): the change cannot break a test, and a
    CI job for it must pass."""
    result = pytester.runpytest_subprocess("-p", "no:cov", "--livecov-affected", *workers)

    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*livecov affected: 0 selected, 3 deselected*"])
