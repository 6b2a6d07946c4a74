"""The suite measured under pytest-xdist loses nothing: every worker's data is saved.

A worker is a subprocess that coverage.py measures by itself (``patch = subprocess``);
a test that builds a ``coverage.Coverage`` there used to turn that measurement's saving
off, and every line the worker ran was lost (see tests/measurement.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import coverage

REPO = Path(__file__).parents[2]
BUILDS_A_COVERAGE = "tests/livecov/test_measure.py::test_single_data_file_gets_the_data_added"
SAYS_HELLO = "tests/unit/test_config.py::test_hello"
HELLO_LINE = 'return "Hello, World!"'


def test_a_worker_keeps_its_data_after_a_test_builds_a_coverage(tmp_path: Path) -> None:
    data_file = tmp_path / ".coverage"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    # One worker, which runs the test that builds a Coverage first, then the other.
    subprocess.run(
        [
            sys.executable,
            *("-m", "coverage", "run", f"--data-file={data_file}"),
            # No per-test contexts: a context switch writes what was measured so far, which
            # would hide the loss of the rest.
            *("-m", "pytest", "-q", "-n", "1"),
            *("-p", "no:randomly", BUILDS_A_COVERAGE, SAYS_HELLO),
        ],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "coverage", "combine", "-q", f"--data-file={data_file}"],
        cwd=REPO,
        env=env,
        check=True,
    )

    data = coverage.CoverageData(str(data_file))
    data.read()
    factory = REPO / "flaskr/src/flaskr/__init__.py"
    text = factory.read_text().splitlines()
    hello = next(number for number, line in enumerate(text, 1) if HELLO_LINE in line)
    (measured,) = [f for f in data.measured_files() if Path(f).resolve() == factory]
    assert hello in (data.lines(measured) or [])
