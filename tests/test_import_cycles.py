"""No import cycles inside the package: module-level and function-level imports alike.

The graph has one node per module of ``tgnas/`` and an edge ``a -> b`` for every
``import b`` / ``from b import x`` (or ``from a.pkg import b`` when ``b`` is a module) found
anywhere in ``a``'s source, function bodies included; imports under ``if TYPE_CHECKING:``
never run and are skipped. Implicit parent-package imports are not edges.
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


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Dotted names this module's code imports (absolute), ``if TYPE_CHECKING:`` blocks skipped."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[:len(package) - (node.level - 1)]
                base = ".".join(package + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def import_graph(package_dir: Path = PACKAGE) -> dict[str, set[str]]:
    """``{module: modules of the package it imports}``."""
    files = {_module_name(p, package_dir.parent): p for p in package_dir.rglob("*.py")}
    graph = {}
    for name, path in files.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        graph[name] = {m for m in _imports(tree, name, path.name == "__init__.py") if m in files and m != name}
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
    (pkg / "a.py").write_text("def f():\n    from tgnas import b\n")
    (pkg / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from tgnas.c import X\n"
                              "import tgnas.c\n")
    (pkg / "c.py").write_text("from .a import f\n")
    graph = import_graph(pkg)
    assert graph["tgnas.a"] == {"tgnas", "tgnas.b"} and graph["tgnas.b"] == {"tgnas.c"} and graph["tgnas.c"] == {"tgnas.a"}
    assert find_cycle(graph) == ["tgnas.a", "tgnas.b", "tgnas.c", "tgnas.a"]
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .a import f\n")
    assert find_cycle(import_graph(pkg)) is None


def test_package_has_no_import_cycle():
    graph = import_graph()
    assert "tgnas.spaces.registry" in graph and len(graph) > 50
    cycle = find_cycle(graph)
    if cycle is not None:
        pytest.fail("import cycle: " + " -> ".join(cycle))


def test_spaces_import_no_data_code():
    """Spaces hold no data access: nothing in tgnas.spaces imports benchmarks, data files or torch code."""
    graph = import_graph()
    for module, deps in graph.items():
        if module.startswith("tgnas.spaces"):
            bad = sorted(d for d in deps if d.startswith(("tgnas.datasets", "tgnas.datafiles", "tgnas.nets",
                                                          "tgnas.graphs", "tgnas.predictor")))
            assert not bad, f"{module} imports {bad}"
