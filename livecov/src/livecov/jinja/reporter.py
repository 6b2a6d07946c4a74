"""Reporting: the lines of a template that can run, the branches it has."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import coverage
from coverage.exceptions import NotPython

from livecov.jinja.mapping import TemplateMap, build_map
from livecov.jinja.recorded import EXIT, decode
from livecov.jinja.warn import warn


class Reporting(Protocol):
    """What a reporter asks of its plugin (:class:`~livecov.jinja.plugin.JinjaPlugin`, which
    imports this module)."""

    def report_environment(self) -> Any:
        """The Environment that reads templates for reports."""


class JinjaFileReporter(coverage.FileReporter):
    """Reports a template: the lines that can run, the branches it has."""

    def __init__(self, filename: str, plugin: Reporting) -> None:
        super().__init__(filename)
        self._plugin = plugin
        self._map: TemplateMap | None = None
        self._checked = False  # whether the data was checked for a repair

    @property
    def template_map(self) -> TemplateMap:
        if self._map is None:
            import jinja2

            try:
                environment = self._plugin.report_environment()
                self._map = build_map(environment, self.source(), None, self.filename)
            except jinja2.TemplateSyntaxError as error:
                warn(
                    f"{self.filename} is left out of the report: it is not a Jinja template"
                    f" ({error.message}, line {error.lineno})"
                )
                raise NotPython(f"Couldn't parse '{self.filename}' as a Jinja template") from None
        return self._map

    def should_be_python(self) -> bool:
        return False  # a file that is no template is left out (with a warning), not an error

    def source(self) -> str:
        with open(self.filename, encoding="utf-8") as file:
            return file.read()

    def lines(self) -> set[int]:
        return set(self.template_map.statements)

    def arcs(self) -> set[tuple[int, int]]:
        branches = self.template_map.branches
        return {(line, decode(way)) for line, ways in branches.items() for way in ways}

    def exit_counts(self) -> dict[int, int]:
        counts = dict.fromkeys(self.template_map.statements, 1)
        counts.update({line: len(ways) for line, ways in self.template_map.branches.items()})
        return counts

    def translate_arcs(self, arcs: Iterable[tuple[int, int]]) -> set[tuple[int, int]]:
        arcs = list(arcs)
        if not self._checked:  # the first call has the data's own arcs, the later ones not
            self._checked = True
            self._warn_if_unrepaired(arcs)
        return {(start, decode(end)) for start, end in arcs}

    def _warn_if_unrepaired(self, arcs: list[tuple[int, int]]) -> None:
        """Say so when the data still holds Python line numbers (see ``repair_data``).

        In repaired data every arc starts at an entry or at a line some arc ends on; the
        Python line of a resumed ``yield`` is, as a rule, neither.
        """
        ends = {end for _start, end in arcs}
        if any(start > 0 and start not in ends for start, _end in arcs):
            warn(
                f"{self.filename}: the data holds Python line numbers of the compiled"
                " template, so its lines and their tests are wrong in this report; run"
                " `python -m livecov.jinja DATA_FILE` on the data first (livecov's pytest"
                " plugin and `livecov run` do it themselves)"
            )

    def missing_arc_description(
        self, start: int, end: int, executed_arcs: Iterable[tuple[int, int]] | None = None
    ) -> str:
        where = "the end of its block" if end == EXIT else f"line {end}"
        return f"line {start} never went on to {where}"
