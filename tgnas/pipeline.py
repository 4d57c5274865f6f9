"""The ``tgnas`` modules each DVC stage depends on, generated from its notebook's (or script's) imports.

A stage that misses a module it imports is never rerun when that module changes. The deps
of every stage are therefore the *import closure* of its notebook or script: every ``tgnas`` module the
notebook imports, every ``tgnas`` module those import (at any depth, lazy imports inside
functions included) and the ``__init__.py`` of every package on the way.

    python -m tgnas.pipeline --check   # list stages whose deps miss a module (exit 1 if any)
    python -m tgnas.pipeline --write   # rewrite the tgnas/ lines of every stage's deps in dvc.yaml
"""

from __future__ import annotations

import ast
import json
import re
import sys
from pathlib import Path

from tgnas import paths

ROOT = paths.PROJECT_ROOT
PACKAGE = "tgnas"


def _module_file(name: str) -> Path | None:
    """``tgnas.a.b`` -> ``tgnas/a/b.py`` or ``tgnas/a/b/__init__.py`` (None if neither exists)."""
    base = ROOT.joinpath(*name.split("."))
    for cand in (base.with_suffix(".py"), base / "__init__.py"):
        if cand.is_file():
            return cand
    return None


def _imports(source: str, module: str | None = None, is_package: bool = False) -> set[str]:
    """Dotted names of the ``tgnas`` modules ``source`` imports (``from x import y``: ``x.y``
    when that is a module, else ``x``); relative imports resolved against ``module``."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                if module is None:
                    continue
                parts = module.split(".")
                parent = parts if is_package else parts[:-1]
                parent = parent[: len(parent) - (node.level - 1)]
                base = ".".join(parent + ([node.module] if node.module else []))
            else:
                base = node.module or ""
            if base.split(".")[0] != PACKAGE:
                continue
            out.add(base)
            out |= {f"{base}.{a.name}" for a in node.names if _module_file(f"{base}.{a.name}") is not None}
    return out


def _with_parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[: i + 1]) for i in range(len(parts))]


def _source(path: Path) -> str:
    if path.suffix != ".ipynb":
        return path.read_text()
    import nbformat

    nb = nbformat.read(path, as_version=4)
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return "\n".join(line for line in code.splitlines() if not line.lstrip().startswith(("%", "!")))


def import_closure(path: Path) -> list[str]:
    """Project-relative paths of every ``tgnas`` file that running ``path`` (a notebook or a
    script) imports."""
    code = _source(Path(path))
    todo, seen, files = list(_imports(code)), set(), set()
    while todo:
        name = todo.pop()
        for mod in _with_parents(name):
            if mod in seen:
                continue
            seen.add(mod)
            f = _module_file(mod)
            if f is None:
                continue
            files.add(f)
            todo += _imports(f.read_text(), mod, is_package=f.name == "__init__.py")
    return sorted(str(f.relative_to(ROOT)) for f in files)


def _stage_notebook(cmd: str) -> str | None:
    """The notebook (or, for a measurement stage, the script) a stage's command runs."""
    m = re.search(r"(notebooks/\d\d_\w+\.ipynb|scripts/\w+\.py)", cmd)
    return m.group(1) if m else None


def stage_closure(cmd: str) -> list[str]:
    """The ``tgnas`` files a stage's command imports: the import closure of the notebook (or
    script) it runs and of every ``python -m tgnas.<module>`` it calls (e.g. the Markdown render
    of the executed notebook); empty for a command that runs neither."""
    nb = _stage_notebook(cmd)
    files = set(import_closure(ROOT / nb)) if nb else set()
    for mod in re.findall(r"python -m (tgnas(?:\.\w+)+)", cmd):
        files |= set(import_closure_of_module(mod))
    return sorted(files)


def import_closure_of_module(module: str) -> list[str]:
    """:func:`import_closure` of the ``tgnas`` module ``module`` itself (its own file included)."""
    f = _module_file(module)
    if f is None:
        raise ValueError(f"{module!r} is not a module of the project; expected e.g. 'tgnas.nbrender'")
    return sorted({str(f.relative_to(ROOT)), *import_closure(f)})


def _covered(path: str, deps: list[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip("/") + "/") for d in deps)


def missing_deps(dvc_yaml: Path | None = None) -> dict[str, list[str]]:
    """``{stage: [tgnas files its notebook imports that no dep covers]}`` (only stages with gaps)."""
    import yaml

    stages = yaml.safe_load((dvc_yaml or ROOT / "dvc.yaml").read_text())["stages"]
    out = {}
    for name, st in stages.items():
        if _stage_notebook(st.get("cmd", "")) is None:
            continue
        deps = [d if isinstance(d, str) else next(iter(d)) for d in st.get("deps", [])]
        gaps = [f for f in stage_closure(st.get("cmd", "")) if not _covered(f, deps)]
        if gaps:
            out[name] = gaps
    return out


def declared_outputs(dvc_yaml: Path | None = None, params_yaml: Path | None = None) -> set[str]:
    """Every path a stage of ``dvc.yaml`` declares (``outs``, ``metrics``, ``plots``), with
    ``${section.key}`` resolved from ``params.yaml``."""
    import yaml

    stages = yaml.safe_load((dvc_yaml or ROOT / "dvc.yaml").read_text())["stages"]
    params = yaml.safe_load((params_yaml or ROOT / "params.yaml").read_text())

    def resolve(m: re.Match) -> str:
        value = params
        for key in m.group(1).split("."):
            value = value[key]
        return str(value)

    out = set()
    for st in stages.values():
        for key in ("outs", "metrics", "plots"):
            for entry in st.get(key) or []:
                path = entry if isinstance(entry, str) else next(iter(entry))
                out.add(re.sub(r"\$\{([\w.]+)\}", resolve, path).rstrip("/"))
    return out


def undeclared(files: list[str], outputs: set[str]) -> list[str]:
    """The ``files`` that are neither a declared output nor inside a declared output folder."""
    return [f for f in files if not _covered(f, sorted(outputs))]


def write_deps(dvc_yaml: Path | None = None) -> list[str]:
    """Rewrite each notebook stage's ``tgnas/`` dep lines with its import closure (other deps
    and the file's layout are kept); return the names of the stages changed."""
    path = dvc_yaml or ROOT / "dvc.yaml"
    lines = path.read_text().splitlines(keepends=True)
    out, changed, i = [], [], 0
    stage, cmd = None, ""
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^  (\w+):\s*$", line)
        if m:
            stage, cmd = m.group(1), ""
        if stage and re.match(r"^    cmd:", line):
            j = i
            cmd = line
            while j + 1 < len(lines) and re.match(r"^      ", lines[j + 1]):
                j += 1
                cmd += lines[j]
        if stage and re.match(r"^    deps:\s*$", line):
            out.append(line)
            i += 1
            block = []
            while i < len(lines) and re.match(r"^      - ", lines[i]):
                block.append(lines[i])
                i += 1
            nb = _stage_notebook(cmd)
            if nb is None:
                out += block
                continue
            # generated: the tgnas/*.py lines; kept: every other dep (package data such as the
            # shipped checkpoint included)
            others = [b for b in block if not (b.strip().startswith(f"- {PACKAGE}/") and b.strip().endswith(".py"))]
            new = others + [f"      - {f}\n" for f in stage_closure(cmd)]
            if new != block:
                changed.append(stage)
            out += new
            continue
        out.append(line)
        i += 1
    path.write_text("".join(out))
    return changed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args == ["--write"]:
        print("rewrote the tgnas deps of:", ", ".join(write_deps()) or "no stage (all up to date)")
        return 0
    if args in ([], ["--check"]):
        gaps = missing_deps()
        print(json.dumps(gaps, indent=1) if gaps else "every stage lists the tgnas modules its notebook imports")
        return 1 if gaps else 0
    print("usage: python -m tgnas.pipeline [--check | --write]", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
