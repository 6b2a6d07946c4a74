"""LiveServer: real server processes started, driven and stopped; nothing lost or left."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import coverage
import pytest

import livecov.server_process
from livecov import CoverageLostError, LivecovError, LiveServer, ServerOptions
from livecov.errors import ServerStartError
from livecov.server_process import _kill_leftover_servers
from tests.livecov.helpers import (
    ALL_BACKENDS,
    DEFAULT_BACKENDS,
    GUNICORN,
    GUNICORN_UVICORN,
    MULTI_WORKER_BACKENDS,
    UVICORN,
    WAITRESS,
    WERKZEUG,
    Backend,
    get,
    group_alive,
    port_closed,
    project_config,
    read_data,
    sample_project,
    sighup_default,
    suite_server,
    tagged_lines,
)


@pytest.fixture(scope="module", params=DEFAULT_BACKENDS, ids=str)
def shared_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """One server per backend for the tests that only talk to it: what they check is its
    answers, not what it saves nor how it starts or stops. Seeded by branchy's hook."""
    backend: Backend = request.param
    folder = sample_project(tmp_path_factory.mktemp("shared-project"))
    with contextlib.ExitStack() as stack:
        cwd = stack.enter_context(pytest.MonkeyPatch.context())
        cwd.chdir(folder)  # where the server imports the sample apps from, at its start
        server = stack.enter_context(
            suite_server(app=backend.app(), server=backend.server, setup=backend.app("seed"))
        )
        cwd.undo()
        yield server


@pytest.mark.parametrize("backend", DEFAULT_BACKENDS, ids=str)
def test_the_server_serves_and_saves_on_sigterm(project: Path, backend: Backend) -> None:
    server = LiveServer(ServerOptions(app=backend.app()), project_config())  # server: auto
    try:
        url = server.start()
        assert url.startswith("http://127.0.0.1:")
        assert server.backend == backend.server
        assert get(url + "/hello", "t-hello") == "Hello"
        data = read_data(server.stop())
    finally:
        server.cleanup()
    assert server.process is not None
    assert server.process.returncode == 0
    assert not group_alive(server.process.pid)
    hello = next(iter(tagged_lines(backend.source(project))["hello"]))
    assert data.contexts_by_lineno(str(backend.source(project)))[hello] == ["t-hello"]


@pytest.mark.parametrize(
    ("backend", "workers"), [(GUNICORN, 1), (GUNICORN_UVICORN, 1), (UVICORN, 2)], ids=str
)
def test_a_forked_worker_saves_what_it_served(
    project: Path, backend: Backend, workers: int
) -> None:
    # gunicorn forks even its one worker; uvicorn forks several: each measures itself,
    # into a data file of its own.
    options = ServerOptions(app=backend.app(), server=backend.server, workers=workers)
    server = LiveServer(options, project_config())
    try:
        assert get(server.start() + "/hello", "t-hello") == "Hello"
        data_files = server.stop()
        data = read_data(data_files)
    finally:
        server.cleanup()
    saved_by = {int(path.name.split(".pid")[1].split(".")[0]) for path in data_files}
    assert set(server.worker_pids) <= saved_by
    source = backend.source(project)
    by_line = data.contexts_by_lineno(str(source))
    hello = next(iter(tagged_lines(source)["hello"]))
    assert by_line[hello] == ["t-hello"]
    lines = source.read_text().splitlines()
    if '        if message["type"] == "lifespan.shutdown":' in lines:  # an ASGI app's lifespan
        shut_down = lines.index('        if message["type"] == "lifespan.shutdown":') + 2
        assert by_line[shut_down] == ["live-server"]  # its last line, run at the stop


@pytest.mark.parametrize("backend", DEFAULT_BACKENDS, ids=str)
def test_shutdown_endpoint_needs_post_and_the_token(project: Path, backend: Backend) -> None:
    with suite_server(app=backend.app(), server=backend.server) as server:
        control = f"{server.url}/__livecov__/shutdown"
        with pytest.raises(urllib.error.HTTPError) as no_token:
            urllib.request.urlopen(urllib.request.Request(control, method="POST"))
        assert no_token.value.code == 403
        forged = urllib.request.Request(control, method="POST", headers={"Livecov-Token": "guess"})
        with pytest.raises(urllib.error.HTTPError) as bad_token:
            urllib.request.urlopen(forged)
        assert bad_token.value.code == 403
        with pytest.raises(urllib.error.HTTPError) as wrong_method:
            urllib.request.urlopen(control)
        assert wrong_method.value.code == 405
        with pytest.raises(urllib.error.HTTPError) as unknown:
            server.post("explode")
        assert unknown.value.code == 404
        assert get(server.url + "/hello") == "Hello"  # still serving after all that
        accepted = urllib.request.Request(
            control, method="POST", headers={"Livecov-Token": server.token}
        )
        with urllib.request.urlopen(accepted) as response:
            assert response.status == 202  # accepted: it stops once this answer is out
            assert json.load(response) == {"ok": "shutdown"}
        assert server.process is not None
        assert server.process.wait(timeout=30) == 0  # stopped by itself, gracefully
    assert port_closed(server.url)


def test_the_normal_app_has_no_control_endpoints(tmp_path: Path, monkeypatch) -> None:
    from flaskr import create_app

    monkeypatch.setenv("FLASKR_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app({"TESTING": True, "DATABASE": str(tmp_path / "db.sqlite")})
    client = app.test_client()
    for action in ("shutdown", "reset"):
        assert client.post(f"/__livecov__/{action}").status_code == 404


@pytest.mark.parametrize("backend", DEFAULT_BACKENDS, ids=str)
def test_setup_hook_seeds_once_and_reset_hook_reseeds(project: Path, backend: Backend) -> None:
    setup = backend.app("seed")
    with suite_server(app=backend.app(), server=backend.server, setup=setup) as server:
        assert get(server.url + "/seeded") == "seeded 1"
        server.reset()
        assert get(server.url + "/seeded") == "seeded 2"
        assert Path(server.tmpdir).is_relative_to(server.workdir)
    assert not server.workdir.exists()  # the fresh temporary data is removed


def test_hook_for_a_flask_app_runs_in_an_app_context(project: Path) -> None:
    with suite_server(app="flaskapp:create_app", setup="flaskapp:seed") as server:
        assert get(server.url + "/seeded") == "yes"


def test_env_settings_expand_tmpdir(project: Path) -> None:
    options = {"app": "branchy:app", "env": {"SEED_DIR": "{tmpdir}/seeds"}}
    server = LiveServer(ServerOptions(**options))
    assert server._environment(0, 0)["SEED_DIR"] == f"{server.tmpdir}/seeds"
    server.cleanup()


@pytest.mark.parametrize("backend", DEFAULT_BACKENDS, ids=str)
def test_server_killed_mid_run_is_reported_as_lost(project: Path, backend: Backend) -> None:
    server = LiveServer(ServerOptions(app=backend.app(), server=backend.server), project_config())
    try:
        server.start()
        with pytest.raises(OSError):  # the connection drops: the server died
            get(server.url + "/crash")
        with pytest.raises(CoverageLostError, match=r"died during the run \(killed by SIGKILL\)"):
            server.stop()
    finally:
        server.cleanup()
    assert not group_alive(server.process.pid)


@pytest.mark.parametrize("backend", DEFAULT_BACKENDS, ids=str)
def test_server_ignoring_sigterm_is_killed_and_its_coverage_called_lost(
    project: Path, backend: Backend
) -> None:
    options = ServerOptions(app=backend.app("create_stubborn_app"), stop_timeout=1)
    server = LiveServer(options, project_config())
    try:
        server.start()
        assert get(server.url + "/hello") == "Hello"
        with pytest.raises(CoverageLostError, match="was killed: its coverage was lost"):
            server.stop()
    finally:
        server.cleanup()
    assert not group_alive(server.process.pid)
    assert port_closed(server.url)


@pytest.mark.parametrize("backend", DEFAULT_BACKENDS, ids=str)
def test_server_saves_on_sigint_even_if_started_with_sigint_ignored(
    project: Path, backend: Backend
) -> None:
    # A process started in the background by a non-interactive shell inherits SIGINT as
    # ignored; the server must still stop gracefully on it.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        server = LiveServer(ServerOptions(app=backend.app()), project_config())
        server.start()
    finally:
        signal.signal(signal.SIGINT, previous)
    try:
        get(server.url + "/hello", "before-ctrl-c")
        os.kill(server.process.pid, signal.SIGINT)
        assert server.process.wait(timeout=30) == 0
        files = server.stop()
        assert "before-ctrl-c" in read_data(files).measured_contexts()
    finally:
        server.cleanup()


def test_startup_failure_leaves_no_process(project: Path) -> None:
    server = LiveServer(ServerOptions(app="hang:create_app", startup_timeout=1.5))
    try:
        began = time.monotonic()
        with pytest.raises(LivecovError, match=r"did not listen within 1\.5 s") as failure:
            server.start()
        assert time.monotonic() - began >= 1.5  # it was given the whole start-up timeout
        assert not group_alive(server.process.pid)
        assert server.stop() == []
        assert "Traceback" not in failure.value.output
    finally:
        server.cleanup()


def test_waitress_server(project: Path) -> None:
    pytest.importorskip("waitress")
    with suite_server(app="branchy:app", server="waitress") as server:
        assert get(server.url + "/square?n=12", "w") == "144"
    assert server.process.returncode == 0
    assert len(server.data_files) == 1
    assert port_closed(server.url)


@pytest.mark.parametrize("backend", MULTI_WORKER_BACKENDS, ids=str)
def test_gunicorn_workers_each_save_their_data(project: Path, backend: Backend) -> None:
    contexts = {f"request-{n}" for n in range(12)}
    with suite_server(app=backend.app(), server="gunicorn", workers=3) as server:
        for name in sorted(contexts):
            assert get(server.url + "/hello", name) == "Hello"
    assert contexts <= server.collected.measured_contexts()  # no worker's data was lost
    assert server.process.returncode == 0
    assert len(server.data_files) >= 3  # one per worker (each loads and measures the app)
    assert not group_alive(server.process.pid)
    assert port_closed(server.url)


@pytest.mark.parametrize("backend", [WERKZEUG, WAITRESS, GUNICORN, UVICORN], ids=str)
def test_overlapping_requests_keep_their_contexts_apart(project: Path, backend: Backend) -> None:
    # Werkzeug's and waitress's threads share one measurement; gunicorn's workers each
    # have their own, and each switches contexts for the requests it serves; uvicorn's
    # requests interleave on one event loop.
    workers = 2 if backend.server == "gunicorn" else 1
    options = ServerOptions(app=backend.app(), server=backend.server, workers=workers, threads=4)
    server = LiveServer(options, project_config())
    errors: list[BaseException] = []

    def client(route: str, context: str) -> None:
        try:
            for _ in range(15):
                get(f"{server.url}{route}", context)
        except BaseException as exc:  # pragma: no cover - reported by the assert below
            errors.append(exc)

    try:
        server.start()
        threads = [
            threading.Thread(target=client, args=("/hello", "ctx-hello")),
            threading.Thread(target=client, args=("/square?n=3", "ctx-square")),
            threading.Thread(target=client, args=("/hello", "ctx-hello")),
            threading.Thread(target=client, args=("/square?n=4", "ctx-square")),
        ]
        for thread in threads:
            thread.start()
        join_all(threads)
        data = read_data(server.stop())
    finally:
        server.cleanup()
    assert errors == []
    by_line = data.contexts_by_lineno(str(backend.source(project)))
    tags = tagged_lines(backend.source(project))
    expected = {"hello": "ctx-hello", "square": "ctx-square"}
    for route, context in expected.items():
        for line in tags[route]:
            assert by_line.get(line) == [context], (route, line)  # ran, and for it alone


def test_bad_options_are_refused() -> None:
    with pytest.raises(LivecovError, match="unknown server 'tornado'"):
        ServerOptions(app="x:y", server="tornado")
    with pytest.raises(LivecovError, match="loopback only"):
        ServerOptions(app="x:y", host="0.0.0.0")  # noqa: S104 - the point of the test


@pytest.mark.parametrize("backend", DEFAULT_BACKENDS, ids=str)
def test_server_exiting_mid_run_reports_its_status(project: Path, backend: Backend) -> None:
    server = LiveServer(ServerOptions(app=backend.app()), project_config())
    try:
        server.start()
        with pytest.raises(OSError):
            get(server.url + "/exit")
        with pytest.raises(CoverageLostError, match=r"died during the run \(exit status 3\)"):
            server.stop()
    finally:
        server.cleanup()


def test_servers_left_running_are_killed_at_exit(project: Path, monkeypatch) -> None:
    monkeypatch.setattr(livecov.server_process, "_running", set())  # only this test's server
    server = LiveServer(ServerOptions(app="branchy:app"))
    try:
        server.start()
        _kill_leftover_servers()  # what atexit runs if the caller never stopped it
        assert not group_alive(server.process.pid)
    finally:
        server.cleanup()


def test_the_folder_of_a_server_never_started_goes_at_exit(monkeypatch) -> None:
    monkeypatch.setattr(livecov.server_process, "_running", set())  # only this test's server
    never_started = LiveServer(ServerOptions(app="branchy:app"))
    _kill_leftover_servers()  # what atexit runs if the caller never cleaned up
    assert not never_started.workdir.exists()


@pytest.mark.parametrize("backend", MULTI_WORKER_BACKENDS, ids=str)
def test_gunicorn_shutdown_endpoint_stops_master_and_workers(
    project: Path, backend: Backend
) -> None:
    with suite_server(
        app=backend.app(), server="gunicorn", workers=2, setup=backend.app("seed")
    ) as server:
        assert get(server.url + "/seeded") == "seeded 1"  # two workers, one seeding
        assert server.post("shutdown") == {"ok": "shutdown"}
        assert server.process.wait(timeout=30) == 0
    assert not group_alive(server.process.pid)


def test_without_contexts_requests_run_concurrently_and_unlabelled(project: Path) -> None:
    with suite_server(app="branchy:app", contexts=False) as server:
        assert get(server.url + "/hello", "not-recorded") == "Hello"
    assert "not-recorded" not in server.collected.measured_contexts()


def test_contexts_need_a_measurement(project: Path) -> None:
    server = LiveServer(ServerOptions(app="branchy:app"))  # no coverage
    spec = server._environment(0, 0)["LIVECOV_SPEC"]
    assert '"contexts": false' in spec
    server.cleanup()


def test_server_measuring_nothing_is_reported(project: Path) -> None:
    (project / "elsewhere").mkdir()
    config = coverage.Coverage(source=[str(project / "elsewhere")]).config
    server = LiveServer(ServerOptions(app="branchy:app"), config)
    try:
        server.start()
        with pytest.raises(CoverageLostError, match="wrote no coverage data: is the app inside"):
            server.stop()
    finally:
        server.cleanup()


def test_requests_of_one_context_run_side_by_side(shared_server: LiveServer) -> None:
    # Each /together request waits at a barrier until the other one is inside the app
    # too: both complete only if the same context's requests really run at once. (A name
    # longer than one character: equal, but never the same str object in both requests.)
    context = "same-context"
    url = shared_server.url + "/together"
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(get(url, context))) for _ in range(2)]
    for thread in threads:
        thread.start()
    join_all(threads)
    assert sorted(results) == ["0", "1"]  # the barrier's arrival indexes


def test_reset_runs_while_requests_of_several_contexts_come_and_go(
    shared_server: LiveServer,
) -> None:
    server = shared_server
    errors: list[BaseException] = []

    def hammer(context: str) -> None:
        try:
            for _ in range(10):
                get(server.url + "/hello", context)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    seeded = int(get(server.url + "/seeded").split()[1])  # set-up, and any earlier reset
    threads = [threading.Thread(target=hammer, args=(f"c{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for _ in range(3):
        server.reset()
    join_all(threads)
    assert get(server.url + "/seeded") == f"seeded {seeded + 3}"  # each reset ran once
    assert errors == []


def join_all(threads: list[threading.Thread], timeout: float = 60) -> None:
    for thread in threads:
        thread.join(timeout)
        assert not thread.is_alive(), "a client thread hung"


class PipeRecorder:
    """Records the pipes livecov opens (and their inodes), to check it closed them all.

    Only these descriptors are checked: other threads of this process (xdist, coverage)
    open and close descriptors of their own meanwhile.
    """

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.opened: list[tuple[int, int]] = []
        real_pipe = os.pipe

        def recording_pipe() -> tuple[int, int]:
            ends = real_pipe()
            if sys._getframe(1).f_code.co_filename == livecov.server_process.__file__:
                self.opened += [(fd, os.fstat(fd).st_ino) for fd in ends]
            return ends

        monkeypatch.setattr(os, "pipe", recording_pipe)

    def still_open(self) -> list[int]:
        left = []
        for fd, inode in self.opened:
            try:
                if os.fstat(fd).st_ino == inode:
                    left.append(fd)
            except OSError:  # closed
                continue
        return left


def test_a_server_that_cannot_be_launched_is_a_start_error_and_leaks_nothing(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pipes = PipeRecorder(monkeypatch)
    server = LiveServer(ServerOptions(app="branchy:app", cwd=str(project / "missing")))
    try:
        with pytest.raises(ServerStartError, match=r"could not start the server process: .*"):
            server.start()
    finally:
        server.cleanup()
    assert len(pipes.opened) == 6  # ready, lifeline and output pipes: both ends of each
    assert pipes.still_open() == []
    assert not server.workdir.exists()


def test_cleanup_is_harmless_before_start_and_when_repeated(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin_before = os.fstat(0)
    never_started = LiveServer(ServerOptions(app="branchy:app"))
    never_started.cleanup()
    assert os.fstat(0) == stdin_before  # nothing of the caller's was closed
    assert not never_started.workdir.exists()

    pipes = PipeRecorder(monkeypatch)
    with suite_server(app="branchy:app") as server:
        assert get(server.url + "/hello") == "Hello"
    server.cleanup()  # a second time: suite_server cleaned up already
    server.cleanup()
    assert len(pipes.opened) == 6  # ready, lifeline and output pipes: both ends of each
    assert pipes.still_open() == []


def test_a_server_can_start_again_in_the_same_workdir(project: Path) -> None:
    workdir = project / "work"
    for _ in range(2):  # the second start finds data/ and app/ already there
        server = LiveServer(ServerOptions(app="branchy:app"), project_config(), workdir=workdir)
        try:
            server.start()
            assert get(server.url + "/hello") == "Hello"
            assert server.stop()
        finally:
            server.cleanup()
    assert workdir.is_dir()  # the caller's folder is the caller's to delete


def test_a_server_exiting_0_before_it_listens_is_a_start_error_with_that_status(
    project: Path,
) -> None:
    (project / "quits.py").write_text("import sys\nsys.exit(0)\n")
    server = LiveServer(ServerOptions(app="quits:app"), project_config())
    try:
        with pytest.raises(ServerStartError, match=r"exited \(exit status 0\) before it listened"):
            server.start()
    finally:
        server.cleanup()


def test_a_server_killed_by_sighup_is_reported_by_the_signal_name(project: Path) -> None:
    server = LiveServer(ServerOptions(app="branchy:app"), project_config())
    try:
        with sighup_default():
            server.start()
        os.kill(server.process.pid, signal.SIGHUP)
        assert server.process.wait(timeout=30) == -signal.SIGHUP
        with pytest.raises(CoverageLostError, match=r"died during the run \(killed by SIGHUP\)"):
            server.stop()
    finally:
        server.cleanup()


def test_start_error_output_is_the_last_60_lines_the_server_printed(project: Path) -> None:
    (project / "chatty.py").write_text(
        "for i in range(1, 101):\n    print(f'line {i}')\nraise SystemExit(3)\n"
    )
    server = LiveServer(ServerOptions(app="chatty:app"), project_config())
    try:
        with pytest.raises(ServerStartError, match=r"exit status 3") as failed:
            server.start()
    finally:
        server.cleanup()
    lines = failed.value.output.splitlines()
    assert lines == [f"line {i}" for i in range(41, 101)]


def test_a_start_up_timeout_already_used_up_is_a_start_error(project: Path) -> None:
    # The deadline passes before the first wait: the wait must not get a negative timeout.
    server = LiveServer(ServerOptions(app="branchy:app", startup_timeout=1e-9))
    try:
        with pytest.raises(ServerStartError, match="did not listen within 1e-09 s"):
            server.start()
    finally:
        server.cleanup()
    assert not group_alive(server.process.pid)


def test_start_and_stop_times_are_measured_around_the_real_work(project: Path) -> None:
    server = LiveServer(ServerOptions(app="branchy:app"), project_config())
    assert (server.startup_seconds, server.stop_seconds) == (0.0, 0.0)
    try:
        began = time.monotonic()
        server.start()
        started = time.monotonic()
        server.stop()
        stopped = time.monotonic()
    finally:
        server.cleanup()
    assert 0 < server.startup_seconds <= started - began
    assert 0 < server.stop_seconds <= stopped - started


def test_each_server_gets_its_own_256_bit_token(project: Path) -> None:
    tokens = [LiveServer(ServerOptions(app="branchy:app")).token for _ in range(2)]
    assert tokens[0] != tokens[1]
    assert [len(base64.urlsafe_b64decode(t + "=")) for t in tokens] == [32, 32]


@pytest.mark.parametrize("backend", ALL_BACKENDS, ids=str)
def test_every_backend_serves_on_ipv6_loopback(project: Path, backend: Backend) -> None:
    options = {"server": backend.server, "host": "::1", "workers": 1}
    with suite_server(app=backend.app(), **options) as server:
        assert server.url.startswith("http://[::1]:")
        assert get(server.url + "/hello", "over-ipv6") == "Hello"
    assert "over-ipv6" in server.collected.measured_contexts()


GATE_APP = """\
import os, socket, threading

gate = threading.Event()


def app(environ, start_response):
    if environ["PATH_INFO"] == "/wait":
        # Tell the test that /wait is being served (a connection to its socket), then wait.
        socket.create_connection(("127.0.0.1", int(os.environ["ARRIVED_PORT"]))).close()
        body = b"released" if gate.wait(timeout=10) else b"timed out"
    else:
        gate.set()
        body = b"opened"
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body]
"""


def test_werkzeug_server_without_contexts_serves_requests_concurrently(project: Path) -> None:
    # Kills `make_server(..., threaded=True)` -> `threaded=False` in serve.py: one request
    # waits for a second one, which a single-threaded server would only read afterwards.
    (project / "gate.py").write_text(GATE_APP)
    arrivals = socket.create_server(("127.0.0.1", 0))
    arrivals.settimeout(30)
    port = str(arrivals.getsockname()[1])
    with (
        arrivals,
        suite_server(app="gate:app", contexts=False, env={"ARRIVED_PORT": port}) as server,
    ):
        waiting: list[str] = []
        waiter = threading.Thread(target=lambda: waiting.append(get(server.url + "/wait")))
        waiter.start()
        arrivals.accept()[0].close()  # /wait is inside the app now: an event, not a pause
        assert get(server.url + "/open") == "opened"
        waiter.join(timeout=30)
    assert waiting == ["released"]
