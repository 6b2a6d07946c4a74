"""The ``livecov`` command line: a thin layer over :mod:`livecov.runner` and friends."""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from livecov import __version__
from livecov.errors import EXIT_USAGE, OUTCOMES, ConfigError, LivecovError
from livecov.live_server import SERVERS
from livecov.settings import Settings, load_settings

DESCRIPTION = """\
Measure the coverage of a web app while it runs as a real server and your end-to-end
tests drive it, then report it together with your unit tests' coverage.
"""

RUN_EPILOG = """\
The server listens on 127.0.0.1 on a port the system picks; COMMAND finds its URL in
LIVE_SERVER_URL. A request with the header 'Livecov-Context: NAME' is recorded under the
coverage context NAME, so the HTML report shows which test ran each line.

examples:
  livecov run --app flaskr:create_app -- sh -c 'curl -fsS "$LIVE_SERVER_URL/hello"'
  livecov run -- pytest tests/e2e              (app and options from [tool.livecov])
  livecov run --server gunicorn --workers 3 -- npx playwright test
  coverage run -m pytest tests/unit && livecov run -- node e2e/run.mjs

exit status (--result-file tells livecov's from the command's own):
{statuses}
"""


def _status_lines() -> str:
    return "\n".join(
        textwrap.fill(f"{o.label}: {o.meaning}", 88, initial_indent="  ", subsequent_indent="    ")
        for o in OUTCOMES
    )


class Parser(argparse.ArgumentParser):
    """Usage errors exit with livecov's status for them (argparse's own 2 is taken)."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"livecov: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="livecov", description=DESCRIPTION)
    parser.add_argument("--version", action="version", version=f"livecov {__version__}")
    commands = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
    run = commands.add_parser(
        "run",
        help="serve the app under coverage, run a test command against it, report",
        description=DESCRIPTION,
        epilog=RUN_EPILOG.format(statuses=_status_lines()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_server_arguments(run)
    _add_coverage_arguments(run)
    run.add_argument("--timeout", type=float, metavar="S", help="stop COMMAND after S seconds")
    run.add_argument(
        "--result-file",
        metavar="FILE",
        help="write the outcome as JSON (exit status, whether it is the command's, reasons)",
    )
    run.add_argument("command", nargs=argparse.REMAINDER, metavar="-- COMMAND [ARGS...]")
    contexts = commands.add_parser(
        "contexts",
        help="list the lines only end-to-end tests cover, and those only unit tests cover",
    )
    _add_data_arguments(contexts)
    contexts.add_argument(
        "--e2e",
        metavar="PATTERN",
        action="append",
        help="a context matching this glob is an end-to-end context "
        "(default: the live server's contexts)",
    )
    contexts.add_argument(
        "--include",
        metavar="GLOB",
        action="append",
        help="only files whose relative path matches (e.g. 'src/myapp/*')",
    )
    _add_affected_commands(commands)
    return parser


AFFECTED_EPILOG = """\
The coverage data must hold per-test contexts (make test, pytest --cov --cov-context=test,
coverage run -m pytest --livecov-test-contexts, livecov run) and remember the commit it
was measured at (livecov records it; `livecov record` after `coverage combine`).
Changed files that no test data speaks for select every test, unless [tool.livecov.affected]
ignore (or always) globs in pyproject.toml say otherwise.

examples:
  livecov affected                         what to run for the changes since the data
  pytest $(livecov affected --base main)   run them (or: pytest --livecov-affected=main)
  livecov affected --explain               and which changed lines selected each test
"""


def _add_affected_commands(commands: Any) -> None:
    affected = commands.add_parser(
        "affected",
        help="list the tests (pytest node ids) that a change can break",
        description="List the tests, unit and end-to-end, whose recorded coverage a change "
        "in the working tree touches: one pytest node id (or test file) per line.",
        epilog=AFFECTED_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    affected.add_argument(
        "--base", metavar="REV", help="the revision to compare with (default: the data's commit)"
    )
    _add_data_arguments(affected)
    affected.add_argument(
        "--explain", action="store_true", help="say which changed lines selected each test"
    )
    record = commands.add_parser(
        "record",
        help="remember in the coverage data the commit and files it was measured on",
        description="Store in the coverage data file the current commit and the content of "
        "every measured file, for livecov affected. Run it after coverage combine.",
    )
    _add_data_arguments(record)


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-file", metavar="FILE", help="coverage data file (.coverage)")
    parser.add_argument("--rcfile", metavar="FILE", help="coverage configuration file")


def _add_server_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("the server")
    group.add_argument("--config", default="pyproject.toml", help="read [tool.livecov] from here")
    group.add_argument("--app", metavar="MODULE:NAME", help="WSGI or ASGI app or factory to serve")
    group.add_argument(
        "--server",
        choices=SERVERS,
        help="default: auto, which is werkzeug for a WSGI app and uvicorn for an ASGI app",
    )
    group.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="server processes: gunicorn's (default 2), or uvicorn's for an ASGI app "
        "(default 1); werkzeug and waitress serve from one",
    )
    group.add_argument("--threads", type=int, metavar="N", help="waitress threads")
    group.add_argument("--setup", metavar="MODULE:FUNC", help="hook run once before serving")
    group.add_argument("--reset", metavar="MODULE:FUNC", help="hook run by POST /__livecov__/reset")
    group.add_argument(
        "--warmup",
        metavar="MODULE:FUNC",
        help="hook run in each server process before it listens, to load what the first "
        "request would (its lines count for live-server)",
    )
    group.add_argument(
        "--env",
        metavar="KEY=VALUE",
        action="append",
        help="set in the server's environment; {tmpdir} is its fresh temporary directory",
    )
    group.add_argument(
        "--pythonpath",
        metavar="DIR",
        action="append",
        help="put DIR first on the server's PYTHONPATH (a src layout: --pythonpath src)",
    )
    group.add_argument(
        "--no-contexts",
        dest="contexts",
        action="store_false",
        default=None,
        help="do not record which request ran a line (serves requests concurrently)",
    )
    group.add_argument(
        "--no-server-output",
        dest="server_output",
        action="store_false",
        default=None,
        help="do not show what the server prints (shown as it comes, each line marked)",
    )
    group.add_argument(
        "--fail-on-app-errors",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="fail the run when the app raised while serving a request (default: on)",
    )
    group.add_argument("--startup-timeout", type=float, metavar="S", help="default: 30")
    group.add_argument("--stop-timeout", type=float, metavar="S", help="default: 15")


def _add_coverage_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("coverage and reports")
    group.add_argument("--rcfile", metavar="FILE", help="coverage configuration file")
    group.add_argument("--data-file", metavar="FILE", help="coverage data file (.coverage)")
    group.add_argument("--source", metavar="PATHS", help="comma-separated, as coverage run")
    group.add_argument(
        "--erase", action="store_true", default=None, help="discard existing data first"
    )
    group.add_argument("--html", metavar="DIR", help="HTML report directory (default: htmlcov)")
    group.add_argument("--no-html", dest="html", action="store_const", const="")
    group.add_argument("--xml", metavar="FILE", help="also write an XML (Cobertura) report")
    group.add_argument("--json", metavar="FILE", help="also write a JSON report")
    group.add_argument(
        "--no-show-contexts",
        dest="show_contexts",
        action="store_false",
        default=None,
        help="do not list contexts per line in the HTML report",
    )
    group.add_argument("--fail-under", type=float, metavar="N", help="minimum total percentage")


def settings_from_args(args: argparse.Namespace) -> Settings:
    settings = load_settings(args.config)
    values: dict[str, Any] = dict(vars(args))
    if args.env:
        values["env"] = {**settings.env, **_parse_env(args.env)}
    if args.source:
        values["source"] = [s for s in args.source.split(",") if s]
    if args.pythonpath:
        values["pythonpath"] = [str(Path(folder).absolute()) for folder in args.pythonpath]
    return settings.updated(values)


def _parse_env(pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"--env takes KEY=VALUE, not {pair!r}")
        env[key] = value
    return env


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.subcommand == "run":
            return _run(args)
        if args.subcommand == "contexts":
            return _contexts(args)
        if args.subcommand in ("affected", "record"):
            return _affected(args)
    except LivecovError as exc:
        print(f"livecov: {exc}", file=sys.stderr)
        _write_failure_result(args, exc)
        return exc.exit_status
    parser.print_help()
    return EXIT_USAGE


def _run(args: argparse.Namespace) -> int:
    from livecov.runner import run

    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    return run(settings_from_args(args), command).exit_status


def _write_failure_result(args: argparse.Namespace, exc: LivecovError) -> None:
    """A usage error found before the run began still gets its result file."""
    path = getattr(args, "result_file", None)
    if path:
        from livecov.run_result import RunResult, write_result_file

        result = RunResult()
        result.fail(exc.outcome, str(exc))
        write_result_file(path, result)


def _contexts(args: argparse.Namespace) -> int:
    from livecov.contexts import contexts_report

    return contexts_report(args.data_file, args.rcfile, args.e2e, include=args.include)


def _affected(args: argparse.Namespace) -> int:
    from livecov.affected.report import affected_report, record_report
    from livecov.measure import open_coverage

    data_file = open_coverage(args.rcfile or True, args.data_file).config.data_file
    if args.subcommand == "record":
        return record_report(data_file)
    return affected_report(data_file, base=args.base, explain=args.explain)
