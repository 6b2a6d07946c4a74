"""livecov's modules import each other without circles, and the server side stays apart.

Read from the sources with ``ast``: every import statement, at module level or inside a
function (a deferred import is still an edge: deferring one to break a circle hides the
circle, it does not remove it). Imports under ``if TYPE_CHECKING:`` count for circles: Python
never runs them, but a type shared both ways is a module's business in the other one (it
belongs in a module below both, or in a Protocol). They are left out only where the question
is what a process loads (the server side's imports).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from pathlib import Path

from tests.livecov.helpers import REPO

SOURCE = REPO / "livecov" / "src"
SERVER = "livecov.server"
# What the server process shares with the test process: each imports nothing of livecov.
SHARED = ("livecov.protocol", "livecov.errors")

Graph = Mapping[str, set[str]]


def module_name(path: Path) -> str:
    parts = path.relative_to(SOURCE).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(SOURCE.glob("livecov/**/*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_time_nodes(tree: ast.AST) -> Iterator[ast.AST]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _is_type_checking(node):
            yield from (n for child in node.orelse for n in [child, *_run_time_nodes(child)])
            continue
        yield node
        yield from _run_time_nodes(node)


def imported_names(name: str, path: Path, type_checking: bool = False) -> Iterator[str]:
    """The dotted names ``name``'s source imports (``from a import b``: ``a.b`` and ``a``);
    with ``type_checking``, those under ``if TYPE_CHECKING:`` too."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree) if type_checking else _run_time_nodes(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0]
                base = f"{anchor}.{base}".rstrip(".")
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(type_checking: bool = False) -> dict[str, set[str]]:
    """Each livecov module, and the livecov modules it imports (with ``type_checking``, for
    the type checker too)."""
    known = modules()
    return {
        name: {n for n in imported_names(name, path, type_checking) if n in known} - {name}
        for name, path in known.items()
    }


def circles(graph: Graph) -> list[list[str]]:
    """Every import circle in ``graph``, each as a path that ends where it starts."""
    found: list[list[str]] = []
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        if node in path:
            found.append([*path[path.index(node) :], node])
            return
        if node in done:
            return
        for target in sorted(graph.get(node, ())):
            visit(target, [*path, node])
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
    return found


def test_the_circle_finder_finds_circles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert circles(graph) == [["a", "b", "c", "a"]]
    assert circles({"a": {"b"}, "b": set(), "c": {"a", "b"}}) == []


def test_the_import_reader_sees_deferred_imports_and_skips_type_checking(tmp_path: Path) -> None:
    source = tmp_path / "example.py"
    source.write_text(
        "from typing import TYPE_CHECKING\n"
        "import livecov.errors\n"
        "if TYPE_CHECKING:\n"
        "    from livecov import live_server\n"
        "def later():\n"
        "    from livecov.server import serve_uvicorn\n"
        "    from . import protocol\n"
    )
    names = set(imported_names("livecov.example", source))
    assert {"livecov.errors", "livecov.server.serve_uvicorn", "livecov.protocol"} <= names
    assert "livecov.live_server" not in names
    for_the_type_checker = set(imported_names("livecov.example", source, type_checking=True))
    assert for_the_type_checker == names | {"livecov", "livecov.live_server"}


def test_no_import_circle_in_livecov_not_even_for_the_type_checker() -> None:
    graph = import_graph(type_checking=True)
    assert "livecov.server.serve" in graph  # the sources were found
    assert graph["livecov.pytest_live_server"] >= import_graph()["livecov.pytest_live_server"]
    assert [" -> ".join(circle) for circle in circles(graph)] == []


def test_the_server_side_imports_only_itself_and_what_both_sides_share() -> None:
    graph = import_graph()
    outside = {
        module: sorted(imported for imported in imports if not _server_or_shared(imported))
        for module, imports in graph.items()
        if module == SERVER or module.startswith(SERVER + ".")
    }
    assert len(outside) > 10  # every module of the server side was read
    assert {module: names for module, names in outside.items() if names} == {}


def test_what_both_sides_share_imports_nothing_of_livecov() -> None:
    graph = import_graph()
    assert {module: graph[module] for module in SHARED} == {module: set() for module in SHARED}


def _server_or_shared(name: str) -> bool:
    return name == SERVER or name.startswith(SERVER + ".") or name in SHARED
