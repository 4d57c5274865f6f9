"""No import cycles inside the package: module-level and function-level imports alike.

The graph has one node per module of ``tgnas/`` and an edge ``a -> b`` for every
``import b`` / ``from b import x`` (``from pkg import b`` when ``b`` is a module) found
anywhere in ``a``'s source, function bodies included; imports under ``if TYPE_CHECKING:``
never run and are skipped. Implicit parent-package imports are not edges (``from tgnas
import paths`` is an edge to ``tgnas.paths``, not to ``tgnas``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "tgnas"


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _absolute(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """The absolute name of the module ``node`` imports from."""
    base = node.module or ""
    if node.level:
        package = module.split(".") if is_package else module.split(".")[:-1]
        package = package[:len(package) - (node.level - 1)]
        base = ".".join(package + ([base] if base else []))
    return base


def _imports(tree: ast.AST, module: str, is_package: bool, modules: set[str]) -> set[str]:
    """Dotted names this module's code imports (absolute), ``if TYPE_CHECKING:`` blocks skipped;
    ``from pkg import x`` imports ``pkg.x`` when that is one of ``modules``, else ``pkg``."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node, module, is_package)
            found.update(f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(package_dir: Path = PACKAGE) -> dict[str, set[str]]:
    """``{module: modules of the package it imports}``."""
    files = {_module_name(p, package_dir.parent): p for p in package_dir.rglob("*.py")}
    graph, modules = {}, set(files)
    for name, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[name] = {m for m in _imports(tree, name, path.name == "__init__.py", modules) if m in modules and m != name}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as ``[a, b, ..., a]``, or ``None`` (iterative depth-first search)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph[start]))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph[nxt])))
    return None


def test_finder_finds_a_cycle_and_skips_type_checking(tmp_path):
    pkg = tmp_path / "tgnas"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from tgnas import b, VERSION\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tgnas.c import X\n"
                              "import tgnas.c\n")
    (pkg / "c.py").write_text("from .a import f\n")
    (pkg / "d.py").write_text("from tgnas import c\n")  # the module tgnas.c; tgnas itself only as its parent
    graph = import_graph(pkg)
    assert graph["tgnas.a"] == {"tgnas", "tgnas.b"} and graph["tgnas.b"] == {"tgnas.c"} and graph["tgnas.c"] == {"tgnas.a"}
    assert graph["tgnas.d"] == {"tgnas.c"}
    assert find_cycle(graph) == ["tgnas.a", "tgnas.b", "tgnas.c", "tgnas.a"]
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n")
    assert find_cycle(import_graph(pkg)) is None


def test_package_has_no_import_cycle():
    graph = import_graph()
    assert "tgnas.spaces.catalog" in graph and len(graph) > 50
    cycle = find_cycle(graph)
    if cycle is not None:
        pytest.fail("import cycle: " + " -> ".join(cycle))


def _folders(graph: dict[str, set[str]]) -> set[str]:
    """The space folders: ``tgnas.spaces.<name>`` packages."""
    return {m for m in graph if m.count(".") == 2 and m.startswith("tgnas.spaces.")
            and (PACKAGE / "spaces" / m.split(".")[2]).is_dir()}


def test_generic_layers_never_import_a_space_folder():
    """Generic code takes a space object: outside ``tgnas/spaces/`` only the catalog (which the
    CLI, the API, the trainer's config and the paper's experiments use to resolve a name) may
    reach the space folders."""
    graph = import_graph()
    folders = _folders(graph)
    assert {"tgnas.spaces.nb101", "tgnas.spaces.nb201", "tgnas.spaces.darts", "tgnas.spaces.cell"} <= folders
    bad = []
    for module, deps in graph.items():
        if module.startswith(("tgnas.spaces", "tgnas.experiments")):
            continue
        bad += [(module, d) for d in deps if any(d == f or d.startswith(f + ".") for f in folders)]
    assert not bad, f"generic modules import space folders: {bad}"


def test_space_folders_never_import_the_catalog():
    """A space folder stands below the catalog: it may use generic building blocks and another
    space's folder (the generic cell builds NB101 cells), never the catalog."""
    graph = import_graph()
    folders = _folders(graph)
    bad = [(m, d) for m, deps in graph.items() for d in deps
           if any(m == f or m.startswith(f + ".") for f in folders) and d == "tgnas.spaces.catalog"]
    assert not bad, bad

