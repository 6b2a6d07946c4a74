"""What the servers make of the options they receive: gunicorn's workers, waitress's threads,
the hooks and the token, the environment's {tmpdir}, the contexts in the reports. That every
option reaches the server or the report from every front end: test_option_table.py."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

from livecov.cli import main

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
