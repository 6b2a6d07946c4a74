"""Helpers for the livecov.jinja tests: measure template renders with a real coverage.py."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import coverage
import jinja2

from livecov.jinja.repair import repair_data

CORPUS = Path(__file__).parent / "jinja_corpus"


def environment(folder: Path | None = None, **options: Any) -> jinja2.Environment:
    """A plain Environment (these tests render no untrusted input: no autoescape needed)."""
    if folder is not None:
        options["loader"] = jinja2.FileSystemLoader(folder)
    return jinja2.Environment(**options)  # noqa: S701


def copy_corpus(to: Path) -> Path:
    folder = to / "templates"
    shutil.copytree(CORPUS, folder)
    return folder


class Measure:
    """``with Measure(folder) as m:`` measures the templates under ``folder`` (the source)
    with coverage.py and livecov.jinja; afterwards the data is saved and repaired."""

    def __init__(
        self, folder: Path, branch: bool = True, extra: str = "", repair: bool = True
    ) -> None:
        self.folder = folder
        self.repair = repair
        self.rcfile = folder.parent / "coveragerc"
        self.rcfile.write_text(
            f"[run]\nbranch = {branch}\nsource = {folder}\nplugins = livecov.jinja\n{extra}"
        )
        self.data_file = folder.parent / ".coverage-templates"
        self.cov = coverage.Coverage(config_file=str(self.rcfile), data_file=str(self.data_file))

    def __enter__(self) -> Measure:
        self.cov.erase()
        self.cov.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.cov.stop()
        self.cov.save()
        if self.repair:
            repair_data(str(self.data_file))

    def switch(self, context: str) -> None:
        self.cov.switch_context(context)

    def data(self) -> coverage.CoverageData:
        data = coverage.CoverageData(str(self.data_file))
        data.read()
        return data

    def lines(self, name: str) -> set[int] | None:
        """The template lines recorded as run; None when the file was never measured."""
        lines = self.data().lines(str(self.folder / name))
        return None if lines is None else set(lines)

    def contexts(self, name: str) -> dict[int, set[str]]:
        by_line = self.data().contexts_by_lineno(str(self.folder / name))
        return {line: set(names) for line, names in by_line.items()}

    def json(self) -> dict[str, Any]:
        """The JSON report, by template path relative to the measured folder."""
        out = self.data_file.with_suffix(".json")
        self.cov.json_report(outfile=str(out), show_contexts=True)
        files = json.loads(out.read_text())["files"]
        folder = self.folder.resolve()
        return {
            str((Path.cwd() / name).resolve().relative_to(folder)): report
            for name, report in files.items()
        }
