"""``metrics/correlation.json``: the small summary of notebook 03 (no per-cell arrays)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tgnas.fileio import to_jsonable

__all__ = ["TOP_KEYS", "correlation_json"]

#: Top-level keys of ``correlation.json``, in order.
TOP_KEYS: tuple[str, ...] = ("nb201", "transfer", "ablations", "unseen", "timing")


def correlation_json(nb201: dict, transfer: pd.DataFrame, ablations: pd.DataFrame, unseen: pd.DataFrame,
                     timing: pd.DataFrame, settings: dict[str, Any]) -> dict[str, Any]:
    """Assemble the summary.

    Shape: ``{"nb201": {dataset: {method: rank_report}}, "transfer": {"settings", "rows"},
    "ablations": {"settings", "rows"}, "unseen": {"settings", "rows"}, "timing": {"settings", "rows"}}``;
    ``settings`` (the notebook parameters, incl. ``smoke``) is repeated in each section so
    that each one says at which scale it was measured.
    """
    drop = ["checkpoint"]
    sec = lambda df: {"settings": settings, "rows": df.drop(columns=[c for c in drop if c in df])}  # noqa: E731
    out = {"nb201": nb201, "transfer": sec(transfer), "ablations": sec(ablations), "unseen": sec(unseen),
           "timing": sec(timing)}
    return to_jsonable(out)
