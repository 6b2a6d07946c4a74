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
from livecov.settings import OPTIONS, Option, Settings, load_settings

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
    _add_setting_arguments(run)
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


def _add_setting_arguments(parser: argparse.ArgumentParser) -> None:
    """One flag per setting of the table that ``livecov run`` takes (livecov.settings)."""
    parser.add_argument("--config", default="pyproject.toml", help="read [tool.livecov] from here")
    groups: dict[str, Any] = {"": parser}
    for option in OPTIONS:
        if option.run:
            if option.group not in groups:
                groups[option.group] = parser.add_argument_group(option.group)
            _add_flag(groups[option.group], option)


def _add_flag(group: Any, option: Option) -> None:
    flag = f"--{option.key}"
    shown = option.described
    if option.kind is bool:
        group.add_argument(flag, action=argparse.BooleanOptionalAction, help=shown)
    elif option.kind in (list, dict):
        group.add_argument(flag, action="append", metavar=option.metavar, help=shown)
    else:
        kind = option.kind if option.kind in (int, float) else None
        group.add_argument(
            flag, type=kind, choices=option.choices or None, metavar=option.metavar, help=shown
        )
    if option.off is not None:
        group.add_argument(f"--no-{option.key}", dest=option.name, action="store_const",
                           const=option.off, help=f"turn {option.key} off")  # fmt: skip


def settings_from_args(args: argparse.Namespace) -> Settings:
    """``[tool.livecov]`` from ``--config``, then the flags given."""
    settings = load_settings(args.config)
    values: dict[str, Any] = {}
    for option in OPTIONS:
        given = getattr(args, option.name, None)
        if option.run and given is not None:
            values[option.name] = _from_flag(option, given)
    return settings.updated(values)


def _from_flag(option: Option, given: Any) -> Any:
    if option.kind not in (list, dict):
        return given
    try:
        value = option.from_lines(given)
    except ConfigError as exc:
        raise ConfigError(f"--{option.key} {exc}") from None
    if option.folders:
        return [str(Path(folder).absolute()) for folder in value]
    return value


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
