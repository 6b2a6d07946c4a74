"""The option table's proof: every setting reaches what it is for, from every front end that
takes it. It walks the table (``livecov.settings.OPTIONS``): for each front end, every
setting declared for it is given a value other than its default, through that front end,
and is checked where it acts: in the spec the server process received (``probe.py`` reports
it), the server's environment, the hooks it ran, the reports, the result file, the test
outcomes. A setting added to the table without a value and a check here fails it; so does
dropping any one setting's pass-through in any front end.

Front ends: ``livecov run``'s flags and ``[tool.livecov]`` (in this process); the pytest
plugin's options, ini keys and ``[tool.livecov]`` (in pytest processes of their own).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import coverage
import pytest

from livecov.cli import main
from livecov.settings import BY_NAME, OPTIONS, Option
from tests.livecov.helpers import APPS, unmeasured_command

# A value other than the default for every setting.
VALUES: dict[str, Any] = {
    "app": "probe:create_app",
    "server": "gunicorn",
    "workers": 1,  # gunicorn's default is 2
    "threads": 7,
    "setup": "probe:setup",
    "reset": "probe:reset",
    "warmup": "probe:warmup",
    "env": {"PROBE_ENV": "from the front end"},
    "pythonpath": ["extra"],
    "contexts": False,
    "startup_timeout": 1.5,  # livecov run: with an app that never listens
    "stop_timeout": 1.5,  # livecov run: with an app that ignores SIGTERM
    "server_output": False,
    "fail_on_app_errors": False,
    "timeout": 1.5,
    "rcfile": "probe.rc",
    "data_file": "d/data",
    "source": ["probe"],
    "erase": True,
    "html": "h",
    "xml": "r.xml",
    "json": "r.json",
    "show_contexts": False,
    "fail_under": 99.5,
    "result_file": "result.json",
    "auto_reset": False,
    "live_server_fixture": False,
}
# Under pytest the timeouts are read back from the server object: values a real start meets.
PYTEST_VALUES = {**VALUES, "startup_timeout": 100.0, "stop_timeout": 50.0}
# livecov run's settings that act only on a failing run, each given in a run of its own.
FAILING_RUNS = {
    "startup_timeout": ("hang:create_app", "did not listen within 1.5 s"),
    "stop_timeout": ("branchy:create_stubborn_app", "did not stop within 1.5 s of SIGTERM"),
    "timeout": ("branchy:create_app", "did not finish within 1.5 s (--timeout)"),
}
PROBE_RC = "[run]\nbranch = true\nsource = .\nomit = client*\n[report]\nprecision = 4\n"


def flags(values: dict[str, Any], prefix: str = "--") -> list[str]:
    """The command-line flags giving ``values``, as the table names them (``--livecov-``:
    the pytest options)."""
    arguments = []
    for name, value in values.items():
        option = BY_NAME[name]
        word = option.pytest_key if prefix == "--livecov-" else option.key
        key = prefix + word
        if isinstance(value, bool):
            arguments.append(key if value else f"{prefix}no-{word}")
        elif isinstance(value, dict):
            for pair in value.items():
                arguments += [key, "=".join(pair)]
        elif isinstance(value, list):
            for entry in value:
                arguments += [key, entry]
        else:
            arguments += [key, str(value)]
    return arguments


def toml_table(header: str, values: dict[str, Any], prefix: str = "") -> str:
    lines = [header]
    for name, value in values.items():
        if isinstance(value, dict):
            pairs = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
            lines.append(f"{prefix}{name} = {{{pairs}}}")
        else:
            lines.append(f"{prefix}{name} = {json.dumps(value)}")
    return "\n".join(lines) + "\n"


def ini_table(values: dict[str, Any]) -> str:
    """``values`` as ini keys in pyproject.toml: text, and lines for lists and tables."""
    as_text = {
        BY_NAME[name].ini_key: ["=".join(pair) for pair in value.items()]
        if isinstance(value, dict)
        else value
        if isinstance(value, list)
        else str(value).lower()
        if isinstance(value, bool)
        else str(value)
        for name, value in values.items()
    }
    return toml_table("[tool.pytest.ini_options]", as_text)


# ---- livecov run: its flags and [tool.livecov] ----------------------------------------

# Requests /probe after a reset (so the reset hook runs), then /raise; keeps what /probe said.
RUN_CLIENT = """\
import json, os, urllib.error, urllib.request as u
url = os.environ["LIVE_SERVER_URL"]
reset = u.Request(url + "/__livecov__/reset", method="POST",
                  headers={"Livecov-Token": os.environ["LIVECOV_TOKEN"]})
u.urlopen(reset, timeout=60).close()
with u.urlopen(url + "/probe", timeout=60) as response:
    open("probe.json", "w").write(response.read().decode())
try:
    u.urlopen(url + "/raise", timeout=60)
except urllib.error.HTTPError as error:
    print("raise", error.code)
"""


def run_with(project: Path, front_end: str, values: dict[str, Any], command: list[str]) -> int:
    """``livecov run -- command`` with ``values`` given through ``front_end``."""
    if front_end == "flag":
        return main(["run", *flags(values), "--", *command])
    (project / "pyproject.toml").write_text(toml_table("[tool.livecov]", values))
    return main(["run", "--", *command])


def observe_run(project: Path, front_end: str, capfd: pytest.CaptureFixture[str]) -> dict:
    (project / "client.py").write_text(RUN_CLIENT)
    (project / "probe.rc").write_text(PROBE_RC)
    (project / "extra").mkdir()
    _data_of_an_earlier_run(project / "d" / "data")
    everyday = {o.name: VALUES[o.name] for o in OPTIONS if o.run and o.name not in FAILING_RUNS}
    status = run_with(project, front_end, everyday, [sys.executable, "client.py"])
    seen: dict[str, Any] = {"status": status, "output": "".join(capfd.readouterr())}
    assert (project / "probe.json").is_file(), seen["output"]  # the run reached the server
    seen["probe"] = json.loads((project / "probe.json").read_text())
    for name, (app, _) in FAILING_RUNS.items():
        values = {"app": app, name: VALUES[name]}
        # Only the timeout needs a command that waits; the others' ends at once.
        blocks = unmeasured_command("-c", "import threading; threading.Event().wait()")
        command = blocks if name == "timeout" else ["true"]
        run_with(project, front_end, values, command)
        seen[name] = capfd.readouterr().err
    return seen


def _data_of_an_earlier_run(path: Path) -> None:
    path.parent.mkdir()
    data = coverage.CoverageData(str(path))
    data.set_context("earlier-run")
    data.add_lines({str(path.parent.parent / "probe.py"): [1]})
    data.write()


def _report(project: Path) -> dict:
    return json.loads((project / "r.json").read_text())


def _result(project: Path) -> dict:
    return json.loads((project / "result.json").read_text())


def _contexts(project: Path) -> set[str]:
    data = coverage.CoverageData(str(project / "d" / "data"))
    data.read()
    return set(data.measured_contexts())


def _probe_lines(project: Path) -> list[int]:
    data = coverage.CoverageData(str(project / "d" / "data"))
    data.read()
    return data.lines(str(project / "probe.py")) or []


def _spec(name: str, value: Any) -> Callable[[Path, dict], bool]:
    return lambda project, seen: seen["probe"]["spec"][name] == value


SPEC_CHECKS: dict[str, Callable[[Path, dict], bool]] = {
    "app": _spec("app", VALUES["app"]),
    "server": _spec("server", "gunicorn"),
    "workers": _spec("workers", 1),
    "threads": _spec("threads", 7),
    "setup": lambda p, seen: (
        seen["probe"]["spec"]["setup"] == VALUES["setup"] and "setup" in seen["probe"]["hooks"]
    ),
    "warmup": lambda p, seen: (
        seen["probe"]["spec"]["warmup"] == VALUES["warmup"] and "warmup" in seen["probe"]["hooks"]
    ),
    "env": lambda p, seen: seen["probe"]["env"] == "from the front end",
    "pythonpath": lambda project, seen: str(project / "extra") in seen["probe"]["sys_path"],
    "contexts": _spec("contexts", False),
}
RUN_CHECKS: dict[str, Callable[[Path, dict], bool]] = {
    **SPEC_CHECKS,
    "reset": lambda p, seen: (
        seen["probe"]["spec"]["reset"] == VALUES["reset"] and seen["probe"]["hooks"][-1] == "reset"
    ),
    "startup_timeout": lambda p, seen: (
        FAILING_RUNS["startup_timeout"][1] in seen["startup_timeout"]
    ),
    "stop_timeout": lambda p, seen: FAILING_RUNS["stop_timeout"][1] in seen["stop_timeout"],
    "timeout": lambda p, seen: FAILING_RUNS["timeout"][1] in seen["timeout"],
    "server_output": lambda p, seen: "probe loaded" not in seen["output"],
    "fail_on_app_errors": lambda project, seen: (
        _result(project)["app_errors"]["count"] == 1
        and "app-errors" not in {f["outcome"] for f in _result(project)["failures"]}
    ),
    "rcfile": lambda project, seen: (
        len(_report(project)["totals"]["percent_covered_display"].partition(".")[2]) == 4
    ),
    "data_file": lambda project, seen: len(_probe_lines(project)) > 1,  # not just the earlier
    "source": lambda project, seen: set(_report(project)["files"]) == {"probe.py"},
    "erase": lambda project, seen: "earlier-run" not in _contexts(project),
    "html": lambda project, seen: (project / "h" / "index.html").is_file(),
    "xml": lambda project, seen: (project / "r.xml").is_file(),
    "json": lambda project, seen: (project / "r.json").is_file(),
    "show_contexts": lambda project, seen: "contexts" not in _report(project)["files"]["probe.py"],
    "fail_under": lambda project, seen: seen["status"] == 2,
    "result_file": lambda project, seen: _result(project)["exit_status"] == seen["status"],
}


@pytest.mark.parametrize("front_end", ["flag", "file"])
def test_every_setting_of_livecov_run_reaches_the_server_or_the_report(
    project: Path, capfd: pytest.CaptureFixture[str], front_end: str
) -> None:
    taken = {option.name for option in OPTIONS if option.run}
    assert set(RUN_CHECKS) == taken  # a setting livecov run takes needs its check here
    seen = observe_run(project, front_end, capfd)
    missed = [name for name in sorted(taken) if not RUN_CHECKS[name](project, seen)]
    assert not missed, (missed, seen)


# ---- the pytest plugin: its options, its ini keys and [tool.livecov] -------------------

PYTEST_TESTS = """\
import json, pathlib


def test_probe(livecov_client, livecov_server):
    seen = livecov_client.get("/probe").json()
    options = livecov_server.options
    seen["timeouts"] = [options.startup_timeout, options.stop_timeout]
    pathlib.Path("probe.json").write_text(json.dumps(seen))


def test_raise(livecov_client):
    assert livecov_client.get("/raise").status_code == 500


def test_live_server(live_server):
    pass
"""
PYTEST_CHECKS: dict[str, Callable[[Path, dict], bool]] = {
    **SPEC_CHECKS,
    "reset": _spec("reset", VALUES["reset"]),
    "startup_timeout": lambda p, seen: seen["probe"]["timeouts"][0] == 100.0,
    "stop_timeout": lambda p, seen: seen["probe"]["timeouts"][1] == 50.0,
    "server_output": lambda p, seen: "probe served" not in seen["output"],
    "fail_on_app_errors": lambda p, seen: "test_raise PASSED" in seen["output"],
    "auto_reset": lambda p, seen: "reset" not in seen["probe"]["hooks"],
    "live_server_fixture": lambda p, seen: "fixture 'live_server' not found" in seen["output"],
}


def former_spelling(option: Option) -> str:
    """The value for ``option`` as its former pytest name takes it (auto|never for reset)."""
    value = PYTEST_VALUES[option.name]
    words = {v: word for word, v in option.legacy_words}
    return words.get(value, str(value))


def observe_pytest(pytester: pytest.Pytester, front_end: str) -> dict:
    shutil.copy(APPS / "probe.py", pytester.path)
    (pytester.path / "extra").mkdir()
    (pytester.path / ".coveragerc").write_text("[run]\nsource = .\nomit = test_*\n")
    values = {o.name: PYTEST_VALUES[o.name] for o in OPTIONS if o.pytest}
    pytester.makepyfile(test_probe=PYTEST_TESTS)
    arguments = []
    if front_end == "option":
        arguments = flags(values, prefix="--livecov-")
    elif front_end == "ini":
        pytester.makefile(".toml", pyproject=ini_table(values))
    elif front_end == "file":
        pytester.makefile(".toml", pyproject=toml_table("[tool.livecov]", values))
    elif front_end.startswith("deprecated"):  # livecov_NAME, where it is a fixture's name
        renamed = {o.name: str(values[o.name]) for o in OPTIONS if o.pytest_name}
        rest = {name: value for name, value in values.items() if name not in renamed}
        table = toml_table("[tool.livecov]", rest)
        if front_end == "deprecated option":
            for name, value in renamed.items():
                arguments += [f"--livecov-{BY_NAME[name].key}", value]
        else:
            table += toml_table("[tool.pytest.ini_options]", renamed, prefix="livecov_")
        pytester.makefile(".toml", pyproject=table)
    else:  # the former names, for what had one; the rest from [tool.livecov]
        former = [o for o in OPTIONS if o.legacy]
        rest = {name: value for name, value in values.items() if not BY_NAME[name].legacy}
        table = toml_table("[tool.livecov]", rest)
        if front_end == "former option":
            for option in former:
                arguments += [f"--live-server-{option.legacy}", former_spelling(option)]
        else:
            inis = {o.legacy.replace("-", "_"): former_spelling(o) for o in former}
            table += toml_table("[tool.pytest.ini_options]", inis, prefix="live_server_")
        pytester.makefile(".toml", pyproject=table)
    # Measured (the server too: contexts need a measurement to act on): by this suite's
    # coverage when it runs (it then covers the plugin's code there too), else by its own.
    measured = ["-p", "no:cov"] if "COVERAGE_PROCESS_CONFIG" in os.environ else ["--cov"]
    result = pytester.runpytest_subprocess(
        *measured, "-p", "no:randomly", "-v", "-rA", *arguments, timeout=300
    )
    output = result.stdout.str() + result.stderr.str()
    assert (pytester.path / "probe.json").is_file(), output  # the test reached the server
    return {"probe": json.loads((pytester.path / "probe.json").read_text()), "output": output}


FRONT_ENDS = ["option", "ini", "file", "former option", "former ini"]
DEPRECATED = {
    "deprecated option": "--livecov-server is deprecated: use --livecov-server-program",
    "deprecated ini": "livecov_server (ini) is deprecated: use livecov_server_program",
}


@pytest.mark.parametrize("front_end", [*FRONT_ENDS, *DEPRECATED])
def test_every_setting_of_the_pytest_plugin_reaches_the_server_or_the_outcome(
    pytester: pytest.Pytester, front_end: str
) -> None:
    taken = {option.name for option in OPTIONS if option.pytest}
    assert set(PYTEST_CHECKS) == taken  # a setting the plugin takes needs its check here
    if front_end.startswith("former"):  # --live-server-NAME, live_server_NAME: only some
        taken = {option.name for option in OPTIONS if option.legacy}
        assert taken == {"app", "server", "workers", "startup_timeout", "auto_reset"}
    if front_end in DEPRECATED:  # --livecov-NAME, livecov_NAME where it names a fixture
        taken = {option.name for option in OPTIONS if option.pytest_name}
        assert taken == {"server"}
    seen = observe_pytest(pytester, front_end)
    missed = [name for name in sorted(taken) if not PYTEST_CHECKS[name](pytester.path, seen)]
    assert not missed, (missed, seen["output"])
    if front_end in DEPRECATED:
        line = f"livecov: {DEPRECATED[front_end]} (livecov_server is the name of livecov's fixture)"
        assert line in seen["output"]


def test_every_setting_has_a_value_other_than_its_default() -> None:
    for option in OPTIONS:
        assert VALUES[option.name] != option.default, option.name
        assert PYTEST_VALUES[option.name] != option.default, option.name
