"""Each thing a user gets wrong is one ``livecov:`` line naming the cause and the fix, on every
backend; a traceback only for an exception raised by the user's own code, with only its frames."""

from __future__ import annotations

from pathlib import Path

import pytest

import livecov
from livecov.cli import main
from livecov.errors import ConfigError
from tests.livecov.helpers import livecov_lines, suite_server_failure

BACKENDS = ["werkzeug", "waitress", "gunicorn"]

# (--app, exit status, the one line, whether the user's traceback is shown)
MISTAKES = {
    "unknown module": (
        "nomodule:app",
        4,
        "livecov: the app 'nomodule:app': no module named 'nomodule'; run livecov from the "
        "project's folder, or name the module's folder in [tool.livecov] pythonpath "
        '(a src layout: pythonpath = ["src"])',
        False,
    ),
    "unknown attribute": (
        "branchy:nope",
        4,
        "livecov: the app 'branchy:nope': module 'branchy' has no attribute 'nope'; "
        "name an object that exists (MODULE:NAME)",
        False,
    ),
    "failing factory": (
        "failing:create_app",
        3,
        "livecov: the app factory 'failing:create_app' raised RuntimeError: "
        "the factory needs a database",
        True,
    ),
    "failing import": (
        "broken:app",
        3,
        "livecov: importing the app 'broken:app' raised RuntimeError: boom while importing the app",
        True,
    ),
}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_each_mistake_is_one_line(project: Path, capfd, mistake: str, backend: str) -> None:
    app, status, line, users_traceback = MISTAKES[mistake]

    assert (
        main(["run", "--app", app, "--server", backend, "--workers", "1", "--", "true"]) == status
    )

    err = capfd.readouterr().err
    assert livecov_lines(err) == [line]
    assert err.splitlines()[-1] == line  # the last thing on screen
    assert "src/livecov" not in err  # none of livecov's frames, ever
    assert "importlib" not in err
    if users_traceback:
        module = app.split(":")[0]
        assert "[live-server] Traceback (most recent call last):" in err
        assert f'[live-server]   File "{Path.cwd() / module}.py", line' in err
    else:
        assert "Traceback" not in err


@pytest.mark.parametrize("backend", ["werkzeug", "waitress", "gunicorn"])
def test_a_backend_that_is_not_installed_names_the_extra(
    project: Path, capfd, backend: str
) -> None:
    # The server process finds no such package (as without the extra): site imports this first.
    (project / "sitecustomize.py").write_text(f"import sys\nsys.modules[{backend!r}] = None\n")
    status = main(
        ["run", "--app", "branchy:app", "--server", backend, "--env", f"PYTHONPATH={project}",
         "--", "true"]
    )  # fmt: skip

    assert status == 4
    # This venv has livecov from its folder, editable (as uv sync installs it): the hint
    # installs the extra from there, not from a package index that may not have livecov.
    folder = Path(livecov.__file__).parents[2]
    assert livecov_lines(capfd.readouterr().err) == [
        f"livecov: the {backend} server is not installed: pip install -e '{folder}[{backend}]' "
        "(or choose another --server)"
    ]


@pytest.mark.parametrize("hook", ["--setup", "--reset"])
def test_an_async_hook_is_refused_in_one_line(project: Path, capfd, hook: str) -> None:
    """livecov calls a hook without awaiting it: an async def would silently reset nothing."""
    (project / "hooks.py").write_text("async def seed():\n    pass\n")
    status = main(["run", "--app", "branchy:app", hook, "hooks:seed", "--", "true"])
    err = capfd.readouterr().err
    assert status == 4
    assert livecov_lines(err) == [
        "livecov: the hook 'hooks:seed' is a coroutine function (async def), which livecov "
        "calls without awaiting: make it a plain def"
    ]
    assert "Traceback" not in err


def test_a_failing_setup_hook_shows_the_users_traceback(project: Path, capfd) -> None:
    (project / "hooks.py").write_text("def seed():\n    raise OSError('no disk')\n")
    status = main(["run", "--app", "branchy:app", "--setup", "hooks:seed", "--", "true"])
    err = capfd.readouterr().err
    assert status == 3
    assert livecov_lines(err) == ["livecov: the hook 'hooks:seed' raised OSError: no disk"]
    assert f'[live-server]   File "{project / "hooks.py"}", line 2, in seed' in err
    assert "src/livecov" not in err


@pytest.mark.parametrize("hook", ["--setup", "--reset"])
def test_a_hook_that_does_not_exist_is_one_line(project: Path, capfd, hook: str) -> None:
    """Refused before the server listens, the reset hook too (not at the first reset)."""
    status = main(["run", "--app", "branchy:app", hook, "branchy:nothing", "--", "true"])
    err = capfd.readouterr().err
    assert status == 4
    assert livecov_lines(err) == [
        "livecov: the hook 'branchy:nothing': module 'branchy' has no attribute 'nothing'; "
        "name an object that exists (MODULE:NAME)"
    ]
    assert "Traceback" not in err


@pytest.mark.parametrize("backend", ["werkzeug", "gunicorn"])
def test_the_server_refuses_a_wrong_setting_in_one_line(project: Path, backend: str) -> None:
    refused = suite_server_failure(app="branchy:nope", server=backend, workers=1)
    assert isinstance(refused, ConfigError)  # exit status 4
    assert str(refused) == (
        "the app 'branchy:nope': module 'branchy' has no attribute 'nope'; "
        "name an object that exists (MODULE:NAME)"
    )
    assert "Traceback" not in refused.output


@pytest.mark.parametrize("backend", ["werkzeug", "gunicorn"])
def test_the_server_shows_the_users_traceback_when_their_code_fails(
    project: Path, backend: str
) -> None:
    refused = suite_server_failure(app="failing:create_app", server=backend, workers=1)
    assert not isinstance(refused, ConfigError)  # exit status 3: the app failed
    assert str(refused) == (
        "the app factory 'failing:create_app' raised RuntimeError: the factory needs a database"
    )
    assert "Traceback (most recent call last):" in refused.output
    assert "failing.py" in refused.output
    assert "livecov/server" not in refused.output


def test_the_server_names_the_extra_of_a_missing_backend(project: Path) -> None:
    (project / "sitecustomize.py").write_text("import sys\nsys.modules['waitress'] = None\n")
    refused = suite_server_failure(
        app="branchy:app", server="waitress", env={"PYTHONPATH": str(project)}
    )
    assert isinstance(refused, ConfigError)
    assert str(refused).startswith("the waitress server is not installed: pip install")
