"""Fixtures for livecov's own tests: a throw-away project with the sample apps."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.livecov.helpers import sample_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding the sample apps and a coverage config; the cwd."""
    monkeypatch.chdir(sample_project(tmp_path))
    return tmp_path
