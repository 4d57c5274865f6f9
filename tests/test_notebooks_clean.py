"""Committed notebooks follow the house shape and carry no outputs.

Outputs are allowed only in cells tagged ``keep_output`` (kept on purpose for nbval to
compare); executed copies are pipeline outputs under ``data/generated/notebooks`` (rendered
for readers to ``docs/executed/``). What is judged is the committed blob, not a working copy
that a reader's JupyterLab saved with outputs: the git filter of ``scripts/nbclean.py``
(registered by ``make setup``) strips those on commit.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from tgnas import paths

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
ROOT = paths.PROJECT_ROOT


def _git(*args: str, cwd=ROOT, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, **kw)


def committed_text(path) -> str:
    """``path`` as committed (``HEAD``); a notebook not committed yet as staged; outside a git
    checkout (an unpacked archive) the file, the only copy there is."""
    rel = path.relative_to(ROOT).as_posix()
    if _git("rev-parse", "--git-dir").returncode != 0:
        return path.read_text(encoding="utf-8")
    for rev in (f"HEAD:{rel}", f":{rel}"):
        shown = _git("show", rev)
        if shown.returncode == 0:
            return shown.stdout
    return path.read_text(encoding="utf-8")


def _nbclean():
    spec = importlib.util.spec_from_file_location("nbclean", ROOT / "scripts" / "nbclean.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_there_are_numbered_notebooks():
    assert NOTEBOOKS, f"no numbered notebooks in {paths.NOTEBOOKS_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_and_shaped(path):
    nb = nbformat.reads(committed_text(path), as_version=4)
    # NN_name.ipynb, lower case; the names are the ones the issues give (03_correlations, 04_search)
    assert re.fullmatch(r"\d\d_[a-z0-9]+(_[a-z0-9]+)*\.ipynb", path.name), "name NN_lower_case.ipynb"
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.lstrip().startswith("# "), "first cell: H1 title"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", []), "first code cell must be tagged 'parameters'"
    # the project's kernel (registered into .venv by `make setup`; `make kernel` for another Jupyter)
    assert nb.metadata.get("kernelspec", {}).get("name") == "tgnas", "kernelspec must be the project's 'tgnas'"
    kept = [c for c in code if "keep_output" in c.metadata.get("tags", [])]
    assert kept, f"{path.name}: keep at least one small deterministic output for nbval to compare"
    for i, cell in enumerate(code):
        if "keep_output" in cell.metadata.get("tags", []):
            # kept outputs are compared by nbval even under --nbval-lax
            assert "nbval-check-output" in cell.metadata["tags"], f"code cell {i}: keep_output without nbval-check-output"
            assert cell.get("outputs"), f"code cell {i} of {path.name} is tagged keep_output but has no output"
            # nbval compares only cells that ran: a kept output carries an execution count
            assert cell.get("execution_count") is not None, f"code cell {i}: kept output without execution count"
            assert not any(o.get("name") == "stderr" for o in cell.outputs), f"code cell {i}: kept stderr"
            continue
        assert not cell.get("outputs"), f"code cell {i} of {path.name} has stored outputs: strip them"
        assert cell.get("execution_count") is None, f"code cell {i} of {path.name} has an execution count"


def test_parameters_cells_parse_for_papermill():
    """papermill's --help-notebook lists every parameter (no 'Unable to parse line')."""
    from papermill.inspection import _infer_parameters
    from papermill.iorw import load_notebook_node

    for path in NOTEBOOKS:
        nb = load_notebook_node(str(path))
        code = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
        names = [p.name for p in _infer_parameters(nb)]
        assigned = [line.split("=")[0].strip() for line in code.source.splitlines()
                    if "=" in line and not line.lstrip().startswith("#")]
        assert names == assigned, (path.name, names, assigned)


def _saved_in_jupyterlab(text: str) -> str:
    """``text`` as JupyterLab saves it after "Run all": outputs and counts in every code cell,
    timing metadata, the kernel's language_info."""
    nb = json.loads(text)
    for n, cell in enumerate(c for c in nb["cells"] if c["cell_type"] == "code"):
        cell["execution_count"] = n + 7
        cell["metadata"]["execution"] = {"iopub.status.idle": "2026-01-01T00:00:00Z"}
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hello\n"]},
                           {"output_type": "execute_result", "execution_count": n + 7, "metadata": {},
                            "data": {"text/plain": ["42"]}}]
    nb["metadata"]["language_info"] = {"name": "python", "version": "3.12.1", "mimetype": "text/x-python",
                                       "file_extension": ".py", "pygments_lexer": "ipython3"}
    return json.dumps(nb, indent=1)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_the_clean_filter_keeps_committed_notebooks_and_strips_a_saved_one(path):
    nbclean = _nbclean()
    committed = committed_text(path)
    assert nbclean.clean(committed) == committed, f"{path.name}: the committed blob is not what the filter stores"
    saved = _saved_in_jupyterlab(committed)
    assert saved != committed
    # kept cells keep their committed outputs: the filter cannot know them, so restore them as a save would
    # (a rerun with the smoke defaults prints the same); every other trace of the run goes
    nb_saved, nb_committed = json.loads(saved), json.loads(committed)
    for cs, cc in zip(nb_saved["cells"], nb_committed["cells"]):
        if "keep_output" in cc.get("metadata", {}).get("tags", []):
            cs["outputs"] = cc["outputs"]
    assert nbclean.clean(json.dumps(nb_saved, indent=1)) == committed


def test_make_setup_registers_the_filter_and_git_stores_stripped_notebooks(tmp_path):
    """End to end, in a scratch repository: the Makefile's ``nbfilter`` step (run by ``make
    setup``), the committed ``.gitattributes``, then ``git add`` of a notebook saved with outputs."""
    if shutil.which("make") is None:
        pytest.fail("`make` is needed (the README's set-up is `make test`)")
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    (repo / "notebooks").mkdir()
    shutil.copy(ROOT / "scripts" / "nbclean.py", repo / "scripts" / "nbclean.py")
    shutil.copy(ROOT / ".gitattributes", repo / ".gitattributes")
    assert _git("init", "-q", cwd=repo).returncode == 0
    made = subprocess.run(["make", "--no-print-directory", "-f", str(ROOT / "Makefile"), "nbfilter",
                           f"PY={sys.executable}"], cwd=repo, capture_output=True, text=True)
    assert made.returncode == 0, made.stderr
    assert "scripts/nbclean.py" in _git("config", "filter.nbclean.clean", cwd=repo).stdout
    src = NOTEBOOKS[0]
    committed = committed_text(src)
    (repo / "notebooks" / src.name).write_text(_saved_in_jupyterlab(committed), encoding="utf-8")
    added = _git("add", f"notebooks/{src.name}", cwd=repo)
    assert added.returncode == 0, added.stderr
    stored = nbformat.reads(_git("show", f":notebooks/{src.name}", cwd=repo).stdout, as_version=4)
    for cell in (c for c in stored.cells if c.cell_type == "code"):
        kept = "keep_output" in cell.metadata.get("tags", [])
        assert bool(cell.outputs) == kept and (cell.execution_count is not None) == kept
        assert "execution" not in cell.metadata
    assert stored.metadata["language_info"] == {"name": "python"}
