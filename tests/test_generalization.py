"""The leave-one-space-out benchmark's bookkeeping: what is held out, how TG-NAS+ is fitted
without the held-out space, how the variant is chosen and how the goals are judged."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tgnas.experiments.generalization import loso, plus_loso, report
from tgnas.experiments.generalization.targets import HELD_OUT_SPACES, Target, subsample


def test_training_names_never_include_a_held_out_space():
    every = loso.training_names(())
    assert "nb201:cifar100" in every and "tnb101_macro:autoencoder" in every and "nb101" in every
    for held in HELD_OUT_SPACES:
        names = loso.training_names([held])
        assert names and all(n.split(":")[0] != held for n in names)
    both = loso.training_names(["nb201", "darts"])
    assert {n.split(":")[0] for n in both} == {"nb101", "tnb101_macro"}


def test_jobs_cover_every_space_and_inner_jobs_leave_two_out():
    outer = loso.outer_jobs(["graph"], [0, 1])
    assert len(outer) == 2 * len(HELD_OUT_SPACES) and len({j.key for j in outer}) == len(outer)
    inner = loso.inner_jobs("graph", 0)
    assert len(inner) == len(HELD_OUT_SPACES) * (len(HELD_OUT_SPACES) - 1)
    assert all(len(set(j.exclude)) == 2 and j.evaluate == j.exclude[1:] for j in inner)


def test_variants_change_one_thing_and_skips_are_spaces():
    v = loso.variants(0.01, 2)
    base = v["graph+size"]
    assert base.size_features and not v["graph"].size_features
    assert v["graph+size balanced"].balance_spaces and v["graph+size full"].graph_form == "full"
    assert v["graph+size mse"].loss == "mse"
    assert set(loso.SKIPS) <= set(v) and all(set(s) <= set(HELD_OUT_SPACES) for s in loso.SKIPS.values())


def test_evaluate_and_finite():
    labels = np.arange(20.0)
    m = loso.evaluate(labels.copy(), labels)
    assert m["tau"] == pytest.approx(1.0) and m["p_top10"] == 1.0
    assert np.isnan(loso.evaluate(np.full(20, -1e8), labels)["tau"])  # a proxy that failed everywhere
    s = loso.finite(np.array([1.0, np.nan, -np.inf, np.inf, 2.0]))
    assert s.tolist() == [1.0, 0.0, 0.0, 3.0, 2.0]


def _target(space: str, task: str, n: int, seed: int, good: str) -> Target:
    """Labels follow the signal ``good``; the other signals are noise."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    cols = {s: rng.normal(size=n) for s in plus_loso.PLUS_SIGNALS if s != "tgnas"}
    cols[good] = y + 0.1 * rng.normal(size=n)
    return Target(space, task, [None] * n, y, pd.DataFrame(cols))


def test_tgnas_plus_weights_each_space_the_same_and_are_non_negative():
    # one space with many tasks (flops rules) against two with one task each (params rules):
    # per-space weighting gives params twice the weight of flops, however many tasks there are
    tables = [(_target("a", f"t{k}", 300, k, "flops"), np.zeros(300)) for k in range(7)]
    tables += [(_target(s, "x", 300, 10 + i, "params"), np.zeros(300)) for i, s in enumerate(("b", "c"))]
    w = dict(zip(plus_loso.PLUS_SIGNALS, plus_loso.fit_weights(tables)))
    assert all(v >= 0 for v in w.values()) and sum(w.values()) == pytest.approx(1.0)
    assert w["params"] > 1.5 * w["flops"] > 0


def test_loso_plus_fits_without_the_held_out_space():
    spaces = list(HELD_OUT_SPACES)
    targets = [_target(s, "t", 200, i, "flops" if s == "tnb101_macro" else "params") for i, s in enumerate(spaces)]
    records = {}
    for t in targets:
        for h in spaces:
            key = f"v|{h}+{t.space}|0" if h != t.space else f"v|{h}|0"
            records[key] = {"scores": {t.name: list(np.zeros(200))}}
    out, weights = plus_loso.loso_plus(targets, records, "v", [0])
    # the macro space's own signal (flops) gets no weight when the macro space is held out
    w_macro = dict(zip(plus_loso.PLUS_SIGNALS, weights["tnb101_macro"]))
    assert w_macro["flops"] < 0.05 and w_macro["params"] > 0.5
    assert {r["held_out"] for r in out} == set(spaces)


def test_select_variant_and_goals():
    rows = [("a:x", "tgnas[v1]", 0.3), ("b:x", "tgnas[v1]", 0.5), ("a:x", "tgnas[v2]", 0.6), ("b:x", "tgnas[v2]", 0.1)]
    screen = pd.DataFrame([{"target": t, "method": m, "tau_mean": v} for t, m, v in rows])
    assert report.select_variant(screen) == "v1"  # mean 0.40 beats 0.35, though v2 wins one target
    summary = pd.DataFrame([{"target": t, "method": m, "tau_mean": v} for t, m, v in [
        ("a:x", "tgnas[v]", 0.5), ("a:x", "tgnas+[v]", 0.7), ("a:x", "params", 0.4), ("a:x", "flops", 0.45),
        ("a:x", "naswot", 0.6), ("b:x", "tgnas[v]", 0.3), ("b:x", "tgnas+[v]", 0.4), ("b:x", "params", 0.35),
        ("b:x", "flops", 0.2), ("b:x", "naswot", 0.5)]])
    g = report.goals(summary, "tgnas[v]", "tgnas+[v]", ["params", "flops", "naswot"])
    assert g["per_target"]["a:x"]["predictor_beats_size"] and not g["per_target"]["b:x"]["predictor_beats_size"]
    assert g["per_target"]["a:x"]["plus_beats_best_single"] and not g["per_target"]["b:x"]["plus_beats_best_single"]
    assert g["best_single_mean_name"] == "naswot" and not g["predictor_mean_beats_best_single_by_0.05"]


def test_subsample_is_seeded_and_keeps_rows_together():
    t = _target("a", "x", 50, 0, "params")
    s = subsample(t, 10)
    assert len(s.archs) == 10 and len(s.baselines) == 10
    np.testing.assert_array_equal(s.labels, subsample(t, 10).labels)
    assert subsample(t, 0) is t
