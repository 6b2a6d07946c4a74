"""What enabling the plugin imports: livecov and the livecov.jinja package only, never Jinja2.

coverage.py imports a plugin before it starts measuring, so in a measured process these
modules' top-level lines run unmeasured: the last test runs them again, as runpy does.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys

import pytest

import livecov
import livecov.jinja

# What `import livecov.jinja` (coverage.py loading the plugin) loads of livecov: not the
# repair step (livecov.jinja.repair), nor anything else of livecov.
PLUGIN_MODULES = [
    "livecov",
    "livecov.jinja",
    "livecov.jinja.branches",
    "livecov.jinja.mapping",
    "livecov.jinja.plugin",
    "livecov.jinja.recorded",
    "livecov.jinja.reporter",
    "livecov.jinja.tracer",
    "livecov.jinja.warn",
]

IMPORTED = """\
import sys, livecov.jinja
print(sorted(m for m in sys.modules if m.startswith(("livecov", "jinja2", "flask"))))
"""


def test_enabling_the_plugin_imports_neither_jinja2_nor_the_rest_of_livecov() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    done = subprocess.run(
        [sys.executable, "-c", IMPORTED], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == str(PLUGIN_MODULES)


def test_the_package_exports_load_on_first_use() -> None:
    from livecov.live_server import LiveServer

    assert livecov.LiveServer is LiveServer
    assert "LiveServer" in livecov.__all__
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        livecov.nothing_here  # noqa: B018


def test_every_module_the_plugin_loads_runs_on_its_own() -> None:
    package = runpy.run_path(livecov.__file__)
    assert package["__version__"] == livecov.__version__
    for name in PLUGIN_MODULES[2:]:
        module = runpy.run_path(str(sys.modules[name].__file__))
        assert module["__doc__"]
    plugin = runpy.run_path(livecov.jinja.__file__)
    assert plugin["PLUGIN_NAME"] == "livecov.jinja.JinjaPlugin"
    assert callable(plugin["coverage_init"])
