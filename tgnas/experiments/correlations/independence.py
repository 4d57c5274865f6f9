"""Proxy independence: Spearman rho between every pair of proxies and TG-NAS on a seeded
random sample of NB201 cells that have precomputed proxies."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tgnas.fileio import save_figure

__all__ = ["sample_cells", "score_frame", "independence_matrix", "plot_independence"]


def sample_cells(available: np.ndarray, n_cells: int, seed: int = 0) -> np.ndarray:
    """Sorted seeded sample of ``n_cells`` indices from ``available`` (all if fewer)."""
    available = np.asarray(available)
    if n_cells < 3:
        raise ValueError(f"n_cells must be >= 3, got {n_cells}")
    if n_cells >= len(available):
        return np.sort(available)
    return np.sort(np.random.default_rng([seed, 5]).choice(available, n_cells, replace=False))


def score_frame(tgnas_scores: np.ndarray, computed: dict[str, np.ndarray], precomputed: pd.DataFrame,
                cells: np.ndarray) -> pd.DataFrame:
    """Rows = ``cells`` (NB201 indices), columns = ``tgnas``, the computed baselines and the
    precomputed proxies (``*_zc`` duplicates of computed ones are dropped)."""
    df = pd.DataFrame({"tgnas": np.asarray(tgnas_scores)[cells]}, index=pd.Index(cells, name="nb201_index"))
    for k, v in computed.items():
        df[k] = np.asarray(v)[cells]
    pre = precomputed.drop(columns=[c for c in precomputed.columns if c.endswith("_zc")])
    return df.join(pre.loc[cells])


def independence_matrix(scores: pd.DataFrame) -> pd.DataFrame:
    """Spearman rho between every pair of columns (symmetric, unit diagonal).

    Raises:
        ValueError: a column has NaN or is constant (its correlations would be undefined).
    """
    bad = [c for c in scores.columns if scores[c].isna().any() or scores[c].nunique() < 2]
    if bad:
        raise ValueError(f"columns {bad} contain NaN or are constant")
    return scores.corr(method="spearman")


def plot_independence(mat: pd.DataFrame, path: Path, title: str = "") -> Path:
    """Annotated heatmap of the matrix."""
    import matplotlib.pyplot as plt

    n = mat.shape[0]
    fig, ax = plt.subplots(figsize=(0.55 * n + 2, 0.5 * n + 1.5))
    im = ax.imshow(mat.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
    ax.set_xticks(range(n), mat.columns, rotation=60, ha="right")
    ax.set_yticks(range(n), mat.index)
    for i in range(n):
        for j in range(n):
            ax.text(j, i, f"{mat.iat[i, j]:.2f}", ha="center", va="center", fontsize=6.5)
    ax.set_title(title)
    fig.colorbar(im, ax=ax, shrink=0.8, label="Spearman ρ")
    fig.tight_layout()
    path = save_figure(fig, path, dpi=120)
    plt.close(fig)
    return path
