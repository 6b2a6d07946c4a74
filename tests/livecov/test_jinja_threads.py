"""livecov.jinja when several threads render a template for the first time at once, as a
threaded server's workers do on a page's first requests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import coverage

from livecov.jinja.plugin import JinjaPlugin

THREADS = 8
RUNS = 6

BASE = """\
<html><head><title>{% block title %}t{% endblock %}</title></head>
<body>{% block body %}{% endblock %}</body></html>
"""

PAGE = """\
{% extends "base.html" %}
{% block body %}
{% for x in items %}
  {% if x % 2 %}<p>{{ x }} odd</p>{% else %}<p>{{ x }} even</p>{% endif %}
{% endfor %}
{% endblock %}
"""

RENDER_AT_ONCE = f"""\
import threading
import jinja2

env = jinja2.Environment(loader=jinja2.FileSystemLoader("templates"))
start = threading.Barrier({THREADS})


def render(i):
    start.wait()
    for k in range(20):
        env.get_template(f"page{{(i + k) % 6}}.html").render(items=range(10))


threads = [threading.Thread(target=render, args=(i,)) for i in range({THREADS})]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def test_threads_entering_a_template_at_once_measure_it_without_crashing(
    tmp_path: Path,
) -> None:
    # coverage.py's C tracer keeps the file tracer it was given without a reference of its
    # own; when two threads enter a file first at once, the second's answer frees the first's.
    # Before the plugin kept one tracer per file, most of these runs died of a segfault.
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "base.html").write_text(BASE)
    for number in range(6):
        (tmp_path / "templates" / f"page{number}.html").write_text(PAGE)
    (tmp_path / "render.py").write_text(RENDER_AT_ONCE)
    (tmp_path / ".coveragerc").write_text("[run]\nplugins = livecov.jinja\nsource = .\n")

    for run in range(RUNS):
        done = subprocess.run(
            [sys.executable, "-m", "coverage", "run", "render.py"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"run {run}: status {done.returncode}\n{done.stderr}"

    data = coverage.CoverageData(str(tmp_path / ".coverage"))
    data.read()
    for number in range(6):
        assert data.lines(str(tmp_path / "templates" / f"page{number}.html")) == [1, 3, 4]
    assert data.lines(str(tmp_path / "templates" / "base.html")) == [1, 2]


def test_the_plugin_gives_one_tracer_per_file() -> None:
    plugin = JinjaPlugin({})
    tracer = plugin.file_tracer("/app/templates/index.html")
    assert tracer is not None
    assert plugin.file_tracer("/app/templates/index.html") is tracer
    assert plugin.file_tracer("/app/templates/other.html") is not tracer
