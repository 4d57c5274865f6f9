"""Metrics on hand-computed rankings, bootstrap determinism and error cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from tgnas import metrics as m

# 5 items; truth swaps neighbours (1,2) and (3,4) of the score order.
# Pairs: 10, discordant: (1,2) and (3,4) -> tau = (8 - 2) / 10 = 0.6.
# Rank differences d = [0, 1, -1, 1, -1], sum d^2 = 4 -> rho = 1 - 6*4 / (5*24) = 0.8.
S5 = [1.0, 2.0, 3.0, 4.0, 5.0]
T5 = [1.0, 3.0, 2.0, 5.0, 4.0]


def test_hand_computed_tau_rho():
    assert m.kendall_tau(S5, T5) == pytest.approx(0.6)
    assert m.spearman_rho(S5, T5) == pytest.approx(0.8)
    # reversing the scores negates both
    assert m.kendall_tau(S5[::-1], T5) == pytest.approx(-0.6)
    assert m.spearman_rho(S5[::-1], T5) == pytest.approx(-0.8)


def test_hand_computed_with_ties():
    # scores tie on items 1, 2: C = 5, D = 0, one pair tied in scores only.
    # tau-b = 5 / sqrt((6 - 1) * (6 - 0)) = 5 / sqrt(30)
    s, t = [1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]
    assert m.kendall_tau(s, t) == pytest.approx(5 / math.sqrt(30))
    # average ranks s = [1, 2.5, 2.5, 4]: rho = 4.5 / sqrt(4.5 * 5) = sqrt(0.9)
    assert m.spearman_rho(s, t) == pytest.approx(math.sqrt(0.9))


def test_resample_ranks_equal_rankdata_with_ties():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 7, size=50).astype(float)   # many ties
    _, groups = np.unique(y, return_inverse=True)
    idx = rng.integers(0, 50, size=(4, 50))
    got = m._resample_ranks(groups, int(groups.max()) + 1, idx)
    np.testing.assert_array_equal(got, stats.rankdata(y[idx], axis=1))


def test_bootstrap_spearman_matches_scipy_per_resample():
    rng = np.random.default_rng(1)
    x = rng.normal(size=60)
    y = np.round(x + rng.normal(size=60), 0)
    idx = rng.integers(0, 60, size=(3, 60))
    got = m._bootstrap_spearman(x, y, [idx])
    want = [stats.spearmanr(x[i], y[i]).statistic for i in idx]
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_bootstrap_deterministic_and_contains_estimate():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    y = x + rng.normal(size=300)
    for stat, point in (("kendall", m.kendall_tau(x, y)), ("spearman", m.spearman_rho(x, y))):
        a = m.bootstrap_ci(x, y, stat, n_boot=200, seed=7)
        b = m.bootstrap_ci(x, y, stat, n_boot=200, seed=7)
        c = m.bootstrap_ci(x, y, stat, n_boot=200, seed=8)
        assert a == b
        assert a != c
        assert a[0] < point < a[1]
        assert a[1] - a[0] < 0.2


def test_rank_report_deterministic_and_keys():
    rng = np.random.default_rng(0)
    truth = rng.normal(size=200)
    scores = truth + rng.normal(size=200)
    r1 = m.rank_report(scores, truth, seed=3, n_boot=50)
    r2 = m.rank_report(scores, truth, seed=3, n_boot=50)
    assert r1 == r2
    assert r1["n"] == 200 and r1["n_boot"] == 50 and r1["seed"] == 3
    assert r1["kendall"] == pytest.approx(stats.kendalltau(scores, truth).statistic)
    assert r1["kendall_ci"][0] < r1["kendall"] < r1["kendall_ci"][1]
    assert r1["spearman_ci"][0] < r1["spearman"] < r1["spearman_ci"][1]
    assert r1["best_in_top1"] <= r1["best_in_top10"] <= r1["best_in_top100"] <= r1["true_best"]


def test_top_k_measures_hand_computed():
    truth = np.arange(20, dtype=float)          # item 19 is the optimum
    # the scorer puts items 19, 18, 3, 17, 16 first, then the rest ascending
    scores = np.zeros(20)
    order = [19, 18, 3, 17, 16] + [i for i in range(20) if i not in (19, 18, 3, 17, 16)]
    scores[order] = np.arange(20, 0, -1)
    # true top 5 = {15..19}; predicted top 5 = {19,18,3,17,16}: 4 of 5
    assert m.precision_at_top(scores, truth, 0.25) == pytest.approx(0.8)
    assert m.best_in_predicted_top(scores, truth, 1) == 19.0
    assert m.best_in_predicted_top(scores, truth, 3) == 19.0
    assert m.rank_of_optimum(scores, truth) == 1.0
    assert m.rank_of_optimum(-scores, truth) == 20.0
    # within the true top 2 (items 18, 19) the order is right
    assert m.spearman_in_true_top(scores, truth, 0.15) == pytest.approx(1.0)  # k = 3: 17,18,19


def test_rank_of_optimum_uses_average_tie_rank():
    truth = [1.0, 4.0, 3.0, 2.0]
    scores = [5.0, 5.0, 5.0, 1.0]      # optimum (item 1) tied with two others at the top
    assert m.rank_of_optimum(scores, truth) == 2.0


def test_precision_top5pct_in_report():
    truth = np.arange(100, dtype=float)
    scores = truth.copy()
    scores[99] = -1.0      # the optimum is scored last: predicted top 5 = 98..94
    r = m.rank_report(scores, truth, n_boot=20)
    assert r["precision_top5pct"] == pytest.approx(4 / 5)
    assert r["best_in_top1"] == 98.0
    assert r["rank_of_optimum"] == 100.0


@pytest.mark.parametrize("bad, msg", [
    ([1.0, np.nan, 3.0, 4.0], "non-finite"),
    ([1.0, np.inf, 3.0, 4.0], "non-finite"),
    ([2.0, 2.0, 2.0, 2.0], "constant"),
])
def test_bad_scores_raise(bad, msg):
    truth = [1.0, 2.0, 3.0, 4.0]
    with pytest.raises(ValueError, match=msg):
        m.rank_report(bad, truth, n_boot=20)
    with pytest.raises(ValueError, match=msg):
        m.kendall_tau(bad, truth)


def test_length_mismatch_and_shape_errors():
    with pytest.raises(ValueError, match="differ in length: 3 vs 4"):
        m.spearman_rho([1, 2, 3], [1, 2, 3, 4])
    with pytest.raises(ValueError, match="1-D"):
        m.spearman_rho(np.ones((2, 2)), [1, 2, 3, 4])
    with pytest.raises(ValueError, match="constant"):
        m.spearman_rho([1, 2, 3, 4], [0, 0, 0, 0])
    with pytest.raises(KeyError, match="unknown statistic"):
        m.bootstrap_ci(S5, T5, "pearson", n_boot=20)


def test_rank_correlation_is_scipy_tau_b_and_rho():
    rng = np.random.default_rng(5)
    x = np.round(rng.normal(size=80), 1)          # ties
    y = np.round(x + rng.normal(size=80), 1)
    r = m.rank_correlation(x, y)
    assert r == {"kendall": stats.kendalltau(x, y).statistic, "spearman": stats.spearmanr(x, y).statistic, "n": 80}
    assert r["kendall"] == stats.kendalltau(x, y, variant="b").statistic != stats.kendalltau(x, y, variant="c").statistic
    assert m.rank_correlation(x, y, ("kendall",)) == {"kendall": r["kendall"], "n": 80}
    assert m.kendall_tau(x, y) == r["kendall"] and m.spearman_rho(x, y) == r["spearman"]
    with pytest.raises(KeyError, match="unknown statistic"):
        m.rank_correlation(x, y, ("pearson",))


def test_rank_correlation_policies():
    s, t = [1.0, 2.0, 3.0, 4.0, 5.0], [1.0, 3.0, 2.0, 5.0, 4.0]
    # constant: raise by default, NaN on request (also for fewer than 3 items)
    with pytest.raises(ValueError, match="constant"):
        m.rank_correlation([1.0] * 5, t)
    got = m.rank_correlation([1.0] * 5, t, constant="nan")
    assert math.isnan(got["kendall"]) and math.isnan(got["spearman"]) and got["n"] == 5
    assert math.isnan(m.spearman_rho([1.0, 2.0], [2.0, 1.0], constant="nan"))
    # non-finite: raise; rank (-inf lowest, exactly scipy's numbers); drop the pairs
    bad = [-np.inf, 2.0, 3.0, 4.0, 5.0]
    with pytest.raises(ValueError, match="non-finite"):
        m.kendall_tau(bad, t)
    assert m.kendall_tau(bad, t, nonfinite="rank") == pytest.approx(0.6)
    assert m.spearman_rho(bad, t, nonfinite="rank") == stats.spearmanr(bad, t).statistic
    with pytest.raises(ValueError, match="NaN"):
        m.kendall_tau([np.nan, 2.0, 3.0, 4.0, 5.0], t, nonfinite="rank")
    dropped = m.rank_correlation([np.nan, 2.0, 3.0, 4.0, 5.0], t, nonfinite="drop")
    assert dropped["n"] == 4 and dropped["kendall"] == pytest.approx(stats.kendalltau(s[1:], t[1:]).statistic)
    with pytest.raises(ValueError, match="nonfinite"):
        m.rank_correlation(s, t, nonfinite="ignore")
