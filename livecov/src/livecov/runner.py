"""``livecov run``: serve the app under coverage, run a test command against it, report.

The pipeline, in order: read the project's coverage configuration; start the server
(:class:`~livecov.live_server.LiveServer`); run COMMAND in a process group of its own with
``LIVE_SERVER_URL`` in its environment, its output streamed as it comes; stop the server
gracefully; combine its data with the data already there (the unit tests'); print and
write the reports. Every failure is one line starting ``livecov:``; the exit status says
what failed (:data:`livecov.errors.OUTCOMES`), and the result file says it for scripts.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TextIO

from livecov import errors
from livecov.control import TMPDIR_ENV, TOKEN_ENV, URL_ENV
from livecov.errors import (
    CommandNotExecutableError,
    CommandNotFoundError,
    CommandTimeoutError,
    ConfigError,
    CoverageLostError,
    LivecovError,
    Outcome,
    ServerStartError,
)
from livecov.features import register_data_steps
from livecov.live_server import LiveServer, ServerOptions
from livecov.measure import (
    ReportOptions,
    check_measured_alike,
    check_not_measured_into,
    combine_into_file,
    open_coverage,
    write_reports,
)
from livecov.output import CommandOutput, app_errors
from livecov.processes import stop_group, stop_leftovers
from livecov.settings import Settings

RESULT_FORMAT = 1  # the result file's "format": raised when a key changes meaning
SERVER_MARK = "[live-server] "  # before each line the server printed

# The stop signals livecov passes on to the command's process group, and how: Ctrl-C
# reaches the command once, as SIGINT (the terminal sent it to livecov only, since the
# command's group is not the terminal's foreground group); the others stop it.
_STOP_SIGNALS = {
    signal.SIGINT: signal.SIGINT,
    signal.SIGTERM: signal.SIGTERM,
    signal.SIGHUP: signal.SIGTERM,
}


class Stopped(BaseException):
    """livecov itself received a stop signal: stop everything, keep the data."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@dataclass
class Failure:
    outcome: Outcome
    status: int
    message: str


@dataclass
class RunResult:
    exit_status: int = errors.EXIT_OK
    failures: list[Failure] = field(default_factory=list)
    command_status: int | None = None
    total: float | None = None
    url: str = ""
    app_errors: int = 0
    first_exception: str | None = None

    @property
    def reasons(self) -> list[str]:
        return [failure.message for failure in self.failures]

    def fail(self, outcome: Outcome, message: str, status: int | None = None) -> None:
        """Record a failure; the first one sets the exit status."""
        status = outcome.status if status is None else status
        self.failures.append(Failure(outcome, status, message))
        if self.exit_status == errors.EXIT_OK:
            self.exit_status = status

    def as_json(self) -> dict[str, Any]:
        """What the result file holds (see docs/run.md: "Exit status")."""
        first = self.failures[0].outcome if self.failures else errors.OK
        return {
            "format": RESULT_FORMAT,
            "exit_status": self.exit_status,
            "outcome": first.name,
            "from_command": first is errors.COMMAND_FAILED,
            "command_status": self.command_status,
            "failures": [
                {"outcome": f.outcome.name, "exit_status": f.status, "message": f.message}
                for f in self.failures
            ],
            "coverage": self.total,
            "url": self.url,
            "app_errors": {"count": self.app_errors, "first_exception": self.first_exception},
        }


def write_result_file(path: str | Path, result: RunResult) -> None:
    Path(path).write_text(json.dumps(result.as_json(), indent=2) + "\n")


def server_options(settings: Settings) -> ServerOptions:
    if not settings.app:
        raise ConfigError(
            "no app to serve: give --app MODULE:NAME or set app in [tool.livecov] of pyproject.toml"
        )
    served = {f.name for f in fields(ServerOptions)} & {f.name for f in fields(Settings)}
    return ServerOptions(**{name: getattr(settings, name) for name in served})


def run(settings: Settings, command: list[str], out: TextIO | None = None) -> RunResult:
    """Run the whole pipeline; never raises for the user's mistakes (see ``failures``)."""
    out = out or sys.stdout
    result = RunResult()
    register_data_steps()  # the template repair and the commit record, as data is combined
    # Set explicitly: started in the background by a non-interactive shell, this process
    # would inherit SIGINT as ignored.
    previous = {sig: signal.signal(sig, _signals.handler) for sig in _STOP_SIGNALS}
    try:
        _run(settings, command, out, result)
    except LivecovError as exc:
        result.fail(exc.outcome, str(exc))
    except (KeyboardInterrupt, Stopped) as exc:  # outside the steps: before them, or while stopping
        _interrupted(result, exc)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for reason in result.reasons:
        print(f"livecov: {reason}", file=sys.stderr)
    if settings.result_file:
        write_result_file(settings.result_file, result)
    return result


def _run(settings: Settings, command: list[str], out: TextIO, result: RunResult) -> None:
    if not command:
        raise ConfigError(
            "no test command: give one after --, e.g. livecov run -- pytest tests/e2e"
        )
    options = server_options(settings)
    cov = open_coverage(settings.rcfile or True, settings.data_file, settings.source)
    check_not_measured_into(cov)
    if not settings.erase:
        check_measured_alike(cov)
    # The server's lines shown as they come, never inside a line of the command's.
    passage = CommandOutput(SERVER_MARK) if settings.server_output else None
    server = LiveServer(options, cov.config, on_output=passage.server_line if passage else None)
    completed = False
    try:
        try:
            _start(server, settings, out, result)
            result.command_status = _run_command(command, server, settings, passage)
            completed = True
        except (KeyboardInterrupt, Stopped) as exc:
            _interrupted(result, exc)
        except (CommandNotFoundError, CommandNotExecutableError, CommandTimeoutError) as exc:
            result.fail(exc.outcome, str(exc))
        finally:
            if passage:
                passage.close()  # the command is gone: its output has ended
            _stop(server, settings, result)
        _command_failed(result)
        _app_errors(server, settings, result)
        _combine_and_report(cov, server, settings, out, result, report=completed)
    finally:
        server.cleanup()


def _interrupted(result: RunResult, exc: BaseException) -> None:
    sig = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
    name = signal.Signals(sig).name
    result.fail(errors.INTERRUPTED, f"interrupted ({name})", errors.EXIT_SIGNAL_BASE + sig)


def _start(server: LiveServer, settings: Settings, out: TextIO, result: RunResult) -> None:
    try:
        result.url = server.start()
    except ConfigError:
        raise  # a setting to fix: its one line says it all
    except ServerStartError as exc:
        if not settings.server_output:  # not shown as it came: the reason may be in it
            output = exc.output.rstrip() or "(it printed nothing)"
            print(f"livecov: the server's output:\n{output}", file=sys.stderr)
        raise
    opts = server.options
    print(f"livecov: serving {opts.app} at {result.url} ({server.backend})", file=out)
    if server.core_choice.message:
        print(server.core_choice.line(), file=sys.stderr if server.core_choice.warning else out)
    out.flush()


def _run_command(
    command: list[str], server: LiveServer, settings: Settings, passage: CommandOutput | None
) -> int:
    # The server's URL, its token (for the control endpoints) and its temporary folder: a
    # pytest run in COMMAND uses this server (livecov.control.RunServer), starting none.
    env = {
        **os.environ,
        URL_ENV: server.url,
        TOKEN_ENV: server.token,
        TMPDIR_ENV: str(server.tmpdir),
    }
    grace = settings.stop_timeout
    # A stop signal arriving while the command starts would otherwise be raised before
    # there is a process to stop (inside Popen, or before the try below): the command and
    # its children would run on, unowned. It is held until the try can stop them.
    _signals.hold()
    try:
        process = _start_command(command, env, passage)
    except BaseException:
        _signals.release()  # a signal held meanwhile wins over a command that did not start
        raise
    stopped_by: int | None = signal.SIGTERM  # unless it ends by itself
    try:
        _signals.release()
        status = process.wait(timeout=settings.timeout)
        stopped_by = None
    except subprocess.TimeoutExpired:
        raise CommandTimeoutError(
            f"the test command did not finish within {settings.timeout:g} s (--timeout); "
            "it was stopped"
        ) from None
    except Stopped as exc:
        stopped_by = _STOP_SIGNALS[signal.Signals(exc.signum)]
        raise
    except KeyboardInterrupt:
        stopped_by = signal.SIGINT
        raise
    finally:
        if stopped_by is None:
            stop_leftovers(process, grace)
        else:
            stop_group(process, stopped_by, grace)
    return status


def _start_command(
    command: list[str], env: dict[str, str], passage: CommandOutput | None
) -> subprocess.Popen[bytes]:
    stdout, stderr = passage.command_streams() if passage else (None, None)
    try:
        # A group of its own: whatever it starts is stopped with it. Not the terminal's
        # foreground group, so it must not read the terminal (it would be stopped).
        return subprocess.Popen(
            command,
            env=env,
            process_group=0,
            stdin=_stdin_for_command(),
            stdout=stdout,
            stderr=stderr,
        )
    except FileNotFoundError:
        raise CommandNotFoundError(f"the test command {command[0]!r} was not found") from None
    except PermissionError:
        raise CommandNotExecutableError(
            f"the test command {command[0]!r} is not executable"
        ) from None
    finally:
        for stream in (stdout, stderr):
            if stream is not None:
                os.close(stream)  # the command's now: its end closes the passage


def _stdin_for_command() -> int | None:
    """A background group reading the terminal would be stopped: give it nothing instead."""
    return subprocess.DEVNULL if os.isatty(0) else None


def _stop(server: LiveServer, settings: Settings, result: RunResult) -> None:
    try:
        server.stop()
    except CoverageLostError as exc:
        result.fail(exc.outcome, str(exc))
        if not settings.server_output:
            print(f"livecov: the server's output:\n{server.output()}", file=sys.stderr)


def _command_failed(result: RunResult) -> None:
    status = result.command_status
    if status:
        shell_status = errors.EXIT_SIGNAL_BASE - status if status < 0 else status
        result.fail(
            errors.COMMAND_FAILED, f"the test command failed ({_describe_status(status)})",
            shell_status,
        )  # fmt: skip


def _app_errors(server: LiveServer, settings: Settings, result: RunResult) -> None:
    """Say how many requests the app failed, with the first exception's last line."""
    log = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
    failed = app_errors(server.app_errors(), log)
    if failed is None:
        return
    result.app_errors = len(failed.entries)
    result.first_exception = failed.first_exception
    if failed.unhandled and settings.fail_on_app_errors:
        result.fail(
            errors.APP_ERRORS, failed.message() + " (--no-fail-on-app-errors lets the run pass)"
        )
    else:
        print(f"livecov: {failed.message()}", file=sys.stderr)


def _combine_and_report(
    cov: Any, server: LiveServer, settings: Settings, out: TextIO, result: RunResult, report: bool
) -> None:
    if not server.data_files:
        return
    combine_into_file(cov, server.data_files, append=not settings.erase)
    if not report:
        print(f"livecov: the server's coverage was saved in {cov.config.data_file}", file=out)
        return
    options = ReportOptions(
        html=_html_directory(settings, cov),
        xml=settings.xml,
        json=settings.json,
        show_contexts=settings.show_contexts,
        fail_under=settings.fail_under,
    )
    outcome = write_reports(cov, options, out)
    result.total = outcome.total
    if outcome.failed:
        result.fail(
            errors.COVERAGE_UNDER,
            f"total coverage {outcome.total:.{cov.config.precision}f}% is under "
            f"fail-under={outcome.fail_under:g}",
        )


def _html_directory(settings: Settings, cov: Any) -> str | None:
    if settings.html == "":
        return None  # --no-html
    return settings.html or cov.config.html_dir


class _SignalHold:
    """livecov's handler for its stop signals, which can hold them back for a moment.

    A signal raises Stopped (KeyboardInterrupt for SIGINT) in the main thread; while held,
    it is only noted, and raised by :meth:`release` at a point where it can be handled.
    """

    def __init__(self) -> None:
        self._held: list[int] | None = None  # None: not holding

    def handler(self, signum: int, frame: Any) -> None:
        if self._held is not None:
            self._held.append(signum)
            return
        _raise_for(signum)

    def hold(self) -> None:
        self._held = []

    def release(self) -> None:
        """Stop holding; raise for the first signal that arrived meanwhile."""
        held, self._held = self._held, None
        if held:
            _raise_for(held[0])


def _raise_for(signum: int) -> None:
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Stopped(signum)


_signals = _SignalHold()


def _describe_status(status: int) -> str:
    if status < 0:
        return f"killed by {signal.Signals(-status).name}"
    return f"exit status {status}"
