"""TG-NAS+ under leave-one-space-out: weights for a held-out space fitted on the other spaces only.

The rule is the package's (:mod:`tgnas.plus`): non-negative least squares of the labels' normal
scores on the signals' normal scores. Here each signal is normal-scored within its target (the
target is its own reference population), and each training space weighs the same however many
tasks it has (each of its targets 1 / tasks, each architecture 1 / architectures).

The ``tgnas`` signal of a training target T, when fitting the weights for held-out H, comes from
a predictor trained without H and without T (:func:`~.loso.inner_jobs`): the fit sees the
predictor's held-out behaviour, as it will be on H, and nothing of H.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize

from tgnas.experiments.generalization.loso import evaluate, finite
from tgnas.experiments.generalization.targets import HELD_OUT_SPACES, Target
from tgnas.plus.rule import normal_scores

#: The signals TG-NAS+ combines here: all that this package computes for any architecture.
PLUS_SIGNALS: tuple[str, ...] = ("tgnas", "params", "flops", "naswot", "synflow", "az_expressivity",
                                 "az_progressivity", "az_trainability", "az_complexity")


def signal_matrix(target: Target, tgnas: np.ndarray, signals: Sequence[str] = PLUS_SIGNALS) -> np.ndarray:
    """``(M, S)`` within-target normal scores of the signals (``tgnas``: the given scores)."""
    cols = [np.asarray(tgnas, dtype=np.float64) if s == "tgnas" else target.baselines[s].to_numpy() for s in signals]
    return np.column_stack([normal_scores(finite(c)) for c in cols])


def fit_weights(tables: Sequence[tuple[Target, np.ndarray]], signals: Sequence[str] = PLUS_SIGNALS) -> np.ndarray:
    """Non-negative weights (summing to 1) fitted on ``(target, tgnas scores)`` pairs, every space
    weighing the same."""
    per_space: dict[str, int] = {}
    for t, _ in tables:
        per_space[t.space] = per_space.get(t.space, 0) + 1
    rows, ys = [], []
    for t, tg in tables:
        w = np.sqrt(1.0 / (per_space[t.space] * len(t.labels)))
        rows.append(signal_matrix(t, tg, signals) * w)
        ys.append(normal_scores(t.labels) * w)
    weights, _ = optimize.nnls(np.vstack(rows), np.concatenate(ys))
    if not weights.sum() > 0:
        raise ValueError("no signal correlates positively with accuracy on the training spaces")
    return weights / weights.sum()


def _scores(records: Mapping[str, dict], key: str, target: str) -> np.ndarray:
    return np.asarray(records[key]["scores"][target], dtype=np.float64)


def loso_plus(targets: Sequence[Target], records: Mapping[str, dict], variant: str, seeds: Sequence[int],
              inner_seed: int = 0, signals: Sequence[str] = PLUS_SIGNALS) -> tuple[list[dict], dict[str, list[float]]]:
    """TG-NAS+ on each held-out space: weights from the other spaces (inner predictors, seed
    ``inner_seed``), applied with each outer seed's predictor scores.

    Returns:
        (one record per held-out space and seed: ``held_out``, ``seed``, ``metrics``;
        the weights per held-out space, in :data:`PLUS_SIGNALS` order).
    """
    out, weights = [], {}
    for held in HELD_OUT_SPACES:
        train = [(t, _scores(records, f"{variant}|{held}+{t.space}|{inner_seed}", t.name))
                 for t in targets if t.space != held]
        w = fit_weights(train, signals)
        weights[held] = [float(x) for x in w]
        for seed in seeds:
            metrics = {}
            for t in (t for t in targets if t.space == held):
                tg = _scores(records, f"{variant}|{held}|{seed}", t.name)
                metrics[t.name] = evaluate(signal_matrix(t, tg, signals) @ w, t.labels)
            out.append({"held_out": held, "seed": int(seed), "metrics": metrics})
    return out, weights


def shipped_weights(targets: Sequence[Target], records: Mapping[str, dict], variant: str, seed: int = 0,
                    signals: Sequence[str] = PLUS_SIGNALS) -> dict[str, float]:
    """The weights of the shipped rule: fitted on all four spaces, each with the scores of the
    predictor that did not see it (the outer run of ``seed``)."""
    tables = [(t, _scores(records, f"{variant}|{t.space}|{seed}", t.name)) for t in targets]
    return dict(zip(signals, (float(x) for x in fit_weights(tables, signals))))


def frame(records: Sequence[dict], method: str) -> pd.DataFrame:
    """Long table of :func:`loso_plus` records: ``method``, ``target``, ``seed``, ``tau``, ``rho``, ``p_top10``."""
    rows = [{"method": method, "target": name, "seed": r["seed"], **m}
            for r in records for name, m in r["metrics"].items()]
    return pd.DataFrame(rows)
