"""Branches: walk the compiled Python's syntax tree to find, for each ``{% if %}``,
``{% elif %}`` and ``{% for %}``, what is recorded first on each way out of it."""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from typing import Any

from livecov.jinja.recorded import EXIT, decode

PAUSED = 0  # a way on which the template pauses (yield, await) before recording anything


_COMPOUND = (ast.If, ast.For, ast.AsyncFor, ast.While, ast.With, ast.AsyncWith, ast.Try)


_PAUSES = (ast.Yield, ast.YieldFrom, ast.Await)


_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


def _pauses(node: ast.AST) -> list[int]:
    """The Python lines where ``node`` can pause (yield or await) and resume later."""
    return [sub.lineno for sub in ast.walk(node) if isinstance(sub, _PAUSES)]


class _Flow:
    def __init__(self, recorded: dict[int, int]) -> None:
        self.recorded = recorded

    def at(self, stmt: ast.stmt) -> int | None:
        """The value recorded when ``stmt`` starts, if it records one."""
        last = stmt.lineno if isinstance(stmt, _COMPOUND) else (stmt.end_lineno or stmt.lineno)
        for py in range(stmt.lineno, last + 1):
            if py in self.recorded:
                return self.recorded[py]
        return None

    def first(self, stmts: list[ast.stmt], then: Callable[[], set[int]]) -> set[int]:
        """What can be recorded first when ``stmts`` run, followed by ``then``."""
        for index, stmt in enumerate(stmts):
            value = self.at(stmt)
            if value is not None:
                return {value}
            if isinstance(stmt, _FUNCTIONS):
                continue
            if isinstance(stmt, ast.Return):
                return {EXIT}
            rest = functools.partial(self.first, stmts[index + 1 :], then)
            if isinstance(stmt, _COMPOUND):
                return self._compound(stmt, rest)
            if _pauses(stmt):
                return {PAUSED}
        return then()

    def _compound(self, stmt: Any, rest: Callable[[], set[int]]) -> set[int]:
        header = [getattr(stmt, name, None) for name in ("test", "iter")]
        if isinstance(stmt, ast.AsyncFor) or any(_pauses(h) for h in header if h):
            return {PAUSED}
        found = self.first(stmt.body, rest) | self.first(getattr(stmt, "orelse", []), rest)
        for handler in getattr(stmt, "handlers", []):
            found |= self.first(handler.body, rest)
        return found


def find_branches(
    python_source: str, recorded: dict[int, int], kinds: dict[int, str]
) -> dict[int, set[int]]:
    flow = _Flow(recorded)
    found: dict[int, set[int]] = {}
    after_pause: dict[int, set[int]] = {}

    def visit(stmts: list[ast.stmt], then: Callable[[], set[int]]) -> None:
        for index, stmt in enumerate(stmts):
            rest = functools.partial(flow.first, stmts[index + 1 :], then)
            if not isinstance(stmt, (*_COMPOUND, *_FUNCTIONS)):
                for line in _pauses(stmt):
                    after_pause.setdefault(line, set()).update(rest())
            kind = kinds.get(stmt.lineno)
            if isinstance(stmt, ast.If) and kind == "If" and not _pauses(stmt.test):
                ways = flow.first(stmt.body, rest) | flow.first(stmt.orelse, rest)
                found[recorded[stmt.lineno]] = ways
            if isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
                head = flow.at(stmt)
                loop: Callable[[], set[int]] = (
                    rest if head is None else functools.partial(set, [head])
                )
                if kind == "For" and isinstance(stmt, ast.For) and not _pauses(stmt.iter):
                    found[recorded[stmt.lineno]] = flow.first(stmt.body, loop) | rest()
                visit(stmt.body, loop)
                visit(stmt.orelse, rest)
            elif isinstance(stmt, _FUNCTIONS):
                visit(stmt.body, functools.partial(set, [EXIT]))
            else:  # if, try, with: each part goes on to what follows the statement
                for part in ("body", "orelse", "finalbody"):
                    visit(getattr(stmt, part, []), rest)
                for handler in getattr(stmt, "handlers", []):
                    visit(handler.body, rest)

    visit(ast.parse(python_source).body, functools.partial(set, [EXIT]))
    return {line: ways for line, ways in found.items() if _measurable(line, ways, after_pause)}


def _measurable(line: int, ways: set[int], after_pause: dict[int, set[int]]) -> bool:
    """Whether each way out of ``line`` leaves an arc of its own, told from every other."""
    shown = {decode(way) for way in ways}
    return (
        len(shown) == len(ways) > 1
        and PAUSED not in ways
        and line not in shown
        # coverage.py starts the arc after a resumed yield at that yield's Python line:
        # if that number is this line's and leads on to one of its ways, they'd be confused.
        and not after_pause.get(line, set()) & ways
    )
