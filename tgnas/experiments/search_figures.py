"""Draw a DARTS genotype (both cells) with matplotlib (no graphviz needed)."""

from __future__ import annotations

from typing import Any

import numpy as np

from tgnas.spaces.darts.arch import CELL_TYPES, INTERMEDIATE_NODES, Genotype, check_genotype

_OP_COLOURS: dict[str, str] = {
    "none": "#bbbbbb", "max_pool_3x3": "#1f77b4", "avg_pool_3x3": "#17becf", "skip_connect": "#7f7f7f",
    "sep_conv_3x3": "#d62728", "sep_conv_5x5": "#ff7f0e", "dil_conv_3x3": "#2ca02c", "dil_conv_5x5": "#9467bd",
}


#: Node marker area (points²) and the edge-label font size of :func:`draw_cell`.
NODE_SIZE, LABEL_FONTSIZE = 900, 7
#: Where along an edge (Bézier parameter from its source) a label may sit, in order of preference.
_LABEL_T = (0.5, 0.42, 0.58, 0.34, 0.66, 0.27, 0.73, 0.2, 0.8)


def _positions() -> dict[Any, tuple[float, float]]:
    # inputs on the left, intermediate nodes on a descending diagonal (edges between consecutive
    # nodes long enough for a label between them), output on the right
    pos: dict[Any, tuple[float, float]] = {0: (0.0, 2.8), 1: (0.0, 0.6)}
    for n, k in enumerate(INTERMEDIATE_NODES):
        pos[k] = (2.2 + 1.9 * n, 3.5 - 1.15 * n)
    pos["out"] = (9.9, 1.8)
    return pos


def _arc_point(a: tuple[float, float], b: tuple[float, float], rad: float, t: float) -> tuple[float, float]:
    """The point at parameter ``t`` of matplotlib's ``arc3,rad=rad`` curve from ``a`` to ``b``
    (a quadratic Bézier; exact in data coordinates because the axes have equal aspect)."""
    (x0, y0), (x2, y2) = a, b
    cx, cy = (x0 + x2) / 2 + rad * (y2 - y0), (y0 + y2) / 2 - rad * (x2 - x0)
    u = 1 - t
    return u * u * x0 + 2 * u * t * cx + t * t * x2, u * u * y0 + 2 * u * t * cy + t * t * y2


def _overlap(box, others, circles, radius: float) -> float:
    """How much the display-space ``box`` overlaps the ``others`` boxes and the node ``circles``
    (centres, one ``radius``): 0 when it touches none."""
    score = sum(max(0.0, min(box.x1, o.x1) - max(box.x0, o.x0)) * max(0.0, min(box.y1, o.y1) - max(box.y0, o.y0))
                for o in others)
    for cx, cy in circles:
        dx = max(box.x0 - cx, 0.0, cx - box.x1)
        dy = max(box.y0 - cy, 0.0, cy - box.y1)
        score += max(0.0, radius - float(np.hypot(dx, dy))) ** 2
    return score


def _candidates(ax, a, b, rad: float) -> list[tuple[float, float]]:
    """Label positions for the edge ``a`` -> ``b`` in order of preference: on the curve at each
    :data:`_LABEL_T`, then beside it (one label height to either side)."""
    to_px, to_data = ax.transData.transform, ax.transData.inverted().transform
    shift = 1.4 * LABEL_FONTSIZE * ax.figure.dpi / 72
    out = []
    for side in (0.0, 1.0, -1.0):
        for t in _LABEL_T:
            p = to_px(_arc_point(a, b, rad, t))
            q = to_px(_arc_point(a, b, rad, min(t + 0.01, 1.0))) - to_px(_arc_point(a, b, rad, max(t - 0.01, 0.0)))
            normal = np.array([-q[1], q[0]]) / (np.hypot(*q) or 1.0)
            out.append(tuple(to_data(p + side * shift * normal)))
    return out


def _place_labels(ax, edges: list[tuple[Any, Any, float, str, str]], pos: dict) -> None:
    """Label each edge ``(source, target, rad, op, colour)`` at the first of its
    :func:`_candidates` where the label touches no node and no label placed before it; the
    least-overlapping one when none is free."""
    fig = ax.figure
    renderer = fig.canvas.get_renderer()
    ax.apply_aspect()
    circles = [tuple(ax.transData.transform(xy)) for xy in pos.values()]
    radius = np.sqrt(NODE_SIZE / np.pi) * fig.dpi / 72 + 2.0  # marker radius in pixels, plus a margin
    placed = []
    for a, b, rad, op, colour in edges:
        text = ax.text(0, 0, op, fontsize=LABEL_FONTSIZE, color=colour, ha="center", va="center", zorder=3,
                       gid="edge-label", bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.85))
        best = None
        for xy in _candidates(ax, pos[a], pos[b], rad):
            text.set_position(xy)
            box = text.get_window_extent(renderer).padded(1.0)
            score = _overlap(box, placed, circles, radius)
            if best is None or score < best[0]:
                best = (score, xy, box)
            if score == 0.0:
                break
        text.set_position(best[1])
        placed.append(best[2])


def draw_cell(ax, genotype: Genotype, cell: str) -> None:
    """Draw one cell of ``genotype`` on the matplotlib axes ``ax`` (equal aspect).

    Nodes: ``c_{k-2}``, ``c_{k-1}`` (inputs 0, 1), intermediate nodes 0..3 (DARTS' numbering
    of nodes 2..5), ``c_{k}`` (the concatenated output). Each edge is an arrow coloured by
    its op and labelled with it; a label sits on its edge where it covers no node and no other
    label.
    """
    check_genotype(genotype)
    pos = _positions()
    names = {0: "c_{k-2}", 1: "c_{k-1}", "out": "c_{k}", **{k: str(k - 2) for k in INTERMEDIATE_NODES}}
    colours = {0: "#a6dba0", 1: "#a6dba0", "out": "#f1b6da", **{k: "#abd9e9" for k in INTERMEDIATE_NODES}}
    pairs = genotype.cell(cell)
    ax.set_xlim(-0.7, 10.6)
    ax.set_ylim(-0.6, 4.2)
    ax.set_aspect("equal")
    ax.axis("off")

    def arrow(a, b, colour: str, rad: float) -> None:
        ax.annotate("", xy=pos[b], xytext=pos[a], zorder=1,
                    arrowprops=dict(arrowstyle="-|>", color=colour, lw=1.6, shrinkA=14, shrinkB=14,
                                    connectionstyle=f"arc3,rad={rad}"))

    edges = []
    for e, (op, inp) in enumerate(pairs):
        node = INTERMEDIATE_NODES[e // 2]
        rad = 0.15 if e % 2 == 0 else -0.15
        colour = _OP_COLOURS.get(op, "black")
        arrow(inp, node, colour, rad)
        edges.append((inp, node, rad, op, colour))
    for k in genotype.concat(cell):
        arrow(k, "out", "#555555", 0.0)
    for node, (x, y) in pos.items():
        ax.scatter([x], [y], s=NODE_SIZE, color=colours[node], edgecolor="black", zorder=2, gid="node")
        ax.text(x, y, f"${names[node]}$" if "_" in names[node] else names[node], ha="center", va="center",
                fontsize=9, zorder=4)
    ax.set_title(f"{cell} cell")
    _place_labels(ax, edges, pos)


def draw_genotype(genotype: Genotype, title: str | None = None):
    """A matplotlib figure with the normal and the reduction cell of ``genotype`` side by side
    (a fixed layout: the edge labels are placed for the final axes geometry)."""
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(14, 3.9))
    axes = [fig.add_axes((0.01 + 0.5 * i, 0.02, 0.48, 0.8)) for i in range(2)]
    for ax, cell in zip(axes, CELL_TYPES):
        draw_cell(ax, genotype, cell)
    if title:
        fig.suptitle(title, y=0.98)
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
