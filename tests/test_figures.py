"""The pipeline's figures, drawn from small synthetic inputs: what a reader needs is there
(legends, titles, human names, error bars, the selected rule) and nothing is cut or covered.
Checked on the matplotlib objects (text, extents after a draw), never on pixels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from tgnas.experiments.correlations.ablations import ablations_figure  # noqa: E402
from tgnas.experiments.correlations.correlation import main_table_figure  # noqa: E402
from tgnas.experiments.paper_vs_companion import Row, table_figure  # noqa: E402
from tgnas.experiments.search_figures import NODE_SIZE, draw_genotype  # noqa: E402
from tgnas.experiments.tgnas_plus.report import plot_rules  # noqa: E402
from tgnas.spaces.darts.arch import DARTS_V2, parse_genotype  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _overlaps(a, b) -> bool:
    return a.x0 < b.x1 and b.x0 < a.x1 and a.y0 < b.y1 and b.y0 < a.y1


def _renderer(fig):
    fig.canvas.draw()
    return fig.canvas.get_renderer()


# ------------------------------------------------------------------ 03: the NB201 main table

def _main_frame() -> pd.DataFrame:
    rows = []
    for ds in ("cifar10", "cifar100"):
        for m, n, tau in (("nwot", 9445, 0.62), ("tgnas", 15625, 0.61), ("tgnas_zc_cells", 9445, 0.58),
                          ("params", 15625, 0.57), ("synflow", 9445, 0.55), ("plain", 9445, -0.2)):
            rows.append({"dataset": ds, "method": m, "n": n, "kendall": tau,
                         "kendall_ci": f"[{tau - 0.01:.3f}, {tau + 0.01:.3f}]"})
    return pd.DataFrame(rows)


def test_main_table_shows_human_names_and_a_legend_clear_of_the_axes():
    fig = main_table_figure(_main_frame())
    ticks = [t.get_text() for t in fig.axes[0].get_xticklabels()]
    assert ticks == ["NASWOT", "TG-NAS", "TG-NAS (9,445 suite cells)", "#params", "synflow", "plain"]
    assert not {"nwot", "tgnas", "tgnas_zc_cells"} & set(ticks)
    (legend,) = fig.legends
    labels = [t.get_text() for t in legend.get_texts()]
    assert labels[0] == "TG-NAS (ours)" and any("9,445" in x for x in labels) and any("paper" in x for x in labels)
    r = _renderer(fig)
    box = legend.get_window_extent(r)
    ylabel = fig.axes[0].yaxis.label
    assert ylabel.get_text() == "Kendall τ (95 % CI)"
    assert not _overlaps(box, ylabel.get_window_extent(r))
    assert all(not _overlaps(box, ax.get_window_extent(r)) for ax in fig.axes)
    assert box.y1 <= fig.bbox.y1 + 1  # inside the figure, not cut off


# ------------------------------------------------------------------ 03: ablations

def _ablation_rows(seeds: int) -> pd.DataFrame:
    rows = []
    for s in range(seeds):
        for g, v, cells, tau in (("base", "minilm/short/pairwise", 4000, 0.63), ("graph_form", "full", 4000, 0.44),
                                 ("embedding", "onehot/short", 4000, -0.2), ("loss", "mse", 4000, 0.5),
                                 ("data", "1% nb101", 400, 0.55), ("data", "10% nb101", 4000, 0.63),
                                 ("data", "nb301 (500 cells)", 500, 0.36)):
            rows.append({"seed": s, "group": g, "variant": v, "train_cells": cells, "cifar10_kendall": tau + 0.02 * s})
    return pd.DataFrame(rows)


def _has_error_bars(ax) -> bool:
    return any(getattr(c, "errorbar", None) is not None or c.__class__.__name__ == "ErrorbarContainer"
               and c.has_yerr for c in ax.containers)


@pytest.mark.parametrize("seeds", [1, 3])
def test_ablations_have_a_title_a_colour_legend_and_error_bars_only_with_spread(seeds):
    fig = ablations_figure(_ablation_rows(seeds))
    assert "Ablations" in fig._suptitle.get_text()
    assert ("mean ± std over 3 seeds" in fig._suptitle.get_text()) == (seeds == 3)
    bars_ax, curve_ax = fig.axes
    legend = bars_ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["base", "graph_form", "embedding", "loss"]
    assert _has_error_bars(bars_ax) == (seeds > 1) and _has_error_bars(curve_ax) == (seeds > 1)


# ------------------------------------------------------------------ 06: the rule study

def _rule_summary() -> pd.DataFrame:
    rows = []
    for members in (1, 3):
        for signals in ("lite", "lite+az"):
            for weighting in ("nb301", "equal"):
                rows.append({"members": members, "signals": signals, "weighting": weighting,
                             "nb301_cv_kendall_mean": 0.4, "nb301_cv_kendall_std": 0.02,
                             "cifar10_kendall_mean": 0.7, "cifar10_kendall_std": 0.01})
    return pd.DataFrame(rows)


def test_the_rule_figure_marks_the_selected_rule():
    fig = plot_rules(_rule_summary(), selected={"signals": "lite+az", "weighting": "nb301"})
    ticks = fig.axes[0].get_yticklabels()
    marked = [t for t in ticks if t.get_text().startswith("★")]
    assert [t.get_text() for t in marked] == ["★ lite+az / nb301 (1)"] and marked[0].get_fontweight() == "bold"
    i = [t.get_text() for t in ticks].index("★ lite+az / nb301 (1)")
    for ax in fig.axes:
        widths = [p.get_linewidth() for p in ax.patches]
        assert widths[i] == 2.0 and sum(w > 0 for w in widths) == 1  # outlined in both panels, nothing else
    assert any("selected rule" in t.get_text() for t in fig.legends[0].get_texts())
    unmarked = plot_rules(_rule_summary())
    assert not any(t.get_text().startswith("★") for t in unmarked.axes[0].get_yticklabels())
    with pytest.raises(ValueError, match="not a one-predictor row"):
        plot_rules(_rule_summary(), selected={"signals": "az", "weighting": "nb301"})


# ------------------------------------------------------------------ 07: paper vs companion

def _row(paper: str, quantity: str) -> Row:
    return Row("k", "claim", "DARTS search", quantity, "DARTS space", paper, "src", "inconclusive", "reason",
               "companion")


def test_the_comparison_table_shows_every_text_in_full_and_fills_its_figure():
    long = "competitive CIFAR-10 error (DARTS protocol: 600 epochs, 20 cells, 36 channels)"
    fig = table_figure([_row(long, "the found cell's CIFAR-10 test error"),
                        _row("0.57", "0.1%: 0.314; 1%: 0.554; 10%: 0.635; 100%: 0.583")])
    table = fig.axes[0].tables[0]
    cells = table.get_celld()
    shown = {" ".join(c.get_text().get_text().split()) for c in cells.values()}
    assert long in shown and "0.1%: 0.314; 1%: 0.554; 10%: 0.635; 100%: 0.583" in shown
    r = _renderer(fig)
    for cell in cells.values():  # no text runs past its cell
        text, box = cell.get_text().get_window_extent(r), cell.get_window_extent(r)
        assert text.x0 >= box.x0 - 1 and text.x1 <= box.x1 + 1 and text.y0 >= box.y0 - 1 and text.y1 <= box.y1 + 1
    tb = table.get_window_extent(r)
    # no blank margins: the table spans the width, and only the title's band (< 0.5 inch) is above it
    assert tb.width >= 0.95 * fig.bbox.width and fig.bbox.height - tb.height <= 0.5 * fig.dpi


# ------------------------------------------------------------------ 04: the DARTS genotype

FOUND = parse_genotype(
    "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), "
    "('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2)], "
    "normal_concat=[2, 3, 4, 5], reduce=[('avg_pool_3x3', 0), ('skip_connect', 1), ('avg_pool_3x3', 0), "
    "('sep_conv_5x5', 2), ('sep_conv_5x5', 0), ('sep_conv_5x5', 2), ('sep_conv_5x5', 0), ('sep_conv_5x5', 1)], "
    "reduce_concat=[2, 3, 4, 5])")


@pytest.mark.parametrize("genotype", [FOUND, DARTS_V2], ids=["found by the pipeline", "DARTS_V2"])
def test_genotype_edge_labels_cover_no_node_and_no_other_label(genotype):
    fig = draw_genotype(genotype, title="t")
    r = _renderer(fig)
    radius = np.sqrt(NODE_SIZE / np.pi) * fig.dpi / 72
    for ax in fig.axes:
        labels = [t for t in ax.texts if t.get_gid() == "edge-label"]
        assert len(labels) == 8
        boxes = [t.get_window_extent(r) for t in labels]
        centres = np.vstack([ax.transData.transform(c.get_offsets()) for c in ax.collections if c.get_gid() == "node"])
        assert len(centres) == 7
        for t, b in zip(labels, boxes):
            for cx, cy in centres:
                dx, dy = max(b.x0 - cx, 0, cx - b.x1), max(b.y0 - cy, 0, cy - b.y1)
                assert np.hypot(dx, dy) >= radius, f"{ax.get_title()}: label {t.get_text()!r} covers a node"
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                assert not _overlaps(boxes[i], boxes[j]), (ax.get_title(), labels[i].get_text(), labels[j].get_text())
