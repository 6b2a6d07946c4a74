"""An ASGI app's failed requests count as a WSGI app's do: every 5xx answer is recorded
once, and an unhandled exception fails ``livecov run`` (exit status 6) and, under pytest,
the test that made the request, however it passed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from livecov.cli import main
from livecov.server.app_errors import AppErrorLog
from livecov.server.asgi import AsyncContextGate, LivecovAsgiMiddleware
from tests.livecov.helpers import APPS
from tests.livecov.test_asgi_gate import Exchange, http, run
from tests.livecov.test_server_output import client


async def answering(scope, receive, send) -> None:
    """GET /503: answers 503, raising nothing."""
    status = int(scope["path"].lstrip("/"))
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def answers_500_then_raises(scope, receive, send) -> None:
    """What Starlette's error middleware does with an unhandled exception."""
    await send({"type": "http.response.start", "status": 500, "headers": []})
    await send({"type": "http.response.body", "body": b"Internal Server Error"})
    raise ZeroDivisionError("division by zero")


async def raises_before_answering(scope, receive, send) -> None:
    raise KeyError("missing")


def entries(log: Path) -> list[tuple[int, str, str | None, str | None]]:
    lines = log.read_text().splitlines() if log.exists() else []
    return [(e["status"], e["path"], e["context"], e["exception"]) for e in map(json.loads, lines)]


def layer_over(app, log: Path | None = None, contexts: bool = True) -> LivecovAsgiMiddleware:
    """The ASGI layer over ``app``, recording its failed requests in ``log`` (when given);
    its context switches go nowhere (not to this process's measurement)."""
    errors = AppErrorLog(str(log)) if log else None
    layer = LivecovAsgiMiddleware(app, "the-token", {}, contexts=contexts, errors=errors)
    layer.gate = AsyncContextGate("live-server", switch=lambda context: None)
    return layer


def serve(layer: LivecovAsgiMiddleware, *paths: str) -> list[Exchange]:
    """Each path requested in turn, as the test ``t``."""
    exchanges = [Exchange() for _ in paths]

    async def scenario() -> None:
        for path, exchange in zip(paths, exchanges, strict=True):
            await layer(http(path, headers={"Livecov-Context": "t"}), exchange.receive,
                        exchange.send)  # fmt: skip

    run(scenario)
    return exchanges


INTERNAL_ERROR = [500, b"Internal Server Error"]  # the answer to an app that raised first


def answer(exchange: Exchange) -> list:
    return [exchange.status, b"".join(m.get("body", b"") for m in exchange.sent[1:])]


@pytest.mark.parametrize("contexts", [True, False])
def test_every_5xx_and_only_a_5xx_is_recorded_with_its_status(tmp_path, contexts: bool) -> None:
    log = tmp_path / "errors.jsonl"
    exchanges = serve(
        layer_over(answering, log, contexts), "/200", "/302", "/499", "/500", "/503", "/599"
    )
    assert [exchange.status for exchange in exchanges] == [200, 302, 499, 500, 503, 599]
    assert all(len(exchange.sent) == 2 for exchange in exchanges)  # each answer whole
    assert entries(log) == [
        (500, "/500", "t", None),
        (503, "/503", "t", None),
        (599, "/599", "t", None),
    ]


def test_a_500_answered_then_raised_is_one_error_recorded_with_its_exception(
    tmp_path, capsys
) -> None:
    log = tmp_path / "errors.jsonl"
    (exchange,) = serve(layer_over(answers_500_then_raises, log), "/raise")
    assert answer(exchange) == [500, b"Internal Server Error"]  # the app's own, once
    assert entries(log) == [(500, "/raise", "t", "ZeroDivisionError: division by zero")]
    err = capsys.readouterr().err
    # As the WSGI layer prints it: the request and its test, the traceback, not livecov's.
    assert err.startswith("Exception on GET /raise (Livecov-Context: t):\nTraceback")
    assert err.endswith("ZeroDivisionError: division by zero\n")
    assert "livecov/server" not in err


def test_a_5xx_answer_ends_only_once_it_is_recorded(tmp_path) -> None:
    # The client has the whole answer only then: a test that made the request finds the
    # record (and its exception) when it ends, however soon.
    log = tmp_path / "errors.jsonl"
    layer = layer_over(answers_500_then_raises, log)
    seen_when_sent: list[list] = []

    async def scenario() -> None:
        async def send(message: dict) -> None:
            seen_when_sent.append(entries(log))

        await layer(http("/raise"), Exchange().receive, send)

    run(scenario)
    recorded = [(500, "/raise", "live-server", "ZeroDivisionError: division by zero")]
    assert seen_when_sent == [[], recorded]  # the start went out at once, the end after


def test_an_exception_after_a_2xx_answer_is_recorded_as_a_500(tmp_path) -> None:
    async def breaks_mid_stream(scope, receive, send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"half", "more_body": True})
        raise ValueError("the rest is lost")

    log = tmp_path / "errors.jsonl"
    (exchange,) = serve(layer_over(breaks_mid_stream, log), "/stream")
    assert [message.get("body") for message in exchange.sent] == [None, b"half"]  # no more
    assert entries(log) == [(500, "/stream", "t", "ValueError: the rest is lost")]


def test_an_exception_before_any_answer_is_answered_500_and_recorded_with_it(tmp_path) -> None:
    log = tmp_path / "errors.jsonl"
    (exchange,) = serve(layer_over(raises_before_answering, log), "/missing")
    assert answer(exchange) == INTERNAL_ERROR
    assert entries(log) == [(500, "/missing", "t", "KeyError: 'missing'")]


def test_without_an_error_log_a_failed_request_is_still_answered_and_printed(capsys) -> None:
    exchanges = serve(layer_over(raises_before_answering), "/x")
    assert [answer(exchange) for exchange in exchanges] == [INTERNAL_ERROR]
    assert capsys.readouterr().err.startswith("Exception on GET /x (Livecov-Context: t):")
    (exchange,) = serve(layer_over(answers_500_then_raises), "/y")
    assert answer(exchange) == [500, b"Internal Server Error"]


def test_a_websockets_exception_is_recorded_and_goes_on_to_the_server(tmp_path) -> None:
    async def socket_breaks(scope, receive, send) -> None:
        await send({"type": "websocket.accept"})
        raise RuntimeError("the socket broke")

    log = tmp_path / "errors.jsonl"
    layer = layer_over(socket_breaks, log)

    async def scenario() -> None:
        exchange = Exchange({"type": "websocket.connect"})
        scope = {"type": "websocket", "path": "/ws", "headers": [(b"livecov-context", b"t")]}
        with pytest.raises(RuntimeError, match="the socket broke"):  # uvicorn closes it
            await layer(scope, exchange.receive, exchange.send)

    run(scenario)
    assert entries(log) == [(500, "/ws", "t", "RuntimeError: the socket broke")]


@pytest.mark.parametrize("backend", ["uvicorn", "gunicorn"])
def test_livecov_run_fails_when_a_starlette_app_raised(project: Path, capfd, backend: str) -> None:
    status = main(
        ["run", "--app", "failing_asgi:app", "--server", backend, "--workers", "1", "--no-html",
         "--result-file", "r.json", "--", *client("/hello", "/raise", "/unavailable")]
    )  # fmt: skip
    err = capfd.readouterr().err
    assert status == 6  # the command passed, but the app raised
    # Printed as a WSGI app's exception is: the request, then the app's frames, not livecov's.
    assert "[live-server] Exception on GET /raise (Livecov-Context: live-server):\n" in err
    assert "Exception in ASGI application" not in err
    assert "src/livecov" not in err
    assert err.splitlines()[-1] == (
        "livecov: the app answered 2 requests with a 5xx (the first: 500 for GET /raise); "
        "first exception: ZeroDivisionError: division by zero "
        "(--no-fail-on-app-errors lets the run pass)"
    )
    result = json.loads((project / "r.json").read_text())
    assert result["app_errors"] == {
        "count": 2,
        "first_exception": "ZeroDivisionError: division by zero",
    }


def test_a_5xx_a_starlette_app_chose_is_counted_not_failed(project: Path, capfd) -> None:
    status = main(["run", "--app", "failing_asgi:app", "--no-html", "--", *client("/unavailable")])
    assert status == 0
    assert capfd.readouterr().err.splitlines()[-1] == (
        "livecov: the app answered 1 request with a 5xx (the first: 503 for GET /unavailable); "
        "first exception: none printed"
    )


def test_pytest_fails_a_passing_test_whose_request_a_starlette_app_raised_on(
    pytester: pytest.Pytester,
) -> None:
    shutil.copy(APPS / "failing_asgi.py", pytester.path)
    pytester.makefile(".toml", pyproject='[tool.livecov]\napp = "failing_asgi:app"\n')
    pytester.makepyfile(
        test_inline="""
        def test_passes(livecov_client):
            assert livecov_client.get("/hello").text == "ok"

        def test_ignores_the_500(livecov_client):
            livecov_client.get("/raise")
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cov", timeout=120)
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_ignores_the_500 _*",
            "livecov: the app answered 1 request with a 5xx during this test (the first: 500 "
            "for GET /raise); first exception: ZeroDivisionError: division by zero "
            "(fail_on_app_errors = false lets it pass)",
        ]
    )
