"""Reading ``[tool.livecov]`` from a pyproject.toml (the settings, and ``.affected``'s)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from livecov.errors import ConfigError


def read_livecov_table(path: str | Path) -> dict[str, Any]:
    """``[tool.livecov]`` of a pyproject.toml; empty when the file or the table is missing."""
    try:
        with open(path, "rb") as f:
            document = tomllib.load(f)
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    table: dict[str, Any] = document.get("tool", {}).get("livecov", {})
    return table
