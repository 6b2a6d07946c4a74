"""The record: which commit, and which content of each file, the data was measured on.

:func:`record` stores it in the data file (a row of coverage.py's ``meta`` table) and writes
the measured versions to git as blobs, so that ``livecov affected`` can read them back.
"""

from __future__ import annotations

import functools
import json
import subprocess
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coverage import CoverageData
from coverage.exceptions import CoverageException

from livecov.affected.git import git, git_root
from livecov.coverage_data import read_data, read_meta, write_meta
from livecov.errors import ConfigError

RECORD_KEY = "livecov.affected"  # the row livecov adds to the data file's meta table
RECORD_VERSION = 1


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


def open_data(data_file: str | Path) -> CoverageData:
    if not Path(data_file).is_file():
        raise ConfigError(
            f"no coverage data in {data_file}: run the tests measured first "
            "(pytest --cov, livecov run)"
        )
    try:
        data = read_data(data_file)
    except CoverageException as exc:
        raise ConfigError(f"{data_file} is not coverage data: {exc}") from None
    return data


def measured_paths(
    data: CoverageData, roots: Sequence[Path], relative: Callable[[str], str] = str
) -> Iterator[tuple[str, str]]:
    """(repo-relative path, the name in the data) of each measured file in ``roots``.

    A relative name (coverage's ``relative_files``) is relative to the folder coverage ran
    in, a project's folder in its repository: ``relative`` makes it repo-relative.
    """
    for filename in data.measured_files():
        path = Path(filename)
        if not path.is_absolute():
            yield relative(path.as_posix()), filename
            continue
        for base in roots:
            if path.is_relative_to(base):
                yield path.relative_to(base).as_posix(), filename
                break


def in_first_folder(root: Path, folders: Sequence[Path], name: str) -> str:
    """A relative name as a repo-relative path: in the first of ``folders`` (inside the git
    ``root``) that holds such a file, else at the root."""
    for folder in folders:
        if folder.is_relative_to(root) and (folder / name).is_file():
            return (folder / name).relative_to(root).as_posix()
    return name


def record(data_file: str | Path, where: str | Path = ".") -> Record:
    """Store in ``data_file`` the commit and the measured files' content, as of now."""
    root = git_root(where)
    data = open_data(data_file)
    # Where coverage ran: here (pytest's invocation folder, livecov run's), or ``where``.
    folders = [Path.cwd().resolve(), Path(where).resolve()]
    relative = functools.partial(in_first_folder, root, folders)
    paths = [p for p, _ in measured_paths(data, [root], relative) if (root / p).is_file()]
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
    write_meta(data_file, RECORD_KEY, result.to_json())
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
    open_data(data_file)  # a clear message for a missing or broken file
    stored = read_meta(data_file, RECORD_KEY)
    return Record.from_json(stored) if stored else None
