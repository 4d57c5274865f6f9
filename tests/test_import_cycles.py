"""No import cycles inside the package: module-level and function-level imports alike.

The graph has one node per module of ``tgnas/`` and an edge ``a -> b`` for every
``import b`` / ``from b import x`` (``from pkg import b`` when ``b`` is a module) found
anywhere in ``a``'s source, function bodies included; imports under ``if TYPE_CHECKING:``
never run and are skipped. Implicit parent-package imports are not edges (``from tgnas
import paths`` is an edge to ``tgnas.paths``, not to ``tgnas``).

Two more rules keep the graph the whole truth:

- an import sits at the top of its module, except where :data:`ALLOWED_FUNCTION_IMPORTS`
  says why it may not (an optional or heavy dependency that only some code paths need);
- no module names another in a string (``importlib.import_module``, ``"tgnas.x:attr"``
  tables): such an import is no edge, so it would hide a cycle from this test.
"""

from __future__ import annotations

import ast
import re
from fnmatch import fnmatchcase
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


# -- imports at the top ----------------------------------------------------------------------

#: The function-level imports that may stay: ``(module pattern, imported prefix) -> why``. The
#: pattern is an ``fnmatch`` pattern over the importing module's dotted name; the prefix matches
#: the imported module and its submodules. Everything else is imported at the top of its module.
ALLOWED_FUNCTION_IMPORTS: dict[tuple[str, str], str] = {
    # Optional or heavy third-party dependencies that only some code paths need.
    ("tgnas.*", "matplotlib"): "plotting only; matplotlib takes ~1 s to import",
    ("tgnas.*", "seaborn"): "plotting only",
    ("tgnas.*", "sentence_transformers"): "only to recompute description embeddings (transformers, seconds to load)",
    ("tgnas.*", "sklearn"): "only fitting the embeddings' PCA",
    ("tgnas.*", "onnxruntime"): "only the DARTS surrogate",
    ("tgnas.*", "papermill"): "only the profiles' notebook runs",
    ("tgnas.*", "urllib3"): "only `tgnas data fetch` downloads (its read errors)",
    ("tgnas.*", "requests"): "only `tgnas data fetch` downloads",
    ("tgnas.*", "google.protobuf"): "only parsing the raw NAS-Bench-101 tfrecord (`tgnas data build`)",
    ("tgnas.*", "nbformat"): "only reading notebooks (the pipeline's dependency scan, the Markdown render)",
    ("tgnas.fileio", "IPython"): "only save_and_show, which runs in a notebook kernel",
    ("tgnas.pipeline", "yaml"): "only `python -m tgnas.pipeline` reads dvc.yaml",
    ("tgnas.numerics", "torch"): "conftest.py reads PINNED_ENV before torch starts: torch reads that "
                                 "environment when it loads, so this module must not load it",
    # The command line: the dispatcher (tgnas.cli.app.COMMANDS) imports a command's module only
    # when that command runs, with a plain `import` in one small function per command (so the
    # graph above sees it); a command module imports what its command runs (package modules,
    # torch, YAML) when it runs. `tgnas --help` and `tgnas data check` never load torch
    # (tests/test_cli_startup.py).
    ("tgnas.cli*", "tgnas"): "a command's own machinery, loaded when that command runs",
    ("tgnas.cli*", "torch"): "a command's own machinery, loaded when that command runs",
    ("tgnas.cli.train_final", "yaml"): "only `tgnas train-final --params` reads YAML",
    # The package itself: every `import tgnas.<module>` runs tgnas/__init__.py first.
    ("tgnas", "tgnas.scoring"): "the lazy attribute tgnas.score (PEP 562): `import tgnas` stays light",
}

# ---- _PENDING: remove after merging the rewrite of these modules ----------------------------
#: Modules another developer is rewriting now; their function-level imports are not checked
#: until the rewrite lands. ``module pattern -> why``.
_PENDING: dict[str, str] = {
}
# ---- end _PENDING ----------------------------------------------------------------------------


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _function_imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[int, str]]:
    """``(line, imported module)`` of the imports inside a ``def`` (at any depth) of one module,
    ``if TYPE_CHECKING:`` blocks skipped."""
    found = []

    def visit(node: ast.AST, in_def: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for c in child.orelse:
                    visit(c, in_def)
                continue
            if in_def and isinstance(child, ast.Import):
                found.extend((child.lineno, a.name) for a in child.names)
            elif in_def and isinstance(child, ast.ImportFrom):
                found.append((child.lineno, _absolute(child, module, is_package)))
            visit(child, in_def or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)))

    visit(tree, False)
    return found


def function_imports(package_dir: Path = PACKAGE) -> list[tuple[str, int, str]]:
    """``(module, line, imported module)`` for every import inside a ``def`` of the package."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        module = _module_name(path, package_dir.parent)
        tree = ast.parse(path.read_text(), filename=str(path))
        found += [(module, line, imp) for line, imp in _function_imports(tree, module, path.name == "__init__.py")]
    return found


def disallowed_function_imports(found: list[tuple[str, int, str]], pending: dict[str, str] = _PENDING
                                ) -> list[tuple[str, int, str]]:
    return [(m, line, imp) for m, line, imp in found
            if not any(fnmatchcase(m, p) for p in pending)
            and not any(fnmatchcase(m, p) and _under(imp, prefix) for p, prefix in ALLOWED_FUNCTION_IMPORTS)]


def test_function_import_check_can_fail(tmp_path):
    pkg = tmp_path / "tgnas"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("def __getattr__(name):\n    from tgnas.scoring import score\n    return score\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "m.py").write_text(
        "import os\n"
        "def f():\n    import json\n    from . import g\n    import matplotlib.pyplot as plt\n"
        "    def inner():\n        from ..sub.g import x\n"
        "def h():\n    from typing import TYPE_CHECKING\n    if TYPE_CHECKING:\n        import numpy\n")
    (pkg / "cli_x.py").write_text("def run(args):\n    import torch\n    from tgnas.sub import m\n    import numpy\n")
    found = function_imports(pkg)
    assert found == [("tgnas", 2, "tgnas.scoring"), ("tgnas.cli_x", 2, "torch"), ("tgnas.cli_x", 3, "tgnas.sub"),
                     ("tgnas.cli_x", 4, "numpy"), ("tgnas.sub.m", 3, "json"), ("tgnas.sub.m", 4, "tgnas.sub"),
                     ("tgnas.sub.m", 5, "matplotlib.pyplot"), ("tgnas.sub.m", 7, "tgnas.sub.g"),
                     ("tgnas.sub.m", 9, "typing")]
    assert disallowed_function_imports(found, pending={}) == [
        ("tgnas.cli_x", 4, "numpy"), ("tgnas.sub.m", 3, "json"), ("tgnas.sub.m", 4, "tgnas.sub"),
        ("tgnas.sub.m", 7, "tgnas.sub.g"), ("tgnas.sub.m", 9, "typing")]
    assert disallowed_function_imports(found, pending={"tgnas.sub.*": ""}) == [("tgnas.cli_x", 4, "numpy")]


def test_imports_are_at_the_top_unless_allowed():
    """Function-level imports once dodged import cycles; the graph above now shows there are
    none, so an import goes to the top of its module, where a reader (and this test) sees it,
    unless :data:`ALLOWED_FUNCTION_IMPORTS` says why not."""
    found = function_imports()
    assert len({m for m, _, _ in found}) > 5  # the check sees function bodies
    bad = disallowed_function_imports(found)
    assert not bad, "imports inside functions (move them to the top of the module, or allow them " \
        "with a reason in ALLOWED_FUNCTION_IMPORTS):\n" + "\n".join(f"  {m}:{line}: {imp}" for m, line, imp in bad)
    unused = [key for key in ALLOWED_FUNCTION_IMPORTS
              if not any(fnmatchcase(m, key[0]) and _under(imp, key[1]) for m, _, imp in found)]
    assert not unused, f"allowlist entries no import uses any more (remove them): {unused}"


# -- no module named in a string ----------------------------------------------------------------

#: A string that is a module of the package, a prefix to build one (``"tgnas.cli_"``), or a
#: ``"module:attribute"`` reference to one.
_MODULE_STRING = re.compile(r"tgnas(\.\w*)+(:[\w.]*)?")
_DYNAMIC_IMPORTS = {"import_module", "__import__"}


def strings_naming_modules(package_dir: Path = PACKAGE) -> list[tuple[str, int, str]]:
    """``(module, line, what)`` for every dynamic import call and every string constant (not a
    docstring or other bare string statement) that names a module of the package."""
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        module = _module_name(path, package_dir.parent)
        tree = ast.parse(path.read_text(), filename=str(path))
        documentation = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
                if name in _DYNAMIC_IMPORTS:
                    found.append((module, node.lineno, f"{name}(...)"))
            elif (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in documentation
                  and _MODULE_STRING.fullmatch(node.value.strip())):
                found.append((module, node.lineno, repr(node.value)))
    return sorted(found)


def test_module_string_check_can_fail(tmp_path):
    pkg = tmp_path / "tgnas"
    pkg.mkdir()
    (pkg / "__init__.py").write_text('"""Docstrings may name tgnas.scoring."""\n')
    (pkg / "m.py").write_text(
        'import importlib\n'
        '"""tgnas.attribute_docstring"""\n'
        'LAZY = {"score": ("tgnas.scoring", "score"), "cli": "tgnas.cli:main"}\n'
        'def load(group):\n    return importlib.import_module(f"tgnas.cli_{group}")\n'
        'def other():\n    return __import__("os"), "see tgnas.spaces.catalog.get_space(name)", "tgnas", "a:b"\n')
    assert strings_naming_modules(pkg) == [
        ("tgnas.m", 3, "'tgnas.cli:main'"), ("tgnas.m", 3, "'tgnas.scoring'"),
        ("tgnas.m", 5, "'tgnas.cli_'"), ("tgnas.m", 5, "import_module(...)"), ("tgnas.m", 7, "__import__(...)")]


def test_no_module_is_named_in_a_string():
    """Import modules with ``import``: a module looked up by name is invisible to the import
    graph (and to readers, editors and refactoring tools)."""
    bad = [(m, line, what) for m, line, what in strings_naming_modules()
           if not any(fnmatchcase(m, p) for p in _PENDING)]
    assert not bad, "modules named in strings (import them instead):\n" + "\n".join(
        f"  {m}:{line}: {what}" for m, line, what in bad)


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


@pytest.mark.parametrize("module", ["tgnas.scoring", "tgnas.cli.score", "tgnas.shipping", "tgnas.search.scorers",
                                    "tgnas.cli.models", "tgnas.plus.signals", "tgnas.plus.combine", "tgnas.plus.rule"])
def test_product_code_never_imports_the_papers_experiments(module):
    graph = import_graph()
    bad = sorted(d for d in _closure(graph, module) if d.startswith("tgnas.experiments"))
    assert not bad, f"{module} reaches {bad}"
