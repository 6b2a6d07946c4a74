"""pytest plugin: a session ``livecov_server`` under coverage (also ``live_server`` where
no other plugin defines one: :mod:`livecov.pytest_live_server`), wired into
pytest-playwright; inside ``livecov run``, the run's server.

Only wiring lives here; the work is done by :mod:`livecov.live_server`, :mod:`livecov.measure`
and :mod:`livecov.browser`, which also work without pytest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, cast

import coverage
import pytest

from livecov import pytest_affected, pytest_live_server, pytest_options, pytest_shared_fixtures
from livecov.client import HTTPClient, client_for
from livecov.control import RunServer
from livecov.cores import measuring_core
from livecov.coverage_data import check_installed_coverage
from livecov.errors import ConfigError, LivecovError
from livecov.features import register_data_steps
from livecov.jinja.repair import repair_running_data
from livecov.live_server import LiveServer
from livecov.measure import merge_into_running
from livecov.output import AppErrors, LineBuffer, app_errors
from livecov.pytest_live_server import Server
from livecov.pytest_options import plugin_settings
from livecov.server.measuring import events_rearm
from livecov.settings import Settings, server_options


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("livecov", "live server under coverage (livecov)")
    pytest_options.add_options(parser, group)
    group.addoption(
        "--livecov-test-contexts",
        action="store_true",
        default=False,
        help="record each test's lines under its node id, as pytest-cov's --cov-context=test "
        "does; for runs under `coverage run -m pytest`",
    )
    group.addoption(
        "--browser-executable",
        default=None,
        help="Chromium to launch (default: $LIVECOV_BROWSER, a system chromium, "
        "or Playwright's own)",
    )
    pytest_affected.add_options(group)


def pytest_configure(config: pytest.Config) -> None:
    pytest_options.configure(config)  # a bad value is a usage error before any test runs
    try:
        check_installed_coverage()  # its data's schema: one livecov knows (coverage_data)
    except LivecovError as exc:
        raise pytest.UsageError(f"livecov: {exc}") from None
    register_data_steps()  # the template repair of the server's data (livecov.features)
    pytest_affected.configure(config)
    # Registered now, after every entry-point plugin, so these fixtures take precedence
    # over pytest-playwright's and can build on them.
    if config.pluginmanager.hasplugin("playwright"):
        config.pluginmanager.import_plugin("livecov.playwright_fixtures")
    pytest_live_server.offer(config)  # live_server: livecov's, unless another plugin's
    config.pluginmanager.register(ServerOutputSections(), ServerOutputSections.NAME)
    measuring = coverage.Coverage.current()
    if measuring is None and RunServer.from_environment() is not None:
        config.pluginmanager.register(UnmeasuredTests(), UnmeasuredTests.NAME)
    config.stash[RUN_REPORTS] = reports_left_to_the_run(config)
    if config.getoption("--livecov-test-contexts") and measuring:
        config.pluginmanager.register(TestContexts(measuring), "livecov-test-contexts")
    pytest_shared_fixtures.register(config)  # for livecov affected (its module says why)


@pytest.hookimpl(wrapper=True)
def pytest_sessionstart(session: pytest.Session) -> Iterator[None]:
    refuse_unmeasured_workers(session.config)
    yield  # after pytest's own header
    config = session.config
    lines = [
        pytest_live_server.notice(config),
        foreign_base_url_notice(config),
        shared_server_notice(config),
        config.stash.get(RUN_REPORTS, None),
    ]
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None and not hasattr(config, "workerinput"):
        for line in filter(None, lines):
            reporter.write_line(line, yellow=True)


def refuse_unmeasured_workers(config: pytest.Config) -> None:
    """Refuse ``coverage run -m pytest -n N`` without ``patch = ["subprocess"]``: coverage run
    measures its own process, the controller, and pytest-xdist's workers, where the tests
    run and start their live servers, go unmeasured; the report would hold the controller's
    imports only (14 % where pytest-cov gives 100 %). pytest-cov measures the workers."""
    workers = xdist_workers(config)
    measuring = coverage.Coverage.current()
    if workers < 1 or measuring is None:
        return
    if config.pluginmanager.get_plugin("_cov") is not None:  # pytest-cov: it measures them
        return
    if "subprocess" in getattr(measuring.config, "patch", []):
        return
    if not pytest_live_server.livecov_in_use(config):
        return
    raise pytest.UsageError(
        f"livecov: coverage run -m pytest -n {workers} measures this process only, not "
        f"pytest-xdist's {workers} workers where the tests and their live servers run: add "
        'patch = ["subprocess"] to [tool.coverage.run], or run pytest -n '
        f"{workers} --cov --cov-context=test"
    )


def xdist_workers(config: pytest.Config) -> int:
    """How many pytest-xdist workers this session runs (0: none, or xdist not installed)."""
    workers = getattr(config.option, "numprocesses", None)
    return workers if isinstance(workers, int) else 0


def foreign_base_url_notice(config: pytest.Config) -> str | None:
    """The line to say when ``--base-url`` or the ``base_url`` ini sends ``page`` and
    ``base_url`` elsewhere than to the server livecov is set to serve: the app's lines those
    tests run are then not measured, and nothing else would say so."""
    if not config.pluginmanager.hasplugin("playwright"):
        return None
    explicit = config.getoption("--base-url", None) or config.getini("base_url")
    if not explicit or not pytest_live_server.livecov_in_use(config):
        return None
    return (
        f"livecov: base_url is {explicit} (--base-url, or base_url in the ini): page and "
        "base_url go there, not to livecov's server, so the app's lines those tests run are "
        "not measured; remove it to measure them."
    )


def shared_server_notice(config: pytest.Config) -> str | None:
    """The line to say when ``pytest -n N`` runs inside ``livecov run`` with a reset hook:
    the N workers share the run's one server, so a reset before one worker's test wipes the
    data a test of another worker is using. The coverage stays right (each request names
    its test); the tests' outcomes may not."""
    workers = xdist_workers(config)
    if workers < 2 or RunServer.from_environment() is None:
        return None
    if not pytest_live_server.resets_before_tests(config):
        return None
    return (
        f"livecov: pytest -n {workers} inside livecov run: its {workers} workers share the "
        "run's one server, so a reset before one worker's test wipes the data another's test "
        f"is using; run pytest without -n there, or `pytest -n {workers} --cov "
        "--cov-context=test` (a server per worker)."
    )


RUN_REPORTS = pytest.StashKey[str | None]()


def reports_left_to_the_run(config: pytest.Config) -> str | None:
    """Inside ``livecov run``, leave pytest-cov's reports and fail-under to the run, and
    return the line that says so.

    pytest-cov reports when pytest ends, before the run adds its server's data: its total
    misses the server's lines (97 % where the run's report says 100 %), and its fail-under,
    often set in ``[tool.coverage.report]``, fails a run whose combined total passes. The
    run reports the combined data, with the same ``fail_under`` (and ``--xml``, ``--json``,
    ``--html``). pytest-cov keeps its options on its plugin object (``_cov``), read when
    pytest ends."""
    options = getattr(config.pluginmanager.get_plugin("_cov"), "options", None)
    if options is None or RunServer.from_environment() is None:
        return None
    options.cov_report = {}
    options.cov_fail_under = None
    return (
        "livecov: pytest-cov reports nothing inside livecov run (its total would miss the "
        "server's lines): the run reports the combined data, with the fail_under of "
        "[tool.coverage.report] (--fail-under N, --xml FILE, --json FILE, --html DIR)."
    )


class UnmeasuredTests:
    """Inside ``livecov run``, a pytest that nothing measures (neither pytest-cov nor
    ``coverage run``): the run measures its server only, so the lines of the tests that never
    reach it (unit tests) are missing from its report. Said in one line at the end of the
    session, right above the run's report, with the way to measure them too.

    Under pytest-xdist every worker collects every test; each tells the controller its count.
    """

    NAME = "livecov-unmeasured-tests"

    def __init__(self) -> None:
        self.count = 0

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        config = session.config
        self.count = sum(
            not uses_live_server(getattr(item, "fixturenames", ()), config)
            for item in session.items
        )
        # For pytest-xdist's controller, from a worker (elsewhere: a dict nobody reads).
        getattr(config, "workeroutput", {})[self.NAME] = self.count

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """pytest-xdist's controller: a worker's count (every worker collects every test)."""
        self.count = max(self.count, getattr(node, "workeroutput", {}).get(self.NAME, 0))

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.count:
            terminalreporter.write_line(self.notice(), yellow=True)

    def notice(self) -> str:
        tests = "1 test" if self.count == 1 else f"{self.count} tests"
        return (
            f"livecov: {tests} of this pytest take no fixture of the live server (unit "
            "tests): livecov run measures its server, not this process, so the lines they run "
            "here are not in its report; measure them too with `livecov run -- pytest --cov "
            "--cov-context=test` (or `coverage run -m pytest --livecov-test-contexts`), or "
            "run only the tests that use the server."
        )


class TestContexts:
    """Name the coverage context after the running test: ``<node id>|<phase>``.

    Under sys.monitoring (coverage.py's sysmon core, forced or Python 3.14's default) a
    line reports once; the events are re-armed after each switch, as in the live server,
    so every test that runs a line is named on it (:func:`livecov.server.measuring.events_rearm`).
    The re-arm is global: another sys.monitoring tool in this process (a debugger, a
    profiler) gets the events it had disabled again, as it does whenever any tool calls
    ``restart_events`` (coverage.py does at each start). coverage.py's own warning
    ``no-sysmon-context`` still shows: the user's process, the user's warnings.
    """

    __test__ = False  # not a test class, whatever its name

    def __init__(self, cov: coverage.Coverage) -> None:
        self.cov = cov  # the run's measurement, even if a test starts one of its own
        self.rearm = events_rearm(measuring_core(cov))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._within(item, "setup"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._within(item, "run"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._within(item, "teardown"))

    def _within(self, item: pytest.Item, phase: str) -> Iterator[None]:
        self.cov.switch_context(f"{item.nodeid}|{phase}")
        self.rearm()
        try:
            return (yield)
        finally:
            self.cov.switch_context("")
            self.rearm()


class ServerOutputSections:
    """Attach what the live server printed during a test's phase to that phase's report
    ("Captured live server call"), the way pytest shows a test's own captured output; fail
    a test that passed although the app raised while serving its requests."""

    NAME = "livecov-server-output"

    def __init__(self) -> None:
        self.lines = LineBuffer()
        self.server: LiveServer | None = None
        self.fail_on_app_errors = True
        self.errors_seen = 0

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._attach_to(item, "setup"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._attach_to(item, "call"))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_teardown(self, item: pytest.Item) -> Iterator[None]:
        return (yield from self._attach_to(item, "teardown"))

    def _attach_to(self, item: pytest.Item, when: str) -> Iterator[None]:
        try:
            outcome = yield
        finally:
            failed = self._take_output(item, when)
        if failed is not None and failed.unhandled and self.fail_on_app_errors:
            # As Flask's and Django's test clients re-raise the app's exception in the test.
            message = failed.message(" during this test")
            raise pytest.fail.Exception(
                f"livecov: {message} (fail_on_app_errors = false lets it pass)", pytrace=False
            )
        return outcome

    def _take_output(self, item: pytest.Item, when: str) -> AppErrors | None:
        """Attach the phase's lines to its report; return the requests that failed in it."""
        if self.server is None:
            return None
        self.server.drain_output()
        lines = self.lines.take()
        if lines:
            item.add_report_section(when, "live server", "\n".join(lines))
        entries = self.server.app_errors()
        new, self.errors_seen = entries[self.errors_seen :], len(entries)
        return app_errors(new, "\n".join(lines))


@pytest.fixture(scope="session")
def livecov_server(pytestconfig: pytest.Config) -> Iterator[Server]:
    """The app served on 127.0.0.1 in its own process, measured like the tests are.

    One per session (per worker under pytest-xdist). Its coverage data is added to the
    measurement running in this process (pytest-cov or ``coverage run``) when it stops.
    Inside ``livecov run -- pytest ...`` it is the run's own server, already measured:
    none is started.
    """
    run_server = RunServer.from_environment()
    if run_server is not None:
        yield run_server
        return
    yield from _started_server(pytestconfig)


def _started_server(pytestconfig: pytest.Config) -> Iterator[LiveServer]:
    try:
        settings = plugin_settings(pytestconfig)
        options = server_options(settings)
    except LivecovError as exc:  # one line, not a traceback through this fixture
        raise pytest.fail.Exception(f"livecov: {exc}", pytrace=False) from None
    running = coverage.Coverage.current()
    sections = cast(
        ServerOutputSections, pytestconfig.pluginmanager.get_plugin(ServerOutputSections.NAME)
    )
    listener = sections.lines.add if settings.server_output else None
    server = LiveServer(options, getattr(running, "config", None), on_output=listener)
    try:
        try:
            server.start()
        except LivecovError as exc:
            raise _failure(exc, server) from None
        server.core_choice.warn()
        sections.server = server
        sections.fail_on_app_errors = settings.fail_on_app_errors
        yield server
        try:
            merge_into_running(server.stop())
        except LivecovError as exc:
            raise _failure(exc, server) from None
    finally:
        sections.server = None
        server.cleanup()


def _failure(exc: LivecovError, server: LiveServer) -> BaseException:
    """A test failure that shows livecov's message and, unless a setting is to blame (its
    one line says it all), the server's own output."""
    if isinstance(exc, ConfigError):
        return pytest.fail.Exception(f"livecov: {exc}", pytrace=False)
    output = server.output() or "(it printed nothing)"
    return pytest.fail.Exception(f"livecov: {exc}\nthe server's output:\n{output}", pytrace=False)


@pytest.fixture
def livecov_client(livecov_server: Server, request: pytest.FixtureRequest) -> Iterator[HTTPClient]:
    """An HTTP client bound to the live server whose requests name this test (the
    ``Livecov-Context`` header): httpx's ``Client`` if httpx is installed, else livecov's
    own (:mod:`livecov.client`). ``livecov_client.get("/api/items")``."""
    with client_for(livecov_server.url, request.node.nodeid) as client:
        yield client


@pytest.fixture
def live_server_reset(livecov_server: Server, request: pytest.FixtureRequest) -> Server:
    """Reset the app's data (its reset hook, else its setup hook) before this test."""
    if livecov_server.resets:
        _reset(livecov_server, request)
    if not livecov_server.resets:
        raise pytest.UsageError(
            "livecov: live_server_reset needs a hook: set reset (or setup) = "
            '"module:function" in [tool.livecov]'
        )
    return livecov_server


@pytest.fixture(autouse=True)
def _livecov_auto_reset(request: pytest.FixtureRequest) -> None:
    """Fresh data for every test that reaches the live server, however it reaches it; the
    reset's lines are recorded under the test's own context."""
    if (
        not uses_live_server(request.fixturenames, request.config)
        or not _settings(request.config).auto_reset
    ):
        return
    if "live_server_reset" in request.fixturenames:
        return  # it resets, once
    server: Server = request.getfixturevalue("livecov_server")
    if server.resets:
        _reset(server, request)


def _reset(server: Server, request: pytest.FixtureRequest) -> None:
    """Reset the app's data for this test; a hook that raised fails it in one line (its
    traceback is in the test's "live server" section)."""
    try:
        server.reset(request.node.nodeid)
    except LivecovError as exc:
        raise pytest.fail.Exception(f"livecov: {exc}", pytrace=False) from None


def uses_live_server(names: Sequence[str], config: pytest.Config) -> bool:
    """Whether a test taking these fixtures (their whole closure) uses the live server:
    through a fixture built on livecov_server (livecov's live_server, livecov_client,
    live_server_reset), or through pytest-playwright's ``base_url`` (``page``, ``context``
    and ``new_context`` all build on it), which only asks for the server at run time."""
    return "livecov_server" in names or ("base_url" in names and serves_base_url(config))


def serves_base_url(config: pytest.Config) -> bool:
    """Whether ``base_url`` is the live server's: pytest-playwright is active, no
    ``--base-url`` or ``base_url`` ini names another, and there is a server: the run's
    (inside ``livecov run``), or an app to serve."""
    if not config.pluginmanager.hasplugin("playwright"):
        return False
    if config.getoption("--base-url", None) or config.getini("base_url"):
        return False
    if RunServer.from_environment() is not None:
        return True
    return bool(_settings(config).app)


def _settings(config: pytest.Config) -> Settings:
    """The plugin's settings; a bad pyproject.toml fails the test that needs them in one
    line, not with a traceback through a fixture."""
    try:
        return plugin_settings(config)
    except LivecovError as exc:
        raise pytest.fail.Exception(f"livecov: {exc}", pytrace=False) from None


@pytest.hookimpl(wrapper=True, trylast=True)
def pytest_runtestloop(session: pytest.Session) -> Iterator[None]:
    """When the tests have run, repair the templates' data (docs/jinja.md) and mark the
    phases that set up a fixture several tests share (:mod:`livecov.pytest_shared_fixtures`).

    The innermost wrapper: it runs before pytest-cov combines and reports, and before
    ``coverage run`` saves, so coverage.py's own reports read the templates right.
    """
    try:
        return (yield)
    finally:
        repair_running_data(coverage.Coverage.current())
        pytest_shared_fixtures.mark_running_data(session.config)
