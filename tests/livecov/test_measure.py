"""Handing the server's data to the measurement running in this process."""

from __future__ import annotations

from pathlib import Path

import coverage
import pytest

from livecov.errors import LivecovError
from livecov.measure import merge_into_running


def server_file(folder: Path, name: str = ".coverage.vm.pid1.Xabc") -> Path:
    data = coverage.CoverageData(str(folder / name))
    data.set_context("live-server")
    data.add_arcs({"/app/views.py": {(-1, 1), (1, 2), (2, -1)}})
    data.write()
    return folder / name


@pytest.fixture
def running(monkeypatch: pytest.MonkeyPatch):
    """Make ``cov`` the current measurement (the suite's own tracer keeps running)."""

    def make(cov: coverage.Coverage | None) -> None:
        monkeypatch.setattr(coverage.Coverage, "_instances", [cov] if cov else [])

    return make


def test_parallel_measurement_gets_the_files_beside_its_own(tmp_path, running) -> None:
    cov = coverage.Coverage(data_file=str(tmp_path / ".coverage"), data_suffix=True, branch=True)
    cov.start()  # a started measurement has its parallel data file name
    cov.stop()
    running(cov)
    (tmp_path / "server").mkdir()
    served = server_file(tmp_path / "server")

    merge_into_running([served])

    assert not served.exists()
    moved = tmp_path / served.name
    assert moved.exists()  # `.coverage.<suffix>`: combined with the run's own files later


def test_single_data_file_gets_the_data_added(tmp_path, running) -> None:
    (tmp_path / "server").mkdir()
    served = server_file(tmp_path / "server")
    cov = coverage.Coverage(data_file=str(tmp_path / ".coverage"), branch=True, config_file=False)
    running(cov)

    merge_into_running([served])

    data = cov.get_data()
    assert data.arcs("/app/views.py") == [(-1, 1), (1, 2), (2, -1)]
    assert data.measured_contexts() == {"live-server"}
    assert not served.exists()


def test_no_files_is_nothing_to_do(running) -> None:
    running(None)
    merge_into_running([])  # an unmeasured server: fine, nothing to hand over


def test_data_with_nothing_measuring_is_an_error(tmp_path, running) -> None:
    running(None)
    with pytest.raises(LivecovError, match="nothing measures this process"):
        merge_into_running([server_file(tmp_path)])
