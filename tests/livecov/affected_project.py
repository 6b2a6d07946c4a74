"""A throw-away git project with coverage data of known tests, for the ``affected`` tests."""

from __future__ import annotations

from pathlib import Path

import coverage

from livecov.affected.record import record
from livecov.affected.selection import Selection, select
from tests import projects

VIEWS = '''\
"""Views."""

import json

LIMIT = 3
NAMES = ("a", "b")


def view(x):
    # how big?
    if x > LIMIT:
        return "big"
    return "small"


def other():
    return 1


@decorate
def routed():
    return 2


class Thing:
    size = 1

    def method(self):
        return self.size
'''

HELPERS = """\
from views import LIMIT


def double(y):
    total = y * 2
    return total + LIMIT


def start():
    return 0
"""

PAGE = """\
{% extends "base.html" %}
{% block content %}
  <h1>{{ title }}</h1>
  {% if big %}
    <p>big</p>
  {% endif %}
{% endblock %}
<footer>end</footer>
"""

TESTS = """\
def test_big(): pass
def test_small(): pass
"""

JINJA = "livecov.jinja.JinjaPlugin"  # the file tracer of templates measured by livecov.jinja

# Which test ran which lines: "" and "live-server" are outside any test (import, start-up).
CONTEXTS = {
    "": {"views.py": [1, 3, 5, 6, 9, 16, 20, 25, 26, 28], "helpers.py": [1, 4, 9]},
    "tests/test_views.py::test_big|run": {
        "views.py": [11, 12],
        "templates/page.html": [2, 3, 4, 5, 8],
    },
    "tests/test_views.py::test_small|setup": {"views.py": [11, 13]},
    "tests/test_views.py::test_small|run": {"templates/page.html": [2, 3, 4, 8]},
    "tests/test_other.py::test_other[x]|run": {"views.py": [17]},
    "tests/e2e/test_flows.py::test_flow[chromium]": {"helpers.py": [5, 6], "views.py": [29]},
    "live-server": {"helpers.py": [10]},
}
ALL = {
    "tests/test_views.py::test_big",
    "tests/test_views.py::test_small",
    "tests/test_other.py::test_other[x]",
    "tests/e2e/test_flows.py::test_flow[chromium]",
}


class Project:
    """Files, a commit, coverage data recorded at it; change files and select."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / ".coverage"
        files = {
            "views.py": VIEWS,
            "helpers.py": HELPERS,
            "templates/page.html": PAGE,
            "tests/test_views.py": TESTS,
            "tests/test_other.py": "def test_other(): pass\n",
            "tests/e2e/test_flows.py": "def test_flow(): pass\n",
            "tests/conftest.py": "",
            "static/style.css": "body {}\n",
            ".gitignore": ".coverage\n",
        }
        for name, text in files.items():
            self.write(name, text)
        self.commit()

    def git(self, *args: str) -> str:
        return projects.git(self.root, *args)

    def commit(self) -> str:
        return projects.commit_all(self.root)

    def write(self, name: str, text: str) -> None:
        projects.write(self.root / name, text)

    def measure(self, contexts: dict[str, dict[str, list[int]]] = CONTEXTS, at: Path | None = None):
        """Write the coverage data (files under ``at``, default the root) and record it."""
        self.data.unlink(missing_ok=True)
        data = coverage.CoverageData(str(self.data))
        for context, files in contexts.items():
            data.set_context(context)
            data.add_lines({str((at or self.root) / n): lines for n, lines in files.items()})
        templates = {str((at or self.root) / n) for f in contexts.values() for n in f}
        data.add_file_tracers({n: JINJA for n in templates if n.endswith(".html")})
        data.write()
        return record(self.data, self.root)

    def edit(self, name: str, old: str, new: str) -> None:
        projects.edit(self.root / name, old, new)

    def select(self, base: str | None = None, **kwargs) -> Selection:
        return select(self.data, base, where=self.root, **kwargs)
