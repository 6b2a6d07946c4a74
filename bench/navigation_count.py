"""A pytest plugin for bench/browser_floor.py: how many pages each browser test opens.

Counts the navigations of the ``page`` fixture's main frame to the live server during each
test and writes them, by test id, as JSON to ``$NAVIGATION_COUNT_FILE`` at the end.
Used as ``PYTHONPATH=bench pytest tests/e2e -p navigation_count``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest

_counts: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _count_navigations(request: pytest.FixtureRequest) -> Iterator[None]:
    if "page" not in request.fixturenames:
        yield
        return
    page = request.getfixturevalue("page")
    seen = [0]

    def navigated(frame) -> None:
        if frame == page.main_frame and frame.url.startswith("http"):
            seen[0] += 1

    page.on("framenavigated", navigated)
    yield
    page.remove_listener("framenavigated", navigated)
    _counts[request.node.nodeid] = seen[0]


def pytest_sessionfinish(session: pytest.Session) -> None:
    with open(os.environ["NAVIGATION_COUNT_FILE"], "w") as out:
        json.dump(_counts, out)
