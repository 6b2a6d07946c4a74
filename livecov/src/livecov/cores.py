"""Which coverage.py core measures a process that livecov starts.

coverage.py measures with one of three cores, chosen by ``[run] core`` or by the
``COVERAGE_CORE`` environment variable (which wins): ``ctrace``, its C tracer (the default
up to Python 3.13); ``sysmon``, built on :mod:`sys.monitoring` (Python 3.12+, the default
from 3.14); ``pytrace``, pure Python (also what ``[run] timid`` means). They differ in what
they can record:

=======  ===========================  =====================  ======================
core     dynamic contexts             file-tracer plugins    branches
=======  ===========================  =====================  ======================
ctrace   yes                          yes                    yes
pytrace  yes                          no                     yes
sysmon   no                           no                     from Python 3.14
=======  ===========================  =====================  ======================

livecov records the test behind each request with ``Coverage.switch_context()``, a dynamic
context; a project's plugins (``django_coverage_plugin``, ``livecov.jinja``) need the C
tracer. coverage.py leaves its sysmon default only for ``[run] dynamic_context``, not for
callers of ``switch_context()``, and it disables plugins under sysmon: so livecov chooses,
and tells the user when it overrules them. sysmon costs almost nothing where it can do the
job (line coverage, no contexts, no plugins), so livecov chooses it there.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass

from coverage.config import CoverageConfig

CTRACE, SYSMON, PYTRACE = "ctrace", "sysmon", "pytrace"
CORE_ENV = "COVERAGE_CORE"
# Concurrency libraries that sys.monitoring cannot follow (coverage.py then uses ctrace).
_GREEN_THREADS = ("greenlet", "eventlet", "gevent")
_CONTEXTS = "per-request contexts"


class CoreWarning(UserWarning):
    """The coverage core the user chose cannot record what livecov was asked to record."""


@dataclass(frozen=True)
class CoreChoice:
    """The core to measure a server process with, and what to tell the user about it."""

    core: str | None = None  # the [run] core to measure with; None: as configured
    message: str = ""  # one line for the user, "" when there is nothing to say
    warning: bool = False  # the message says that the user's own choice is overruled

    def line(self) -> str:
        """The message as livecov prints it."""
        return f"livecov: {'warning: ' if self.warning else ''}{self.message}"

    def warn(self) -> None:
        """A :class:`CoreWarning` when the user's choice was overruled (for pytest's summary)."""
        if self.warning:
            warnings.warn(CoreWarning(self.message), stacklevel=2)


def choose_core(
    config: CoverageConfig, contexts: bool, python: tuple[int, int] | None = None
) -> CoreChoice:
    """The core that records what a server measured with ``config`` needs.

    ``contexts``: livecov switches contexts in that process (per request); plugins are
    needed when the configuration lists any. With no core chosen, ctrace when either is
    needed, else sysmon where it can measure (line coverage, or Python 3.14+). A core the
    user chose (``[run] core``, ``COVERAGE_CORE``, ``[run] timid``) stands unless it cannot
    record what is needed: then, as coverage.py itself does when ``core = sysmon`` meets
    ``dynamic_context``, ctrace is used instead, and the message says so.
    """
    python = python or (sys.version_info.major, sys.version_info.minor)
    requested = PYTRACE if config.timid else config.core
    needs = ([_CONTEXTS] if contexts else []) + (
        [f"plugins ({', '.join(config.plugins)})"] if config.plugins else []
    )
    if requested is None:
        if needs:
            return CoreChoice(CTRACE)
        if sysmon_measures(config, python):
            return CoreChoice(
                SYSMON,
                "the server is measured with sys.monitoring (coverage core sysmon): "
                "line coverage without contexts, at almost no cost",
            )
        return CoreChoice()
    lacking = [need for need in needs if not _records(requested, need, config, python)]
    if not lacking:
        return CoreChoice()
    return CoreChoice(
        CTRACE,
        f"coverage core {requested} ({_where(config, requested)}) cannot record "
        f"{' or '.join(lacking)}: the server is measured with ctrace instead "
        f"(with {'them' if len(lacking) > 1 else 'that'} off it would use {requested})",
        warning=True,
    )


def sysmon_measures(config: CoverageConfig, python: tuple[int, int]) -> bool:
    """Whether coverage.py really measures with sysmon when asked to, under ``config``."""
    if python < (3, 12) or any(lib in config.concurrency for lib in _GREEN_THREADS):
        return False
    return not config.branch or python >= (3, 14)


def _records(core: str, need: str, config: CoverageConfig, python: tuple[int, int]) -> bool:
    if core == SYSMON:
        return not sysmon_measures(config, python)  # coverage.py uses ctrace instead
    if core == PYTRACE:
        return need == _CONTEXTS
    return True  # ctrace; a name coverage.py does not know is coverage.py's to refuse


def _where(config: CoverageConfig, core: str) -> str:
    if config.timid:
        return "[run] timid"
    if os.environ.get(CORE_ENV) == core:
        return f"{CORE_ENV}={core}"
    return f"[run] core = {core}"
