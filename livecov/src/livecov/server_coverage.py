"""The coverage configuration the server process measures with, and what it imports first.

Everything that decides what is measured stays exactly as the run has it, so that the
server's data always combines with the tests'; only where the data goes, how contexts are
switched and which warnings are noise change (:func:`server_coverage_config`).
"""

from __future__ import annotations

import copy
from pathlib import Path

from coverage.config import CoverageConfig

from livecov.measure import SERVER_DATA_BASENAME
from livecov.protocol import DEFAULT_CONTEXT

# The module each backend serves with, imported in the server before coverage starts
# (see preimported_modules).
BACKEND_MODULES = {
    "werkzeug": "werkzeug.serving",
    "waitress": "waitress",
    "gunicorn": "gunicorn.app.base",
    "uvicorn": "uvicorn",
    # auto: the kind of app is known only once it is loaded, under measurement; werkzeug
    # serves the WSGI apps that are most of them (an ASGI app's server pays one import).
    "auto": "werkzeug.serving",
}

# no-sysmon-context: coverage.py's warning that sysmon alone would lose contexts; in the
# server livecov re-arms sys.monitoring at each switch (livecov.server.measuring.events_rearm).
_QUIET_WARNINGS = (
    "no-data-collected",
    "module-not-imported",
    "module-not-measured",
    "no-sysmon-context",
)


def preimported_modules(server: str, config: CoverageConfig) -> list[str]:
    """What the server process imports before it starts measuring: the backend's module.

    The tracer slows every import it sees; a backend that is not measured need not be
    imported under it. Unless the run's ``source`` (or ``source_pkgs``) names the backend's
    package: then its import-time lines are measured like any others.
    """
    module = BACKEND_MODULES.get(server)
    if module is None:
        return []
    package = module.partition(".")[0]
    named = [*(config.source or []), *(config.source_pkgs or [])]
    if any(entry.partition(".")[0] == package or Path(entry).name == package for entry in named):
        return []
    return [module]


def _json_ready(config: CoverageConfig) -> CoverageConfig:
    """``config``, its sets made lists. coverage.py keeps an option as its caller gave it,
    and a Coverage object built in code may give a set (pytest-testmon's ``omit`` is one),
    which its JSON serialization cannot write."""
    sets = {k: v for k, v in vars(config).items() if isinstance(v, set | frozenset)}
    if not sets:
        return config
    ready = copy.copy(config)
    for name, value in sets.items():
        setattr(ready, name, sorted(value))
    return ready


def server_coverage_config(
    base: CoverageConfig,
    data_dir: Path,
    server: str,
    core: str | None,
    processes: int,
    contexts: bool,
) -> str:
    """The run's coverage configuration, adjusted for the server process, serialized.

    Everything that decides what is measured (source, branch, omit, plugins, ...) stays
    exactly as the run has it, so the server's data always combines with the tests'.
    ``core``, when given, is the coverage core to measure with (see :mod:`livecov.cores`);
    its workers, forked or spawned, start from this same configuration.
    """
    config = CoverageConfig.deserialize(_json_ready(base).serialize())
    config.core = core or config.core
    config.data_file = str(data_dir / SERVER_DATA_BASENAME)
    config.parallel = True
    config.dynamic_context = None  # livecov switches contexts itself, per request
    # Without per-request contexts, every line is the server's: under live-server, not
    # under "", the test process's context outside any test (see server_process.BOOTSTRAP).
    config.context = None if contexts else DEFAULT_CONTEXT
    config.sigterm = False  # the server handles SIGTERM itself, then saves
    # A gunicorn master imports no app code: its "no data" warnings are only noise.
    config.disable_warnings = sorted({*config.disable_warnings, *_QUIET_WARNINGS})
    if server == "gunicorn" or processes > 1:
        config.patch = sorted({*config.patch, "fork"})  # each worker measures itself
    return config.serialize()
