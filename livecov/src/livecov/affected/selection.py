"""The selection: compare the working tree with a base revision, map each changed file to
the tests that can see the change (the rules: the package's docstring)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from livecov.affected.changes import ReachesEveryTest, Scope, scope_tests
from livecov.affected.data_index import DataIndex
from livecov.affected.git import blob_id, git, git_root
from livecov.affected.python import python_changes
from livecov.affected.record import Record, open_data, read_record
from livecov.affected.settings import AffectedSettings, matches, project_settings
from livecov.affected.templates import template_changes
from livecov.affected.test_names import imported_by_another
from livecov.errors import ConfigError, GitError


@dataclass
class Selection:
    """The tests a change can break, and why."""

    base: str
    changed: list[str] = field(default_factory=list)  # repo-relative paths
    tests: dict[str, list[str]] = field(default_factory=dict)  # node id -> reasons
    test_files: dict[str, str] = field(default_factory=dict)  # test file -> reason
    everything: list[str] = field(default_factory=list)  # why every test is selected
    known: set[str] = field(default_factory=set)  # every test the data names
    warnings: list[str] = field(default_factory=list)

    def selects(self, node_id: str) -> bool:
        """Whether to run the test: selected, or new (the data does not know it)."""
        return (
            bool(self.everything)
            or node_id in self.tests
            or node_id not in self.known
            or node_id.split("::", 1)[0] in self.test_files
        )

    def node_ids(self) -> list[str]:
        """What to run: node ids, and whole test files (they may hold new tests)."""
        if self.everything:
            return sorted(self.known | set(self.test_files))
        tests = {t for t in self.tests if t.split("::", 1)[0] not in self.test_files}
        return sorted(tests | set(self.test_files))

    def reasons(self) -> dict[str, list[str]]:
        """For ``--explain``: each selected test or test file, and why."""
        if self.everything:
            return {node_id: self.everything for node_id in self.node_ids()}
        result = {t: [r] for t, r in self.test_files.items()}
        for node_id, why in self.tests.items():
            result.setdefault(node_id, []).extend(why)
        return dict(sorted(result.items()))


def select(
    data_file: str | Path,
    base: str | None = None,
    settings: AffectedSettings | None = None,
    where: str | Path = ".",
    tests_root: Path | None = None,
) -> Selection:
    """Compare the working tree with ``base`` (default: the recorded commit); select tests.

    ``tests_root``: the folder the data's node ids are relative to (pytest's rootdir);
    by default found from the current folder up to the git root.
    """
    root = git_root(where)
    data = open_data(data_file)
    measured_record = read_record(data_file)
    given = base
    if base is None:
        if measured_record is None or measured_record.commit is None:
            raise ConfigError(
                f"{data_file} does not say which commit it was measured at: run livecov record "
                "(after coverage combine), measure with pytest --cov or livecov run (they record "
                "it), or give --base REV"
            )
        base = measured_record.commit
    try:
        commit = git(root, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}").strip()
    except GitError:
        if given is None:
            raise ConfigError(
                f"{data_file} was measured at {base[:12]}, which is not a commit of this "
                "repository (rebased away?): measure again, or give --base REV"
            ) from None
        raise ConfigError(f"{base!r} is not a commit of this repository (--base)") from None
    selection = Selection(base=commit)
    index = DataIndex(data, root, commit, measured_record, tests_root)
    settings = settings or project_settings(index.tests_root, root)
    selection.known = index.tests
    selection.warnings.extend(_record_warnings(measured_record, commit, data_file))
    if not index.files and data.measured_files():
        selection.warnings.append(_elsewhere_warning(data.measured_files(), root, measured_record))
    own_data = Path(data_file).resolve()
    changed = {p for p in _changed_files(root, commit) if root / p != own_data}
    if measured_record and measured_record.commit == commit:
        # Measured with uncommitted changes since undone: changed too, for the data.
        changed |= set(_differ_from_measured(root, measured_record))
    selection.changed = sorted(changed)
    for path in selection.changed:
        try:
            _select_for_file(path, index, settings, selection)
        except ReachesEveryTest as why:
            selection.everything.append(str(why))
    if index.stale:
        stale = ", ".join(sorted(set(index.stale)))
        selection.warnings.append(
            f"{stale}: measured in another version than {commit[:12]}; "
            "lines are compared with the version measured"
        )
    return selection


def _record_warnings(measured: Record | None, commit: str, data_file: str | Path) -> list[str]:
    if measured is None:
        return [
            f"{data_file} has no livecov record: assuming it was measured at {commit[:12]}; "
            "run `livecov record` after measuring"
        ]
    if measured.commit != commit:
        recorded = measured.commit[:12] if measured.commit else "no commit"
        return [f"the data was measured at {recorded}, not at the base {commit[:12]}"]
    return []


def _elsewhere_warning(measured: Iterable[str], root: Path, stored: Record | None) -> str:
    """The data's files are all outside this checkout: measured in another one and not
    recorded, or the code measured was not a checkout's (an installed copy)."""
    folders = sorted({os.path.dirname(name) for name in measured})
    fix = (
        "run `livecov record` where it was measured, or measure with coverage's "
        "relative_files = true"
        if stored is None
        else "the code measured was not the checkout's (an installed copy? pip install -e .)"
    )
    return (
        f"no file the data measured is in this checkout ({root}; they are under "
        f"{os.path.commonpath(folders)}): {fix}"
    )


def _differ_from_measured(root: Path, measured: Record) -> Iterator[str]:
    for path, blob in measured.files.items():
        current = root / path
        if not current.is_file() or blob_id(current.read_bytes()) != blob:
            yield path


def _changed_files(root: Path, commit: str) -> list[str]:
    """Files that differ between ``commit`` and the working tree, untracked ones included."""
    tracked = git(root, "diff", "--name-only", "--no-renames", "-z", commit, "--")
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z")
    return sorted({p for p in (tracked + untracked).split("\0") if p})


def _select_for_file(
    path: str, index: DataIndex, settings: AffectedSettings, selection: Selection
) -> None:
    if matches(settings.relative(path), settings.always):
        raise ReachesEveryTest(f"{path} changed ([tool.livecov.affected] always)")
    if matches(settings.relative(path), settings.ignore):
        return
    current = index.root / path
    test_file = index.test_file_of(path)
    if test_file in index.test_files or (_is_test_file(path) and path not in index.files):
        if current.is_file():
            selection.test_files[test_file] = f"{path} changed"
        if path not in index.files:
            return
    if path not in index.files:
        raise ReachesEveryTest(f"{path} changed and no test data covers it")
    if not current.is_file():
        raise ReachesEveryTest(f"{path} was deleted")
    old = index.measured_text(path)
    new = current.read_text(encoding="utf-8", errors="replace")
    lines = index.contexts_by_line(path)
    tracer = index.data.file_tracer(index.files[path])
    if path.endswith(".py"):
        changes = python_changes(path, old, new, lines, index.users)
    elif not tracer:
        # A template measured as the Python Jinja compiled it: its line numbers are the
        # generated code's, not the template's. Every test that rendered it.
        whole = Scope("the template", 1, max(lines, default=1))
        changes = scope_tests(path, whole, lines, f"{path} changed (no template plugin)")
    else:
        changes = template_changes(path, old, new, lines, "jinja" in tracer.lower())
    try:
        _add(changes, selection)
    except ReachesEveryTest:
        # A measured test module's import-level code (a new test class, a decorator) reaches
        # its own tests, selected whole, unless another file imports it.
        if test_file not in selection.test_files or imported_by_another(
            index.root, path, index.checkout_files
        ):
            raise


def _add(changes: Iterable[tuple[str, str]], selection: Selection) -> None:
    for test, reason in changes:
        if "::" not in test:  # a whole test file
            selection.test_files.setdefault(test, reason)
            continue
        reasons = selection.tests.setdefault(test, [])
        if reason not in reasons:
            reasons.append(reason)


def _is_test_file(path: str) -> bool:
    """pytest's default test file names: test_*.py and *_test.py."""
    name = Path(path).name
    return name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py"))


def describe(selection: Selection) -> str:
    """One line: how many tests, since which commit, or why every test."""
    since = selection.base[:12]
    if selection.everything:
        others = len(selection.everything) - 1
        more = f" (and {others} more)" if others else ""
        return f"every test is affected since {since}: {selection.everything[0]}{more}"
    count = len(selection.node_ids())
    return (
        f"{count} of {len(selection.known)} tests affected by {len(selection.changed)} changed "
        f"file(s) since {since}"
    )
