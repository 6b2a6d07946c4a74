"""LiveServer as a component, the way the library docs use it: a context manager that
starts a real server process, stops it gracefully, keeps its data and leaves nothing;
its control client; its process, started and stopped on its own."""

from __future__ import annotations

import dataclasses
import json
import tomllib
import urllib.error
from pathlib import Path

import coverage
import pytest

from livecov import LiveServer, ServerOptions
from livecov.client import client_for
from livecov.control import ControlClient
from livecov.errors import ServerStartError
from livecov.measure import server_context_marker
from livecov.server.handshake import SPEC_ENV, ServeSpec
from livecov.server_process import ServerProcess
from tests.livecov.helpers import get, group_alive, project_config, read_data


def test_the_library_example_leaves_the_data_beside_the_runs_and_nothing_else(
    project: Path,
) -> None:
    with LiveServer(ServerOptions(app="branchy:app"), project_config()) as server:
        with client_for(server.url, "the hello page") as client:
            assert client.get("/hello").text == "Hello"
        workdir, pid = server.workdir, server.process.pid
    assert server.process.returncode == 0  # stopped gracefully: it saved its data
    assert not group_alive(pid)
    assert not workdir.exists()  # its folder (log, temporary app data) is gone
    assert server.output() == ""  # the log went with it
    assert [path.parent for path in server.data_files] == [project]
    assert all(path.name.startswith(".coverage.") for path in server.data_files)
    data = read_data(server.data_files)
    assert "the hello page" in data.measured_contexts()
    assert server_context_marker("the hello page") in data.measured_contexts()  # the server's
    combined = coverage.Coverage()
    combined.combine()  # coverage combine finds them where coverage.py's own parallel files go
    assert "the hello page" in combined.get_data().measured_contexts()


def test_a_server_that_fails_to_start_in_a_with_block_leaves_nothing(project: Path) -> None:
    server = LiveServer(ServerOptions(app="broken:app"), project_config())
    with pytest.raises(ServerStartError), server:
        pytest.fail("the block ran although the server did not start")
    assert not server.workdir.exists()
    assert not group_alive(server.process.pid)
    assert list(project.glob(".coverage.*")) == []


def test_a_server_stopped_in_the_block_is_not_stopped_again(project: Path) -> None:
    with LiveServer(ServerOptions(app="branchy:app"), project_config()) as server:
        assert get(server.url + "/hello", "hello") == "Hello"
        saved = server.stop()
        stop_seconds = server.stop_seconds
    assert server.stop_seconds == stop_seconds
    assert [path.name for path in server.data_files] == [path.name for path in saved]
    assert all(path.exists() and path.parent == project for path in server.data_files)


def test_an_unmeasured_server_keeps_no_data(project: Path) -> None:
    with LiveServer(ServerOptions(app="branchy:app")) as server:
        assert get(server.url + "/hello") == "Hello"
    assert server.process.returncode == 0
    assert server.data_files == []
    assert not server.workdir.exists()


def test_a_given_workdir_is_the_callers_to_keep(project: Path, tmp_path: Path) -> None:
    workdir = tmp_path / "mine"
    with LiveServer(ServerOptions(app="branchy:app"), project_config(), workdir=workdir) as server:
        get(server.url + "/hello")
    assert (workdir / "server.log").exists()
    assert all(path.exists() for path in server.data_files)


def test_the_control_client_reaches_the_server_with_its_token_only(project: Path) -> None:
    options = ServerOptions(app="branchy:app", setup="branchy:seed")
    with LiveServer(options, project_config()) as server:
        control = server.control
        assert (control.url, control.token) == (server.url, server.token)
        ControlClient(server.url, server.token).reset("the reset's test")
        assert get(server.url + "/seeded") == "seeded 2"
        with pytest.raises(urllib.error.HTTPError) as refused:
            ControlClient(server.url, "not-the-token").reset()
        refused.value.close()
        assert refused.value.code == 403
        assert ControlClient(server.url, server.token).post("shutdown") == {"ok": "shutdown"}
        assert server.process.wait(timeout=30) == 0
    assert "the reset's test" in read_data(server.data_files).measured_contexts()


def unmeasured_branchy(ready_fd: int, lifeline_fd: int) -> dict[str, str]:
    """The environment of an unmeasured werkzeug server of branchy:app (the cwd's)."""
    spec = ServeSpec(
        app="branchy:app",
        token="t",
        ready_fd=ready_fd,
        lifeline_fd=lifeline_fd,
        tmpdir=".",
        server="werkzeug",
        host="127.0.0.1",
        port=0,
        workers=1,
        control_dir=".",
        threads=1,
        setup=None,
        reset=None,
        warmup=None,
        contexts=False,
        orphan_grace=5,
        app_errors_file="app-errors.jsonl",
    )
    return {SPEC_ENV: json.dumps(dataclasses.asdict(spec))}


def test_the_server_process_alone_starts_reports_and_stops(project: Path) -> None:
    process = ServerProcess(stop_timeout=15)
    try:
        (report,) = process.start(unmeasured_branchy, reports=1, timeout=30)
        assert report["server"] == "werkzeug"
        assert get(report["url"] + "/hello") == "Hello"
        process.stop()
        assert process.popen is not None
        assert process.popen.returncode == 0
    finally:
        process.cleanup()
    assert not process.workdir.exists()


def test_the_server_process_never_started_is_only_cleaned_up() -> None:
    process = ServerProcess(stop_timeout=15)
    process.stop()  # nothing to stop
    assert process.popen is None
    process.cleanup()
    assert not process.workdir.exists()


# Server processes when workers is left out: gunicorn's default, one for the others.
DEFAULT_PROCESSES = {"auto": 1, "werkzeug": 1, "waitress": 1, "gunicorn": 2, "uvicorn": 1}


def test_each_server_named_in_a_settings_file_has_its_default_processes() -> None:
    # A name read from pyproject.toml is equal to the literal, not the same object.
    read = tomllib.loads("\n".join(f'{name} = "{name}"' for name in DEFAULT_PROCESSES))
    served = {name: ServerOptions(app="m:app", server=read[name]).processes for name in read}
    assert served == DEFAULT_PROCESSES


@pytest.mark.parametrize(
    ("reset", "setup", "resets"),
    [(None, None, False), ("m:reset", None, True), (None, "m:setup", True)],
)
def test_a_server_resets_only_with_a_reset_or_setup_hook(
    reset: str | None, setup: str | None, resets: bool
) -> None:
    server = LiveServer(ServerOptions(app="branchy:app", reset=reset, setup=setup))
    try:
        assert server.resets is resets
    finally:
        server.cleanup()
