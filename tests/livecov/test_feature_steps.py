"""Features plug into combining: livecov's core imports neither livecov.jinja nor
livecov.affected; and the pytest plugin refuses, before any test runs, a coverage.py whose
data livecov does not know.

In that pytest run (a real one), livecov's known schema version is lowered: what a
coverage.py release with a newer schema looks like to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import coverage
import pytest

from livecov.coverage_data import KNOWN_SCHEMA_VERSION
from livecov.features import register_data_steps
from livecov.jinja import PLUGIN_NAME
from livecov.measure import combine_into_file

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


def test_a_coverage_py_of_an_unknown_schema_stops_pytest_before_any_test(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(NEWER_COVERAGE)
    pytester.makepyfile(test_one="def test_one():\n    assert True\n")
    result = pytester.runpytest_subprocess("-p", "no:cov", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    refusal = (
        f"ERROR: livecov: coverage.py {coverage.__version__} writes data of schema version "
        f"{KNOWN_SCHEMA_VERSION}, which livecov does not know (it reads version "
        f"{KNOWN_SCHEMA_VERSION - 1}): measure with a coverage.py release livecov supports, "
        "or upgrade livecov"
    )
    assert [line for line in result.errlines if line] == [refusal]
    assert "test_one" not in result.stdout.str()


def test_the_combined_data_is_read_back_after_its_template_repair(tmp_path: Path) -> None:
    # The data livecov run adds to holds a template measured without the repair (a
    # `coverage run` of unit tests): one arc starts at a Python line of the compiled template.
    template = str(tmp_path / "page.html")
    existing = coverage.CoverageData(str(tmp_path / ".coverage"))
    existing.add_arcs({template: {(-1, 1), (1, 2), (7, 3)}})
    existing.add_file_tracers({template: PLUGIN_NAME})
    existing.write()
    (tmp_path / "server").mkdir()
    served = coverage.CoverageData(str(tmp_path / "server" / ".coverage.server"))
    served.add_arcs({str(tmp_path / "views.py"): {(-1, 1), (1, -1)}})
    served.write()
    register_data_steps()
    cov = coverage.Coverage(data_file=str(tmp_path / ".coverage"), branch=True, config_file=False)

    combine_into_file(cov, [tmp_path / "server" / ".coverage.server"])

    # What livecov run reports from: the repaired arcs, not the ones it combined.
    assert sorted(cov.get_data().arcs(template) or []) == [(-1, 1), (-1, 3), (1, 2)]
