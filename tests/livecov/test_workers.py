"""``workers = N`` means N server processes with every server that has them (gunicorn's, for
WSGI and ASGI; uvicorn's, forked), each measured and saved, and a reset reaches every one of
them: an app holding state in memory (a module global, per process) answers from the reset
value in whichever worker serves the next request. werkzeug and waitress serve from one
process: more workers are refused in one line."""

from __future__ import annotations

import collections
import os
import signal
import socket
import sys
import threading
import tomllib
from pathlib import Path

import pytest
from coverage.config import CoverageConfig

from livecov.cli import main
from livecov.errors import ConfigError, ControlActionError, ServerDiedError
from livecov.live_server import LiveServer, ServerOptions
from livecov.measure import merge_into_running
from livecov.server_coverage import server_coverage_config
from tests.livecov.helpers import (
    _measured_like_this_run,
    get,
    group_alive,
    project_config,
    read_data,
    suite_server,
    suite_server_failure,
)

# Each worker process's own state: a counter, 1 (not the reset value) until a reset.
STATE_APP = """\
import os
from pathlib import Path

COUNT = 1


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [count()]


async def asgi_app(scope, receive, send):
    if scope["type"] == "lifespan":
        while (await receive())["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        return await send({"type": "lifespan.shutdown.complete"})
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": count()})


def count():
    global COUNT
    COUNT += 1
    return f"{os.getpid()} {COUNT}".encode()


def reset():
    global COUNT
    COUNT = 0
    folder = os.environ.get("STATE_DIR") or os.environ["LIVECOV_TMPDIR"]
    with open(Path(folder, f"reset-{os.getpid()}"), "a") as done:
        done.write("reset\\n")  # a line for each time this process ran the hook


def reset_in_one_worker_only():
    done = Path(os.environ["LIVECOV_TMPDIR"], "reset-by")
    if done.exists() and done.read_text() != str(os.getpid()):
        raise RuntimeError("this worker cannot reset")
    done.write_text(str(os.getpid()))
"""
SERVED = {
    "gunicorn, WSGI": ("state_app:app", "gunicorn", True),
    "gunicorn, ASGI": ("state_app:asgi_app", "gunicorn", True),
    "uvicorn": ("state_app:asgi_app", "uvicorn", True),
    "uvicorn, no contexts": ("state_app:asgi_app", "uvicorn", False),
    "auto, ASGI": ("state_app:asgi_app", "auto", True),
}


@pytest.fixture
def state_app(project: Path) -> Path:
    (project / "state_app.py").write_text(STATE_APP)
    return project


def reset_pids(tmpdir: Path) -> set[int]:
    """The processes whose state the reset hook reset."""
    return {int(path.name.removeprefix("reset-")) for path in tmpdir.glob("reset-*")}


@pytest.mark.parametrize("served", sorted(SERVED))
def test_each_worker_is_a_process_and_a_reset_reaches_each(state_app: Path, served: str) -> None:
    app, server_name, contexts = SERVED[served]
    options = {"server": server_name, "workers": 3, "contexts": contexts}
    with suite_server(app=app, reset="state_app:reset", **options) as server:
        workers = set(server.worker_pids)
        assert len(workers) == 3
        assert server.process.pid not in workers  # the master, or the process that forked
        for _ in range(6):
            get(server.url + "/")  # state in whichever workers serve them
        server.reset()
        assert reset_pids(Path(server.tmpdir)) == workers
        ran = {path.read_text() for path in Path(server.tmpdir).glob("reset-*")}
        assert ran == {"reset\n"}  # once in every worker, the one asked too
        answered: collections.Counter[int] = collections.Counter()
        for _ in range(9):
            pid, count = map(int, get(server.url + "/").split())
            answered[pid] += 1
            assert pid in workers
            assert count == answered[pid]  # counted from the reset value, in every worker
    saved_by = {int(f.name.split(".pid")[1].split(".")[0]) for f in server.data_files}
    assert workers <= saved_by  # each worker saved its own data
    # Nothing under "", the test process's context outside any test: each worker records
    # under live-server (or a test's context) from its first line after the fork. What runs
    # there first is livecov's own code, measured when the suite measures livecov (make
    # test): "" there made livecov contexts refuse the suite's data.
    assert "" not in server.collected.measured_contexts()


@pytest.mark.parametrize("served", ["gunicorn, WSGI", "uvicorn"])
def test_every_worker_records_the_reset_under_the_test_it_is_for(
    state_app: Path, served: str
) -> None:
    """The worker that receives the reset, and every other worker it asks, records the
    hook's lines under the test's context: never under live-server, as if no test ran them."""
    app, server_name, _ = SERVED[served]
    options = ServerOptions(app=app, server=server_name, workers=2, reset="state_app:reset")
    with LiveServer(options, project_config()) as server:
        server.reset("tests/test_x.py::test_one")
        assert reset_pids(Path(server.tmpdir)) == set(server.worker_pids)
    source = (state_app / "state_app.py").read_text().splitlines()
    first = source.index("def reset():") + 3  # its body, after the def and global lines
    hook_body = range(first, source.index("", first) + 1)  # up to the blank line after it
    saved_by_workers = [
        path
        for path in server.data_files
        if int(path.name.split(".pid")[1].split(".")[0]) in server.worker_pids
    ]
    assert len(saved_by_workers) == 2
    for path in saved_by_workers:
        by_line = read_data([path]).contexts_by_lineno(str(state_app / "state_app.py"))
        assert {line: by_line.get(line) for line in hook_body} == {
            line: ["tests/test_x.py::test_one"] for line in hook_body
        }


def test_gunicorn_workers_listening_for_resets_stop_without_an_error(state_app: Path) -> None:
    # Each worker listens for the others' resets on a thread of its own: that thread must
    # not keep it from exiting at a stop (gunicorn's master would SIGKILL it, and say so).
    options = ServerOptions(app="state_app:app", server="gunicorn", reset="state_app:reset")
    server = LiveServer(options)
    try:
        server.start()
        server.reset()
        server.stop()
        output = server.output(lines=10_000)
    finally:
        server.cleanup()
    assert server.process.returncode == 0
    assert "[ERROR]" not in output


def test_a_reset_skips_a_worker_that_is_gone(state_app: Path) -> None:
    with suite_server(
        app="state_app:app", server="gunicorn", workers=2, reset="state_app:reset"
    ) as server:
        gone, kept = server.worker_pids
        os.kill(gone, signal.SIGKILL)  # gunicorn starts another in its place
        server.reset()
        assert kept in reset_pids(Path(server.tmpdir))
        assert gone not in reset_pids(Path(server.tmpdir))
        assert not (server.workdir / "workers" / str(gone)).exists()  # its socket is removed


@pytest.mark.parametrize("how", ["before it was asked", "while it was asked"])
def test_a_reset_skips_a_socket_whose_worker_is_gone(state_app: Path, how: str) -> None:
    with suite_server(
        app="state_app:app", server="gunicorn", workers=2, reset="state_app:reset"
    ) as server:
        left = server.workdir / "workers" / "1"  # sorted first: asked before the workers
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as gone:
            gone.bind(str(left))
            if how == "before it was asked":
                gone.close()  # its socket file is left, nobody listens: refused
                server.reset()
            else:
                gone.listen()
                hang_up = threading.Thread(target=lambda: gone.accept()[0].close())
                hang_up.start()  # it takes the question, then ends without an answer
                server.reset()
                hang_up.join()
        assert reset_pids(Path(server.tmpdir)) == set(server.worker_pids)
        assert not left.exists()


def test_a_reset_failing_in_another_worker_fails_the_reset(state_app: Path) -> None:
    hook = "state_app:reset_in_one_worker_only"
    with suite_server(app="state_app:app", server="gunicorn", workers=2, reset=hook) as server:
        with pytest.raises(
            ControlActionError,
            match=r"reset failed: in worker \d+: the hook .* raised RuntimeError",
        ):
            server.reset()
        assert f"the hook '{hook}' raised RuntimeError: this worker cannot reset" in server.output()


@pytest.mark.parametrize("backend", ["werkzeug", "waitress"])
def test_a_single_process_server_refuses_more_workers(project: Path, capfd, backend: str) -> None:
    status = main(
        ["run", "--app", "branchy:app", "--server", backend, "--workers", "2", "--", "true"]
    )
    threads = ", or --threads" if backend == "waitress" else ""
    assert status == 4
    assert [line for line in capfd.readouterr().err.splitlines() if "livecov:" in line] == [
        f"livecov: {backend} serves from one process, not 2: for several worker processes use "
        f"--server gunicorn (or uvicorn, for an ASGI app){threads}"
    ]


def test_auto_refuses_more_workers_for_a_wsgi_app(project: Path) -> None:
    refused = suite_server_failure(app="branchy:app", workers=2)
    assert isinstance(refused, ConfigError)
    assert str(refused) == (
        "branchy:app is a WSGI app, which werkzeug (the server for it by default) serves "
        "from one process, not 2: for several worker processes use --server gunicorn"
    )


def test_without_workers_each_server_has_its_default(state_app: Path) -> None:
    with suite_server(app="state_app:app", server="gunicorn") as gunicorn:
        assert len(set(gunicorn.worker_pids)) == 2
    with suite_server(app="state_app:asgi_app") as uvicorn:
        assert uvicorn.worker_pids == [uvicorn.process.pid]  # one process, serving itself


def test_a_forked_worker_that_dies_ends_the_server_loudly(state_app: Path) -> None:
    """uvicorn's forked workers are not replaced: the run says its data is lost."""
    options = {"app": "state_app:asgi_app", "server": "uvicorn", "workers": 2}
    server, measured = _measured_like_this_run(options)
    try:
        server.start()
        os.kill(server.worker_pids[0], signal.SIGKILL)
        assert server.process.wait(timeout=30) == 1  # the other worker was stopped too
        with pytest.raises(ServerDiedError, match=r"died during the run \(exit status 1\)"):
            server.stop()
        if measured:  # what the server and the other worker saved counts for the suite
            merge_into_running(server.data_files)
    finally:
        server.cleanup()
    assert not group_alive(server.process.pid)


RESETTING_CLIENT = """\
import os, urllib.request
request = urllib.request.Request(
    os.environ["LIVE_SERVER_URL"] + "/__livecov__/reset",
    method="POST",
    headers={"Livecov-Token": os.environ["LIVECOV_TOKEN"]},
)
urllib.request.urlopen(request, timeout=30).read()
"""


def test_livecov_run_workers_on_an_asgi_app_serves_that_many(state_app: Path) -> None:
    """The issue's case: `livecov run --workers 2` on an ASGI app served one process."""
    (state_app / "client.py").write_text(RESETTING_CLIENT)
    status = main(
        ["run", "--no-html", "--app", "state_app:asgi_app", "--workers", "2",
         "--reset", "state_app:reset", "--env", f"STATE_DIR={state_app}",
         "--", sys.executable, "client.py"]
    )  # fmt: skip
    assert status == 0
    assert len(reset_pids(state_app)) == 2  # two uvicorn processes, each reset


def test_gunicorn_measures_its_one_forked_worker_whatever_gave_its_name(tmp_path: Path) -> None:
    """gunicorn always forks its workers from a master that imports no app code: even with
    one worker, the worker must measure itself. The name as a settings file gives it is
    built at run time, not the interned literal the code compares with."""
    server = tomllib.loads('server = "gunicorn"')["server"]
    wsgi = "".join(["werk", "zeug"])

    def patch(name: str) -> list[str]:
        serialized = server_coverage_config(CoverageConfig(), tmp_path, name, None, 1, True)
        return CoverageConfig.deserialize(serialized).patch

    assert "fork" in patch(server)
    assert "fork" not in patch(wsgi)  # one process, nothing forked
