"""The pytest plugin, run for real in a throw-away project: pytest-cov, coverage run, xdist."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from tests.livecov.helpers import APPS, tagged_lines

# A pytest run that hangs fails its test instead of the whole suite.
PYTEST_TIMEOUT = 180

PYPROJECT = """\
[tool.livecov]
app = "branchy:app"
setup = "branchy:seed"

[tool.coverage.run]
branch = true
source = ["."]
omit = ["test_*.py", "conftest.py"]
"""

# livecov_client's requests name their test (the Livecov-Context header).
TESTS_HELLO = """\
def test_hello(livecov_client):
    assert livecov_client.get("/hello").text == "Hello"


def test_seeded_afresh_for_each_test(livecov_client):
    seeded = livecov_client.get("/seeded").text
    assert seeded != "seeded 1"  # reset ran before this test
"""

TESTS_SQUARE = """\
def test_square(livecov_client):
    assert livecov_client.get("/square?n=3").text == "9"
"""


# For the tests that serve the ASGI twin: the project's app, and the module to check.
WSGI_AND_ASGI = pytest.mark.parametrize(
    ("plugin_project", "app_module"),
    [("branchy", "branchy"), ("branchy_asgi", "branchy_asgi")],
    indirect=["plugin_project"],
)


@pytest.fixture
def plugin_project(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Path:
    """A project serving ``branchy`` (WSGI), or its ASGI twin when parametrized so."""
    # The throw-away project is measured by its own settings, not this suite's.
    monkeypatch.delenv("COVERAGE_PROCESS_CONFIG", raising=False)
    monkeypatch.delenv("COVERAGE_PROCESS_START", raising=False)
    return write_plugin_project(pytester.path, getattr(request, "param", "branchy"))


def write_plugin_project(folder: Path, app_module: str = "branchy", coverage_run: str = "") -> Path:
    """The plugin tests' project in ``folder``: the app, pyproject.toml (``coverage_run``:
    more lines for its ``[tool.coverage.run]``) and two test files; return ``folder``."""
    for module in {"branchy", app_module}:  # the set-up hook is branchy:seed for both
        shutil.copy(APPS / f"{module}.py", folder)
    # For the ASGI app, that one line is all that changes.
    pyproject = PYPROJECT.replace('app = "branchy:app"', f'app = "{app_module}:app"')
    (folder / "pyproject.toml").write_text(pyproject + coverage_run)
    (folder / "test_hello.py").write_text(TESTS_HELLO)
    (folder / "test_square.py").write_text(TESTS_SQUARE)
    return folder


def measure_with_pytest_cov(project: Path, passed: int) -> None:
    """Run ``project``'s tests with pytest-cov and per-test contexts, as its user would (this
    suite's own measurement stays off for that run); all ``passed`` of them must pass."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "PYTEST_"))}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:randomly", "-p", "no:cacheprovider",
         "--cov", "--cov-context=test", "--cov-report=", "-q"],
        cwd=project, env=env, capture_output=True, text=True, timeout=PYTEST_TIMEOUT,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{passed} passed" in run.stdout, run.stdout


def server_lines(project: Path, module: str = "branchy") -> dict[int, set[str]]:
    data = coverage.CoverageData(str(project / ".coverage"))
    data.read()
    by_line = data.contexts_by_lineno(str(project / f"{module}.py"))
    return {line: set(contexts) for line, contexts in by_line.items()}


def assert_attributed(project: Path, module: str = "branchy") -> None:
    lines = server_lines(project, module)
    tags = tagged_lines(project / f"{module}.py")
    expected = {
        "hello": "test_hello.py::test_hello",
        "square": "test_square.py::test_square",
    }
    for route, test in expected.items():
        for line in tags[route]:
            assert line in lines, (route, line)
            assert lines[line] == {test}, (route, line, lines[line])


@WSGI_AND_ASGI
def test_with_pytest_cov(pytester: pytest.Pytester, plugin_project: Path, app_module: str) -> None:
    result = pytester.runpytest_subprocess(
        "--cov", "--cov-context=test", "--cov-report=term", timeout=PYTEST_TIMEOUT
    )

    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines([f"{app_module}.py *"])
    assert_attributed(plugin_project, app_module)
    # Every line measured is the server's, which this process adds to its data: coverage.py
    # has nothing to warn about (livecov once made it say "No data was collected").
    assert "CoverageWarning" not in result.stdout.str() + result.stderr.str()


def test_with_coverage_run(pytester: pytest.Pytester, plugin_project: Path) -> None:
    result = pytester.run(
        sys.executable, "-m", "coverage", "run", "-m", "pytest", "--livecov-test-contexts"
    )

    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert "CoverageWarning" not in result.stdout.str() + result.stderr.str()
    assert_attributed(plugin_project)
    contexts = set().union(*server_lines(plugin_project).values())
    assert "test_hello.py::test_hello|run" not in contexts  # that test runs no branchy code
    assert "live-server" in contexts  # the app's import, in the server


def test_livecov_imported_before_pytest_starts_draws_no_rewrite_warning(
    pytester: pytest.Pytester,
) -> None:
    """coverage.py loads livecov.jinja before pytest runs; pytest then cannot rewrite the
    asserts of the plugin's package and would warn on every run, unless told not to."""
    pytester.makepyprojecttoml('[tool.coverage.run]\nplugins = ["livecov.jinja"]\n')
    pytester.makepyfile(test_one="def test_one():\n    assert True\n")

    result = pytester.run(
        sys.executable, "-m", "coverage", "run", "-m", "pytest", "-p", "no:randomly"
    )

    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert "PytestAssertRewriteWarning" not in result.stdout.str() + result.stderr.str()


def test_with_xdist_same_total_as_serial(pytester: pytest.Pytester, plugin_project: Path) -> None:
    serial = pytester.runpytest_subprocess("--cov", "--cov-report=term", timeout=PYTEST_TIMEOUT)
    serial.assert_outcomes(passed=3)
    serial_total = _total(serial.stdout.lines)

    parallel = pytester.runpytest_subprocess(
        "-n", "2", "--cov", "--cov-report=term", timeout=PYTEST_TIMEOUT
    )

    parallel.assert_outcomes(passed=3)
    assert _total(parallel.stdout.lines) == serial_total
    assert_attributed(plugin_project)


def test_without_coverage_the_server_still_serves(pytester: pytest.Pytester, plugin_project):
    result = pytester.runpytest_subprocess("-p", "no:cov", timeout=PYTEST_TIMEOUT)

    result.assert_outcomes(passed=3)
    assert not (plugin_project / ".coverage").exists()


def test_bad_app_fails_the_tests_that_need_it(pytester: pytest.Pytester, plugin_project):
    shutil.copy(APPS / "broken.py", plugin_project)
    result = pytester.runpytest_subprocess(
        "--live-server-app", "broken:app", "-p", "no:cov", timeout=PYTEST_TIMEOUT
    )

    result.assert_outcomes(errors=3)
    result.stdout.fnmatch_lines(
        ["*livecov: importing the app 'broken:app' raised RuntimeError: boom while importing*"]
    )
    result.stdout.fnmatch_lines(["*broken.py*line 3*", "*RuntimeError: boom while importing*"])
    assert "pytest_plugin.py" not in result.stdout.str()  # livecov's message, not its traceback


def test_reset_never_keeps_data_between_tests(pytester: pytest.Pytester, plugin_project):
    result = pytester.runpytest_subprocess(
        "--live-server-reset", "never", "-p", "no:cov", timeout=PYTEST_TIMEOUT
    )

    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: assert 'seeded 1' != 'seeded 1'*"])


def _total(lines: list[str]) -> str:
    return next(line.split()[-1] for line in lines if line.startswith("TOTAL"))


LIBRARY = """\
def prepare():
    return "prepared"  # lib: setup


def work():
    return "worked"  # lib: run


def tidy():
    return "tidied"  # lib: teardown
"""

TESTS_LIBRARY = """\
import pytest

import mylib


@pytest.fixture
def prepared():
    yield mylib.prepare()
    mylib.tidy()


def test_work(prepared):
    assert mylib.work() == "worked"
"""


def _library_contexts(project: Path) -> dict[str, set[str]]:
    """The contexts of each tagged line of mylib.py, by its tag (setup, run, teardown)."""
    data = coverage.CoverageData(str(project / ".coverage"))
    data.read()
    by_line = data.contexts_by_lineno(str(project / "mylib.py"))
    source = (project / "mylib.py").read_text().splitlines()
    return {
        line.split("# lib: ")[1]: set(by_line[number])
        for number, line in enumerate(source, start=1)
        if "# lib: " in line
    }


@pytest.mark.parametrize("flag", [True, False])
def test_test_contexts_name_each_phase_only_when_asked(
    pytester: pytest.Pytester, plugin_project: Path, flag: bool
) -> None:
    pytester.makepyfile(mylib=LIBRARY, test_library=TESTS_LIBRARY)
    options = ["--livecov-test-contexts"] if flag else []
    result = pytester.run(
        sys.executable, "-m", "coverage", "run", "-m", "pytest", "test_library.py", *options
    )

    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    node = "test_library.py::test_work"
    expected = {
        phase: {f"{node}|{phase}" if flag else ""} for phase in ("setup", "run", "teardown")
    }
    assert _library_contexts(plugin_project) == expected


TESTS_BROWSER = """\
def test_hello_page(page):
    page.goto("/hello")  # relative: base_url is the live server's
    assert page.locator("body").inner_text() == "Hello"
"""

TESTS_LAUNCH_ARGS = """\
def test_launch_args(browser_type_launch_args):
    assert "executable_path" not in browser_type_launch_args
"""


@WSGI_AND_ASGI
def test_a_browser_page_goes_to_the_live_server_and_names_its_test(
    pytester: pytest.Pytester, plugin_project: Path, app_module: str
) -> None:
    # pytest-playwright's page, in a real Chromium (the system one where there is one):
    # relative URLs reach the live server, and the request carries the test's node id.
    pytester.makepyfile(test_browser=TESTS_BROWSER)
    result = pytester.runpytest_subprocess(
        "test_browser.py", "--cov", "--cov-report=", timeout=PYTEST_TIMEOUT
    )

    result.assert_outcomes(passed=1)
    lines = server_lines(plugin_project, app_module)
    for line in tagged_lines(plugin_project / f"{app_module}.py")["hello"]:
        assert lines[line] == {"test_browser.py::test_hello_page[chromium]"}, line


@pytest.mark.parametrize("browser", [["--browser", "firefox"], ["--browser-channel", "chrome"]])
def test_other_browsers_and_channels_keep_their_own_launch_args(
    pytester: pytest.Pytester, plugin_project: Path, browser: list[str]
) -> None:
    # Only a plain Chromium gets livecov's executable and flags; asking for the fixture
    # launches nothing, so no Firefox or Chrome needs to be installed.
    pytester.makepyfile(test_launch=TESTS_LAUNCH_ARGS)
    result = pytester.runpytest_subprocess(
        "test_launch.py", "-p", "no:cov", *browser, timeout=PYTEST_TIMEOUT
    )

    result.assert_outcomes(passed=1)


UNMEASURED_WORKERS = "livecov: coverage run -m pytest -n 2 measures this process only"
COVERAGE_RUN_N2 = ("coverage", "run", "-m", "pytest", "-p", "no:randomly", "-n", "2")


def test_coverage_run_with_xdist_workers_unmeasured_is_refused(
    pytester: pytest.Pytester, plugin_project: Path
) -> None:
    """Without ``patch = ["subprocess"]`` the workers, where the tests and their servers
    run, go unmeasured: the report would hold the controller's imports only."""
    result = pytester.run(sys.executable, "-m", *COVERAGE_RUN_N2, "--livecov-test-contexts")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    # livecov's own lines: a warning's path may hold "livecov" (a checkout of that name)
    (line,) = [line for line in result.stderr.lines if "livecov:" in line]
    assert line.startswith(f"ERROR: {UNMEASURED_WORKERS}, not pytest-xdist's 2 workers")
    assert line.endswith(
        'add patch = ["subprocess"] to [tool.coverage.run], or run pytest -n 2 --cov '
        "--cov-context=test"
    )


def test_coverage_run_with_xdist_workers_measured_by_patch_subprocess(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
        monkeypatch.delenv(name, raising=False)  # the project's own measurement
    project = write_plugin_project(pytester.path, coverage_run='patch = ["subprocess"]\n')

    result = pytester.run(sys.executable, "-m", *COVERAGE_RUN_N2, "--livecov-test-contexts")
    pytester.run(sys.executable, "-m", "coverage", "combine", "-q")

    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    assert_attributed(project)


@pytest.mark.parametrize(
    ("args", "patch", "app", "pytest_cov", "refused"),
    [
        (["-n", "2"], [], True, False, True),
        (["-n", "0"], [], True, False, False),
        ([], [], True, False, False),
        (["-n", "2"], ["subprocess"], True, False, False),
        (["-n", "2"], [], False, False, False),
        (["-n", "2"], [], True, True, False),
    ],
    ids=["refused", "n0", "no-xdist", "patch-subprocess", "no-app", "pytest-cov"],
)
def test_unmeasured_workers_are_refused_only_when_coverage_run_leaves_them_out(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    patch: list[str],
    app: bool,
    pytest_cov: bool,
    refused: bool,
) -> None:
    """In this process, measured by this suite (whose own measurement patches subprocesses):
    a measurement configured as the case says stands in for coverage run's, and an object
    registered as ``_cov`` for pytest-cov's plugin."""
    if app:
        write_plugin_project(pytester.path)
    for name in ("LIVE_SERVER_URL", "LIVECOV_TOKEN", "COVERAGE_PROCESS_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("COVERAGE_PROCESS_START", raising=False)
    users = coverage.Coverage(data_file=None, config_file=False)
    users.config.patch = patch
    monkeypatch.setattr(coverage.Coverage, "current", classmethod(lambda cls: users))
    if pytest_cov:
        pytester.makeconftest(
            "def pytest_configure(config):\n    config.pluginmanager.register(object(), '_cov')\n"
        )
    pytester.makepyfile(test_nothing="def test_nothing():\n    pass\n")

    result = pytester.runpytest_inprocess(
        "test_nothing.py", "-p", "no:cov", "-p", "no:playwright", *args
    )

    assert (result.ret == pytest.ExitCode.USAGE_ERROR) is refused
    assert (UNMEASURED_WORKERS in result.stderr.str()) is refused
