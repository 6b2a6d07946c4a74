"""What to install for a server that is missing: the extra of livecov that brings it, from
where this livecov was installed (a folder, as the README installs it; a VCS or archive URL;
a package index). Imported by the server process before it serves (:mod:`serve`, and
:mod:`build` for gunicorn's workers of an ASGI app); imports nothing of livecov but errors.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import urllib.parse

from livecov.errors import ConfigError

# The module each backend needs; the extra of livecov that brings it has its name too.
BACKEND_MODULES = {name: name for name in ("werkzeug", "waitress", "gunicorn", "uvicorn")}


def require_backend(server: str) -> None:
    """Raise ConfigError, naming what to install, when the backend's package is missing."""
    if importlib.util.find_spec(BACKEND_MODULES[server]) is None:
        raise ConfigError(
            f"the {server} server is not installed: {install_command(server)} "
            "(or choose another --server)"
        )


def install_command(extra: str) -> str:
    """The pip command adding livecov's ``extra`` from where this livecov was installed."""
    return install_command_for(extra, _direct_url_of("livecov"))


def install_command_for(extra: str, direct_url: str | None) -> str:
    """The pip command adding ``extra`` to a livecov installed as ``direct_url`` says.

    ``direct_url`` is the distribution's ``direct_url.json`` (PEP 610): a folder (the
    README's way), editable or not, is named by its path, a VCS or archive URL by that
    URL, and a package index (no such file: None) by the name alone.
    """
    origin = json.loads(direct_url or "{}")
    url = origin.get("url", "")
    if url.startswith("file://") and "dir_info" in origin:
        path = urllib.parse.unquote(urllib.parse.urlsplit(url).path)
        editable = "-e " if origin["dir_info"].get("editable") else ""
        return f"pip install {editable}'{path}[{extra}]'"
    if "vcs_info" in origin:
        url = f"{origin['vcs_info']['vcs']}+{url}"
    if url:
        return f"pip install 'livecov[{extra}] @ {url}'"
    return f"pip install 'livecov[{extra}]'"


def _direct_url_of(distribution: str) -> str | None:
    try:
        return importlib.metadata.distribution(distribution).read_text("direct_url.json")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree (PYTHONPATH)
        return None


def require_asgi_workers() -> None:
    """Raise ConfigError, naming what to install, when gunicorn cannot run an ASGI app's
    workers: it runs uvicorn-worker's, which livecov's uvicorn extra brings."""
    try:
        import uvicorn_worker  # noqa: F401 - imported here to be told missing; used next
    except ImportError:  # it, or uvicorn, which it imports
        raise ConfigError(
            "gunicorn serves an ASGI app through uvicorn-worker, which is not installed: "
            f"{install_command('uvicorn')} (or leave the server out: uvicorn serves it alone)"
        ) from None
