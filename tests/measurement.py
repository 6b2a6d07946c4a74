"""Keep a process's own coverage measurement saving while its tests build Coverage objects.

coverage.py measures subprocesses (``patch = subprocess``: pytest-xdist's workers, here)
with a measurement it starts itself, and saves that at exit. But building any other
``coverage.Coverage`` in such a process tells coverage.py that "this process is already
coverage-aware": it turns the automatic measurement's saving off, and the worker's data,
every test it ran, is silently lost. livecov's tests build Coverage objects on purpose
(to read a configuration, to analyse a file, to merge data); serially they are harmless,
since ``coverage run`` saves its own measurement whatever happens.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import coverage


@contextmanager
def keep_process_measurement_saving() -> Iterator[None]:
    """Within this block, Coverage objects may be built; the process's data is still saved."""
    automatic = getattr(coverage.process_startup, "coverage", None)
    saving = automatic is not None and automatic._auto_save
    try:
        yield
    finally:
        if saving:
            automatic._auto_save = True
