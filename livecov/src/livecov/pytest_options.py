"""The pytest plugin's options and ini keys, generated from livecov's settings table.

Every setting declared for pytest (:mod:`livecov.settings`) is an option ``--livecov-NAME``
and an ini key ``livecov_NAME``, but ``server``'s, ``--livecov-server-program`` and
``livecov_server_program`` (``livecov_server`` is the fixture's name; the first spellings
still work, with a deprecation warning); the plugin's former names (``--live-server-backend``,
ini ``live_server_workers``, ...) still work. Each overrides ``[tool.livecov]`` in the
rootdir's pyproject.toml; the command line overrides the ini file, a new name its former
one. A value that is not one is a usage error in one line, before any test runs.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import pytest

from livecov.errors import ConfigError
from livecov.settings import OPTIONS, Option, Settings, load_settings

_VALUES = pytest.StashKey[dict[str, Any]]()
_SETTINGS = pytest.StashKey[Settings]()


def add_options(parser: pytest.Parser, group: pytest.OptionGroup) -> None:
    for option in OPTIONS:
        if option.pytest:
            _add(parser, group, option)


def _add(parser: pytest.Parser, group: pytest.OptionGroup, option: Option) -> None:
    many = option.kind in (list, dict)
    flag, dest = f"--livecov-{option.pytest_key}", f"livecov_{option.name}"
    if option.kind is bool:
        group.addoption(flag, action="store_true", dest=dest, default=None, help=option.described)
        off = f"--livecov-no-{option.pytest_key}"
        group.addoption(off, action="store_false", dest=dest, default=None, help="turn it off")
    else:
        action = "append" if many else "store"
        metavar = option.metavar or "{" + ",".join(option.choices) + "}"
        group.addoption(flag, action=action, dest=dest, default=None, metavar=metavar,
                        help=option.described)  # fmt: skip
    ini_type: Literal["linelist", "string"] = "linelist" if many else "string"
    parser.addini(option.ini_key, help=option.described, type=ini_type)
    if option.pytest_name:  # its first names, deprecated (a str setting: server)
        group.addoption(
            f"--livecov-{option.key}",
            dest=f"livecov_deprecated_{option.name}",
            default=None,
            help=argparse.SUPPRESS,
        )
        parser.addini(f"livecov_{option.name}", help=f"deprecated: {option.ini_key}", type=ini_type)
    if option.legacy:
        group.addoption(
            f"--live-server-{option.legacy}",
            dest=f"livecov_former_{option.name}",
            default=None,
            help=argparse.SUPPRESS,
        )
        former_ini = f"live_server_{option.legacy.replace('-', '_')}"
        parser.addini(former_ini, help=f"former name of livecov_{option.name}", type=ini_type)


def configure(config: pytest.Config) -> None:
    """Read and check every option and ini key; a bad value is a usage error."""
    try:
        config.stash[_VALUES] = {
            option.name: value
            for option in OPTIONS
            if option.pytest and (value := _value(config, option)) is not None
        }
    except ConfigError as exc:
        raise pytest.UsageError(f"livecov: {exc}") from None


def plugin_settings(config: pytest.Config) -> Settings:
    """``[tool.livecov]`` from the rootdir's pyproject.toml, then the ini keys and options.

    ConfigError for a bad file (the fixtures that need the server fail with its line).
    """
    if _SETTINGS not in config.stash:
        settings = load_settings(Path(config.rootpath, "pyproject.toml"))
        config.stash[_SETTINGS] = settings.updated(config.stash.get(_VALUES, {}))
    return config.stash[_SETTINGS]


def given_settings(config: pytest.Config) -> Settings:
    """The defaults, then the ini keys and options: without pyproject.toml's table."""
    return Settings().updated(config.stash.get(_VALUES, {}))


def _value(config: pytest.Config, option: Option) -> Any:
    """The option's value as the first place that gives one says, or None; ConfigError
    naming that place when it is no value of the option's."""
    for where, raw, folder, instead in _given(config, option):
        try:
            value = _parsed(option, raw, folder)
            problem = option.problem(value)
        except ConfigError as exc:
            problem = str(exc)
        if problem:
            raise ConfigError(f"{where} {problem}")
        if instead:
            message = (
                f"livecov: {where} is deprecated: use {instead} "
                f"(livecov_{option.name} is the name of livecov's fixture)"
            )
            config.issue_config_time_warning(pytest.PytestDeprecationWarning(message), 2)
        return value
    return None


def _given(config: pytest.Config, option: Option) -> Iterator[tuple[str, Any, Path, str]]:
    """Where the option may be given, in order of precedence: (how it is spelt, what it
    says, the folder its relative paths start from, the spelling to use instead of a
    deprecated one, else "")."""
    here = config.invocation_params.dir
    ini_folder = config.inipath.parent if config.inipath else config.rootpath
    flag = f"--livecov-{option.pytest_key}"
    places = [(flag, f"livecov_{option.name}", "")]
    if option.legacy:
        places.append((f"--live-server-{option.legacy}", f"livecov_former_{option.name}", ""))
    if option.pytest_name:
        places.append((f"--livecov-{option.key}", f"livecov_deprecated_{option.name}", flag))
    for spelling, dest, instead in places:
        raw = config.getoption(dest)
        if raw is not None:
            yield spelling, raw, here, instead
    inis = [(option.ini_key, "")]
    if option.legacy:
        inis.append((f"live_server_{option.legacy.replace('-', '_')}", ""))
    if option.pytest_name:
        inis.append((f"livecov_{option.name}", option.ini_key))
    for name, instead in inis:
        raw = config.getini(name)
        if raw:
            yield f"{name} (ini)", raw, ini_folder, instead


def _parsed(option: Option, raw: Any, folder: Path) -> Any:
    if isinstance(raw, bool):  # --livecov-NAME / --livecov-no-NAME
        return raw
    if isinstance(raw, list):
        value = option.from_lines(raw)
        return [str(folder / entry) for entry in value] if option.folders else value
    return option.from_text(raw)
