"""Measuring: turn a line of a compiled template into the template lines it renders."""

from __future__ import annotations

from types import CodeType, FrameType
from typing import Any, Protocol

import coverage

from livecov.jinja.mapping import TemplateMap, build_map
from livecov.jinja.recorded import NO_LINES
from livecov.jinja.warn import warn


class Measuring(Protocol):
    """What a tracer reads of its plugin (:class:`~livecov.jinja.plugin.JinjaPlugin`, which
    imports this module): whether branches are measured, known once coverage.py configured it."""

    branch: bool


class JinjaFileTracer(coverage.FileTracer):
    """Turns a line of a compiled template into the template lines it renders."""

    def __init__(self, filename: str, plugin: Measuring) -> None:
        self._filename = filename
        self._plugin = plugin
        self._maps: dict[str, TemplateMap | None] = {}
        # per code object (root, a block, a macro): Python line -> template lines
        self._ranges: dict[CodeType, dict[int, tuple[int, int]]] = {}

    def source_filename(self) -> str:
        return self._filename

    def line_number_range(self, frame: FrameType) -> tuple[int, int]:
        # Called for every line a template runs: one dict lookup when all is known.
        ranges = self._ranges.get(frame.f_code)
        if ranges is None:
            ranges = self._ranges[frame.f_code] = self._ranges_for(frame.f_globals)
        return ranges.get(frame.f_lineno, NO_LINES)

    def _ranges_for(self, module: dict[str, Any]) -> dict[int, tuple[int, int]]:
        debug_info = module.get("debug_info")
        if not isinstance(debug_info, str):
            return {}  # the compiled module's own top level runs no template line
        if debug_info not in self._maps:
            self._maps[debug_info] = self._map_for(module, debug_info)
        template_map = self._maps[debug_info]
        if template_map is None:
            return {}
        return template_map.ranges_with_markers if self._plugin.branch else template_map.ranges

    def _map_for(self, module: dict[str, Any], debug_info: str) -> TemplateMap | None:
        try:
            with open(self._filename, encoding="utf-8") as file:
                source = file.read()
            template_map = build_map(
                module["environment"], source, module.get("name"), self._filename, False
            )
        except Exception as error:
            warn(f"{self._filename} is not measured: it cannot be compiled again ({error})")
            return None
        if template_map.debug_info != debug_info:
            warn(
                f"{self._filename} is not measured until it is loaded again: it changed"
                " on disk after it was compiled"
            )
            return None
        return template_map
