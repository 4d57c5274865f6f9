"""The ranker to ship: the benchmark's chosen variant trained on every space it trains on, its
TG-NAS+ rule with the weights fitted on all four spaces, and what it scores on each target.

``tgnas models ship --checkpoint models/tgnas_ranker.pt --rule models/tgnas_ranker_rule.json
--results models/tgnas_ranker_results.json`` puts them into :mod:`tgnas.pretrained`. The results
say, per target, whether the number is in-sample (the target's space trained the predictor, or
fitted the TG-NAS+ weights) and carry the leave-one-space-out estimate beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from tgnas.experiments.generalization import loso, plus_loso
from tgnas.experiments.generalization.targets import HELD_OUT_SPACES, Target
from tgnas.plus.rule import PlusRule, stamp_rule
from tgnas.predictor import Predictor, train
from tgnas.fileio import write_json

#: File names under the models folder.
CHECKPOINT_NAME, RULE_NAME, RESULTS_NAME = "tgnas_ranker.pt", "tgnas_ranker_rule.json", "tgnas_ranker_results.json"


def train_ranker(fraction: float, epochs: int, variant: str, seed: int, out: Path) -> Predictor:
    """Train ``variant`` on every space it trains on (no space held out); the loaded predictor."""
    config = loso.variants(fraction, epochs)[variant]
    names = loso.training_names(loso.SKIPS.get(variant, ()))
    train(replace(config, train_spaces=names, seed=seed), out, progress=False, overwrite=True)
    return Predictor.load(out, device="cpu")


def ranker_rule(weights: Mapping[str, float], checkpoint: Path, out: Path, variant: str) -> PlusRule:
    """The TG-NAS+ rule of the shipped weights, stamped for ``checkpoint`` (references are added
    at ship time, one seeded sample per space)."""
    rule = PlusRule(tuple(weights), np.asarray(list(weights.values())),
                    info={"method": "nnls on within-target normal scores, every space weighing the same",
                          "weights_from": "leave-one-space-out: all four spaces, each scored by the "
                                          f"{variant!r} predictor trained without it",
                          "fitted_on": list(HELD_OUT_SPACES)})
    stamp_rule(rule, checkpoint)
    rule.save(out)
    return rule


def ranker_results(pred: Predictor, weights: Mapping[str, float], targets: Sequence[Target],
                   held_out: Mapping[str, float], variant: str) -> dict:
    """Per target: the shipped predictor's and TG-NAS+'s tau/rho, each marked in-sample or held-out,
    and ``loso_tau``: the chosen variant's leave-one-space-out mean tau there (``held_out``)."""
    trained_on = sorted({n.split(":")[0] for n in pred.config.train_spaces})
    signals = tuple(weights)
    w = np.asarray(list(weights.values()))
    out = {}
    for t in targets:
        s = loso.score_target(pred, t)
        plus = plus_loso.signal_matrix(t, s, signals) @ w
        out[t.name] = {"cells": len(t.labels),
                       "predictor": {k: loso.evaluate(s, t.labels)[k] for k in ("tau", "rho")},
                       "predictor_in_sample": t.space in trained_on,
                       "tgnas_plus": {k: loso.evaluate(plus, t.labels)[k] for k in ("tau", "rho")},
                       "tgnas_plus_in_sample": True,  # the shipped weights were fitted on every space
                       "loso_tau": held_out.get(t.name)}
    return {"trained_on": trained_on, "variant": variant, "plus_weights": dict(weights), "targets": out}


def build_ranker(full: dict, targets: Sequence[Target], models_dir: Path) -> dict:
    """Train, stamp and evaluate the ranker of a benchmark run (``full``: :func:`.report.run_benchmark`'s
    result); write the three files under ``models_dir``; return the results."""
    cfg = full["config"]
    variant = cfg["chosen"]
    models_dir.mkdir(parents=True, exist_ok=True)
    ckpt = models_dir / CHECKPOINT_NAME
    pred = train_ranker(cfg["fraction"], cfg["epochs"], variant, cfg["seeds"][0], ckpt)
    weights = full["plus_weights"]["shipped"]
    ranker_rule(weights, ckpt, models_dir / RULE_NAME, variant)
    held = {r["target"]: r["tau_mean"] for r in full["table"] if r["method"] == f"tgnas[{variant}]"}
    results = ranker_results(pred, weights, targets, held, variant)
    write_json(results, models_dir / RESULTS_NAME, indent=1)
    return results
