"""mkdocs hook: the reference tables are generated from livecov's own code, never kept by hand.

A page asks for a table with a marker line; the hook replaces it when the site is built:

- ``<!-- livecov:help SUBCOMMAND -->``: ``livecov SUBCOMMAND --help`` (``livecov --help`` for ``-``)
- ``<!-- livecov:settings -->``: every setting (``livecov.settings.OPTIONS``): its
  ``[tool.livecov]`` key, ``livecov run`` flag, pytest option and ini key, default, help
- ``<!-- livecov:pytest-options -->``: the pytest plugin's options, as ``pytest --help`` shows them
- ``<!-- livecov:exit-statuses -->``: the exit statuses of ``livecov run`` (``errors.OUTCOMES``)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from typing import Any

MARKER = re.compile(r"^<!-- livecov:([a-z-]+)(?: (\S+))? -->$", re.MULTILINE)


def on_page_markdown(markdown: str, **_: Any) -> str:
    return MARKER.sub(lambda m: GENERATORS[m.group(1)](m.group(2)), markdown)


def exit_statuses(_: str | None = None) -> str:
    from livecov.errors import OUTCOMES

    rows = [f"| {o.label} | {o.meaning} (`{o.name}`) |" for o in OUTCOMES]
    return "\n".join(["| status | meaning (name in the result file) |", "| --- | --- |", *rows])


def command_help(subcommand: str | None) -> str:
    from livecov.cli import build_parser

    os.environ["COLUMNS"] = "100"  # argparse wraps at the terminal's width
    parser = build_parser()
    if subcommand not in (None, "-"):
        parser = _subparsers(parser)[subcommand]
    return f"```text\n{parser.format_help().rstrip()}\n```"


def settings_table(_: str | None = None) -> str:
    """Every setting of the table (livecov.settings.OPTIONS): its key, flags, default, help."""
    from livecov.settings import OPTIONS

    rows = [
        "| `[tool.livecov]` key | `livecov run` | pytest option, ini key | default | what |",
        "| --- | --- | --- | --- | --- |",
    ]
    for option in OPTIONS:
        run = _run_flags(option) if option.run else "(none)"
        under_pytest = (
            f"`--livecov-{option.pytest_key}`, `{option.ini_key}`" if option.pytest else "(none)"
        )
        what = option.help.replace("|", "\\|")
        rows.append(f"| `{option.name}` | {run} | {under_pytest} | `{option.default!r}` | {what} |")
    return "\n".join(rows)


def _run_flags(option: Any) -> str:
    if option.kind is bool:
        return f"`--{option.key}`, `--no-{option.key}`"
    value = option.metavar or "{" + ",".join(option.choices) + "}"
    if option.off is not None:
        return f"`--{option.key} {value}`, `--no-{option.key}`"
    return f"`--{option.key} {value}`"


def pytest_options(_: str | None = None) -> str:
    with tempfile.TemporaryDirectory() as empty:  # no project's ini around
        shown = subprocess.run(
            [sys.executable, "-m", "pytest", "--help"],
            capture_output=True,
            text=True,
            cwd=empty,
            check=True,
            env={**os.environ, "COLUMNS": "100"},
        ).stdout
    group = re.search(r"^live server under coverage \(livecov\):\n(.*?)\n\n", shown, re.S | re.M)
    ini = re.findall(r"^  ((?:livecov|live_server)_\S+.*(?:\n {20,}.*)*)", shown, re.M)
    assert group, "pytest --help shows no livecov group"
    return "```text\n" + group.group(1) + "\n\n[pytest] ini keys:\n  " + "\n  ".join(ini) + "\n```"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    raise LookupError("livecov's parser has no subcommands")


GENERATORS = {
    "help": command_help,
    "settings": settings_table,
    "pytest-options": pytest_options,
    "exit-statuses": exit_statuses,
}
