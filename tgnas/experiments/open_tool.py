"""How the shipped predictor and TG-NAS+ do on NB201 and NB301, per normalisation choice.

TG-NAS+ needs each signal as a normal score within the space (:mod:`tgnas.plus.rule`). This
module measures the choices of :mod:`tgnas.plus.combine` against the labels:

* ``reference_full``: the space's whole scored population as reference (NB201: all 15,625
  cells; NB301: the 500 cells themselves), what notebook 06 did;
* ``reference_sample``: a seeded uniform sample of the space stored with the rule
  (DARTS: 500 sampled genotypes, disjoint from the 500 NB301 cells' selection; NB201: 500
  cells drawn with another seed than the evaluated sample);
* ``within``: ranks within the scored set, for several set sizes (mean and spread over
  seeded draws).

NB201 labels are read only here, for evaluation; nothing is fitted on them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tgnas.metrics import rank_correlation
from tgnas.plus.rule import PlusRule, Reference, equal_rule, floor_neg_inf, normal_scores
from tgnas.plus.signals import AZ_SIGNALS, has_signals, reference_table
from tgnas.spaces.catalog import SPACES
from tgnas.experiments.common import nb201_truth
from tgnas.experiments.tgnas_plus.signals import nb201_signal_table
from tgnas.experiments.tgnas_plus.signals import nb301_signal_table

__all__ = ["corr", "signal_correlations", "normalisation_study", "shipped_results"]


def corr(scores: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """Kendall tau and Spearman rho, rounded to 4 digits."""
    r = rank_correlation(scores, truth, constant="nan", nonfinite="rank")
    return {"kendall": round(r["kendall"], 4), "spearman": round(r["spearman"], 4)}


def _floor(v: np.ndarray) -> np.ndarray:
    return floor_neg_inf(np.asarray(v, dtype=np.float64))


def _z_ref(rule: PlusRule, table: pd.DataFrame, refs: dict[str, Reference]) -> np.ndarray:
    return np.column_stack([refs[s].transform(table[s].to_numpy()) for s in rule.signals]) @ rule.weights


def _z_within(rule: PlusRule, table: pd.DataFrame) -> np.ndarray:
    return np.column_stack([normal_scores(_floor(table[s].to_numpy())) for s in rule.signals]) @ rule.weights


def signal_correlations(table: pd.DataFrame, truth: np.ndarray) -> dict[str, dict[str, float]]:
    """tau / rho of each single signal of ``table`` (the TG-NAS+ signals it has; -inf floored
    below the rest)."""
    return {s: corr(_floor(table[s].to_numpy()), truth) for s in has_signals(table)}


def normalisation_study(rule: PlusRule, table: pd.DataFrame, truth: np.ndarray, sample_ref: pd.DataFrame,
                        sizes: tuple[int, ...] = (100, 1000), draws: int = 20, seed: int = 0) -> dict:
    """tau / rho of ``rule`` on ``table`` (signals, one row per labelled cell) per normalisation.

    Args:
        sample_ref: signals of the space's reference sample (``reference_sample``).
        sizes: scored-set sizes for ``within`` (and the reference choices on the same
            subsets, for a like-for-like comparison); sizes >= ``len(table)`` use all cells.
    """
    full_ref = {s: Reference.of(_floor(table[s].to_numpy())) for s in rule.signals}
    samp_ref = {s: Reference.of(_floor(sample_ref[s].to_numpy())) for s in rule.signals}
    out: dict = {"all_cells": {"n": int(len(table)),
                               "reference_full": corr(_z_ref(rule, table, full_ref), truth),
                               "reference_sample": corr(_z_ref(rule, table, samp_ref), truth),
                               "within": corr(_z_within(rule, table), truth)}}
    rng = np.random.default_rng(seed)
    for size in sizes:
        if size >= len(table):
            continue
        rows = {k: [] for k in ("reference_full", "reference_sample", "within")}
        for _ in range(draws):
            idx = np.sort(rng.choice(len(table), size=size, replace=False))
            sub, y = table.iloc[idx].reset_index(drop=True), truth[idx]
            rows["reference_full"].append(corr(_z_ref(rule, sub, full_ref), y)["kendall"])
            rows["reference_sample"].append(corr(_z_ref(rule, sub, samp_ref), y)["kendall"])
            rows["within"].append(corr(_z_within(rule, sub), y)["kendall"])
        out[f"subsets_of_{size}"] = {"draws": draws, **{k: {"kendall_mean": round(float(np.mean(v)), 4),
                                                            "kendall_std": round(float(np.std(v)), 4)}
                                                        for k, v in rows.items()}}
    return out


def _uses_az(rule: PlusRule) -> bool:
    return any(s in AZ_SIGNALS for s in rule.signals)


def _nb201_tables(pred, ref_n: int = 500, ref_seed: int = 1, az: bool = False) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """All 15,625 NB201 cells' signals (``az``: with the lite AZ-NAS components), CIFAR-10 test
    accuracy, and a seeded 500-cell sample's signals as the NB201 reference sample (values
    from the same cached lite tables)."""
    table = nb201_signal_table(pred, progress=False, az=az)
    ref_idx = np.random.default_rng(ref_seed).choice(len(table), size=ref_n, replace=False)
    return table, nb201_truth("cifar10"), table.iloc[np.sort(ref_idx)].reset_index(drop=True)


def shipped_results(pred, rule: PlusRule, progress: bool = False, with_study: bool = False) -> dict:
    """NB201 (all cells, CIFAR-10) and NB301 (500 cells) tau / rho of the predictor, each signal
    and TG-NAS+ as shipped (reference normalisation; DARTS: the rule's ``darts`` sample).

    With ``with_study``, the :func:`normalisation_study` of both spaces is added.
    """
    nb201, y201, ref201 = _nb201_tables(pred, az=_uses_az(rule))
    nb301 = nb301_signal_table(pred, progress=progress, az=_uses_az(rule))
    y301 = nb301["accuracy"].to_numpy()
    equal = equal_rule(rule.signals)
    equal.references = dict(rule.references)
    res = {
        "nb201": {"cells": int(len(nb201)), "dataset": "cifar10 test accuracy (evaluation only)",
                  "signals": signal_correlations(nb201, y201),
                  "tgnas_plus": corr(rule.score(nb201, "nb201"), y201)},
        "nb301": {"cells": int(len(nb301)), "dataset": "NB301 validation accuracy",
                  "signals": signal_correlations(nb301, y301),
                  "tgnas_plus": corr(rule.score(nb301, "darts"), y301),
                  "tgnas_plus_equal_weights": corr(equal.score(nb301, "darts"), y301),
                  "note": f"weights_from={rule.info.get('weights_from')!r}; tgnas_plus_equal_weights fits nothing"},
    }
    trained = {n.split(":")[0] for n in pred.config.train_spaces}
    fitted = set(rule.info.get("fitted_on", [])) | {str(rule.info.get("weights_from"))}
    for space, key in (("nb201", "nb201"), ("nb301", "darts")):
        # in-sample: the space trained the predictor, or its labels fitted the rule's weights
        res[space]["predictor_in_sample"] = key in trained
        res[space]["tgnas_plus_in_sample"] = key in fitted or space in fitted
    if with_study:
        res["nb201"]["normalisation"] = normalisation_study(rule, nb201, y201, ref201, sizes=(100, 1000))
        darts_ref = reference_table(pred, SPACES["darts"], n=500, seed=0, progress=progress, signals=rule.signals)
        res["nb301"]["normalisation"] = normalisation_study(rule, nb301, y301, darts_ref, sizes=(100,))
    return res
