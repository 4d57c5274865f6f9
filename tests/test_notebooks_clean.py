"""Committed notebooks follow the house shape and carry no outputs.

Outputs are allowed only in cells tagged ``keep_output`` (kept on purpose for nbval to
compare); executed copies are pipeline outputs under ``data/generated/notebooks``.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from tgnas import paths

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_there_are_numbered_notebooks():
    assert NOTEBOOKS, f"no numbered notebooks in {paths.NOTEBOOKS_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stripped_and_shaped(path):
    nb = nbformat.read(path, as_version=4)
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
