"""``livecov run -- pytest ...``: the plugin's fixtures use the run's measured server and
start none, so the numbers are the ones ``pytest --cov --cov-context=test`` gives.

Each test measures the same tests both ways, in a throw-away project, with a real server,
real pytest processes and (for the browser tests) a real Chromium.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from livecov.cli import main
from livecov.pytest_plugin import reports_left_to_the_run
from tests.livecov.helpers import fastapi_api_project
from tests.livecov.test_pytest_plugin import PYTEST_TIMEOUT, write_plugin_project

# Every way a test reaches the server: a page only (base_url), live_server, and a test
# reading the server's temporary folder. The seed hook counts the resets; each test sees
# its own.
TESTS_BROWSER = """\
import pathlib


def test_hello_page(page):
    page.goto("/hello")
    assert page.locator("body").inner_text() == "Hello"


def test_seeded_page(page):
    page.goto("/seeded")
    assert page.locator("body").inner_text() == "seeded 3"  # set up, reset, reset


def test_square(live_server, page):
    page.goto(live_server.url + "/square?n=5")
    assert page.locator("body").inner_text() == "25"
    assert (pathlib.Path(live_server.tmpdir) / "seed.txt").read_text() == "seeded 4"
"""


# Chromium asks each page's server for /favicon.ico on its own, after the page loads, and
# only if the page is still open: which test's context that request lands in (if any) is
# the browser's timing, the same with or without livecov. Answered outside the measured
# code, it cannot make the two runs differ.
BROWSER_APP = """\
from branchy import app as branchy_app


def app(environ, start_response):
    if environ.get("PATH_INFO") == "/favicon.ico":
        start_response("204 No Content", [])
        return []
    return branchy_app(environ, start_response)
"""


def write_browser_project(folder: Path) -> Path:
    project = write_plugin_project(folder)
    (project / "browser_app.py").write_text(BROWSER_APP)
    pyproject = project / "pyproject.toml"
    text = pyproject.read_text().replace('app = "branchy:app"', 'app = "browser_app:app"')
    pyproject.write_text(
        text.replace('omit = ["test_*.py"', 'omit = ["browser_app.py", "test_*.py"')
    )
    (project / "test_browser.py").write_text(TESTS_BROWSER)
    return project


def unmeasured_env() -> dict[str, str]:
    """This environment without the suite's own measurement: the project measures itself."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS")}


def measured(project: Path) -> tuple[dict[str, dict[int, set[str]]], float]:
    """The project's data: each measured file's lines with their contexts, and the total."""
    data = coverage.CoverageData(str(project / ".coverage"))
    data.read()
    lines = {
        Path(path).name: {n: set(c) for n, c in data.contexts_by_lineno(path).items()}
        for path in data.measured_files()
    }
    cov = coverage.Coverage(data_file=str(project / ".coverage"))
    cov.load()
    total = cov.report(file=io.StringIO())
    return lines, total


def with_pytest_cov(project: Path, *args: str) -> tuple[dict[str, dict[int, set[str]]], float]:
    """Measured by ``pytest --cov --cov-context=test``: the plugin starts the server."""
    command = [sys.executable, "-m", "pytest", "--cov", "--cov-context=test", "--cov-report="]
    completed = subprocess.run(
        [*command, *args], cwd=project, env=unmeasured_env(), capture_output=True, text=True,
        timeout=PYTEST_TIMEOUT,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    result = measured(project)
    (project / ".coverage").unlink()
    return result


def with_livecov_run(
    project: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str], *args: str
) -> tuple[dict[str, dict[int, set[str]]], float, str]:
    """Measured by ``livecov run -- pytest``, in this process (the suite measures it, and
    the pytest it starts); also what it printed."""
    monkeypatch.chdir(project)
    status = main(["run", "--no-html", "--", sys.executable, "-m", "pytest", "-p", "no:cov", *args])
    out = capfd.readouterr()
    assert status == 0, out.out + out.err
    return (*measured(project), out.out)


def test_browser_tests_in_livecov_run_give_pytest_covs_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    project = write_browser_project(tmp_path)
    expected_lines, expected_total = with_pytest_cov(project, "test_browser.py")

    lines, total, out = with_livecov_run(project, monkeypatch, capfd, "test_browser.py", "-v")

    assert lines == expected_lines
    assert total == expected_total
    assert "3 passed" in out
    assert {c for by_line in lines.values() for c in set().union(*by_line.values())} == {
        "live-server",
        "test_browser.py::test_hello_page[chromium]",
        "test_browser.py::test_seeded_page[chromium]",
        "test_browser.py::test_square[chromium]",
    }


def test_api_tests_of_a_fastapi_app_in_livecov_run_give_pytest_covs_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    fastapi_api_project(tmp_path)
    expected_lines, expected_total = with_pytest_cov(tmp_path)

    lines, total, _ = with_livecov_run(tmp_path, monkeypatch, capfd)

    assert lines == expected_lines
    assert total == expected_total
    assert {"test_app.py::test_items", "test_app.py::test_sync"} <= set().union(
        *lines["fastapi_app.py"].values()
    )


SHARED = "workers share the run's one server, so a reset before one worker's test wipes"


def test_pytest_n_2_inside_livecov_run_with_a_reset_hook_says_the_workers_share_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    project = write_plugin_project(tmp_path)  # setup = "branchy:seed": a reset each test

    _, _, out = with_livecov_run(project, monkeypatch, capfd, "-n", "2", "test_square.py")

    assert f"livecov: pytest -n 2 inside livecov run: its 2 {SHARED}" in out
    assert "`pytest -n 2 --cov --cov-context=test` (a server per worker)" in out


@pytest.mark.parametrize(
    ("args", "inside_run", "settings", "said"),
    [
        (["-n", "2"], True, "", True),
        (["-n", "0"], True, "", False),
        ([], True, "", False),
        (["-n", "2"], False, "", False),
        (["-n", "2"], True, "auto_reset = false\n", False),
    ],
    ids=["n2-inside", "n0", "no-xdist", "outside-livecov-run", "no-auto-reset"],
)
def test_the_shared_server_line_only_when_workers_share_a_resetting_run_server(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    inside_run: bool,
    settings: str,
    said: bool,
) -> None:
    project = write_plugin_project(pytester.path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("[tool.livecov]\n", f"[tool.livecov]\n{settings}")
    )
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    for name in ("LIVE_SERVER_URL", "LIVECOV_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    if inside_run:  # no server is asked anything before a test needs it
        monkeypatch.setenv("LIVE_SERVER_URL", "http://127.0.0.1:9")
        monkeypatch.setenv("LIVECOV_TOKEN", "token")

    result = pytester.runpytest_subprocess("test_nothing.py", "-p", "no:cov", *args)

    result.assert_outcomes(passed=1)
    assert (SHARED in result.stdout.str()) is said


def test_a_run_server_without_a_reset_hook_is_shared_without_a_word(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = write_plugin_project(pytester.path)
    pyproject = project / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('setup = "branchy:seed"\n', ""))
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")
    monkeypatch.setenv("LIVE_SERVER_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LIVECOV_TOKEN", "token")

    result = pytester.runpytest_subprocess("test_nothing.py", "-p", "no:cov", "-n", "2")

    result.assert_outcomes(passed=1)
    assert SHARED not in result.stdout.str()


# Two tests that run the app in the test process and take no fixture of the live server.
TESTS_UNIT = """\
import branchy


def test_factory():
    assert branchy.create_app() is branchy.app


def test_nothing():
    pass
"""

UNMEASURED = "2 tests of this pytest take no fixture of the live server (unit tests)"


def test_unit_tests_in_an_unmeasured_pytest_inside_livecov_run_are_named_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    project = write_plugin_project(tmp_path)
    (project / "test_unit.py").write_text(TESTS_UNIT)
    expected_lines, expected_total = with_pytest_cov(project)
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
        monkeypatch.delenv(name, raising=False)  # the inner pytest as users run it

    _, unmeasured_total, out = with_livecov_run(project, monkeypatch, capfd)
    (project / ".coverage").unlink()
    measured_by = ["--cov", "--cov-context=test", "--cov-report="]
    status = main(["run", "--no-html", "--", sys.executable, "-m", "pytest", *measured_by])
    measured_out = capfd.readouterr().out

    assert f"livecov: {UNMEASURED}: livecov run measures its server, not this process" in out
    assert "`livecov run -- pytest --cov --cov-context=test`" in out
    assert unmeasured_total < expected_total  # what the line is there to say
    assert status == 0
    assert UNMEASURED not in measured_out
    assert measured(project) == (expected_lines, expected_total)


@pytest.mark.parametrize(
    ("args", "inside_run", "said"),
    [
        (["test_unit.py", "test_server.py"], True, True),
        (["test_unit.py", "test_server.py", "-n", "2"], True, True),
        (["test_server.py"], True, False),
        (["test_unit.py", "test_server.py"], False, False),
    ],
    ids=["inside-livecov-run", "inside-livecov-run-xdist", "server-tests-only", "outside"],
)
def test_the_unmeasured_tests_line_counts_the_tests_that_take_no_server_fixture(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    inside_run: bool,
    said: bool,
) -> None:
    """pytest as a user runs it inside ``livecov run``, unmeasured (the measured one says
    nothing: the test above)."""
    write_plugin_project(pytester.path)
    (pytester.path / "test_unit.py").write_text(TESTS_UNIT)
    pytester.makepyfile(test_server="def test_server(livecov_server):\n    pass\n")
    for name in ("LIVE_SERVER_URL", "LIVECOV_TOKEN", "COVERAGE_PROCESS_CONFIG"):
        monkeypatch.delenv(name, raising=False)  # xdist's workers: unmeasured, as users run
    monkeypatch.delenv("COVERAGE_PROCESS_START", raising=False)
    if inside_run:  # no server is asked anything: no test resets
        monkeypatch.setenv("LIVE_SERVER_URL", "http://127.0.0.1:9")
        monkeypatch.setenv("LIVECOV_TOKEN", "token")
    # This suite measures this process: hidden from the plugin, which must see none.
    monkeypatch.setattr(coverage.Coverage, "current", classmethod(lambda cls: None))

    result = pytester.runpytest_inprocess(
        "-p", "no:cov", "-p", "no:playwright", "--livecov-no-auto-reset", *args
    )

    assert result.ret == pytest.ExitCode.OK
    assert (UNMEASURED in result.stdout.str()) is said


LEFT_TO_THE_RUN = "livecov: pytest-cov reports nothing inside livecov run"


def test_pytest_cov_inside_livecov_run_leaves_the_report_and_fail_under_to_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """pytest-cov's fail_under would judge the test process's data alone, before the run
    adds its server's: the whole suite's total passes it, so the run must pass."""
    project = write_plugin_project(tmp_path)
    (project / "test_unit.py").write_text(TESTS_UNIT)
    _, expected_total = with_pytest_cov(project)
    with (project / "pyproject.toml").open("a") as pyproject:
        pyproject.write(f"\n[tool.coverage.report]\nfail_under = {int(expected_total)}\n")
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
        monkeypatch.delenv(name, raising=False)  # the inner pytest as users run it
    monkeypatch.chdir(project)

    status = main(["run", "--no-html", "--", sys.executable, "-m", "pytest", "--cov"])
    out = capfd.readouterr().out

    assert status == 0, out
    assert LEFT_TO_THE_RUN in out
    assert "Required test coverage" not in out  # pytest-cov's check of its part of the data
    assert measured(project)[1] == expected_total


def test_pytest_covs_options_are_left_as_they_are_outside_livecov_run(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The plugin changes pytest-cov's options (on its plugin object, ``_cov``) inside
    ``livecov run`` only; pytest-cov itself cannot run in this measured process, so an
    object holding the options stands in for it."""
    options = argparse.Namespace(cov_report={"term": None}, cov_fail_under=90.0)
    config = pytester.parseconfig()
    config.pluginmanager.register(argparse.Namespace(options=options), "_cov")
    for name in ("LIVE_SERVER_URL", "LIVECOV_TOKEN"):
        monkeypatch.delenv(name, raising=False)

    outside = reports_left_to_the_run(config)
    kept = (options.cov_report, options.cov_fail_under)
    monkeypatch.setenv("LIVE_SERVER_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("LIVECOV_TOKEN", "token")
    inside = reports_left_to_the_run(config)

    assert outside is None
    assert kept == ({"term": None}, 90.0)
    assert inside is not None
    assert inside.startswith(LEFT_TO_THE_RUN)
    assert (options.cov_report, options.cov_fail_under) == ({}, None)
