"""The server's own measurement: switching the coverage context it records under.

Contexts are only switched on when the server is measured, so coverage.py is imported on
first use only: an unmeasured server never pays for it.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from livecov.protocol import SERVED_CONTEXTS_PREFIX

# coverage.py's name for the sys.monitoring core (livecov.cores.SYSMON on the test side).
_SYSMON = "sysmon"
# The contexts this process has written down (a forked worker starts with its parent's).
_served: set[str] = set()


def switch_coverage_context(context: str) -> None:
    """Record what runs from now on under ``context``.

    Contexts are only switched on when the server is measured, so there is always a
    current measurement (a gunicorn worker's own, after the fork). coverage.py hands what
    was recorded so far to the previous context; under sys.monitoring the events are then
    re-armed, so the new context records every line it runs (:func:`events_rearm`).
    coverage.py flushes only after some activity, which under sysmon means a function
    started since the last re-arm: this function and ``switch_context`` are such.
    """
    import coverage  # only a measured server switches contexts: no import cost otherwise

    measuring = coverage.Coverage.current()
    assert measuring is not None
    measuring.switch_context(context)
    events_rearm(measuring.config.core)()
    if context not in _served:
        write_down_served(context, measuring.config.data_file)


def write_down_served(context: str, data_file: str) -> None:
    """Add ``context`` to this process's list of the contexts it served, beside its data.

    coverage.py keeps a context only once a line ran under it, so a test whose requests ran
    no measured line (a static file, a route outside ``source``) would leave no trace that
    it used the server; ``livecov affected`` counts such a test among those a change to
    the start-up can break (the test side adds these contexts to the server's data:
    ``livecov.measure.prepare_server_file``). One file per process: forked workers too.
    """
    _served.add(context)
    listing = Path(data_file).with_name(f"{SERVED_CONTEXTS_PREFIX}{os.getpid()}")
    with listing.open("a", encoding="utf-8") as served:
        served.write(context + "\n")


def events_rearm(core: str | None) -> Callable[[], object]:
    """What to call after each context switch in a process measured with ``core``.

    sysmon: ``sys.monitoring.restart_events``, which re-arms every event a callback
    disabled, so the new context records each line it runs (the call is global: it re-arms
    other tools' events too, which in livecov's server process are none). Any other core
    records every line anyway: ``tuple``, a call that does nothing (also where
    ``sys.monitoring`` is missing: coverage.py then measures with ctrace). The test process
    re-arms its own measurement the same way (the pytest plugin's per-test contexts).
    """
    monitoring = getattr(sys, "monitoring", None) if core == _SYSMON else None
    return getattr(monitoring, "restart_events", tuple)
