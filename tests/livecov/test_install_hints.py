"""A missing server's hint installs the extra from where livecov came from: a folder (as the
README installs it), a VCS or archive URL, or a package index."""

from __future__ import annotations

import json
import sys

import pytest

from livecov.errors import ConfigError
from livecov.server.install_hints import (
    _direct_url_of,
    install_command,
    install_command_for,
    require_asgi_workers,
)

FOLDER = "file:///home/me/clone/livecov"


@pytest.mark.parametrize(
    ("direct_url", "command"),
    [
        ({"url": FOLDER, "dir_info": {}}, "pip install '/home/me/clone/livecov[gunicorn]'"),
        (
            {"url": FOLDER, "dir_info": {"editable": True}},
            "pip install -e '/home/me/clone/livecov[gunicorn]'",
        ),
        (
            {"url": "file:///home/me/my%20clone/livecov", "dir_info": {"editable": False}},
            "pip install '/home/me/my clone/livecov[gunicorn]'",
        ),
        (
            {"url": "https://example.org/x/livecov.git", "vcs_info": {"vcs": "git"}},
            "pip install 'livecov[gunicorn] @ git+https://example.org/x/livecov.git'",
        ),
        (
            {"url": "https://example.org/livecov-0.1.tar.gz", "archive_info": {}},
            "pip install 'livecov[gunicorn] @ https://example.org/livecov-0.1.tar.gz'",
        ),
    ],
)
def test_the_hint_installs_from_where_livecov_came_from(direct_url: dict, command: str) -> None:
    assert install_command_for("gunicorn", json.dumps(direct_url)) == command


def test_from_a_package_index_the_hint_names_the_extra() -> None:
    assert install_command_for("uvicorn", None) == "pip install 'livecov[uvicorn]'"


def test_a_livecov_that_is_not_installed_has_no_origin() -> None:
    # livecov run from a source tree (PYTHONPATH) has no distribution to ask.
    assert _direct_url_of("livecov-not-installed-here") is None


def test_gunicorn_for_an_asgi_app_without_uvicorn_worker_names_the_uvicorn_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "uvicorn_worker", None)  # its import fails, as if absent
    with pytest.raises(ConfigError) as refused:
        require_asgi_workers()
    assert str(refused.value) == (
        "gunicorn serves an ASGI app through uvicorn-worker, which is not installed: "
        f"{install_command('uvicorn')} (or leave the server out: uvicorn serves it alone)"
    )
    monkeypatch.undo()
    require_asgi_workers()  # installed here: nothing to say
