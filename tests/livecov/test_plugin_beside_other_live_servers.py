"""livecov's pytest plugin beside other plugins that define ``live_server``.

First with a plugin of this file's own that defines one (loaded with ``-p``, measured by
the suite like test_plugin_errors.py's runs), for every choice of ``live_server_fixture``;
then with the real pytest-django and pytest-flask, in a virtual environment of their own
(the development one has neither: both would change the suite's own tests).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from tests.livecov.helpers import APPS, REPO, tagged_lines

PYTEST_TIMEOUT = 180

# Another plugin's live_server, as pytest-django's and pytest-flask's are: no livecov API.
THEIR_PLUGIN = """\
import pytest


class TheirServer:
    url = "http://127.0.0.1:9"


@pytest.fixture(scope="session")
def live_server():
    return TheirServer()
"""

PYPROJECT = """\
[tool.livecov]
app = "branchy:app"
setup = "branchy:seed"
"""

TESTS = """\
import urllib.request


def test_live_server(live_server):
    assert type(live_server).__name__ == "{expected}"


def test_livecov_server(livecov_server):
    with urllib.request.urlopen(livecov_server.url + "/seeded") as response:
        # Set up, then reset before each test reaching livecov's server.
        assert response.read() == b"seeded {resets_before}"
"""


def run(
    pytester: pytest.Pytester, expected: str, setting: str = "", plugin: str = "their_plugin"
) -> pytest.RunResult:
    """Run the two tests with ``plugin`` (a module defining live_server) loaded, and
    ``setting`` (a line of [tool.livecov]); ``expected``: live_server's class."""
    shutil.copy(APPS / "branchy.py", pytester.path)
    (pytester.path / f"{plugin}.py").write_text(THEIR_PLUGIN)
    pytester.makefile(".toml", pyproject=PYPROJECT + setting)
    # The first test reaches livecov's server (and is reset for) only if live_server is ours.
    resets = 3 if expected == "LiveServer" else 2
    pytester.makepyfile(test_servers=TESTS.format(expected=expected, resets_before=resets))
    return pytester.runpytest_subprocess("-p", plugin, "-p", "no:cov", timeout=PYTEST_TIMEOUT)


def livecov_lines(result: pytest.RunResult) -> list[str]:
    return [line for line in result.outlines + result.errlines if "livecov:" in line]


def test_beside_another_live_server_theirs_stays_and_one_line_names_the_setting(
    pytester: pytest.Pytester,
) -> None:
    result = run(pytester, "TheirServer")

    result.assert_outcomes(passed=2)
    assert livecov_lines(result) == [
        "livecov: their-plugin also defines the live_server fixture: tests taking live_server "
        "get theirs; livecov's server is livecov_server (base_url and page use it). "
        "live_server_fixture = true in [tool.livecov] gives live_server to livecov; false "
        "keeps theirs quietly."
    ]


def test_the_notice_stands_out_in_yellow(pytester: pytest.Pytester) -> None:
    shutil.copy(APPS / "branchy.py", pytester.path)
    (pytester.path / "their_plugin.py").write_text(THEIR_PLUGIN)
    pytester.makefile(".toml", pyproject=PYPROJECT)
    pytester.makepyfile(test_servers=TESTS.format(expected="TheirServer", resets_before=2))

    result = pytester.runpytest_subprocess(
        "-p", "their_plugin", "-p", "no:cov", "--color=yes", "--collect-only", "-q"
    )

    yellow = "\x1b[33m"  # what pytest's terminal writer starts a yellow line with
    assert any(line.startswith(f"{yellow}livecov: their-plugin also") for line in result.outlines)


def test_beside_a_plugin_needing_its_own_the_line_says_to_take_livecov_server(
    pytester: pytest.Pytester,
) -> None:
    # A module of that name stands in for pytest-flask (tested below, installed).
    result = run(pytester, "TheirServer", plugin="pytest_flask")

    result.assert_outcomes(passed=2)
    [line] = livecov_lines(result)
    assert line.startswith("livecov: pytest-flask also defines the live_server fixture: ")
    assert line.endswith(
        "Take livecov_server in tests meant for livecov; live_server_fixture = false in "
        "[tool.livecov] keeps theirs quietly."
    )


def test_live_server_fixture_true_gives_it_to_livecov(pytester: pytest.Pytester) -> None:
    result = run(pytester, "LiveServer", "live_server_fixture = true\n")

    result.assert_outcomes(passed=2)
    assert livecov_lines(result) == []


def test_live_server_fixture_false_keeps_theirs_quietly(pytester: pytest.Pytester) -> None:
    result = run(pytester, "TheirServer", "live_server_fixture = false\n")

    result.assert_outcomes(passed=2)
    assert livecov_lines(result) == []


def test_live_server_fixture_false_alone_leaves_no_live_server(pytester: pytest.Pytester) -> None:
    shutil.copy(APPS / "branchy.py", pytester.path)
    pytester.makefile(".toml", pyproject=PYPROJECT + "live_server_fixture = false\n")
    pytester.makepyfile(test_servers=TESTS.format(expected="LiveServer", resets_before=2))
    result = pytester.runpytest_subprocess("-p", "no:cov", timeout=PYTEST_TIMEOUT)

    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'live_server' not found*"])


def test_without_an_app_livecov_says_nothing(pytester: pytest.Pytester) -> None:
    # livecov installed but not used in this project: another live_server is no news.
    (pytester.path / "their_plugin.py").write_text(THEIR_PLUGIN)
    pytester.makepyfile(test_theirs="def test_it(live_server):\n    assert live_server.url\n")
    result = pytester.runpytest_subprocess("-p", "their_plugin", "-p", "no:cov")

    result.assert_outcomes(passed=1)
    assert livecov_lines(result) == []


@pytest.mark.parametrize(
    ("plugin", "reason"),
    [
        ("pytest_flask", "its autouse fixtures read live_server.app"),
        ("pytest_django", "its autouse fixtures call Django's live server API on it"),
    ],
)
def test_live_server_fixture_true_beside_a_plugin_needing_its_own_is_refused(
    pytester: pytest.Pytester, plugin: str, reason: str
) -> None:
    # Modules of those names stand in for the real plugins (tested below, installed).
    result = run(pytester, "LiveServer", "live_server_fixture = true\n", plugin=plugin)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    name = plugin.replace("_", "-")
    assert livecov_lines(result) == [
        f"ERROR: livecov: live_server_fixture = true cannot take live_server from {name} "
        f"({reason}): take livecov_server in your tests, and set live_server_fixture = false"
    ]


# -- the real plugins, installed ---------------------------------------------------------

UV = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
SITE = Path(__file__).parent / "django_site"


def _clean_env() -> dict[str, str]:
    """No measurement of this suite's, no virtual environment of its: theirs alone."""
    prefixes = ("COVERAGE_", "VIRTUAL_ENV", "PYTEST_")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@pytest.fixture(scope="module")
def their_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment with livecov, pytest-django and pytest-flask: a user's."""
    if not Path(UV).exists():
        pytest.skip("uv is needed to build the environment")
    venv = tmp_path_factory.mktemp("their-venv")
    for args in (
        ["venv", "--quiet", "--python", sys.executable, str(venv)],
        ["pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         "-e", f"{REPO / 'livecov'}[pytest,werkzeug]",
         "pytest-django", "django", "pytest-flask", "flask", "pytest-cov"],
    ):  # fmt: skip
        subprocess.run([UV, *args], env=_clean_env(), check=True, timeout=600)
    return venv


def their_pytest(venv: Path, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=project, env=_clean_env(), capture_output=True, text=True, timeout=PYTEST_TIMEOUT,
    )  # fmt: skip


DJANGO_PYPROJECT = """\
[tool.livecov]
app = "mysite.wsgi:application"
{setting}
[tool.livecov.env]
DJANGO_SETTINGS_MODULE = "mysite.settings"

[tool.pytest.ini_options]
DJANGO_SETTINGS_MODULE = "mysite.settings"

[tool.coverage.run]
source = ["."]
omit = ["test_*.py"]
"""

DJANGO_SETTINGS = """
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": BASE_DIR / "db"}}
INSTALLED_APPS = ["django.contrib.staticfiles"]
STATIC_URL = "static/"
"""

DJANGO_TESTS = """\
import urllib.request

from django.contrib.staticfiles.testing import StaticLiveServerTestCase


def test_page(page):  # livecov's server, measured in its own process
    page.goto("/items/2/")
    assert "item 1" in page.content()


def test_django_live_server(live_server):  # pytest-django's, in a thread of this process
    assert type(live_server).__module__ == "pytest_django.live_server_helper"
    with urllib.request.urlopen(live_server.url + "/") as response:
        assert response.read() == b"Django says hello"


class TestDjangosOwn(StaticLiveServerTestCase):
    def test_home(self):
        with urllib.request.urlopen(self.live_server_url + "/") as response:
            assert response.read() == b"Django says hello"
"""


def django_project(where: Path, setting: str = "") -> Path:
    shutil.copytree(SITE, where)
    with open(where / "mysite" / "settings.py", "a") as settings:
        settings.write(DJANGO_SETTINGS)
    (where / "pyproject.toml").write_text(DJANGO_PYPROJECT.format(setting=setting))
    (where / "test_site.py").write_text(DJANGO_TESTS)
    return where


def test_beside_pytest_django_each_server_serves_its_own_tests(
    their_venv: Path, tmp_path: Path
) -> None:
    project = django_project(tmp_path / "site")

    ran = their_pytest(their_venv, project, "--cov", "--cov-context=test", "--cov-report=")

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "3 passed" in ran.stdout
    notices = [line for line in ran.stdout.splitlines() if line.startswith("livecov:")]
    assert len(notices) == 1
    assert notices[0].startswith("livecov: pytest-django and pytest-flask also define the")
    data = coverage.CoverageData(str(project / ".coverage"))
    data.read()
    views = str(project / "mysite" / "views.py")
    items = tagged_lines(project / "mysite" / "views.py")["items"]
    by_line = data.contexts_by_lineno(views)
    assert {c for line in items for c in by_line[line]} == {"test_site.py::test_page[chromium]"}


def test_live_server_fixture_true_beside_pytest_django_is_one_line(
    their_venv: Path, tmp_path: Path
) -> None:
    project = django_project(tmp_path / "site", "live_server_fixture = true\n")

    ran = their_pytest(their_venv, project)

    assert ran.returncode == pytest.ExitCode.USAGE_ERROR
    assert ran.stderr.strip().splitlines() == [
        "ERROR: livecov: live_server_fixture = true cannot take live_server from pytest-django "
        "(its autouse fixtures call Django's live server API on it): take livecov_server in "
        "your tests, and set live_server_fixture = false"
    ]


FLASK_PYPROJECT = """\
[tool.livecov]
app = "flaskapp:create_app"
setup = "flaskapp:seed"
live_server_fixture = false
"""

FLASK_CONFTEST = """\
import pytest

from flaskapp import create_app


@pytest.fixture
def app():
    return create_app()
"""

FLASK_TESTS = """\
def test_unit(client):  # pytest-flask's client, on the app in this process
    assert client.get("/seeded").data == b"no"


def test_page(page):  # livecov's server, set up by its hook
    page.goto("/seeded")
    assert page.locator("body").inner_text() == "yes"
"""


def test_beside_pytest_flask_its_client_and_livecovs_page_work(
    their_venv: Path, tmp_path: Path
) -> None:
    shutil.copy(APPS / "flaskapp.py", tmp_path)
    (tmp_path / "pyproject.toml").write_text(FLASK_PYPROJECT)
    (tmp_path / "conftest.py").write_text(FLASK_CONFTEST)
    (tmp_path / "test_app.py").write_text(FLASK_TESTS)

    ran = their_pytest(their_venv, tmp_path, "-p", "no:django")

    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "2 passed" in ran.stdout
    assert "livecov:" not in ran.stdout + ran.stderr  # false: theirs, quietly
