"""``livecov run``: serve the app under coverage, run a test command against it, report.

The pipeline, in order: read the project's coverage configuration; start the server
(:class:`~livecov.live_server.LiveServer`); run COMMAND in a process group of its own with
``LIVE_SERVER_URL`` in its environment, its output streamed as it comes; stop the server
gracefully; combine its data with the data already there (the unit tests'); print and
write the reports. Every failure is one line starting ``livecov:``; the exit status says
what failed (:data:`livecov.errors.OUTCOMES`), and the result file says it for scripts.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any, TextIO

import coverage

from livecov import errors
from livecov.control import TMPDIR_ENV, TOKEN_ENV, URL_ENV
from livecov.errors import (
    CommandNotExecutableError,
    CommandNotFoundError,
    CommandTimeoutError,
    ConfigError,
    CoverageLostError,
    LivecovError,
    ServerStartError,
)
from livecov.features import register_data_steps
from livecov.live_server import LiveServer
from livecov.measure import (
    ReportOptions,
    check_measured_alike,
    check_not_measured_into,
    combine_into_file,
    open_coverage,
    write_reports,
)
from livecov.output import CommandOutput, app_errors
from livecov.processes import describe_exit, stop_group, stop_leftovers
from livecov.run_result import RunResult, write_result_file
from livecov.settings import Settings, server_options

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


def run(settings: Settings, command: list[str], out: TextIO | None = None) -> RunResult:
    """Run the whole pipeline; never raises for the user's mistakes (see ``failures``)."""
    register_data_steps()  # the template repair and the commit record, as data is combined
    return Run(settings, command, out or sys.stdout).execute()


def _say(line: str, stream: TextIO) -> None:
    """One line of livecov's own while the server runs, in one write: print() writes the
    text and its newline apart, and unbuffered (``PYTHONUNBUFFERED=1``, common in CI
    images) a line of the server's, written meanwhile to the same log, lands between them."""
    stream.write(line + "\n")
    stream.flush()


class Run:
    """One ``livecov run``: what it was asked (settings, command), where it reports (``out``,
    stderr for failures), the server it started and the result it builds step by step."""

    server: LiveServer
    cov: coverage.Coverage

    def __init__(self, settings: Settings, command: list[str], out: TextIO) -> None:
        self.settings = settings
        self.command = command
        self.out = out
        self.result = RunResult()
        self.passage: CommandOutput | None = None

    def execute(self) -> RunResult:
        # Set explicitly: started in the background by a non-interactive shell, this
        # process would inherit SIGINT as ignored.
        previous = {sig: signal.signal(sig, _signals.handler) for sig in _STOP_SIGNALS}
        try:
            self._serve_and_run()
        except LivecovError as exc:
            self.result.fail(exc.outcome, str(exc))
        except (KeyboardInterrupt, Stopped) as exc:  # before the steps, or while stopping
            self._interrupted(exc)
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        for reason in self.result.reasons:
            print(f"livecov: {reason}", file=sys.stderr)
        if self.settings.result_file:
            write_result_file(self.settings.result_file, self.result)
        return self.result

    def _serve_and_run(self) -> None:
        settings = self.settings
        if not self.command:
            raise ConfigError(
                "no test command: give one after --, e.g. livecov run -- pytest tests/e2e"
            )
        options = server_options(settings)
        self.cov = open_coverage(settings.rcfile or True, settings.data_file, settings.source)
        check_not_measured_into(self.cov)
        if not settings.erase:
            check_measured_alike(self.cov)
        # The server's lines shown as they come, never inside a line of the command's.
        self.passage = CommandOutput(SERVER_MARK) if settings.server_output else None
        on_output = self.passage.server_line if self.passage else None
        self.server = LiveServer(options, self.cov.config, on_output=on_output)
        try:
            completed = self._serve_the_command()
            self._command_failed()
            self._app_errors()
            self._combine_and_report(report=completed)
        finally:
            self.server.cleanup()

    def _serve_the_command(self) -> bool:
        """Start the server, run the command, stop the server; whether the command ran to
        its end (its own status, whatever it is)."""
        try:
            self._start()
            self.result.command_status = self._run_command()
            return True
        except (KeyboardInterrupt, Stopped) as exc:
            self._interrupted(exc)
        except (CommandNotFoundError, CommandNotExecutableError, CommandTimeoutError) as exc:
            self.result.fail(exc.outcome, str(exc))
        finally:
            if self.passage:
                self.passage.close()  # the command is gone: its output has ended
            self._stop()
        return False

    def _interrupted(self, exc: BaseException) -> None:
        sig = exc.signum if isinstance(exc, Stopped) else signal.SIGINT
        name = signal.Signals(sig).name
        self.result.fail(errors.INTERRUPTED, f"interrupted ({name})", errors.EXIT_SIGNAL_BASE + sig)

    def _start(self) -> None:
        server, out = self.server, self.out
        try:
            self.result.url = server.start()
        except ConfigError:
            raise  # a setting to fix: its one line says it all
        except ServerStartError as exc:
            if not self.settings.server_output:  # not shown as it came: the reason may be in it
                output = exc.output.rstrip() or "(it printed nothing)"
                print(f"livecov: the server's output:\n{output}", file=sys.stderr)
            raise
        opts = server.options
        _say(f"livecov: serving {opts.app} at {self.result.url} ({server.backend})", out)
        if server.core_choice.message:
            choice = server.core_choice
            _say(choice.line(), sys.stderr if choice.warning else out)

    def _run_command(self) -> int:
        server = self.server
        # The server's URL, its token (for the control endpoints) and its temporary folder:
        # a pytest run in COMMAND uses this server (livecov.control.RunServer), starting none.
        env = {
            **os.environ,
            URL_ENV: server.url,
            TOKEN_ENV: server.token,
            TMPDIR_ENV: str(server.tmpdir),
        }
        grace = self.settings.stop_timeout
        # A stop signal arriving while the command starts would otherwise be raised before
        # there is a process to stop (inside Popen, or before the try below): the command
        # and its children would run on, unowned. It is held until the try can stop them.
        _signals.hold()
        try:
            process = _start_command(self.command, env, self.passage)
        except BaseException:
            _signals.release()  # a signal held meanwhile wins over a command that did not start
            raise
        stopped_by: int | None = signal.SIGTERM  # unless it ends by itself
        try:
            _signals.release()
            status = process.wait(timeout=self.settings.timeout)
            stopped_by = None
        except subprocess.TimeoutExpired:
            raise CommandTimeoutError(
                f"the test command did not finish within {self.settings.timeout:g} s "
                "(--timeout); it was stopped"
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

    def _stop(self) -> None:
        try:
            self.server.stop()
        except CoverageLostError as exc:
            self.result.fail(exc.outcome, str(exc))
            if not self.settings.server_output:
                print(f"livecov: the server's output:\n{self.server.output()}", file=sys.stderr)

    def _command_failed(self) -> None:
        status = self.result.command_status
        if status:
            shell_status = errors.EXIT_SIGNAL_BASE - status if status < 0 else status
            self.result.fail(
                errors.COMMAND_FAILED, f"the test command failed ({describe_exit(status)})",
                shell_status,
            )  # fmt: skip

    def _app_errors(self) -> None:
        """Say how many requests the app failed, with the first exception's last line."""
        server, result = self.server, self.result
        log = server.log_path.read_text(errors="replace") if server.log_path.exists() else ""
        failed = app_errors(server.app_errors(), log)
        if failed is None:
            return
        result.app_errors = len(failed.entries)
        result.first_exception = failed.first_exception
        if failed.unhandled and self.settings.fail_on_app_errors:
            result.fail(
                errors.APP_ERRORS,
                failed.message() + " (--no-fail-on-app-errors lets the run pass)",
            )
        else:
            print(f"livecov: {failed.message()}", file=sys.stderr)

    def _combine_and_report(self, report: bool) -> None:
        cov, settings = self.cov, self.settings
        if not self.server.data_files:
            return
        if combine_into_file(cov, self.server.data_files, append=not settings.erase):
            print(
                f"livecov: {cov.config.data_file} already held an earlier live server's data "
                "(a livecov run, or pytest with livecov's plugin): its lines and tests count "
                "in this report too, also where the code has changed since; --erase starts "
                "afresh",
                file=sys.stderr,
            )
        if not report:
            print(
                f"livecov: the server's coverage was saved in {cov.config.data_file}",
                file=self.out,
            )
            return
        options = ReportOptions(
            html=self._html_directory(),
            xml=settings.xml,
            json=settings.json,
            show_contexts=settings.show_contexts,
            fail_under=settings.fail_under,
        )
        outcome = write_reports(cov, options, self.out)
        self.result.total = outcome.total
        if outcome.failed:
            self.result.fail(
                errors.COVERAGE_UNDER,
                f"total coverage {outcome.total:.{cov.config.precision}f}% is under "
                f"fail-under={outcome.fail_under:g}",
            )

    def _html_directory(self) -> str | None:
        if self.settings.html == "":
            return None  # --no-html
        return self.settings.html or self.cov.config.html_dir


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
