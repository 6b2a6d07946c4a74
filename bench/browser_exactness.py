"""flaskr's browser suite measured twice, line coverage with per-test contexts: once with
coverage.py's C tracer, once as livecov chooses on Python 3.12+ (sys.monitoring, re-armed
at each context switch). Both runs must give the same (file, context, line): every
browser test named on exactly the server lines it ran. Also their wall times.

The suite's own settings (pyproject.toml) measure branches and templates, which keep
ctrace; this check measures flaskr's Python lines only (``--rcfile`` below), so that the
server takes the sys.monitoring path. Not a timing benchmark: the browser suite is
dominated by Chromium; tests/livecov/test_sysmon_contexts.py checks the same on the
sample apps in the suite.

    BENCH_NO_REEXEC=1 .venv-3.13/bin/python bench/browser_exactness.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common
from common import ROOT, Figure

NAME = "browser_exactness"
TITLE = "3f. flaskr's browser suite: ctrace and re-armed sys.monitoring record the same"
RC = "[run]\nbranch = false\nsource = flaskr/src/flaskr\n{core}"
Triple = tuple[str, str, int]


def measured_suite(folder: Path, core: str) -> tuple[set[Triple], float]:
    """The suite run under ``coverage run`` with ``core`` ('' : livecov's choice)."""
    rc = folder / f"{core or 'default'}.rc"
    rc.write_text(RC.format(core=f"core = {core}\n" if core else ""))
    data_file = folder / f"{core or 'default'}.coverage"
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "coverage", "run", f"--rcfile={rc}", f"--data-file={data_file}",
         "-m", "pytest", "tests/e2e", "-q", "-p", "no:randomly", "-x"],
        cwd=ROOT, env=env, check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - began
    import coverage

    data = coverage.CoverageData(str(data_file))
    data.read()
    triples = {
        (os.path.relpath(path, ROOT), context, line)
        for path in data.measured_files()
        for line, contexts in data.contexts_by_lineno(path).items()
        for context in contexts
    }
    return triples, seconds


def main() -> int:
    common.ensure_project_venv()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-exact-") as folder:
        reference, ctrace_seconds = measured_suite(Path(folder), "ctrace")
        fast, sysmon_seconds = measured_suite(Path(folder), "")
    differ = sorted(reference ^ fast)
    contexts = {context for _, context, _ in fast if context}
    figures = [
        Figure("3f.triples", "(file, context, line) recorded (sysmon run)", len(fast), runs=1),
        Figure("3f.contexts", "contexts (browser tests) on server lines", len(contexts), runs=1),
        Figure(
            "3f.differ", "(file, context, line) in one run only", len(differ), runs=1,
            target="== 0", met=not differ, note="; ".join(map(str, differ[:5])),
        ),
        Figure("3f.ctrace_s", "suite wall time, ctrace", ctrace_seconds, unit="s", runs=1),
        Figure("3f.sysmon_s", "suite wall time, sysmon re-armed", sysmon_seconds, unit="s", runs=1),
    ]  # fmt: skip
    common.write_results(NAME, TITLE, figures, {"python": sys.version.split()[0]}, started)
    return 0 if not differ else 1


if __name__ == "__main__":
    sys.exit(main())
