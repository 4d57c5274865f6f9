"""``metrics/correlation.json``: the small summary of notebook 03 (no per-cell arrays)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["TOP_KEYS", "correlation_json", "write_json"]

#: Top-level keys of ``correlation.json``, in order.
TOP_KEYS: tuple[str, ...] = ("nb201", "transfer", "ablations", "unseen", "timing")


def _clean(x: Any) -> Any:
    """JSON-ready: NaN -> None, numpy scalars -> Python, DataFrames -> list of records."""
    if isinstance(x, pd.DataFrame):
        return _clean(x.to_dict(orient="records"))
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, (str, bytes)):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


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
    return _clean(out)


def write_json(obj: dict, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1) + "\n")
    tmp.replace(path)
    return path
