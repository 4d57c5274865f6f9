"""Main NB201 table (TG-NAS vs #params, FLOPs and the precomputed zero-cost proxies) and
the timing table (seconds per architecture of each proxy vs TG-NAS)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from tgnas import paths
from tgnas.proxies import PROXIES, cifar10_minibatch, compute_proxy
from tgnas.spaces.nb201 import benchmark as nb201_benchmark
from tgnas.spaces.nb201.benchmark import enumerate_archs, load_nb201_proxies
from tgnas.spaces.nb201.cost import params_and_flops_all
from tgnas.fileio import save_figure
from tgnas.experiments.common import NB201_DATASETS, PAPER_REFERENCE, nb201_truth
from tgnas.graphs import graphset
from tgnas.metrics import rank_report
from tgnas.predictor import Predictor
from tgnas.spaces.catalog import SPACES

__all__ = ["NUM_CLASSES", "PROXY_DATASET", "computed_baselines", "precomputed_proxies",
           "METHOD_LABELS", "main_table", "main_table_figure", "main_table_frame", "method_label",
           "plot_main_table", "time_predictor", "timing_table", "measure_proxies"]

#: Classifier width of the NB201 network for each dataset (for #params / FLOPs).
NUM_CLASSES: dict[str, int] = {"cifar10": 10, "cifar100": 100, "imagenet16-120": 120}
#: Which precomputed proxy table is used for each dataset: NAS-Bench-Suite-Zero has none
#: for CIFAR-100, so the CIFAR-10 proxies (same networks, CIFAR-10 minibatch) stand in.
PROXY_DATASET: dict[str, str] = {"cifar10": "cifar10", "cifar100": "cifar10",
                                 "imagenet16-120": "imagenet16-120"}
#: Precomputed columns that duplicate a baseline computed here get this suffix.
_DUPLICATE_SUFFIX = "_zc"


def computed_baselines(dataset: str) -> dict[str, np.ndarray]:
    """``{"params", "flops"}`` -> ``(15625,)`` values of the real NB201 network (C=16, N=5,
    ``NUM_CLASSES[dataset]`` outputs, 32x32 input; FLOPs of the 16x16 ImageNet16 input are
    not modelled, which changes only the classifier share) from the analytic cost model."""
    df = params_and_flops_all(num_classes=NUM_CLASSES[dataset])
    return {"params": df["params"].to_numpy(np.float64), "flops": df["flops"].to_numpy(np.float64)}


def precomputed_proxies(dataset: str) -> pd.DataFrame:
    """The precomputed NAS-Bench-Suite-Zero proxies (9,445 rows, index = NB201 index) for
    ``dataset`` (see :data:`PROXY_DATASET`); ``params``/``flops`` renamed ``*_zc``."""
    df = load_nb201_proxies(PROXY_DATASET[dataset])
    return df.rename(columns={c: c + _DUPLICATE_SUFFIX for c in ("params", "flops") if c in df})


def main_table(tgnas_scores: np.ndarray, *, n_boot: int = 200, seed: int = 0,
               datasets: tuple[str, ...] = NB201_DATASETS, with_precomputed: bool = True
               ) -> dict[str, dict[str, dict]]:
    """Rank reports of every method on every NB201 dataset.

    Args:
        tgnas_scores: ``(15625,)`` predictor scores in benchmark index order.
        n_boot, seed: bootstrap of the confidence intervals (:func:`tgnas.metrics.rank_report`).

    Returns:
        ``{dataset: {method: rank_report}}``; methods ``tgnas``, ``params``, ``flops`` use all
        15,625 cells, the precomputed proxies the 9,445 they cover (``n`` says so), and
        ``tgnas_zc_cells`` is TG-NAS on those same 9,445 cells; each report also carries ``"cells"``: ``"all"`` or ``"precomputed"``.
    """
    s = np.asarray(tgnas_scores, dtype=np.float64)
    if s.shape != (15625,):
        raise ValueError(f"tgnas_scores must have shape (15625,), got {s.shape}")
    out: dict[str, dict[str, dict]] = {}
    for ds in datasets:
        truth = nb201_truth(ds)
        methods = {"tgnas": s, **computed_baselines(ds)}
        res = {m: {**rank_report(v, truth, seed=seed, n_boot=n_boot), "cells": "all"} for m, v in methods.items()}
        if with_precomputed:
            zc = precomputed_proxies(ds)
            idx = zc.index.to_numpy()
            # the 9,445 precomputed cells rank more easily than all cells (e.g. #params: tau
            # 0.62 there vs 0.58 on all), so TG-NAS is also reported on exactly those cells
            res["tgnas_zc_cells"] = {**rank_report(s[idx], truth[idx], seed=seed, n_boot=n_boot),
                                     "cells": "precomputed"}
            for col in zc.columns:
                v = zc[col].to_numpy(np.float64)
                ok = np.isfinite(v)
                res[col] = {**rank_report(v[ok], truth[idx[ok]], seed=seed, n_boot=n_boot),
                            "cells": "precomputed", "proxy_data": PROXY_DATASET[ds]}
        out[ds] = res
    return out


def main_table_frame(table: dict[str, dict[str, dict]]) -> pd.DataFrame:
    """One row per (dataset, method): n, tau [CI], rho [CI], top-k measures; sorted by tau;
    the paper's TG-NAS reference (CIFAR-10) in columns ``paper_kendall``/``paper_spearman``."""
    rows = []
    for ds, methods in table.items():
        for m, r in methods.items():
            rows.append({"dataset": ds, "method": m, "n": r["n"], "kendall": r["kendall"],
                         "kendall_ci": "[{:.3f}, {:.3f}]".format(*r["kendall_ci"]),
                         "spearman": r["spearman"],
                         "spearman_ci": "[{:.3f}, {:.3f}]".format(*r["spearman_ci"]),
                         "prec_top5%": r["precision_top5pct"], "rho_top10%": r["spearman_top10pct"],
                         "best@1": r["best_in_top1"], "best@10": r["best_in_top10"],
                         "best@100": r["best_in_top100"], "rank_of_opt": r["rank_of_optimum"],
                         "paper_kendall": PAPER_REFERENCE["kendall"] if (m == "tgnas" and ds == "cifar10") else np.nan,
                         "paper_spearman": PAPER_REFERENCE["spearman"] if (m == "tgnas" and ds == "cifar10") else np.nan})
    df = pd.DataFrame(rows)
    return df.sort_values(["dataset", "kendall"], ascending=[True, False]).reset_index(drop=True)


def time_predictor(predictor: Predictor, repeats: int = 3) -> dict[str, float]:
    """Seconds to score all 15,625 NB201 cells (graphs and embedding table already built,
    best of ``repeats``), and per architecture; also the one-off graph build time."""
    t0 = time.perf_counter()
    nb201_benchmark.cell_graphs.cache_clear()  # time the one-off build too
    graphs = graphset(SPACES["nb201"], predictor.config.graph_form)
    build = time.perf_counter() - t0
    predictor.score(graphs)  # warm-up: embedding table, allocator
    best = np.inf
    for _ in range(repeats):
        t = time.perf_counter()
        predictor.score(graphs)
        best = min(best, time.perf_counter() - t)
    return {"all_cells_seconds": float(best), "seconds_per_arch": float(best) / len(graphs),
            "graph_build_seconds": float(build), "n_cells": len(graphs), "repeats": repeats}


def timing_table(tgnas_timing: dict[str, float], proxy_timing: dict | None = None,
                 timing_file: Path | None = None) -> pd.DataFrame:
    """Seconds per architecture of each proxy vs TG-NAS and their ratio.

    Args:
        tgnas_timing: :func:`time_predictor` output.
        proxy_timing: ``{proxy: seconds_per_arch}`` measured here (:func:`measure_proxies`);
            proxies absent from it are read from ``timing_file`` (default
            :data:`tgnas.paths.PROXY_TIMING`, written by ``scripts/bench_proxies.py``).

    Returns:
        rows: ``method``, ``seconds_per_arch``, ``source``, ``ratio_vs_tgnas`` (>1 = slower
        than TG-NAS), ``est_full_space_hours`` (15,625 x seconds, an estimate).
    """
    tg = tgnas_timing["seconds_per_arch"]
    rows = [{"method": "tgnas", "seconds_per_arch": tg, "source": "measured in this run (all 15,625 cells)"}]
    proxy_timing = dict(proxy_timing or {})
    timing_file = timing_file or paths.PROXY_TIMING
    stored = {}
    if timing_file.is_file():
        stored = json.loads(timing_file.read_text()).get("proxies", {})
        n = json.loads(timing_file.read_text()).get("n_cells")
    for name, sec in proxy_timing.items():
        rows.append({"method": name, "seconds_per_arch": sec, "source": "measured in this run (sample)"})
    for name, rec in stored.items():
        if name not in proxy_timing:
            rows.append({"method": name, "seconds_per_arch": rec["seconds_per_arch_mean"],
                         "source": f"{timing_file.name} ({n} cells, real networks)"})
    df = pd.DataFrame(rows)
    df["ratio_vs_tgnas"] = df["seconds_per_arch"] / tg
    df["est_full_space_hours"] = df["seconds_per_arch"] * 15625 / 3600
    return df


def measure_proxies(n_cells: int, seed: int = 0, names: tuple[str, ...] | None = None,
                    batch_size: int = 64) -> tuple[pd.DataFrame, dict[str, float]]:
    """Compute the implemented proxies (:data:`tgnas.proxies.PROXIES`) on ``n_cells``
    seeded random NB201 cells (one CIFAR-10 minibatch shared by all).

    Returns:
        (values: DataFrame index = NB201 index, one column per proxy;
        ``{proxy: mean seconds per arch}``).
    """
    if n_cells < 1:
        raise ValueError(f"n_cells must be >= 1, got {n_cells}")
    names = tuple(names or PROXIES)
    archs = enumerate_archs()
    cells = np.sort(np.random.default_rng([seed, 3]).choice(len(archs), n_cells, replace=False))
    batch = cifar10_minibatch(batch_size, seed=seed)
    values = {n: [] for n in names}
    seconds = {n: [] for n in names}
    for c in tqdm(cells, desc="proxies", mininterval=2.0):
        for n in names:
            v, sec = compute_proxy(n, archs[c], SPACES["nb201"], batch=batch, seed=seed)
            values[n].append(v)
            seconds[n].append(sec)
    df = pd.DataFrame(values, index=pd.Index(cells, name="nb201_index"))
    return df, {n: float(np.mean(s)) for n, s in seconds.items()}


#: Names the figures show for the methods of the main table (the JSON keeps the code names).
METHOD_LABELS: dict[str, str] = {
    "tgnas": "TG-NAS", "tgnas_zc_cells": "TG-NAS (9,445 suite cells)", "params": "#params", "flops": "FLOPs",
    "params_zc": "#params (suite)", "flops_zc": "FLOPs (suite)", "nwot": "NASWOT", "synflow": "synflow",
    "jacov": "jacob_cov", "snip": "SNIP", "grad_norm": "grad_norm", "fisher": "Fisher", "grasp": "GraSP",
    "epe_nas": "EPE-NAS", "l2_norm": "L2 norm", "zen": "Zen-score", "plain": "plain",
}


def method_label(method: str) -> str:
    """The human name of a main-table method (:data:`METHOD_LABELS`), else its code name."""
    return METHOD_LABELS.get(method, method)


def main_table_figure(frame: pd.DataFrame):
    """Kendall tau (bars, 95 % CI whiskers) of every method on each NB201 dataset: TG-NAS red,
    methods on all 15,625 cells blue, precomputed proxies (9,445 cells) grey, as the legend
    above the panels says; the dotted line is the paper's TG-NAS tau on CIFAR-10. ``frame``:
    :func:`main_table_frame`'s rows. Returns the figure."""
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    datasets = list(dict.fromkeys(frame["dataset"]))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.2 * len(datasets), 4.6), squeeze=False, sharey=True)
    for ax, ds in zip(axes[0], datasets):
        sub = frame[frame["dataset"] == ds].reset_index(drop=True)
        lo = sub["kendall"] - sub["kendall_ci"].map(lambda s: float(s.strip("[]").split(",")[0]))
        hi = sub["kendall_ci"].map(lambda s: float(s.strip("[]").split(",")[1])) - sub["kendall"]
        colors = ["C3" if m.startswith("tgnas") else ("C0" if n == 15625 else "C7") for m, n in zip(sub["method"], sub["n"])]
        ax.bar(range(len(sub)), sub["kendall"], yerr=[lo, hi], color=colors, capsize=2)
        ax.set_xticks(range(len(sub)), [method_label(m) for m in sub["method"]], rotation=70, ha="right", fontsize=8)
        ax.axhline(0, color="k", lw=0.5)
        if ds == "cifar10":
            ax.axhline(PAPER_REFERENCE["kendall"], color="C3", ls=":")
        ax.set_title(f"NB201 {ds}")
    axes[0][0].set_ylabel("Kendall τ (95 % CI)")
    handles = [Patch(color="C3", label="TG-NAS (ours)"), Patch(color="C0", label="all 15,625 cells"),
               Patch(color="C7", label="NAS-Bench-Suite-Zero, 9,445 cells"),
               Line2D([], [], color="C3", ls=":", label=f"paper's TG-NAS τ, CIFAR-10 ({PAPER_REFERENCE['kendall']})")]
    fig.legend(handles=handles, loc="upper center", ncol=len(handles), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    return fig


def plot_main_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write :func:`main_table_figure` to ``path`` (PNG) and return the path."""
    import matplotlib.pyplot as plt

    fig = main_table_figure(frame)
    path = save_figure(fig, path, dpi=120)
    plt.close(fig)
    return path
