"""``[tool.livecov.affected]``: files that select every test, files that select none."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from livecov.errors import ConfigError
from livecov.pyproject import read_livecov_table


@dataclass
class AffectedSettings:
    """``[tool.livecov.affected]``: ``always`` and ``ignore``, globs of paths relative to
    ``folder``, the repo-relative folder of the pyproject.toml they are read from."""

    always: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    folder: str = ""

    def relative(self, path: str) -> str:
        """A repo-relative path as the globs name it."""
        return posixpath.relpath(path, self.folder) if self.folder else path


def load_affected_settings(pyproject: str | Path, folder: str = "") -> AffectedSettings:
    table = read_livecov_table(pyproject).get("affected", {})
    settings = AffectedSettings(folder=folder)
    for key, value in table.items():
        if key not in ("always", "ignore"):
            raise ConfigError(
                f"{pyproject}: unknown setting [tool.livecov.affected] {key!r} (always, ignore)"
            )
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{pyproject}: [tool.livecov.affected] {key} must be a list of globs")
        setattr(settings, key, value)
    return settings


def project_settings(project: Path, root: Path) -> AffectedSettings:
    """``[tool.livecov.affected]`` of the project's pyproject.toml (``project``: the folder
    of its tests, pytest's rootdir), else of the git ``root``'s; none without either."""
    for folder in dict.fromkeys((project, root)):
        pyproject = folder / "pyproject.toml"
        if "affected" in read_livecov_table(pyproject):
            relative = folder.relative_to(root).as_posix()
            return load_affected_settings(pyproject, "" if relative == "." else relative)
    return AffectedSettings()


def matches(path: str, globs: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, glob) for glob in globs)
