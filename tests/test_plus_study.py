"""Issue-9 study helpers, presets and the TG-NAS+ rule plumbing (fast, no NB201 training)."""

import math

import numpy as np
import pandas as pd
import pytest

from tgnas.experiments.tgnas_plus.signals import plus_rule
from tgnas.predictor.presets import PURE_VARIANT, TRAIN_PRESETS, study_variants, train_preset
from tgnas.experiments.tgnas_plus.report import goal_table, select_variant, seed_table
from tgnas.experiments.tgnas_plus.study import final_phase_swing, slug, summarise


def test_final_phase_swing_reads_the_second_half_only():
    # a big jump early, small steps late
    assert final_phase_swing([0.1, 0.6, 0.61, 0.60, 0.62]) == pytest.approx(0.02)
    assert final_phase_swing([0.5, 0.4, 0.45, 0.3]) == pytest.approx(0.15)
    assert math.isnan(final_phase_swing([0.5, 0.6]))


def test_slug_is_file_safe():
    assert slug("contracted + minilm-384 + dropout + swa") == "contracted_minilm-384_dropout_swa"
    assert slug("base (full graphs)") == "base_full_graphs"


def test_summarise_and_select_use_nb301_not_nb201():
    rows = []
    for v, nb301, c10 in (("a", 0.40, 0.50), ("b", 0.20, 0.70)):
        for seed in range(3):
            rows.append({"variant": v, "seed": seed, "nb101_val": 0.8, "nb301_kendall": nb301 + 0.01 * seed,
                         "nb301_spearman": 0.5, "swing": 0.01 * seed, "train_s": 1.0,
                         **{f"{ds}_{m}": c10 for ds in ("cifar10", "cifar100", "imagenet16-120")
                            for m in ("kendall", "spearman")}})
    s = summarise(pd.DataFrame(rows))
    assert list(s["variant"]) == ["a", "b"] and list(s["n_seeds"]) == [3, 3]
    assert s.loc[0, "nb301_kendall_mean"] == pytest.approx(0.41) and s.loc[0, "max_swing"] == pytest.approx(0.02)
    # b is better on NB201, a on NB301: the selection takes a
    assert select_variant(s) == "a"


def test_presets_are_one_change_each_and_named():
    v = study_variants(0.1, 8)
    base = v["base (full graphs)"]
    assert v["contracted"].graph_form == "contracted" and base.graph_form == "full"
    assert v["pruned + swa"].average_from == 5 and v["pruned + swa"].graph_form == "pruned"
    assert PURE_VARIANT in v and train_preset("pure") == v[PURE_VARIANT]
    assert train_preset("pure-full").fraction == 1.0 and train_preset("upstream").loss == "mse"
    assert set(TRAIN_PRESETS) == {"upstream", "tgnas-v1", "pure", "pure-full"}
    with pytest.raises(KeyError, match="unknown training preset 'best'"):
        train_preset("best")


def _table(n, seed, with_acc=True):
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(4, n))
    df = pd.DataFrame({"tgnas": z[0], "params": np.exp(z[1]), "naswot": 100 + z[2], "synflow": 10 ** z[3]})
    if with_acc:
        df["accuracy"] = z[0] + z[1] + 0.5 * rng.normal(size=n)
    return df


def test_plus_rule_methods_and_references():
    tgt = _table(400, 0, with_acc=False)
    nb301 = _table(300, 1)
    r = plus_rule("nb301", tgt, nb301=nb301)
    assert set(r.references) == {"nb301", "nb201"} and r.info["weights_from"] == "nb301"
    w = dict(zip(r.signals, r.weights))
    assert w["tgnas"] > 0.2 and w["params"] > 0.2
    eq = plus_rule("equal", tgt)
    assert np.allclose(eq.weights, 0.25)
    with pytest.raises(ValueError, match="needs the labelled nb101 table"):
        plus_rule("nb101", tgt, nb301=nb301)
    with pytest.raises(ValueError, match="unknown method 'nb201'"):
        plus_rule("nb201", tgt)


def test_goal_table_flags_each_goal():
    pure = pd.Series({"cifar10_kendall_mean": 0.66, "cifar10_spearman_mean": 0.83, "cifar10_kendall_std": 0.01,
                      "max_swing": 0.02})
    plus = pd.Series({f"{ds}_{m}_mean": v for ds in ("cifar10", "cifar100", "imagenet16-120")
                      for m, v in (("kendall", 0.79), ("spearman", 0.90))}
                     | {f"{ds}_kendall_std": v for ds, v in (("cifar10", 0.005), ("cifar100", 0.02), ("imagenet16-120", 0.01))}
                     | {"nb301_cv_kendall_mean": 0.49})
    table = goal_table(pure, plus, 0.03, 0.78).set_index("goal")
    g = table["met"]
    assert table.loc["pure: CIFAR-10 tau >= 0.65", "target"] == 0.65
    assert table.loc["TG-NAS+: cifar10 spearman >= 0.93", "measured"] == 0.90
    assert g["pure: CIFAR-10 tau >= 0.65"] and not g["pure: CIFAR-10 rho >= 0.84"]
    assert g["TG-NAS+: cifar100 kendall >= 0.78"] and not g["TG-NAS+: cifar100 spearman >= 0.93"]
    assert g["TG-NAS+: cost per arch < synflow's (s)"]
    assert g["TG-NAS+: cifar10 seed std of tau <= 0.01"] and not g["TG-NAS+: cifar100 seed std of tau <= 0.01"]
    assert g["TG-NAS+: imagenet16-120 seed std of tau <= 0.01"]  # the bound is inclusive
    assert not g["TG-NAS+: NB301 tau (5-fold CV) >= 0.5"] and g["TG-NAS+: seconds per arch <= 0.05"]
    assert not goal_table(pure, plus, 0.06, 0.78).set_index("goal")["met"]["TG-NAS+: seconds per arch <= 0.05"]


def test_seed_table_means_and_stds():
    df = pd.DataFrame({"scorer": ["x", "x", "y"], "seed": [0, 1, 0], "cifar10_kendall": [0.5, 0.7, 0.4]})
    t = seed_table(df).set_index("scorer")
    assert t.loc["x", "cifar10_kendall_mean"] == pytest.approx(0.6)
    assert t.loc["x", "cifar10_kendall_std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert t.loc["y", "n_seeds"] == 1
