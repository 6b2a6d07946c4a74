"""Copies of this checkout to run ``make`` in, as on another machine or another clone."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).parents[2]
VENV = Path(sys.executable).parents[1]


def checkout(destination: Path) -> Path:
    """A copy of the working tree (tracked and new files, not the ignored ones)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=REPO,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = REPO / name
        if source.is_file():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


# The Makefile's own variables: an outer `make test SHARD=2/2` exports them to the
# environment (and MAKEFLAGS), where the inner make would take them for its own.
MAKEFILE_VARIABLES = {
    "SHARD", "JOBS", "PYTEST_ARGS", "DATA", "AFFECTED_DATA", "AFFECTED_SERIAL_BELOW", "VENV",
    "PYTHON", "UV",
}  # fmt: skip


def clean_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without what an outer make or test run hands down to its children."""
    return {
        k: v
        for k, v in environ.items()
        if k not in MAKEFILE_VARIABLES
        and not k.startswith(("COVERAGE_", "MAKE", "MFLAGS", "PYTEST_"))
    }


def make(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``make`` in the checkout ``where``, with this venv, importing that checkout's code.

    Lint is taken as done: the copies' files are this checkout's, which make test lints.
    """
    env = clean_environment(os.environ)
    env["PYTHONPATH"] = f"{where / 'flaskr/src'}:{where / 'livecov/src'}"
    return subprocess.run(
        [
            "make",
            "--no-print-directory",
            f"VENV={VENV}",
            "-o",
            f"{VENV}/.synced",
            "-o",
            "lint",
            *args,
        ],
        cwd=where,
        env=env,
        capture_output=True,
        text=True,
    )
