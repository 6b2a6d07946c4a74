"""SQLite access: one connection per application context.

Connections use WAL journaling and a busy timeout, so concurrent requests wait for each
other's writes instead of failing with "database is locked".
"""

import sqlite3
from datetime import datetime

import click
from flask import Flask, current_app, g
from flask.cli import with_appcontext

BUSY_TIMEOUT_SECONDS = 10.0


def _convert_timestamp(value: bytes) -> datetime:
    return datetime.fromisoformat(value.decode())


# Our own converter for columns declared TIMESTAMP: sqlite3's default converters are
# deprecated since Python 3.12.
sqlite3.register_converter("timestamp", _convert_timestamp)


def get_db() -> sqlite3.Connection:
    """Return this app context's connection, opening it on first use."""
    if "db" not in g:
        g.db = connect(current_app.config["DATABASE"])
    connection: sqlite3.Connection = g.db
    return connection


def connect(path: str) -> sqlite3.Connection:
    """Open the database at ``path`` with the settings every connection needs."""
    db = sqlite3.connect(path, detect_types=sqlite3.PARSE_DECLTYPES, timeout=BUSY_TIMEOUT_SECONDS)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA foreign_keys = ON")
    return db


def close_db(e: BaseException | None = None) -> None:
    """Close this app context's connection, if one was opened."""
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db() -> None:
    """Drop all tables and create them anew."""
    db = get_db()
    with current_app.open_resource("schema.sql", "r", encoding="utf-8") as f:
        db.executescript(f.read())


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Clear the existing data and create new tables."""
    init_db()
    click.echo("Initialized the database.")


def init_app(app: Flask) -> None:
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
