"""Who provides the ``live_server`` fixture: livecov, or another plugin that defines one.

pytest-django and pytest-flask both define ``live_server`` (a server in a thread of the
test process, with an API of their own), and their autouse fixtures act on whatever
``live_server`` a test takes: pytest-django's turns on a transactional database and calls
``live_server._live_server_modified_settings``, pytest-flask's reads ``live_server.app``.
So livecov never serves its server under that name beside them unless told to:

* livecov's own fixture is ``livecov_server``, always; ``base_url`` (so ``page``), the
  automatic reset and ``livecov_client`` use it.
* This module's ``live_server`` (the same server) is registered only where no other
  plugin defines ``live_server``, or where ``live_server_fixture = true`` (in
  ``[tool.livecov]``, or the ini key ``livecov_live_server_fixture``, or
  ``--livecov-live-server-fixture``) says so; ``false`` never registers it.
* Where another plugin defines it and nothing says which, tests taking ``live_server`` get
  the other plugin's (as without livecov), and one ``livecov:`` line names the setting.
"""

from __future__ import annotations

import sys
import types

import pytest

# The only way to tell a fixture definition from another attribute: pytest's own helper,
# the one its collection uses (private, in pytest since 3.0 under this name).
from _pytest.fixtures import getfixturemarker

from livecov.control import RunServer
from livecov.errors import LivecovError
from livecov.live_server import LiveServer
from livecov.pytest_options import given_settings, plugin_settings
from livecov.settings import Settings

# What livecov's fixtures give: the server this process started, or ``livecov run``'s. Here,
# below :mod:`livecov.pytest_plugin` (which imports this module), for both.
Server = LiveServer | RunServer
NAME = "livecov-live-server"
FIXTURE = "live_server"
# Plugins whose autouse fixtures use their own live_server's API on any live_server.
NEEDS_ITS_OWN = {
    "pytest-django": "its autouse fixtures call Django's live server API on it",
    "pytest-flask": "its autouse fixtures read live_server.app",
}
_NOTICE = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def live_server(livecov_server: Server) -> Server:
    """livecov's server (see ``livecov_server``), under the name most plugins use."""
    return livecov_server


def offer(config: pytest.Config) -> None:
    """Register this module's ``live_server`` if it is livecov's to give; note what to say."""
    settings = _settings(config)
    others = other_definitions(config)
    choice = settings.live_server_fixture
    if choice is None and others and _livecov_in_use(settings):
        config.stash[_NOTICE] = _notice_line(others)
    if choice:
        for other in others:
            if other in NEEDS_ITS_OWN:
                raise pytest.UsageError(
                    f"livecov: live_server_fixture = true cannot take live_server from "
                    f"{other} ({NEEDS_ITS_OWN[other]}): take livecov_server in your tests, "
                    "and set live_server_fixture = false"
                )
    if choice or (choice is None and not others):
        config.pluginmanager.register(sys.modules[__name__], NAME)


def _notice_line(others: list[str]) -> str:
    names = " and ".join(others)
    line = (
        f"livecov: {names} also define{'s' * (len(others) == 1)} the live_server fixture: "
        "tests taking live_server get theirs; livecov's server is livecov_server (base_url "
        "and page use it)."
    )
    if any(other in NEEDS_ITS_OWN for other in others):
        return (
            f"{line} Take livecov_server in tests meant for livecov; "
            "live_server_fixture = false in [tool.livecov] keeps theirs quietly."
        )
    return (
        f"{line} live_server_fixture = true in [tool.livecov] gives live_server to livecov; "
        "false keeps theirs quietly."
    )


def notice(config: pytest.Config) -> str | None:
    """The line to say at the start of the session, if any."""
    return config.stash.get(_NOTICE, None)


def _settings(config: pytest.Config) -> Settings:
    try:
        return plugin_settings(config)
    except LivecovError:  # the fixtures that need the settings say what is wrong
        return given_settings(config)


def livecov_in_use(config: pytest.Config) -> bool:
    """Whether livecov serves an app in this session: one is configured, or the session
    runs inside ``livecov run``."""
    return _livecov_in_use(_settings(config))


def resets_before_tests(config: pytest.Config) -> bool:
    """Whether the plugin resets the app's data before the tests that reach the server."""
    settings = _settings(config)
    return settings.auto_reset and bool(settings.reset or settings.setup)


def _livecov_in_use(settings: Settings) -> bool:
    return bool(settings.app) or RunServer.from_environment() is not None


def other_definitions(config: pytest.Config) -> list[str]:
    """The installed plugins, other than livecov, that define ``live_server``, by the name
    of their distribution. conftest.py files are left out: their fixtures always win for
    the tests below them, whoever else defines one."""
    dists = {id(p): d.project_name for p, d in config.pluginmanager.list_plugin_distinfo()}
    found = {
        dists.get(id(plugin)) or _package_name(name, plugin)
        for name, plugin in config.pluginmanager.list_name_plugin()
        if plugin is not None
        and not name.endswith("conftest.py")
        and not getattr(plugin, "__name__", "").startswith("livecov.")
        and _defines(plugin, FIXTURE)
    }
    return sorted(found)


def _package_name(name: str, plugin: object) -> str:
    """A plugin's name as pip knows it (``pytest_flask.plugin`` is pytest-flask), for one
    loaded with ``-p`` rather than through its distribution's entry point."""
    module = getattr(plugin, "__name__", name)
    return module.partition(".")[0].replace("_", "-")


def _defines(plugin: object, fixture: str) -> bool:
    members = vars(plugin) if isinstance(plugin, types.ModuleType) else vars(type(plugin))
    for attribute, value in members.items():
        marker = getfixturemarker(value)
        if marker is not None and (marker.name or attribute) == fixture:
            return True
    return False
