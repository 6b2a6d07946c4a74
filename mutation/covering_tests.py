"""``make mutation --covering-tests``: each mutant runs only the tests that ran its line.

    python mutation/covering_tests.py index DATA SESSION.toml INDEX.json
    python mutation/covering_tests.py run INDEX.json PRISTINE_DIR -- TEST COMMAND...

A surviving mutant costs its session's whole test list (most of livecov's start real
servers): on two cores that, not the killed mutants, is what makes a run take a day.
PIT (Java) and mutmut run only the tests that cover the mutated line; this does the same
from coverage.py's data of one run of the session's tests with a context per test
(``--livecov-test-contexts``: ``NODEID|phase``).

In that run this module is also a pytest plugin (``-p mutation.covering_tests``): while a test
runs, the coverage configuration that ``patch = subprocess`` hands to child processes
names the test as their static context (``NODEID|child``), so a livecov server or CLI
a test starts records its lines under that test. ``index`` reads the combined data and
writes, for each of the session's modules, each line that ran and the tests that ran it.
A line that also ran with no test context -- at import, or in a process started outside
any test -- is marked ``"*"``: any test may depend on it.

``run`` is the session's test command as cosmic-ray calls it, with the mutant applied: it
compares each module with its pristine copy, maps every changed line to the first line of
its statement (what coverage.py records), and replaces the command's test files by the
node ids of the tests that ran those lines, in the command's file order. It runs the
whole command, as before, when a changed line is ``"*"``, did not run at all, or no test
is left: the selection may only ever leave out tests that cannot see the change.

A mutant the selected tests kill is killed. One they do not kill may still be killed by a
test the data could not see (a module- or session-scoped fixture's line is recorded under
the first test that set it up only): ``--retest`` without ``--covering-tests`` gives the
survivors their session's whole list again, as their final verdict.

It runs in the copy's project venv (coverage.py), not in cosmic-ray's.
"""

from __future__ import annotations

import base64
import difflib
import json
import os
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from coverage import CoverageData
from coverage.parser import PythonParser

EVERY_TEST = "*"


def build_index(data_file: Path, session_config: Path, root: Path) -> dict[str, dict[str, object]]:
    """{module path (as the session names it): {line: sorted node ids, or "*"}}."""
    config = tomllib.loads(session_config.read_text())["cosmic-ray"]
    modules = config["module-path"]
    modules = [modules] if isinstance(modules, str) else modules
    data = CoverageData(str(data_file))
    data.read()
    measured = {os.path.realpath(f): f for f in data.measured_files()}
    index: dict[str, dict[str, object]] = {}
    for module in modules:
        lines: dict[str, object] = {}
        name = measured.get(os.path.realpath(root / module))
        by_line = data.contexts_by_lineno(name) if name else {}
        for line, contexts in by_line.items():
            tests = {c.rsplit("|", 1)[0] for c in contexts}
            lines[str(line)] = EVERY_TEST if "" in tests else sorted(tests)
        index[module] = lines
    return index


CHILD_CONFIG = "COVERAGE_PROCESS_CONFIG"  # what coverage.py's patch = subprocess sets


def with_context(serialized: str, context: str) -> str:
    """coverage.py's serialized configuration (base64 of JSON) with a static context."""
    config = json.loads(base64.b64decode(serialized))
    config["context"] = context
    return base64.b64encode(json.dumps(config).encode()).decode()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: Any) -> Iterator[None]:
    """Children started while ``item`` runs record under ``NODEID|child``."""
    outside = os.environ.get(CHILD_CONFIG)
    if outside is not None:
        os.environ[CHILD_CONFIG] = with_context(outside, f"{item.nodeid}|child")
    try:
        return (yield)
    finally:
        if outside is not None:
            os.environ[CHILD_CONFIG] = outside


def changed_lines(pristine: str, mutated: str) -> set[int]:
    """1-based numbers of the pristine file's lines the mutant changed or removed (or the
    line before which it added some)."""
    old, new = pristine.splitlines(), mutated.splitlines()
    changed: set[int] = set()
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        if tag != "equal":
            changed.update(range(i1 + 1, max(i2, i1 + 1) + 1))
    return changed


def tests_for(
    index: dict[str, dict[str, object]], pristine_dir: Path, root: Path
) -> list[str] | None:
    """Node ids of the tests that ran a changed line, or None for the whole list."""
    selected: set[str] = set()
    for module, lines in index.items():
        pristine = (pristine_dir / module).read_text()
        now = (root / module).read_text()
        if now == pristine:
            continue
        parser = PythonParser(text=pristine)
        parser.parse_source()
        for line in changed_lines(pristine, now):
            tests = lines.get(str(parser.first_line(line)))
            if tests is None or tests == EVERY_TEST:
                return None
            selected.update(tests)  # type: ignore[arg-type]
    return sorted(selected) or None


def select(command: list[str], tests: list[str] | None) -> list[str]:
    """The command with its test files and node ids replaced by ``tests``, in the files'
    order (the recording run ran only the tests the command names, so ``tests`` are of
    them)."""
    if tests is None:
        return command
    given = [arg for arg in command if arg.split("::")[0].endswith(".py") and "/" in arg]
    order: dict[str, int] = {}
    for position, arg in enumerate(given):  # a file, or one test of it (file::test)
        order.setdefault(arg.split("::")[0], position)
    ordered = sorted(tests, key=lambda t: (order.get(t.split("::")[0], len(order)), t))
    return [arg for arg in command if arg not in given] + ordered


def main(argv: list[str]) -> int:
    if argv[:1] == ["index"] and len(argv) == 4:
        data, config, out = (Path(a) for a in argv[1:])
        out.write_text(json.dumps(build_index(data, config, Path.cwd()), indent=0))
        return 0
    if argv[:1] == ["run"] and len(argv) > 4 and argv[3] == "--":
        index = json.loads(Path(argv[1]).read_text())
        command = select(argv[4:], tests_for(index, Path(argv[2]), Path.cwd()))
        os.execv(command[0], command)  # noqa: S606 - cosmic-ray's timeout kills our group
    print(__doc__.split("\n\n")[1], file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
