"""Features plug into combining: livecov's core imports neither livecov.jinja nor
livecov.affected, and what they do to the data fails in one line under pytest too.

The pytest runs are real (pytest-cov, a git checkout); livecov's known schema version is
lowered in them, which is what a coverage.py release with a newer schema looks like to it.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from livecov.coverage_data import KNOWN_SCHEMA_VERSION
from livecov.errors import EXIT_COVERAGE_LOST

CORE = """\
import sys, livecov.live_server, livecov.measure, livecov.runner
print(sorted(m for m in sys.modules if m.startswith(("livecov.affected", "livecov.jinja"))))
"""

NEWER_COVERAGE = """\
import livecov.coverage_data

livecov.coverage_data.KNOWN_SCHEMA_VERSION -= 1  # coverage.py writes a newer schema
"""


def test_the_core_imports_no_feature() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    done = subprocess.run(
        [sys.executable, "-c", CORE], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "[]"


def newer_coverage_project(pytester: pytest.Pytester, plugins: str) -> None:
    pytester.makeini("[pytest]\naddopts = -p no:randomly\n")
    pytester.path.joinpath(".coveragerc").write_text(f"[run]\nbranch = true\nsource = .\n{plugins}")
    pytester.makeconftest(NEWER_COVERAGE)
    pytester.makepyfile(test_one="def test_one():\n    assert True\n")


@pytest.mark.parametrize(
    ("plugins", "in_git"),
    [("plugins = livecov.jinja\n", False), ("", True)],
    ids=["template repair", "commit record"],
)
def test_an_unknown_schema_stops_pytest_in_one_line(
    pytester: pytest.Pytester, plugins: str, in_git: bool
) -> None:
    newer_coverage_project(pytester, plugins)
    if in_git:
        subprocess.run(["git", "init", "-q"], cwd=pytester.path, check=True)
    result = pytester.runpytest_subprocess("--cov", "--cov-report=")
    assert result.ret == EXIT_COVERAGE_LOST
    refusals = [line for line in result.outlines + result.errlines if "livecov:" in line]
    assert len(refusals) == 1
    assert (
        f"is coverage.py data of schema version {KNOWN_SCHEMA_VERSION}, which livecov does "
        f"not know (it reads version {KNOWN_SCHEMA_VERSION - 1}): measure with a coverage.py "
        "release livecov supports, or upgrade livecov"
    ) in refusals[0]
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
