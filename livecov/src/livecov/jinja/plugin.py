"""The plugin: claims template files, chooses the C tracer, finds the environment that
reads templates for reports."""

from __future__ import annotations

import importlib
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

    def file_tracer(self, filename: str) -> JinjaFileTracer | None:
        if filename.lower().endswith(self.extensions):
            return JinjaFileTracer(filename, self)
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
