"""Notebook 04's report: found NB201 cells summarised over seeds (paper Table 4, NB201 columns).

The runs themselves come from :func:`tgnas.search.evaluate.run_many` and
:func:`tgnas.search.evaluate.results_frame` (one row per run, with the true accuracies);
the TG-NAS+ searches from :func:`plus_searches` (NB201) and :func:`darts_cascades` (DARTS,
judged by the NB301 surrogate against random genotypes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from tgnas.spaces.nb201.benchmark import NB201_DATASETS
from tgnas import paths
from tgnas.experiments.common import seed_summary
from tgnas.published import SEARCH_ANCHORS
from tgnas.search.evaluate import run_seeded, seeded_jobs
from tgnas.search.parallel import run_jobs
from tgnas.search.scorers import plus_scorer, predictor_scorer
from tgnas.spaces.darts.benchmark import surrogate_ranks
from tgnas.spaces.catalog import SPACES

__all__ = ["SUMMARY_COLUMNS", "search_table", "search_summary", "plus_searches", "darts_cascades",
           "darts_cascade_summary", "anchor_rows", "genotype_from_search", "SEARCH_METRICS_NAME"]

#: Columns of a results frame that are summarised over seeds (those present).
SUMMARY_COLUMNS: tuple[str, ...] = (*NB201_DATASETS, "wall_time_s", "n_calls", "n_distinct")


def search_table(df: pd.DataFrame, by: Sequence[str] = ("scorer", "algorithm")) -> pd.DataFrame:
    """Mean and std over seeds (``<column>_mean``, ``<column>_std``, ``n_seeds``) of
    :data:`SUMMARY_COLUMNS` per ``by`` group, sorted by ``by``."""
    cols = [c for c in SUMMARY_COLUMNS if c in df.columns]
    return seed_summary(df, by, cols).sort_values(list(by), kind="stable").reset_index(drop=True)


def search_summary(df: pd.DataFrame, top1: float) -> dict[str, dict]:
    """``{"<scorer>/<algorithm>": {column: {"mean", "std"}, "top1pct_seeds", "seeds"}}`` for
    ``metrics/search.json``; ``top1pct_seeds`` counts the seeds whose found cell reaches the
    CIFAR-10 accuracy ``top1`` (std is ``NaN`` for a single seed)."""
    table = search_table(df)
    top = (df["cifar10"] >= top1).groupby([df["scorer"], df["algorithm"]]).sum()
    out = {}
    for _, r in table.iterrows():
        cols = [c for c in SUMMARY_COLUMNS if f"{c}_mean" in table.columns]
        out[f"{r['scorer']}/{r['algorithm']}"] = {
            **{c: {"mean": float(r[f"{c}_mean"]), "std": float(r[f"{c}_std"])} for c in cols},
            "top1pct_seeds": int(top[(r["scorer"], r["algorithm"])]), "seeds": int(r["n_seeds"])}
    return out


def plus_searches(predictor: Any, rule: Any, algorithms: Sequence[str], seeds: Sequence[int], budget: int,
                  space: str = "nb201", reference: str | None = None, prune_config: Any = None,
                  progress: bool = False, workers: int = 1) -> list:
    """TG-NAS+-driven searches, one per algorithm and seed, each with a fresh cache.

    The lite seed of TG-NAS+ is the search seed. ``cascade`` pre-scores its pool with the
    predictor (the whole space when enumerable). Wall times include everything a search
    computes (the cascade's pool and prescore too); loading the predictor and rule, done
    once, is not included. ``workers``: searches at once, in forked processes
    (:func:`tgnas.search.parallel.run_jobs`: the same results for any value).
    """
    space = SPACES[space]
    jobs = []
    for alg in algorithms:
        options: dict[str, Any] = {"prune_config": prune_config}
        if alg == "cascade":
            options["prescorer"] = predictor_scorer(predictor, space)
        jobs += seeded_jobs([alg], space, lambda s: plus_scorer(rule, predictor, space, seed=s, reference=reference),
                            seeds, budget, progress=progress and workers == 1, **options)
    return run_jobs(jobs, workers, progress=progress and workers > 1, desc="TG-NAS+ searches")


def darts_cascades(predictor: Any, rule: Any, seeds: Sequence[int], budget: int, pool: int, reference: str,
                   n_random: int = 10_000, progress: bool = False, workers: int = 1) -> tuple[list, pd.DataFrame]:
    """DARTS cascade searches (``pool`` seeded random genotypes ranked by the predictor,
    TG-NAS+ on the top ``budget``, lite seed = search seed), each judged by the NB301
    surrogate against ``n_random`` random genotypes (:func:`~tgnas.spaces.darts.benchmark.surrogate_ranks`).

    Args:
        reference: the rule's reference population for DARTS cells (``"nb301"`` for the
            pipeline rule, whose 500 NB301 cells are DARTS cells).
        workers: searches at once (:func:`tgnas.search.parallel.run_jobs`).

    Returns:
        ``(results, frame)``: one row per seed with ``seed``, ``arch_str``, ``wall_time_s``,
        ``prescore_seconds``, ``winner_prescore_rank`` and the surrogate's ``accuracy``,
        ``rank``, ``percentile``, ``random_mean``, ``random_max``, ``n_random``.
    """
    results = run_seeded(["cascade"], SPACES["darts"],
                         lambda s: plus_scorer(rule, predictor, SPACES["darts"], seed=s, reference=reference),
                         seeds, budget, progress=progress, workers=workers,
                         prescorer=predictor_scorer(predictor, SPACES["darts"]), pool=pool)
    ranks = surrogate_ranks([r.arch for r in results], n_random=n_random, seed=0)
    frame = pd.DataFrame([{"seed": r.seed, "arch_str": r.arch_str, "wall_time_s": r.wall_time_s,
                           "prescore_seconds": r.extra["prescore_seconds"],
                           "winner_prescore_rank": r.extra["winner_prescore_rank"]} for r in results])
    return results, pd.concat([frame, ranks], axis=1)


def darts_cascade_summary(frame: pd.DataFrame, top_pct: float = 1.0) -> dict[str, Any]:
    """Mean/std of the surrogate accuracy, percentile and wall time over seeds, and
    ``top_seeds``: seeds whose genotype is in the surrogate's top ``top_pct`` % of the random
    genotypes (percentile >= 100 - ``top_pct``)."""
    def ms(c: str) -> dict[str, float]:
        return {"mean": float(frame[c].mean()), "std": float(frame[c].std(ddof=1)) if len(frame) > 1 else float("nan")}

    return {"surrogate_accuracy": ms("accuracy"), "surrogate_percentile": ms("percentile"),
            "wall_time_s": ms("wall_time_s"), "top_pct": top_pct,
            "top_seeds": int((frame["percentile"] >= 100.0 - top_pct).sum()), "seeds": int(len(frame)),
            "percentiles": [float(p) for p in frame["percentile"]]}


def anchor_rows(optimum: dict[str, float]) -> pd.DataFrame:
    """Published NB201 search anchors (:data:`tgnas.published.SEARCH_ANCHORS`) and the space's
    ``optimum`` as rows ``method`` + :data:`NB201_DATASETS` columns."""
    rows = [{"method": name, **{d: float(a[d]) for d in NB201_DATASETS}} for name, a in SEARCH_ANCHORS.items()]
    rows.append({"method": "optimum", **{d: float(optimum[d]) for d in NB201_DATASETS}})
    return pd.DataFrame(rows, columns=["method", *NB201_DATASETS])


#: Where notebook 04 (search) writes its full record (``metrics/details/``);
#: :func:`genotype_from_search` reads it.
SEARCH_METRICS_NAME = "search.json"


def genotype_from_search(path: str | Path | None = None) -> str | None:
    """The DARTS genotype string found by the search notebook, or ``None`` if it has not run.

    Reads ``path`` (default ``tgnas.paths.METRIC_DETAILS_DIR / "search.json"``, written by
    notebook 04, where :func:`tgnas.paths.input_path` finds it) and takes ``["darts"]["arch_str"]`` (``["darts"]["genotype"]`` is accepted too).

    Raises:
        KeyError: the file exists but holds no DARTS genotype (the message lists its keys).
    """
    p = Path(path) if path is not None else paths.input_path(paths.METRIC_DETAILS_DIR / SEARCH_METRICS_NAME)
    if not p.is_file():
        return None
    doc = json.loads(p.read_text())
    darts = doc.get("darts") if isinstance(doc, dict) else None
    for key in ("arch_str", "genotype"):
        if isinstance(darts, dict) and isinstance(darts.get(key), str):
            return darts[key]
    keys = sorted(darts) if isinstance(darts, dict) else (sorted(doc) if isinstance(doc, dict) else [])
    raise KeyError(f"{p} holds no DARTS genotype at ['darts']['arch_str']; keys there: {keys}")
