"""Exceptions livecov raises; each message tells the user what happened and what to do."""

from __future__ import annotations


class LivecovError(Exception):
    """Base class: a problem livecov reports as one clear line, without a traceback."""

    exit_status = 3


class ConfigError(LivecovError):
    """The settings (command line or ``[tool.livecov]``) are wrong."""

    exit_status = 4


class CommandNotFoundError(LivecovError):
    """The test command does not exist or cannot be executed."""

    exit_status = 127


class CommandTimeoutError(LivecovError):
    """The test command ran past ``--timeout`` and was stopped."""

    exit_status = 124


class AppLoadError(LivecovError):
    """The application named by ``module:name`` could not be imported or built."""


class ServerStartError(LivecovError):
    """The server died or never listened; ``output`` is what it printed."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.output = output


class CoverageLostError(LivecovError):
    """The server had to be killed, or wrote no data: its coverage is lost."""
