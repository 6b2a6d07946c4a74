"""ASGI apps served for real: FastAPI under uvicorn and gunicorn's uvicorn workers.

Each test starts a real server process on loopback and drives it with real clients
(urllib, a WebSocket client); the coverage data the server saved says what ran, and under
which context.
"""

from __future__ import annotations

import re
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import coverage
import pytest
from websockets.sync.client import connect

from livecov import LiveServer, ServerOptions
from livecov.cli import main
from livecov.errors import ConfigError, ServerStartError
from livecov.server.install_hints import install_command
from tests.livecov.helpers import (
    context_client,
    fastapi_api_project,
    get,
    group_alive,
    json_report,
    read_data,
    suite_server_failure,
    tagged_lines,
)

FASTAPI = "fastapi_app"
BACKENDS = ["uvicorn", "gunicorn"]  # gunicorn: with uvicorn's workers, chosen by itself


@contextmanager
def project_server(**options: Any) -> Iterator[LiveServer]:
    """A server measured by the sample project's own settings (source: its folder), so the
    sample apps' lines are in its data (``suite_server`` measures livecov itself instead)."""
    server = LiveServer(ServerOptions(**options), coverage.Coverage().config)
    try:
        server.start()
        yield server
        server.collected = read_data(server.stop())  # type: ignore[attr-defined]
    finally:
        server.cleanup()


def contexts_of(server: LiveServer, project: Path, module: str = FASTAPI) -> dict[str, set]:
    """For each route tag, the contexts its lines were recorded under (unrun lines: none)."""
    source = project / f"{module}.py"
    by_line = server.collected.contexts_by_lineno(str(source))  # type: ignore[attr-defined]
    return {
        route: set().union(*(by_line.get(line, []) for line in lines))
        for route, lines in tagged_lines(source).items()
        if route
    }


@pytest.mark.parametrize("server_name", BACKENDS)
def test_a_fastapi_app_of_the_usual_shape_is_measured_per_request(
    project: Path, server_name: str
) -> None:
    options = {"server": server_name, "workers": 1}
    with project_server(app=f"{FASTAPI}:app", **options) as server:
        assert server.backend == server_name
        assert get(server.url + "/items/3", "t-items") == "item 3, session open: True"
        # A sync route runs in the framework's thread pool: measured, and attributed.
        assert get(server.url + "/sync", "t-sync") == "sync, in a worker thread: True"
    contexts = contexts_of(server, project)
    assert contexts["items"] == {"t-items"}  # the route, its dependency and its clean-up
    assert contexts["sync"] == {"t-sync"}
    assert contexts["lifespan-start"] == {"live-server"}
    assert contexts["lifespan-stop"] == {"live-server"}  # after every request, alone
    assert contexts["interleave-left"] == set()  # never requested: no context at all


def test_gunicorns_uvicorn_workers_stop_without_an_error_in_the_servers_output(
    project: Path,
) -> None:
    # Each worker ends normally once uvicorn has shut it down; a worker that exited with a
    # failure status would make gunicorn's master log an error at every stop.
    server = LiveServer(
        ServerOptions(app=f"{FASTAPI}:app", server="gunicorn", workers=2),
        coverage.Coverage().config,
    )
    try:
        server.start()
        assert get(server.url + "/items/1", "t-items").startswith("item 1")
        server.stop()
        output = server.output(lines=10_000)
    finally:
        server.cleanup()
    assert server.process.returncode == 0
    assert "exited with code" not in output
    assert "[ERROR]" not in output


def interleave(url: str, route: str, context: str, rounds: int, errors: list) -> None:
    try:
        for _ in range(rounds):
            assert get(f"{url}/interleave/{route}", context) == f"{route} done"
    except BaseException as exc:  # pragma: no cover - reported by the test
        errors.append(exc)


def test_two_clients_of_different_contexts_on_one_event_loop_keep_their_lines_apart(
    project: Path,
) -> None:
    # Both endpoints await in the middle, so on uvicorn's one event loop their requests
    # would interleave line by line; the gate must keep each one's lines under its own name.
    with project_server(app=f"{FASTAPI}:app", server="uvicorn") as server:
        errors: list[BaseException] = []
        start = threading.Barrier(2)

        def client(route: str, context: str) -> None:
            start.wait(timeout=30)
            interleave(server.url, route, context, 15, errors)

        threads = [
            threading.Thread(target=client, args=("left", "ctx-left")),
            threading.Thread(target=client, args=("right", "ctx-right")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    assert errors == []
    contexts = contexts_of(server, project)
    assert contexts["interleave-left"] == {"ctx-left"}
    assert contexts["interleave-right"] == {"ctx-right"}


def test_an_endless_stream_and_an_open_websocket_never_hold_the_gate(project: Path) -> None:
    with project_server(app=f"{FASTAPI}:app", server="uvicorn") as server:
        request = urllib.request.Request(server.url + "/stream", headers={"Livecov-Context": "s"})
        with urllib.request.urlopen(request, timeout=30) as stream:
            assert stream.readline() == b"chunk 1\n"
            # The stream goes on for ever; another context still gets through, at once.
            assert get(server.url + "/items/1", "while-streaming").startswith("item 1")
            assert stream.readline() == b"chunk 2\n"
        websocket_url = server.url.replace("http://", "ws://") + "/ws"
        with connect(websocket_url, additional_headers={"Livecov-Context": "w"}) as socket:
            socket.send("one")
            assert socket.recv(timeout=30) == "echo one"
            # Open and idle, waiting for its client: others get through.
            assert get(server.url + "/items/2", "while-socket-open").startswith("item 2")
            socket.send("two")
            assert socket.recv(timeout=30) == "echo two"
    contexts = contexts_of(server, project)
    assert contexts["stream"] == {"s"}  # every line the stream ran, under its own context
    assert contexts["ws"] == {"w"}
    assert contexts["items"] == {"while-streaming", "while-socket-open"}


def test_a_stream_still_open_at_the_stop_does_not_keep_the_server_from_saving(
    project: Path,
) -> None:
    with project_server(app=f"{FASTAPI}:app", server="uvicorn") as server:
        request = urllib.request.Request(server.url + "/stream", headers={"Livecov-Context": "s"})
        stream = urllib.request.urlopen(request, timeout=30)
        assert stream.readline() == b"chunk 1\n"
    stream.close()
    assert server.process.returncode == 0  # stopped gracefully, within the stop timeout
    assert contexts_of(server, project)["lifespan-stop"] == {"live-server"}


@pytest.mark.parametrize("server_name", BACKENDS)
def test_a_failing_lifespan_start_up_is_a_start_up_failure_with_its_own_message(
    project: Path, server_name: str
) -> None:
    app = f"{FASTAPI}:create_failing_app"
    failure = suite_server_failure(app=app, server=server_name, workers=1)
    assert type(failure) is ServerStartError
    assert str(failure) == (
        "the app's lifespan start-up failed: RuntimeError: the database is unreachable"
    )
    assert 'raise RuntimeError("the database is unreachable")' in failure.output


def test_livecov_run_says_why_the_lifespan_failed_and_exits_3(project: Path, capfd) -> None:
    app = f"{FASTAPI}:create_failing_app"
    status = main(["run", "--no-html", "--app", app, "--", "true"])

    err = capfd.readouterr().err
    assert status == 3
    message = (
        "livecov: the app's lifespan start-up failed: RuntimeError: the database is unreachable"
    )
    assert message in err.splitlines()
    assert "Traceback" in err  # the server's output, where the app's traceback is


def test_a_failing_lifespan_leaves_no_process_behind(project: Path) -> None:
    server = LiveServer(ServerOptions(app=f"{FASTAPI}:create_failing_app"))
    try:
        with pytest.raises(ServerStartError, match="lifespan start-up failed"):
            server.start()
        assert server.process is not None
        assert not group_alive(server.process.pid)
    finally:
        server.cleanup()


def test_an_empty_start_up_failure_message_still_says_what_failed() -> None:
    from livecov.server.serve_uvicorn import _last_line

    assert _last_line("") == "(no message)"
    assert _last_line("Traceback ...\n  raise X\nX: why\n\n") == "X: why"


def test_uvicorns_connections_send_small_writes_at_once() -> None:
    """Nagle's algorithm off (TCP_NODELAY) on what uvicorn accepts: a response written as
    headers then body must not wait for the client's delayed ACK (40 ms a request)."""
    import socket

    from livecov.server.serve_uvicorn import listening_socket

    with (
        listening_socket("127.0.0.1", 0) as listener,
        socket.create_connection(listener.getsockname()),
    ):
        accepted, _ = listener.accept()
        with accepted:
            assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)


@pytest.mark.parametrize(
    ("app", "server_name", "message"),
    [
        ("branchy:app", "uvicorn", "branchy:app is a WSGI app, which uvicorn cannot serve: "
         "use server werkzeug, waitress or gunicorn (or leave the server out)"),
        ("branchy_asgi:app", "werkzeug", "branchy_asgi:app is an ASGI app, which werkzeug "
         "cannot serve: use server uvicorn or gunicorn (or leave the server out)"),
        ("branchy_asgi:app", "waitress", "branchy_asgi:app is an ASGI app, which waitress "
         "cannot serve: use server uvicorn or gunicorn (or leave the server out)"),
    ],
)  # fmt: skip
def test_an_app_given_to_a_server_that_cannot_serve_it_is_refused_by_the_server(
    project: Path, app: str, server_name: str, message: str
) -> None:
    failure = suite_server_failure(app=app, server=server_name)
    assert isinstance(failure, ConfigError)
    assert str(failure) == message


def test_livecov_run_refuses_a_server_mismatch_in_one_line_as_bad_settings(
    project: Path, capfd
) -> None:
    status = main(["run", "--no-html", "--app", "branchy:app", "--server", "uvicorn", "--", "true"])

    err = capfd.readouterr().err
    assert status == 4  # bad settings
    assert err.splitlines() == [
        "livecov: branchy:app is a WSGI app, which uvicorn cannot serve: "
        "use server werkzeug, waitress or gunicorn (or leave the server out)"
    ]


def test_the_app_kind_decides_the_default_server(project: Path, capfd) -> None:
    assert main(["run", "--no-html", "--app", "branchy_asgi:app", "--", "true"]) == 0
    assert main(["run", "--no-html", "--app", "branchy:app", "--", "true"]) == 0
    out = capfd.readouterr().out
    assert "livecov: serving branchy_asgi:app at http://127.0.0.1:" in out
    served = [line.rsplit(" ", 1)[-1] for line in out.splitlines() if "serving" in line]
    assert served == ["(uvicorn)", "(werkzeug)"]


def test_a_starlette_app_is_served_and_measured_too(project: Path) -> None:
    with project_server(app="starlette_app:app") as server:
        assert get(server.url + "/", "t-home") == "Starlette here"
    by_line = contexts_of(server, project, "starlette_app")
    assert by_line["home"] == {"t-home"}
    assert by_line["startup"] == {"live-server"}


def test_uvicorn_serves_without_uvicorn_worker_installed_and_gunicorn_says_to_install_it(
    project: Path, capfd
) -> None:
    # A project with uvicorn of its own and not livecov's [uvicorn] extra (which brings
    # uvicorn-worker, for gunicorn's workers only): the server crashed on that import.
    hidden = project / "without_uvicorn_worker"
    hidden.mkdir()
    (hidden / "uvicorn_worker.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'uvicorn_worker'\", name='uvicorn_worker')\n"
    )
    fetch = "import os, urllib.request as u; u.urlopen(os.environ['LIVE_SERVER_URL']).read()"
    status = main(
        ["run", "--app", "starlette_app:app", "--pythonpath", str(hidden), "--no-html", "--",
         sys.executable, "-c", fetch]
    )  # fmt: skip
    err = capfd.readouterr().err
    assert status == 0, err
    assert "uvicorn_worker" not in err

    # gunicorn does need it for an ASGI app: one line saying what to install, no traceback.
    status = main(
        ["run", "--app", "starlette_app:app", "--server", "gunicorn", "--workers", "1",
         "--pythonpath", str(hidden), "--no-html", "--", sys.executable, "-c", fetch]
    )  # fmt: skip
    err = capfd.readouterr().err
    assert status == 4
    assert err.splitlines()[-1] == (
        "livecov: gunicorn serves an ASGI app through uvicorn-worker, which is not installed: "
        f"{install_command('uvicorn')} (or leave the server out: uvicorn serves it alone)"
    )
    assert "Traceback" not in err


def test_a_quart_app_is_served_and_measured_too(project: Path) -> None:
    with project_server(app="quart_app:app") as server:
        assert server.backend == "uvicorn"
        assert get(server.url + "/", "t-home") == "Quart here, pool open"
    by_line = contexts_of(server, project, "quart_app")
    assert by_line["home"] == {"t-home"}
    assert by_line["startup"] == {"live-server"}


# A client of livecov run, in any language: names each request's test in a header.
FASTAPI_CLIENT = context_client([("t-items", "/items/2"), ("t-sync", "/sync")])


def test_livecov_run_measures_a_fastapi_app_alike_under_uvicorn_and_gunicorn(
    project: Path, capfd
) -> None:
    (project / "client.py").write_text(FASTAPI_CLIENT)
    executed = {}
    for options, backend in [
        ([], "uvicorn"),
        (["--server", "gunicorn", "--workers", "2"], "gunicorn"),
    ]:
        Path(".coverage").unlink(missing_ok=True)
        status = main(
            ["run", "--no-html", "--json", "report.json", "--app", f"{FASTAPI}:app",
             *options, "--", sys.executable, "client.py"]
        )  # fmt: skip
        assert status == 0
        out = capfd.readouterr().out
        assert "t-items 200" in out
        # The server that served, as the serving process reported it when it listened.
        assert re.search(rf"^livecov: serving {FASTAPI}:app at \S+ \({backend}\)$", out, re.M)
        report = json_report(Path("report.json"))["files"][f"{FASTAPI}.py"]
        by_line = {int(line): set(c) for line, c in report["contexts"].items()}
        tags = tagged_lines(project / f"{FASTAPI}.py")
        assert {c for line in tags["items"] for c in by_line[line]} == {"t-items"}
        assert {c for line in tags["sync"] for c in by_line[line]} == {"t-sync"}
        assert tags["lifespan-start"] <= set(report["executed_lines"])
        executed[tuple(options)] = report["executed_lines"]
    assert executed[()] == executed[("--server", "gunicorn", "--workers", "2")]


def test_a_fastapi_app_through_the_pytest_plugin(pytester: pytest.Pytester, monkeypatch) -> None:
    monkeypatch.delenv("COVERAGE_PROCESS_CONFIG", raising=False)
    monkeypatch.delenv("COVERAGE_PROCESS_START", raising=False)
    fastapi_api_project(pytester.path)

    result = pytester.runpytest_subprocess("--cov", timeout=180)

    result.assert_outcomes(passed=2)
    data = coverage.CoverageData(str(pytester.path / ".coverage"))
    data.read()
    source = pytester.path / f"{FASTAPI}.py"
    by_line = data.contexts_by_lineno(str(source))
    tags = tagged_lines(source)
    assert {c for line in tags["items"] for c in by_line[line]} == {"test_app.py::test_items"}
    assert {c for line in tags["sync"] for c in by_line[line]} == {"test_app.py::test_sync"}
