"""``livecov affected``: the tests a change can break, from per-test coverage contexts.

The coverage data (what ``make test`` leaves in ``.coverage``) says, for every measured
line, which tests ran it: a unit test as ``<node id>|<phase>``, a browser test as the node
id the live server recorded. :func:`record` stores in that data file the commit it was
measured at and the content of every measured file (as git blob ids, the blobs written to
git so the measured version can be read back). :func:`select` compares the working tree
with a base revision and maps each change to the tests that can see it:

* a changed or removed line that ran: the tests that ran it;
* a line that never ran, or an added one: the tests that ran its function (Python) or its
  template block, found by name in the measured version, else the template;
* a line outside any function (it runs at import), a line run outside any test (at import,
  at the live server's start-up), a Python file that no longer compiles: every test;
* a changed test file: its tests, new ones included; any other file the data cannot speak
  for (conftest.py, fixtures, settings, SQL, static files, a Python file never measured):
  every test, unless ``[tool.livecov.affected]`` ``ignore`` says it cannot matter
  (``always`` makes a file select every test whatever it is).
"""

from __future__ import annotations

import ast
import difflib
import fnmatch
import hashlib
import io
import json
import re
import sqlite3
import subprocess
import sys
import tokenize
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from coverage import CoverageData
from coverage.exceptions import CoverageException

from livecov.errors import ConfigError
from livecov.jinja import PLUGIN_NAME as JINJA_TRACER
from livecov.pyproject import read_livecov_table

RECORD_KEY = "livecov.affected"  # the row livecov adds to the data file's meta table
RECORD_VERSION = 1
PHASE_SUFFIXES = ("|setup", "|run", "|teardown")


# -- the record: which commit and which content the data was measured on -------------------


@dataclass
class Record:
    """Where the data was measured: the commit, the checkout, each file's git blob id."""

    commit: str | None
    root: str
    files: dict[str, str] = field(default_factory=dict)  # repo-relative path -> blob id

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": RECORD_VERSION,
                "commit": self.commit,
                "root": self.root,
                "files": self.files,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Record:
        raw = json.loads(text)
        return cls(commit=raw["commit"], root=raw["root"], files=dict(raw["files"]))


class GitError(ConfigError):
    """git said no."""


def git(root: str | Path, *args: str, stdin: str | None = None) -> str:
    """Run git in ``root``: its output, or GitError with git's own last line."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise ConfigError("git is not installed: livecov affected needs it") from None
    if done.returncode:
        message = done.stderr.strip().splitlines()
        raise GitError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return done.stdout


def git_root(where: str | Path = ".") -> Path:
    try:
        return Path(git(where, "rev-parse", "--show-toplevel").strip())
    except GitError:
        raise ConfigError(f"{Path(where).resolve()} is not in a git repository") from None


def _open_data(data_file: str | Path) -> CoverageData:
    if not Path(data_file).is_file():
        raise ConfigError(f"no coverage data in {data_file}: run the tests first (make test)")
    data = CoverageData(str(data_file))
    try:
        data.read()
    except CoverageException as exc:
        raise ConfigError(f"{data_file} is not coverage data: {exc}") from None
    return data


def _template_lines_run(data_file: str, filename: str) -> dict[int, list[str]]:
    """The lines of a template livecov.jinja measured with arcs, and the contexts that ran each.

    Only the arcs' ends: coverage.py's C tracer starts the arc after a resumed generator at
    a *Python* line of the compiled template, which is no template line; data that was not
    repaired (pytest-cov's; a ``coverage combine`` without ``python -m livecov.jinja``)
    holds those starts. A template line that ran is always an arc's end in its context.
    """
    db = sqlite3.connect(f"{Path(data_file).resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = db.execute(
            "SELECT DISTINCT arc.tono, context.context FROM arc"
            " JOIN file ON file.id = arc.file_id JOIN context ON context.id = arc.context_id"
            " WHERE file.path = ? AND arc.tono > 0",
            (filename,),
        ).fetchall()
    finally:
        db.close()
    lines: dict[int, list[str]] = {}
    for number, context in rows:
        lines.setdefault(number, []).append(context)
    return lines


def _measured_paths(data: CoverageData, roots: Sequence[Path]) -> Iterator[tuple[str, str]]:
    """(repo-relative path, the name in the data) of each measured file in ``roots``.

    A relative name (coverage's ``relative_files``) is relative to the checkout's root.
    """
    for filename in data.measured_files():
        path = Path(filename)
        if not path.is_absolute():
            yield path.as_posix(), filename
            continue
        for base in roots:
            if path.is_relative_to(base):
                yield path.relative_to(base).as_posix(), filename
                break


def record(data_file: str | Path, where: str | Path = ".") -> Record:
    """Store in ``data_file`` the commit and the measured files' content, as of now."""
    root = git_root(where)
    data = _open_data(data_file)
    paths = [p for p, _ in _measured_paths(data, [root]) if (root / p).is_file()]
    blobs = git(
        root,
        "hash-object",
        "-w",
        "--no-filters",
        "--stdin-paths",
        stdin="".join(f"{root / p}\n" for p in paths),
    ).split()
    head = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", "HEAD"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    result = Record(
        commit=head or None,
        root=str(root),
        files=dict(zip(paths, blobs, strict=True)),
    )
    with sqlite3.connect(data_file) as db:
        db.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (RECORD_KEY, result.to_json())
        )
    db.close()
    return result


def record_if_in_git(data_file: str | Path | None, where: str | Path = ".") -> Record | None:
    """:func:`record`, or nothing without a data file or outside a git checkout.

    For the end of a measured run, where no record is not an error.
    """
    if data_file is None:
        return None
    try:
        return record(data_file, where)
    except ConfigError:
        return None


def read_record(data_file: str | Path) -> Record | None:
    """The record :func:`record` stored in ``data_file``, or None."""
    _open_data(data_file)  # a clear message for a missing or broken file
    db = sqlite3.connect(f"{Path(data_file).resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = ?", (RECORD_KEY,)).fetchone()
    finally:
        db.close()
    return Record.from_json(row[0]) if row else None


# -- settings --------------------------------------------------------------------------------


@dataclass
class AffectedSettings:
    """``[tool.livecov.affected]``: ``always`` and ``ignore``, globs of repo-relative paths."""

    always: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)


def load_affected_settings(pyproject: str | Path) -> AffectedSettings:
    table = read_livecov_table(pyproject).get("affected", {})
    settings = AffectedSettings()
    for key, value in table.items():
        if key not in ("always", "ignore"):
            raise ConfigError(
                f"{pyproject}: unknown setting [tool.livecov.affected] {key!r} (always, ignore)"
            )
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{pyproject}: [tool.livecov.affected] {key} must be a list of globs")
        setattr(settings, key, value)
    return settings


def _matches(path: str, globs: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(path, glob) for glob in globs)


# -- the selection -----------------------------------------------------------------------------


def node_id_of(context: str) -> str | None:
    """The pytest node id a context names, or None for a context outside any test."""
    for suffix in PHASE_SUFFIXES:
        if context.endswith(suffix):
            context = context[: -len(suffix)]
            break
    return context if "::" in context else None


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


class _EveryTest(Exception):
    """Raised inside the selection when a change can reach any test."""


def select(
    data_file: str | Path,
    base: str | None = None,
    settings: AffectedSettings | None = None,
    where: str | Path = ".",
) -> Selection:
    """Compare the working tree with ``base`` (default: the recorded commit); select tests."""
    root = git_root(where)
    data = _open_data(data_file)
    measured_record = read_record(data_file)
    settings = settings or load_affected_settings(root / "pyproject.toml")
    given = base
    if base is None:
        if measured_record is None or measured_record.commit is None:
            raise ConfigError(
                f"{data_file} does not say which commit it was measured at: give --base REV, "
                "or measure with make test / livecov run / pytest --cov (livecov records it)"
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
    index = _DataIndex(data, root, commit, measured_record)
    selection.known = index.tests
    selection.warnings.extend(_record_warnings(measured_record, commit, data_file))
    own_data = Path(data_file).resolve()
    changed = {p for p in _changed_files(root, commit) if root / p != own_data}
    if measured_record and measured_record.commit == commit:
        # Measured with uncommitted changes since undone: changed too, for the data.
        changed |= set(_differ_from_measured(root, measured_record))
    selection.changed = sorted(changed)
    for path in selection.changed:
        try:
            _select_for_file(path, index, settings, selection)
        except _EveryTest as why:
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


_Users = Callable[[set[str], str], Iterator[tuple[str, str]]]


class _DataIndex:
    """The coverage data by repo-relative path, the tests it names, the versions measured."""

    def __init__(self, data: CoverageData, root: Path, commit: str, measured: Record | None):
        self.data = data
        self.root = root
        self.commit = commit
        self.record = measured
        self.stale: list[str] = []  # measured in another version than the base's
        roots = [Path(measured.root)] if measured else []
        self.files = dict(_measured_paths(data, [*roots, root]))
        self.tests = {t for t in map(node_id_of, data.measured_contexts()) if t}
        self.test_files = {t.split("::", 1)[0] for t in self.tests}

    def contexts_by_line(self, path: str) -> dict[int, list[str]]:
        filename = self.files[path]
        if self.data.has_arcs() and self.data.file_tracer(filename) == JINJA_TRACER:
            return _template_lines_run(self.data.data_filename(), filename)
        return self.data.contexts_by_lineno(filename)

    def measured_text(self, path: str) -> str:
        """The file as it was measured: its recorded blob, else the base's version."""
        blob = self.record.files.get(path) if self.record else None
        current = self.root / path
        if blob and current.is_file() and _blob_id(current.read_bytes()) == blob:
            return current.read_text(encoding="utf-8", errors="replace")
        listed = git(self.root, "ls-tree", self.commit, "--", path).split()
        at_base = listed[2] if listed else None
        if blob is None:
            if at_base is None:
                raise _EveryTest(f"{path}: the data does not say which version was measured")
            blob = at_base
        elif blob != at_base:
            self.stale.append(path)
        try:
            return git(self.root, "cat-file", "blob", blob)
        except GitError:
            raise _EveryTest(
                f"{path}: the version measured is not in this repository (measured elsewhere?)"
            ) from None

    def users(self, names: set[str], why: str) -> Iterator[tuple[str, str]]:
        """The tests that ran a function using any of ``names``, in any measured file."""
        for path in sorted(p for p in self.files if p.endswith(".py")):
            text = self.measured_text(path)
            if not any(name in text for name in names):
                continue
            lines = self.contexts_by_line(path)
            for scope, number in _uses(ast.parse(text), names):
                if scope is None:
                    raise _EveryTest(f"{why}; {path}:{number} uses it at import")
                yield from _scope_tests(path, scope, lines, why)
        # Tests may read a name themselves (test files are not measured): the whole file.
        word = re.compile(rf"\b({'|'.join(map(re.escape, sorted(names)))})\b")
        for path in sorted(self.test_files):
            current = self.root / path
            if current.is_file() and word.search(current.read_text(errors="replace")):
                yield path, f"{why}; the test file uses it"


def _blob_id(content: bytes) -> str:
    """git's id for a file with this content (git hash-object)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def _uses(tree: ast.Module, names: set[str]) -> Iterator[tuple[_Scope | None, int]]:
    """Where ``names`` are read: in which function (None: at import), on which line.

    A module-level import of a name only passes it on; where it is read is found too.
    """

    def visit(
        node: ast.AST, scope: _Scope | None, prefix: str
    ) -> Iterator[tuple[_Scope | None, int]]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = _Scope(f"{prefix}{node.name}", node.body[0].lineno, node.end_lineno or 0)
            for part in (
                *node.decorator_list,
                node.args,
                *([node.returns] if node.returns else []),
            ):
                yield from visit(part, scope, prefix)
            for statement in node.body:
                yield from visit(statement, inner, f"{inner.name}.")
            return
        if isinstance(node, ast.ClassDef):
            prefix = f"{prefix}{node.name}."
        if (
            isinstance(node, ast.Import | ast.ImportFrom)
            and scope is None
            and all(a.asname in (None, a.name) for a in node.names)
        ):
            return
        used = (
            node.id
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store)
            else node.attr
            if isinstance(node, ast.Attribute)
            else node.name
            if isinstance(node, ast.alias)
            else None
        )
        if used in names:
            yield scope, getattr(node, "lineno", 0)
        for child in ast.iter_child_nodes(node):
            yield from visit(child, scope, prefix)

    yield from visit(tree, None, "")


def _differ_from_measured(root: Path, measured: Record) -> Iterator[str]:
    for path, blob in measured.files.items():
        current = root / path
        if not current.is_file() or _blob_id(current.read_bytes()) != blob:
            yield path


def _changed_files(root: Path, commit: str) -> list[str]:
    """Files that differ between ``commit`` and the working tree, untracked ones included."""
    tracked = git(root, "diff", "--name-only", "--no-renames", "-z", commit, "--")
    untracked = git(root, "ls-files", "--others", "--exclude-standard", "-z")
    return sorted({p for p in (tracked + untracked).split("\0") if p})


def _select_for_file(
    path: str, index: _DataIndex, settings: AffectedSettings, selection: Selection
) -> None:
    if _matches(path, settings.always):
        raise _EveryTest(f"{path} changed ([tool.livecov.affected] always)")
    if _matches(path, settings.ignore):
        return
    current = index.root / path
    if path in index.test_files or (_is_test_file(path) and path not in index.files):
        if current.is_file():
            selection.test_files[path] = f"{path} changed"
        if path not in index.files:
            return
    if path not in index.files:
        raise _EveryTest(f"{path} changed and no test data covers it")
    if not current.is_file():
        raise _EveryTest(f"{path} was deleted")
    old = index.measured_text(path)
    new = current.read_text(encoding="utf-8", errors="replace")
    lines = index.contexts_by_line(path)
    tracer = index.data.file_tracer(index.files[path])
    if path.endswith(".py"):
        changes = _python_changes(path, old, new, lines, index.users)
    elif not tracer:
        # A template measured as the Python Jinja compiled it: its line numbers are the
        # generated code's, not the template's. Every test that rendered it.
        whole = _Scope("the template", 1, max(lines, default=1))
        changes = _scope_tests(path, whole, lines, f"{path} changed (no template plugin)")
    else:
        changes = _template_changes(path, old, new, lines, "jinja" in tracer.lower())
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


# -- which old lines and which new lines a change touches -----------------------------------


@dataclass
class _Touched:
    in_place: list[int] = field(default_factory=list)  # changed where they are, same indent
    old: list[int] = field(default_factory=list)  # other lines changed or removed (measured)
    new: list[int] = field(default_factory=list)  # other lines added (working tree)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _touched(old: str, new: str, ignored_old: set[int], ignored_new: set[int]) -> _Touched:
    """What the change touches. Only a line changed in place, with its indentation, keeps
    the shape of the code around it; anything else may change what runs around it."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    touched = _Touched()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        in_place = tag == "replace" and i2 - i1 == j2 - j1
        for i, j in zip(range(i1, i2), range(j1, j2), strict=False):
            trivia = (i + 1 in ignored_old, j + 1 in ignored_new)
            if trivia == (True, True):
                continue
            if (
                in_place
                and trivia == (False, False)
                and _indent(old_lines[i]) == _indent(new_lines[j])
            ):
                touched.in_place.append(i + 1)
            else:
                in_place = False
        if not in_place:
            touched.in_place = [n for n in touched.in_place if not i1 < n <= i2]
            touched.old.extend(n for n in range(i1 + 1, i2 + 1) if n not in ignored_old)
            touched.new.extend(n for n in range(j1 + 1, j2 + 1) if n not in ignored_new)
    return touched


def _tests_that_ran(
    lines: dict[int, list[str]], numbers: Iterable[int], where: str
) -> Iterator[str]:
    """The tests whose contexts ran any of ``numbers``; every test if something else did."""
    for number in numbers:
        for context in lines.get(number, ()):
            test = node_id_of(context)
            if test is None:
                raise _EveryTest(f"{where} ran outside any test ({context or 'no context'})")
            yield test


# -- Python: lines, functions, import level ----------------------------------------------------


@dataclass
class _Scope:
    name: str  # qualified: Class.method, outer.inner
    first: int  # first line of the body
    last: int


def _function_scopes(tree: ast.AST) -> list[_Scope]:
    scopes: list[_Scope] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                scopes.append(_Scope(name, child.body[0].lineno, child.end_lineno or 0))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return scopes


def _innermost(scopes: Sequence[_Scope], line: int) -> list[_Scope]:
    """The scopes holding ``line`` in their body, innermost first."""
    holding = [s for s in scopes if s.first <= line <= s.last]
    return sorted(holding, key=lambda s: s.last - s.first)


def _code_lines(text: str) -> set[int]:
    """Lines holding code (not only blanks or comments)."""
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in skip and token.type != tokenize.ENDMARKER:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def _python_changes(
    path: str, old: str, new: str, lines: dict[int, list[str]], users: _Users
) -> Iterator[tuple[str, str]]:
    try:
        new_tree = ast.parse(new)
    except SyntaxError as exc:
        raise _EveryTest(f"{path} does not compile ({exc.msg}, line {exc.lineno})") from None
    old_tree = ast.parse(old)
    old_scopes, new_scopes = _function_scopes(old_tree), _function_scopes(new_tree)
    trivia_old = set(range(1, old.count("\n") + 2)) - _code_lines(old)
    trivia_new = set(range(1, new.count("\n") + 2)) - _code_lines(new)
    touched = _touched(old, new, trivia_old, trivia_new)
    by_name = {s.name: s for s in old_scopes}
    names: set[str] = set()
    for number in touched.in_place + touched.old:
        where = f"{path}:{number}"
        holding = _innermost(old_scopes, number)
        if not holding:
            names |= _bindings(old_tree, number, where)
        elif number in touched.in_place and number in lines:
            for test in _tests_that_ran(lines, [number], where):
                yield test, f"{where} changed"
        else:
            yield from _scope_tests(path, holding[0], lines, f"{where} changed")
    for number in touched.new:
        where = f"{path}:{number} (new)"
        holding = [s for s in _innermost(new_scopes, number) if s.name in by_name]
        if holding:
            yield from _scope_tests(path, by_name[holding[0].name], lines, f"{where} added")
        else:
            names |= _bindings(new_tree, number, where)
    if names:
        why = f"{path}: {', '.join(sorted(names))} changed"
        for name in sorted(names & set(by_name)):  # a function's own def line
            yield from _scope_tests(path, by_name[name], lines, why)
        yield from users(names, why)


def _bindings(tree: ast.Module, number: int, where: str) -> set[str]:
    """The names a top-level assignment or import on line ``number`` binds.

    Anything else at import level (a decorator, a def line, a class body, a call) can
    change what every test sees: :class:`_EveryTest`. So can a new function with
    decorators; a plain function binds its name.
    """
    statement = next((s for s in tree.body if s.lineno <= number <= (s.end_lineno or 0)), None)
    match statement:
        case ast.Assign(targets=[ast.Name(id=name)]) | ast.AnnAssign(target=ast.Name(id=name)):
            return {name}
        case ast.ImportFrom(module="__future__"):
            pass  # changes how the whole module compiles
        case ast.Import(names=aliases) | ast.ImportFrom(names=aliases):
            return {(a.asname or a.name).partition(".")[0] for a in aliases}
        case ast.FunctionDef(name=name, decorator_list=[]):
            return {name}
    raise _EveryTest(f"{where} changed: it runs at import")


def _scope_tests(
    path: str, scope: _Scope, lines: dict[int, list[str]], what: str
) -> Iterator[tuple[str, str]]:
    span = range(scope.first, scope.last + 1)
    for test in _tests_that_ran(lines, span, f"{path}:{scope.first}-{scope.last}"):
        yield test, f"{what} (in {scope.name})"


# -- templates: lines, blocks, the whole template ------------------------------------------

_TAG = re.compile(r"{%[-+]?\s*(end)?(block|macro|call|filter)\b\s*(\w*)")


def _template_regions(text: str) -> list[_Scope]:
    """``{% block name %}`` ... ``{% endblock %}`` (and macros) with their lines."""
    regions: list[_Scope] = []
    open_tags: list[tuple[str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for end, kind, name in _TAG.findall(line):
            if not end:
                open_tags.append((f"{kind} {name}".strip(), number))
            elif open_tags:
                label, first = open_tags.pop()
                regions.append(_Scope(label, first, number))
    return regions


def _template_compiles(text: str) -> bool:
    try:
        import jinja2
    except ImportError:  # pragma: no cover - Jinja2 is there whenever templates are measured
        return True
    try:
        jinja2.Environment(autoescape=True).parse(text)
    except jinja2.TemplateSyntaxError:
        return False
    return True


def _template_changes(
    path: str, old: str, new: str, lines: dict[int, list[str]], jinja: bool
) -> Iterator[tuple[str, str]]:
    """A template's changes; ``jinja``: measured by a Jinja plugin, so Jinja can parse it."""
    whole = _Scope("the template", 1, old.count("\n") + 1)
    if jinja and not _template_compiles(new):
        yield from _scope_tests(path, whole, lines, f"{path} does not compile")
        return
    old_regions, new_regions = _template_regions(old), _template_regions(new)
    by_name = {r.name: r for r in old_regions}
    touched = _touched(old, new, set(), set())
    for number in touched.in_place + touched.old:
        where = f"{path}:{number}"
        if number in touched.in_place and number in lines:
            for test in _tests_that_ran(lines, [number], where):
                yield test, f"{where} changed"
        else:
            holding = [*_innermost(old_regions, number), whole]
            yield from _scope_tests(path, holding[0], lines, f"{where} changed")
    for number in touched.new:
        holding = [by_name[r.name] for r in _innermost(new_regions, number) if r.name in by_name]
        scope = [*holding, whole][0]
        yield from _scope_tests(path, scope, lines, f"{path}:{number} added")


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


# -- the command line's output --------------------------------------------------------------


def affected_report(
    data_file: str | Path,
    base: str | None = None,
    explain: bool = False,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """``livecov affected``: the tests on ``out``, one per line; warnings on ``err``."""
    out, err = out or sys.stdout, err or sys.stderr
    selection = select(data_file, base)
    for warning in selection.warnings:
        print(f"livecov: {warning}", file=err)
    if explain:
        for test, reasons in selection.reasons().items():
            print(test, file=out)
            for reason in reasons:
                print(f"    {reason}", file=out)
    else:
        for test in selection.node_ids():
            print(test, file=out)
    print(f"livecov: {describe(selection)}", file=err)
    return 0


def record_report(data_file: str | Path, out: TextIO | None = None) -> int:
    """``livecov record``: store the record, say what was recorded."""
    stored = record(data_file)
    commit = stored.commit[:12] if stored.commit else "no commit yet"
    print(
        f"livecov: {data_file} was measured at {commit}, {len(stored.files)} files recorded "
        "(for livecov affected)",
        file=out or sys.stdout,
    )
    return 0
