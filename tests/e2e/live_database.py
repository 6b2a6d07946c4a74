"""The live test server's database hooks, run by livecov inside the server process in an
application context (``setup`` and ``reset`` in pyproject.toml's ``[tool.livecov]``).

``prepare`` (once, before serving): flaskr's ``init-db``, then a copy of the empty database
kept beside it. ``restore`` (before each browser test): that copy written back over the
database with SQLite's backup API: a page copy of a few kilobytes, where running the
schema script again (dropping and creating every table and index) cost 7-21 ms a test.
The ids start again from 1, as after ``init-db``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from flask import current_app

from flaskr.db import get_db, init_db


def _empty_copy() -> Path:
    return Path(current_app.config["DATABASE"]).with_suffix(".empty.sqlite")


def prepare() -> None:
    init_db()
    target = sqlite3.connect(_empty_copy())
    try:
        get_db().backup(target)
    finally:
        target.close()


def restore() -> None:
    source = sqlite3.connect(_empty_copy())
    try:
        source.backup(get_db())
    finally:
        source.close()
