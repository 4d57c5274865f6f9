"""Cascade search and the TG-NAS+ scorer: toy scorers with known answers, the shipped predictor
and rule on a few NB201 cells, and the ``tgnas search`` errors of bad combinations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tgnas.cli import main
from tgnas.search.cascade import cascade
from tgnas.search.counting import CountingScorer
from tgnas.search.runner import run_search
from tgnas.search.scorers import make_scorer, plus_scorer
from tgnas.search.cascade import cascade_pool
from tgnas.spaces.darts.space import DartsSpace
from tgnas.spaces.nb201.space import NB201Space
from tgnas.spaces.catalog import SPACES
from test_search import nb201_additive  # the seeded additive NB201 score (score, optimum, table)

NB201 = NB201Space()
DARTS = DartsSpace()


def _darts_sep_count(archs):
    """Cheap DARTS score: number of separable convolutions in both cells."""
    return np.array([sum(op.startswith("sep_conv") for c in ("normal", "reduce") for op, _ in g.cell(c))
                     for g in archs], dtype=float)


class _Recorder:
    """A scorer that remembers every architecture it was asked to score."""

    def __init__(self, fn):
        self.fn, self.seen = fn, []

    def __call__(self, archs):
        self.seen += list(archs)
        return self.fn(archs)


def test_cascade_picks_expensive_best_of_prescorer_top_k():
    pre, exp = nb201_additive(0)[0], _Recorder(nb201_additive(1)[0])
    k = 37
    res = cascade(NB201, exp, k, prescorer=pre, progress=False)
    every, enumerated = cascade_pool(NB201, None)
    assert enumerated and len(every) == 15_625 and len(set(every)) == 15_625
    p = pre(every)
    top = [every[i] for i in np.argsort(-p, kind="stable")[:k]]
    # the expensive scorer saw exactly the prescorer's top k, and the winner is its best there
    assert set(exp.seen) == set(top) and len(exp.seen) == k
    e = exp.fn(top)
    assert res.arch == top[int(np.argmax(e))] and res.score == pytest.approx(e.max())
    assert res.extra["winner_prescore_rank"] == int(np.argmax(e)) + 1
    assert res.extra["pool"] == res.extra["pool_distinct"] == 15_625
    # the expensive optimum over the whole space is not in the shortlist: the cascade is not a full search
    assert exp.fn(every).max() > res.score
    assert res.algorithm == "cascade" and res.wall_time_s >= res.extra["prescore_seconds"] > 0


def test_cascade_budget_counts_only_expensive_evaluations():
    pre = _Recorder(nb201_additive(2)[0])
    counter = CountingScorer(nb201_additive(3)[0], "exp")
    res = run_search("cascade", SPACES["nb201"], counter, budget=25, seed=0, progress=False, prescorer=pre)
    assert len(pre.seen) == 15_625  # the whole space pre-scored, none of it counted
    assert res.n_distinct == counter.n_distinct == 25 and res.budget == 25 and res.n_calls == 1
    with pytest.raises(ValueError, match="needs a cheap prescorer"):
        run_search("cascade", SPACES["nb201"], counter, budget=5)
    with pytest.raises(ValueError, match="plain callable"):
        cascade(NB201, nb201_additive(3)[0], 5, prescorer=CountingScorer(pre), progress=False)


def test_cascade_pool_of_non_enumerable_space_is_seeded():
    def exp(gs):  # prefers cells whose normal cell's first input is node 0, then sep convs
        return np.array([10.0 * (g.cell("normal")[0][1] == 0) for g in gs]) + _darts_sep_count(gs)

    a = cascade(DARTS, exp, 10, prescorer=_darts_sep_count, seed=3, pool=300, progress=False)
    b = cascade(DARTS, exp, 10, prescorer=_darts_sep_count, seed=3, pool=300, progress=False)
    c = cascade(DARTS, exp, 10, prescorer=_darts_sep_count, seed=4, pool=300, progress=False)
    assert a.arch_str == b.arch_str and a.score == b.score
    pool3, enumerated = cascade_pool(DARTS, 300, seed=3)
    assert not enumerated and len(pool3) == 300
    assert [DARTS.format(g) for g in pool3] == [DARTS.format(g) for g in cascade_pool(DARTS, 300, seed=3)[0]]
    assert [DARTS.format(g) for g in pool3] != [DARTS.format(g) for g in cascade_pool(DARTS, 300, seed=4)[0]]
    assert a.extra["pool"] == 300 and not a.extra["enumerated"] and a.n_distinct == 10
    assert c.n_distinct == 10
    # "auto" samples the default pool for DARTS; None cannot enumerate it
    with pytest.raises(ValueError, match="cannot be enumerated"):
        cascade_pool(DARTS, None)
    with pytest.raises(ValueError, match="pool must be a positive int"):
        cascade_pool(DARTS, 0)


# ------------------------------------------------------------------------ TG-NAS+ scorer

CELLS = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
         "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|",
         "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|avg_pool_3x3~1|skip_connect~2|")


@pytest.fixture(scope="module")
def shipped():
    from tgnas.pretrained import CHECKPOINT, RULE
    from tgnas.scoring import load_predictor, load_rule
    return load_predictor(CHECKPOINT), load_rule(RULE, CHECKPOINT)


def test_plus_scorer_matches_tgnas_score_plus(shipped):
    import tgnas
    pred, rule = shipped
    archs = [NB201.parse(c) for c in CELLS]
    fn = plus_scorer(rule, pred, SPACES["nb201"], seed=0)
    ours = fn(archs)
    want = tgnas.score(list(CELLS), space="nb201", plus=True)["plus_score"].to_numpy()
    np.testing.assert_allclose(ours, want, rtol=1e-9, atol=1e-9)
    assert fn.name == "tgnas+" and len(set(np.round(ours, 9))) == 3
    np.testing.assert_allclose(plus_scorer(rule, pred, NB201, seed=0)(archs[:1]), ours[:1])
    # DARTS cells need a reference named explicitly when the rule has none of its own
    with pytest.raises(KeyError, match="no reference population 'darts-cells'"):
        plus_scorer(rule, pred, SPACES["darts"], reference="darts-cells")


def test_make_scorer_tgnas_plus_checks_checkpoint_and_rule(tmp_path, shipped):
    from tgnas.pretrained import CHECKPOINT, RULE
    with pytest.raises(ValueError, match="needs the TG-NAS\\+ rule"):
        make_scorer("tgnas+", SPACES["nb201"], checkpoint=CHECKPOINT)
    with pytest.raises(ValueError, match="needs a predictor checkpoint"):
        make_scorer("tgnas+", SPACES["nb201"], rule=RULE)
    with pytest.raises(FileNotFoundError, match="no TG-NAS\\+ rule"):
        make_scorer("tgnas+", SPACES["nb201"], checkpoint=CHECKPOINT, rule=tmp_path / "absent.json")
    other = json.loads(RULE.read_text())
    other["info"]["predictor_sha256"] = "0" * 64
    (tmp_path / "other.json").write_text(json.dumps(other))
    with pytest.raises(ValueError, match="made for another predictor checkpoint"):
        make_scorer("tgnas+", SPACES["nb201"], checkpoint=CHECKPOINT, rule=tmp_path / "other.json")
    fn = make_scorer("tgnas+", SPACES["nb201"], checkpoint=CHECKPOINT, rule=RULE, seed=0)
    np.testing.assert_allclose(fn([NB201.parse(CELLS[0])]),
                               plus_scorer(shipped[1], shipped[0], SPACES["nb201"], seed=0)([NB201.parse(CELLS[0])]))


# ------------------------------------------------------------------------ CLI

@pytest.mark.parametrize("argv, message", [
    (["--algorithm", "cascade", "--scorer", "flops", "--prescorer", "flops"], "both 'flops'"),
    (["--algorithm", "cascade", "--scorer", "tgnas+", "--prescorer", "synflow"], "must be a cheap scorer"),
    (["--algorithm", "random", "--scorer", "flops", "--pool", "100"], "belong to --algorithm cascade"),
    (["--algorithm", "random", "--scorer", "flops", "--rule", "x.json"], "belong to --scorer tgnas+"),
    (["--algorithm", "evolve", "--scorer", "flops", "--prescorer", "tgnas"], "belong to --algorithm cascade"),
    (["--algorithm", "cascade", "--scorer", "tgnas"], "both 'tgnas'"),
])
def test_cli_search_rejects_bad_combinations(capsys, argv, message):
    rc = main(["search", "--space", "nb201", "--quiet", *argv])
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith("tgnas search: error:") and message in err and err.count("\n") == 1


def test_cli_search_cascade_flops_prescorer_tgnas_scorer(capsys, tmp_path):
    out = tmp_path / "res.json"
    rc = main(["search", "--space", "nb201", "--algorithm", "cascade", "--scorer", "tgnas", "--prescorer", "flops",
               "--budget", "5", "--quiet", "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "algorithm=cascade" in text and "distinct_archs=5 (budget 5)" in text
    data = json.loads(out.read_text())
    assert data["extra"]["pool"] == 15_625 and data["extra"]["prescorer"] == "flops"
    assert 1 <= data["extra"]["winner_prescore_rank"] <= 5


def test_figures_mark_anchors_and_several_found_genotypes():
    import matplotlib.pyplot as plt
    import pandas as pd

    from tgnas.experiments.search_figures import plot_nb201_results, plot_surrogate_rank
    df = pd.DataFrame({"scorer": ["tgnas+"] * 2, "algorithm": ["cascade"] * 2, "cifar10": [93.8, 94.1]})
    fig = plot_nb201_results(df, {"cifar10": 94.37}, 93.78, anchors={"TE-NAS": 93.9, "AZ-NAS": 93.53})
    labels = fig.axes[0].get_legend_handles_labels()[1]
    assert labels == ["optimum 94.37", "top 1 % (93.78)", "TE-NAS 93.90", "AZ-NAS 93.53"]
    assert fig.axes[0].get_ylim()[0] < 93.53
    fig2 = plot_surrogate_rank({"seed 0": 93.1, "seed 1": 93.4}, np.linspace(90, 94, 50))
    assert [t for t in fig2.axes[0].get_legend_handles_labels()[1] if t.startswith("seed")] == \
        ["seed 0 (93.10 %)", "seed 1 (93.40 %)"]
    plt.close("all")


def test_run_seeded_gives_each_run_its_seeds_scorer_and_fresh_counts():
    from tgnas.search.evaluate import run_seeded
    made = []

    def scorer_of_seed(seed):
        made.append(seed)
        fn = nb201_additive(seed)[0]
        fn.name = f"linear{seed}"
        return fn

    res = run_seeded(["random"], SPACES["nb201"], scorer_of_seed, [0, 1], 5)
    assert made == [0, 1] and [r.scorer for r in res] == ["linear0", "linear1"]
    assert [r.n_distinct for r in res] == [5, 5] and [r.seed for r in res] == [0, 1]


def _run_key(r):
    """Everything a search result holds but its wall times."""
    return (r.algorithm, r.seed, r.scorer, r.arch_str, r.score, r.n_calls, r.n_distinct,
            [h[:2] for h in r.history], r.extra.get("winner_prescore_rank"))


def test_searches_in_parallel_workers_equal_the_sequential_ones():
    # TG-NAS+ searches (lite networks seeded by the search seed) and DARTS cascades: two forked
    # workers give the same results in the same order as one process
    from tgnas import pretrained
    from tgnas.experiments.search import darts_cascades, plus_searches
    from tgnas.predictor import Predictor
    from tgnas.scoring import load_rule

    predictor = Predictor.load(pretrained.CHECKPOINT, device="cpu")
    rule = load_rule(pretrained.RULE, pretrained.CHECKPOINT)
    runs = {w: plus_searches(predictor, rule, ["cascade", "evolve"], [0, 1], 8, workers=w) for w in (1, 2)}
    assert [_run_key(r) for r in runs[1]] == [_run_key(r) for r in runs[2]]
    assert [(r.algorithm, r.seed) for r in runs[2]] == [("cascade", 0), ("cascade", 1), ("evolve", 0), ("evolve", 1)]
    darts = {w: darts_cascades(predictor, rule, [0, 1], 4, 40, "darts", n_random=20, workers=w) for w in (1, 2)}
    assert [_run_key(r) for r in darts[1][0]] == [_run_key(r) for r in darts[2][0]]
    assert darts[1][1]["accuracy"].tolist() == darts[2][1]["accuracy"].tolist()


def test_darts_summary_counts_top_percent_and_anchor_rows():
    import pandas as pd

    from tgnas.experiments.search import anchor_rows, darts_cascade_summary
    fr = pd.DataFrame({"accuracy": [93.0, 93.2, 92.9], "percentile": [99.5, 99.0, 98.99],
                       "wall_time_s": [20.0, 22.0, 24.0]})
    s = darts_cascade_summary(fr)
    assert s["top_seeds"] == 2 and s["seeds"] == 3 and s["percentiles"] == [99.5, 99.0, 98.99]
    assert s["surrogate_accuracy"]["mean"] == pytest.approx(93.033333) and s["wall_time_s"]["std"] == pytest.approx(2.0)
    rows = anchor_rows({"cifar10": 94.37, "cifar100": 73.51, "imagenet16-120": 47.31})
    assert rows["method"].tolist() == ["TE-NAS", "AZ-NAS", "optimum"]
    assert rows.loc[0, ["cifar10", "cifar100", "imagenet16-120"]].tolist() == [93.9, 71.24, 42.38]
    assert rows.loc[1, ["cifar10", "cifar100", "imagenet16-120"]].tolist() == [93.53, 70.75, 45.43]
