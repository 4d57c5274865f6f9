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


def _closure(graph: dict[str, set[str]], start: str) -> set[str]:
    """Every module ``start`` may import, directly or through others (function bodies included)."""
    seen, todo = set(), [start]
    while todo:
        m = todo.pop()
        for d in graph.get(m, ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def test_tgnas_plus_takes_space_objects_and_imports_nothing_at_package_level():
    """TG-NAS+ (``tgnas/plus/``) never resolves a space name: neither it nor anything it imports
    reaches the catalog or a space folder; its package module imports nothing."""
    graph = import_graph()
    folders = _folders(graph)
    plus = sorted(m for m in graph if m == "tgnas.plus" or m.startswith("tgnas.plus."))
    assert {"tgnas.plus.rule", "tgnas.plus.signals", "tgnas.plus.combine"} <= set(plus)
    assert graph["tgnas.plus"] == set()
    for m in plus:
        reach = _closure(graph, m)
        bad = sorted(d for d in reach if d == "tgnas.spaces.catalog"
                     or any(d == f or d.startswith(f + ".") for f in folders))
        assert not bad, f"{m} reaches {bad}"


@pytest.mark.parametrize("module", ["tgnas.scoring", "tgnas.cli_predictor", "tgnas.shipping", "tgnas.search.scorers",
                                    "tgnas.cli_embed", "tgnas.plus.signals", "tgnas.plus.combine", "tgnas.plus.rule"])
def test_product_code_never_imports_the_papers_experiments(module):
    graph = import_graph()
    bad = sorted(d for d in _closure(graph, module) if d.startswith("tgnas.experiments"))
    assert not bad, f"{module} reaches {bad}"
