"""git, as ``livecov affected`` and ``livecov record`` run it."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

from livecov.errors import ConfigError, GitError


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


def blob_id(content: bytes) -> str:
    """git's id for a file with this content (git hash-object)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()
