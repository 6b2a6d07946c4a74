"""The pytest plugin's error reports and options, in real pytest processes.

These keep this suite's COVERAGE_PROCESS_CONFIG, so coverage.py measures the plugin in
those processes too (they create no Coverage object of their own: ``-p no:cov``).
"""

from __future__ import annotations

import shutil

import pytest

from tests.livecov.helpers import APPS

# A pytest run that hangs fails its test instead of the whole suite.
PYTEST_TIMEOUT = 180

PYPROJECT = """\
[tool.livecov]
app = "{app}"
"""

USES_SERVER = """\
def test_uses_server(live_server):
    assert live_server.url.startswith("http://127.0.0.1:")
"""


@pytest.fixture
def inline(pytester: pytest.Pytester) -> pytest.Pytester:
    for app in ("branchy.py", "broken.py"):
        shutil.copy(APPS / app, pytester.path)
    return pytester


def run(pytester: pytest.Pytester, app: str | None, test: str, *args: str):
    if app is not None:
        pytester.makefile(".toml", pyproject=PYPROJECT.format(app=app))
    pytester.makepyfile(test_inline=test)
    return pytester.runpytest_subprocess("-p", "no:cov", *args, timeout=PYTEST_TIMEOUT)


def test_no_app_configured(inline) -> None:
    result = run(inline, None, USES_SERVER)
    result.assert_outcomes(errors=1)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_uses_server*",
            "livecov: no app to serve: give --app MODULE:NAME*",
        ]
    )
    assert "pytest_plugin.py" not in result.stdout.str()  # one line, not our traceback


def test_app_failing_to_import(inline) -> None:
    result = run(inline, "broken:app", USES_SERVER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*livecov: importing the app 'broken:app' raised RuntimeError: boom while importing*",
            "*the server's output:*",
            "*Traceback (most recent call last):*",
            '*File "*broken.py", line 3, in <module>*',
            "*RuntimeError: boom while importing the app*",
        ]
    )
    assert "livecov/server" not in result.stdout.str()  # none of livecov's frames


def test_a_server_that_dies_silently_says_it_printed_nothing(inline) -> None:
    (inline.path / "silent.py").write_text("import os\n\nos._exit(3)\n")
    result = run(inline, "silent:app", USES_SERVER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*the server's output:*", "(it printed nothing)"])


def test_app_that_does_not_exist_is_one_line(inline) -> None:
    result = run(inline, "branchy:nope", USES_SERVER)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*livecov: the app 'branchy:nope': module 'branchy' has no attribute 'nope'*"]
    )
    assert "the server's output" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str()


def test_server_dying_during_the_session_fails_its_teardown(inline) -> None:
    test = """\
import urllib.request, pytest
def test_crash(live_server):
    with pytest.raises(OSError):
        urllib.request.urlopen(live_server.url + "/crash")
"""
    result = run(inline, "branchy:app", test)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*livecov: the server died during the run (killed by SIGKILL)*"])


def test_reset_fixture_without_a_hook_says_what_to_set(inline) -> None:
    test = "def test_reset(live_server_reset):\n    pass\n"
    result = run(
        inline, "branchy:app", test, "--live-server-reset", "never",
        "--live-server-backend", "werkzeug", "-o", "live_server_startup_timeout=20",
    )  # fmt: skip
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*livecov: live_server_reset needs a hook: set reset*"])


@pytest.mark.parametrize("auto_reset", ["auto", "never"])
def test_reset_fixture_runs_the_hook_once(inline, auto_reset: str) -> None:
    (inline.path / "hooks.py").write_text(
        "import os, pathlib\n"
        "def count():\n"
        "    path = pathlib.Path(os.environ['LIVECOV_TMPDIR'], 'n')\n"
        "    path.write_text(str(int(path.read_text()) + 1 if path.exists() else 1))\n"
    )
    inline.makefile(
        ".toml", pyproject='[tool.livecov]\napp = "branchy:app"\nsetup = "hooks:count"\n'
    )
    test = """\
import pathlib
def test_reset(live_server_reset):
    # setup once, then the explicit reset (the automatic one, if on, leaves it to it)
    assert (pathlib.Path(live_server_reset.tmpdir) / "n").read_text() == "2"
"""
    result = run(inline, None, test, "--live-server-reset", auto_reset)
    result.assert_outcomes(passed=1)


def test_another_plugins_base_url_reaches_no_live_server(inline) -> None:
    # Without pytest-playwright, base_url is not livecov's: no server, no reset for it.
    (inline.path / "hooks.py").write_text(
        "import pathlib\ndef mark():\n    pathlib.Path('server-started').touch()\n"
    )
    inline.makefile(
        ".toml", pyproject='[tool.livecov]\napp = "branchy:app"\nsetup = "hooks:mark"\n'
    )
    inline.makeconftest(
        "import pytest\n@pytest.fixture\ndef base_url():\n    return 'http://127.0.0.1:9'\n"
    )
    test = "def test_elsewhere(base_url):\n    assert base_url == 'http://127.0.0.1:9'\n"
    result = run(inline, None, test, "-p", "no:playwright")
    result.assert_outcomes(passed=1)
    assert not (inline.path / "server-started").exists()


def test_auto_reset_needs_a_hook(inline) -> None:
    # Without a setup or reset hook the automatic reset must not ask the server for one:
    # it has no such action (404), and every test using the server would error.
    two_tests = USES_SERVER + USES_SERVER.replace("test_uses_server", "test_uses_it_again")
    result = run(inline, "branchy:app", two_tests, "-p", "no:playwright")
    result.assert_outcomes(passed=2, errors=0)
    assert result.ret == pytest.ExitCode.OK
    assert "livecov:" not in result.stdout.str()


@pytest.mark.parametrize(
    ("given", "line"),
    [
        (["-o", "livecov_workers=abc"], "livecov_workers (ini) must be int, not 'abc'"),
        (["-o", "live_server_workers=abc"], "live_server_workers (ini) must be int, not 'abc'"),
        (["--livecov-workers", "0"], "--livecov-workers must be at least 1, not 0"),
        (["--livecov-env", "NOEQUALS"], "--livecov-env takes KEY=VALUE, not 'NOEQUALS'"),
        (["-o", "livecov_contexts=maybe"], "livecov_contexts (ini) must be true or false, "
         "not 'maybe'"),
        (["--live-server-reset", "sometimes"], "--live-server-reset must be true or false, "
         "not 'sometimes'"),
        (["--livecov-server-program", "tornado"], "--livecov-server-program must be one of "
         "auto, werkzeug, waitress, gunicorn, uvicorn, not 'tornado'"),
        (["-o", "livecov_server=tornado"], "livecov_server (ini) must be one of auto, werkzeug, "
         "waitress, gunicorn, uvicorn, not 'tornado'"),  # its deprecated name, checked as well
    ],
)  # fmt: skip
def test_a_bad_option_or_ini_value_is_one_line_before_any_test(inline, given, line) -> None:
    result = run(inline, "branchy:app", USES_SERVER, *given)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert [shown for shown in result.stderr.lines if shown] == [f"ERROR: livecov: {line}"]


@pytest.fixture
def page_test(inline) -> pytest.Pytester:
    pytest.importorskip("pytest_playwright")
    inline.makepyfile(
        test_page="""\
def test_page(page, base_url):
    page.goto("/hello")
    assert page.text_content("body") == "Hello"
"""
    )
    return inline


@pytest.mark.parametrize("given", ["option", "ini"])
def test_explicit_base_url_wins_and_says_the_server_misses_those_tests(page_test, given) -> None:
    """A base_url of the user's (pytest-base-url's option or ini key) sends the pages
    elsewhere: one line at the start says their server lines go unmeasured."""
    if given == "ini":
        page_test.makeini("[pytest]\nbase_url = http://127.0.0.1:9\n")
        result = run(page_test, "branchy:app", USES_SERVER)
    else:
        result = run(page_test, "branchy:app", USES_SERVER, "--base-url", "http://127.0.0.1:9")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*http://127.0.0.1:9/hello*"])  # the explicit URL, not ours
    assert [line for line in result.stdout.lines if line.startswith("livecov:")] == [
        "livecov: base_url is http://127.0.0.1:9 (--base-url, or base_url in the ini): page and "
        "base_url go there, not to livecov's server, so the app's lines those tests run are "
        "not measured; remove it to measure them."
    ]


def test_an_explicit_base_url_without_an_app_to_serve_is_not_livecovs_business(
    page_test,
) -> None:
    result = run(page_test, None, "", "--base-url", "http://127.0.0.1:9")
    result.assert_outcomes(failed=1)  # nothing listens there
    result.stdout.fnmatch_lines(["*http://127.0.0.1:9/hello*"])
    assert "livecov:" not in result.stdout.str()


def test_missing_browser_is_a_usage_error(page_test, monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    result = run(page_test, "branchy:app", USES_SERVER, "--browser-executable", "no-such-chromium")
    result.assert_outcomes(passed=1, errors=1)  # the page test cannot start; the other runs
    result.stdout.fnmatch_lines(
        ["*ERROR at setup of test_page*", "livecov: the browser 'no-such-chromium' is not an exec*"]
    )
    assert "playwright_fixtures.py" not in result.stdout.str()  # one line, not our traceback


def test_other_browsers_are_left_alone(page_test) -> None:
    result = run(page_test, "branchy:app", USES_SERVER, "--browser", "firefox")
    # Playwright's own Firefox is not installed here: the launch fails in Playwright,
    # not in livecov's Chromium lookup (which would have found the system Chromium).
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*firefox*"])
    assert "chromium" not in result.stdout.str().lower()
    assert "livecov:" not in result.stdout.str()


def test_bad_settings_fail_a_page_test_in_one_line(page_test) -> None:
    page_test.makefile(".toml", pyproject='[tool.livecov]\napp = "branchy:app"\nworkers = "two"\n')
    result = run(page_test, None, "")
    result.assert_outcomes(errors=1)
    # (fnmatch: ? for the brackets of [tool.livecov])
    result.stdout.fnmatch_lines(["livecov: *pyproject.toml: ?tool.livecov? workers must be int*"])
    assert "pytest_plugin.py" not in result.stdout.str()  # one line, not our traceback


def test_a_reset_hook_that_raises_fails_the_test_in_one_line(inline) -> None:
    inline.makepyfile(hooks='def reset():\n    raise RuntimeError("cannot reset")\n')
    inline.makefile(
        ".toml", pyproject='[tool.livecov]\napp = "branchy:app"\nreset = "hooks:reset"\n'
    )
    inline.makepyfile(test_inline=USES_SERVER)
    result = inline.runpytest_subprocess("-p", "no:cov", timeout=PYTEST_TIMEOUT)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at setup of test_uses_server*",
            "livecov: the server's reset failed: the hook 'hooks:reset' raised RuntimeError:"
            " cannot reset (its traceback: the server's output)",
        ]
    )
    out = result.stdout.str()
    assert "HTTPError" not in out  # one line, not urllib's traceback
    assert 'raise RuntimeError("cannot reset")' in out  # the hook's traceback, from the server
