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
sysmon   no (livecov: line coverage)  no                     from Python 3.14
=======  ===========================  =====================  ======================

livecov records the test behind each request with ``Coverage.switch_context()``, a dynamic
context; a project's plugins (``django_coverage_plugin``, ``livecov.jinja``) need the C
tracer. sysmon records a line once: its callback returns ``sys.monitoring.DISABLE`` after
the first hit, so a second context never sees the line. coverage.py's own switch still
hands what was recorded to the context it was recorded under (``Collector.flush_data``);
what it lacks is the re-arm. livecov owns the server process, so there it calls
``sys.monitoring.restart_events()`` after each switch
(:func:`livecov.server.measuring.events_rearm`): every line a context runs is recorded
under it once, and runs again at no cost. That makes sysmon the server's core for line
coverage with per-request contexts on Python 3.12+ (the gate lets only one context's
requests run at a time, so no line is recorded under another). Where
that cannot be complete, the C tracer measures (:func:`sysmon_contexts_refusal` says
why): plugins (coverage.py runs none under sysmon), green threads (sys.monitoring cannot
follow them), branch coverage (none before Python 3.14; with contexts verified on ctrace
only), a coverage.py other than the 7.x this is pinned to. With no core chosen that is
what coverage.py would use anyway, so nothing is said; a user's own sysmon is overruled on
the same grounds, in one line.
"""

from __future__ import annotations

import os
import sys
import warnings
from dataclasses import dataclass

import coverage
from coverage.config import CoverageConfig

CTRACE, SYSMON, PYTRACE = "ctrace", "sysmon", "pytrace"
CORE_ENV = "COVERAGE_CORE"
# Concurrency libraries that sys.monitoring cannot follow (coverage.py then uses ctrace).
_GREEN_THREADS = ("greenlet", "eventlet", "gevent")
_CONTEXTS = "per-request contexts"
# The coverage.py whose sysmon behaviour the re-arm relies on (each switch flushes what was
# recorded to the old context and clears the per-file sets in place; DISABLE per code
# location): major version 7. The suite checks the locked version
# (tests/livecov/test_sysmon_contexts.py); with 7.10.0 (livecov's minimum) and 7.13.0 a
# check by hand (four switches, a generator resumed across them) matched ctrace too.
SYSMON_CONTEXTS_COVERAGE = 7


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
        return _default_core(config, needs, python)
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


def _default_core(config: CoverageConfig, needs: list[str], python: tuple[int, int]) -> CoreChoice:
    """No core chosen: sysmon where it records everything needed, else ctrace.

    ctrace is then what coverage.py would have used: nothing is lost, nothing is said (why
    not sysmon: :func:`sysmon_contexts_refusal`, and docs/cores.md's table).
    """
    if needs == [_CONTEXTS] and not sysmon_contexts_refusal(config, python):
        return CoreChoice(
            SYSMON,
            "the server is measured with sys.monitoring (coverage core sysmon): "
            "line coverage with per-request contexts, at almost no cost",
        )
    if needs:
        return CoreChoice(CTRACE)
    if sysmon_measures(config, python):
        return CoreChoice(
            SYSMON,
            "the server is measured with sys.monitoring (coverage core sysmon): "
            "line coverage without contexts, at almost no cost",
        )
    return CoreChoice()


def sysmon_measures(config: CoverageConfig, python: tuple[int, int]) -> bool:
    """Whether coverage.py really measures with sysmon when asked to, under ``config``."""
    if python < (3, 12) or any(lib in config.concurrency for lib in _GREEN_THREADS):
        return False
    return not config.branch or python >= (3, 14)


def sysmon_contexts_refusal(
    config: CoverageConfig,
    python: tuple[int, int],
    version: tuple[int | str, ...] = coverage.version_info,
) -> str:
    """Why sysmon, re-armed at each switch, cannot record per-request contexts ("": it can).

    ``version``: coverage.py's (this one's by default).
    """
    if python < (3, 12):
        return "sys.monitoring is Python 3.12+"
    green = [lib for lib in _GREEN_THREADS if lib in config.concurrency]
    if green:
        return f"sys.monitoring cannot follow the green threads of {' and '.join(green)}"
    if config.branch:
        return (
            "branch coverage with per-request contexts needs it "
            "(sys.monitoring is used for line coverage)"
        )
    if version[0] != SYSMON_CONTEXTS_COVERAGE:
        return (
            f"livecov re-arms sys.monitoring for coverage.py {SYSMON_CONTEXTS_COVERAGE}.x, "
            f"not {'.'.join(map(str, version[:3]))}"
        )
    return ""


def measuring_core(cov: coverage.Coverage) -> str | None:
    """The core ``cov`` really measures with (None: not started), as coverage.py reports
    it (``coverage debug sys``): its configured core may have been replaced (Python 3.14
    chooses sysmon by default, sysmon without sys.monitoring falls back to ctrace)."""
    tracer = str(dict(cov.sys_info()).get("core"))
    return {"SysMonitor": SYSMON, "CTracer": CTRACE, "PyTracer": PYTRACE}.get(tracer)


def _records(core: str, need: str, config: CoverageConfig, python: tuple[int, int]) -> bool:
    if core == SYSMON:
        if not sysmon_measures(config, python):
            return True  # coverage.py measures with ctrace instead
        return need == _CONTEXTS and not sysmon_contexts_refusal(config, python)
    if core == PYTRACE:
        return need == _CONTEXTS
    return True  # ctrace; a name coverage.py does not know is coverage.py's to refuse


def _where(config: CoverageConfig, core: str) -> str:
    if config.timid:
        return "[run] timid"
    if os.environ.get(CORE_ENV) == core:
        return f"{CORE_ENV}={core}"
    return f"[run] core = {core}"
