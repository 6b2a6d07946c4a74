"""`make test SHARD=i/n` on several machines, then `make combine`: one report, as if serial.

Each shard runs in its own checkout directory, as on its own CI machine; the data they
leave is combined in a third, and its report of the app must be the serial run's: the same
summaries, missing lines and branches, and the same tests named for every line.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

from tests.suite.checkouts import REPO, VENV, checkout, make

# Two unit tests and a browser test: the live server's contexts must survive too.
UNIT = ["tests/unit/test_config.py::test_config", "tests/unit/test_config.py::test_hello"]
BROWSER = "tests/e2e/test_pagination.py::test_one_page_has_no_page_links[chromium]"
TESTS = " ".join([*UNIT, BROWSER.removesuffix("[chromium]")])
# Recorded durations that put the browser test alone in one shard: the unit tests then
# run in one process together, as serially, so the lines their imports run are credited
# to the same test (the first to import them in its process) in both runs.
DURATIONS = {BROWSER: 2.0, UNIT[0]: 1.0, UNIT[1]: 1.0}


def passed(output: str) -> int:
    """How many tests a pytest run reports passed (none failed)."""
    summary = re.search(r"=+ (\d+) passed[^=]* in [^=]+=+", output)
    assert summary, output
    assert "failed" not in summary.group(0), output
    return int(summary.group(1))


def json_report(where: Path) -> dict:
    subprocess.run(
        [VENV / "bin/coverage", "json", "-q", "--show-contexts", "--fail-under=0", "-o", "r.json"],
        cwd=where,
        check=True,
    )
    report = json.loads((where / "r.json").read_text())
    del report["meta"]  # when and where it was made
    return in_order(report)


def app_part(report: dict) -> dict:
    """flaskr's files, each with its summary and contexts. livecov's own lines depend on how
    its processes happen to end (one gone while its group is read: processes.py), which two
    runs may differ in, so the totals over both packages may too."""
    return {k: v for k, v in report["files"].items() if k.startswith("flaskr/")}


def in_order(report: Any) -> Any:
    """``report`` with each line's tests sorted: the JSON report lists them in no order."""
    if isinstance(report, dict):
        return {
            key: {n: sorted(c) for n, c in value.items()} if key == "contexts" else in_order(value)
            for key, value in report.items()
        }
    return report


def test_shards_from_two_checkouts_combine_into_the_serial_report(tmp_path: Path) -> None:
    machines = [checkout(tmp_path / name) for name in ("machine-1", "machine-2", "reporter")]
    ran = []
    for number, machine in enumerate(machines[:2], 1):
        (machine / ".test_durations").write_text(json.dumps(DURATIONS))
        # Serially on each machine, as the reference run: under pytest-xdist a worker
        # also records the exit handlers that run after a serial run stopped measuring.
        run = make(machine, "test", "JOBS=0", f"SHARD={number}/2", f"PYTEST_ARGS={TESTS}")
        assert run.returncode == 0, run.stdout + run.stderr
        ran.append(passed(run.stdout))
        assert "TOTAL" not in run.stdout  # no report, no threshold for a part

    reporter = machines[2]
    serial = make(reporter, "test", "JOBS=0", f"PYTEST_ARGS={TESTS}")
    # Each shard ran a part, together all three tests.
    assert sorted(ran) == [1, 2]
    assert passed(serial.stdout) == 3, serial.stdout + serial.stderr
    expected = json_report(reporter)

    shard_data = [str(machines[0]), str(machines[1] / ".coverage.shard-2-of-2")]
    combined = make(reporter, "combine", f"DATA={' '.join(shard_data)}")
    # Two tests cover little: the threshold fails, as it does for the serial run.
    assert combined.returncode == serial.returncode == 2
    assert "Coverage failure: total of" in combined.stdout
    actual = json_report(reporter)
    assert actual["files"].keys() == expected["files"].keys()
    assert app_part(actual) == app_part(expected)
    assert sum(f["summary"]["covered_lines"] for f in app_part(expected).values()) > 0
    contexts = {c for f in expected["files"].values() for cs in f["contexts"].values() for c in cs}
    assert "tests/unit/test_config.py::test_hello|run" in contexts
    assert any(c.startswith("tests/e2e/test_pagination.py::") for c in contexts)


def test_the_inner_make_ignores_the_outer_makes_shard(monkeypatch) -> None:
    """Run inside `make test SHARD=2/2`, the inner serial make runs every test given."""
    monkeypatch.setenv("SHARD", "2/2")
    monkeypatch.setenv("MAKEFLAGS", " -- SHARD=2/2")
    monkeypatch.setenv("MAKELEVEL", "1")
    dry_run = make(REPO, "-n", "test", "JOBS=0", f"PYTEST_ARGS={TESTS}")
    assert dry_run.returncode == 0, dry_run.stderr
    assert TESTS in dry_run.stdout
    assert "--splits" not in dry_run.stdout
