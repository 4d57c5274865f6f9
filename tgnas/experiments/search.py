"""Notebook 04's report: found NB201 cells summarised over seeds (paper Table 4, NB201 columns).

The runs themselves come from :func:`tgnas.search.evaluate.run_many` and
:func:`tgnas.search.evaluate.results_frame` (one row per run, with the true accuracies).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from tgnas.benchmarks.nb201 import NB201_DATASETS
from tgnas.experiments.common import seed_summary

__all__ = ["SUMMARY_COLUMNS", "search_table", "search_summary"]

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
