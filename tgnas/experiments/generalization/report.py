"""The leave-one-space-out benchmark end to end: run (resumably), tabulate, judge the goals, draw.

:func:`run_benchmark` is what notebook 08 calls. Its metrics (``metrics/generalization.json``):

* ``table``: per target and method, tau/rho/precision-at-10 % as mean and std over seeds
  (baselines are deterministic: one value, std 0);
* ``paper_setting``: NB201 CIFAR-10, all 15,625 cells, predictors trained on NB101 only;
* ``plus_weights``: TG-NAS+ weights per held-out space (fitted without it) and the shipped
  weights (all four spaces);
* ``goals``: each goal of the benchmark, its numbers and whether it is met.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from tgnas.experiments.generalization import loso, plus_loso
from tgnas.experiments.outputs import replace_readme_blocks
from tgnas.experiments.generalization.targets import HELD_OUT_SPACES, Target, load_targets, paper_target

#: Single baselines that every target has (the size of the network and the lite proxies).
COMMON_BASELINES: tuple[str, ...] = ("params", "flops", "naswot", "synflow", "az_expressivity",
                                     "az_progressivity", "az_trainability", "az_complexity")
#: The training spaces of the paper's setting.
PAPER_EXCLUDE: tuple[str, ...] = ("nb201", "darts", "tnb101_macro")


def baseline_frame(targets: Sequence[Target]) -> pd.DataFrame:
    """Long table of every baseline column of every target (``seed`` 0: deterministic)."""
    rows = [{"method": c, "target": t.name, "seed": 0, **loso.evaluate(t.baselines[c].to_numpy(), t.labels)}
            for t in targets for c in t.baselines.columns]
    return pd.DataFrame(rows)


def predictor_frame(records: dict, variants: Sequence[str], seeds: Sequence[int]) -> pd.DataFrame:
    """Long table of the outer (leave-one-space-out) runs of ``variants``."""
    rows = []
    for v in variants:
        for h in HELD_OUT_SPACES:
            for s in seeds:
                r = records[f"{v}|{h}|{s}"]
                rows += [{"method": f"tgnas[{v}]", "target": name, "seed": s, **m} for name, m in r["metrics"].items()]
    return pd.DataFrame(rows)


def summarise(long: pd.DataFrame) -> pd.DataFrame:
    """``(target, method)`` rows: mean and std (ddof 0) of tau, rho, p_top10, and seeds."""
    g = long.groupby(["target", "method"], sort=False)
    out = g[["tau", "rho", "p_top10"]].agg(["mean", "std"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    out = out.fillna(0.0)
    out["seeds"] = g["seed"].nunique()
    return out.reset_index()


def _mean_tau(summary: pd.DataFrame, method: str) -> pd.Series:
    return summary[summary["method"] == method].set_index("target")["tau_mean"]


def goals(summary: pd.DataFrame, predictor: str, plus: str, singles: Sequence[str]) -> dict:
    """Goals 1 and 2 of the benchmark, per target and overall, with their numbers.

    Per target, TG-NAS+ is held against the best single baseline *of that target* (every proxy
    the data carries included); the mean over targets against the best of ``singles``, the
    proxies every target has."""
    pred, tplus = _mean_tau(summary, predictor), _mean_tau(summary, plus)
    learnt = summary["method"].str.startswith("tgnas")
    every = summary[~learnt].pivot(index="target", columns="method", values="tau_mean").loc[pred.index]
    size = every[["params", "flops"]].max(axis=1)
    per_target = {t: {"predictor": float(pred[t]), "max_params_flops": float(size[t]), "tgnas_plus": float(tplus[t]),
                      "best_single": float(every.loc[t].max()), "best_single_name": str(every.loc[t].idxmax()),
                      "predictor_beats_size": bool(pred[t] >= size[t]),
                      "plus_beats_best_single": bool(tplus[t] >= every.loc[t].max())}
                  for t in pred.index}
    means = every[list(singles)].mean(axis=0)
    return {"per_target": per_target,
            "predictor_beats_size_everywhere": all(v["predictor_beats_size"] for v in per_target.values()),
            "plus_beats_best_single_everywhere": all(v["plus_beats_best_single"] for v in per_target.values()),
            "mean_tau_predictor": float(pred.mean()), "mean_tau_plus": float(tplus.mean()),
            "best_single_mean": float(means.max()), "best_single_mean_name": str(means.idxmax()),
            "predictor_mean_beats_best_single_by_0.05": bool(pred.mean() >= means.max() + 0.05)}


def select_variant(screen: pd.DataFrame) -> str:
    """The variant with the highest mean held-out tau over all targets (the screen's seeds)."""
    means = screen.groupby("method")["tau_mean"].mean()
    return str(means.idxmax()).removeprefix("tgnas[").removesuffix("]")


def progress_path(root: Path, fraction: float, epochs: int, max_cells: int) -> Path:
    """The resumable job log of one setting (a changed setting starts a new one)."""
    return root / f"loso_f{fraction:g}_e{epochs}_n{max_cells}.jsonl"


def run_benchmark(fraction: float, epochs: int, seeds: Sequence[int], screen_seeds: Sequence[int],
                  variant_names: Sequence[str], progress_root: Path, lite: bool = True, max_cells: int = 0,
                  log=print) -> dict:
    """Screen the variants, choose one by the mean held-out tau, run it and ``graph`` on every seed,
    fit TG-NAS+ without each held-out space; return the metrics dict (module docstring)."""
    targets = load_targets(lite, max_cells)
    every = loso.variants(fraction, epochs)
    unknown = sorted(set(variant_names) - set(every))
    if unknown:
        raise KeyError(f"unknown variant(s) {unknown}; expected some of {list(every)}")
    configs = {k: every[k] for k in variant_names}
    signals = plus_signals(lite)
    progress_root.mkdir(parents=True, exist_ok=True)
    progress = progress_path(progress_root, fraction, epochs, max_cells)
    records = loso.run_jobs(loso.outer_jobs(list(configs), screen_seeds), targets, configs, progress, log=log)
    screen = summarise(predictor_frame(records, list(configs), screen_seeds))
    chosen = select_variant(screen)
    names = list(dict.fromkeys(["graph", chosen]))
    records |= loso.run_jobs(loso.outer_jobs(names, seeds) + loso.inner_jobs(chosen, seeds[0]), targets, configs,
                             progress, log=log)
    paper = paper_target(lite, max_cells)
    paper_jobs = [loso.Job(v, PAPER_EXCLUDE, int(s), ("nb201",)) for v in names for s in seeds]
    records |= loso.run_jobs(paper_jobs, [paper], configs, progress, log=log)
    plus_records, weights = plus_loso.loso_plus(targets, records, chosen, seeds, inner_seed=seeds[0],
                                                signals=signals)
    long = pd.concat([baseline_frame(targets), predictor_frame(records, names, seeds),
                      plus_loso.frame(plus_records, f"tgnas+[{chosen}]")], ignore_index=True)
    summary = summarise(long)
    singles = [c for c in COMMON_BASELINES if c in targets[0].baselines.columns]
    return {"config": {"fraction": fraction, "epochs": epochs, "seeds": list(seeds), "screen_seeds": list(screen_seeds),
                       "variants": list(configs), "chosen": chosen, "lite": lite, "max_cells": max_cells,
                       "plus_signals": list(signals)},
            "selection": {"rule": "highest mean held-out Kendall tau over all targets, screen seeds",
                          "screen": screen.to_dict(orient="records"), "chosen": chosen},
            "train_spaces": {h: list(loso.training_names([h, *loso.SKIPS.get(chosen, ())])) for h in HELD_OUT_SPACES},
            "targets": {t.name: len(t.labels) for t in targets},
            "table": summary.to_dict(orient="records"),
            "paper_setting": _paper_rows(paper, records, names, seeds, weights["nb201"], chosen, signals),
            "plus_weights": {"signals": list(signals), "held_out": weights,
                             "shipped": plus_loso.shipped_weights(targets, records, chosen, seeds[0],
                                                                  signals=signals)},
            "goals": goals(summary, f"tgnas[{chosen}]", f"tgnas+[{chosen}]", singles)}


def plus_signals(lite: bool) -> tuple[str, ...]:
    """TG-NAS+'s signals: :data:`~.plus_loso.PLUS_SIGNALS`, or without the lite proxies."""
    return plus_loso.PLUS_SIGNALS if lite else ("tgnas", "params", "flops")


def _paper_rows(paper: Target, records: dict, names: Sequence[str], seeds: Sequence[int],
                nb201_weights: Sequence[float], chosen: str, signals: Sequence[str]) -> dict:
    """The paper's setting: NB101-trained predictors on all NB201 cells (CIFAR-10), with TG-NAS+
    using the weights fitted without NB201."""
    key = "+".join(PAPER_EXCLUDE)
    rows = {}
    for v in names:
        taus = [records[f"{v}|{key}|{s}"]["metrics"][paper.name]["tau"] for s in seeds]
        rows[f"tgnas[{v}]"] = {"tau_mean": float(np.mean(taus)), "tau_std": float(np.std(taus)), "taus": taus}
    w = np.asarray(nb201_weights)
    taus = [loso.evaluate(plus_loso.signal_matrix(paper, np.asarray(records[f"{chosen}|{key}|{s}"]["scores"][paper.name]),
                                                  signals) @ w, paper.labels)["tau"] for s in seeds]
    rows[f"tgnas+[{chosen}]"] = {"tau_mean": float(np.mean(taus)), "tau_std": float(np.std(taus)), "taus": taus}
    for c in COMMON_BASELINES:
        if c in paper.baselines.columns:
            rows[c] = {"tau_mean": loso.evaluate(paper.baselines[c].to_numpy(), paper.labels)["tau"], "tau_std": 0.0}
    return {"target": f"nb201:cifar10 ({len(paper.labels)} cells)", "trained_on": ["nb101"], "rows": rows}


#: Display names of the methods in the figure (the rest keep their column names).
LABELS = {"params": "#params", "flops": "FLOPs", "naswot": "NASWOT (lite)", "synflow": "synflow (lite)"}


def tau_matrix(full: dict) -> pd.DataFrame:
    """``targets x methods`` mean held-out tau (NaN where a target lacks a method): the predictor
    and TG-NAS+ first, then the size baselines, the lite proxies and the data's proxies."""
    df = pd.DataFrame(full["table"])
    m = df.pivot(index="target", columns="method", values="tau_mean")
    m = m.loc[list(dict.fromkeys(df["target"]))]
    learnt = [c for c in m.columns if c.startswith("tgnas")]
    rest = [c for c in m.columns if c not in learnt and not c.startswith("zc_")]
    zc = sorted(c for c in m.columns if c.startswith("zc_"))
    return m[learnt + rest + zc]


def figure(full: dict):
    """Heatmap of :func:`tau_matrix`, each cell annotated with its tau; the best method of each
    target outlined."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    m = tau_matrix(full)
    fig, ax = plt.subplots(figsize=(0.55 * m.shape[1] + 3.5, 0.42 * m.shape[0] + 2.2))
    sns.heatmap(m, ax=ax, annot=True, fmt=".2f", cmap="RdBu_r", center=0, vmin=-0.7, vmax=0.7,
                annot_kws={"fontsize": 7}, cbar_kws={"label": "Kendall tau (held-out)"})
    for i, row in enumerate(m.to_numpy()):
        j = int(np.nanargmax(row))
        ax.add_patch(plt.Rectangle((j, i), 1, 1, fill=False, edgecolor="black", lw=1.5))
    ax.set_xticklabels([LABELS.get(c, c) for c in m.columns], rotation=60, ha="right", fontsize=8)
    ax.set_xlabel("")
    ax.set_ylabel("held-out target")
    seeds = len(full["config"]["seeds"])
    ax.set_title(f"Leave-one-space-out: Kendall tau on the space left out of training "
                 f"(learnt methods: mean of {seeds} seed{'s' if seeds > 1 else ''})", fontsize=10)
    return fig


#: The README block notebook 08 writes (``update_readme``).
README_BEGIN = "<!-- generalization: generated by notebooks/08_generalization.ipynb; do not edit -->"
README_END = "<!-- /generalization -->"


def _pm(summary: pd.DataFrame, target: str, method: str) -> str:
    row = summary[(summary["target"] == target) & (summary["method"] == method)]
    if row.empty or np.isnan(row["tau_mean"].iloc[0]):
        return "—"
    r = row.iloc[0]
    return f"{r['tau_mean']:.3f}" + (f" ± {r['tau_std']:.3f}" if r["seeds"] > 1 else "")


def readme_table(full: dict) -> str:
    """Markdown: per target, the held-out tau of the chosen predictor, the all-spaces ``graph``
    predictor, TG-NAS+, #params, FLOPs and the best single proxy; then the means and goals."""
    summary = pd.DataFrame(full["table"])
    chosen = full["config"]["chosen"]
    g = full["goals"]
    n = len(full["config"]["seeds"])
    lines = [f"| held-out target | cells | TG-NAS [{chosen}] | TG-NAS [graph] | TG-NAS+ | #params | FLOPs | "
             f"best single proxy (any) |", "|---|---|---|---|---|---|---|---|"]
    for target, cells in full["targets"].items():
        best = g["per_target"][target]
        lines.append(f"| {target} | {cells:,} | {_pm(summary, target, f'tgnas[{chosen}]')} | "
                     f"{_pm(summary, target, 'tgnas[graph]')} | {_pm(summary, target, f'tgnas+[{chosen}]')} | "
                     f"{_pm(summary, target, 'params')} | {_pm(summary, target, 'flops')} | "
                     f"{best['best_single_name']} {best['best_single']:.3f} |")
    met = sum(v["predictor_beats_size"] for v in g["per_target"].values())
    plus_met = sum(v["plus_beats_best_single"] for v in g["per_target"].values())
    lines += ["", f"Mean over the {len(full['targets'])} targets: predictor {g['mean_tau_predictor']:.3f}, TG-NAS+ "
              f"{g['mean_tau_plus']:.3f}, best single proxy that every target has ({g['best_single_mean_name']}) "
              f"{g['best_single_mean']:.3f}. "
              f"The predictor is at least as good as #params and FLOPs on {met} of {len(g['per_target'])} targets, "
              f"TG-NAS+ at least as good as the best single proxy on {plus_met}. Learnt methods: mean ± std over "
              f"{n} seeds."]
    return "\n".join(lines) + "\n"


def update_readme(full: dict, readme: Path | None = None) -> bool:
    """Rewrite the README's generalization block; return whether it changed."""
    return replace_readme_blocks({README_BEGIN: (README_END, readme_table(full))}, readme)
