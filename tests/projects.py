"""Throw-away projects for the suite's tests: git, commits and edits, written once.

Every test that builds a project in git (``livecov affected``, ``make test-affected``) or
changes one of its files goes through these, so that a commit is made the same way
everywhere (an author of its own, whatever the machine's git configuration says) and an
edit that no longer finds its text fails instead of silently changing nothing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

# Commits need an author; the machine's git configuration may have none.
IDENTITY = ("-c", "user.name=t", "-c", "user.email=t@localhost")


def git(where: Path, *args: str) -> str:
    """``git ARGS`` in ``where``, with an author for commits; its output. Raises if it fails."""
    return subprocess.run(
        ["git", *IDENTITY, *args], cwd=where, capture_output=True, text=True, check=True
    ).stdout


def commit_all(where: Path, message: str = "change") -> str:
    """Commit every file of ``where`` (made a git repository first if it is none); the
    commit's hash."""
    if not (where / ".git").exists():
        git(where, "init", "-q")
    git(where, "add", "-A")
    git(where, "commit", "-qm", message)
    return head(where)


def head(where: Path) -> str:
    """The hash of the commit checked out in ``where``."""
    return git(where, "rev-parse", "HEAD").strip()


def write(path: Path, text: str) -> Path:
    """``text`` written to ``path``, its folders made as needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def edit(path: Path, old: str, new: str) -> None:
    """Replace ``old``, which must stand in ``path`` exactly once, with ``new``."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} is not once in {path}"
    path.write_text(text.replace(old, new))
