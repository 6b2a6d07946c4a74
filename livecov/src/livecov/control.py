"""Talking to a running livecov server from the test side: its control endpoints.

Two kinds of server answer them: the one a :class:`~livecov.live_server.LiveServer` of
this process started (its ``control``), and the one of the ``livecov run`` that started
this process (:class:`RunServer`, found in the environment ``livecov run`` gives its
command). Both are a :class:`ControlClient`: the server's URL and its token.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from livecov.errors import ControlActionError
from livecov.protocol import CONTEXT_HEADER, CONTROL_PREFIX, TOKEN_HEADER

# What ``livecov run`` puts in its command's environment.
URL_ENV = "LIVE_SERVER_URL"
TOKEN_ENV = "LIVECOV_TOKEN"  # noqa: S105 - a variable name, not a secret
TMPDIR_ENV = "LIVECOV_TMPDIR"
# The time limit of a control request (reset, shutdown), which answers in milliseconds.
CONTROL_TIMEOUT = 30.0


def post_control(
    url: str, token: str, action: str, timeout: float = CONTROL_TIMEOUT, context: str | None = None
) -> dict[str, str]:
    """POST to the control endpoint ``action`` (``reset``, ``shutdown``) of the server at
    ``url`` with its token; the lines it runs are recorded under ``context`` (default:
    ``live-server``)."""
    headers = {TOKEN_HEADER: token}
    if context is not None:
        headers[CONTEXT_HEADER] = context
    request = urllib.request.Request(
        f"{url}{CONTROL_PREFIX}{action}", method="POST", headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer: dict[str, str] = json.load(response)
            return answer
    except urllib.error.HTTPError as exc:
        if exc.code < 500:
            raise
        with exc:
            said = exc.read().decode(errors="replace")
        try:
            why = json.loads(said)["error"]
        except (ValueError, KeyError, TypeError):
            why = f"HTTP {exc.code}"
        raise ControlActionError(
            f"the server's {action} failed: {why} (its traceback: the server's output)"
        ) from None


@dataclass
class ControlClient:
    """The control endpoints of the server at ``url``, which answers only with ``token``."""

    url: str
    token: str

    def post(
        self, action: str, timeout: float = CONTROL_TIMEOUT, context: str | None = None
    ) -> dict[str, str]:
        """POST to the control endpoint ``action`` (``reset``, ``shutdown``); the lines it
        runs are recorded under ``context`` (default: ``live-server``)."""
        return post_control(self.url, self.token, action, timeout, context)

    def reset(self, context: str | None = None) -> None:
        """Run the app's reset hook (fresh data between tests), its lines recorded under
        ``context`` (the test it is for; default: ``live-server``)."""
        self.post("reset", context=context)


@dataclass
class RunServer(ControlClient):
    """The measured server of the ``livecov run`` this process runs under.

    The pytest plugin serves its fixtures from it instead of starting a server of its own,
    whose coverage ``livecov run`` would never see. ``resets`` turns false once the server
    says it has no reset action (no ``reset`` or ``setup`` hook).
    """

    tmpdir: Path | None = None
    resets: bool = True

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> RunServer | None:
        """The run's server, when ``environ`` names one (its URL and its token)."""
        url, token = environ.get(URL_ENV), environ.get(TOKEN_ENV)
        if not (url and token):
            return None
        tmpdir = environ.get(TMPDIR_ENV)
        return cls(url, token, Path(tmpdir) if tmpdir else None)

    def reset(self, context: str | None = None) -> None:
        """Run the app's reset hook, if it has one, under ``context``."""
        try:
            self.post("reset", context=context)
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code != 404:  # 404: no such action, the server has no hook
                raise
            self.resets = False
