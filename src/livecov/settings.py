"""Settings for ``livecov``: ``[tool.livecov]`` in pyproject.toml, then the command line.

Every setting has a command-line option of the same name (``startup_timeout`` is
``--startup-timeout``). In the file, ``startup-timeout`` and ``startup_timeout`` both work.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from livecov.errors import ConfigError


@dataclass
class Settings:
    app: str | None = None
    server: str = "werkzeug"
    workers: int = 2
    threads: int = 4
    setup: str | None = None
    reset: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    contexts: bool = True
    startup_timeout: float = 30.0
    stop_timeout: float = 15.0
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

    def updated(self, values: dict[str, Any]) -> Settings:
        """A copy with ``values`` (None means: not given) applied."""
        known = {f.name for f in fields(self)}
        result = Settings(**{f.name: getattr(self, f.name) for f in fields(self)})
        for key, value in values.items():
            if key in known and value is not None:
                setattr(result, key, value)
        return result


def load_settings(path: str | Path = "pyproject.toml") -> Settings:
    """Read ``[tool.livecov]``; a missing file or table gives the defaults."""
    try:
        with open(path, "rb") as f:
            document = tomllib.load(f)
    except FileNotFoundError:
        return Settings()
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    table = document.get("tool", {}).get("livecov", {})
    return settings_from_table(table, str(path))


def settings_from_table(table: dict[str, Any], where: str) -> Settings:
    defaults = Settings()
    types = {f.name: type(getattr(defaults, f.name)) for f in fields(defaults)}
    values: dict[str, Any] = {}
    for raw_key, value in table.items():
        key = raw_key.replace("-", "_")
        if key not in types:
            known = ", ".join(sorted(types))
            raise ConfigError(f"{where}: unknown setting [tool.livecov] {raw_key!r} ({known})")
        expected = types[key]
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if expected is not type(None) and not isinstance(value, expected):
            raise ConfigError(
                f"{where}: [tool.livecov] {raw_key} must be {expected.__name__}, "
                f"not {type(value).__name__}"
            )
        values[key] = value
    if not all(isinstance(v, str) for v in values.get("env", {}).values()):
        raise ConfigError(f"{where}: [tool.livecov.env] values must be strings")
    return defaults.updated(values)
