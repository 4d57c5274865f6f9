"""TG-NAS+ combination rules (tgnas.plus.rule) on synthetic source/target spaces."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tgnas.plus.rule import PlusRule, Reference, equal_rule, fit_rule, floor_neg_inf, normal_scores


def synthetic(n: int, seed: int, scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b, c = rng.normal(size=(3, n))
    acc = 2.0 * a + 1.0 * b - 0.5 * c + 0.3 * rng.normal(size=n)
    # monotone, unit-changing transforms: the rule must not care
    return pd.DataFrame({"good": np.exp(scale * a), "ok": 1e6 * b, "bad": c, "accuracy": acc})


def test_normal_scores_are_rank_based_and_symmetric():
    x = np.array([3.0, 1e9, -2.0, 5.0])
    z = normal_scores(x)
    assert np.array_equal(np.argsort(z), np.argsort(x))
    assert z.sum() == pytest.approx(0.0, abs=1e-12)
    np.testing.assert_allclose(normal_scores(np.exp(x / 1e9)), z)
    with pytest.raises(ValueError, match="NaN or inf"):
        normal_scores(np.array([1.0, np.nan]))


def test_reference_transform_is_monotone_and_population_independent():
    pop = np.random.default_rng(0).lognormal(size=5000)
    ref = Reference.of(pop)
    x = np.sort(np.random.default_rng(1).lognormal(size=300))
    z = ref.transform(x)
    assert np.all(np.diff(z) >= 0)
    # one value scored alone equals the same value scored in a batch
    assert ref.transform(x[[7]])[0] == z[7]
    # against its own population it is close to the exact normal scores
    assert np.corrcoef(ref.transform(pop), normal_scores(pop))[0, 1] > 0.999
    # values beyond the population stay finite
    assert np.all(np.isfinite(ref.transform(np.array([-1e30, 1e30]))))


def test_fit_rule_weights_follow_the_source_and_drop_a_harmful_signal():
    src = synthetic(4000, seed=0)
    rule = fit_rule(src, ["good", "ok", "bad"], "source")
    w = dict(zip(rule.signals, rule.weights))
    assert w["bad"] == 0.0 and w["good"] > w["ok"] > 0.0
    assert rule.weights.sum() == pytest.approx(1.0)
    assert rule.info["source_kendall"]["combined"] > rule.info["source_kendall"]["good"]
    # transfer to a space with other units: add its unlabelled reference, then score
    tgt = synthetic(3000, seed=1, scale=3.0)
    rule.add_reference("target", tgt.drop(columns="accuracy"))
    tau = stats.kendalltau(rule.score(tgt, "target"), tgt["accuracy"])[0]
    tau_good = stats.kendalltau(tgt["good"], tgt["accuracy"])[0]
    assert tau > tau_good + 0.05


def test_rule_roundtrip_and_errors(tmp_path):
    src = synthetic(500, seed=2)
    rule = fit_rule(src, ["good", "ok"], "source")
    path = rule.save(tmp_path / "rule.json")
    again = PlusRule.load(path)
    np.testing.assert_array_equal(again.score(src, "source"), rule.score(src, "source"))
    with pytest.raises(KeyError, match="no reference population for space 'nb201'"):
        rule.score(src, "nb201")
    with pytest.raises(KeyError, match=r"lacks signal columns \['ok'\]"):
        rule.score(src.drop(columns="ok"), "source")
    with pytest.raises(ValueError, match="non-negative"):
        PlusRule(("a", "b"), np.array([1.0, -0.1]))
    with pytest.raises(ValueError, match="too few"):
        fit_rule(src.head(15), ["good", "ok"], "source")
    (tmp_path / "x.json").write_text('{"format": "other"}')
    with pytest.raises(ValueError, match="not a tgnas-plus-rule"):
        PlusRule.load(tmp_path / "x.json")
    eq = equal_rule(["good", "ok"])
    eq.add_reference("nb101", src)
    np.testing.assert_allclose(eq.score(src, "nb101"), eq.z(src, "nb101").mean(axis=1))


def test_floor_neg_inf_ranks_singular_naswot_last():
    v = floor_neg_inf(np.array([3.0, -np.inf, 5.0]))
    assert v.tolist() == [3.0, 2.0, 5.0]
    with pytest.raises(ValueError, match="NaN"):
        floor_neg_inf(np.array([1.0, np.nan]))
