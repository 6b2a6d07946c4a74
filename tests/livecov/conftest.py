"""Fixtures for livecov's own tests: throw-away projects, each kind under a name of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.livecov.affected_project import Project
from tests.livecov.helpers import sample_project


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder holding the sample apps and a coverage config; the cwd."""
    monkeypatch.chdir(sample_project(tmp_path))
    return tmp_path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    """A git project with coverage data of known tests recorded at its commit, for
    ``livecov affected`` (tests/livecov/affected_project.py); the cwd."""
    repo = Project(tmp_path)
    repo.measure()
    monkeypatch.chdir(tmp_path)
    return repo
