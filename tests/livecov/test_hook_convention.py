"""The setup and reset hooks are called as docs/pytest.md's "Setup and reset hooks" says: in the
server process, with the app as the factory returned it when they take an argument, inside
a Flask app's application context; setup once before the server listens, reset at each
POST /__livecov__/reset (the setup hook when there is no reset hook)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from livecov import LiveServer, ServerOptions
from tests.livecov.helpers import get, project_config, read_data, suite_server


def calls(tmpdir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmpdir / "hook-calls.jsonl").read_text().splitlines()]


@pytest.mark.parametrize(
    ("app", "app_type", "app_context"),
    [("flaskapp:create_app", "Flask", True), ("quart_app:app", "Quart", False)],
)
def test_setup_once_then_reset_each_time_with_the_app(
    project: Path, app: str, app_type: str, app_context: bool
) -> None:
    hooks = {"setup": "hook_calls:setup", "reset": "hook_calls:reset"}
    with suite_server(app=app, workers=1, **hooks) as server:
        tmpdir = Path(server.tmpdir)
        assert [c["hook"] for c in calls(tmpdir)] == ["setup"]  # before it listened
        server.reset()
        server.reset()
        made = calls(tmpdir)
    assert [c["hook"] for c in made] == ["setup", "reset", "reset"]
    assert {c["pid"] for c in made} == {server.process.pid}  # in the server process
    assert all(c["args"] == [app_type] for c in made)  # the app itself, not livecov's wrapper
    assert all(c["app_context"] is app_context for c in made)


def test_a_hook_without_a_parameter_is_called_without_the_app(project: Path) -> None:
    reset = "hook_calls:reset_without_the_app"
    with suite_server(app="flaskapp:create_app", reset=reset) as server:
        server.reset()
        assert calls(Path(server.tmpdir)) == [
            {"hook": "reset_without_the_app", "args": [], "app_context": True,
             "pid": server.process.pid}
        ]  # fmt: skip
        assert get(server.url + "/seeded") == "no"  # no setup hook: nothing seeded


def test_without_a_reset_hook_the_setup_hook_resets(project: Path) -> None:
    with suite_server(app="flaskapp:create_app", setup="hook_calls:setup") as server:
        server.reset()
        assert [c["hook"] for c in calls(Path(server.tmpdir))] == ["setup", "setup"]


# A reset hook in a module of its own, which nothing imports before the hook is called.
RESET_MODULE = """\
RESETS = []


def reset():
    RESETS.append(1)
"""


@pytest.mark.parametrize(("server_name", "workers"), [("werkzeug", 1), ("gunicorn", 2)])
def test_the_reset_hooks_module_is_imported_under_live_server_in_every_process(
    project: Path, server_name: str, workers: int
) -> None:
    """Its import-time lines count for live-server, never for the first test whose reset
    would import it (in each worker, with several)."""
    (project / "reset_module.py").write_text(RESET_MODULE)
    options = ServerOptions(
        app="branchy:app", server=server_name, workers=workers, reset="reset_module:reset"
    )
    with LiveServer(options, project_config()) as server:
        server.reset("tests/test_x.py::test_first")
    by_line = read_data(server.data_files).contexts_by_lineno(str(project / "reset_module.py"))
    assert by_line == {
        1: ["live-server"],
        4: ["live-server"],
        5: ["tests/test_x.py::test_first"],
    }
