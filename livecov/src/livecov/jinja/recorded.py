"""What the plugin records for a template: template line numbers, markers of blank output,
and exits; and how reports read them back (:func:`decode`)."""

from __future__ import annotations

NO_LINES = (-1, -1)  # line_number_range(): nothing to record for this Python line
EXIT = -1  # an arc's end: the end of the block, macro or template


# Blank output (the whitespace between tags) renders no template line. When branches are
# measured it is recorded as a negative marker of the line where that blank ends, so that
# an arc can end on it: coverage.py ignores negative numbers as lines and contexts, and
# reports decode them (decode()).
MARKER_BASE = 10_000_000


def marker(line: int) -> int:
    return -(MARKER_BASE + line)


def decode(value: int) -> int:
    """A recorded arc end as reports show it: a template line, or EXIT."""
    if value <= -MARKER_BASE:
        return -value - MARKER_BASE
    return EXIT if value < 0 else value
