"""livecov.jinja: a coverage.py plugin that measures Jinja2 templates line by line.

Enable it with ``[tool.coverage.run] plugins = ["livecov.jinja"]``. It measures templates
rendered anywhere coverage.py measures: unit tests, ``coverage run``, livecov's server.
How the mapping works, which template lines count, branches and limits: docs/jinja.md.

Jinja2 is imported only when a template is measured or reported, never when livecov is
imported: livecov's only runtime dependency stays coverage.py.
"""

from __future__ import annotations

import argparse
import ast
import functools
import importlib
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any

import coverage
from coverage.exceptions import ConfigError, NotPython

PLUGIN_NAME = "livecov.jinja.JinjaPlugin"  # how coverage.py names it in its data
DEFAULT_EXTENSIONS = ("html", "htm", "xml", "j2", "jinja", "jinja2")
NO_LINES = (-1, -1)  # line_number_range(): nothing to record for this Python line
EXIT = -1  # an arc's end: the end of the block, macro or template


@dataclass
class TemplateMap:
    """What a template's compiled Python runs, in the template's own line numbers."""

    debug_info: str  # Jinja's own line table: tells whether the map fits compiled code
    # Python line of the compiled module -> the template lines it renders (first, last)
    ranges: dict[int, tuple[int, int]]
    # the same, and blank output as a marker (when branches are measured; see _marker)
    ranges_with_markers: dict[int, tuple[int, int]]
    statements: set[int]
    # branch line -> its ways out, each as the value recorded when that way is taken
    branches: dict[int, set[int]]


# Blank output (the whitespace between tags) renders no template line. When branches are
# measured it is recorded as a negative marker of the line where that blank ends, so that
# an arc can end on it: coverage.py ignores negative numbers as lines and contexts, and
# reports decode them (decode()).
MARKER_BASE = 10_000_000


def _marker(line: int) -> int:
    return -(MARKER_BASE + line)


def decode(value: int) -> int:
    """A recorded arc end as reports show it: a template line, or EXIT."""
    if value <= -MARKER_BASE:
        return -value - MARKER_BASE
    return EXIT if value < 0 else value


# --- The map: compile the template again, as its environment does, with a code generator
# --- that notes, for each line of Python it writes, the template lines it stands for.


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
            self._livecov_next = (lines, "TemplateData" if lines else _marker(blank_end))
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
            _branches(generator.stream.getvalue(), recorded, generator.livecov_kinds)
            if branches
            else {}
        ),
    )


# --- Branches: walk the compiled Python's syntax tree to find, for each {% if %},
# --- {% elif %} and {% for %}, what is recorded first on each way out of it.

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


def _branches(
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


# --- The plugin.


class JinjaPlugin(coverage.CoveragePlugin):
    """Claims template files, maps their compiled code's lines back, reports them."""

    def __init__(self, options: dict[str, Any]) -> None:
        extensions = options.get("template_extensions", DEFAULT_EXTENSIONS)
        if isinstance(extensions, str):
            extensions = extensions.replace(",", " ").split()
        self.extensions = tuple("." + ext.lstrip(".").lower() for ext in extensions)
        self.environment_spec: str | None = options.get("environment")
        self.branch = False
        self._environment: Any = None

    def configure(self, config: Any) -> None:
        """Choose the C tracer: it is coverage.py's only core that runs file tracers.

        Another core chosen (``core``, ``COVERAGE_CORE``, ``timid``) is overruled in one line
        on stderr, as livecov's server does: templates never silently leave the report.
        """
        self.branch = bool(config.get_option("run:branch"))
        if not _c_tracer_available():
            raise ConfigError(
                "livecov.jinja measures templates with coverage.py's C tracer, which is not"
                " installed here: install coverage with its C extension (a wheel for this"
                " platform), or remove the plugin"
            )
        requested = "pytrace" if config.get_option("run:timid") else config.get_option("run:core")
        if requested not in (None, "ctrace"):
            _warn(
                f"coverage core {requested} runs no plugins: templates are measured with"
                " the C tracer (core ctrace) instead"
            )
        config.set_option("run:timid", False)
        config.set_option("run:core", "ctrace")

    def file_tracer(self, filename: str) -> JinjaFileTracer | None:
        if filename.lower().endswith(self.extensions):
            return JinjaFileTracer(filename, self)
        return None

    def file_reporter(self, filename: str) -> JinjaFileReporter:
        return JinjaFileReporter(filename, self)

    def find_executable_files(self, src_dir: str) -> Iterator[str]:
        for folder, _dirs, files in os.walk(src_dir):
            for name in files:
                if name.lower().endswith(self.extensions):
                    yield os.path.join(folder, name)

    def sys_info(self) -> list[tuple[str, Any]]:
        return [("environment", self.environment_spec or "jinja2.Environment()")]

    def report_environment(self) -> Any:
        """The Environment that reads templates for reports (no app runs then)."""
        if self._environment is None:
            self._environment = load_environment(self.environment_spec)
        return self._environment


def _c_tracer_available() -> bool:
    try:
        from coverage.tracer import CTracer  # noqa: F401
    except ImportError:
        return False
    return True


def load_environment(spec: str | None) -> Any:
    """``MODULE:NAME`` of an Environment, a Flask app, or a function returning either."""
    import jinja2

    if not spec:
        return jinja2.Environment()  # noqa: S701 - it only parses, never renders
    module_name, _, attribute = spec.partition(":")
    try:
        value: Any = importlib.import_module(module_name)
        for part in attribute.split(".") if attribute else ():
            value = getattr(value, part)
    except (ImportError, AttributeError) as error:
        raise ConfigError(
            f"livecov.jinja: environment = {spec!r} cannot be loaded ({error}):"
            " give MODULE:NAME of a jinja2.Environment, of a Flask app, or of a function"
            " returning one"
        ) from None
    if not isinstance(value, jinja2.Environment) and not hasattr(value, "jinja_env"):
        value = value() if callable(value) else value
    value = getattr(value, "jinja_env", value)  # a Flask app
    if not isinstance(value, jinja2.Environment):
        raise ConfigError(
            f"livecov.jinja: environment = {spec!r} is a {type(value).__name__},"
            " not a jinja2.Environment or a Flask app"
        )
    return value


class JinjaFileTracer(coverage.FileTracer):
    """Turns a line of a compiled template into the template lines it renders."""

    def __init__(self, filename: str, plugin: JinjaPlugin) -> None:
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
            _warn(f"{self._filename} is not measured: it cannot be compiled again ({error})")
            return None
        if template_map.debug_info != debug_info:
            _warn(
                f"{self._filename} is not measured until it is loaded again: it changed"
                " on disk after it was compiled"
            )
            return None
        return template_map


def _warn(message: str) -> None:
    sys.stderr.write(f"livecov.jinja: {message}\n")


class JinjaFileReporter(coverage.FileReporter):
    """Reports a template: the lines that can run, the branches it has."""

    def __init__(self, filename: str, plugin: JinjaPlugin) -> None:
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
                _warn(
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
            _warn(
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


def coverage_init(reg: Any, options: dict[str, Any]) -> None:
    plugin = JinjaPlugin(options)
    reg.add_file_tracer(plugin)
    reg.add_configurer(plugin)


# --- Repairing branch data (docs/jinja.md, "Branches, and the repair step").


def repair_data(data_file: str) -> int:
    """Drop the Python line numbers coverage.py records into templates' arcs; count them.

    When a compiled template (a generator) resumes after a ``yield``, coverage.py's C
    tracer starts the next arc at the Python line number of that ``yield``, not at a
    template line. Every template line that ran is an arc's end within its context, so an
    arc whose start is no arc's end in its context starts at a Python line: it is made to
    start at -1 (an entry), and the lines and contexts read exactly what ran.
    """
    if not os.path.exists(data_file):
        return 0
    connection = sqlite3.connect(data_file)
    try:
        with connection:
            tables = {row[0] for row in connection.execute("select name from sqlite_master")}
            if not {"arc", "tracer"} <= tables:
                return 0
            stray = """
                from arc as a where a.fromno > 0
                and a.file_id in (select file_id from tracer where tracer = ?)
                and not exists (select 1 from arc as b where b.file_id = a.file_id
                                and b.context_id = a.context_id and b.tono = a.fromno)
            """
            connection.execute(
                "insert or ignore into arc (file_id, context_id, fromno, tono)"
                f" select a.file_id, a.context_id, -1, a.tono {stray}",
                (PLUGIN_NAME,),
            )
            return connection.execute(
                f"delete from arc where rowid in (select a.rowid {stray})",  # noqa: S608
                (PLUGIN_NAME,),
            ).rowcount
    finally:
        connection.close()


def repair_running_data(cov: coverage.Coverage | None) -> int:
    """Repair what the running measurement ``cov`` recorded so far; count the arcs repaired.

    livecov's pytest plugin calls it when the tests have run, before pytest-cov (or
    ``coverage run``) combines and reports: templates' data is right wherever it is read.
    """
    if cov is None or not cov.config.branch or "livecov.jinja" not in cov.config.plugins:
        return 0
    return repair_data(cov.get_data().data_filename())  # get_data() writes what it holds


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m livecov.jinja [DATA_FILE]``: repair after ``coverage combine``."""
    parser = argparse.ArgumentParser(
        prog="python -m livecov.jinja",
        description="Repair the template arcs of a coverage data file (branch = true).",
    )
    parser.add_argument("data_file", nargs="?", default=".coverage")
    args = parser.parse_args(argv)
    if not os.path.exists(args.data_file):
        print(f"livecov.jinja: no coverage data file {args.data_file}", file=sys.stderr)
        return 1
    repaired = repair_data(args.data_file)
    print(f"livecov.jinja: {args.data_file}: {repaired} template arcs repaired")
    return 0
