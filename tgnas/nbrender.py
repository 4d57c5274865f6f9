"""Render an executed notebook as Markdown, so that a reader sees its results without a re-run.

Each pipeline stage runs its notebook with papermill, keeps the executed copy
(``data/generated/notebooks/``, a cached DVC output, git-ignored) and renders it here to
``docs/executed/<name>.md`` (committed, ``cache: false``), which GitHub and any Markdown
viewer show with its tables and figures:

* markdown cells are copied, code cells become fenced Python;
* text output becomes a fenced text block (a progress bar's carriage returns resolved as a
  terminal would, colour codes dropped);
* a table (pandas' ``text/html``) is kept as HTML, without its ``<style>`` block;
* an image links to the figure file with the same bytes (every figure a notebook shows is one
  it saved below ``figures/``, so the Markdown adds no copy of it); an image that is no such
  file is an error naming the cell, or, with ``missing_images="note"``, a note in its place;
* widgets (progress bars) are dropped; an error shows its traceback.

The output depends only on the notebook's sources and outputs (no timings, no random ids),
so a rerun that changes no result leaves the file unchanged.

    python -m tgnas.nbrender EXECUTED.ipynb OUT.md [--figures DIR] [--missing-images note]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import re
import sys
from pathlib import Path

from tgnas import paths
from tgnas.fileio import write_text

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_STYLE = re.compile(r"<style[^>]*>.*?</style>", re.S | re.I)
_STYLER_ID = re.compile(r"T_[0-9a-f]{5}")  # pandas Styler's random table id
_WIDGET = "application/vnd.jupyter.widget-view+json"
_PROGRESS = re.compile(r"\d+%\|[^|]*\|")  # a tqdm bar, as tests/nbval_sanitize.cfg matches it
MISSING_IMAGES = ("error", "note")


def terminal_text(text: str) -> str:
    """``text`` as a terminal shows it: within each line the part after the last carriage
    return (a progress bar's final state), colour codes dropped, blank lines at the ends removed."""
    lines = [_ANSI.sub("", line).split("\r") for line in text.split("\n")]
    shown = [next((seg for seg in reversed(segs) if seg.strip()), "").rstrip() for segs in lines]
    return "\n".join(shown).strip("\n")


def _fence(text: str, lang: str = "") -> str:
    """``text`` in a fenced block whose fence is longer than any backtick run inside it."""
    ticks = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{ticks}{lang}\n{text}\n{ticks}"


def _html_table(html: str) -> str:
    """A pandas table as one Markdown HTML block: no ``<style>``, no random Styler ids, no
    blank lines (a blank line would end the HTML block)."""
    html = _STYLER_ID.sub("T", _STYLE.sub("", html))
    return "\n".join(line for line in html.splitlines() if line.strip())


def _figure_index(figures_dir: Path) -> dict[str, Path]:
    """``{sha256 of the bytes: file}`` of every PNG below ``figures_dir``."""
    if not figures_dir.is_dir():
        return {}
    return {hashlib.sha256(f.read_bytes()).hexdigest(): f for f in sorted(figures_dir.glob("**/*.png"))}


class _Renderer:
    """Turns one notebook's cells into Markdown blocks (see the module docstring)."""

    def __init__(self, out_dir: Path, figures: dict[str, Path], missing_images: str):
        if missing_images not in MISSING_IMAGES:
            raise ValueError(f"missing_images={missing_images!r}: expected one of {MISSING_IMAGES}")
        self.out_dir, self.figures, self.missing_images = out_dir, figures, missing_images

    def image(self, b64: str, where: str) -> str:
        digest = hashlib.sha256(base64.b64decode(b64)).hexdigest()
        if digest in self.figures:
            f = self.figures[digest]
            return f"![{f.name}]({Path(os.path.relpath(f, self.out_dir)).as_posix()})"
        if self.missing_images == "error":
            raise ValueError(f"{where}: an image that is no file below the figures folder; save the figure "
                             "(tgnas.fileio.save_figure) and display the file (IPython.display.Image)")
        return f"*({where}: an image the notebook did not save as a figure file, not rendered here)*"

    def output(self, out: dict, where: str) -> str | None:
        kind = out.get("output_type")
        if kind == "stream":
            text = terminal_text("".join(out.get("text", "")))
            return _fence(text, "text") if text else None
        if kind == "error":
            return _fence(terminal_text("\n".join(out.get("traceback", []))) or out.get("ename", "error"), "text")
        data = out.get("data", {})
        if _WIDGET in data:
            return None
        if "image/png" in data:
            return self.image(data["image/png"], where)
        if "text/markdown" in data:
            return "".join(data["text/markdown"])
        if "text/html" in data:
            return _html_table("".join(data["text/html"]))
        text = terminal_text("".join(data.get("text/plain", "")))
        return _fence(text, "text") if text else None

    def cell(self, cell: dict, index: int) -> list[str]:
        source = "".join(cell.get("source", ""))
        if cell.get("cell_type") == "markdown":
            return [source]
        if cell.get("cell_type") != "code":
            return []
        blocks = []
        if "injected-parameters" in cell.get("metadata", {}).get("tags", []):
            blocks.append("*Parameters passed by the pipeline (they override the cell above):*")
        if source.strip():
            blocks.append(_fence(source.strip("\n"), "python"))
        blocks += [b for o in cell.get("outputs", []) if (b := self.output(o, f"cell {index}")) is not None]
        return blocks


def _merge_streams(outputs: list[dict]) -> list[dict]:
    """Consecutive stream outputs of one name joined (tqdm writes one per update)."""
    out: list[dict] = []
    for o in outputs:
        if (o.get("output_type") == "stream" and out and out[-1].get("output_type") == "stream"
                and out[-1].get("name") == o.get("name")):
            out[-1] = {**out[-1], "text": "".join(out[-1]["text"]) + "".join(o.get("text", ""))}
        else:
            out.append(dict(o))
    return out


def _clean_streams(outputs: list[dict]) -> list[dict]:
    """Streams as a terminal shows them, progress bars dropped, empty ones removed, and the
    stdout pieces that progress bars on stderr had separated joined again."""
    kept = []
    for o in _merge_streams(outputs):
        if o.get("output_type") == "stream":
            lines = terminal_text("".join(o.get("text", ""))).split("\n")
            text = "\n".join(line for line in lines if not _PROGRESS.search(line)).strip("\n")
            if not text:
                continue
            o = {**o, "text": text + "\n"}
        kept.append(o)
    return _merge_streams(kept)


def _header(nb: dict, source: Path, out_dir: Path) -> str:
    """A do-not-edit comment and a line naming the notebook source and the executed copy."""
    shown = paths.rel(source)
    line = f"<!-- generated from {shown} by `python -m tgnas.nbrender`; do not edit -->\n"
    input_path = nb.get("metadata", {}).get("papermill", {}).get("input_path")
    if input_path and not Path(input_path).is_absolute() and (paths.PROJECT_ROOT / input_path).is_file():
        link = Path(os.path.relpath(paths.PROJECT_ROOT / input_path, out_dir)).as_posix()
        line += (f"*The notebook [`{input_path}`]({link}) as the pipeline last ran it (executed copy: "
                 f"`{shown}`), rendered with its outputs.*")
    else:
        line += f"*The executed notebook `{shown}`, rendered with its outputs.*"
    return line


def render_markdown(executed: Path, out: Path, figures_dir: Path | None = None,
                    missing_images: str = "error") -> str:
    """The Markdown of the executed notebook ``executed`` as it will sit at ``out`` (links are
    relative to ``out``'s folder); images are looked up below ``figures_dir`` (default
    :data:`tgnas.paths.FIGURES_DIR`)."""
    import nbformat

    executed, out = Path(executed), Path(out).resolve()
    nb = nbformat.read(executed, as_version=4)
    figures = _figure_index(Path(figures_dir) if figures_dir is not None else paths.FIGURES_DIR)
    renderer = _Renderer(out.parent, figures, missing_images)
    blocks = [_header(nb, executed.resolve(), out.parent)]
    for i, cell in enumerate(nb.cells):
        cell = dict(cell, outputs=_clean_streams(cell.get("outputs", [])))
        blocks += renderer.cell(cell, i)
    return "\n\n".join(b.strip("\n") for b in blocks if b.strip()) + "\n"


def write_markdown(executed: Path, out: Path, figures_dir: Path | None = None,
                   missing_images: str = "error") -> Path:
    """Render ``executed`` (see :func:`render_markdown`) and write it to ``out`` atomically."""
    text = render_markdown(executed, out, figures_dir, missing_images)
    return write_text(paths.ensure_dir(Path(out).parent) / Path(out).name, text, True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tgnas.nbrender", description=__doc__.split("\n\n")[0])
    ap.add_argument("executed", type=Path, help="an executed notebook (.ipynb)")
    ap.add_argument("out", type=Path, help="the Markdown file to write (overwritten)")
    ap.add_argument("--figures", type=Path, default=None, help="folder of the figure files (default: figures/)")
    ap.add_argument("--missing-images", choices=MISSING_IMAGES, default="error",
                    help="an image that is no figure file: fail (default) or leave a note")
    args = ap.parse_args(argv)
    if not args.executed.is_file():
        ap.error(f"{args.executed}: no such notebook; expected an executed .ipynb (papermill's output)")
    try:
        out = write_markdown(args.executed, args.out, args.figures, args.missing_images)
    except ValueError as e:
        print(f"python -m tgnas.nbrender: error: {args.executed}: {e}", file=sys.stderr)
        return 2
    print("wrote", paths.rel(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
