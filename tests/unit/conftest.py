"""Fixtures for the flaskr unit tests.

The ``app``, ``client``, ``runner`` and ``auth`` fixtures are the Flask tutorial's; the
only addition to its app config is a cheap password hash method, allowed because TESTING
is true, so the suite stays fast.

Hypothesis profiles: ``default`` (20 examples per property, used by ``make test``) and
``thorough`` (10 000), chosen with the environment variable ``HYPOTHESIS_PROFILE``.
"""

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import settings
from werkzeug.test import TestResponse

from flaskr import create_app
from flaskr.db import get_db, init_db

from .helpers import CHEAP_HASH_METHOD

# 20 examples keep the properties at about 3 s of a make test (50 took 7.6 s); every
# example a run ever failed on is replayed first from .hypothesis/, whatever the profile.
settings.register_profile("default", max_examples=20, deadline=None)
settings.register_profile("thorough", max_examples=10_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

with open(os.path.join(os.path.dirname(__file__), "data.sql"), "rb") as f:
    _data_sql = f.read().decode("utf8")


@pytest.fixture(autouse=True, scope="session")
def _isolated_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Ignore the developer's FLASKR_* variables and keep the instance folder out of the repo."""
    with pytest.MonkeyPatch.context() as mp:
        for name in os.environ:
            if name.startswith("FLASKR_"):
                mp.delenv(name)
        mp.setenv("FLASKR_INSTANCE_PATH", str(tmp_path_factory.mktemp("instance")))
        yield


@pytest.fixture(scope="session")
def _test_database(tmp_path_factory: pytest.TempPathFactory, _isolated_environment: None) -> Path:
    """A database with the schema and data.sql, built once: each test gets a copy of it.

    Copying the file costs a tenth of creating the schema and loading the data again.
    """
    path = tmp_path_factory.mktemp("prepared") / "flaskr.sqlite"
    load_test_data(create_app({"TESTING": True, "DATABASE": str(path)}))
    return path


def copy_test_database(prepared: Path) -> str:
    """A new file with the prepared database's contents; its path."""
    db_fd, db_path = tempfile.mkstemp()
    os.close(db_fd)
    shutil.copyfile(prepared, db_path)
    return db_path


@pytest.fixture
def app(_test_database: Path) -> Iterator[Flask]:
    db_path = copy_test_database(_test_database)

    app = create_app(
        {
            "TESTING": True,
            "DATABASE": db_path,
            "PASSWORD_HASH_METHOD": CHEAP_HASH_METHOD,
        }
    )

    yield app

    os.unlink(db_path)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


class AuthActions:
    def __init__(self, client: FlaskClient) -> None:
        self._client = client

    def login(self, username: str = "test", password: str = "test") -> TestResponse:
        return self._client.post("/auth/login", data={"username": username, "password": password})

    def logout(self) -> TestResponse:
        return self._client.get("/auth/logout")


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


# Beyond the tutorial ---------------------------------------------------------------------


def load_test_data(app: Flask) -> None:
    """(Re)create the schema in ``app``'s database and load data.sql into it."""
    with app.app_context():
        init_db()
        get_db().executescript(_data_sql)


@pytest.fixture
def make_app(tmp_path: Path, _test_database: Path) -> Callable[..., Flask]:
    """Build apps with any config, each on its own database file loaded with data.sql.

    Nothing is implied: pass TESTING, PASSWORD_HASH_METHOD etc. as the test needs them.
    """
    count = 0

    def make(**config: Any) -> Flask:
        nonlocal count
        count += 1
        path = tmp_path / f"flaskr-{count}.sqlite"
        shutil.copyfile(_test_database, path)
        return create_app({"DATABASE": str(path), **config})

    return make


@pytest.fixture
def instance_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, not yet existing instance folder that create_app will use."""
    path = tmp_path / "instance"
    monkeypatch.setenv("FLASKR_INSTANCE_PATH", str(path))
    return path
