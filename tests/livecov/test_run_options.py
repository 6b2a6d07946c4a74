"""Every option of ``livecov run`` (and its ``[tool.livecov]`` key) proven end to end: each test
fails when the option's wiring from the command line to the server or the report is removed."""

from __future__ import annotations

import json
import re
import sys
import tomllib
from dataclasses import fields
from pathlib import Path

import pytest

from livecov.cli import main
from livecov.settings import Settings, load_settings

# Requests each argument's path and prints "path = body"; RESET posts the reset action
# with the token livecov gave the command.
CLIENT = """\
import os, sys, urllib.request as u
url = os.environ["LIVE_SERVER_URL"]
for arg in sys.argv[1:]:
    if arg == "RESET":
        token = os.environ.get("LIVECOV_TOKEN", "")
        request = u.Request(url + "/__livecov__/reset", method="POST",
                            headers={"Livecov-Token": token})
        print("RESET", u.urlopen(request).status)
    else:
        request = u.Request(url + arg, headers={"Livecov-Context": "ctx-options"})
        print(arg, "=", u.urlopen(request).read().decode())
"""


def run(project: Path, *arguments: str, requests: tuple[str, ...] = ()) -> int:
    (project / "client.py").write_text(CLIENT)
    return main(["run", "--no-html", *arguments, "--", sys.executable, "client.py", *requests])


@pytest.mark.parametrize("workers", [1, 3])
def test_server_and_workers_reach_gunicorn(project: Path, capfd, workers: int) -> None:
    status = run(project, "--app", "options_app:app", "--server", "gunicorn",
                 "--workers", str(workers), requests=(f"/loaded?{workers}",))  # fmt: skip
    captured = capfd.readouterr()
    err = captured.err
    assert status == 0, err
    assert f"/loaded?{workers} = {workers}\n" in captured.out  # the run lasted till then
    loaded = set(re.findall(r"\[live-server\] options_app loaded in process (\d+)", err))
    assert len(loaded) == workers  # each worker loads the app; the master does not


def test_threads_reach_waitress(project: Path, capfd) -> None:
    status = run(project, "--app", "options_app:app", "--server", "waitress", "--threads", "3",
                 requests=("/threads",))  # fmt: skip
    out = capfd.readouterr().out
    assert status == 0
    assert "/threads = waitress-0 waitress-1 waitress-2\n" in out


@pytest.mark.parametrize(
    ("arguments", "after_reset"),
    [
        (
            ["--setup", "options_app:setup_hook", "--reset", "options_app:reset_hook"],
            "setup reset ",
        ),
        (["--setup", "options_app:setup_hook"], "setup setup "),  # no reset hook: setup again
    ],
)
def test_setup_and_reset_hooks_and_the_token_given_to_the_command(
    project: Path, capfd, arguments: list[str], after_reset: str
) -> None:
    status = run(project, "--app", "options_app:app", *arguments,
                 requests=("/hooks", "RESET", "/hooks"))  # fmt: skip
    out = capfd.readouterr().out
    assert status == 0, out
    assert f"/hooks = setup \nRESET 200\n/hooks = {after_reset}\n" in out


def test_env_reaches_the_server_with_its_tmpdir(project: Path, capfd) -> None:
    status = run(project, "--app", "options_app:app", "--env", "OPTION_VALUE={tmpdir}/value",
                 requests=("/env",))  # fmt: skip
    out = capfd.readouterr().out
    assert status == 0
    value = out.split("/env = ", 1)[1].splitlines()[0]
    assert value.endswith("/app/value")
    assert Path(value).parent.name == "app"  # the server's fresh temporary folder
    assert not Path(value).parent.exists()  # removed with the run


def test_stop_timeout_bounds_the_wait_for_the_server(project: Path, capfd) -> None:
    status = run(project, "--app", "branchy:create_stubborn_app", "--stop-timeout", "1")
    assert status == 5
    assert "did not stop within 1 s of SIGTERM and was killed" in capfd.readouterr().err


def test_rcfile_is_the_configuration_used(project: Path, capfd) -> None:
    (project / "other.rc").write_text("[run]\nbranch = true\nsource = .\nomit = options_app.py\n")
    assert run(project, "--app", "options_app:app", "--json", "default.json") == 0
    assert run(project, "--app", "options_app:app", "--rcfile", "other.rc", "--erase",
               "--json", "other.json") == 0  # fmt: skip
    assert "options_app.py" in json.loads((project / "default.json").read_text())["files"]
    assert "options_app.py" not in json.loads((project / "other.json").read_text())["files"]


def test_data_file_is_where_the_data_goes(project: Path, capfd) -> None:
    (project / "d").mkdir()
    assert run(project, "--app", "options_app:app", "--data-file", "d/custom") == 0
    assert (project / "d" / "custom").is_file()
    assert not (project / ".coverage").exists()


@pytest.mark.parametrize("shown", [True, False])
def test_show_contexts_in_the_html_and_json_reports(project: Path, capfd, shown: bool) -> None:
    hide = [] if shown else ["--no-show-contexts"]
    status = main(["run", "--app", "options_app:app", "--html", "html", "--json", "r.json", *hide,
                   "--", sys.executable, "-c", CLIENT, "/env"])  # fmt: skip
    assert status == 0
    page = (project / "html" / "options_app_py.html").read_text()
    assert ("ctx-options" in page) is shown
    report = json.loads((project / "r.json").read_text())["files"]["options_app.py"]
    assert ("contexts" in report) is shown


# A value other than the default for every setting, as [tool.livecov] writes it.
EVERY_SETTING = """\
[tool.livecov]
app = "a:b"
server = "gunicorn"
workers = 3
threads = 5
setup = "m:setup"
reset = "m:reset"
warmup = "m:warmup"
pythonpath = ["/elsewhere/src"]  # absolute: kept as it is
contexts = false
startup-timeout = 7.5
stop-timeout = 8
timeout = 9
rcfile = "x.rc"
data-file = "x.data"
source = ["x", "y"]
html = "h"
xml = "x.xml"
json = "x.json"
show-contexts = false
fail-under = 42
erase = true
result-file = "result.json"
server-output = false
fail-on-app-errors = false
live-server-fixture = true  # the pytest plugin's (livecov run has no use for it)

[tool.livecov.env]
K = "v"
"""


def test_every_setting_is_read_from_tool_livecov(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(EVERY_SETTING)
    settings = load_settings(tmp_path / "pyproject.toml")
    table = tomllib.loads(EVERY_SETTING)["tool"]["livecov"]
    expected = {key.replace("-", "_"): value for key, value in table.items()}
    assert {f.name for f in fields(Settings)} == set(expected)  # a new setting needs a line
    for name, value in expected.items():
        assert getattr(settings, name) == value, name
        assert value != getattr(Settings(), name), name  # not the default: the file counts
