"""Mutants of Jinja templates, for `make mutation` (cosmic-ray mutates Python only).

Four operators, each a change a person could make by mistake in a template:

  swap-condition   {% if C %}, {% elif C %}, {{ a if C else b }}  ->  ``not (C)`` instead
  drop-branch      the body of an if, elif or else branch, or of a for loop or its else,
                   emptied (its newlines kept, so line numbers stay)
  swap-variables   two different {{ }} on one line exchange their expressions
  filter-argument  a literal argument of a filter or call in a tag or {{ }} changed:
                   a number + 1, a string with "_x" appended

``run_session`` applies each mutant in turn to a file of the throw-away copy, runs the
session's tests (stopping at the first failure), restores the file, and records the
outcome in the same shape as cosmic-ray's results, so mutation/run.py reports both alike.
"""

from __future__ import annotations

import difflib
import glob
import itertools
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

TAG = re.compile(r"\{%(-?)\s*(\w+)(.*?)\s*(-?)%\}", re.S)
EXPRESSION = re.compile(r"\{\{-?(.*?)-?\}\}", re.S)
RAW = re.compile(r"\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\}", re.S)
CALL_ARGUMENTS = re.compile(r"\(([^()]*)\)")
LITERAL = re.compile(r"""'[^']*'|"[^"]*"|(?<![\w.])\d+(?![\w.])""")
BLOCK_TAGS = {"if", "for", "block", "macro", "call", "filter", "with", "autoescape"}


@dataclass
class Mutant:
    path: str  # relative to the copy's root
    line: int
    operator: str
    occurrence: int  # the how-manieth of this operator in this file
    source: str  # the mutated template

    def diff(self, original: str) -> str:
        return "".join(
            difflib.unified_diff(
                original.splitlines(keepends=True),
                self.source.splitlines(keepends=True),
                f"a/{self.path}",
                f"b/{self.path}",
            )
        )


def _line(source: str, offset: int) -> int:
    return source.count("\n", 0, offset) + 1


def _tags(source: str) -> Iterator[re.Match[str]]:
    raw = [m.span() for m in RAW.finditer(source)]
    for tag in TAG.finditer(source):
        if not any(start < tag.start() < end for start, end in raw):
            yield tag


INLINE_IF = re.compile(r"\bif\b(.+?)\belse\b", re.S)


def swap_conditions(source: str) -> Iterator[tuple[int, str]]:
    found = []
    for tag in _tags(source):
        if tag.group(2) in ("if", "elif"):
            found.append(tag.span(3))
    for expression in EXPRESSION.finditer(source):  # {{ a if C else b }}
        for inline in INLINE_IF.finditer(expression.group(1)):
            found.append(
                (expression.start(1) + inline.start(1), expression.start(1) + inline.end(1))
            )
    for start, end in sorted(found):
        condition = source[start:end].strip()
        yield start, f"{source[:start]} not ({condition}) {source[end:].lstrip(' ')}"


def branch_bodies(source: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each if/elif/else branch body and each for/for-else body."""
    stack: list[list] = []  # [kind, body start]
    for tag in _tags(source):
        name, arguments = tag.group(2), tag.group(3)
        opens = name in BLOCK_TAGS or (name == "set" and "=" not in arguments)
        if opens:
            stack.append([name, tag.end()])
        elif name in ("elif", "else") and stack and stack[-1][0] in ("if", "for"):
            yield stack[-1][1], tag.start()
            stack[-1][1] = tag.end()
        elif name.startswith("end") and stack:
            kind, body_start = stack.pop()
            if kind in ("if", "for"):
                yield body_start, tag.start()


def drop_branches(source: str) -> Iterator[tuple[int, str]]:
    for start, end in sorted(branch_bodies(source)):
        body = source[start:end]
        if body.strip():
            yield start, source[:start] + "\n" * body.count("\n") + source[end:]


def swap_variables(source: str) -> Iterator[tuple[int, str]]:
    expressions = list(EXPRESSION.finditer(source))
    for first, second in itertools.pairwise(expressions):
        a, b = first.group(1).strip(), second.group(1).strip()
        if a != b and _line(source, first.start()) == _line(source, second.start()):
            yield first.start(), (
                source[: first.start()]
                + "{{ " + b + " }}"
                + source[first.end() : second.start()]
                + "{{ " + a + " }}"
                + source[second.end() :]
            )  # fmt: skip


def change_arguments(source: str) -> Iterator[tuple[int, str]]:
    spans = [m.span(1) for m in EXPRESSION.finditer(source)]
    spans += [m.span(3) for m in _tags(source)]
    for code_start, code_end in sorted(spans):
        code = source[code_start:code_end]
        for arguments in CALL_ARGUMENTS.finditer(code):
            for literal in LITERAL.finditer(arguments.group(1)):
                start = code_start + arguments.start(1) + literal.start()
                end = code_start + arguments.start(1) + literal.end()
                text = literal.group()
                changed = str(int(text) + 1) if text.isdigit() else text[:-1] + "_x" + text[-1]
                yield start, source[:start] + changed + source[end:]


OPERATORS: dict[str, Callable[[str], Iterator[tuple[int, str]]]] = {
    "swap-condition": swap_conditions,
    "drop-branch": drop_branches,
    "swap-variables": swap_variables,
    "filter-argument": change_arguments,
}


def mutants(path: str, source: str) -> list[Mutant]:
    found = []
    for operator, make in OPERATORS.items():
        for occurrence, (offset, mutated) in enumerate(make(source)):
            found.append(Mutant(path, _line(source, offset), operator, occurrence, mutated))
    return found


# Running them ---------------------------------------------------------------------------


def result(mutant: Mutant, original: str, test_outcome: str, output: str = "") -> dict:
    """One mutant's outcome, shaped like a cosmic-ray result (see run.py's report)."""
    return {
        "item": {
            "mutations": [
                {
                    "module_path": mutant.path,
                    "operator_name": f"templates/{mutant.operator}",
                    "occurrence": mutant.occurrence,
                    "start_pos": [mutant.line, 0],
                    "definition_name": "template",
                }
            ]
        },
        "result": {
            "worker_outcome": "normal",
            "test_outcome": test_outcome,
            "output": output,
            "diff": mutant.diff(original),
        },
    }


def run_tests(command: list[str], copy: Path, timeout: float, log: Path) -> str:
    """'survived' when the tests pass, 'killed' when they fail, 'timeout' when too slow."""
    with open(log, "ab") as out:
        process = subprocess.Popen(
            command, cwd=copy, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            return "survived" if process.wait(timeout=timeout) == 0 else "killed"
        except subprocess.TimeoutExpired:
            return "timeout"
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def template_files(patterns: list[str], copy: Path) -> list[str]:
    files: list[str] = []
    for pattern in patterns:
        files += [
            f for f in sorted(glob.glob(pattern, root_dir=copy, recursive=True)) if f not in files
        ]
    return files


def _key(mutant: Mutant) -> tuple[str, str, int]:
    return (mutant.path, f"templates/{mutant.operator}", mutant.occurrence)


def run_session(
    session, copy: Path, command: list[str], logs: Path, stopping: Callable[[], bool]
) -> None:
    """Test every mutant of the session's templates in ``copy``; fill ``session.results``.

    With ``session.previous`` (--retest), only the earlier survivors are tested again.
    """
    start = time.monotonic()
    retest = None
    if session.previous is not None:
        survivors = [r for r in session.previous if r["result"]["test_outcome"] == "survived"]
        session.results += [r for r in session.previous if r not in survivors]
        m = [r["item"]["mutations"][0] for r in survivors]
        retest = {(x["module_path"], x["operator_name"], x["occurrence"]) for x in m}
    log = logs / f"{session.name}.log"
    if run_tests(command, copy, session.timeout, log) != "survived":
        session.error = "baseline (tests on unmutated templates) failed; see the log"
        session.seconds = time.monotonic() - start
        return
    for path in template_files(session.modules, copy):
        original = (copy / path).read_text()
        for mutant in mutants(path, original):
            if stopping():
                return
            if retest is not None and _key(mutant) not in retest:
                continue
            (copy / path).write_text(mutant.source)
            try:
                outcome = run_tests(command, copy, session.timeout, log)
            finally:
                (copy / path).write_text(original)
            if outcome == "timeout":
                session.results.append(result(mutant, original, "killed", "timeout"))
            else:
                session.results.append(result(mutant, original, outcome))
        done = len(session.results)
        print(f"mutation: {session.name}: {path} done, {done} mutants so far", flush=True)
    session.seconds = time.monotonic() - start
