"""Ablations on NB201 (reported, never tuned on): every variant is trained on NB101 (or
the 500 NB301 cells) and ranks all 15,625 NB201 cells.

Groups:

* ``embedding``: embedding model x description length (one-hot = structure only; its
  vocabulary is fixed, so the description length does not apply);
* ``graph_form``: the *same* trained model scoring NB201 graphs in each form of
  :mod:`tgnas.graph_forms` (``none`` nodes kept or dropped, dead nodes pruned, identities
  contracted; NB101 training graphs are alike in every form);
* ``loss``: MSE vs pairwise (logistic) ranking loss;
* ``data``: learning curve over fractions of NB101, and the 500 labelled NB301 cells.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pandas as pd

from tgnas.fileio import save_figure
from tgnas.experiments.common import NB201_DATASETS, check_no_nb201_labels, nb201_truth, score_nb201, space_data, \
    train_cached
from tgnas.metrics import rank_correlation
from tgnas.graph_forms import GRAPH_FORMS
from tgnas.predictor import Predictor, TrainConfig
from tgnas.spaces import catalog

__all__ = ["ablation_variants", "ablations_figure", "run_ablations", "plot_ablations"]


def _fmt_ratio(r: float) -> str:
    return f"{100 * r:g}% nb101"


def ablation_variants(base: TrainConfig, *, fraction: float, epochs: int, models: list[str], lengths: list[str],
                      data_ratios: list[float], seed: int = 0) -> list[tuple[str, str, TrainConfig]]:
    """``(group, variant label, config)`` of every training run (``graph_form`` reuses the
    base run). ``base`` supplies the GCN, optimiser and the settings not varied."""
    base = replace(base.with_epochs(epochs), train_spaces=("nb101",), fraction=fraction, seed=seed,
                   monitor_nb201=False, patience=0)
    out = [("base", f"{base.embedding_model}/{base.length}/{base.loss}", base)]
    for m in models:
        for length in (["short"] if m == "onehot" else lengths):
            out.append(("embedding", f"{m}/{length}", replace(base, embedding_model=m, length=length)))
    for loss in ("mse", "pairwise"):
        out.append(("loss", loss, replace(base, loss=loss)))
    for r in data_ratios:
        out.append(("data", _fmt_ratio(r), replace(base, fraction=r)))
    out.append(("data", "nb301 (500 cells)", replace(base, train_spaces=("darts",), fraction=1.0)))
    for _, _, c in out:
        check_no_nb201_labels(c)
    return out


def run_ablations(base: TrainConfig, *, fraction: float, epochs: int, models: list[str], lengths: list[str],
                  data_ratios: list[float], seed: int = 0,
                  datasets: tuple[str, ...] = NB201_DATASETS, device: str = "cpu") -> pd.DataFrame:
    """Train (cached, on ``device``) and evaluate every variant of :func:`ablation_variants`
    on NB201 (scoring on CPU).

    Returns:
        rows ``group``, ``variant``, ``train_cells`` (training + validation cells),
        ``<dataset>_kendall``, ``<dataset>_spearman`` for each dataset, ``checkpoint``.
    """
    truth = {ds: nb201_truth(ds) for ds in datasets}
    rows, seen = [], {}
    for group, label, cfg in ablation_variants(base, fraction=fraction, epochs=epochs, models=models,
                                               lengths=lengths, data_ratios=data_ratios, seed=seed):
        path: Path = train_cached(cfg, f"ablation_{cfg.train_spaces[0]}", device=device)
        if path in seen:  # identical config (e.g. the base loss): reuse its scores
            scores = seen[path]
        else:
            scores = seen[path] = score_nb201(Predictor.load(path, device="cpu"))
        variants = [(group, label, scores)]
        if group == "base":
            # the same trained predictor, NB201 graphs rewritten at scoring time (tgnas.graph_forms)
            pred = Predictor.load(path, device="cpu")
            variants = [(group, label, scores)]
            variants += [("graph_form", form, scores if form == cfg.graph_form else score_nb201(pred, form=form))
                         for form in GRAPH_FORMS]
        n_cells = _train_cells(cfg)
        for g, lab, s in variants:
            row = {"group": g, "variant": lab, "train_cells": n_cells}
            for ds in datasets:
                r = rank_correlation(s, truth[ds], constant="nan")
                row[f"{ds}_kendall"], row[f"{ds}_spearman"] = r["kendall"], r["spearman"]
            row["checkpoint"] = path.name
            rows.append(row)
    return pd.DataFrame(rows)


def _train_cells(cfg: TrainConfig) -> int:
    total = 0
    for s in cfg.train_spaces:
        m = len(space_data(s))
        total += m if not catalog.get_space(s).subsample or cfg.fraction >= 1.0 else max(2, int(round(cfg.fraction * m)))
    return total


def ablations_figure(df: pd.DataFrame, dataset: str = "cifar10"):
    """Left: Kendall tau per variant (bars coloured by group, as the legend says; mean over
    seeds, with ± std error bars where there are several seeds); right: learning curve (tau vs
    NB101 training cells, log x, same error bars) with the NB301-trained model as a horizontal
    line. ``df``: :func:`run_ablations` rows (of one or more seeds). Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    col = f"{dataset}_kendall"
    # mean and std over seeds, keeping the order of the variants; one seed has no spread (NaN std)
    g = df.groupby(["group", "variant"], sort=False)
    stats = g[[col, "train_cells"]].mean().join(g[col].std().rename("std")).join(g[col].size().rename("n_seeds"))
    stats = stats.reset_index()
    spread = bool((stats["n_seeds"] > 1).any())
    err = stats["std"].fillna(0.0) if spread else None
    bars, data = stats[stats["group"] != "data"], stats[stats["group"] == "data"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.6), gridspec_kw={"width_ratios": [2, 1]})
    colors = {grp: f"C{i}" for i, grp in enumerate(dict.fromkeys(bars["group"]))}
    ax1.bar(range(len(bars)), bars[col], yerr=None if err is None else err[bars.index].to_numpy(), capsize=3,
            color=[colors[grp] for grp in bars["group"]])
    ax1.set_xticks(range(len(bars)), bars["variant"], rotation=60, ha="right", fontsize=8)
    ax1.set_ylabel(f"Kendall τ, NB201 {dataset}")
    ax1.axhline(0, color="k", lw=0.5)
    ax1.legend(handles=[Patch(color=c, label=grp) for grp, c in colors.items()], fontsize=8, ncol=len(colors),
               title="what changes (one thing at a time, trained on NB101)", title_fontsize=8, frameon=False,
               loc="lower center", bbox_to_anchor=(0.5, 1.0))
    nb101 = data[~data["variant"].str.startswith("nb301")]
    ax2.errorbar(nb101["train_cells"], nb101[col], yerr=None if err is None else err[nb101.index].to_numpy(),
                 marker="o", capsize=3, label="NB101 fraction")
    for _, r in data[data["variant"].str.startswith("nb301")].iterrows():
        ax2.axhline(r[col], color="C3", ls="--", label=r["variant"])
    ax2.set_xscale("log")
    ax2.set_xlabel("training cells (train + val)")
    ax2.set_ylabel(f"Kendall τ, NB201 {dataset}")
    ax2.set_title("training data", fontsize=10)
    ax2.legend(fontsize=8)
    seeds = int(stats["n_seeds"].max()) if len(stats) else 0
    fig.suptitle(f"Ablations: NB201 {dataset} Kendall τ of predictors trained without NB201 labels "
                 + (f"(mean ± std over {seeds} seeds)" if spread else "(one seed)"))
    fig.tight_layout()
    return fig


def plot_ablations(df: pd.DataFrame, path: Path, dataset: str = "cifar10") -> Path:
    """Write :func:`ablations_figure` to ``path`` (PNG) and return the path."""
    import matplotlib.pyplot as plt

    fig = ablations_figure(df, dataset)
    path = save_figure(fig, path, dpi=120)
    plt.close(fig)
    return path
