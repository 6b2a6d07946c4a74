"""The plugin: claims template files, chooses the C tracer, finds the environment that
reads templates for reports."""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Iterator
from typing import Any

import coverage
from coverage.exceptions import ConfigError

from livecov.jinja.reporter import JinjaFileReporter
from livecov.jinja.tracer import JinjaFileTracer
from livecov.jinja.warn import warn

DEFAULT_EXTENSIONS = ("html", "htm", "xml", "j2", "jinja", "jinja2")


class JinjaPlugin(coverage.CoveragePlugin):
    """Claims template files, maps their compiled code's lines back, reports them."""

    def __init__(self, options: dict[str, Any]) -> None:
        extensions = options.get("template_extensions", DEFAULT_EXTENSIONS)
        if isinstance(extensions, str):
            extensions = extensions.replace(",", " ").split()
        self.extensions = tuple("." + ext.lstrip(".").lower() for ext in extensions)
        self.environment_spec: str | None = options.get("environment")
        self.branch = False
        self._environment: Any = None
        self._unfound_packages: list[str] = []  # said once measuring starts
        self._tracers: dict[str, JinjaFileTracer] = {}

    def configure(self, config: Any) -> None:
        """Choose the C tracer: it is coverage.py's only core that runs file tracers.

        Another core chosen (``core``, ``COVERAGE_CORE``, ``timid``) is overruled in one line
        on stderr, as livecov's server does: templates never silently leave the report.
        """
        self.branch = bool(config.get_option("run:branch"))
        if not _c_tracer_available():
            raise ConfigError(
                "livecov.jinja measures templates with coverage.py's C tracer, which is not"
                " installed here: install coverage with its C extension (a wheel for this"
                " platform), or remove the plugin"
            )
        requested = "pytrace" if config.get_option("run:timid") else config.get_option("run:core")
        if requested not in (None, "ctrace"):
            warn(
                f"coverage core {requested} runs no plugins: templates are measured with"
                " the C tracer (core ctrace) instead"
            )
        config.set_option("run:timid", False)
        config.set_option("run:core", "ctrace")
        self._unfound_packages = _add_package_folders(config)

    def file_tracer(self, filename: str) -> JinjaFileTracer | None:
        if self._unfound_packages:  # measuring has started (no report asks a file tracer)
            for name in self._unfound_packages:
                warn(
                    f"source names the package {name!r}, which is not importable when"
                    " coverage starts, so its templates are not measured in this process:"
                    f' name its folder instead (source = ["src/{name.replace(".", "/")}"],'
                    " --cov=src/...)"
                )
            self._unfound_packages = []
        if filename.lower().endswith(self.extensions):
            # One tracer per file, kept here: coverage.py's C tracer holds the tracer it was
            # given without a reference of its own, and when two threads enter a template
            # for the first time at once, the second's answer replaces the first's in its
            # cache and frees it while the first thread still calls it (a segfault).
            return self._tracers.setdefault(filename, JinjaFileTracer(filename, self))
        return None

    def file_reporter(self, filename: str) -> JinjaFileReporter:
        return JinjaFileReporter(filename, self)

    def find_executable_files(self, src_dir: str) -> Iterator[str]:
        for folder, _dirs, files in os.walk(src_dir):
            for name in files:
                if name.lower().endswith(self.extensions):
                    yield os.path.join(folder, name)

    def sys_info(self) -> list[tuple[str, Any]]:
        return [("environment", self.environment_spec or "jinja2.Environment()")]

    def report_environment(self) -> Any:
        """The Environment that reads templates for reports (no app runs then)."""
        if self._environment is None:
            self._environment = load_environment(self.environment_spec)
        return self._environment


def _add_package_folders(config: Any) -> list[str]:
    """Measure the templates inside the packages ``source`` names (``--cov=myapp``).

    coverage.py counts a file as inside a source *package* by the module name of the code
    running it, and a template's compiled code has none: its lines would never be recorded,
    and the report would show it at 0 % as if no test rendered it. So the folder of each such
    package is added to ``source``, where a template is measured by its file name. Returns
    the packages that cannot be found (not importable yet), to be said when measuring starts.
    """
    source = list(config.get_option("run:source") or [])
    names = [entry for entry in source if not os.path.isdir(entry)]
    names += config.get_option("run:source_pkgs") or []
    found = {name: _package_folder(name) for name in names}
    folders = [folder for folder in found.values() if folder]
    if folders:
        config.set_option("run:source", source + folders)
    return [name for name, folder in found.items() if folder is None]


def _package_folder(name: str) -> str | None:
    """The folder of package ``name``; "" for a plain module (no templates inside); None
    when it cannot be found. Nothing is imported (the app's lines must run measured): the
    top-level package is found, and a dotted name's folders are read below its folder."""
    top, _, rest = name.partition(".")
    spec = importlib.util.find_spec(top)
    if spec is None:
        return None
    locations = list(spec.submodule_search_locations or [])
    if not locations:
        return ""
    folder = os.path.join(locations[0], *rest.split(".")) if rest else locations[0]
    return folder if os.path.isdir(folder) else ""


def _c_tracer_available() -> bool:
    try:
        from coverage.tracer import CTracer  # noqa: F401
    except ImportError:
        return False
    return True


def load_environment(spec: str | None) -> Any:
    """``MODULE:NAME`` of an Environment, a Flask app, or a function returning either."""
    import jinja2

    if not spec:
        return jinja2.Environment()  # noqa: S701 - it only parses, never renders
    module_name, _, attribute = spec.partition(":")
    try:
        value: Any = importlib.import_module(module_name)
        for part in attribute.split(".") if attribute else ():
            value = getattr(value, part)
    except (ImportError, AttributeError) as error:
        raise ConfigError(
            f"livecov.jinja: environment = {spec!r} cannot be loaded ({error}):"
            " give MODULE:NAME of a jinja2.Environment, of a Flask app, or of a function"
            " returning one"
        ) from None
    if not isinstance(value, jinja2.Environment) and not hasattr(value, "jinja_env"):
        value = value() if callable(value) else value
    value = getattr(value, "jinja_env", value)  # a Flask app
    if not isinstance(value, jinja2.Environment):
        raise ConfigError(
            f"livecov.jinja: environment = {spec!r} is a {type(value).__name__},"
            " not a jinja2.Environment or a Flask app"
        )
    return value
