"""Real-process tests written to kill mutants that livecov's other tests let survive.

Each test names the mutation(s) it kills.
"""

from __future__ import annotations

import dataclasses
import io
import re
import socket
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from livecov.cli import main
from livecov.contexts import contexts_report
from livecov.live_server import ServerOptions
from livecov.server import wsgi
from livecov.server.wsgi import TOKEN_HEADER
from livecov.settings import Settings
from tests.livecov.helpers import get, measure_like_unit_tests, suite_server


def test_reset_answers_200_after_the_hook_ran_and_the_server_keeps_serving(project: Path) -> None:
    # Kills `action == "shutdown"` -> `action <= "shutdown"` in the middleware ("reset" sorts
    # before "shutdown"): reset would then answer 202 and run its hook only after replying.
    with suite_server(app="branchy:app", setup="branchy:seed") as server:
        request = urllib.request.Request(
            f"{server.url}/__livecov__/reset", method="POST", headers={TOKEN_HEADER: server.token}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            assert response.status == 200
        assert get(server.url + "/seeded") == "seeded 2"
        assert server.process is not None
        assert server.process.poll() is None


def test_control_endpoints_refuse_every_method_but_post(project: Path) -> None:
    # Kills `REQUEST_METHOD != "POST"` -> `< "POST"`: "PUT" sorts after "POST", so the
    # mutant would let a PUT with the token stop the server.
    with suite_server(app="branchy:app") as server:
        for method in ("PUT", "GET", "PATCH", "DELETE"):
            request = urllib.request.Request(
                f"{server.url}/__livecov__/shutdown",
                method=method,
                headers={TOKEN_HEADER: server.token},
            )
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=30)
            assert refused.value.code == 405, method
            assert refused.value.headers["Allow"] == "POST"
        assert get(server.url + "/hello") == "Hello"
        assert server.process is not None
        assert server.process.poll() is None


def test_long_context_names_are_cut_to_500_characters(project: Path) -> None:
    # Kills MAX_CONTEXT_LENGTH = 499 / 501: the recorded name is pinned by its length.
    name = "c" * 600
    with suite_server(app="branchy:app") as server:
        assert get(server.url + "/hello", name) == "Hello"
    assert "c" * 500 in server.collected.measured_contexts()


def test_middleware_records_contexts_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    # Kills `contexts: bool = True` -> `False` (serve.py always passes it; other callers
    # rely on the default).
    switched: list[str] = []
    monkeypatch.setattr(wsgi, "switch_coverage_context", switched.append)

    def app(environ, start_response):
        start_response("200 OK", [])
        return [b"ok"]

    wrapped = wsgi.LivecovMiddleware(app, "token", {})
    body = wrapped({"PATH_INFO": "/", "HTTP_LIVECOV_CONTEXT": "t1"}, lambda *a: None)
    assert body == [b"ok"]
    assert switched == ["t1"]


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


def test_run_report_lists_the_missing_lines(project: Path, capfd) -> None:
    # Kills show_missing=True -> False in measure.write_reports: the terminal report of
    # `livecov run` must say which lines no request ran.
    status = main(["run", "--no-html", "--app", "branchy:app", "--", sys.executable, "-c", ""])
    out = capfd.readouterr().out
    assert status == 0, out
    header = next(line for line in out.splitlines() if line.startswith("Name"))
    assert header.split()[-1] == "Missing"
    branchy = next(line for line in out.splitlines() if line.startswith("branchy.py"))
    assert re.search(r"\d+-\d+", branchy.split("%", 1)[1])  # e.g. "15-33, 37": no request ran


LATE_APP = "# padding\n" * 300 + (
    "import aaa\n"  # line 301: a second measured file, sorting first
    "\n"
    "def app(environ, start_response):\n"  # 303
    '    start_response("200 OK", [("Content-Type", "text/plain")])\n'  # 304
    '    return [b"late"]\n'  # 305
)
CLIENT = (
    "import os, urllib.request as u; "
    "u.urlopen(u.Request(os.environ['LIVE_SERVER_URL'] + '/', headers={'Livecov-Context': 'c'}))"
)


def test_contexts_after_a_real_run_with_its_own_data_file(project: Path, capfd) -> None:
    # A real server run, then `livecov contexts` on what it wrote. Kills, in contexts.py:
    # `if not files` -> `if not not files` ("(none)" under a section that has files);
    # `open_coverage(rcfile or True)` -> `or False` (the .coveragerc names the data file);
    # `continue` -> `break` in split_by_layer (--include skips aaa.py, then must go on).
    (project / "late.py").write_text(LATE_APP)
    (project / "aaa.py").write_text("Y = 2\n")
    rc = project / ".coveragerc"
    rc.write_text(rc.read_text().replace("[run]\n", "[run]\ndata_file = .late-data\n"))
    assert main(["run", "--no-html", "--app", "late:app", "--", sys.executable, "-c", CLIENT]) == 0
    assert (project / ".late-data").exists()
    capfd.readouterr()

    assert main(["contexts"]) == 0
    out = capfd.readouterr().out
    e2e, unit = out.split("Lines only unit tests run (no end-to-end test does):\n")
    assert e2e.endswith("\n  late.py: 301, 303-305\n")
    assert "(none)" not in e2e
    assert unit.startswith("  (none)\n")  # no unit data
    assert "  aaa.py: 1\n" in e2e

    assert main(["contexts", "--include", "late.py"]) == 0
    out = capfd.readouterr().out
    assert "  late.py: 301, 303-305\n" in out
    assert "aaa.py" not in out

    # Kills `out or sys.stdout` -> `out and sys.stdout`: a caller's stream gets the report.
    buffer = io.StringIO()
    assert contexts_report(out=buffer) == 0
    assert "  late.py: 301, 303-305\n" in buffer.getvalue()
    assert capfd.readouterr().out == ""


def test_contexts_with_unlabelled_unit_data_and_server_contexts(project: Path, capfd) -> None:
    # Kills `contexts <= {""}` -> `contexts >= {""}` in contexts_report: unit data measured
    # without contexts ("") plus the server's named contexts is a valid report.
    measure_like_unit_tests(project, "import branchy\n")
    client = CLIENT.replace("'/'", "'/hello'")
    assert (
        main(["run", "--no-html", "--app", "branchy:app", "--", sys.executable, "-c", client]) == 0
    )
    capfd.readouterr()
    assert main(["contexts"]) == 0
    out = capfd.readouterr().out
    assert "Lines only end-to-end tests run" in out
    assert "branchy.py:" in out


def test_library_defaults_are_the_command_line_defaults() -> None:
    # A LiveServer made in Python serves like `livecov run` with the same settings unset.
    # Kills the NumberReplacer mutants of the defaults in ServerOptions and in Settings
    # (each session mutates one of the two; the other still holds the documented value).
    defaults = Settings()
    options = ServerOptions(app="x:app")
    shared = {f.name for f in dataclasses.fields(ServerOptions)} & {
        f.name for f in dataclasses.fields(Settings)
    }
    assert shared >= {"server", "workers", "threads", "startup_timeout", "stop_timeout"}
    for name in shared - {"app"}:
        assert getattr(options, name) == getattr(defaults, name), name
