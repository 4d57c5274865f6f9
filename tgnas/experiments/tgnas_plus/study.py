"""Variant studies for a stable, transferable pure predictor, without NB201 labels (notebook 06).

Protocol. Every variant is a :class:`~tgnas.predictor.TrainConfig` trained on NAS-Bench-101
only, once per seed (the seed moves the NB101 subsample, the split, the init and the batch
order). Each run is scored on three things:

* ``nb101_val``: Kendall tau on its NB101 validation split (source space);
* ``nb301``: Kendall tau / Spearman rho on the 500 labelled NAS-Bench-301 (DARTS) cells --
  a *second, held-out* space with operators NB101 never has (skip, separable and dilated
  convolutions, two cell inputs). This is the selection criterion for choices about
  transfer (graph form, regularisation...): it measures transfer without touching NB201;
* ``nb201_*``: tau / rho on all 15,625 NB201 cells for the three datasets -- the
  *evaluation*, reported for every variant tried and never used to choose one.

Runs record the NB201 CIFAR-10 tau after every epoch (``monitor_nb201``; a curve only, never
read by training, selection or stopping), so the epoch-to-epoch swing of the transfer can be
reported: ``swing`` = the largest |tau_e - tau_{e-1}| over the final phase (the second half
of the epochs).

Checkpoints go to ``tgnas.paths.MODELS_DIR / "06_<name>_<key>.pt"`` (key = hash of the full
config; :func:`tgnas.experiments.common.train_cached`), so reruns reuse finished runs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd
from tqdm import tqdm

from tgnas.experiments.common import (NB201_DATASETS, check_no_nb201_labels, nb201_truth, score_nb201,
                                      seed_summary, train_cached)
from tgnas.metrics import kendall_tau, rank_correlation, spearman_rho
from tgnas.predictor import Predictor, TrainConfig
from tgnas.predictor.data import SpaceData, load_space_data
import json
from pathlib import Path

__all__ = ["recorded_study", "slug", "final_phase_swing", "evaluate_predictor", "run_variant", "run_variants",
           "summarise"]


def slug(name: str) -> str:
    """``"contracted + swa"`` -> ``"contracted_swa"`` (file-name safe)."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", name).strip("_")


def final_phase_swing(curve: Sequence[float]) -> float:
    """Largest |c_e - c_{e-1}| over the second half of ``curve`` (one value per epoch);
    NaN with fewer than 2 values in that half."""
    c = np.asarray(curve, dtype=np.float64)
    tail = c[len(c) // 2:]
    if len(tail) < 2:
        return float("nan")
    return float(np.max(np.abs(np.diff(tail))))


def evaluate_predictor(pred: Predictor) -> dict[str, float]:
    """NB301 (500 cells) and NB201 (all cells, 3 datasets) tau / rho of one predictor.

    Returns:
        flat dict: ``nb301_kendall``, ``nb301_spearman``, ``<dataset>_kendall``,
        ``<dataset>_spearman`` for each of :data:`NB201_DATASETS`.
    """
    check_no_nb201_labels(pred.config)
    d301 = load_space_data("darts", graph_form=pred.config.graph_form)
    s301, y301 = pred.score(d301.graphs), d301.labels
    row = {"nb301_kendall": kendall_tau(s301, y301), "nb301_spearman": spearman_rho(s301, y301)}
    s201 = score_nb201(pred)
    for ds in NB201_DATASETS:
        r = rank_correlation(s201, nb201_truth(ds), constant="nan")
        row[f"{ds}_kendall"], row[f"{ds}_spearman"] = r["kendall"], r["spearman"]
    return row


def run_variant(name: str, config: TrainConfig, *, data: Sequence[SpaceData] | None = None,
                device: str = "cpu", progress: bool = False) -> dict:
    """Train (or reuse) one run of ``config`` and evaluate it.

    Returns:
        dict with ``variant``, ``seed``, ``nb101_val`` (best-kept epoch's validation tau),
        ``epochs``, ``monitor`` (NB201 CIFAR-10 tau per epoch), ``swing``, ``train_s``
        (summed epoch time), ``checkpoint`` and the keys of :func:`evaluate_predictor`.
    """
    check_no_nb201_labels(config)
    path = train_cached(config, slug(name), data=data, progress=progress, device=device, prefix="06",
                        monitor_nb201=True)
    pred = Predictor.load(path, device="cpu")
    hist = pred.meta["history"]
    curve = [h["monitor"]["nb201_cifar10_tau"] for h in hist]
    row = {"variant": name, "seed": config.seed, "epochs": len(hist),
           "nb101_val": float(hist[pred.meta["best_epoch"] - 1]["val_score"]),
           "monitor": curve, "swing": final_phase_swing(curve),
           "train_s": float(sum(h["time_s"] for h in hist)), "checkpoint": str(path)}
    row.update(evaluate_predictor(pred))
    return row


def run_variants(variants: Mapping[str, TrainConfig], seeds: Sequence[int], *, device: str = "cpu",
                 progress: bool = True) -> pd.DataFrame:
    """Every variant x seed (:func:`run_variant`); NB101 is loaded once. One row per run."""
    nb101 = load_space_data("nb101")
    rows = []
    todo = [(n, c, s) for n, c in variants.items() for s in seeds]
    for name, cfg, seed in tqdm(todo, desc="variant runs", disable=not progress):
        if cfg.train_spaces != ("nb101",):
            raise ValueError(f"variant {name!r}: studies train on NB101 only, got {cfg.train_spaces}")
        rows.append(run_variant(name, replace(cfg, seed=seed), data=[nb101], device=device))
    return pd.DataFrame(rows)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds per variant (columns ``<metric>_mean``, ``<metric>_std``),
    plus ``max_swing`` (the largest final-phase swing of any seed) and ``n_seeds``."""
    metrics = ["nb101_val", "nb301_kendall", "nb301_spearman", "swing", "train_s"]
    metrics += [f"{ds}_{m}" for ds in NB201_DATASETS for m in ("kendall", "spearman")]
    out = seed_summary(df, ["variant"], metrics)
    out.insert(len(out.columns) - 1, "max_swing", df.groupby("variant", sort=False)["swing"].max().to_numpy())
    return out


def recorded_study(path, *, fraction: float, epochs: int, seeds: Sequence[int],
                   variants: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The runs and the per-seed TG-NAS+ table of a recorded seed study (written by
    ``scripts/study_plus.py --plus-methods ...``, the frozen ``plus_study`` stage).

    Raises ``ValueError`` naming the file when it was recorded with another fraction, epochs,
    seeds or set of variants than asked for (its numbers would describe another study)."""

    rec = json.loads(Path(path).read_text())
    want = {"fraction": float(fraction), "epochs": int(epochs), "seeds": sorted(int(s) for s in seeds),
            "variants": sorted(variants)}
    have = {"fraction": float(rec.get("fraction", -1)), "epochs": int(rec.get("epochs", -1)),
            "seeds": sorted(int(s) for s in rec.get("seeds", [])),
            "variants": sorted({r["variant"] for r in rec.get("runs", [])})}
    diff = {k: (have[k], want[k]) for k in want if have[k] != want[k]}
    if diff:
        raise ValueError(f"{path} records another study than the parameters ask for "
                         f"(recorded, asked): {diff}; rerun it with `dvc repro --force plus_study` "
                         "or pass matching study_* parameters")
    if "plus_per_seed" not in rec:
        raise ValueError(f"{path} has no plus_per_seed table: record it with --plus-methods")
    return pd.DataFrame(rec["runs"]), pd.DataFrame(rec["plus_per_seed"])
