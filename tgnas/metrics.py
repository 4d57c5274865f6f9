"""Rank-correlation and search-oriented metrics for architecture scores.

Everything here compares a vector of *scores* (a predictor's output or a proxy, higher =
better) with a vector of *truth* (e.g. test accuracy) over the same architectures.

* Kendall tau-b and Spearman rho (scipy.stats): :func:`rank_correlation` is the one place the
  package computes them (:func:`kendall_tau` and :func:`spearman_rho` are its single-statistic
  forms); its ``constant`` and ``nonfinite`` policies say what a constant vector or a NaN/inf
  value means for a caller. 95 % percentile-bootstrap confidence intervals. Both bootstraps resample architectures (index vectors, seeded). The Spearman
  bootstrap is vectorised: the average ranks of a resample are computed from per-value
  counts (see :func:`_bootstrap_spearman`), which is exact, including ties. The Kendall
  bootstrap calls ``scipy.stats.kendalltau`` once per resample (O(n log n)). Measured for
  n = 15,625 with the default 1,000 resamples on this project's shared 2-core CPU: about
  2.6 ms per Kendall call, 6.3 s for the Kendall interval and 1.3 s for the Spearman one
  under load, so a full :func:`rank_report` takes well under 10 s; no subsampling needed.
* Top-k measures that matter for search: precision@top-5 %, Spearman within the true top
  10 %, the best true value among the predicted top-1/10/100, and the rank of the true
  optimum in the predicted order.

Ties in ``scores`` are broken by index order wherever a hard order is needed (predicted
top-k sets); the rank of the optimum uses the average rank of its tie group, so a coarse
score (e.g. #params, shared by many cells) gets no credit for a lucky index order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import stats

__all__ = [
    "DEFAULT_N_BOOT",
    "check_scores",
    "rank_correlation",
    "kendall_tau",
    "spearman_rho",
    "bootstrap_ci",
    "precision_at_top",
    "spearman_in_true_top",
    "best_in_predicted_top",
    "rank_of_optimum",
    "rank_report",
]

#: Default number of bootstrap resamples for both confidence intervals.
DEFAULT_N_BOOT = 1000


def _check_finite(s: np.ndarray, t: np.ndarray) -> None:
    for name, a in (("scores", s), ("truth", t)):
        bad = ~np.isfinite(a)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name} has {int(bad.sum())} non-finite value(s) (NaN or inf), "
                             f"first at index {first}: {a[first]}")


def check_scores(scores: Any, truth: Any, *, min_len: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert a (scores, truth) pair to 1-D float64 arrays.

    Raises:
        ValueError: not 1-D, lengths differ, fewer than ``min_len`` items, a NaN or inf
            value, or a constant vector (a rank correlation is undefined for it; we refuse
            rather than report a silent 0).
    """
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    for name, a in (("scores", s), ("truth", t)):
        if a.ndim != 1:
            raise ValueError(f"{name} must be 1-D, got shape {a.shape}")
    if s.shape[0] != t.shape[0]:
        raise ValueError(f"scores and truth differ in length: {s.shape[0]} vs {t.shape[0]}")
    if s.shape[0] < min_len:
        raise ValueError(f"need at least {min_len} items, got {s.shape[0]}")
    _check_finite(s, t)
    for name, a in (("scores", s), ("truth", t)):
        if np.all(a == a[0]):
            raise ValueError(f"{name} is constant (all {a[0]}); rank correlation is undefined")
    return s, t


_STATISTICS = {
    "kendall": lambda s, t: float(stats.kendalltau(s, t).statistic),   # tau-b (scipy's default variant)
    "spearman": lambda s, t: float(stats.spearmanr(s, t).statistic),
}


def rank_correlation(scores: Any, truth: Any, statistics: tuple[str, ...] = ("kendall", "spearman"), *,
                     constant: str = "raise", nonfinite: str = "raise") -> dict[str, float]:
    """Kendall tau-b and/or Spearman rho between ``scores`` (n,) and ``truth`` (n,).

    Args:
        statistics: which of ``"kendall"`` (tau-b) and ``"spearman"`` (Pearson correlation of
            average ranks) to compute.
        constant: a constant vector, or fewer than 3 items: ``"raise"`` a ValueError
            (:func:`check_scores`), or ``"nan"``: NaN for every statistic (undefined, said so
            rather than reported as 0), for large grids where one degenerate row must not stop
            the rest.
        nonfinite: ``"raise"`` a ValueError on any NaN or inf; ``"rank"``: -inf / +inf rank
            below / above every finite value (a proxy that underflows is the worst), NaN still
            raises; ``"drop"``: leave out the pairs with a NaN or inf on either side.

    Returns:
        ``{statistic: value, ..., "n": pairs used}``.
    """
    if constant not in ("raise", "nan"):
        raise ValueError(f"constant must be 'raise' or 'nan', got {constant!r}")
    if nonfinite not in ("raise", "rank", "drop"):
        raise ValueError(f"nonfinite must be 'raise', 'rank' or 'drop', got {nonfinite!r}")
    unknown = [k for k in statistics if k not in _STATISTICS]
    if unknown:
        raise KeyError(f"unknown statistic(s) {unknown}; expected some of {sorted(_STATISTICS)}")
    s = np.asarray(scores, dtype=np.float64)
    t = np.asarray(truth, dtype=np.float64)
    if s.ndim == 1 and t.ndim == 1 and s.shape == t.shape:
        if nonfinite == "drop":
            ok = np.isfinite(s) & np.isfinite(t)
            s, t = s[ok], t[ok]
        elif nonfinite == "rank":
            for name, a in (("scores", s), ("truth", t)):
                if np.isnan(a).any():
                    raise ValueError(f"{name} has {int(np.isnan(a).sum())} NaN value(s), first at index "
                                     f"{int(np.flatnonzero(np.isnan(a))[0])}")
            # ranks are finite and order ±inf as the extremes; tau and rho depend on ranks only
            s, t = stats.rankdata(s), stats.rankdata(t)
        else:
            _check_finite(s, t)
        if constant == "nan" and (s.shape[0] < 3 or np.all(s == s[0]) or np.all(t == t[0])):
            return {**{k: float("nan") for k in statistics}, "n": int(s.shape[0])}
    s, t = check_scores(s, t)
    return {**{k: _STATISTICS[k](s, t) for k in statistics}, "n": int(s.shape[0])}


def kendall_tau(scores: Any, truth: Any, **policy: str) -> float:
    """Kendall tau-b between ``scores`` (n,) and ``truth`` (n,); ``policy``: see :func:`rank_correlation`."""
    return rank_correlation(scores, truth, ("kendall",), **policy)["kendall"]


def spearman_rho(scores: Any, truth: Any, **policy: str) -> float:
    """Spearman rho (Pearson correlation of average ranks) between ``scores`` and ``truth``;
    ``policy``: see :func:`rank_correlation`."""
    return rank_correlation(scores, truth, ("spearman",), **policy)["spearman"]


def _resample_ranks(groups: np.ndarray, n_groups: int, idx: np.ndarray) -> np.ndarray:
    """Average ranks (1-based) inside each bootstrap resample.

    groups: (n,) id of each item's value among the sorted distinct values.
    idx: (B, n) resampled item indices. Returns (B, n) float64 ranks, equal to
    ``scipy.stats.rankdata(x[idx], axis=1)`` but O(n) per row: a value's average rank is
    the count of smaller values in the resample plus (its own count + 1) / 2.
    """
    b = idx.shape[0]
    g = groups[idx]                                             # (B, n)
    flat = g + (np.arange(b)[:, None] * n_groups)
    counts = np.bincount(flat.ravel(), minlength=b * n_groups).reshape(b, n_groups)
    below = np.cumsum(counts, axis=1) - counts
    avg = below + (counts + 1) / 2.0
    return np.take_along_axis(avg, g, axis=1)


def _rowwise_pearson(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (a * b).sum(axis=1) / den


def _bootstrap_spearman(s: np.ndarray, t: np.ndarray, idx_rows) -> np.ndarray:
    _, gs = np.unique(s, return_inverse=True)
    _, gt = np.unique(t, return_inverse=True)
    ns, nt = int(gs.max()) + 1, int(gt.max()) + 1
    out = [
        _rowwise_pearson(_resample_ranks(gs, ns, idx), _resample_ranks(gt, nt, idx))
        for idx in idx_rows
    ]
    return np.concatenate(out)


def _index_chunks(n: int, n_boot: int, seed: int, chunk: int = 100):
    """Yield (≤chunk, n) resample index blocks from one seeded generator (deterministic)."""
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        yield rng.integers(0, n, size=(b, n))
        done += b


def bootstrap_ci(scores: Any, truth: Any, statistic: str, *, n_boot: int = DEFAULT_N_BOOT,
                 seed: int = 0, level: float = 0.95) -> tuple[float, float]:
    """Percentile-bootstrap confidence interval of ``statistic`` ("kendall" or "spearman").

    Architectures are resampled with replacement ``n_boot`` times from
    ``np.random.default_rng(seed)``; the same seed gives the same interval. Resamples in
    which either vector happens to be constant (possible only for tiny n) are dropped.
    """
    s, t = check_scores(scores, truth)
    if n_boot < 10:
        raise ValueError(f"n_boot must be >= 10, got {n_boot}")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    n = s.shape[0]
    if statistic == "spearman":
        vals = _bootstrap_spearman(s, t, _index_chunks(n, n_boot, seed))
    elif statistic == "kendall":
        vals = np.array([
            stats.kendalltau(s[i], t[i]).statistic
            for idx in _index_chunks(n, n_boot, seed) for i in idx
        ])
    else:
        raise KeyError(f"unknown statistic {statistic!r}; expected 'kendall' or 'spearman'")
    vals = vals[np.isfinite(vals)]
    if vals.size == 0:
        raise ValueError("every bootstrap resample was degenerate (constant); n is too small")
    alpha = (1.0 - level) / 2.0
    lo, hi = np.quantile(vals, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def _top_k_count(n: int, fraction: float) -> int:
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    return max(1, math.ceil(fraction * n))


def _predicted_order(s: np.ndarray) -> np.ndarray:
    """Indices by descending score; ties keep index order (stable)."""
    return np.argsort(-s, kind="stable")


def precision_at_top(scores: Any, truth: Any, fraction: float = 0.05) -> float:
    """Fraction of the predicted top ``ceil(fraction·n)`` that lie in the true top as many.

    Ties are broken by index order in both rankings.
    """
    s, t = check_scores(scores, truth)
    k = _top_k_count(s.shape[0], fraction)
    pred = set(_predicted_order(s)[:k].tolist())
    true = set(_predicted_order(t)[:k].tolist())
    return len(pred & true) / k


def spearman_in_true_top(scores: Any, truth: Any, fraction: float = 0.10) -> float:
    """Spearman rho restricted to the true top ``ceil(fraction·n)`` architectures.

    Returns NaN (not 0) if the scores are constant on that subset.
    """
    s, t = check_scores(scores, truth)
    k = _top_k_count(s.shape[0], fraction)
    top = _predicted_order(t)[:k]
    return spearman_rho(s[top], t[top], constant="nan")


def best_in_predicted_top(scores: Any, truth: Any, k: int) -> float:
    """Best true value among the ``k`` highest-scored architectures (ties by index order)."""
    s, t = check_scores(scores, truth)
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    return float(t[_predicted_order(s)[: min(k, s.shape[0])]].max())


def rank_of_optimum(scores: Any, truth: Any) -> float:
    """1-based rank of the true optimum in the predicted (descending-score) order.

    Ties in ``scores`` get their group's average rank (``scipy.stats.rankdata``); if
    several architectures share the best true value, the best-ranked of them counts.
    1.0 means the predictor puts the optimum first.
    """
    s, t = check_scores(scores, truth)
    ranks = stats.rankdata(-s, method="average")
    best = np.flatnonzero(t == t.max())
    return float(ranks[best].min())


def rank_report(scores: Any, truth: Any, seed: int = 0, n_boot: int = DEFAULT_N_BOOT,
                top_ks: tuple[int, ...] = (1, 10, 100)) -> dict[str, Any]:
    """All metrics for one (scores, truth) pair, as a JSON-ready dict.

    Args:
        scores: (n,) predictor or proxy values, higher = better.
        truth: (n,) ground truth (e.g. test accuracy in %).
        seed: seed of the bootstrap resampling.
        n_boot: bootstrap resamples for both confidence intervals.
        top_ks: k values for ``best_in_top{k}``.

    Returns:
        ``{"n", "kendall", "kendall_ci", "spearman", "spearman_ci", "precision_top5pct",
        "spearman_top10pct", "best_in_top1", "best_in_top10", "best_in_top100",
        "true_best", "rank_of_optimum", "n_boot", "seed"}``; CIs are ``[low, high]``
        95 % percentile intervals.

    Raises:
        ValueError: see :func:`check_scores`.
    """
    s, t = check_scores(scores, truth)
    out: dict[str, Any] = {"n": int(s.shape[0])}
    corr = rank_correlation(s, t)
    out["kendall"] = corr["kendall"]
    out["kendall_ci"] = list(bootstrap_ci(s, t, "kendall", n_boot=n_boot, seed=seed))
    out["spearman"] = corr["spearman"]
    out["spearman_ci"] = list(bootstrap_ci(s, t, "spearman", n_boot=n_boot, seed=seed))
    out["precision_top5pct"] = precision_at_top(s, t, 0.05)
    out["spearman_top10pct"] = spearman_in_true_top(s, t, 0.10)
    for k in top_ks:
        out[f"best_in_top{k}"] = best_in_predicted_top(s, t, k)
    out["true_best"] = float(t.max())
    out["rank_of_optimum"] = rank_of_optimum(s, t)
    out["n_boot"] = int(n_boot)
    out["seed"] = int(seed)
    return out
