"""Find a Chromium for Playwright: a named executable, the system's, or Playwright's own."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from livecov.errors import BrowserNotFoundError

BROWSER_ENV = "LIVECOV_BROWSER"
SYSTEM_CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Chromium reaches out to Google at start-up unless told not to; on a closed network that
# fails slowly and noisily.
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)


def find_chromium(explicit: str | None = None, bundled: str | None = None) -> str | None:
    """The Chromium executable to launch, or None to let Playwright use its own.

    ``explicit`` (an option) wins, then ``$LIVECOV_BROWSER``, then a system Chromium on
    PATH. None is returned when Playwright's own build (``bundled``) exists; if nothing
    is found at all, BrowserNotFoundError says what to install.
    """
    named = explicit or os.environ.get(BROWSER_ENV)
    if named:
        path = shutil.which(named)
        if path is None:
            raise BrowserNotFoundError(f"the browser {named!r} is not an executable")
        return path
    for name in SYSTEM_CHROMIUMS:
        path = shutil.which(name)
        if path is not None:
            return path
    if bundled and Path(bundled).exists():
        return None
    raise BrowserNotFoundError(
        "no Chromium found: install one (Debian/Ubuntu: apt-get install chromium; or "
        "'playwright install chromium'), or name it with --browser-executable or "
        f"${BROWSER_ENV}"
    )


def launch_args(executable: str | None) -> dict[str, Any]:
    """Playwright launch options for ``executable`` (None: Playwright's own Chromium)."""
    if executable is None:
        return {}
    return {"executable_path": executable, "args": list(CHROMIUM_FLAGS)}
