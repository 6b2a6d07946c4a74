"""The coverage data by repo-relative path: the tests it names, the lines they ran, the
versions of the files that were measured."""

from __future__ import annotations

import ast
import re
from collections.abc import Generator
from functools import cached_property
from pathlib import Path

from coverage import CoverageData

from livecov.affected.changes import LinesRun, ReachesEveryTest, node_id_of, scope_tests
from livecov.affected.git import blob_id, git
from livecov.affected.python import uses
from livecov.affected.record import Record, measured_paths
from livecov.affected.test_names import (
    checkout_files,
    file_of,
    find_tests_root,
    foreign_tests,
    repo_path,
    test_file_of,
)
from livecov.contexts import server_contexts, shared_fixture_phases
from livecov.coverage_data import arc_ends_by_context
from livecov.errors import GitError
from livecov.jinja import PLUGIN_NAME as JINJA_TRACER


class DataIndex:
    """The coverage data by repo-relative path, the tests it names, the versions measured."""

    def __init__(
        self,
        data: CoverageData,
        root: Path,
        commit: str,
        measured: Record | None,
        tests_root: Path | None = None,
    ) -> None:
        self.data = data
        self.root = root
        self.commit = commit
        self.record = measured
        self.stale: list[str] = []  # measured in another version than the base's
        named = {t for t in map(node_id_of, data.measured_contexts()) if t}
        # The folder node ids are relative to: pytest's rootdir (given by the pytest plugin),
        # else the folder from here up to the git root that holds the data's test files.
        given = tests_root.resolve() if tests_root else None
        self.tests_root = (
            given
            if given and given.is_relative_to(root)
            else find_tests_root(root, Path.cwd(), map(file_of, named), self.checkout_files)
        )
        # The project's folder, repo-relative ("." at the git root).
        self.project = self.tests_root.relative_to(root).as_posix()
        roots = [Path(measured.root)] if measured else []
        self.files = dict(measured_paths(data, [*roots, root], self._repo_path))
        # Names of tests run inside a test (no test file here): not this suite's tests.
        self.foreign = foreign_tests(named, root, self.project, commit)
        self.tests = named - self.foreign
        self.test_files = {file_of(t) for t in self.tests}
        # The tests whose requests the live server served (the contexts it marked).
        self.server_tests = frozenset(t for t in map(node_id_of, server_contexts(data)) if t)
        # The test phases that set up or tore down a fixture other tests use too.
        self.shared_phases = shared_fixture_phases(data)

    def _repo_path(self, name: str) -> str:
        """A relative name in the data (``relative_files``): relative to the project's
        folder (where its tests are) when the record or the checkout has it there."""
        in_project = repo_path(self.project, name)
        recorded = self.record.files if self.record else {}
        if in_project in recorded or (name not in recorded and (self.root / in_project).is_file()):
            return in_project
        return name

    def test_file_of(self, path: str) -> str:
        """A repo-relative path as a node id names it."""
        return test_file_of(self.project, path)

    @cached_property
    def checkout_files(self) -> set[str]:
        """The checkout's files, repo-relative (git's, untracked ones included)."""
        return checkout_files(self.root)

    def contexts_by_line(self, path: str) -> LinesRun:
        """Each line of ``path`` that ran, the contexts that ran it, and the tests that used
        the live server.

        For a template livecov.jinja measured with arcs, the arcs' ends only: coverage.py's
        C tracer starts the arc after a resumed generator at a *Python* line of the compiled
        template, which is no template line; data that was not repaired (pytest-cov's; a
        ``coverage combine`` without ``python -m livecov.jinja``) holds those starts. A
        template line that ran is always an arc's end in its context.
        """
        filename = self.files[path]
        if self.data.has_arcs() and self.data.file_tracer(filename) == JINJA_TRACER:
            by_line = arc_ends_by_context(self.data.data_filename(), filename)
        else:
            by_line = self.data.contexts_by_lineno(filename)
        return LinesRun(by_line, self.server_tests, self.foreign, self.shared_phases)

    def measured_text(self, path: str) -> str:
        """The file as it was measured: its recorded blob, else the base's version."""
        blob = self.record.files.get(path) if self.record else None
        current = self.root / path
        if blob and current.is_file() and blob_id(current.read_bytes()) == blob:
            return current.read_text(encoding="utf-8", errors="replace")
        listed = git(self.root, "ls-tree", self.commit, "--", path).split()
        at_base = listed[2] if listed else None
        if blob is None:
            if at_base is None:
                raise ReachesEveryTest(f"{path}: the data does not say which version was measured")
            blob = at_base
        elif blob != at_base:
            self.stale.append(path)
        try:
            return git(self.root, "cat-file", "blob", blob)
        except GitError:
            raise ReachesEveryTest(
                f"{path}: the version measured is not in this repository (measured elsewhere?)"
            ) from None

    def users(self, names: set[str], why: str) -> Generator[tuple[str, str], None, set[str]]:
        """The tests that ran a function using any of ``names``, in any measured file;
        returns the names found read (in a measured file or a test file)."""
        read: set[str] = set()
        for path in sorted(p for p in self.files if p.endswith(".py")):
            text = self.measured_text(path)
            if not any(name in text for name in names):
                continue
            lines = self.contexts_by_line(path)
            for scope, number, name in uses(ast.parse(text), names):
                read.add(name)
                if scope is None:
                    raise ReachesEveryTest(f"{why}; {path}:{number} uses it at import")
                yield from scope_tests(path, scope, lines, why)
        # Tests may read a name themselves (test files are not measured): the whole file.
        word = re.compile(rf"\b({'|'.join(map(re.escape, sorted(names)))})\b")
        for path in sorted(self.test_files):
            current = self.tests_root / path
            if not current.is_file():
                continue
            found = set(word.findall(current.read_text(errors="replace")))
            if found:
                read |= found
                yield path, f"{why}; the test file uses it"
        return read
