"""Handing the server's data to the measurement running in this process."""

from __future__ import annotations

from pathlib import Path

import coverage
import pytest

from livecov.errors import LivecovError
from livecov.measure import combine_into_file, merge_into_running, server_context_marker


def server_file(folder: Path, name: str = ".coverage.vm.pid1.Xabc") -> Path:
    data = coverage.CoverageData(str(folder / name))
    data.set_context("live-server")
    data.add_arcs({"/app/views.py": {(-1, 1), (1, 2), (2, -1)}})
    data.write()
    return folder / name


def merge_as_if_running(cov: coverage.Coverage | None, files: list[Path]) -> None:
    """merge_into_running with ``cov`` as the current measurement, for this call only.

    The suite's own tracer keeps measuring; only the registry of measurements changes.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(coverage.Coverage, "_instances", [cov] if cov else [])
        merge_into_running(files)


def test_parallel_measurement_gets_the_files_beside_its_own(tmp_path) -> None:
    # config_file=False: this project's config would have start() re-point the
    # subprocess measurement of the whole test session at this temporary file.
    cov = coverage.Coverage(
        data_file=str(tmp_path / ".coverage"), data_suffix=True, branch=True, config_file=False
    )
    cov._warn_no_data = False  # it measures nothing on purpose
    cov.start()  # a started measurement has its parallel data file name
    cov.stop()
    (tmp_path / "server").mkdir()
    served = server_file(tmp_path / "server")

    merge_as_if_running(cov, [served])

    assert not served.exists()
    moved = tmp_path / served.name
    assert moved.exists()  # `.coverage.<suffix>`: combined with the run's own files later


def test_single_data_file_gets_the_data_added(tmp_path) -> None:
    (tmp_path / "server").mkdir()
    served = server_file(tmp_path / "server")
    cov = coverage.Coverage(data_file=str(tmp_path / ".coverage"), branch=True, config_file=False)

    merge_as_if_running(cov, [served])

    data = cov.get_data()
    assert data.arcs("/app/views.py") == [(-1, 1), (1, 2), (2, -1)]
    # ... and the mark that says the server recorded that context (livecov contexts)
    assert data.measured_contexts() == {"live-server", server_context_marker("live-server")}
    assert not served.exists()


def test_the_server_mark_of_a_context_is_the_same_in_every_data_file() -> None:
    # Data files outlive a livecov version (CI's data, read by a later `livecov contexts`):
    # the mark is "livecov-server:" and the first 32 hex digits of the context's SHA-256.
    assert server_context_marker("live-server") == "livecov-server:d0fa44414ecb4f9d9d4763378ad1c29d"


def test_no_files_is_nothing_to_do(tmp_path) -> None:
    # An unmeasured server: nothing to hand over, with or without a measurement running.
    merge_as_if_running(None, [])  # no error: there is nothing to add anything to
    cov = coverage.Coverage(data_file=str(tmp_path / ".coverage"), branch=True, config_file=False)
    merge_as_if_running(cov, [])
    assert cov.get_data().measured_files() == set()  # nothing was added
    assert list(tmp_path.iterdir()) == []  # and nothing was written or moved there


def test_data_with_nothing_measuring_is_an_error(tmp_path) -> None:
    with pytest.raises(LivecovError, match="nothing measures this process"):
        merge_as_if_running(None, [server_file(tmp_path)])


def test_the_servers_files_are_gone_once_combined(tmp_path) -> None:
    # What livecov run does at the end: the server's data joins the data file and its own
    # files go (a later `coverage combine` of the folder would otherwise find them again).
    (tmp_path / "server").mkdir()
    files = [server_file(tmp_path / "server", name) for name in (".coverage.a", ".coverage.b")]
    cov = coverage.Coverage(data_file=str(tmp_path / ".coverage"), branch=True, config_file=False)

    combine_into_file(cov, files)

    assert not any(f.exists() for f in files)
    assert cov.get_data().measured_files() == {"/app/views.py"}
