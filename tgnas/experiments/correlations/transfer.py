"""Cross-space transfer: train on one space (or two), rank the cells of the others.

Training sets (labelled by their data; ``nb301`` is the DARTS space's 500 labelled NB301
cells): ``nb101``, ``nb301``, ``nb201``, ``nb101+nb301``. Evaluation:

* ``nb101``: a seeded random sample of NB101 cells (CIFAR-10 test accuracy);
* ``nb201``: all 15,625 NB201 cells, CIFAR-10 test accuracy;
* ``nb301``: the 500 labelled NB301 cells' validation accuracy.

A model is never evaluated on cells of a space it trained on: those entries (the
diagonal) are its held-out validation split from training (``kind = "within (val)"``).
Only the ``nb201`` training row sees NB201 labels, and it is not evaluated on NB201.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from tgnas.fileio import save_figure
from tgnas.experiments.common import check_no_nb201_labels, nb201_truth, score_nb201, space_data, \
    train_cached, within_space_val
from tgnas.metrics import rank_correlation
from tgnas.predictor import Predictor, TrainConfig

__all__ = ["TRAIN_SETS", "EVAL_SETS", "EVAL_SPACES", "transfer_config", "eval_nb101_sample", "run_transfer",
           "transfer_matrix", "plot_transfer"]

#: Training set label -> the spaces it trains on.
TRAIN_SETS: dict[str, tuple[str, ...]] = {
    "nb101": ("nb101",), "nb301": ("darts",), "nb201": ("nb201",), "nb101+nb301": ("nb101", "darts")}
#: Evaluation set label -> its space.
EVAL_SETS: dict[str, str] = {"nb101": "nb101", "nb201": "nb201", "nb301": "darts"}
EVAL_SPACES: tuple[str, ...] = tuple(EVAL_SETS)


def transfer_config(base: TrainConfig, train_set: str, fraction: float, epochs: int, seed: int = 0) -> TrainConfig:
    """``base`` with the training spaces of ``train_set``, ``fraction``, ``epochs``, ``seed``."""
    if train_set not in TRAIN_SETS:
        raise KeyError(f"unknown training set {train_set!r}; expected one of {list(TRAIN_SETS)}")
    return replace(base.with_epochs(epochs), train_spaces=TRAIN_SETS[train_set], fraction=fraction, seed=seed,
                   monitor_nb201=False, patience=0)


def eval_nb101_sample(n_cells: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``n_cells`` seeded random NB101 cells (for models not trained on NB101)."""
    m = len(space_data("nb101"))
    if not 3 <= n_cells <= m:
        raise ValueError(f"n_cells must be in 3..{m}, got {n_cells}")
    return np.sort(np.random.default_rng([seed, 101]).choice(m, n_cells, replace=False))


def _eval_nb101(pred: Predictor, nb101_cells: np.ndarray) -> dict:
    d = space_data("nb101").subset(nb101_cells)
    return rank_correlation(pred.score(d.graphs), d.labels, constant="nan")


def _eval_nb201(pred: Predictor, nb101_cells: np.ndarray) -> dict:
    check_no_nb201_labels(pred.config)
    return rank_correlation(score_nb201(pred), nb201_truth("cifar10"), constant="nan")


def _eval_nb301(pred: Predictor, nb101_cells: np.ndarray) -> dict:
    d = space_data("darts")
    return rank_correlation(pred.score(d.graphs), d.labels, constant="nan")


#: How each evaluation set is scored (NB101: a sample; NB201: in the predictor's graph form).
_EVALUATORS = {"nb101": _eval_nb101, "nb201": _eval_nb201, "nb301": _eval_nb301}


def run_transfer(configs: dict[str, TrainConfig], *, fraction: float, epochs: int, seed: int = 0,
                 nb101_eval_cells: int = 5000, train_sets: tuple[str, ...] = tuple(TRAIN_SETS),
                 device: str = "cpu") -> pd.DataFrame:
    """Train every (config, training set) pair (cached) and evaluate it on every space.

    Args:
        configs: ``{label: base TrainConfig}``, e.g. ``{"upstream": ..., "best_02": ...}``;
            only embedding, GCN, loss and optimiser settings are taken from them.
        fraction, epochs, seed: of every run (``fraction`` does not apply to NB301's 500 cells).
        nb101_eval_cells: NB101 evaluation sample size.
        device: where training runs (scoring runs on CPU).

    Returns:
        rows ``config``, ``train``, ``eval``, ``kind`` (``"transfer"`` or ``"within (val)"``),
        ``kendall``, ``spearman``, ``n``, ``checkpoint``.
    """
    nb101_cells = eval_nb101_sample(nb101_eval_cells, seed)
    rows = []
    for label, base in configs.items():
        for ts in train_sets:
            cfg = transfer_config(base, ts, fraction, epochs, seed)
            path: Path = train_cached(cfg, f"transfer_{ts.replace('+', '-')}", device=device)
            pred = Predictor.load(path, device="cpu")
            val = within_space_val(path)
            for ev, space in EVAL_SETS.items():
                if space in cfg.train_spaces:
                    r = {**val[space], "n": None, "kind": "within (val)"}
                else:
                    r = {**_EVALUATORS[ev](pred, nb101_cells), "kind": "transfer"}
                rows.append({"config": label, "train": ts, "eval": ev, **r, "checkpoint": path.name})
    return pd.DataFrame(rows)


def transfer_matrix(df: pd.DataFrame, config: str, metric: str = "kendall") -> pd.DataFrame:
    """Train set x eval space matrix of ``metric`` for one config label (mean over seeds
    when ``df`` has several)."""
    sub = df[df["config"] == config]
    return sub.pivot_table(index="train", columns="eval", values=metric, aggfunc="mean").reindex(
        index=[t for t in TRAIN_SETS if t in set(sub["train"])], columns=list(EVAL_SPACES))


def plot_transfer(df: pd.DataFrame, path: Path, metric: str = "kendall") -> Path:
    """One heatmap per config (rows: training set, columns: evaluated space); cells from a
    training space's own validation split are hatched and marked "(val)"."""
    import matplotlib.pyplot as plt

    labels = list(dict.fromkeys(df["config"]))
    fig, axes = plt.subplots(1, len(labels), figsize=(4.6 * len(labels), 3.8), squeeze=False)
    for k, (ax, label) in enumerate(zip(axes[0], labels)):
        m = transfer_matrix(df, label, metric)
        im = ax.imshow(m.to_numpy(dtype=float), vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_xticks(range(m.shape[1]), m.columns)
        ax.set_yticks(range(m.shape[0]), m.index)
        ax.set_xlabel("evaluated on")
        if k == 0:
            ax.set_ylabel("trained on")
        ax.set_title(f"{label}: Kendall τ" if metric == "kendall" else f"{label}: {metric}")
        for i, tr in enumerate(m.index):
            for j, ev in enumerate(m.columns):
                v = m.iloc[i, j]
                within = ev in tr.split("+")
                ax.text(j, i, f"{v:.2f}" + ("\n(val)" if within else ""), ha="center", va="center", fontsize=9)
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
    path = save_figure(fig, path, dpi=120)
    plt.close(fig)
    return path
