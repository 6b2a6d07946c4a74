"""``livecov run``: serve the app under coverage, run a test command against it, report.

The pipeline, in order: read the project's coverage configuration; start the server
(:class:`~livecov.live_server.LiveServer`); run COMMAND with ``LIVE_SERVER_URL`` in its
environment, its output streamed as it comes; stop the server gracefully; combine its
data with the data already there (the unit tests'); print and write the reports.
Every failure is one line starting ``livecov:``; the exit status says what failed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from typing import Any, TextIO

from livecov.errors import (
    CommandNotFoundError,
    CommandTimeoutError,
    ConfigError,
    CoverageLostError,
    LivecovError,
    ServerStartError,
)
from livecov.live_server import LiveServer, ServerOptions
from livecov.measure import ReportOptions, combine_into_file, open_coverage, write_reports
from livecov.settings import Settings

# Exit statuses (the command's own non-zero status is passed through).
EXIT_OK = 0
EXIT_COVERAGE_UNDER = 2
EXIT_SERVER = 3

URL_ENV = "LIVE_SERVER_URL"
TOKEN_ENV = "LIVECOV_TOKEN"  # noqa: S105 - a variable name, not a secret


class Terminated(BaseException):
    """livecov itself received SIGTERM: stop everything, keep the data."""


@dataclass
class RunResult:
    exit_status: int
    reasons: list[str] = field(default_factory=list)
    command_status: int | None = None
    total: float | None = None
    url: str = ""


def server_options(settings: Settings) -> ServerOptions:
    if not settings.app:
        raise ConfigError(
            "no app to serve: give --app MODULE:NAME or set app in [tool.livecov] of pyproject.toml"
        )
    return ServerOptions(
        app=settings.app,
        server=settings.server,
        workers=settings.workers,
        threads=settings.threads,
        setup=settings.setup,
        reset=settings.reset,
        env=settings.env,
        contexts=settings.contexts,
        startup_timeout=settings.startup_timeout,
        stop_timeout=settings.stop_timeout,
    )


def run(settings: Settings, command: list[str], out: TextIO | None = None) -> RunResult:
    """Run the whole pipeline; never raises for the user's mistakes (see ``reasons``)."""
    out = out or sys.stdout
    result = RunResult(exit_status=EXIT_OK)
    # Set explicitly: started in the background by a non-interactive shell, this process
    # would inherit SIGINT as ignored.
    previous_term = signal.signal(signal.SIGTERM, _raise_terminated)
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        _run(settings, command, out, result)
    except LivecovError as exc:
        _fail(result, exc.exit_status, str(exc))
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        signal.signal(signal.SIGINT, previous_int)
    for reason in result.reasons:
        print(f"livecov: {reason}", file=sys.stderr)
    return result


def _run(settings: Settings, command: list[str], out: TextIO, result: RunResult) -> None:
    if not command:
        raise ConfigError(
            "no test command: give one after --, e.g. livecov run -- pytest tests/e2e"
        )
    options = server_options(settings)
    cov = open_coverage(settings.rcfile or True, settings.data_file, settings.source)
    server = LiveServer(options, cov.config)
    completed = False
    try:
        try:
            _start(server, out, result)
            result.command_status = _run_command(command, result.url, server.token, settings)
            completed = True
        except (KeyboardInterrupt, Terminated) as exc:
            sig = signal.SIGTERM if isinstance(exc, Terminated) else signal.SIGINT
            _fail(result, 128 + sig, f"interrupted ({sig.name})")
        except (CommandNotFoundError, CommandTimeoutError) as exc:
            _fail(result, exc.exit_status, str(exc))
        finally:
            _stop(server, result)
        _combine_and_report(cov, server, settings, out, result, report=completed)
    finally:
        server.cleanup()


def _start(server: LiveServer, out: TextIO, result: RunResult) -> None:
    try:
        result.url = server.start()
    except ServerStartError as exc:
        output = exc.output.rstrip() or "(it printed nothing)"
        print(f"livecov: the server's output:\n{output}", file=sys.stderr)
        raise
    opts = server.options
    print(f"livecov: serving {opts.app} at {result.url} ({opts.server})", file=out)
    if server.core_choice.message:
        print(server.core_choice.line(), file=sys.stderr if server.core_choice.warning else out)
    out.flush()


def _run_command(command: list[str], url: str, token: str, settings: Settings) -> int:
    env = {**os.environ, URL_ENV: url, TOKEN_ENV: token}
    try:
        process = subprocess.Popen(command, env=env)
    except FileNotFoundError:
        raise CommandNotFoundError(f"the test command {command[0]!r} was not found") from None
    except PermissionError:
        raise CommandNotFoundError(f"the test command {command[0]!r} is not executable") from None
    try:
        return process.wait(timeout=settings.timeout)
    except subprocess.TimeoutExpired:
        _end(process, settings.stop_timeout)
        raise CommandTimeoutError(
            f"the test command did not finish within {settings.timeout:g} s (--timeout); "
            "it was stopped"
        ) from None
    except BaseException:
        _end(process, settings.stop_timeout)  # Ctrl-C reached it too; SIGTERM is passed on
        raise


def _end(process: subprocess.Popen[bytes], grace: float) -> None:
    process.terminate()
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _stop(server: LiveServer, result: RunResult) -> None:
    try:
        server.stop()
    except CoverageLostError as exc:
        _fail(result, EXIT_SERVER, str(exc))
        print(f"livecov: the server's output:\n{server.output()}", file=sys.stderr)


def _combine_and_report(
    cov: Any, server: LiveServer, settings: Settings, out: TextIO, result: RunResult, report: bool
) -> None:
    status = result.command_status
    if status:
        shell_status = 128 - status if status < 0 else status  # killed by a signal
        _fail(result, shell_status, f"the test command failed ({_describe_status(status)})")
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
        _fail(
            result,
            EXIT_COVERAGE_UNDER,
            f"total coverage {outcome.total:.{cov.config.precision}f}% is under "
            f"fail-under={outcome.fail_under:g}",
        )


def _html_directory(settings: Settings, cov: Any) -> str | None:
    if settings.html == "":
        return None  # --no-html
    return settings.html or cov.config.html_dir


def _fail(result: RunResult, status: int, reason: str) -> None:
    result.reasons.append(reason)
    if result.exit_status == EXIT_OK:
        result.exit_status = status


def _raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


def _describe_status(status: int) -> str:
    if status < 0:
        return f"killed by {signal.Signals(-status).name}"
    return f"exit status {status}"
