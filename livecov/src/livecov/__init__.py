"""livecov: coverage of a live web server under end-to-end tests, folded into one report.

The library API, usable without pytest::

    from livecov import LiveServer, ServerOptions
    with LiveServer(ServerOptions(app="flaskr:create_app"), coverage_config) as server:
        ...  # drive server.url
    server.data_files  # the server's coverage data, beside the run's data file

``livecov run -- COMMAND`` (:mod:`livecov.runner`) does the whole pipeline.

PYTEST_DONT_REWRITE: coverage.py imports this package (its ``livecov.jinja`` plugin) before
pytest starts, so pytest could not rewrite its asserts and would warn on every run; the
plugin has none a test could need rewritten.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livecov.errors import (
        AppLoadError,
        ConfigError,
        CoverageLostError,
        LivecovError,
        ServerStartError,
    )
    from livecov.live_server import LiveServer, ServerOptions

# Imported on first use (PEP 562): the server process imports livecov.server.serve, hence
# this package, and must not pay for the test process's side (subprocess, coverage, ...).
_LAZY = {
    "AppLoadError": "livecov.errors",
    "ConfigError": "livecov.errors",
    "CoverageLostError": "livecov.errors",
    "LivecovError": "livecov.errors",
    "ServerStartError": "livecov.errors",
    "LiveServer": "livecov.live_server",
    "ServerOptions": "livecov.live_server",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'livecov' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_LAZY[name]), name)


__version__ = "0.1.0"

__all__ = [
    "AppLoadError",
    "ConfigError",
    "CoverageLostError",
    "LiveServer",
    "LivecovError",
    "ServerOptions",
    "ServerStartError",
    "__version__",
]
