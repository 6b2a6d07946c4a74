"""What enabling the plugin imports: livecov and livecov.jinja only, never Jinja2.

coverage.py imports a plugin before it starts measuring, so in a measured process these
two modules' top-level lines run unmeasured: the last test runs them again, as runpy does.
"""

from __future__ import annotations

import os
import runpy
import subprocess
import sys

import pytest

import livecov
import livecov.jinja

IMPORTED = """\
import sys, livecov.jinja
print(sorted(m for m in sys.modules if m.startswith(("livecov", "jinja2", "flask"))))
"""


def test_enabling_the_plugin_imports_neither_jinja2_nor_the_rest_of_livecov() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    done = subprocess.run(
        [sys.executable, "-c", IMPORTED], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == "['livecov', 'livecov.jinja']"


def test_the_package_exports_load_on_first_use() -> None:
    from livecov.live_server import LiveServer

    assert livecov.LiveServer is LiveServer
    assert "LiveServer" in livecov.__all__
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        livecov.nothing_here  # noqa: B018


def test_both_modules_run_on_their_own() -> None:
    package = runpy.run_path(livecov.__file__)
    assert package["__version__"] == livecov.__version__
    plugin = runpy.run_path(livecov.jinja.__file__)
    assert plugin["PLUGIN_NAME"] == "livecov.jinja.JinjaPlugin"
    assert callable(plugin["coverage_init"])
