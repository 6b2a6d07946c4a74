"""Settings for ``livecov``: ``[tool.livecov]`` in pyproject.toml, then the command line.

Every setting has a command-line option of the same name (``startup_timeout`` is
``--startup-timeout``). In the file, ``startup-timeout`` and ``startup_timeout`` both work.
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from livecov.errors import ConfigError
from livecov.live_server import ServerOptions
from livecov.pyproject import read_livecov_table


@dataclass
class Settings:
    # How to serve the app: ServerOptions's fields of the same names, with its defaults.
    app: str | None = None
    server: str = ServerOptions.server
    workers: int | None = ServerOptions.workers  # None: the server's default
    threads: int = ServerOptions.threads
    setup: str | None = ServerOptions.setup
    reset: str | None = ServerOptions.reset
    warmup: str | None = ServerOptions.warmup
    env: dict[str, str] = field(default_factory=dict)
    pythonpath: list[str] = field(default_factory=list)
    contexts: bool = ServerOptions.contexts
    startup_timeout: float = ServerOptions.startup_timeout
    stop_timeout: float = ServerOptions.stop_timeout
    # What to do around it.
    timeout: float | None = None
    rcfile: str | None = None
    data_file: str | None = None
    source: list[str] | None = None
    html: str | None = None
    xml: str | None = None
    json: str | None = None
    show_contexts: bool = True
    fail_under: float | None = None
    erase: bool = False
    result_file: str | None = None
    server_output: bool = True
    fail_on_app_errors: bool = True
    # The pytest plugin only: whether livecov gives the live_server fixture (None: where no
    # other plugin defines one; see livecov.pytest_live_server).
    live_server_fixture: bool | None = None

    def updated(self, values: dict[str, Any]) -> Settings:
        """A copy with ``values`` (None means: not given) applied."""
        known = {f.name for f in fields(self)}
        result = Settings(**{f.name: getattr(self, f.name) for f in fields(self)})
        for key, value in values.items():
            if key in known and value is not None:
                setattr(result, key, value)
        result.check()
        return result

    def check(self) -> None:
        """Raise ConfigError for a value no run could work with."""
        for name in ("workers", "threads"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, not {value}")
        for name in ("startup_timeout", "stop_timeout", "timeout"):
            value = getattr(self, name)
            if value is not None and not value > 0:
                raise ConfigError(f"{name.replace('_', '-')} must be more than 0 s, not {value:g}")
        if self.fail_under is not None and not 0 <= self.fail_under <= 100:
            raise ConfigError(f"fail-under must be between 0 and 100, not {self.fail_under:g}")


def load_settings(path: str | Path = "pyproject.toml") -> Settings:
    """Read ``[tool.livecov]``; a missing file or table gives the defaults.

    ``pythonpath`` folders are relative to the file's folder, as pytest's are to its rootdir.
    """
    settings = settings_from_table(read_livecov_table(path), str(path))
    folder = Path(path).parent.absolute()
    settings.pythonpath = [str(folder / entry) for entry in settings.pythonpath]
    return settings


def setting_types() -> dict[str, type]:
    """Each setting's type as TOML must give it: ``str | None`` is str, ``list[str]`` list."""
    result = {}
    for name, hint in typing.get_type_hints(Settings).items():
        if isinstance(hint, types.UnionType):  # X | None: TOML has no null, so X
            hint = next(a for a in typing.get_args(hint) if a is not type(None))
        result[name] = typing.get_origin(hint) or hint
    return result


def settings_from_table(table: dict[str, Any], where: str) -> Settings:
    expected_types = setting_types()
    values: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key == "affected":
            continue  # [tool.livecov.affected]: read by livecov.affected
        if key not in expected_types:
            known = ", ".join(sorted(expected_types))
            raise ConfigError(f"{where}: unknown setting [tool.livecov] {raw_key!r} ({known})")
        expected = expected_types[key]
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            raise ConfigError(
                f"{where}: [tool.livecov] {raw_key} must be {expected.__name__}, "
                f"not {type(value).__name__}"
            )
        values[key] = value
    if not all(isinstance(v, str) for v in values.get("env", {}).values()):
        raise ConfigError(f"{where}: [tool.livecov.env] values must be strings")
    for name in ("source", "pythonpath"):
        if not all(isinstance(v, str) for v in values.get(name, [])):
            raise ConfigError(f"{where}: [tool.livecov] {name} must be a list of strings")
    try:
        return Settings().updated(values)
    except ConfigError as exc:
        raise ConfigError(f"{where}: [tool.livecov] {exc}") from None
