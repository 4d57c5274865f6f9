#!/usr/bin/env python
"""Re-record the outputs that nbval compares (cells tagged ``keep_output``).

Runs the numbered notebooks in order with their smoke defaults, as ``make test`` does
(outputs under a throw-away ``TGNAS_OUTPUT_ROOT``, the pinned numerics, offline), and copies the
stdout of every ``keep_output`` cell into the committed notebook. Run it after a change
that is *meant* to change a kept result, and review the diff: a kept output is a check.

    python scripts/refresh_kept_outputs.py [01_operator_embeddings 02_train_predictor ...]
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    names = sys.argv[1:] if argv is None else argv
    out_root = Path(tempfile.mkdtemp(prefix="tgnas-kept-outputs-"))
    # set before any kernel starts; kernels inherit the environment (the pinned numerics too, as
    # under `make test`: conftest.py)
    sys.path.insert(0, str(ROOT))
    from tgnas.numerics import PINNED_ENV

    os.environ.update(PINNED_ENV)
    os.environ.update(TGNAS_OUTPUT_ROOT=str(out_root), HF_HUB_OFFLINE="1", MPLBACKEND="Agg",
                      PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    import nbformat
    import papermill

    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    unknown = set(names) - {p.stem for p in notebooks}
    if unknown:
        raise SystemExit(f"unknown notebooks {sorted(unknown)}; expected some of {[p.stem for p in notebooks]}")
    if names:  # nothing after the last one asked for needs to run
        notebooks = notebooks[: max(i for i, p in enumerate(notebooks) if p.stem in names) + 1]
    for nb_path in notebooks:  # in order: later notebooks read what earlier ones wrote
        executed = out_root / "executed" / nb_path.name
        executed.parent.mkdir(parents=True, exist_ok=True)
        print("running", nb_path.name, flush=True)
        papermill.execute_notebook(str(nb_path), str(executed), kernel_name="python3", progress_bar=False,
                                   cwd=str(ROOT))
        if names and nb_path.stem not in names:
            continue
        nb, ex = nbformat.read(nb_path, as_version=4), nbformat.read(executed, as_version=4)
        count = 0
        for cell, done in zip(nb.cells, ex.cells):
            if cell.cell_type != "code" or "keep_output" not in cell.metadata.get("tags", []):
                continue
            outs = [o for o in done.outputs if o.output_type == "stream" and o.name == "stdout"]
            for o in outs:  # paths below the throw-away root, as paths.rel prints them
                o.text = o.text.replace(str(out_root) + "/", "")
            count += 1
            cell.outputs, cell.execution_count = outs, count
        nbformat.write(nb, nb_path)
        print(f"  kept outputs of {count} cell(s) recorded", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
