"""The map: compile the template again, as its environment does, with a code generator that
notes, for each line of Python it writes, the template lines it stands for."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from livecov.jinja.branches import find_branches
from livecov.jinja.recorded import marker


@dataclass
class TemplateMap:
    """What a template's compiled Python runs, in the template's own line numbers."""

    debug_info: str  # Jinja's own line table: tells whether the map fits compiled code
    # Python line of the compiled module -> the template lines it renders (first, last)
    ranges: dict[int, tuple[int, int]]
    # the same, and blank output as a marker (when branches are measured; see marker)
    ranges_with_markers: dict[int, tuple[int, int]]
    statements: set[int]
    # branch line -> its ways out, each as the value recorded when that way is taken
    branches: dict[int, set[int]]


def _text_lines(first_line: int, text: str) -> set[int]:
    """The lines of a run of template text that hold some non-blank text."""
    return {first_line + n for n, part in enumerate(text.split("\n")) if part.strip()}


def _raw_only_lines(environment: Any, source: str) -> set[int]:
    """Lines whose only text is inside ``{% raw %}``: they count as literal, like comments."""
    raw: set[int] = set()
    other: set[int] = set()
    inside_raw = False
    for lineno, kind, value in environment.lex(source):
        if kind in ("raw_begin", "raw_end"):
            inside_raw = kind == "raw_begin"
        elif kind == "data":
            (raw if inside_raw else other).update(_text_lines(lineno, value))
        elif not kind.startswith("comment"):
            other.add(lineno)
    return raw - other


def _mapping_generator(base: type) -> type:
    # Made for each build (it costs microseconds), not cached: the first build may run
    # inside coverage.py's tracer, where nothing is measured.
    from jinja2 import nodes

    class MappingCodeGenerator(base):  # type: ignore[misc]
        """The environment's code generator, writing the same code, noting template lines."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.livecov_raw_only: set[int] = set()
            self.livecov_lines: dict[int, set[int]] = {}
            self.livecov_markers: dict[int, int] = {}
            self.livecov_kinds: dict[int, str] = {}
            self._livecov_next: tuple[set[int], str | int] | None = None
            self._livecov_consts: list[Any] = []

        def visit(self, node: Any, *args: Any, **kwargs: Any) -> Any:
            # A tag's first line of code stands for the tag, unless it names its own node.
            claim = None
            is_tag = isinstance(node, nodes.Stmt) and not isinstance(node, nodes.Output)
            if is_tag and self._livecov_next is None and node.lineno:
                claim = self._livecov_next = ({node.lineno}, type(node).__name__)
            try:
                return super().visit(node, *args, **kwargs)
            finally:
                if claim is not None and self._livecov_next is claim:
                    self._livecov_next = None  # the tag wrote no code of its own here

        def newline(self, node: Any = None, extra: int = 0) -> None:
            super().newline(node, extra)
            if node is not None and node.lineno and not isinstance(node, nodes.Template):
                self._livecov_next = ({node.lineno}, type(node).__name__)

        def write(self, x: str) -> None:
            starts_line = bool(self._new_lines) and not self._first_write
            super().write(x)
            if not starts_line:
                return
            # Top-level lines (a block's or a macro's ``def``) never run as template lines.
            if self._livecov_next is not None and self._indentation:
                lines, kind = self._livecov_next
                if lines:
                    self.livecov_lines[self.code_lineno] = lines
                    self.livecov_kinds[self.code_lineno] = str(kind)
                else:
                    self.livecov_markers[self.code_lineno] = int(kind)
            self._livecov_next = None

        def _output_child_to_const(self, node: Any, frame: Any, finalize: Any) -> str:
            const: str = super()._output_child_to_const(node, frame, finalize)
            self._livecov_consts.append(node)
            return const

        def _output_const_repr(self, group: Iterable[Any]) -> str:
            group = list(group)
            taken = self._livecov_consts[: len(group)]
            del self._livecov_consts[: len(group)]
            lines: set[int] = set()
            for node in taken:
                if isinstance(node, nodes.TemplateData):
                    lines |= _text_lines(node.lineno, node.data) - self.livecov_raw_only
                else:
                    lines.add(node.lineno)  # a constant {{ }}, folded into the text
            lines.discard(None)  # a node the compiler made
            last = taken[-1]
            blank_end = last.lineno + str(getattr(last, "data", "")).count("\n")
            self._livecov_next = (lines, "TemplateData" if lines else marker(blank_end))
            code: str = super()._output_const_repr(group)
            return code

    return MappingCodeGenerator


def build_map(
    environment: Any, source: str, name: str | None, filename: str, branches: bool = True
) -> TemplateMap:
    """Compile ``source`` as ``environment`` does; map its Python lines to template lines."""
    tree = environment.parse(source, name, filename)
    generator = _mapping_generator(environment.code_generator_class)(
        environment, name, filename, None, False, environment.optimized
    )
    generator.livecov_raw_only = _raw_only_lines(environment, source)
    generator.visit(tree)
    lines = generator.livecov_lines
    ranges = {py: (min(ls), max(ls)) for py, ls in lines.items()}
    with_markers = ranges | {py: (m, m) for py, m in generator.livecov_markers.items()}
    recorded = {py: first for py, (first, _last) in with_markers.items()}
    return TemplateMap(
        debug_info="&".join(f"{k}={v}" for k, v in generator.debug_info),
        ranges=ranges,
        ranges_with_markers=with_markers,
        statements=set().union(*lines.values()) if lines else set(),
        branches=(
            find_branches(generator.stream.getvalue(), recorded, generator.livecov_kinds)
            if branches
            else {}
        ),
    )
