"""Every read and write livecov makes of coverage.py's data files, in one module.

What coverage.py's ``CoverageData`` offers (files, lines, arcs, contexts, file tracers) is
read through it. Four things it does not offer are done here in SQL on its SQLite file: the
contexts' markers the live server's data gets (a context that holds no lines), the record
of ``livecov affected`` (a row of the ``meta`` table), the template lines each context ran
(the arcs' ends, per context, in one query), and livecov.jinja's repair of arcs. coverage.py
calls its schema internal, so each of these first reads ``coverage_schema``'s version and
refuses, in one line, a version livecov was not written for: a coverage.py release that
changes the schema stops livecov with a message, never with wrong numbers.
"""

from __future__ import annotations

import contextlib
import sqlite3
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import coverage
from coverage import CoverageData

from livecov.errors import CoverageSchemaError, NotCoverageDataError

# The version of coverage.py's data schema the SQL below is written for: coverage.py's
# ``coverage.sqldata.SCHEMA_VERSION`` in every release livecov supports (7.10 and later).
KNOWN_SCHEMA_VERSION = 7


def read_data(data_file: str | Path) -> CoverageData:
    """The data file, read by coverage.py once its schema is checked (coverage.py's own
    errors, ``DataError``, for a file that is no coverage data, are the caller's)."""
    if Path(data_file).is_file():
        _check_file(data_file, f"{data_file} is coverage.py data")
    data = CoverageData(str(data_file))
    data.read()
    return data


def check_installed_coverage() -> None:
    """Refuse, before anything is measured, a coverage.py whose data livecov does not know:
    the schema of a data file it writes (in a temporary folder) is checked."""
    with tempfile.TemporaryDirectory(prefix="livecov-schema-") as folder:
        probe = Path(folder, ".coverage")
        CoverageData(str(probe)).add_lines({str(probe.with_name("probe.py")): [1]})
        _check_file(probe, f"coverage.py {coverage.__version__} writes data")


def _check_file(data_file: str | Path, what: str) -> None:
    connection = sqlite3.connect(f"{Path(data_file).resolve().as_uri()}?mode=ro", uri=True)
    try:
        _check_known(_schema_version(connection), what)
    finally:
        connection.close()


@contextlib.contextmanager
def _database(data_file: str | Path, read_only: bool = False) -> Iterator[sqlite3.Connection]:
    """A connection to coverage.py's SQLite file, once its schema is one livecov knows;
    what it writes is committed when the block ends without an exception."""
    mode = "?mode=ro" if read_only else ""
    connection = sqlite3.connect(f"{Path(data_file).resolve().as_uri()}{mode}", uri=True)
    try:
        version = _schema_version(connection)
        if version is None:
            raise NotCoverageDataError(f"{data_file} is not coverage data")
        _check_known(version, f"{data_file} is coverage.py data")
        with connection:
            yield connection
    finally:
        connection.close()


def _schema_version(connection: sqlite3.Connection) -> int | None:
    """``coverage_schema``'s version; None when the file is no coverage data."""
    try:
        row = connection.execute("select version from coverage_schema").fetchone()
    except sqlite3.DatabaseError:  # not SQLite, or SQLite without coverage.py's tables
        return None
    return int(row[0]) if row else None


def _check_known(version: int | None, what: str) -> None:
    if version is not None and version != KNOWN_SCHEMA_VERSION:
        raise CoverageSchemaError(
            f"{what} of schema version {version}, which livecov does not know (it reads "
            f"version {KNOWN_SCHEMA_VERSION}): measure with a coverage.py release livecov "
            "supports, or upgrade livecov"
        )


def add_context_markers(
    data_file: str | Path, marker: Callable[[str], str], also: Iterable[str] = ()
) -> None:
    """Add the contexts ``also`` to the file, then for each of its contexts add
    ``marker(context)``: contexts holding no lines (coverage.py's API adds a context only
    with lines)."""
    with _database(data_file) as db:
        db.executemany(
            "insert or ignore into context (context) values (?)", [(name,) for name in also]
        )
        contexts = [row[0] for row in db.execute("select context from context")]
        db.executemany(
            "insert or ignore into context (context) values (?)",
            [(marker(context),) for context in contexts],
        )


def add_contexts(data_file: str | Path, names: Iterable[str]) -> None:
    """Add the contexts ``names`` to the file, holding no lines (markers)."""
    with _database(data_file) as db:
        db.executemany(
            "insert or ignore into context (context) values (?)", [(name,) for name in names]
        )


def write_meta(data_file: str | Path, key: str, value: str) -> None:
    """Store ``value`` under ``key`` in the data file's ``meta`` table (coverage.py keeps its
    own keys there; ``coverage combine`` does not carry other keys over)."""
    with _database(data_file) as db:
        db.execute("insert or replace into meta (key, value) values (?, ?)", (key, value))


def read_meta(data_file: str | Path, key: str) -> str | None:
    """What :func:`write_meta` stored under ``key``, or None."""
    with _database(data_file, read_only=True) as db:
        row = db.execute("select value from meta where key = ?", (key,)).fetchone()
    return str(row[0]) if row else None


def arc_ends_by_context(data_file: str | Path, filename: str) -> dict[int, list[str]]:
    """Each line some arc of ``filename`` ends on, and the contexts whose arcs end there.

    ``CoverageData.contexts_by_lineno`` counts both ends of an arc; this one query counts
    the ends only (why: ``livecov.affected.data_index``).
    """
    with _database(data_file, read_only=True) as db:
        rows = db.execute(
            "select distinct arc.tono, context.context from arc"
            " join file on file.id = arc.file_id join context on context.id = arc.context_id"
            " where file.path = ? and arc.tono > 0",
            (filename,),
        ).fetchall()
    lines: dict[int, list[str]] = {}
    for number, context in rows:
        lines.setdefault(number, []).append(context)
    return lines


def restart_stray_arcs(data_file: str | Path, tracer: str) -> int:
    """In the files ``tracer`` measured, make each arc that starts at a line no arc ends on
    (in its context) start at an entry (-1) instead; count them. 0 for a file that is no
    coverage data (why: ``livecov.jinja.repair``)."""
    try:
        with _database(data_file) as db:
            stray = """
                from arc as a where a.fromno > 0
                and a.file_id in (select file_id from tracer where tracer = ?)
                and not exists (select 1 from arc as b where b.file_id = a.file_id
                                and b.context_id = a.context_id and b.tono = a.fromno)
            """
            db.execute(
                "insert or ignore into arc (file_id, context_id, fromno, tono)"
                f" select a.file_id, a.context_id, -1, a.tono {stray}",
                (tracer,),
            )
            return db.execute(
                f"delete from arc where rowid in (select a.rowid {stray})",  # noqa: S608
                (tracer,),
            ).rowcount
    except NotCoverageDataError:
        return 0
