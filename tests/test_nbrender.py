"""Executed notebooks rendered as Markdown for readers (``tgnas.nbrender``), on a small
synthetic notebook."""

from __future__ import annotations

import base64
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tgnas import nbrender, paths

PNG = bytes.fromhex("89504e470d0a1a0a") + b"not really a png, bytes are what matter"


def _executed(tmp_path, image: bytes = PNG):
    nb = new_notebook(cells=[
        new_markdown_cell("# 99 · A title\n\nSome *prose*."),
        new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        new_code_cell("# Parameters\nx = 2\n", metadata={"tags": ["injected-parameters"]}),
        new_code_cell("train()", outputs=[
            new_output("stream", name="stderr",
                       text="\repoch 1:  50%|█████     | 1/2\repoch 1: 100%|██████████| 2/2\n"),
            new_output("stream", name="stdout", text="epoch 1: loss 0.5\n"),
            new_output("stream", name="stderr", text="\repoch 2: 100%|██████████| 2/2\n"),
            new_output("stream", name="stdout", text="epoch 2: loss \x1b[31m0.4\x1b[0m\n"),
            new_output("display_data", data={"application/vnd.jupyter.widget-view+json": {"model_id": "a"},
                                             "text/plain": "HBox()"}),
        ]),
        new_code_cell("df", outputs=[new_output("execute_result", execution_count=3, data={
            "text/html": '<div>\n<style scoped>\n .x {color: red}\n</style>\n\n<table id="T_ab12c">'
                         "<tr><td>0.62</td></tr></table>\n</div>",
            "text/plain": "   tau\n0  0.62"})]),
        new_code_cell("show()", outputs=[new_output("display_data", data={
            "image/png": base64.b64encode(image).decode(), "text/plain": "<IPython.core.display.Image object>"})]),
        new_code_cell("1/0", outputs=[new_output("error", ename="ZeroDivisionError", evalue="division by zero",
                                                 traceback=["\x1b[31mZeroDivisionError\x1b[0m: division by zero"])]),
    ])
    nb.metadata["papermill"] = {"input_path": "notebooks/07_compare_paper.ipynb"}
    path = tmp_path / "executed.ipynb"
    nbformat.write(nb, path)
    return path


def _figures(tmp_path):
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "99_plot.png").write_bytes(PNG)
    return figures


def test_a_rendered_notebook_shows_prose_code_text_tables_and_linked_figures(tmp_path):
    md = nbrender.render_markdown(_executed(tmp_path), tmp_path / "docs" / "executed" / "99.md", _figures(tmp_path))
    assert "# 99 · A title\n\nSome *prose*." in md
    assert "```python\nx = 1\n```" in md
    assert ("*Parameters passed by the pipeline (they override the cell above):*\n\n"
            "```python\n# Parameters\nx = 2\n```") in md
    # stdout in one block, the progress bars on stderr and the widget gone, colour codes dropped
    assert "```text\nepoch 1: loss 0.5\nepoch 2: loss 0.4\n```" in md
    assert "%|" not in md and "HBox" not in md and "\x1b" not in md
    # the table as HTML without its style and random Styler id, in one block (no blank line inside)
    assert '<div>\n<table id="T"><tr><td>0.62</td></tr></table>\n</div>' in md and "color: red" not in md
    # the image links the figure file with the same bytes, relative to the Markdown's folder
    assert "![99_plot.png](../../figures/99_plot.png)" in md
    assert "```text\nZeroDivisionError: division by zero\n```" in md
    # a header says it is generated and links the source notebook
    assert md.startswith("<!-- generated from ")
    assert "[`notebooks/07_compare_paper.ipynb`](" in md


def test_an_image_that_is_no_saved_figure_is_an_error_or_a_note(tmp_path):
    executed, figures = _executed(tmp_path, image=b"\x89PNG other bytes"), _figures(tmp_path)
    with pytest.raises(ValueError, match="cell 5: an image that is no file below the figures folder"):
        nbrender.render_markdown(executed, tmp_path / "out.md", figures)
    md = nbrender.render_markdown(executed, tmp_path / "out.md", figures, missing_images="note")
    assert "*(cell 5: an image the notebook did not save as a figure file, not rendered here)*" in md
    with pytest.raises(ValueError, match="missing_images='skip'"):
        nbrender.render_markdown(executed, tmp_path / "out.md", figures, missing_images="skip")


def test_the_command_writes_the_markdown_and_rejects_a_missing_notebook(tmp_path):
    executed, figures = _executed(tmp_path), _figures(tmp_path)
    out = tmp_path / "docs" / "99.md"
    run = subprocess.run([sys.executable, "-m", "tgnas.nbrender", str(executed), str(out), "--figures", str(figures)],
                         capture_output=True, text=True, cwd=paths.PROJECT_ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == f"wrote {paths.rel(out)}"
    assert out.read_text() == nbrender.render_markdown(executed, out, figures)  # deterministic
    bad = subprocess.run([sys.executable, "-m", "tgnas.nbrender", str(tmp_path / "nope.ipynb"), str(out)],
                         capture_output=True, text=True, cwd=paths.PROJECT_ROOT)
    assert bad.returncode == 2 and "nope.ipynb: no such notebook" in bad.stderr


def test_terminal_text_keeps_what_a_terminal_shows():
    assert nbrender.terminal_text("\r 10%\r 90%\r100% done\nnext\n\n") == "100% done\nnext"
    assert nbrender.terminal_text("a\r   \r\n") == "a"
