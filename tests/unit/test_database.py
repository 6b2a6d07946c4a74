"""The database layer: one connection per app context, types, pragmas, schema, init-db
(the Flask tutorial's own tests at the end)."""

import sqlite3
import warnings
from datetime import datetime

import pytest

from flaskr.db import get_db


def test_rows_by_column_name_and_created_as_datetime(app):
    with app.app_context(), warnings.catch_warnings():
        # sqlite3's default timestamp converter warns on Python 3.12+; ours must not.
        warnings.simplefilter("error")
        db = get_db()
        db.execute("INSERT INTO post (title, body, author_id) VALUES ('new', '', 2)")
        rows = db.execute("SELECT id, title, created FROM post ORDER BY id").fetchall()

    assert all(isinstance(row, sqlite3.Row) for row in rows)
    assert rows[0]["title"] == "test title"
    assert rows[0]["created"] == datetime(2018, 1, 1, 0, 0, 0)
    # A post created by the database's default gets a datetime too.
    assert isinstance(rows[1]["created"], datetime)


def test_connection_settings(app):
    with app.app_context():
        db = get_db()
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        # Ten seconds, written out: the module's own constant would change with a mutant.
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] == 10_000


def test_foreign_keys_enforced(app):
    with app.app_context():
        db = get_db()
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            db.execute("INSERT INTO post (title, body, author_id) VALUES ('x', '', 99)")


def test_each_app_context_has_its_own_connection(app):
    with app.app_context():
        first = get_db()
    with app.app_context():
        assert get_db() is not first


def test_init_db_command_recreates_schema(app, runner):
    # The real command, on a database that has users and posts in it.
    result = runner.invoke(args=["init-db"])

    assert result.exit_code == 0
    assert result.output == "Initialized the database.\n"
    with app.app_context():
        db = get_db()
        assert db.execute("SELECT COUNT(*) FROM user").fetchone()[0] == 0
        assert db.execute("SELECT COUNT(*) FROM post").fetchone()[0] == 0
        tables = {
            row["name"] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        assert {"user", "post"} <= tables


INDEX_COLUMNS = "SELECT name FROM pragma_index_info(?) ORDER BY seqno"


def test_init_db_indexes_posts_by_creation_time(app, runner):
    # The index page reads posts newest first, a page at a time: init-db creates an index on
    # post(created) for that order, not unique (posts may share a second).
    assert runner.invoke(args=["init-db"]).exit_code == 0
    with app.app_context():
        db = get_db()
        indexes = [
            (
                index["unique"],
                [column["name"] for column in db.execute(INDEX_COLUMNS, (index["name"],))],
            )
            for index in db.execute("PRAGMA index_list('post')").fetchall()
        ]
    assert (0, ["created"]) in indexes


# The Flask tutorial's tests of the database layer, as it wrote them. ---------------------


def test_get_close_db(app):
    with app.app_context():
        db = get_db()
        assert db is get_db()

    with pytest.raises(sqlite3.ProgrammingError) as e:
        db.execute("SELECT 1")

    assert "closed" in str(e.value)


def test_init_db_command(runner, monkeypatch):
    class Recorder:
        called = False

    def fake_init_db():
        Recorder.called = True

    monkeypatch.setattr("flaskr.db.init_db", fake_init_db)
    result = runner.invoke(args=["init-db"])
    assert "Initialized" in result.output
    assert Recorder.called
