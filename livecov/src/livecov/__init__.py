"""livecov: coverage of a live web server under end-to-end tests, folded into one report.

The library API, usable without pytest::

    from livecov import LiveServer, ServerOptions
    with LiveServer(ServerOptions(app="flaskr:create_app"), coverage_config) as server:
        ...  # drive server.url
    server.data_files  # coverage data written by the server

``livecov run -- COMMAND`` (:mod:`livecov.runner`) does the whole pipeline.
"""

from livecov.errors import (
    AppLoadError,
    ConfigError,
    CoverageLostError,
    LivecovError,
    ServerStartError,
)
from livecov.live_server import LiveServer, ServerOptions

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
