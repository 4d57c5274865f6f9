"""Draw a DARTS genotype (both cells) with matplotlib (no graphviz needed)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tgnas.spaces.darts.arch import CELL_TYPES, INTERMEDIATE_NODES, Genotype, check_genotype

_OP_COLOURS: dict[str, str] = {
    "none": "#bbbbbb", "max_pool_3x3": "#1f77b4", "avg_pool_3x3": "#17becf", "skip_connect": "#7f7f7f",
    "sep_conv_3x3": "#d62728", "sep_conv_5x5": "#ff7f0e", "dil_conv_3x3": "#2ca02c", "dil_conv_5x5": "#9467bd",
}


def _positions() -> dict[Any, tuple[float, float]]:
    # inputs on the left, intermediate nodes staggered in the middle, output on the right
    pos: dict[Any, tuple[float, float]] = {0: (0.0, 2.2), 1: (0.0, 0.8)}
    for n, k in enumerate(INTERMEDIATE_NODES):
        pos[k] = (1.4 + 1.1 * n, 3.0 - 1.0 * n)
    pos["out"] = (6.2, 1.5)
    return pos


def draw_cell(ax, genotype: Genotype, cell: str) -> None:
    """Draw one cell of ``genotype`` on the matplotlib axes ``ax``.

    Nodes: ``c_{k-2}``, ``c_{k-1}`` (inputs 0, 1), intermediate nodes 0..3 (DARTS' numbering
    of nodes 2..5), ``c_{k}`` (the concatenated output). Each edge is an arrow labelled
    with its op and coloured by op.
    """
    check_genotype(genotype)
    pos = _positions()
    names = {0: "c_{k-2}", 1: "c_{k-1}", "out": "c_{k}", **{k: str(k - 2) for k in INTERMEDIATE_NODES}}
    colours = {0: "#a6dba0", 1: "#a6dba0", "out": "#f1b6da", **{k: "#abd9e9" for k in INTERMEDIATE_NODES}}
    pairs = genotype.cell(cell)

    def arrow(a, b, colour: str, rad: float) -> None:
        ax.annotate("", xy=pos[b], xytext=pos[a], zorder=1,
                    arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.6, shrinkA=14, shrinkB=14,
                                    connectionstyle=f"arc3,rad={rad}"))

    for e, (op, inp) in enumerate(pairs):
        node = INTERMEDIATE_NODES[e // 2]
        rad = 0.15 if e % 2 == 0 else -0.15
        colour = _OP_COLOURS.get(op, "black")
        arrow(inp, node, colour, rad)
        (x0, y0), (x1, y1) = pos[inp], pos[node]
        ax.text(0.55 * x0 + 0.45 * x1, 0.55 * y0 + 0.45 * y1 + (0.12 if rad > 0 else -0.12), op,
                fontsize=7, color=colour, ha="center", va="center", zorder=3,
                bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
    for k in genotype.concat(cell):
        arrow(k, "out", "#555555", 0.0)
    for node, (x, y) in pos.items():
        ax.scatter([x], [y], s=900, color=colours[node], edgecolor="black", zorder=2)
        ax.text(x, y, f"${names[node]}$" if "_" in names[node] else names[node], ha="center", va="center",
                fontsize=9, zorder=4)
    ax.set_title(f"{cell} cell")
    ax.set_xlim(-0.6, 6.8)
    ax.set_ylim(-0.6, 3.6)
    ax.axis("off")


def draw_genotype(genotype: Genotype, title: str | None = None):
    """A matplotlib figure with the normal and the reduction cell of ``genotype`` side by side."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    for ax, cell in zip(axes, CELL_TYPES):
        draw_cell(ax, genotype, cell)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_nb201_results(df, optimum: dict[str, float] | None = None, top1: float | None = None,
                       anchors: dict[str, float] | None = None):
    """Strip plot of the found cells' CIFAR-10 test accuracy per (scorer, algorithm).

    Args:
        df: :func:`tgnas.search.evaluate.results_frame` rows (columns ``scorer``,
            ``algorithm``, ``cifar10``).
        optimum: per-dataset optimum (a dashed line at ``optimum["cifar10"]``).
        top1: the top-1 % threshold of CIFAR-10 accuracy (a dotted line).
        anchors: ``{method: CIFAR-10 accuracy}`` of published searches (grey dash-dot lines).
    """
    import matplotlib.pyplot as plt

    groups = list(df.groupby(["scorer", "algorithm"], sort=True))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.1 * len(groups) + 2), 3.8))
    for n, ((scorer, alg), g) in enumerate(groups):
        jitter = np.linspace(-0.12, 0.12, len(g)) if len(g) > 1 else np.zeros(1)
        ax.scatter(n + jitter, g["cifar10"], s=22, alpha=0.8)
        ax.hlines(g["cifar10"].mean(), n - 0.25, n + 0.25, color="black", lw=1.5)
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([f"{a}\n({s})" for (s, a), _ in groups], fontsize=8)
    if optimum:
        ax.axhline(optimum["cifar10"], ls="--", color="tab:green", lw=1, label=f"optimum {optimum['cifar10']:.2f}")
    if top1 is not None:
        ax.axhline(top1, ls=":", color="tab:red", lw=1, label=f"top 1 % ({top1:.2f})")
    for k, (name, acc) in enumerate((anchors or {}).items()):
        ax.axhline(acc, ls="-.", color=("0.35", "0.6")[k % 2], lw=0.9, label=f"{name} {acc:.2f}")
    ax.set_ylabel("CIFAR-10 test accuracy (%)")
    ax.set_title("NB201: true accuracy of the found cells (one dot per seed, bar = mean)")
    if optimum or top1 is not None or anchors:
        ax.legend(fontsize=7, loc="best")
    lo = min(df["cifar10"].min(), top1 if top1 is not None else np.inf, *(anchors or {}).values())
    hi = max(df["cifar10"].max(), optimum["cifar10"] if optimum else -np.inf)
    ax.set_ylim(lo - 0.15 * (hi - lo + 0.1), hi + 0.15 * (hi - lo + 0.1))
    fig.tight_layout()
    return fig


def plot_surrogate_rank(found: float | dict[str, float], random_accuracies, label: str = "found"):
    """Histogram of the NB301-surrogate accuracy of random genotypes, with the found one marked
    (``found``: one accuracy, shown as ``label``, or ``{label: accuracy}`` for several)."""
    import matplotlib.pyplot as plt

    marks = found if isinstance(found, dict) else {label: found}
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.hist(random_accuracies, bins=40, color="#9ecae1", edgecolor="white", label=f"{len(random_accuracies)} random")
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    one = len(marks) == 1
    for k, (name, acc) in enumerate(marks.items()):
        ax.axvline(acc, color="tab:red" if one else colours[(k + 3) % len(colours)], lw=2 if one else 1.2,
                   label=f"{name} ({acc:.2f} %)")
    ax.set_xlabel("NB301 surrogate CIFAR-10 accuracy (%)")
    ax.set_ylabel("genotypes")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig
