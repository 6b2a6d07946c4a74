"""``[tool.livecov.affected]``: files that select every test, files that select none."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from livecov.errors import ConfigError
from livecov.pyproject import read_livecov_table


@dataclass
class AffectedSettings:
    """``[tool.livecov.affected]``: ``always`` and ``ignore``, globs of repo-relative paths."""

    always: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)


def load_affected_settings(pyproject: str | Path) -> AffectedSettings:
    table = read_livecov_table(pyproject).get("affected", {})
    settings = AffectedSettings()
    for key, value in table.items():
        if key not in ("always", "ignore"):
            raise ConfigError(
                f"{pyproject}: unknown setting [tool.livecov.affected] {key!r} (always, ignore)"
            )
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{pyproject}: [tool.livecov.affected] {key} must be a list of globs")
        setattr(settings, key, value)
    return settings


def matches(path: str, globs: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, glob) for glob in globs)
