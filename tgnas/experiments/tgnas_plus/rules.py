"""Which TG-NAS+ rule: signal sets x weightings x predictor ensembles, judged without NB201 labels.

A *rule variant* is a set of signals (:data:`SIGNAL_SETS`), a way to weight them
(:data:`WEIGHTINGS`) and the predictor(s) giving the ``tgnas`` signal: one checkpoint, or an
ensemble whose ``tgnas`` is the mean of its members' normal scores within each population.

Each variant is scored on

* ``nb301_cv_kendall``: Kendall tau on the 500 labelled NAS-Bench-301 cells, mean over
  :data:`FOLDS` seeded folds of the tau on the held-out fold; a weighting fitted on NB301 is
  refitted on the other folds each time, so this is out-of-sample for every variant. **The
  selection criterion** (:func:`select_rule`): NB301 is a space the predictor never trained on;
* ``nb101_cv_kendall``: the same on the held-out NB101 sample (cells no member trained or
  validated on), refitting an NB101-fitted weighting on the other folds -- a second check;
* NB201 tau / rho on all cells and the three datasets: the evaluation, never read by
  :func:`select_rule`.

Weightings: ``nb301`` / ``nb101`` (non-negative least squares on normal scores,
:func:`tgnas.plus.rule.fit_rule`), ``equal`` (nothing fitted), and ``log_ranks`` (AZ-NAS's
label-free sum of log-ranks within the scored population,
:func:`tgnas.proxies.az_nas.aggregate_log_ranks`; not a :class:`~tgnas.plus.rule.PlusRule`, so
it ranks only a whole population and is reported, not shipped).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from tgnas.plus.rule import PlusRule, fit_rule, normal_scores
from tgnas.experiments.tgnas_plus.signals import ALL_SIGNALS, AZ_SIGNALS, SIGNALS, evaluate_signals
from tgnas.metrics import kendall_tau
from tgnas.proxies.az_nas import aggregate_log_ranks
from tgnas.experiments.common import seed_summary

__all__ = ["SIGNAL_SETS", "WEIGHTINGS", "FOLDS", "SELECTABLE", "ensemble_tables", "variant_row", "rule_study",
           "summarise_rules", "select_rule"]

#: Named signal sets (all "higher is better"); ``tgnas`` alone is the pure predictor (or the
#: ensemble's mean), ``az`` alone the AZ-NAS lite baseline.
SIGNAL_SETS: dict[str, tuple[str, ...]] = {
    "tgnas": ("tgnas",),
    "lite": SIGNALS,
    "lite+az": ALL_SIGNALS,
    "tgnas+az": ("tgnas", *AZ_SIGNALS),
    "az": AZ_SIGNALS,
}
#: Ways to weight the signals (see the module docstring).
WEIGHTINGS: tuple[str, ...] = ("nb301", "nb101", "equal", "log_ranks")
#: The weightings fitted on a labelled space's table (the rest fit nothing).
FITTED: tuple[str, ...] = ("nb301", "nb101")
#: Folds of the cross-validated taus, and their seed.
FOLDS, FOLD_SEED = 5, 0
#: What the pipeline can ship: a PlusRule (not log_ranks) that uses the predictor and >= 1 more signal.
SELECTABLE = {"weightings": ("nb301", "nb101", "equal"), "min_signals": 2}


def ensemble_tables(member_tables: Sequence[Mapping[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """Combine per-member signal tables (``{"nb201", "nb101", "nb301": DataFrame}``, as
    :mod:`tgnas.experiments.tgnas_plus.signals` makes them for each member) into one set whose
    ``tgnas`` column is the mean of the members' normal scores.

    NB101 keeps only the cells every member left out (the intersection of their held-out
    rows, matched by ``nb101_index``); the other columns come from the first member.
    """
    if not member_tables:
        raise ValueError("an ensemble needs at least one member")
    if len(member_tables) == 1:
        return dict(member_tables[0])
    first = member_tables[0]
    keep = set(first["nb101"]["nb101_index"])
    for t in member_tables[1:]:
        keep &= set(t["nb101"]["nb101_index"])
    out = {}
    for space in ("nb201", "nb301", "nb101"):
        frames = [t[space] for t in member_tables]
        if "nb101_index" in frames[0]:  # the held-out source sample: rows every member left out
            frames = [f[f["nb101_index"].isin(keep)].reset_index(drop=True) for f in frames]
        base = frames[0].copy()
        base["tgnas"] = np.mean([normal_scores(f["tgnas"].to_numpy()) for f in frames], axis=0)
        out[space] = base
    return out


def _folds(n: int) -> np.ndarray:
    """``(n,)`` fold number of each row (seeded, balanced)."""
    return np.random.default_rng(FOLD_SEED).permutation(n) % FOLDS


def _fixed_scores(weighting: str, signals: Sequence[str], tables: Mapping[str, pd.DataFrame]) -> dict[str, np.ndarray]:
    """Scores of a weighting that fits nothing, per space (``equal``: mean normal score within
    the population; ``log_ranks``: AZ-NAS's aggregate)."""
    out = {}
    for space, t in tables.items():
        if weighting == "equal":
            out[space] = np.column_stack([normal_scores(t[s].to_numpy()) for s in signals]).mean(axis=1)
        else:
            out[space] = aggregate_log_ranks(t, list(signals))
    return out


def _fitted(space: str, signals: Sequence[str], table: pd.DataFrame, tables: Mapping[str, pd.DataFrame]) -> tuple[PlusRule, dict[str, np.ndarray]]:
    """A rule fitted on ``table`` (rows of ``space``), with every population of ``tables`` as
    its own reference, and its scores on each."""
    rule = fit_rule(table, signals, target="accuracy", space=space)
    rule.references = {}
    for sp, t in tables.items():
        rule.add_reference(sp, t)
    return rule, {sp: rule.score(t, sp) for sp, t in tables.items()}


def _cv_kendall(weighting: str, signals: Sequence[str], tables: Mapping[str, pd.DataFrame], space: str,
                fixed: Mapping[str, np.ndarray] | None) -> float:
    """Mean held-out-fold Kendall tau on ``space`` (refitting a weighting fitted on ``space``)."""
    t = tables[space]
    y = t["accuracy"].to_numpy()
    folds = _folds(len(t))
    taus = []
    for f in range(FOLDS):
        test = folds == f
        if weighting == space:  # refit on the other folds; only this space's scores are needed
            _, scores = _fitted(space, signals, t[~test].reset_index(drop=True), {space: t})
            s = scores[space]
        elif fixed is not None:
            s = fixed[space]
        else:
            raise ValueError(f"no scores for weighting {weighting!r}")
        taus.append(kendall_tau(s[test], y[test]))
    return float(np.mean(taus))


def variant_row(set_name: str, weighting: str, tables: Mapping[str, pd.DataFrame]) -> dict:
    """One variant's scores (see the module docstring) and, for fitted weightings, its weights."""
    if set_name not in SIGNAL_SETS:
        raise KeyError(f"unknown signal set {set_name!r}; expected one of {list(SIGNAL_SETS)}")
    if weighting not in WEIGHTINGS:
        raise KeyError(f"unknown weighting {weighting!r}; expected one of {list(WEIGHTINGS)}")
    signals = SIGNAL_SETS[set_name]
    row: dict = {"signals": set_name, "weighting": weighting}
    if weighting in FITTED:
        rule, scores = _fitted(weighting, signals, tables[weighting], tables)
        row.update({f"w_{s}": float(w) for s, w in zip(signals, rule.weights)})
        fixed = scores
    else:
        scores = fixed = _fixed_scores(weighting, signals, tables)
    row["nb301_cv_kendall"] = _cv_kendall(weighting, signals, tables, "nb301", fixed)
    row["nb101_cv_kendall"] = _cv_kendall(weighting, signals, tables, "nb101", fixed)
    row["nb301_kendall"] = kendall_tau(scores["nb301"], tables["nb301"]["accuracy"].to_numpy())
    row.update(evaluate_signals(scores["nb201"], tables["nb201"]["nb201_index"].to_numpy()))
    return row


def rule_study(tables_by_seed: Mapping[tuple[int, int], Mapping[str, pd.DataFrame]],
               sets: Sequence[str] = tuple(SIGNAL_SETS), weightings: Sequence[str] = WEIGHTINGS) -> pd.DataFrame:
    """Every set x weighting for every ``(seed, ensemble size)`` key of ``tables_by_seed``
    (values: :func:`ensemble_tables`). One row per variant and seed, with ``seed`` and
    ``members``; variants without ``tgnas`` are computed once per key all the same (their
    rows are equal across seeds). A one-signal set is scored once (``equal``): weights do not
    change its ranking."""
    rows = []
    for (seed, members), tables in tables_by_seed.items():
        for s in sets:
            for w in (("equal",) if len(SIGNAL_SETS[s]) == 1 else weightings):
                rows.append({"seed": seed, "members": members, **variant_row(s, w, tables)})
    return pd.DataFrame(rows)


def summarise_rules(df: pd.DataFrame) -> pd.DataFrame:
    """Mean and std over seeds per (members, signals, weighting); columns ``<metric>_mean``,
    ``<metric>_std`` and ``n_seeds``."""
    metrics = [c for c in df.columns if c.endswith(("_kendall", "_spearman")) or c.startswith("w_")]
    return seed_summary(df, ["members", "signals", "weighting"], metrics)


def select_rule(summary: pd.DataFrame, members: int = 1) -> dict:
    """The pipeline's rule by the pre-declared criterion: among shippable variants
    (:data:`SELECTABLE`) of ``members`` predictor(s), the highest mean ``nb301_cv_kendall``
    (then the higher ``nb101_cv_kendall``). Reads no NB201 column.

    Returns:
        ``{"signals": set name, "weighting": ..., "nb301_cv_kendall": ..., "nb101_cv_kendall": ...}``.
    """
    ok = summary[(summary["members"] == members) & summary["weighting"].isin(SELECTABLE["weightings"])
                 & summary["signals"].map(lambda s: "tgnas" in SIGNAL_SETS[s]
                                          and len(SIGNAL_SETS[s]) >= SELECTABLE["min_signals"])]
    if ok.empty:
        raise ValueError(f"no shippable rule variant with {members} member(s) in the summary")
    best = ok.sort_values(["nb301_cv_kendall_mean", "nb101_cv_kendall_mean"], ascending=False).iloc[0]
    return {"signals": str(best["signals"]), "weighting": str(best["weighting"]),
            "nb301_cv_kendall": float(best["nb301_cv_kendall_mean"]),
            "nb101_cv_kendall": float(best["nb101_cv_kendall_mean"])}
