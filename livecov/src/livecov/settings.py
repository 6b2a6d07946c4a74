"""livecov's settings, each declared once: the table every front end is generated from.

A setting is a field of :class:`Settings` whose metadata is its :class:`Option`: its name,
type and default are the field's, its help text and where it applies are the option's. From
that one declaration come the ``livecov run`` flags (:mod:`livecov.cli`), the
``[tool.livecov]`` keys and their validation (:func:`load_settings`), the pytest plugin's
options and ini keys (:mod:`livecov.pytest_options`), what goes to the server process
(:func:`server_options`) and the documentation's reference table (``docs/hooks.py``).

In the file, ``startup-timeout`` and ``startup_timeout`` both work.
"""

from __future__ import annotations

import copy
import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from livecov.errors import ConfigError
from livecov.live_server import SERVERS, ServerOptions
from livecov.pyproject import read_livecov_table

OPTION = "livecov.option"  # the metadata key of a Settings field's declaration


@dataclass(frozen=True)
class Option:
    """One setting's declaration; ``name``, ``kind`` and ``default`` come from its field."""

    help: str
    metavar: str | None = None
    run: bool = True  # a `livecov run` flag --NAME (every setting is a [tool.livecov] key)
    pytest: bool = False  # a pytest option --livecov-NAME and ini key livecov_NAME
    server: bool = False  # goes to the server process (a field of ServerOptions)
    group: str = "the server"  # the section of `livecov run --help` it is listed in
    choices: tuple[str, ...] = ()
    at_least: int | None = None
    positive: bool = False  # more than 0 (seconds)
    percentage: bool = False  # 0 to 100
    off: str | None = None  # a str setting's --no-NAME flag gives this value (--no-html: "")
    comma_separated: bool = False  # on the command line: a,b,c (as coverage run's --source)
    folders: bool = False  # paths relative to where they are written (file, rootdir, cwd)
    legacy: str = ""  # its former pytest name: --live-server-LEGACY, ini live_server_LEGACY
    # Its pytest name where livecov_NAME would be a fixture's: --livecov-PYTEST-NAME and ini
    # livecov_PYTEST_NAME; --livecov-NAME and livecov_NAME still work, deprecated.
    pytest_name: str = ""
    legacy_words: tuple[tuple[str, Any], ...] = ()  # the values the former name took
    name: str = ""
    kind: type = str  # as TOML gives it: str, int, float, bool, list (of str), dict (str: str)
    default: Any = None

    @property
    def key(self) -> str:
        """The name as the command line and the messages spell it: ``startup-timeout``."""
        return self.name.replace("_", "-")

    @property
    def pytest_key(self) -> str:
        """The name in its pytest option: ``--livecov-`` and this, ``server-program``."""
        return (self.pytest_name or self.name).replace("_", "-")

    @property
    def ini_key(self) -> str:
        """Its pytest ini key: ``livecov_server_program``."""
        return f"livecov_{self.pytest_name or self.name}"

    @property
    def described(self) -> str:
        """The help text, with the default unless it is none or the text says it already."""
        default = self.default
        if default in (None, [], {}) or "default" in self.help:
            return self.help
        if isinstance(default, bool):
            shown = "on" if default else "off"
        elif isinstance(default, float):
            shown = f"{default:g}"
        else:
            shown = str(default)
        return f"{self.help} (default: {shown})"

    def problem(self, value: Any) -> str | None:
        """What is wrong with ``value`` (of the right type), as ``must be ...``; None: fine."""
        if value is None:
            return None
        if self.choices and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}, not {value!r}"
        if self.at_least is not None and value < self.at_least:
            return f"must be at least {self.at_least}, not {value}"
        if self.positive and not value > 0:
            return f"must be more than 0 s, not {value:g}"
        if self.percentage and not 0 <= value <= 100:
            return f"must be between 0 and 100, not {value:g}"
        return None

    def from_text(self, text: str) -> Any:
        """The value a command line or an ini file gives as text; ConfigError ``must be ...``
        when it is not one (lists and tables: see :meth:`from_lines`)."""
        words = dict(self.legacy_words)
        if text in words:
            return words[text]
        if self.kind is bool:
            return _boolean(text)
        if self.kind in (int, float):
            try:
                return self.kind(text)
            except ValueError:
                raise ConfigError(f"must be {self.kind.__name__}, not {text!r}") from None
        return text

    def from_lines(self, lines: list[str]) -> Any:
        """A list's or a table's value from its lines (``KEY=VALUE`` for a table)."""
        if self.kind is dict:
            return dict(_pair(line) for line in lines)
        if self.comma_separated:
            return [part for line in lines for part in line.split(",") if part]
        return list(lines)


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ConfigError(f"must be true or false, not {text!r}")


def _pair(line: str) -> tuple[str, str]:
    key, sep, value = line.partition("=")
    if not sep or not key:
        raise ConfigError(f"takes KEY=VALUE, not {line!r}")
    return key, value


def option(default: Any, help: str, **declared: Any) -> Any:
    """A Settings field declared as an :class:`Option`."""
    metadata = {OPTION: Option(help, **declared)}
    if isinstance(default, list | dict):
        return field(default_factory=lambda: copy.copy(default), metadata=metadata)
    return field(default=default, metadata=metadata)


SERVER_SIDE = {"run": True, "pytest": True, "server": True}
REPORTS = {"group": "coverage and reports"}


@dataclass
class Settings:
    app: str | None = option(
        None,
        "WSGI or ASGI app or factory to serve",
        metavar="MODULE:NAME",
        legacy="app",
        **SERVER_SIDE,
    )
    server: str = option(
        ServerOptions.server,
        "the server to run it under; auto: werkzeug for a WSGI app, uvicorn for an ASGI app",
        choices=SERVERS,
        legacy="backend",
        pytest_name="server_program",  # livecov_server is the fixture
        **SERVER_SIDE,
    )
    workers: int | None = option(
        ServerOptions.workers,
        "server processes: gunicorn's (default 2), or uvicorn's for an ASGI app (default 1); "
        "werkzeug and waitress serve from one",
        metavar="N",
        at_least=1,
        legacy="workers",
        **SERVER_SIDE,
    )
    threads: int = option(
        ServerOptions.threads, "waitress threads", metavar="N", at_least=1, **SERVER_SIDE
    )
    setup: str | None = option(
        ServerOptions.setup, "hook run once before serving", metavar="MODULE:FUNC", **SERVER_SIDE
    )
    reset: str | None = option(
        ServerOptions.reset,
        "hook run by POST /__livecov__/reset (default: the setup hook)",
        metavar="MODULE:FUNC",
        **SERVER_SIDE,
    )
    warmup: str | None = option(
        ServerOptions.warmup,
        "hook run in each server process before it listens, to load what the first request "
        "would (its lines count for live-server)",
        metavar="MODULE:FUNC",
        **SERVER_SIDE,
    )
    env: dict[str, str] = option(
        {},
        "set in the server's environment; {tmpdir} is its fresh temporary directory",
        metavar="KEY=VALUE",
        **SERVER_SIDE,
    )
    pythonpath: list[str] = option(
        [],
        "put DIR first on the server's PYTHONPATH (a src layout: src)",
        metavar="DIR",
        folders=True,
        **SERVER_SIDE,
    )
    contexts: bool = option(
        ServerOptions.contexts,
        "record which request ran a line (off: requests are served concurrently)",
        **SERVER_SIDE,
    )
    startup_timeout: float = option(
        ServerOptions.startup_timeout,
        "seconds to wait for the server to listen",
        metavar="S",
        positive=True,
        legacy="startup-timeout",
        **SERVER_SIDE,
    )
    stop_timeout: float = option(
        ServerOptions.stop_timeout,
        "seconds the server may take to stop and save its data",
        metavar="S",
        positive=True,
        **SERVER_SIDE,
    )
    server_output: bool = option(
        True,
        "show what the server prints (as it comes, each line marked; under pytest, "
        "in the report of the test it printed during)",
        pytest=True,
    )
    fail_on_app_errors: bool = option(
        True,
        "fail the run (under pytest: the test) when the app raised while serving a request",
        pytest=True,
    )
    timeout: float | None = option(
        None, "stop COMMAND after S seconds", metavar="S", positive=True, group=""
    )
    rcfile: str | None = option(None, "coverage configuration file", metavar="FILE", **REPORTS)
    data_file: str | None = option(
        None, "coverage data file (.coverage)", metavar="FILE", **REPORTS
    )
    source: list[str] | None = option(
        None,
        "what to measure, comma-separated, as coverage run's --source",
        metavar="PATHS",
        comma_separated=True,
        **REPORTS,
    )
    erase: bool = option(False, "discard the existing coverage data first", **REPORTS)
    html: str | None = option(
        None,
        "HTML report directory (default: coverage's, htmlcov)",
        metavar="DIR",
        off="",
        **REPORTS,
    )
    xml: str | None = option(
        None, "also write an XML (Cobertura) report", metavar="FILE", **REPORTS
    )
    json: str | None = option(None, "also write a JSON report", metavar="FILE", **REPORTS)
    show_contexts: bool = option(
        True, "list the contexts of each line in the HTML report", **REPORTS
    )
    fail_under: float | None = option(
        None, "minimum total percentage", metavar="N", percentage=True, **REPORTS
    )
    result_file: str | None = option(
        None,
        "write the outcome as JSON (exit status, whether it is the command's, reasons)",
        metavar="FILE",
        group="",
    )
    # The pytest plugin only.
    auto_reset: bool = option(
        True,
        "reset the app's data (the reset hook, else the setup hook) before each test "
        "that reaches the live server",
        run=False,
        pytest=True,
        legacy="reset",
        legacy_words=(("auto", True), ("never", False)),
    )
    live_server_fixture: bool | None = option(
        None,
        "whether livecov gives the live_server fixture (default: where no other plugin "
        "defines one; see the pytest page)",
        run=False,
        pytest=True,
    )

    def updated(self, values: dict[str, Any]) -> Settings:
        """A copy with ``values`` (None means: not given) applied; a table (``env``) is
        added to, entry by entry."""
        result = copy.deepcopy(self)
        for option in OPTIONS:
            value = values.get(option.name)
            if isinstance(value, dict):
                value = {**getattr(self, option.name), **value}
            if value is not None:
                setattr(result, option.name, value)
        result.check()
        return result

    def check(self) -> None:
        """Raise ConfigError for a value no run could work with."""
        for option in OPTIONS:
            problem = option.problem(getattr(self, option.name))
            if problem:
                raise ConfigError(f"{option.key} {problem}")


def _declarations() -> tuple[Option, ...]:
    """The table: every setting's Option, its name, kind and default filled in."""
    hints = typing.get_type_hints(Settings)
    defaults = Settings()
    table = []
    for setting in fields(Settings):
        hint = hints[setting.name]
        if isinstance(hint, types.UnionType):  # X | None: TOML has no null, so X
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        kind = typing.get_origin(hint) or hint
        default = getattr(defaults, setting.name)
        declared = setting.metadata[OPTION]
        table.append(_filled(declared, setting.name, kind, default))
    return tuple(table)


def _filled(declared: Option, name: str, kind: type, default: Any) -> Option:
    values = {f.name: getattr(declared, f.name) for f in fields(Option)}
    return Option(**{**values, "name": name, "kind": kind, "default": default})


OPTIONS = _declarations()
BY_NAME = {option.name: option for option in OPTIONS}


def server_options(settings: Settings) -> ServerOptions:
    """What the server process is started with: the settings that go to it."""
    if not settings.app:
        raise ConfigError(
            "no app to serve: give --app MODULE:NAME or set app in [tool.livecov] of pyproject.toml"
        )
    return ServerOptions(**{o.name: getattr(settings, o.name) for o in OPTIONS if o.server})


def load_settings(path: str | Path = "pyproject.toml") -> Settings:
    """Read ``[tool.livecov]``; a missing file or table gives the defaults.

    ``pythonpath`` folders are relative to the file's folder, as pytest's are to its rootdir.
    """
    settings = settings_from_table(read_livecov_table(path), str(path))
    folder = Path(path).parent.absolute()
    settings.pythonpath = [str(folder / entry) for entry in settings.pythonpath]
    return settings


def settings_from_table(table: dict[str, Any], where: str) -> Settings:
    values: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key == "affected":
            continue  # [tool.livecov.affected]: read by livecov.affected
        if key not in BY_NAME:
            known = ", ".join(sorted(BY_NAME))
            raise ConfigError(f"{where}: unknown setting [tool.livecov] {raw_key!r} ({known})")
        values[key] = _typed(BY_NAME[key], raw_key, value, where)
    try:
        return Settings().updated(values)
    except ConfigError as exc:
        raise ConfigError(f"{where}: [tool.livecov] {exc}") from None


def _typed(option: Option, raw_key: str, value: Any, where: str) -> Any:
    """``value`` as the option's type, or ConfigError naming the key."""
    expected = option.kind
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        raise ConfigError(
            f"{where}: [tool.livecov] {raw_key} must be {expected.__name__}, "
            f"not {type(value).__name__}"
        )
    if isinstance(value, dict) and not all(isinstance(v, str) for v in value.values()):
        raise ConfigError(f"{where}: [tool.livecov.{raw_key}] values must be strings")
    if isinstance(value, list) and not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: [tool.livecov] {raw_key} must be a list of strings")
    return value
