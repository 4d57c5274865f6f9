"""The paper's own method reproduced at the pipeline's CPU scale, beside the companion's
default predictor, over seeds, on the same architectures (the ``paper_method`` stage).

Two methods, both trained on NAS-Bench-101 only (no NB201 label anywhere):

* ``paper``: what the paper describes -- its 2-layer GCN with symmetric normalisation
  (:func:`~tgnas.predictor.gcn_preset` ``"paper"``), the full cell graph (NB201 converted as
  the paper's Fig. 8 shows, ``none`` ops kept), MiniLM embeddings of the short descriptions,
  MSE on the accuracy; the optimiser of the authors' training script (AdamW, lr 1e-3, weight
  decay 0.01, batch 128, StepLR(40, 0.1)), since the paper gives none;
* ``companion``: the companion's default predictor, the ``pure`` preset at the same scale
  (:data:`tgnas.predictor.presets.PURE_VARIANT`: contracted graphs, upstream GCN with feature
  dropout, pairwise loss, weight averaging). Its variant was *selected on NB301 tau*, so its
  NB301 numbers are in-sample; the paper's method was chosen by nobody here, so its NB301
  numbers are held-out. NB201 is held-out for both.

Each run is scored on all 15,625 NB201 cells and on the 9,445 cells that carry the
NAS-Bench-Suite-Zero proxies (so every method can be compared with those baselines on the
same cells), for the three NB201 datasets, and on the 500 labelled NB301 cells. The paper's
data-ratio claim (v1 Fig. 2: the predictor still ranks NB101 well when trained on 1 % of
it) is measured within NB101: the paper's method at ``ratio_fraction`` of NB101, scored on
its NB101 validation split.

The authors' released NB201 predictions (``test.txt`` of GitHub YeQiao/TG-NAS, pinned in
:data:`RELEASED`) are scored the same way by :func:`released_report`.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from tgnas import fileio, paths
from tgnas.experiments.common import (NB201_DATASETS, check_no_nb201_labels, nb201_truth, score_nb201,
                                      seed_summary, space_data, train_cached)
from tgnas.metrics import rank_correlation
from tgnas.predictor import Predictor, TrainConfig, gcn_preset
from tgnas.predictor.presets import PURE_VARIANT, study_variants
from tgnas.spaces.nb201.benchmark import load_nb201_proxies

__all__ = ["CELL_SETS", "METHODS", "RELEASED", "companion_config", "evaluate_scores", "paper_config",
           "load_released", "released_report", "run_method", "run_study", "summarise", "zc_cells"]

#: The NB201 cell sets every method is scored on.
CELL_SETS: tuple[str, ...] = ("all", "zc")

#: The authors' released NB201 predictions: ``test.txt`` of GitHub YeQiao/TG-NAS (MIT), one
#: line per NB201 cell in benchmark index order, ``<CIFAR-10 test accuracy> <prediction>``.
RELEASED: dict[str, str | int] = {
    "repo": "YeQiao/TG-NAS",
    "commit": "78ba7908f75ac373b057f30127b214a8e24a9a94",  # the commit that added test.txt
    "path": "test.txt",
    "url": "https://raw.githubusercontent.com/YeQiao/TG-NAS/78ba7908f75ac373b057f30127b214a8e24a9a94/test.txt",
    "sha256": "97d2e271df968b65f7c7aa63bb55c770ff92063fa142e64a4e4d1d1459f00a8e",
    "size": 250_000,
    "relpath": "sources/TG-NAS-78ba7908/test.txt",  # below the data root
}


def paper_config(fraction: float, epochs: int, seed: int = 0) -> TrainConfig:
    """The paper's method (see the module docstring) at ``fraction`` of NB101 for ``epochs``."""
    return TrainConfig(train_spaces=("nb101",), fraction=fraction, epochs=epochs, batch_size=128, lr=1e-3,
                       weight_decay=1e-2, schedule="step", step_size=40, gamma=0.1, loss="mse",
                       embedding_model="minilm", length="short", gcn=gcn_preset("paper"), graph_form="full",
                       seed=seed)


def companion_config(fraction: float, epochs: int, seed: int = 0) -> TrainConfig:
    """The companion's default predictor (the ``pure`` study variant) at this scale; at 10 % /
    8 epochs it is exactly the ``pure`` training preset."""
    return replace(study_variants(fraction, epochs)[PURE_VARIANT], seed=seed)


#: Method name -> config builder ``(fraction, epochs, seed) -> TrainConfig``.
METHODS = {"paper": paper_config, "companion": companion_config}


def zc_cells() -> np.ndarray:
    """``(9445,)`` NB201 indices of the cells with NAS-Bench-Suite-Zero proxies, sorted."""
    return load_nb201_proxies("cifar10").index.to_numpy()


def evaluate_scores(scores: np.ndarray, zc: np.ndarray) -> dict[str, float]:
    """Kendall tau / Spearman rho of ``(15625,)`` NB201 scores on every dataset and cell set.

    Returns:
        flat dict ``<dataset>_<cells>_<kendall|spearman>``, cells in :data:`CELL_SETS`.
    """
    s = np.asarray(scores, dtype=np.float64)
    out = {}
    for ds in NB201_DATASETS:
        truth = nb201_truth(ds)
        for cells, idx in (("all", np.arange(len(s))), ("zc", zc)):
            r = rank_correlation(s[idx], truth[idx], constant="nan")
            out[f"{ds}_{cells}_kendall"], out[f"{ds}_{cells}_spearman"] = r["kendall"], r["spearman"]
    return out


def _evaluate_run(method: str, path: Path, zc: np.ndarray) -> dict:
    """One finished run: NB101 validation tau, NB201 (both cell sets), NB301, training time."""
    pred = Predictor.load(path, device="cpu")
    hist = pred.meta["history"]
    nb301 = space_data("darts", pred.config.graph_form)
    r301 = rank_correlation(pred.score(nb301.graphs), nb301.labels)
    return {"method": method, "seed": pred.config.seed, "fraction": pred.config.fraction,
            "epochs": len(hist), "nb101_val": float(hist[pred.meta["best_epoch"] - 1]["val_score"]),
            "train_s": float(sum(h["time_s"] for h in hist)),
            "nb301_kendall": r301["kendall"], "nb301_spearman": r301["spearman"],
            **evaluate_scores(score_nb201(pred), zc)}


def run_method(method: str, fraction: float, epochs: int, seeds: Sequence[int], *, device: str = "cpu",
               progress: bool = False) -> list[dict]:
    """Train (or reuse, :func:`~tgnas.experiments.common.train_cached`) ``method`` once per seed
    and evaluate each run; one row per seed."""
    if method not in METHODS:
        raise KeyError(f"unknown method {method!r}; expected one of {list(METHODS)}")
    nb101 = space_data("nb101")
    zc = zc_cells()
    rows = []
    for seed in seeds:
        config = METHODS[method](fraction, epochs, int(seed))
        check_no_nb201_labels(config)
        path = train_cached(config, method, data=[nb101], prefix="paper", device=device, progress=progress)
        rows.append(_evaluate_run(method, path, zc))
    return rows


def summarise(rows: Sequence[dict]) -> list[dict]:
    """Mean and std (ddof=1) over seeds per (method, fraction) of every measured column."""
    df = pd.DataFrame(list(rows))
    metrics = [c for c in df.columns if c not in ("method", "seed", "fraction", "epochs")]
    return seed_summary(df, ["method", "fraction"], metrics).to_dict(orient="records")


def run_study(*, fraction: float, epochs: int, seeds: Sequence[int], ratio_fraction: float,
              device: str = "cpu", progress: bool = False) -> dict:
    """Both methods at ``fraction``, and the paper's method at ``ratio_fraction``, over ``seeds``:
    the full record of the ``paper_method`` stage (settings, configs, runs, summary)."""
    t0 = time.perf_counter()
    runs = []
    for method in METHODS:
        runs += run_method(method, fraction, epochs, seeds, device=device, progress=progress)
    runs += run_method("paper", ratio_fraction, epochs, seeds, device=device, progress=progress)
    configs = {m: fn(fraction, epochs).to_dict() for m, fn in METHODS.items()}
    return {"settings": {"fraction": fraction, "epochs": epochs, "seeds": [int(s) for s in seeds],
                         "ratio_fraction": ratio_fraction, "device": device, "zc_cells": int(len(zc_cells()))},
            "configs": configs, "runs": runs, "summary": summarise(runs),
            "wall_s": time.perf_counter() - t0}


def load_released(path: Path | None = None) -> np.ndarray:
    """``(15625, 2)`` the authors' released file: column 0 their CIFAR-10 label, column 1 their
    prediction, rows in NB201 index order.

    Raises:
        FileNotFoundError / ValueError: the file is missing or is not the pinned one (the
            message names the file and where to get it).
    """
    path = Path(path) if path is not None else paths.data_root() / str(RELEASED["relpath"])
    where = f"{RELEASED['url']} (sha256 {RELEASED['sha256']})"
    if not path.is_file():
        raise FileNotFoundError(f"the authors' released predictions are not at {path}: download {where}")
    digest = fileio.sha256_file(path)
    if digest != RELEASED["sha256"]:
        raise ValueError(f"{path} has sha256 {digest}, not the pinned file {where}")
    table = np.loadtxt(path, dtype=np.float64)
    if table.shape != (15625, 2):
        raise ValueError(f"{path}: expected 15,625 rows of 2 numbers, got shape {table.shape}")
    return table


def released_report(path: Path | None = None) -> dict:
    """The authors' released predictions scored like every other method (:func:`evaluate_scores`),
    and against the file's own label column (how the authors would have scored it)."""
    table = load_released(path)
    own = rank_correlation(table[:, 1], table[:, 0])
    labels_agree = rank_correlation(table[:, 0], nb201_truth("cifar10"))
    return {"source": dict(RELEASED), **evaluate_scores(table[:, 1], zc_cells()),
            "own_label_kendall": own["kendall"], "own_label_spearman": own["spearman"],
            "own_label_vs_benchmark_kendall": labels_agree["kendall"]}
