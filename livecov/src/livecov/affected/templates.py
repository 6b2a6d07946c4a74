"""Templates: the changed lines, the blocks and macros holding them, the whole template."""

from __future__ import annotations

import re
from collections.abc import Iterator

from livecov.affected.changes import (
    LinesRun,
    Scope,
    innermost,
    scope_tests,
    tests_that_ran,
    touched_lines,
)

_TAG = re.compile(r"{%[-+]?\s*(end)?(block|macro|call|filter)\b\s*(\w*)")


def _template_regions(text: str) -> list[Scope]:
    """``{% block name %}`` ... ``{% endblock %}`` (and macros) with their lines."""
    regions: list[Scope] = []
    open_tags: list[tuple[str, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        for end, kind, name in _TAG.findall(line):
            if not end:
                open_tags.append((f"{kind} {name}".strip(), number))
            elif open_tags:
                label, first = open_tags.pop()
                regions.append(Scope(label, first, number))
    return regions


def _template_compiles(text: str) -> bool:
    try:
        import jinja2
    except ImportError:  # pragma: no cover - Jinja2 is there whenever templates are measured
        return True
    try:
        jinja2.Environment(autoescape=True).parse(text)
    except jinja2.TemplateSyntaxError:
        return False
    return True


def template_changes(
    path: str, old: str, new: str, lines: LinesRun, jinja: bool
) -> Iterator[tuple[str, str]]:
    """A template's changes; ``jinja``: measured by a Jinja plugin, so Jinja can parse it."""
    whole = Scope("the template", 1, len(old.splitlines()))
    if jinja and not _template_compiles(new):
        yield from scope_tests(path, whole, lines, f"{path} does not compile")
        return
    old_regions, new_regions = _template_regions(old), _template_regions(new)
    by_name = {r.name: r for r in old_regions}
    touched = touched_lines(old, new, set(), set())
    for number in touched.in_place + touched.old:
        where = f"{path}:{number}"
        if number in touched.in_place and number in lines:
            for test in tests_that_ran(lines, [number], where):
                yield test, f"{where} changed"
        else:
            holding = [*innermost(old_regions, number), whole]
            yield from scope_tests(path, holding[0], lines, f"{where} changed")
    for number in touched.new:
        holding = [by_name[r.name] for r in innermost(new_regions, number) if r.name in by_name]
        scope = [*holding, whole][0]
        yield from scope_tests(path, scope, lines, f"{path}:{number} added")
