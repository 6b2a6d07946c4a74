"""Where the data's node ids live: pytest's rootdir inside the checkout, and the names that
are no test of this checkout.

A node id's file is relative to pytest's rootdir, which is the git root only when the
project sits at the top of its repository; in a project in a subfolder (``app/`` with its
own ``pyproject.toml``) ``tests/test_x.py::test_y`` is ``app/tests/test_x.py``.

A name whose file is in neither the working tree nor the base commit is no test of this
suite: the test of a pytest run *inside* a test (pytester's, a subprocess), whose live
server recorded its requests under that name. Which of this suite's tests started that run
the data does not say, so a line run under such a name can reach any test.
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable
from pathlib import Path

from livecov.affected.git import git


def file_of(node_id: str) -> str:
    return node_id.split("::", 1)[0]


def checkout_files(root: Path) -> set[str]:
    """The checkout's files, repo-relative: git's, untracked ones included."""
    listed = git(root, "ls-files", "--cached", "--others", "--exclude-standard", "-z")
    return set(listed.split("\0")) - {""}


def find_tests_root(root: Path, start: Path, test_files: Iterable[str], listed: set[str]) -> Path:
    """The folder the node ids are relative to: the one below the git ``root`` under which
    the most of ``test_files`` are (in ``listed``, the checkout's files); on a tie, one that
    holds ``start`` (where pytest runs), else the shortest; ``root`` when none is anywhere."""
    wanted = {posixpath.normpath(name) for name in test_files}
    by_name: dict[str, list[str]] = {}
    for name in wanted:
        by_name.setdefault(posixpath.basename(name), []).append(name)
    found: dict[str, int] = {}
    for path in listed:
        for name in by_name.get(posixpath.basename(path), ()):
            if path == name or path.endswith("/" + name):
                prefix = path[: len(path) - len(name)]
                found[prefix] = found.get(prefix, 0) + 1
    if not found:
        return root
    start = start.resolve()
    near = {f for f in (start, *start.parents) if f.is_relative_to(root)}

    def rank(prefix: str) -> tuple[int, bool, int, str]:
        return (found[prefix], root / prefix in near, -len(prefix), prefix)

    return root / max(found, key=rank)


def repo_path(project: str, name: str) -> str:
    """A path relative to the project's folder (``project``, repo-relative; ``.`` for the
    git root) as a path relative to the git root."""
    return posixpath.normpath(posixpath.join(project, name))


def test_file_of(project: str, path: str) -> str:
    """A repo-relative path as pytest names it from the project's folder."""
    return posixpath.relpath(path, project) if project != "." else path


def foreign_tests(tests: Iterable[str], root: Path, project: str, commit: str) -> frozenset[str]:
    """The node ids whose file is neither in the working tree nor in ``commit``."""
    missing = [t for t in tests if not (root / repo_path(project, file_of(t))).is_file()]
    if not missing:
        return frozenset()
    at_base = set(git(root, "ls-tree", "-r", "--name-only", "-z", commit).split("\0"))
    return frozenset(t for t in missing if repo_path(project, file_of(t)) not in at_base)


def imported_by_another(root: Path, path: str, listed: set[str]) -> bool:
    """Whether a Python file of the checkout (``listed``) other than ``path`` imports its
    module (a test module's import-level code then reaches that file too); a file that does
    not parse and names the module is taken to import it."""
    module = posixpath.splitext(posixpath.basename(path))[0]
    word = re.compile(rf"\b{re.escape(module)}\b")
    for name in sorted(n for n in listed - {path} if n.endswith(".py")):
        file = root / name
        text = file.read_text(encoding="utf-8", errors="replace") if file.is_file() else ""
        if word.search(text) and _imports(text, module):
            return True
    return False


def _imports(text: str, module: str) -> bool:
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return True
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or "", *(alias.name for alias in node.names)]
        else:
            continue
        if any(module in name.split(".") for name in names):
            return True
    return False
