"""git, as ``livecov affected`` and ``livecov record`` run it."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from livecov.errors import ConfigError, GitError


def git(root: str | Path, *args: str, stdin: str | None = None) -> str:
    """Run git in ``root``: its output, or GitError with git's own reason."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, input=stdin, capture_output=True, text=True, check=False
        )
    except FileNotFoundError:
        raise ConfigError("git is not installed: livecov affected needs it") from None
    if done.returncode:
        raise GitError(f"git {args[0]}: {_reason(done.stderr)}")
    return done.stdout


def _reason(stderr: str) -> str:
    """git's own reason: its last ``fatal:``/``error:`` line (a usage hint may follow it),
    else its last line."""
    lines = stderr.strip().splitlines()
    reasons = [line for line in lines if line.startswith(("fatal:", "error:"))]
    return (reasons or lines or ["failed"])[-1]


def git_root(where: str | Path = ".") -> Path:
    try:
        return Path(git(where, "rev-parse", "--show-toplevel").strip())
    except GitError:
        raise ConfigError(f"{Path(where).resolve()} is not in a git repository") from None


def blob_id(content: bytes) -> str:
    """git's id for a file with this content (git hash-object)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()
