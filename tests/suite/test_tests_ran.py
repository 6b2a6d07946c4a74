"""The suite's guard (tests/tests_ran.py): a run that collected tests and ran none fails."""

from __future__ import annotations

import pytest

from tests.tests_ran import NONE_RAN

# A plugin whose test loop returns at once, as livecov's wrapper would without its
# decorator: pytest alone would exit 0.
SWALLOWING_LOOP = """\
def pytest_runtestloop(session):
    return True
"""


def test_a_run_that_ran_none_of_its_tests_fails(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_a="def test_one():\n    pass\n\ndef test_two():\n    pass\n")
    pytester.makeconftest(SWALLOWING_LOOP)

    assert pytester.runpytest_inprocess().ret == pytest.ExitCode.OK  # what pytest does alone
    guarded = pytester.runpytest_inprocess("-p", "tests.tests_ran")

    assert guarded.ret == pytest.ExitCode.TESTS_FAILED
    guarded.stdout.fnmatch_lines([NONE_RAN.format(count=2)])


@pytest.mark.parametrize(
    "args", [[], ["--collect-only"], ["-k", "nothing_matches"]], ids=["ran", "co", "none"]
)
def test_runs_that_ran_their_tests_or_collected_none_are_left_alone(
    pytester: pytest.Pytester, args: list[str]
) -> None:
    pytester.makepyfile(test_a="def test_one():\n    pass\n")
    alone = pytester.runpytest_inprocess(*args)
    guarded = pytester.runpytest_inprocess("-p", "tests.tests_ran", *args)
    assert guarded.ret == alone.ret
    assert "ran none" not in guarded.stdout.str()
