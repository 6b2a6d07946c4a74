"""Exceptions livecov raises, and the exit statuses of ``livecov run``.

Each exception's message tells the user what happened and what to do, in one line; its
``outcome`` names the exit status it leads to. Each status means one thing (see
``OUTCOMES``, from which the documentation's table is generated); the test command's own
status passes through unchanged, and the result file (``--result-file``) tells the two apart.
"""

from __future__ import annotations

from dataclasses import dataclass

EXIT_OK = 0
EXIT_COVERAGE_UNDER = 2
EXIT_SERVER = 3
EXIT_USAGE = 4
EXIT_COVERAGE_LOST = 5
EXIT_APP_ERRORS = 6
EXIT_TIMEOUT = 124
EXIT_NOT_EXECUTABLE = 126
EXIT_NOT_FOUND = 127
EXIT_SIGNAL_BASE = 128  # stopped by signal N: 128 + N, as a shell says


@dataclass(frozen=True)
class Outcome:
    """One way a run can end: its exit status, its name in the result file, its meaning."""

    status: int
    name: str
    meaning: str
    shown: str = ""  # the status as the docs' table shows it, when it is not one number

    @property
    def label(self) -> str:
        return self.shown or str(self.status)


OK = Outcome(EXIT_OK, "ok", "all well")
COMMAND_FAILED = Outcome(
    -1, "command-failed", "COMMAND failed: its own status, passed through", "COMMAND's"
)
COVERAGE_UNDER = Outcome(EXIT_COVERAGE_UNDER, "coverage-under", "total coverage under fail-under")
SERVER_FAILED = Outcome(
    EXIT_SERVER,
    "server-failed",
    "the server failed: the app raised while loading, the server did not listen in time, "
    "or it died during the run",
)
USAGE = Outcome(
    EXIT_USAGE,
    "usage-error",
    "a usage error or a bad setting: unknown option, bad value, unreadable configuration, "
    "no app, an app or hook that does not exist, a server not installed, an ASGI/WSGI mismatch",
)
COVERAGE_LOST = Outcome(
    EXIT_COVERAGE_LOST,
    "coverage-lost",
    "the server's coverage data was lost or unusable: it had to be killed, wrote no data, "
    "or its data does not combine with the existing data",
)
APP_ERRORS = Outcome(
    EXIT_APP_ERRORS,
    "app-errors",
    "the app raised an unhandled exception while serving a request (500), though COMMAND "
    "passed; --no-fail-on-app-errors only reports them",
)
TIMEOUT = Outcome(EXIT_TIMEOUT, "command-timeout", "COMMAND ran past --timeout and was stopped")
NOT_EXECUTABLE = Outcome(EXIT_NOT_EXECUTABLE, "command-not-executable", "COMMAND is not executable")
NOT_FOUND = Outcome(EXIT_NOT_FOUND, "command-not-found", "COMMAND was not found")
INTERRUPTED = Outcome(
    -1,
    "interrupted",
    "livecov was stopped by signal N: 129 SIGHUP, 130 SIGINT (Ctrl-C), 143 SIGTERM; "
    "the server's data is still saved",
    "128+N",
)

# In the order of the docs' table (docs/reference.md). -1: not one number (see ``shown``).
OUTCOMES = (
    OK,
    COMMAND_FAILED,
    COVERAGE_UNDER,
    SERVER_FAILED,
    USAGE,
    COVERAGE_LOST,
    APP_ERRORS,
    TIMEOUT,
    NOT_EXECUTABLE,
    NOT_FOUND,
    INTERRUPTED,
)


class LivecovError(Exception):
    """Base class: a problem livecov reports as one clear line, without a traceback."""

    outcome = SERVER_FAILED

    @property
    def exit_status(self) -> int:
        return self.outcome.status


class ConfigError(LivecovError):
    """A usage error or a bad setting (command line, ``[tool.livecov]``, or what they name:
    a module, attribute or server that does not exist, an app the server cannot serve)."""

    outcome = USAGE


class NotCoverageDataError(ConfigError):
    """A file named as coverage data that is no coverage.py data: not SQLite, or no
    ``coverage_schema`` table."""


class GitError(ConfigError):
    """git refused a command of ``livecov affected`` or ``livecov record``: the message ends
    with git's own reason (its last fatal: or error: line)."""


class BrowserNotFoundError(ConfigError):
    """No usable Chromium for Playwright: the message says how to get one."""


class CommandNotFoundError(LivecovError):
    """The test command does not exist."""

    outcome = NOT_FOUND


class CommandNotExecutableError(LivecovError):
    """The test command exists but cannot be executed."""

    outcome = NOT_EXECUTABLE


class CommandTimeoutError(LivecovError):
    """The test command ran past ``--timeout`` and was stopped."""

    outcome = TIMEOUT


class AppLoadError(LivecovError):
    """The user's code raised while the app was being loaded or built."""


class ServerStartError(LivecovError):
    """The server died or never listened; ``output`` is what it printed."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class ServerConfigError(ServerStartError, ConfigError):
    """The server could not start because of a setting (reported by the server itself)."""


class ControlActionError(LivecovError):
    """A control action (the reset) failed in the server: the app's hook raised, and its
    traceback is in the server's output."""


class CoverageLostError(LivecovError):
    """The server had to be killed, or wrote no data, or its data cannot be used."""

    outcome = COVERAGE_LOST


class CoverageSchemaError(CoverageLostError):
    """coverage.py's data file has a schema version livecov was not written for."""


class ServerDiedError(CoverageLostError):
    """The server died during the run: a server failure, and its coverage is lost."""

    outcome = SERVER_FAILED
