"""Rebuild the Flask tutorial's own project (app + 24-test suite) in a temporary folder.

Nothing of the tutorial is kept in this repository. At bench time:

* the **app** (``flaskr/``) and its **tests** come from the tutorial's upstream copy,
  ``examples/tutorial`` in the source distribution of the installed Flask, fetched with pip
  into ``bench/.cache`` (git-ignored) the first time;
* with ``--seed FILE`` (or ``BENCH_SEED``: the tutorial's "Test Coverage" chapter as text)
  the **tests** are rebuilt from that chapter instead: its code is cut out of the prose and
  the lines the scraping lost are put back (decorators, closing brackets, the
  ``auth.login()`` calls, ...); redirects are compared with today's relative ``Location``.

``--tutorial DIR`` uses another copy instead (a checkout of pallets/flask
``examples/tutorial``: its ``flaskr/`` and its own ``tests/``).

    python bench/tutorial.py [--dest DIR] [--tutorial DIR] [--seed FILE]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common

CACHE = common.BENCH / ".cache"

# Where each test file's code starts and ends in the chapter, in reading order:
# (file, first line, last line). The same file may have several pieces.
PIECES = [
    ("tests/data.sql", "INSERT INTO user (username, password)", "'2018-01-01 00:00:00');"),
    ("tests/conftest.py", "import os", "    return app.test_cli_runner()"),
    (
        "tests/test_factory.py",
        "from flaskr import create_app",
        "    assert response.data == b'Hello, World!'",
    ),
    ("tests/test_db.py", "import sqlite3", "    assert 'closed' in str(e)"),
    (
        "tests/test_db.py",
        "def test_init_db_command(runner, monkeypatch):",
        "    assert Recorder.called",
    ),
    ("tests/conftest.py", "class AuthActions(object):", "    return AuthActions(client)"),
    ("tests/test_auth.py", "import pytest", "        assert 'user_id' not in session"),
    ("tests/test_blog.py", "import pytest", "        assert post is None"),
]

# A line of code at the left margin starts like one of these; anything else there is prose.
CODE_START = re.compile(
    r"^(import |from \S+ import |def |class |@|with |_data_sql|INSERT |VALUES|\s|\)|$)"
)

# The lines the scraping lost, put back: (file, anchor line, occurrence of the anchor
# (1-based), lines to insert after it). Anchors are exact lines of the seed's code.
REPAIRS: list[tuple[str, str, int, list[str]]] = [
    ("tests/data.sql", "INSERT INTO user (username, password)", 1, ["VALUES"]),
    ("tests/data.sql", "INSERT INTO post (title, body, author_id, created)", 1, ["VALUES"]),
    ("tests/conftest.py", "        'DATABASE': db_path,", 1, ["    })"]),
    (
        "tests/conftest.py",
        "    with app.app_context():",
        1,
        ["        init_db()", "        get_db().executescript(_data_sql)"],
    ),
    (
        "tests/conftest.py",
        "    yield app",
        1,
        ["", "    os.close(db_fd)", "    os.unlink(db_path)"],
    ),
    ("tests/conftest.py", "        return self._client.post(", 1, ["            '/auth/login',"]),
    (
        "tests/conftest.py",
        "            data={'username': username, 'password': password}",
        1,
        ["        )"],
    ),
    (
        "tests/test_auth.py",
        "        '/auth/register', data={'username': 'a', 'password': 'a'}",
        1,
        ["    )"],
    ),
    ("tests/test_auth.py", "    ('test', 'test', b'already registered'),", 1, ["))"]),
    ("tests/test_auth.py", "    response = client.post(", 2, ["        '/auth/register',"]),
    (
        "tests/test_auth.py",
        "        data={'username': username, 'password': password}",
        1,
        ["    )"],
    ),
    ("tests/test_auth.py", "    with client:", 1, ["        client.get('/')"]),
    ("tests/test_auth.py", "    ('test', 'a', b'Incorrect password.'),", 1, ["))"]),
    ("tests/test_auth.py", "def test_logout(client, auth):", 1, ["    auth.login()"]),
    ("tests/test_auth.py", "    with client:", 2, ["        auth.logout()"]),
    ("tests/test_blog.py", '    assert b"Register" in response.data', 1, ["", "    auth.login()"]),
    (
        "tests/test_blog.py",
        "@pytest.mark.parametrize('path', (",
        1,
        ["    '/create',", "    '/1/update',", "    '/1/delete',", "))"],
    ),
    (
        "tests/test_blog.py",
        "        db.execute('UPDATE post SET author_id = 2 WHERE id = 1')",
        1,
        ["        db.commit()", "", "    auth.login()"],
    ),
    (
        "tests/test_blog.py",
        "@pytest.mark.parametrize('path', (",
        2,
        ["    '/2/update',", "    '/2/delete',", "))"],
    ),
    (
        "tests/test_blog.py",
        "def test_exists_required(client, auth, path):",
        1,
        ["    auth.login()"],
    ),
    ("tests/test_blog.py", "def test_create(client, auth, app):", 1, ["    auth.login()"]),
    ("tests/test_blog.py", "def test_update(client, auth, app):", 1, ["    auth.login()"]),
    (
        "tests/test_blog.py",
        "@pytest.mark.parametrize('path', (",
        3,
        ["    '/create',", "    '/1/update',", "))"],
    ),
    (
        "tests/test_blog.py",
        "def test_create_update_validate(client, auth, path):",
        1,
        ["    auth.login()"],
    ),
    ("tests/test_blog.py", "def test_delete(client, auth, app):", 1, ["    auth.login()"]),
]
FIXTURES = ("def app():", "def client(app):", "def runner(app):", "def auth(client):")
# Today's Werkzeug sends the relative Location (the tutorial upstream compares the same).
MODERNIZE = [("'http://localhost/auth/login'", "'/auth/login'"), ("'http://localhost/'", "'/'")]


class ReconstructionError(RuntimeError):
    pass


def reconstruct_tests(seed_text: str) -> dict[str, str]:
    """The tutorial's test files, rebuilt from the chapter's text."""
    lines = seed_text.splitlines()
    files: dict[str, list[str]] = {}
    pos = 0
    for name, first, last in PIECES:
        try:
            start = lines.index(first, pos)
            end = next(i for i in range(start, len(lines)) if lines[i].endswith(last))
        except (ValueError, StopIteration):
            raise ReconstructionError(
                f"the seed has no {first!r} ... {last!r} for {name}"
            ) from None
        piece = [ln for ln in lines[start : end + 1] if CODE_START.match(ln)]
        files.setdefault(name, []).extend([*piece, "", ""])
        pos = end + 1
    for name, anchor, occurrence, insert in REPAIRS:
        body = files[name]
        hits = [i for i, ln in enumerate(body) if ln == anchor]
        if len(hits) < occurrence:
            raise ReconstructionError(f"{name}: anchor {anchor!r} #{occurrence} not found")
        at = hits[occurrence - 1] + 1
        body[at:at] = insert
    for name, body in files.items():
        out: list[str] = []
        for ln in body:
            if ln in FIXTURES:
                out.append("@pytest.fixture")
            for old, new in MODERNIZE:
                ln = ln.replace(old, new)
            out.append(ln)
        files[name] = out
    return {
        name: re.sub(r"\n{4,}", "\n\n\n", "\n".join(body)).rstrip() + "\n"
        for name, body in files.items()
    }


def _pip() -> list[str]:
    for cmd in ([sys.executable, "-m", "pip"], ["python3", "-m", "pip"], ["pip3"], ["pip"]):
        try:
            ok = (
                subprocess.run([*cmd, "--version"], capture_output=True, timeout=30).returncode == 0
            )
        except (OSError, subprocess.SubprocessError):
            ok = False
        if ok:
            return cmd
    raise ReconstructionError("no pip to download the Flask source distribution with")


def flask_sdist(version: str) -> Path:
    """The Flask source distribution of ``version`` (it ships examples/tutorial)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    found = sorted(CACHE.glob(f"flask-{version}.tar.gz"))
    if found:
        return found[0]
    common.log(f"downloading the Flask {version} source distribution (for examples/tutorial)")
    result = subprocess.run(
        [
            *_pip(),
            "download",
            "--quiet",
            "--no-deps",
            "--no-binary",
            ":all:",
            f"flask=={version}",
            "-d",
            str(CACHE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    found = sorted(CACHE.glob(f"flask-{version}.tar.gz"))
    if not found:
        raise ReconstructionError(f"pip download flask=={version} failed:\n{result.stderr[-2000:]}")
    return found[0]


def extract_tutorial(sdist: Path, dest: Path) -> Path:
    """Unpack examples/tutorial of a Flask sdist into ``dest``; returns that folder."""
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if "/examples/tutorial/" in m.name]
        if not members:
            raise ReconstructionError(f"{sdist.name} has no examples/tutorial")
        tar.extractall(dest, members=members, filter="data")
    return next(dest.glob("*/examples/tutorial"))


def build(
    dest: Path, seed: Path | None = common.SEED, tutorial: Path | None = None
) -> dict[str, str]:
    """Lay out the tutorial project in ``dest`` (flaskr/ and tests/); returns its provenance.

    The app and, without ``seed``, the tests are those of Flask's examples/tutorial; with
    ``seed``, the tests are rebuilt from that chapter."""
    dest.mkdir(parents=True, exist_ok=True)
    info: dict[str, str] = {}
    if tutorial is not None:
        shutil.copytree(tutorial / "flaskr", dest / "flaskr")
        shutil.copytree(tutorial / "tests", dest / "tests")
        info["app"] = info["tests"] = str(tutorial)
    else:
        version = importlib.metadata.version("flask")
        upstream = extract_tutorial(flask_sdist(version), dest / "_upstream")
        shutil.copytree(upstream / "flaskr", dest / "flaskr")
        info["app"] = f"Flask {version} sdist examples/tutorial/flaskr"
        if seed is None:
            shutil.copytree(upstream / "tests", dest / "tests")
            info["tests"] = f"Flask {version} sdist examples/tutorial/tests"
        else:
            for name, text in reconstruct_tests(seed.read_text(encoding="utf-8")).items():
                path = dest / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
            info["tests"] = f"rebuilt from {seed}"
            info["upstream_tests"] = str(upstream / "tests")
    (dest / "pytest.ini").write_text("[pytest]\ntestpaths = tests\naddopts = -p no:cacheprovider\n")
    return info


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dest", type=Path, default=None)
    parser.add_argument("--tutorial", type=Path, default=None)
    parser.add_argument("--seed", type=Path, default=common.SEED)
    args = parser.parse_args()
    dest = args.dest or Path(tempfile.mkdtemp(prefix="flask-tutorial-"))
    info = build(dest, args.seed, args.tutorial)
    for key, value in info.items():
        print(f"{key}: {value}")
    print(f"built in {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
