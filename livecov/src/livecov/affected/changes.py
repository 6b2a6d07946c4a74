"""Which old lines and which new lines a change touches, and the tests that ran them.

Shared by the Python and the template analyses: a :class:`Scope` (a function, a block, the
whole template) and the tests whose contexts ran its lines; :class:`ReachesEveryTest` when a
change can reach any test.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from livecov.protocol import DEFAULT_CONTEXT as SERVER_CONTEXT

PHASE_SUFFIXES = ("|setup", "|run", "|teardown")


def node_id_of(context: str) -> str | None:
    """The pytest node id a context names, or None for a context outside any test."""
    for suffix in PHASE_SUFFIXES:
        if context.endswith(suffix):
            context = context[: -len(suffix)]
            break
    return context if "::" in context else None


class ReachesEveryTest(Exception):
    """A change can reach any test: every test is selected, and the message says why.

    Control flow, not an error: raised deep in the analyses (a line run at import, a file
    that does not compile), caught for each changed file by
    :func:`livecov.affected.selection.select`, which never lets it out; its message becomes
    one of ``Selection.everything``'s reasons. livecov's errors are in :mod:`livecov.errors`.
    """


@dataclass
class Scope:
    name: str  # qualified: Class.method, outer.inner
    first: int  # first line of the body
    last: int


def innermost(scopes: Sequence[Scope], line: int) -> list[Scope]:
    """The scopes holding ``line`` in their body, innermost first."""
    holding = [s for s in scopes if s.first <= line <= s.last]
    return sorted(holding, key=lambda s: s.last - s.first)


@dataclass
class Touched:
    in_place: list[int] = field(default_factory=list)  # changed where they are, same indent
    old: list[int] = field(default_factory=list)  # other lines changed or removed (measured)
    new: list[int] = field(default_factory=list)  # other lines added (working tree)


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def touched_lines(old: str, new: str, ignored_old: set[int], ignored_new: set[int]) -> Touched:
    """What the change touches. Only a line changed in place, with its indentation, keeps
    the shape of the code around it; anything else may change what runs around it."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(None, old_lines, new_lines, autojunk=False)
    touched = Touched()
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        in_place = tag == "replace" and i2 - i1 == j2 - j1
        for i, j in zip(range(i1, i2), range(j1, j2), strict=False):
            trivia = (i + 1 in ignored_old, j + 1 in ignored_new)
            if trivia == (True, True):
                continue
            if (
                in_place
                and trivia == (False, False)
                and _indent(old_lines[i]) == _indent(new_lines[j])
            ):
                touched.in_place.append(i + 1)
            else:
                in_place = False
        if not in_place:
            touched.in_place = [n for n in touched.in_place if not i1 < n <= i2]
            touched.old.extend(n for n in range(i1 + 1, i2 + 1) if n not in ignored_old)
            touched.new.extend(n for n in range(j1 + 1, j2 + 1) if n not in ignored_new)
    return touched


class LinesRun(dict[int, list[str]]):
    """The contexts that ran each line of one file, and the tests that used the live server:
    what a line the server ran outside any test's request (at its start-up) can reach."""

    def __init__(
        self,
        by_line: dict[int, list[str]],
        server_tests: frozenset[str],
        foreign: frozenset[str] = frozenset(),
        shared: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__(by_line)
        self.server_tests = server_tests
        self.foreign = foreign  # test names no test file here holds (pytest inside a test)
        # One such test that used a live server: a start-up line can reach its outer test.
        self.foreign_server_test = min(server_tests & foreign, default=None)
        # Test phases that set up or tore down a fixture other tests use too.
        self.shared = shared


def tests_that_ran(lines: LinesRun, numbers: Iterable[int], where: str) -> Iterator[str]:
    """The tests whose contexts ran any of ``numbers``; for a line the live server ran outside
    any test's request, every test that used the server; every test if something else ran
    one (the test process outside a test: at import; a test phase that set up or tore down
    a fixture other tests use too, a session fixture's)."""
    for number in numbers:
        for context in lines.get(number, ()):
            test = node_id_of(context)
            if test in lines.foreign or (context == SERVER_CONTEXT and lines.foreign_server_test):
                name = test or lines.foreign_server_test
                raise ReachesEveryTest(
                    f"{where} ran for {name}, which no test file here holds (a pytest run"
                    " inside a test: which test started it is not recorded)"
                )
            if context in lines.shared:
                raise ReachesEveryTest(
                    f"{where} ran in {context}, which set up or tore down a fixture other"
                    " tests use too (scope session, package, module or class)"
                )
            if test is not None:
                yield test
            elif context == SERVER_CONTEXT and lines.server_tests:
                # Start-up (the app factory, the hooks) shapes what the server answers to
                # the tests that use it, and to no other test.
                yield from sorted(lines.server_tests)
            else:
                raise ReachesEveryTest(f"{where} ran outside any test ({context or 'no context'})")


def scope_tests(path: str, scope: Scope, lines: LinesRun, what: str) -> Iterator[tuple[str, str]]:
    span = range(scope.first, scope.last + 1)
    for test in tests_that_ran(lines, span, f"{path}:{scope.first}-{scope.last}"):
        yield test, f"{what} (in {scope.name})"
