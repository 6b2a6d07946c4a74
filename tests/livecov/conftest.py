"""Fixtures for livecov's own tests: a throw-away project with the sample apps."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.livecov.helpers import APPS, RCFILE


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding the sample apps and a coverage config; the cwd."""
    for app in APPS.glob("*.py"):
        shutil.copy(app, tmp_path)
    (tmp_path / ".coveragerc").write_text(RCFILE)
    monkeypatch.chdir(tmp_path)
    return tmp_path
