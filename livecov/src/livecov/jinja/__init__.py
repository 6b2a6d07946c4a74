"""livecov.jinja: a coverage.py plugin that measures Jinja2 templates line by line.

Enable it with ``[tool.coverage.run] plugins = ["livecov.jinja"]``. It measures templates
rendered anywhere coverage.py measures: unit tests, ``coverage run``, livecov's server.
How the mapping works, which template lines count, branches and limits: docs/jinja.md.

Jinja2 is imported only when a template is measured or reported, never when livecov is
imported: livecov's only runtime dependency stays coverage.py.

The package: ``plugin`` (the plugin coverage.py loads: it claims templates and chooses the
C tracer) with ``tracer`` (measuring) and ``reporter`` (reports); both read ``mapping``,
which compiles a template again to map its Python lines to template lines, with
``branches`` (the ways out of each ``{% if %}`` and ``{% for %}``) and ``recorded`` (what is
recorded for a template line). ``repair`` is the step after combining (``python -m
livecov.jinja``), and what livecov registers to run on the data it combines.
"""

from __future__ import annotations

from typing import Any

from livecov.jinja.plugin import JinjaPlugin

PLUGIN_NAME = "livecov.jinja.JinjaPlugin"  # how coverage.py names it in its data


def coverage_init(reg: Any, options: dict[str, Any]) -> None:
    plugin = JinjaPlugin(options)
    reg.add_file_tracer(plugin)
    reg.add_configurer(plugin)
