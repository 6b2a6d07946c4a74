"""Which coverage.py core measures the live server: the one that records what is asked.

Plugins need the C tracer; coverage.py's sys.monitoring core (the default from Python
3.14) runs none, and records per-request contexts only because livecov re-arms it at each
switch (line coverage; test_sysmon_contexts.py proves it exact). The choice is logic
(tested in-process for every Python); the tests below it start real servers, and those
that need sys.monitoring itself run on Python 3.12+ only (CI runs the suite on 3.13 too).
"""

from __future__ import annotations

import json
import shutil
import sys
import warnings
from pathlib import Path

import coverage
import pytest
from coverage.config import CoverageConfig

from livecov import LiveServer, ServerOptions
from livecov.cli import main
from livecov.cores import (
    CTRACE,
    SYSMON,
    CoreChoice,
    CoreWarning,
    choose_core,
    sysmon_contexts_refusal,
)
from livecov.server.measuring import events_rearm
from tests.livecov.helpers import APPS, REPO, get, read_data, tagged_lines

PY311, PY312, PY313, PY314 = (3, 11), (3, 12), (3, 13), (3, 14)
needs_sysmon = pytest.mark.skipif(sys.version_info < PY312, reason="sys.monitoring is Python 3.12+")


def config(**values) -> CoverageConfig:
    result = CoverageConfig()
    for name, value in values.items():
        setattr(result, name, value)
    return result


# -- the choice ----------------------------------------------------------------------------


@pytest.mark.parametrize("branch", [False, True])
def test_contexts_and_no_core_chosen_measure_with_ctrace_silently_before_312(branch) -> None:
    chosen = choose_core(config(branch=branch), contexts=True, python=PY311)
    assert chosen == CoreChoice(CTRACE)


@pytest.mark.parametrize("python", [PY312, PY313, PY314])
def test_line_coverage_with_contexts_is_sysmon_rearmed_and_says_so(python) -> None:
    chosen = choose_core(config(), contexts=True, python=python)
    assert chosen.core == SYSMON
    assert not chosen.warning
    assert chosen.line() == (
        "livecov: the server is measured with sys.monitoring (coverage core sysmon): "
        "line coverage with per-request contexts, at almost no cost"
    )


@pytest.mark.parametrize(
    ("python", "values", "reason"),
    [
        (
            PY313,
            {"branch": True},
            "branch coverage with per-request contexts needs it "
            "(sys.monitoring is used for line coverage)",
        ),
        (PY314, {"branch": True}, "branch coverage with per-request contexts needs it"),
        (
            PY313,
            {"concurrency": ["thread", "gevent"]},
            "sys.monitoring cannot follow the green threads of gevent",
        ),
        (
            PY313,
            {"concurrency": ["gevent", "greenlet"]},
            "sys.monitoring cannot follow the green threads of greenlet and gevent",
        ),
    ],
)
def test_contexts_sysmon_cannot_record_are_measured_with_ctrace_silently(
    python, values, reason
) -> None:
    # ctrace is what coverage.py would use anyway: nothing lost, nothing said.
    assert choose_core(config(**values), contexts=True, python=python) == CoreChoice(CTRACE)
    assert sysmon_contexts_refusal(config(**values), python).startswith(reason)


def test_sysmon_contexts_are_pinned_to_coverage_7() -> None:
    assert sysmon_contexts_refusal(config(), PY313, (7, 10, 0)) == ""
    assert sysmon_contexts_refusal(config(), PY313, (8, 0, 1, "final", 0)) == (
        "livecov re-arms sys.monitoring for coverage.py 7.x, not 8.0.1"
    )
    assert sysmon_contexts_refusal(config(), PY313, (6, 5, 0)) == (
        "livecov re-arms sys.monitoring for coverage.py 7.x, not 6.5.0"
    )
    assert sysmon_contexts_refusal(config(), PY311) == "sys.monitoring is Python 3.12+"
    assert sysmon_contexts_refusal(config(), PY313) == ""  # this coverage.py: 7.x


def test_the_rearm_after_a_switch_does_nothing_under_other_cores() -> None:
    # On 3.12+ sysmon's is sys.monitoring.restart_events (test_sysmon_contexts.py); before
    # 3.12 coverage.py measures a configured sysmon with ctrace: nothing to re-arm.
    for core in (CTRACE, "pytrace", None):
        assert events_rearm(core) is tuple
    expected = sys.monitoring.restart_events if sys.version_info >= PY312 else tuple
    assert events_rearm(SYSMON) is expected
    events_rearm(SYSMON)()  # callable on every Python


@pytest.mark.parametrize("python", [PY311, PY313, PY314])
def test_plugins_and_no_core_chosen_measure_with_ctrace_silently(python) -> None:
    plugins = config(plugins=["django_coverage_plugin"])
    assert choose_core(plugins, contexts=False, python=python) == CoreChoice(CTRACE)


@pytest.mark.parametrize(
    ("python", "values"),
    [(PY312, {}), (PY313, {}), (PY314, {}), (PY314, {"branch": True})],
)
def test_nothing_that_needs_a_tracer_is_the_fast_path_and_says_so(python, values) -> None:
    chosen = choose_core(config(**values), contexts=False, python=python)
    assert chosen.core == SYSMON
    assert not chosen.warning
    assert chosen.line() == (
        "livecov: the server is measured with sys.monitoring (coverage core sysmon): "
        "line coverage without contexts, at almost no cost"
    )


@pytest.mark.parametrize(
    ("python", "values"),
    [
        (PY311, {}),  # no sys.monitoring
        (PY313, {"branch": True}),  # sysmon measures branches from 3.14 only
        (PY313, {"concurrency": ["gevent"]}),  # sysmon cannot follow green threads
    ],
)
def test_no_fast_path_where_sysmon_cannot_measure(python, values) -> None:
    assert choose_core(config(**values), contexts=False, python=python) == CoreChoice()


def test_sysmon_forced_by_the_environment_is_overruled_for_contexts_in_one_line(
    monkeypatch,
) -> None:
    monkeypatch.setenv("COVERAGE_CORE", "sysmon")
    chosen = choose_core(config(core="sysmon", branch=True), contexts=True, python=PY314)
    assert chosen.core == CTRACE
    assert chosen.warning
    assert chosen.line() == (
        "livecov: warning: coverage core sysmon (COVERAGE_CORE=sysmon) cannot record "
        "per-request contexts: the server is measured with ctrace instead "
        "(with that off it would use sysmon)"
    )


def test_sysmon_set_in_the_config_is_overruled_for_contexts_and_plugins(monkeypatch) -> None:
    monkeypatch.delenv("COVERAGE_CORE", raising=False)
    forced = config(core="sysmon", branch=True, plugins=["livecov.jinja", "django_coverage_plugin"])
    chosen = choose_core(forced, contexts=True, python=PY314)
    assert chosen.core == CTRACE
    assert chosen.message == (
        "coverage core sysmon ([run] core = sysmon) cannot record per-request contexts or "
        "plugins (livecov.jinja, django_coverage_plugin): the server is measured with ctrace "
        "instead (with them off it would use sysmon)"
    )


def test_sysmon_chosen_records_no_plugins_where_it_measures() -> None:
    # Built at run time, as a name read from a configuration file is: equal, not identical.
    sysmon = "".join(["sys", "mon"])
    chosen = choose_core(config(core=sysmon, plugins=["p"]), contexts=False, python=PY313)
    assert chosen.core == CTRACE
    assert chosen.warning
    assert "cannot record plugins (p)" in chosen.message


def test_branch_coverage_without_contexts_takes_the_fast_path_from_314_on() -> None:
    for python in (PY314, (3, 15)):
        assert choose_core(config(branch=True), contexts=False, python=python).core == SYSMON
    assert choose_core(config(branch=True), contexts=False, python=PY313) == CoreChoice()


def test_pytrace_records_contexts_but_not_plugins() -> None:
    assert choose_core(config(core="pytrace"), contexts=True) == CoreChoice()
    timid = choose_core(config(timid=True, plugins=["p"]), contexts=True)
    assert timid.core == CTRACE
    assert timid.message.startswith("coverage core pytrace ([run] timid) cannot record plugins (p)")


@pytest.mark.parametrize(
    ("python", "values", "contexts"),
    [
        (PY313, {"core": "ctrace", "plugins": ["p"]}, True),  # ctrace records everything
        (PY311, {"core": "sysmon"}, True),  # coverage.py measures with ctrace itself
        (PY313, {"core": "sysmon", "branch": True}, True),  # the same: no branches before 3.14
        (PY313, {"core": "nonsense"}, True),  # coverage.py's to refuse, in the server's output
        (PY313, {"core": "xtrace", "plugins": ["p"]}, True),  # the same, whatever it is called
        (PY313, {"core": "sysmon"}, False),  # nothing needs a tracer
        (PY313, {"core": "sysmon"}, True),  # line coverage: livecov re-arms it per context
    ],
)
def test_a_chosen_core_stands_when_it_can_do_the_job(python, values, contexts) -> None:
    assert choose_core(config(**values), contexts=contexts, python=python) == CoreChoice()


def test_an_overruled_choice_is_a_warning_and_the_fast_path_is_not() -> None:
    overruled = choose_core(config(core="pytrace", plugins=["p"]), contexts=False)
    with pytest.warns(
        CoreWarning, match=r"^coverage core pytrace \(\[run\] core = pytrace\)"
    ) as caught:
        overruled.warn()
    assert caught[0].filename == __file__  # the caller's line, as pytest's summary shows it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        choose_core(config(), contexts=False, python=PY313).warn()


def test_the_default_python_is_this_one() -> None:
    fast = choose_core(config(), contexts=False)
    assert (fast.core == SYSMON) == (sys.version_info >= PY312)


# -- real servers ----------------------------------------------------------------------


def line_coverage_project(project: Path, extra: str = "") -> None:
    (project / ".coveragerc").write_text(f"[run]\nbranch = false\nsource = .\n{extra}")


def serve_hello(
    project: Path, app: str = "branchy:app", **options
) -> tuple[LiveServer, coverage.CoverageData, str]:
    """Serve branchy, GET /hello as test 't-one' then 't-two', stop: server, data, log.

    Two tests run the same lines: sys.monitoring stops reporting a line after its first
    run, so only a core that records contexts credits the second test too.
    """
    server = LiveServer(ServerOptions(app=app, **options), coverage.Coverage().config)
    try:
        server.start()
        assert get(server.url + "/hello", "t-one") == "Hello"
        assert get(server.url + "/hello", "t-two") == "Hello"
        data = read_data(server.stop())
        return server, data, server.log_path.read_text()
    finally:
        server.cleanup()


def hello_contexts(project: Path, data: coverage.CoverageData, module: str = "branchy") -> set[str]:
    path = project / f"{module}.py"
    by_line = data.contexts_by_lineno(str(path))
    return {c for line in tagged_lines(path)["hello"] for c in by_line[line]}


@needs_sysmon
@pytest.mark.parametrize(
    ("module", "server"),
    [
        ("branchy", "werkzeug"),
        ("branchy", "gunicorn"),
        ("branchy_asgi", "uvicorn"),
        ("branchy_asgi", "gunicorn"),  # gunicorn's uvicorn workers
    ],
)
def test_sysmon_forced_still_gets_each_requests_context(
    project: Path, monkeypatch, module: str, server: str
) -> None:
    # What Python 3.14 does by default, forced on 3.12/3.13: line coverage under sysmon,
    # which livecov keeps (re-armed at each switch), with no word and no coverage.py warning.
    line_coverage_project(project)
    monkeypatch.setenv("COVERAGE_CORE", "sysmon")
    live, data, log = serve_hello(project, f"{module}:app", server=server, workers=1)
    assert live.core_choice == CoreChoice()
    assert "no-sysmon-context" not in log
    assert hello_contexts(project, data, module) == {"t-one", "t-two"}


@needs_sysmon
def test_fast_path_measures_the_server_with_sys_monitoring(project: Path, monkeypatch) -> None:
    monkeypatch.delenv("COVERAGE_CORE", raising=False)
    line_coverage_project(project, "debug = core\n")
    live, data, log = serve_hello(project, contexts=False)
    assert live.core_choice.core == SYSMON
    assert "Using core=sysmon" in log  # coverage.py's own word, in the server's output
    assert hello_contexts(project, data) == {"live-server"}  # measured, no test named


def test_livecov_run_says_in_one_line_when_it_overrules_the_users_core(
    project: Path, capfd, monkeypatch
) -> None:
    # Any Python: pytrace records contexts but not plugins.
    monkeypatch.delenv("COVERAGE_CORE", raising=False)
    monkeypatch.syspath_prepend(str(project))  # the report loads the plugin here too
    line_coverage_project(project, "core = pytrace\nplugins = configurer_plugin\n")
    status = main(["run", "--no-html", "--app", "branchy:app", "--", "true"])
    err = capfd.readouterr().err
    assert status == 0, err
    assert err.count("livecov: warning:") == 1
    assert (
        "livecov: warning: coverage core pytrace ([run] core = pytrace) cannot record plugins "
        "(configurer_plugin): the server is measured with ctrace instead "
        "(with that off it would use pytrace)\n"
    ) in err


@needs_sysmon
def test_livecov_run_says_when_it_takes_the_fast_path(project: Path, capfd, monkeypatch) -> None:
    monkeypatch.delenv("COVERAGE_CORE", raising=False)
    line_coverage_project(project)
    status = main(["run", "--no-html", "--no-contexts", "--app", "branchy:app", "--", "true"])
    out = capfd.readouterr().out
    assert status == 0
    assert "livecov: the server is measured with sys.monitoring (coverage core sysmon)" in out


PYPROJECT_PYTRACE = """\
[tool.livecov]
app = "branchy:app"

[tool.coverage.run]
source = ["."]
omit = ["test_*.py"]
core = "pytrace"
plugins = ["configurer_plugin"]
"""


def test_the_pytest_plugin_warns_when_it_overrules_the_users_core(
    pytester: pytest.Pytester, monkeypatch
) -> None:
    # The throw-away project is measured by its own settings, not this suite's.
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START", "COVERAGE_CORE"):
        monkeypatch.delenv(name, raising=False)
    for module in ("branchy.py", "configurer_plugin.py"):
        shutil.copy(APPS / module, pytester.path)
    pytester.makefile(".toml", pyproject=PYPROJECT_PYTRACE)
    pytester.makepyfile(test_served="def test_served(live_server):\n    assert live_server.url\n")

    result = pytester.runpytest_subprocess("--cov", "--cov-report=", "-p", "no:playwright")

    result.assert_outcomes(passed=1)
    output = result.stdout.str()
    assert output.count("CoreWarning: ") == 1
    assert "CoreWarning: coverage core pytrace ([run] core = pytrace) cannot record plugins" in (
        output
    )


PYPROJECT_FLASKR = """\
[tool.livecov]
app = "flaskr:create_app"
setup = "flaskr.db:init_db"

[tool.livecov.env]
FLASKR_INSTANCE_PATH = "{{tmpdir}}/instance"

[tool.coverage.run]
branch = false
source = ["{flaskr}"]
plugins = {plugins}
"""

TEST_INDEX_PAGE = """\
import pytest


@pytest.mark.parametrize("visitor", ["first", "second"])
def test_index_page(page, visitor):
    page.goto("/")
    assert page.locator("header h1").inner_text() == "Posts"
"""

BROWSER_TESTS = {
    "test_index.py::test_index_page[chromium-first]",
    "test_index.py::test_index_page[chromium-second]",
}


@needs_sysmon
@pytest.mark.parametrize("plugins", [[], ["livecov.jinja"]], ids=["python", "templates"])
def test_sysmon_forced_browser_tests_contexts_are_on_server_and_template_lines(
    pytester: pytest.Pytester, monkeypatch, plugins: list[str]
) -> None:
    # Python 3.14's default core, forced on 3.12/3.13 for the whole run. Two browser tests
    # open the same page: under sysmon only the first would be named on its lines (a line
    # reports once). Without plugins every process keeps sysmon, the live server's re-armed
    # at each switch (no word, no warning); with livecov.jinja, its configurer takes ctrace
    # in every process (its own one line) and the templates are measured too.
    for name in ("COVERAGE_PROCESS_CONFIG", "COVERAGE_PROCESS_START"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COVERAGE_CORE", "sysmon")
    flaskr = REPO / "flaskr" / "src" / "flaskr"
    pyproject = PYPROJECT_FLASKR.format(flaskr=flaskr, plugins=json.dumps(plugins))
    pytester.makefile(".toml", pyproject=pyproject)
    pytester.makepyfile(test_index=TEST_INDEX_PAGE)

    result = pytester.run(sys.executable, "-m", "coverage", "run", "-m", "pytest", "-p", "no:cov")

    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 0, output
    overruled = "coverage core sysmon (COVERAGE_CORE=sysmon) cannot record per-request contexts"
    templates_overruled = "livecov.jinja: coverage core sysmon runs no plugins"
    assert overruled not in output
    assert output.count(templates_overruled) == (1 if plugins else 0)
    data = coverage.CoverageData(str(pytester.path / ".coverage"))
    data.read()
    index_body = _line_containing(flaskr / "blog.py", 'per_page = current_app.config["POSTS')
    assert set(data.contexts_by_lineno(str(flaskr / "blog.py"))[index_body]) >= BROWSER_TESTS
    if plugins:
        template = str(flaskr / "templates" / "blog" / "index.html")
        template_contexts = set().union(*data.contexts_by_lineno(template).values())
        assert template_contexts >= BROWSER_TESTS


def _line_containing(path: Path, text: str) -> int:
    lines = path.read_text().splitlines()
    return next(number for number, line in enumerate(lines, start=1) if text in line)
