"""The plugin's warnings: one line on stderr, each starting ``livecov.jinja:``."""

from __future__ import annotations

import sys


def warn(message: str) -> None:
    sys.stderr.write(f"livecov.jinja: {message}\n")
