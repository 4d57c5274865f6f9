"""The TG-NAS+ rule: normal scores, reference populations, the weights' fit and the rule file.

Each signal (the TG-NAS score, #params, FLOPs, lite NASWOT, lite synflow, ...) is first
mapped to a *normal score* within its own search space: its empirical CDF position among a
reference population of that space's cells -- unlabelled; all 15,625 cells for NB201, a
random sample for NB101 -- then the standard normal quantile (van der Waerden scores). This
removes units and scale (synflow spans dozens of orders of magnitude, NB101 and NB201
networks differ in size), so weights fitted in one space can be applied in another.

The combined score is ``Σ_k w_k · z_k``. The weights are fitted on the SOURCE space only
(NAS-Bench-101 cells with accuracy labels that the predictor did not train on), by
non-negative least squares of the accuracy's normal score on the signals' normal scores
(:func:`fit_rule`): non-negative because every signal here is "higher is better" by
construction, and a negative weight fitted on one space is a space-specific shortcut. An
unfitted equal-weight rule (a rank average) is :func:`equal_rule`.

A :class:`PlusRule` is saved as JSON with its reference populations, so scoring a single
architecture gives the same value as scoring it among all cells. Those populations include
the predictor's *own* scores, so a rule is only valid with the checkpoint it was made for:
:func:`stamp_rule` records the checkpoint's SHA-256 and :func:`check_rule_matches` checks it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

from tgnas.errors import shorten
from tgnas.fileio import read_json, sha256_file, write_json
from tgnas.metrics import kendall_tau

__all__ = ["REFERENCE_QUANTILES", "floor_neg_inf", "normal_scores", "Reference", "PlusRule", "fit_rule", "equal_rule",
           "stamp_rule", "check_rule_matches", "load_rule"]

#: Quantiles stored per signal and space (enough for a smooth CDF, small JSON).
REFERENCE_QUANTILES = 1001


def floor_neg_inf(values: np.ndarray) -> np.ndarray:
    """``values`` with ``-inf`` replaced by (smallest finite value - 1).

    NASWOT is ``log|det K|``; it is ``-inf`` when K is singular (e.g. a cell whose output is
    constant, or so few activation patterns that two images share one): the lowest possible
    score, so it is ranked below every finite one. NaN or +inf still raise.
    """
    v = np.asarray(values, dtype=np.float64).copy()
    if np.isnan(v).any() or np.isposinf(v).any():
        raise ValueError("signal values contain NaN or +inf")
    neg = np.isneginf(v)
    if neg.any():
        if neg.all():
            raise ValueError("every signal value is -inf")
        v[neg] = v[~neg].min() - 1.0
    return v


def normal_scores(x: np.ndarray) -> np.ndarray:
    """``(M,)`` van der Waerden scores of ``x`` (ties share their average rank)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f"normal_scores needs a 1-d array of >= 2 values, got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("normal_scores: values contain NaN or inf")
    return stats.norm.ppf((stats.rankdata(x) - 0.5) / len(x))


@dataclass
class Reference:
    """A space's unlabelled reference population of one signal, as sorted quantiles.

    Attributes:
        quantiles: ``(Q,)`` non-decreasing values at probabilities ``linspace(0, 1, Q)``.
    """

    quantiles: np.ndarray

    def __post_init__(self) -> None:
        q = np.asarray(self.quantiles, dtype=np.float64)
        if q.ndim != 1 or len(q) < 2 or not np.all(np.isfinite(q)) or np.any(np.diff(q) < 0):
            raise ValueError(f"quantiles must be >= 2 finite numbers in non-decreasing order, got "
                             f"{len(q) if q.ndim == 1 else q.shape} value(s){_first_problem(q)}")
        self.quantiles = q

    @classmethod
    def of(cls, values: np.ndarray, q: int = REFERENCE_QUANTILES) -> Reference:
        v = np.asarray(values, dtype=np.float64)
        if v.ndim != 1 or len(v) < 2 or not np.all(np.isfinite(v)):
            raise ValueError(f"a reference needs >= 2 finite values, got shape {v.shape}")
        return cls(np.quantile(v, np.linspace(0.0, 1.0, q)))

    def transform(self, values: np.ndarray) -> np.ndarray:
        """Normal scores ``(M,)`` of ``values`` against this population (mid-rank CDF,
        clipped half a quantile step inside (0, 1))."""
        v = np.asarray(values, dtype=np.float64)
        q = self.quantiles
        lo = np.searchsorted(q, v, side="left")
        hi = np.searchsorted(q, v, side="right")
        p = (lo + hi) / 2.0 / len(q)  # ties get the middle of their run, as ranks would
        eps = 0.5 / len(q)
        return stats.norm.ppf(np.clip(p, eps, 1.0 - eps))


def _first_problem(q: np.ndarray) -> str:
    """What is wrong first in a 1-d array of quantiles ("" if nothing is)."""
    if q.ndim != 1:
        return ""
    bad = np.flatnonzero(~np.isfinite(q))
    if len(bad):
        return f" (value {int(bad[0])} is {q[bad[0]]})"
    down = np.flatnonzero(np.diff(q) < 0)
    return f" (value {int(down[0]) + 1} is below value {int(down[0])})" if len(down) else ""


def _number_list(value: object, field: str) -> np.ndarray:
    """A JSON list of numbers as a float array; ValueError naming ``field`` otherwise."""
    if not isinstance(value, list) or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                              for v in value):
        kind = type(value).__name__ if not isinstance(value, list) else "a list holding " + ", ".join(
            sorted({type(v).__name__ for v in value if not isinstance(v, (int, float)) or isinstance(v, bool)}))
        raise ValueError(f"{field} must be a list of numbers, got {kind}")
    return np.asarray(value, dtype=np.float64)


def _object(value: object, field: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise ValueError(f"{field} must be an object, got {type(value).__name__}")
    return value


@dataclass
class PlusRule:
    """``score = Σ_k weights[k] · z_k`` over ``signals``, z from each space's reference.

    Attributes:
        signals: names of the signals (columns of the tables passed to :meth:`score`).
        weights: ``(K,)`` non-negative.
        references: ``{space: {signal: Reference}}``.
        info: how it was fitted (source space, cells, fit quality...).
    """

    signals: tuple[str, ...]
    weights: np.ndarray
    references: dict[str, dict[str, Reference]] = field(default_factory=dict)
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.signals = tuple(self.signals)
        self.weights = np.asarray(self.weights, dtype=np.float64)
        if self.weights.shape != (len(self.signals),):
            raise ValueError(f"weights have shape {self.weights.shape}, expected ({len(self.signals)},)")
        if not np.all(np.isfinite(self.weights)) or np.any(self.weights < 0) or not self.weights.sum() > 0:
            raise ValueError(f"weights must be non-negative and not all zero, got {self.weights.tolist()}")

    def add_reference(self, space: str, table: pd.DataFrame) -> None:
        """Store ``space``'s population of every signal (unlabelled cells, columns = signals)."""
        self.check_columns(table)
        self.references[space] = {s: Reference.of(table[s].to_numpy()) for s in self.signals}

    def check_columns(self, table: pd.DataFrame) -> None:
        missing = [s for s in self.signals if s not in table.columns]
        if missing:
            raise KeyError(f"table lacks signal columns {missing}; the rule needs {list(self.signals)}")

    def z(self, table: pd.DataFrame, space: str) -> np.ndarray:
        """``(M, K)`` normal scores of the signals against ``space``'s reference."""
        self.check_columns(table)
        if space not in self.references:
            raise KeyError(f"no reference population for space {space!r}; the rule has "
                           f"{sorted(self.references)} (add one with add_reference)")
        ref = self.references[space]
        return np.column_stack([ref[s].transform(table[s].to_numpy()) for s in self.signals])

    def score(self, table: pd.DataFrame, space: str) -> np.ndarray:
        """``(M,)`` combined scores (higher = predicted better)."""
        return self.z(table, space) @ self.weights

    def to_dict(self) -> dict:
        return {"format": "tgnas-plus-rule", "version": 1, "signals": list(self.signals),
                "weights": self.weights.tolist(), "info": self.info,
                "references": {sp: {s: r.quantiles.tolist() for s, r in refs.items()}
                               for sp, refs in self.references.items()}}

    @classmethod
    def from_dict(cls, d: Mapping) -> PlusRule:
        """The rule of a :meth:`to_dict` mapping (a rule file), checked field by field.

        Raises:
            ValueError: naming the first bad field (``weights``, ``references.darts.tgnas``, ...).
        """
        d = _object(d, "a rule")
        if d.get("format") != "tgnas-plus-rule" or d.get("version") != 1:
            raise ValueError(f"not a tgnas-plus-rule v1 (format={shorten(d.get('format'), 40)}, "
                             f"version={shorten(d.get('version'), 40)})")
        signals = d.get("signals")
        if not isinstance(signals, list) or not signals or not all(isinstance(s, str) for s in signals) \
                or len(set(signals)) != len(signals):
            raise ValueError(f"signals must be a non-empty list of distinct names, got {shorten(signals, 80)}")
        weights = _number_list(d.get("weights"), "weights")
        if weights.shape != (len(signals),) or not np.all(np.isfinite(weights)) or np.any(weights < 0) \
                or not weights.sum() > 0:
            raise ValueError(f"weights must be {len(signals)} finite numbers >= 0, not all 0 (one per signal), "
                             f"got {shorten(weights.tolist(), 80)}")
        refs = {}
        for sp, r in _object(d.get("references", {}), "references").items():
            r = _object(r, f"references.{sp}")
            missing = [s for s in signals if s not in r]
            if missing:
                raise ValueError(f"references.{sp} lacks the signals {missing}")
            refs[sp] = {}
            for s in signals:
                q = _number_list(r[s], f"references.{sp}.{s}")
                try:
                    refs[sp][s] = Reference(q)
                except ValueError as e:
                    raise ValueError(f"references.{sp}.{s}: {e}") from None
        info = dict(_object(d.get("info", {}), "info"))
        if not isinstance(info.get("predictor_sha256", ""), str):
            raise ValueError(f"info.predictor_sha256 must be a hex string, got {shorten(info['predictor_sha256'], 40)}")
        return cls(tuple(signals), weights, refs, info)

    def save(self, path: Path | str) -> Path:
        """Write the rule as JSON (atomically, replacing ``path``); return the resolved path."""
        return write_json(self.to_dict(), path)

    @classmethod
    def load(cls, path: Path | str) -> PlusRule:
        """Read and check a rule file (strict JSON; :meth:`from_dict` checks every field).

        Raises:
            FileNotFoundError: no file; ValueError: not JSON, or a bad field (the message names it).
        """
        path = Path(path)
        d = read_json(path, "TG-NAS+ rule", allow_nan=True)  # every number is checked below, by field
        try:
            return cls.from_dict(d)
        except ValueError as e:
            raise ValueError(f"TG-NAS+ rule {path}: {e}") from None


def fit_rule(table: pd.DataFrame, signals: Sequence[str], space: str, target: str = "accuracy") -> PlusRule:
    """Fit non-negative weights on a labelled source-space table.

    Args:
        table: one row per cell: the signal columns and ``target`` (accuracy). Its cells are
            also the source space's reference population.
        signals: columns to combine.
        target: the label column.
        space: the source space's name (its reference is stored under it).

    Returns:
        a :class:`PlusRule` with ``info`` = source, cells, weights' fit R^2, and the source
        Kendall tau of every single signal and of the combination (in-sample).
    """
    signals = tuple(signals)
    if target not in table.columns:
        raise KeyError(f"table has no target column {target!r}")
    if len(table) < 10 * max(1, len(signals)):
        raise ValueError(f"{len(table)} cells are too few to fit {len(signals)} weights (need >= 10 per weight)")
    rule = PlusRule(signals, np.ones(len(signals)))
    rule.add_reference(space, table)
    z = rule.z(table, space)
    y = normal_scores(table[target].to_numpy())
    w, resid = optimize.nnls(z, y)
    if not w.sum() > 0:
        raise ValueError(f"no signal correlates positively with {target!r} on {space}; nothing to combine")
    rule.weights = w / w.sum()  # the scale does not change any ranking
    combo = z @ rule.weights
    acc = table[target].to_numpy()
    rule.info = {"fitted_on": space, "cells": int(len(table)), "method": "nnls on normal scores",
                 "r2": float(1.0 - resid ** 2 / float(np.sum((y - y.mean()) ** 2))),
                 "source_kendall": {s: kendall_tau(table[s], acc, constant="nan", nonfinite="rank") for s in signals}
                 | {"combined": kendall_tau(combo, acc, constant="nan", nonfinite="rank")}}
    return rule


def equal_rule(signals: Sequence[str]) -> PlusRule:
    """Equal weights (a rank average in normal-score form); nothing fitted."""
    return PlusRule(tuple(signals), np.full(len(signals), 1.0 / len(signals)), info={"method": "equal weights"})


def stamp_rule(rule: PlusRule, checkpoint: Path | str) -> PlusRule:
    """Record ``checkpoint``'s SHA-256 in ``rule.info["predictor_sha256"]`` (returns ``rule``)."""
    rule.info["predictor_sha256"] = sha256_file(checkpoint)
    return rule


def check_rule_matches(rule: PlusRule, checkpoint: Path | str, rule_path: Path | str = "rule") -> None:
    """Raise ``ValueError`` unless ``rule`` was made for ``checkpoint``."""
    want = rule.info.get("predictor_sha256")
    if want is None:
        raise ValueError(f"{rule_path} does not name the predictor checkpoint it was made for "
                         "(no info.predictor_sha256)")
    have = sha256_file(checkpoint)
    if have != want:
        raise ValueError(f"{rule_path} was made for another predictor checkpoint (sha256 {want[:12]}...), "
                         f"not {checkpoint} ({have[:12]}...): its reference population of predictor scores "
                         "would not fit; rerun notebook 06 for this checkpoint")


def load_rule(rule: Path | str, checkpoint: Path | str) -> PlusRule:
    """The rule file ``rule``, checked to belong to the predictor ``checkpoint`` (both paths;
    :func:`tgnas.scoring.load_rule` resolves the shipped defaults first).

    Raises:
        FileNotFoundError: no rule file; ValueError: not a rule, or made for another checkpoint.
    """
    rule_path = Path(rule).expanduser().resolve()
    r = PlusRule.load(rule_path)
    check_rule_matches(r, checkpoint, rule_path)
    return r
