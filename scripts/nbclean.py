#!/usr/bin/env python
"""Git clean filter for the notebooks: what git stores is the notebook without its outputs.

``make setup`` registers it (``git config filter.nbclean.clean``; ``.gitattributes`` applies it
to ``notebooks/*.ipynb``), so that saving a notebook in JupyterLab (Ctrl-S, or autosave after
a run) never puts outputs into what is committed, and ``git diff`` shows only source edits.

nbstripout strips outputs, execution counts and volatile metadata (timings, widget state, the
Python version); the cells tagged ``keep_output`` (small deterministic results that nbval
compares) keep their outputs and get consecutive execution counts back, as
``scripts/refresh_kept_outputs.py`` records them, because nbval compares only cells that ran.
A committed notebook is a fixed point: cleaning it changes nothing (a test checks this).

    python scripts/nbclean.py < saved.ipynb > committed.ipynb   # the filter
    python scripts/nbclean.py FILE.ipynb ...                     # clean files in place
"""

from __future__ import annotations

import sys
from pathlib import Path

#: Metadata that changes with every run or machine (nbstripout's defaults, papermill's
#: records, and every ``language_info`` field but the language's name).
EXTRA_KEYS = (
    "metadata.signature", "metadata.widgets", "metadata.papermill", "metadata.execution",
    "metadata.language_info.version", "metadata.language_info.codemirror_mode",
    "metadata.language_info.file_extension", "metadata.language_info.mimetype",
    "metadata.language_info.nbconvert_exporter", "metadata.language_info.pygments_lexer",
    "cell.metadata.collapsed", "cell.metadata.ExecuteTime", "cell.metadata.execution", "cell.metadata.papermill",
    "cell.metadata.heading_collapsed", "cell.metadata.hidden", "cell.metadata.scrolled",
)


def clean(text: str) -> str:
    """The notebook JSON ``text`` as git stores it (see the module docstring)."""
    import nbformat
    from nbstripout import strip_output

    nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
    strip_output(nb, keep_output=False, keep_count=False, keep_id=True, extra_keys=list(EXTRA_KEYS))
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and "keep_output" in cell.metadata.get("tags", []):
            count += 1
            cell.execution_count = count
            for out in cell.get("outputs", []):
                if "execution_count" in out:
                    out["execution_count"] = count
    return nbformat.writes(nb) + "\n"


def main(argv: list[str] | None = None) -> int:
    files = sys.argv[1:] if argv is None else argv
    if not files:
        sys.stdout.write(clean(sys.stdin.read()))
        return 0
    for name in files:
        path = Path(name)
        if path.suffix != ".ipynb" or not path.is_file():
            print(f"nbclean: {name}: not a notebook file; expected an existing .ipynb", file=sys.stderr)
            return 2
        text = path.read_text(encoding="utf-8")
        cleaned = clean(text)
        if cleaned != text:
            path.write_text(cleaned, encoding="utf-8")
            print(f"cleaned {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
