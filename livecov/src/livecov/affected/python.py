"""Python files: the changed lines, the functions holding them, what runs at import."""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Callable, Generator, Iterator

from livecov.affected.changes import (
    LinesRun,
    ReachesEveryTest,
    Scope,
    innermost,
    scope_tests,
    tests_that_ran,
    touched_lines,
)

# The tests that ran a function reading any of the names; returns the names found read.
Users = Callable[[set[str], str], Generator[tuple[str, str], None, set[str]]]


def _function_scopes(tree: ast.AST) -> list[Scope]:
    scopes: list[Scope] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                scopes.append(Scope(name, child.body[0].lineno, child.end_lineno or 0))
                visit(child, f"{name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return scopes


def _code_lines(text: str) -> set[int]:
    """Lines holding code (not only blanks or comments)."""
    lines: set[int] = set()
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT}
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in skip and token.type != tokenize.ENDMARKER:
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines


def python_changes(
    path: str, old: str, new: str, lines: LinesRun, users: Users
) -> Iterator[tuple[str, str]]:
    try:
        new_tree = ast.parse(new)
    except SyntaxError as exc:
        raise ReachesEveryTest(f"{path} does not compile ({exc.msg}, line {exc.lineno})") from None
    old_tree = ast.parse(old)
    old_scopes, new_scopes = _function_scopes(old_tree), _function_scopes(new_tree)
    trivia_old = set(range(1, old.count("\n") + 2)) - _code_lines(old)
    trivia_new = set(range(1, new.count("\n") + 2)) - _code_lines(new)
    touched = touched_lines(old, new, trivia_old, trivia_new)
    by_name = {s.name: s for s in old_scopes}
    names: set[str] = set()
    for number in touched.in_place + touched.old:
        where = f"{path}:{number}"
        holding = innermost(old_scopes, number)
        if not holding:
            names |= _bindings(old_tree, number, where)
        elif number in touched.in_place and number in lines:
            for test in tests_that_ran(lines, [number], where):
                yield test, f"{where} changed"
        else:
            yield from scope_tests(path, holding[0], lines, f"{where} changed")
    for number in touched.new:
        where = f"{path}:{number} (new)"
        holding = [s for s in innermost(new_scopes, number) if s.name in by_name]
        if holding:
            yield from scope_tests(path, by_name[holding[0].name], lines, f"{where} added")
        else:
            names |= _bindings(new_tree, number, where)
    if names:
        why = f"{path}: {', '.join(sorted(names))} changed"
        for name in sorted(names & set(by_name)):  # a function's own def line
            yield from scope_tests(path, by_name[name], lines, why)
        read = yield from users(names, why)
        functions = set(by_name) | {s.name for s in new_scopes}
        unread = names - read - functions - {name for *_, name in uses(new_tree, names)}
        if unread:
            # Read by name where nothing is measured (Django's settings, Flask's
            # config.from_object, getattr), or imported for what its import does.
            raise ReachesEveryTest(
                f"{why}; no measured code or test file reads {', '.join(sorted(unread))}"
                " (a setting the framework reads? an import for its side effects?)"
            )


def _bindings(tree: ast.Module, number: int, where: str) -> set[str]:
    """The names a top-level assignment or import on line ``number`` binds.

    Anything else at import level (a decorator, a def line, a class body, a call) can
    change what every test sees: :class:`ReachesEveryTest`. So can a new function with
    decorators; a plain function binds its name.
    """
    statement = next((s for s in tree.body if s.lineno <= number <= (s.end_lineno or 0)), None)
    match statement:
        case ast.Assign(targets=[ast.Name(id=name)]) | ast.AnnAssign(target=ast.Name(id=name)):
            return {name}
        case ast.ImportFrom(module="__future__"):
            pass  # changes how the whole module compiles
        case ast.Import(names=aliases) | ast.ImportFrom(names=aliases):
            return {(a.asname or a.name).partition(".")[0] for a in aliases}
        case ast.FunctionDef(name=name, decorator_list=[]):
            return {name}
    raise ReachesEveryTest(f"{where} changed: it runs at import")


def uses(tree: ast.Module, names: set[str]) -> Iterator[tuple[Scope | None, int, str]]:
    """Where ``names`` are read: in which function (None: at import), on which line, which.

    A module-level import of a name only passes it on; where it is read is found too.
    """

    def visit(
        node: ast.AST, scope: Scope | None, prefix: str
    ) -> Iterator[tuple[Scope | None, int, str]]:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            inner = Scope(f"{prefix}{node.name}", node.body[0].lineno, node.end_lineno or 0)
            for part in (
                *node.decorator_list,
                node.args,
                *([node.returns] if node.returns else []),
            ):
                yield from visit(part, scope, prefix)
            for statement in node.body:
                yield from visit(statement, inner, f"{inner.name}.")
            return
        if isinstance(node, ast.ClassDef):
            prefix = f"{prefix}{node.name}."
        if (
            isinstance(node, ast.Import | ast.ImportFrom)
            and scope is None
            and all(a.asname in (None, a.name) for a in node.names)
        ):
            return
        used = (
            node.id
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Store)
            else node.attr
            if isinstance(node, ast.Attribute)
            else node.name
            if isinstance(node, ast.alias)
            else None
        )
        if used in names:
            yield scope, getattr(node, "lineno", 0), used
        for child in ast.iter_child_nodes(node):
            yield from visit(child, scope, prefix)

    yield from visit(tree, None, "")
