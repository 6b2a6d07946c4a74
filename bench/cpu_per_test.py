"""A pytest plugin: the CPU time each test costs, its own process's and its children's.

Per test (set-up, call and tear-down), the growth of ``getrusage`` for this process and
for its waited-for children (the processes it starts: livecov, servers, inner pytest
runs, Chromium; a grandchild counts once its parent has waited for it). Written as JSON,
by test id, to ``$CPU_PER_TEST_FILE`` at the end. Run serially (``-n 0``): under xdist
each worker would write its own. Used as

    PYTHONPATH=bench CPU_PER_TEST_FILE=cpu.json coverage run -m pytest -n 0 \\
        --livecov-test-contexts -p cpu_per_test
"""

from __future__ import annotations

import json
import os
import resource
from collections.abc import Iterator

import pytest

_cpu: dict[str, float] = {}


def _used() -> float:
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        total += usage.ru_utime + usage.ru_stime
    return total


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    before = _used()
    try:
        return (yield)
    finally:
        _cpu[item.nodeid] = _used() - before


def pytest_sessionfinish(session: pytest.Session) -> None:
    with open(os.environ["CPU_PER_TEST_FILE"], "w") as out:
        json.dump(_cpu, out, indent=0)
