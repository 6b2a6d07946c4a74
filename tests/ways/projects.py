"""Small projects written as users write them, each in a venv of its own, run as users run them.

A project is copied from ``projects/NAME`` into a fresh folder for every cell; its venv
(livecov installed from this checkout's ``livecov/`` folder, as the README installs it,
beside the project's own neighbours) is built once per test module and shared by its cells
(tests/conftest.py sends each module of tests/ways/ to one pytest-xdist worker).
Everything runs with a clean environment: the outer suite's coverage settings
(``COVERAGE_PROCESS_CONFIG`` for ``patch = subprocess``, ...) never reach these processes,
so the projects are measured with their own configuration only and no tmp-project file
lands in this repository's data.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = Path(__file__).parent / "projects"
UV = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
# What the inner processes inherit: a new user's shell, nothing of this suite's.
KEPT_VARIABLES = ("HOME", "LANG", "LC_ALL", "TMPDIR", "LIVECOV_BROWSER")
TIMEOUT = 240


@dataclass(frozen=True)
class Venv:
    path: Path

    @property
    def bin(self) -> Path:
        return self.path / "bin"

    def environment(self) -> dict[str, str]:
        env = {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}
        env["PATH"] = f"{self.bin}{os.pathsep}/usr/local/bin:/usr/bin:/bin"
        env["VIRTUAL_ENV"] = str(self.path)
        return env


def build_venv(where: Path, requirements: list[str]) -> Venv:
    """A venv as a new user makes one: ``uv venv`` and ``uv pip install``, this Python."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COVERAGE_", "VIRTUAL_ENV"))}
    env["UV_PYTHON_DOWNLOADS"] = "never"
    uv = [UV, "--quiet"]
    subprocess.run([*uv, "venv", "--python", sys.executable, str(where)], env=env, check=True)
    python = str(where / "bin" / "python")
    subprocess.run(
        [*uv, "pip", "install", "--refresh-package", "livecov", "--python", python, *requirements],
        env=env,
        check=True,
        timeout=TIMEOUT,
    )
    return Venv(where)


def livecov_requirement(extras: str) -> str:
    return f"{ROOT / 'livecov'}[{extras}]"


@dataclass
class Result:
    """What a cell's commands left: their output, the coverage report, ``livecov contexts``."""

    folder: Path
    output: str
    report: dict
    contexts: str

    def tests_on(self, filename: str, line: int) -> set[str]:
        """The contexts (tests) that ran ``line`` of ``filename``; empty if none did."""
        return set(self.report["files"][filename]["contexts"].get(str(line), []))

    def lines_with_tests(self, filename: str) -> set[int]:
        return {int(line) for line in self.report["files"][filename]["contexts"]}

    def missing_lines(self) -> dict[str, list[int]]:
        """Per file with lines no test ran, those lines."""
        files = self.report["files"].items()
        return {name: file["missing_lines"] for name, file in files if file["missing_lines"]}

    @property
    def total(self) -> str:
        return self.report["totals"]["percent_covered_display"]

    @property
    def layers(self) -> Layers:
        return read_layers(self.contexts)


class Cell:
    """One project, copied afresh, run in its venv."""

    def __init__(self, name: str, venv: Venv, folder: Path) -> None:
        shutil.copytree(PROJECTS / name, folder, dirs_exist_ok=True)
        self.folder = folder
        self.venv = venv
        self.outputs: list[str] = []

    def run(self, *command: str, expect_status: int = 0) -> str:
        """Run ``command`` in the project as its user would; return its output (stdout and
        stderr together). It runs in a process group of its own, killed whole if it outlives
        ``TIMEOUT`` or the test is interrupted: no browser or server is left behind."""
        process = subprocess.Popen(
            command,
            cwd=self.folder,
            env=self.venv.environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        try:
            output, _ = process.communicate(timeout=TIMEOUT)
        except BaseException:  # the timeout, or Ctrl-C: the whole group goes, then we do
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        self.outputs.append(f"$ {' '.join(command)}\n{output}")
        assert process.returncode == expect_status, "\n".join(self.outputs)
        return output

    def measured(self, *commands: tuple[str, ...]) -> Result:
        """Run each of ``commands``, then read the data as a user would: coverage.py's JSON
        report with contexts, and ``livecov contexts``."""
        for command in commands:
            self.run(*command)
        self.run("coverage", "json", "--show-contexts", "-q", "-o", "report.json")
        contexts = self.run("livecov", "contexts")
        report = json.loads((self.folder / "report.json").read_text())
        return Result(self.folder, "\n".join(self.outputs), report, contexts)


PYTEST_PHASES = ("|setup", "|run", "|teardown")


def recorded_by_server(contexts: set[str]) -> set[str]:
    """The contexts among ``contexts`` that are not the test process's own (pytest-cov's
    ``nodeid|phase``, the empty context of collection and import, coverage run's ``unit``)."""
    return {c for c in contexts if c not in ("", "unit") and not c.endswith(PYTEST_PHASES)}


@dataclass(frozen=True)
class Layers:
    """What ``livecov contexts`` says: per file, the lines only end-to-end tests run, those
    only unit tests run (as it prints them, ``1-3, 7``), and its closing line."""

    only_e2e: dict[str, str]
    only_unit: dict[str, str]
    summary: str


def read_layers(text: str) -> Layers:
    sections: list[dict[str, str]] = []
    lines = text.strip().splitlines()
    for line in lines[:-1]:
        if not line.startswith("  "):
            sections.append({})
        elif line != "  (none)":
            filename, _, ranges = line.strip().partition(": ")
            sections[-1][filename] = ranges
    return Layers(sections[0], sections[1], lines[-1])
