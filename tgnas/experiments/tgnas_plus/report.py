"""Notebook 06's computations: study table, variant selection, TG-NAS+ over seeds, costs,
goals, figure and ``metrics/plus.json``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tgnas.experiments.common import NB201_DATASETS, seed_summary
from tgnas.experiments.tgnas_plus.signals import (METHODS, SIGNALS, evaluate_rule, evaluate_signals,
                                                  nb101_signal_table, nb201_signal_table, nb301_signal_table,
                                                  plus_rule)
from tgnas.fileio import save_figure
from tgnas.predictor import Predictor
from tgnas.experiments.common import score_nb201
from tgnas.spaces.nb201.cost import params_and_flops_all

__all__ = ["GOALS", "select_variant", "plus_over_seeds", "seed_table", "cost_table", "goal_table",
           "plot_plus", "plot_rules", "plus_json"]

#: Targets declared before the study (NB201, all cells, zero NB201 labels, 5 seeds).
GOALS: dict[str, dict[str, float]] = {
    "pure": {"cifar10_kendall": 0.65, "cifar10_spearman": 0.84, "cifar10_kendall_std": 0.02, "max_swing": 0.03},
    "plus": {"kendall": 0.78, "spearman": 0.93, "kendall_std": 0.01, "seconds_per_arch": 0.05,
             "nb301_kendall": 0.50},
}


def select_variant(summary: pd.DataFrame) -> str:
    """The variant with the highest mean NB301 Kendall tau (the held-out selection space;
    NB201 is never read here)."""
    if summary.empty:
        raise ValueError("empty study summary")
    return str(summary.loc[summary["nb301_kendall_mean"].idxmax(), "variant"])


def plus_over_seeds(checkpoints: Sequence[Path | str], methods: Sequence[str] = METHODS, *,
                    nb101_sample: int = 2000, nb301_cells: int | None = None,
                    nb201_cells: np.ndarray | None = None, progress: bool = False) -> pd.DataFrame:
    """TG-NAS+ for each predictor checkpoint (one per seed) and each weighting method, plus
    every single signal. One row per (seed, scorer): ``scorer``, ``seed``, weights and the
    NB201 tau / rho of each dataset (on ``nb201_cells``, default all)."""
    rows = []
    for path in checkpoints:
        pred = Predictor.load(path, device="cpu")
        target = nb201_signal_table(pred, cells=nb201_cells, progress=progress)
        nb101 = nb101_signal_table(pred, n=nb101_sample, progress=progress)
        nb301 = nb301_signal_table(pred, n=nb301_cells, progress=progress)
        cells = target["nb201_index"].to_numpy()
        for s in SIGNALS:
            rows.append({"scorer": f"single: {s}", "seed": pred.config.seed,
                         **evaluate_signals(target[s].to_numpy(), cells)})
        for m in methods:
            rule = plus_rule(m, target, nb101=nb101, nb301=nb301)
            rows.append({"scorer": f"TG-NAS+ ({m})", "seed": pred.config.seed,
                         **{f"w_{s}": float(w) for s, w in zip(rule.signals, rule.weights)},
                         **evaluate_rule(rule, target)})
    return pd.DataFrame(rows)


def seed_table(df: pd.DataFrame, by: str = "scorer") -> pd.DataFrame:
    """Mean and std over seeds of every numeric column, grouped by ``by`` (row order kept;
    :func:`tgnas.experiments.common.seed_summary`)."""
    num = [c for c in df.columns if c not in (by, "seed", "variant", "monitor", "checkpoint")
           and pd.api.types.is_numeric_dtype(df[c])]
    return seed_summary(df, [by], num)


def cost_table(pred: Predictor, target: pd.DataFrame, synflow_full_s: float | None) -> pd.DataFrame:
    """Seconds per architecture on this machine: predictor scoring (timed here over all
    cells), analytic #params (timed here), lite proxies (median of the table's per-cell
    times; the AZ-NAS components when ``target`` has ``az_seconds``), TG-NAS+ total (the
    sum: every signal is computed for every cell, whatever its weight), and full-size
    synflow (``synflow_full_s``, from ``metrics/proxy_timing.json``) for comparison."""
    score_nb201(pred)  # warm: graphs and embeddings built once per process
    t0 = time.perf_counter()
    n = len(score_nb201(pred))
    t_pred = (time.perf_counter() - t0) / n
    params_and_flops_all()  # builds (or loads) the cost model once
    t0 = time.perf_counter()
    params_and_flops_all()
    t_params = (time.perf_counter() - t0) / n
    t_lite = float(np.median(target["seconds"]))
    rows = [("TG-NAS predictor", t_pred), ("#params (analytic cost model)", t_params),
            ("lite NASWOT + synflow (median)", t_lite)]
    if "az_seconds" in target:
        rows.append(("lite AZ-NAS components (median)", float(np.median(target["az_seconds"]))))
    rows.append(("TG-NAS+ total", sum(v for _, v in rows)))
    if synflow_full_s is not None:
        rows.append(("synflow, full-size network (bench_proxies)", float(synflow_full_s)))
    return pd.DataFrame(rows, columns=["what", "seconds_per_arch"])


def goal_table(pure: pd.Series, plus: pd.Series, plus_cost: float, synflow_cost: float | None) -> pd.DataFrame:
    """Each target of :data:`GOALS`: its threshold, the measured value and whether it is met.

    Args:
        pure: the selected variant's row of :func:`tgnas.experiments.tgnas_plus.study.summarise`.
        plus: the pipeline rule's row of :func:`tgnas.experiments.tgnas_plus.rules.summarise_rules`
            (mean and std over seeds of NB201 tau / rho and of the NB301 cross-validated tau).

    Returns:
        rows ``goal`` (label, with the threshold of :data:`GOALS`), ``target``, ``measured``, ``met``.
    """
    g, gp = GOALS["pure"], GOALS["plus"]
    rows = [  # (label, measured, ">=" or "<=", target)
        ("pure: CIFAR-10 tau", pure["cifar10_kendall_mean"], ">=", g["cifar10_kendall"]),
        ("pure: CIFAR-10 rho", pure["cifar10_spearman_mean"], ">=", g["cifar10_spearman"]),
        ("pure: seed std of tau", pure["cifar10_kendall_std"], "<=", g["cifar10_kendall_std"]),
        ("pure: final-phase epoch swing", pure["max_swing"], "<=", g["max_swing"]),
    ]
    rows += [(f"TG-NAS+: {ds} {m}", plus[f"{ds}_{m}_mean"], ">=", gp[m])
             for ds in NB201_DATASETS for m in ("kendall", "spearman")]
    rows += [(f"TG-NAS+: {ds} seed std of tau", plus[f"{ds}_kendall_std"], "<=", gp["kendall_std"])
             for ds in NB201_DATASETS]
    rows += [("TG-NAS+: NB301 tau (5-fold CV)", plus["nb301_cv_kendall_mean"], ">=", gp["nb301_kendall"]),
             ("TG-NAS+: seconds per arch", plus_cost, "<=", gp["seconds_per_arch"])]
    out = [(f"{label} {op} {target}", target, v, bool(v >= target if op == ">=" else v <= target))
           for label, v, op, target in rows]
    if synflow_cost is not None:
        out.append(("TG-NAS+: cost per arch < synflow's (s)", synflow_cost, plus_cost, bool(plus_cost < synflow_cost)))
    return pd.DataFrame(out, columns=["goal", "target", "measured", "met"])


def plot_plus(summary: pd.DataFrame, selected_runs: pd.DataFrame, plus: pd.DataFrame, path: Path) -> Path:
    """Three panels: NB201 CIFAR-10 tau per study variant (mean ± seed std), the selected
    variant's per-epoch NB201 tau (monitor only), TG-NAS+ and single signals per dataset."""
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 3, figsize=(17, 5.2))
    y = np.arange(len(summary))
    ax[0].barh(y, summary["cifar10_kendall_mean"], xerr=summary["cifar10_kendall_std"].fillna(0), color="#4c72b0",
               label="NB201 CIFAR-10 τ (evaluation)")
    ax[0].barh(y, summary["nb301_kendall_mean"], height=0.3, color="#dd8452", label="NB301 τ (selection)")
    ax[0].set_yticks(y, summary["variant"], fontsize=8)
    ax[0].invert_yaxis()
    goal = GOALS["pure"]["cifar10_kendall"]
    ax[0].axvline(goal, color="k", ls=":", lw=1, label=f"goal τ {goal}")
    ax[0].set_xlabel("Kendall τ (bars: NB201 CIFAR-10, mean ± seed std)")
    ax[0].legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=3)
    ax[0].set_title("pure predictor variants (NB101-trained)")
    for _, r in selected_runs.iterrows():
        ax[1].plot(np.arange(1, len(r["monitor"]) + 1), r["monitor"], marker="o", ms=3, label=f"seed {r['seed']}")
    ax[1].set_xlabel("epoch")
    ax[1].set_ylabel("NB201 CIFAR-10 τ (monitor, never used)")
    ax[1].set_title(f"{selected_runs['variant'].iloc[0]}: transfer per epoch")
    ax[1].legend(fontsize=8)
    t = seed_table(plus)
    x = np.arange(len(t))
    for k, ds in enumerate(NB201_DATASETS):
        ax[2].bar(x + (k - 1) * 0.27, t[f"{ds}_kendall_mean"], 0.27, yerr=t[f"{ds}_kendall_std"].fillna(0), label=ds)
    ax[2].set_xticks(x, t["scorer"], rotation=35, ha="right", fontsize=8)
    goal = GOALS["plus"]["kendall"]
    ax[2].axhline(goal, color="k", ls=":", lw=1, label=f"goal τ {goal}")
    ax[2].set_ylabel("NB201 Kendall τ (mean ± seed std)")
    ax[2].set_title("TG-NAS+ and its signals")
    ax[2].legend(fontsize=8)
    fig.tight_layout()
    path = save_figure(fig, path, dpi=110)
    plt.close(fig)
    return path


def _records(df: pd.DataFrame) -> list[dict]:
    return json.loads(df.to_json(orient="records", double_precision=6))


def plus_json(*, settings: dict, summary: pd.DataFrame, runs: pd.DataFrame, selected: str, plus: pd.DataFrame,
              costs: pd.DataFrame, goals: pd.DataFrame, rule: dict, screen: dict | None,
              rules: dict | None = None) -> dict:
    """Everything notebook 06 reports, for ``metrics/plus.json`` (``rules``: the rule study's
    summary, selection and source)."""
    return {"settings": settings, "selected_variant": selected, "study_summary": _records(summary),
            "study_runs": _records(runs.drop(columns=["checkpoint"], errors="ignore")), "plus_per_seed": _records(plus),
            "plus_summary": _records(seed_table(plus)), "cost_per_arch_s": _records(costs),
            "goals": _records(goals), "pipeline_rule": rule, "screen": screen, "rules": rules}


def plot_rules(rule_summary: pd.DataFrame, selected: dict | None = None):
    """Rule variants: the selection criterion (NB301 cross-validated tau) beside the NB201
    CIFAR-10 evaluation, mean ± seed std, one bar pair per variant; ``selected`` (the
    ``{"signals", "weighting"}`` of :func:`~tgnas.experiments.tgnas_plus.rules.select_rule`,
    one predictor) is outlined, starred and bold. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    df = rule_summary.reset_index(drop=True)
    chosen = np.zeros(len(df), dtype=bool) if selected is None else (
        (df["members"] == 1) & (df["signals"] == selected["signals"]) & (df["weighting"] == selected["weighting"])
    ).to_numpy()
    if selected is not None and not chosen.any():
        raise ValueError(f"selected rule {selected['signals']}/{selected['weighting']} is not a one-predictor row "
                         "of the rule summary")
    labels = [("★ " if c else "") + f"{r.signals} / {r.weighting} ({r.members})" for r, c in zip(df.itertuples(), chosen)]
    y = np.arange(len(df))
    fig, ax = plt.subplots(1, 2, figsize=(13, 0.32 * len(df) + 2.0), sharey=True)
    for a, col, title in ((ax[0], "nb301_cv_kendall", "selection: NB301 τ, held-out folds"),
                          (ax[1], "cifar10_kendall", "evaluation: NB201 CIFAR-10 τ")):
        err = df[f"{col}_std"].fillna(0.0).to_numpy()
        a.barh(y, df[f"{col}_mean"], xerr=err, color=["C0" if m == 1 else "C1" for m in df["members"]],
               edgecolor=["black" if c else "none" for c in chosen], linewidth=[2.0 if c else 0.0 for c in chosen])
        a.set_title(title)
        a.set_xlabel("Kendall τ (mean ± std over seeds)")
    ax[0].set_yticks(y, labels, fontsize=8)
    for tick, c in zip(ax[0].get_yticklabels(), chosen):
        if c:
            tick.set_fontweight("bold")
    ax[0].invert_yaxis()
    kinds = (("C0", "one predictor", (df["members"] == 1).any()),
             ("C1", "ensemble of predictors", (df["members"] > 1).any()))
    handles = [Patch(color=c, label=label) for c, label, shown in kinds if shown]
    if chosen.any():
        handles.append(Patch(facecolor="white", edgecolor="black", linewidth=2.0,
                             label="★ selected rule (highest NB301 τ, one predictor)"))
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.5 / fig.get_figheight()))
    return fig
