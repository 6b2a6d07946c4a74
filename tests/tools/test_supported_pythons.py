"""The Pythons the distributions claim are the Pythons CI runs the suite on."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DISTRIBUTIONS = ["livecov", "flaskr"]
NEWEST_TESTED = (3, 13)  # pyenv's 3.13 on this kind of machine: .ci/run's second run


def ci_oldest() -> tuple[int, int]:
    found = re.search(r"^OLDEST=3\.(\d+)\b", (REPO / ".ci" / "run").read_text(), re.M)
    assert found, ".ci/run names no OLDEST Python"
    return (3, int(found.group(1)))


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_requires_python_is_the_oldest_python_ci_runs(distribution: str) -> None:
    project = tomllib.loads((REPO / distribution / "pyproject.toml").read_text())["project"]
    major, minor = ci_oldest()
    assert project["requires-python"] == f">={major}.{minor}"


@pytest.mark.parametrize("distribution", DISTRIBUTIONS)
def test_classifiers_name_each_python_from_the_oldest_to_the_newest_tested(
    distribution: str,
) -> None:
    project = tomllib.loads((REPO / distribution / "pyproject.toml").read_text())["project"]
    prefix = "Programming Language :: Python :: "
    versions = {
        tuple(map(int, c.removeprefix(prefix).split(".")))
        for c in project["classifiers"]
        if re.fullmatch(re.escape(prefix) + r"3\.\d+", c)
    }
    oldest = ci_oldest()
    assert versions == {(3, minor) for minor in range(oldest[1], NEWEST_TESTED[1] + 1)}
    assert f"{prefix}3 :: Only" in project["classifiers"]
