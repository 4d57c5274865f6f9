"""Shared pieces of the notebook experiments (03 and 06): NB201 truth, cached training runs,
scoring, aggregation over seeds.

Training runs are written to ``tgnas.paths.MODELS_DIR / "<prefix>_<name>_<key>.pt"``;
``prefix`` names the notebook (``03``, ``06``) and ``key`` is a hash of the full
:class:`~tgnas.predictor.TrainConfig` (plus a tag for filtered training data), so a rerun
with the same settings reuses the finished checkpoint and a change of any setting trains a
new one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from tgnas import numerics, paths
from tgnas.spaces.nb201.benchmark import NB201_DATASETS, load_nb201
from tgnas.graphs import GraphSet, graphset
from tgnas.predictor import Predictor, TrainConfig, load_checkpoint, train
from tgnas.predictor.data import SpaceData, load_space_data
from tgnas.published import published
from tgnas.spaces.catalog import canonical_name
from tgnas.spaces.catalog import SPACES

__all__ = ["NB201_DATASETS", "PAPER_REFERENCE", "load_default_predictor",
           "nb201_truth", "space_data", "config_key", "check_no_nb201_labels", "train_cached",
           "score_nb201", "within_space_val", "over_seeds", "seed_summary", "finished_run"]

#: The paper's headline numbers for TG-NAS on NB201 CIFAR-10 (arXiv 2404.00271).
PAPER_REFERENCE: dict[str, float] = {stat: published(f"corr_tgnas_{stat}").value for stat in ("kendall", "spearman")}


def load_default_predictor(path: Path | None = None) -> Predictor:
    """Load notebook 02's checkpoint on CPU, refusing one trained on any NB201 label. The default
    is :data:`tgnas.paths.PREDICTOR_CHECKPOINT` where :func:`tgnas.paths.input_path` finds it
    (in a notebook run by hand: notebook 02's ``scratch/`` checkpoint, else the pipeline's).

    Raises:
        FileNotFoundError: no checkpoint (run notebook 02 or ``dvc repro predictor``).
        ValueError: the checkpoint was trained on NB201.
    """
    looked = [Path(path)] if path is not None else paths.input_candidates(paths.PREDICTOR_CHECKPOINT)
    path = next((p for p in looked if p.is_file()), looked[0])
    if not path.is_file():
        raise FileNotFoundError(
            f"no trained predictor at {' or '.join(paths.rel(p) for p in looked)}: run "
            "notebooks/02_train_predictor.ipynb (or `dvc repro predictor`) first")
    p = Predictor.load(path, device="cpu")
    check_no_nb201_labels(p.config)
    return p


@lru_cache(maxsize=1)
def _nb201_table():
    df = load_nb201()
    if not np.array_equal(df.index.to_numpy(), np.arange(len(df))):
        raise ValueError("load_nb201() is not in benchmark index order 0..15624")
    return df


def nb201_truth(dataset: str = "cifar10") -> np.ndarray:
    """``(15625,)`` NB201 test accuracy (%) of ``dataset``, in benchmark index order."""
    if dataset not in NB201_DATASETS:
        raise KeyError(f"unknown NB201 dataset {dataset!r}; expected one of {list(NB201_DATASETS)}")
    return _nb201_table()[dataset].to_numpy(dtype=np.float64)


@lru_cache(maxsize=6)
def space_data(space: str, graph_form: str = "full") -> SpaceData:
    """:func:`~tgnas.predictor.data.load_space_data` once per process (no surrogate cells)."""
    return load_space_data(space, graph_form=graph_form)


def config_key(config: TrainConfig, tag: str = "") -> str:
    """10-hex-digit hash of ``config`` (all fields) and ``tag``."""
    text = json.dumps(config.to_dict(), sort_keys=True) + "|" + tag
    return hashlib.sha1(text.encode()).hexdigest()[:10]


def check_no_nb201_labels(config: TrainConfig) -> None:
    """Raise ``ValueError`` if ``config`` trains on NB201 (its labels would then leak into
    a model that is evaluated on NB201). ``monitor_nb201`` only records a curve and is never
    read by selection, but runs made here switch it off anyway."""
    if "nb201" in config.train_spaces:
        raise ValueError(f"a model evaluated on NB201 must not train on NB201; train_spaces={config.train_spaces}")


def finished_run(path: Path, config: TrainConfig) -> bool:
    """True if ``path`` holds a complete run of exactly ``config`` (so it can be reused)."""
    if not path.is_file():
        return False
    try:
        ckpt = load_checkpoint(path)
    except (ValueError, FileNotFoundError):
        return False
    if TrainConfig.from_dict(ckpt["config"]) != config:
        return False
    return int(ckpt["epoch"]) >= config.epochs or bool(ckpt.get("stopped_early"))


def train_cached(config: TrainConfig, name: str, *, data: Sequence[SpaceData] | None = None,
                 tag: str = "", progress: bool = False, device: str = "cpu", prefix: str = "03",
                 monitor_nb201: bool = False) -> Path:
    """Train ``config`` (on ``device``) into ``MODELS_DIR/<prefix>_<name>_<key>.pt`` unless that
    file already holds the finished run; return the path. The key covers the float kernels
    too (:func:`tgnas.numerics.key`): a run trained under other kernels differs in the last bits
    and, through them, in its results, so it is never reused as this setting's.

    Args:
        config: the run (its ``monitor_nb201`` is replaced by the argument of that name).
        name: readable part of the file name (e.g. ``"transfer_nb101_upstream"``).
        data: training data per space (default: :func:`space_data` of each training space);
            pass ``tag`` naming any filtering so that the cache key changes with it.
        device: where training runs (``"cpu"``, ``"cuda"``, ``"auto"``); the cache key does
            not depend on it.
        prefix: the notebook whose runs these are (first part of the file name).
        monitor_nb201: record the NB201 CIFAR-10 tau after every epoch (a curve only, never
            read by training or selection).
    """
    config = replace(config, monitor_nb201=monitor_nb201)
    path = paths.MODELS_DIR / f"{prefix}_{name}_{config_key(config, tag + '|' + numerics.key())}.pt"
    if finished_run(path, config):
        return path
    if data is None:
        data = [space_data(s, config.graph_form) for s in config.train_spaces]
    train(config, path, device=device, data=list(data), progress=progress)
    return path


def score_nb201(predictor: Predictor, form: str | None = None) -> np.ndarray:
    """``(15625,)`` scores of every NB201 cell in benchmark index order.

    ``form``: graph form (:mod:`tgnas.graph_forms`; default: the predictor's own setting).
    """
    graphs: GraphSet = graphset(SPACES["nb201"], predictor.config.graph_form if form is None else form)
    return predictor.score(graphs, size=predictor.cells_size(SPACES["nb201"]))


def within_space_val(path: Path) -> dict[str, dict[str, float]]:
    """Best epoch's validation tau/rho per training space of a checkpoint:
    ``{space: {"kendall", "spearman"}}``."""
    ckpt = load_checkpoint(path)
    epoch = int(ckpt["best"]["epoch"])
    rec = next(h for h in ckpt["history"] if h["epoch"] == epoch)
    return {canonical_name(s): {"kendall": float(rec["val_tau"][s]), "spearman": float(rec["val_rho"][s])}
            for s in rec["val_tau"]}


def over_seeds(fn: Callable[..., pd.DataFrame], seeds: Sequence[int], **kwargs) -> pd.DataFrame:
    """``fn(**kwargs, seed=s)`` for each seed, rows concatenated with a leading ``seed`` column."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds is empty")
    parts = [fn(**kwargs, seed=int(s)).assign(seed=int(s)) for s in seeds]
    df = pd.concat(parts, ignore_index=True)
    return df[["seed", *[c for c in df.columns if c != "seed"]]]


def _mean_std(values: pd.Series) -> tuple[float, float]:
    """Mean and std (ddof=1) of the non-NaN values with numpy's summation; NaN when undefined
    (no value; one value for the std)."""
    x = values.to_numpy(dtype=np.float64)
    x = x[~np.isnan(x)]
    return (float(np.mean(x)) if len(x) else float("nan"),
            float(np.std(x, ddof=1)) if len(x) > 1 else float("nan"))


def seed_summary(df: pd.DataFrame, by: Sequence[str], metrics: Sequence[str]) -> pd.DataFrame:
    """Mean and standard deviation (ddof=1; NaN for one seed; NaN values skipped) of ``metrics``
    over seeds, grouped by ``by`` (order of first appearance kept); adds ``n_seeds``.

    Every notebook's mean ± std over seeds comes from here.
    """
    g = df.groupby(list(by), sort=False, dropna=False)
    cols = {}
    for m in metrics:
        stats_m = g[m].apply(_mean_std)
        cols[f"{m}_mean"] = stats_m.map(lambda t: t[0])
        cols[f"{m}_std"] = stats_m.map(lambda t: t[1])
    out = pd.DataFrame(cols, index=g.size().index)
    out["n_seeds"] = g.size()
    return out.reset_index()
