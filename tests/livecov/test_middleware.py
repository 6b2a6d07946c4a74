"""The context gate: who may run at the same time, and when contexts switch."""

from __future__ import annotations

import json
import sys
import threading

import pytest

from livecov.server import wsgi
from livecov.server.app_errors import AppErrorLog
from livecov.server.wsgi import Alone, ContextGate, LivecovMiddleware, Visitor, clean_context


class Visit:
    """A thread inside the gate until released."""

    def __init__(self, gate: ContextGate, context: Visitor) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        # A daemon: a broken gate that never lets it out must not keep pytest from exiting.
        self.thread = threading.Thread(target=self._run, args=(gate, context), daemon=True)
        self.thread.start()

    def _run(self, gate: ContextGate, context: Visitor) -> None:
        with gate.inside(context):
            self.entered.set()
            self.release.wait(timeout=WAIT)

    def leave(self) -> None:
        self.release.set()
        self.thread.join(timeout=WAIT)


# The longest a thread may take to get in, or to start waiting (a bound, not a pause).
WAIT = 10


class WatchedCondition(threading.Condition):
    """The gate's condition, telling when a thread starts to wait on it: "it is blocked" is
    an event, not a guess made after a pause (which passes on a slow machine)."""

    def __init__(self) -> None:
        super().__init__()
        self.waits = threading.Semaphore(0)

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.release()
        return super().wait(timeout)

    def blocked(self, count: int = 1) -> bool:
        """Wait until ``count`` more threads waited on the condition."""
        return all(self.waits.acquire(timeout=WAIT) for _ in range(count))


def recording_gate(switches: list[str]) -> ContextGate:
    return ContextGate("live-server", switch=switches.append, condition=WatchedCondition())


def blocked(gate: ContextGate, visit: Visit, count: int = 1) -> bool:
    """True once ``visit`` (and ``count`` - 1 others) wait in the gate without having entered."""
    return gate._condition.blocked(count) and not visit.entered.is_set()


def test_same_context_runs_together_without_switching() -> None:
    switches: list[str] = []
    gate = recording_gate(switches)
    first = Visit(gate, "a")
    assert first.entered.wait(WAIT)
    second = Visit(gate, "a")
    assert second.entered.wait(WAIT)  # in while the first is still inside
    first.leave()
    second.leave()
    assert switches == ["a"]  # one switch for both


def test_other_context_waits_until_everyone_left() -> None:
    switches: list[str] = []
    gate = recording_gate(switches)
    a = Visit(gate, "a")
    assert a.entered.wait(WAIT)
    b = Visit(gate, "b")
    assert blocked(gate, b)  # "a" is still inside
    a.leave()
    assert b.entered.wait(WAIT)
    b.leave()
    assert switches == ["a", "b"]


def test_newcomers_queue_behind_a_waiting_context() -> None:
    gate = recording_gate([])
    a1 = Visit(gate, "a")
    assert a1.entered.wait(WAIT)
    b = Visit(gate, "b")
    assert blocked(gate, b)
    a2 = Visit(gate, "a")  # same context as inside, but "b" waits first
    assert blocked(gate, a2)
    a1.leave()
    assert b.entered.wait(WAIT)
    b.leave()
    assert a2.entered.wait(WAIT)
    a2.leave()


def test_a_waiting_context_goes_before_any_number_of_newcomers() -> None:
    # All waiters wake when the gate empties; the one that waited first must win the race,
    # however many newcomers of the context inside race it.
    switches: list[str] = []
    gate = recording_gate(switches)
    a1 = Visit(gate, "a")
    assert a1.entered.wait(WAIT)
    b = Visit(gate, "b")
    assert blocked(gate, b)
    newcomers = [Visit(gate, "a") for _ in range(10)]
    assert gate._condition.blocked(10)  # all of them wait
    a1.leave()
    assert b.entered.wait(WAIT)
    assert not any(n.entered.is_set() for n in newcomers)
    b.leave()
    for n in newcomers:  # then all of them at once: one switch back to "a"
        assert n.entered.wait(WAIT)
    for n in newcomers:
        n.leave()
    assert switches == ["a", "b", "a"]


def test_exclusive_visit_runs_alone() -> None:
    switches: list[str] = []
    gate = recording_gate(switches)
    reset = Visit(gate, Alone("live-server"))
    assert reset.entered.wait(WAIT)
    same = Visit(gate, "live-server")  # even the context being recorded waits
    assert blocked(gate, same)
    reset.leave()
    assert same.entered.wait(WAIT)
    same.leave()
    assert switches == []  # never a switch for the same context


def test_exclusive_visit_records_under_its_own_context() -> None:
    switches: list[str] = []
    gate = recording_gate(switches)
    before = Visit(gate, "test-1")
    assert before.entered.wait(WAIT)
    reset = Visit(gate, Alone("test-2"))
    assert blocked(gate, reset)  # waits for test-1's request
    joining = Visit(gate, "test-2")  # its own test's request waits behind it too
    assert blocked(gate, joining)
    before.leave()
    assert reset.entered.wait(WAIT)
    assert blocked(gate, joining)  # alone: not even its own context joins it
    reset.leave()
    assert joining.entered.wait(WAIT)
    joining.leave()
    assert switches == ["test-1", "test-2"]  # the reset's lines: test-2's, never test-1's


def test_clean_context() -> None:
    assert clean_context(None) == "live-server"
    assert clean_context("  ") == "live-server"
    assert clean_context("a\x00b\nc") == "abc"
    assert len(clean_context("x" * 1000)) == 500


# -- the gate is released whatever the app does ------------------------------------------


def middleware(app, errors: AppErrorLog | None = None) -> LivecovMiddleware:
    wrapped = LivecovMiddleware(app, "token", {}, contexts=True, errors=errors)
    wrapped.gate = recording_gate([])  # no coverage switching in this process
    return wrapped


def request(wrapped: LivecovMiddleware, context: str = "a-test") -> tuple[list[str], bytes]:
    environ = {"PATH_INFO": "/", "REQUEST_METHOD": "GET", "HTTP_LIVECOV_CONTEXT": context}
    statuses: list[str] = []
    body = wrapped(environ, lambda status, headers, *exc_info: statuses.append(status))
    return statuses, b"".join(body)


def assert_gate_free(wrapped: LivecovMiddleware) -> None:
    # Another context gets in only when nobody is inside any more.
    other = Visit(wrapped.gate, "another-context")
    assert other.entered.wait(WAIT)
    other.leave()


def test_an_app_raising_inside_the_gate_releases_it(tmp_path, capsys) -> None:
    def raising(environ, start_response):
        raise RuntimeError("inside the gate")

    errors = AppErrorLog(str(tmp_path / "errors.jsonl"))
    wrapped = middleware(raising, errors)
    statuses, body = request(wrapped)
    assert statuses == ["500 Internal Server Error"]
    assert body == b"Internal Server Error"
    assert_gate_free(wrapped)
    err = capsys.readouterr().err
    assert err.startswith("Exception on GET / (Livecov-Context: a-test):\nTraceback")
    assert err.endswith("RuntimeError: inside the gate\n")
    assert "wsgi.py" not in err  # none of livecov's frames: the app's only
    assert 'test_middleware.py", line' in err
    entry = json.loads((tmp_path / "errors.jsonl").read_text())
    assert (entry["status"], entry["exception"]) == (500, "RuntimeError: inside the gate")


def test_a_generator_body_failing_midway_releases_the_gate(capsys) -> None:
    def streaming(environ, start_response):
        start_response("200 OK", [])
        yield b"first part"
        raise OSError("the stream broke")

    wrapped = middleware(streaming)
    statuses, body = request(wrapped)
    assert statuses == ["200 OK", "500 Internal Server Error"]
    assert body == b"Internal Server Error"
    assert_gate_free(wrapped)
    assert "OSError: the stream broke" in capsys.readouterr().err


class ClosingBody:
    """A streamed body with close(), as WSGI requires servers to call once."""

    def __init__(self) -> None:
        self.closed = 0

    def __iter__(self):
        yield b"streamed "
        yield b"body"

    def close(self) -> None:
        self.closed += 1


def test_a_streamed_body_is_closed_once_and_releases_the_gate() -> None:
    body = ClosingBody()

    def streaming(environ, start_response):
        start_response("200 OK", [])
        return body

    wrapped = middleware(streaming)
    statuses, content = request(wrapped)
    assert (statuses, content) == (["200 OK"], b"streamed body")
    assert body.closed == 1
    assert_gate_free(wrapped)


def test_a_large_body_goes_through_whole_and_releases_the_gate() -> None:
    chunk = bytes(range(256)) * 4096  # 1 MiB

    def large(environ, start_response):
        start_response("200 OK", [])
        return (chunk for _ in range(32))

    wrapped = middleware(large)
    statuses, content = request(wrapped)
    assert statuses == ["200 OK"]
    assert content == chunk * 32
    assert_gate_free(wrapped)


def test_without_an_error_log_a_5xx_is_just_passed_on() -> None:
    def unavailable(environ, start_response):
        start_response("503 Service Unavailable", [])
        return [b"later"]

    statuses, content = request(middleware(unavailable))
    assert (statuses, content) == (["503 Service Unavailable"], b"later")


def test_every_5xx_and_only_a_5xx_is_recorded_with_its_status(tmp_path) -> None:
    def answering(environ, start_response):  # GET /503: answers 503, nothing raised
        start_response(environ["PATH_INFO"].lstrip("/") + " Status", [])
        return [b""]

    errors = AppErrorLog(str(tmp_path / "errors.jsonl"))
    wrapped = middleware(answering, errors)
    for status in (200, 302, 499, 500, 503, 599):
        environ = {"PATH_INFO": f"/{status}", "REQUEST_METHOD": "GET"}
        assert b"".join(wrapped(environ, lambda *args: None)) == b""
    entries = [json.loads(line) for line in (tmp_path / "errors.jsonl").read_text().splitlines()]
    assert [(e["status"], e["path"], e["exception"]) for e in entries] == [
        (500, "/500", None),
        (503, "/503", None),
        (599, "/599", None),
    ]


def test_an_exception_the_app_answers_itself_is_recorded_with_it(tmp_path) -> None:
    def handled(environ, start_response):
        try:
            raise KeyError("missing")
        except KeyError:
            start_response("500 Internal Server Error", [], sys.exc_info())
            return [b"sorry"]

    errors = AppErrorLog(str(tmp_path / "errors.jsonl"))
    statuses, content = request(middleware(handled, errors))
    assert (statuses, content) == (["500 Internal Server Error"], b"sorry")
    entry = json.loads((tmp_path / "errors.jsonl").read_text())
    assert entry["status"] == 500
    assert entry["exception"] == "KeyError: 'missing'"
    assert (entry["method"], entry["path"], entry["context"]) == ("GET", "/", "a-test")


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


def call_control(action: str, method: str = "POST") -> tuple[str, dict, list[str]]:
    """POST (or ``method``) /__livecov__/ACTION with the token: status, headers, actions run."""
    ran: list[str] = []
    actions = {"reset": lambda: ran.append("reset"), "shutdown": lambda: ran.append("shutdown")}
    middleware = LivecovMiddleware(lambda environ, start_response: [], "token", actions)
    answers: list[tuple[str, dict]] = []
    environ = {
        "PATH_INFO": f"/__livecov__/{action}",
        "REQUEST_METHOD": method,
        "HTTP_LIVECOV_TOKEN": "token",
    }
    body = middleware(environ, lambda status, headers, *_: answers.append((status, dict(headers))))
    b"".join(body)
    [(status, headers)] = answers
    return status, headers, ran


def reset_switches(contexts: bool, headers: dict[str, str]) -> list[str]:
    """The context switches a reset makes, asked with ``headers`` after a request of "t1"."""
    switches: list[str] = []
    wrapped = LivecovMiddleware(lambda e, s: [], "token", {"reset": lambda: None}, contexts)
    wrapped.gate = recording_gate(switches)
    request(wrapped, "t1")
    environ = {"PATH_INFO": "/__livecov__/reset", "REQUEST_METHOD": "POST"}
    environ.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    assert b"".join(wrapped(environ, lambda *a: None)) == b'{"ok": "reset"}'
    return switches


def test_a_reset_records_under_the_context_it_names_else_live_server() -> None:
    token = {"Livecov-Token": "token"}
    assert reset_switches(True, {**token, "Livecov-Context": "t2"}) == ["t1", "t2"]
    assert reset_switches(True, token) == ["t1", "live-server"]  # never t1's


def test_without_contexts_a_reset_switches_nothing() -> None:
    # An unmeasured server has no coverage to switch: the header is not followed.
    assert reset_switches(False, {"Livecov-Token": "token", "Livecov-Context": "t2"}) == []


def test_reset_runs_its_hook_before_it_answers_200() -> None:
    # Kills `action == "shutdown"` -> `action <= "shutdown"` ("reset" sorts before
    # "shutdown"): reset would answer 202 and run its hook only once the answer is closed.
    assert call_control("reset")[::2] == ("200 OK", ["reset"])


def test_control_endpoints_refuse_every_method_but_post() -> None:
    # Kills `REQUEST_METHOD != "POST"` -> `< "POST"`: "PUT" sorts after "POST", so the
    # mutant would let a PUT with the token stop the server.
    for action in ("shutdown", "reset"):
        for method in ("PUT", "GET", "PATCH", "DELETE"):
            status, headers, ran = call_control(action, method)
            assert (status, headers["Allow"], ran) == ("405 Method Not Allowed", "POST", [])
