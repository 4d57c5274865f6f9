"""Search adapters, evaluation helpers, drawing and the ``tgnas search`` command (fast)."""

from __future__ import annotations

import json

import matplotlib
import numpy as np
import pytest

from tgnas.cli import main
from tgnas.search.counting import CountingScorer
from tgnas.search.pruning import prune
from tgnas.search.scorers import flops_scorer, make_scorer, predictor_scorer
from tgnas.experiments.search_figures import draw_genotype, plot_surrogate_rank
from tgnas.spaces.nb201.benchmark import nb201_accuracy, nb201_optimum, nb201_top_threshold
from tgnas.spaces.darts.arch import DARTS_V2
from tgnas.spaces.nb201.arch import NB201Arch
from tgnas.spaces.nb201.space import NB201Space
from tgnas.spaces.catalog import SPACES

matplotlib.use("Agg")


def test_flops_scorer_nb201_orders_ops_by_cost():
    fn = flops_scorer(SPACES["nb201"])
    cells = [NB201Arch((op,) * 6) for op in ("none", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3")]
    s = fn(cells)
    assert s.shape == (5,)
    # none = skip = pool (no MACs) < conv1x1 < conv3x3
    assert s[0] == s[1] == s[2] < s[3] < s[4]


def test_flops_driven_pruning_finds_all_conv3x3():
    res = prune(SPACES["nb201"], flops_scorer(SPACES["nb201"]), seed=0, progress=False)
    assert res.arch.ops == ("nor_conv_3x3",) * 6
    assert res.scorer == "flops"


def test_predictor_scorer_passes_the_space():
    seen = {}

    class FakePredictor:
        def score(self, archs, space=None):
            seen["space"] = space
            return np.arange(len(archs), dtype=float)

    space = NB201Space()
    fn = predictor_scorer(FakePredictor(), space)
    counter = CountingScorer(fn, "tgnas")
    assert list(counter([NB201Arch(("none",) * 6), NB201Arch(("skip_connect",) * 6)])) == [0.0, 1.0]
    assert seen["space"] is space


def test_make_scorer_errors():
    with pytest.raises(KeyError, match="unknown scorer 'zen'"):
        make_scorer("zen", SPACES["nb201"])
    with pytest.raises(ValueError, match="needs a predictor checkpoint"):
        make_scorer("tgnas", SPACES["nb201"], checkpoint="")
    with pytest.raises(FileNotFoundError, match="notebooks/02_train_predictor.ipynb"):
        make_scorer("tgnas", SPACES["nb201"], checkpoint="models/does_not_exist.pt")


def test_nb201_lookups_match_known_values():
    opt = nb201_optimum()
    assert opt == pytest.approx({"cifar10": 94.37, "cifar100": 73.51, "imagenet16-120": 47.31}, abs=0.01)
    assert nb201_top_threshold(1.0) == pytest.approx(93.78, abs=0.01)
    acc = nb201_accuracy([NB201Arch(("nor_conv_3x3",) * 6)])
    assert acc.loc[0, "cifar10"] == pytest.approx(93.76, abs=0.01)
    with pytest.raises(KeyError, match="not an NB201 arch string"):
        nb201_accuracy(["|bad~0|"])


def test_drawing_makes_figures():
    fig = draw_genotype(DARTS_V2, title="DARTS V2")
    assert len(fig.axes) == 2 and [a.get_title() for a in fig.axes] == ["normal cell", "reduce cell"]
    fig2 = plot_surrogate_rank(93.0, np.linspace(90, 94, 50))
    assert len(fig2.axes) == 1
    import matplotlib.pyplot as plt
    plt.close("all")


def test_cli_search_flops_prints_arch_and_stats(capsys, tmp_path):
    out = tmp_path / "res.json"
    rc = main(["search", "--space", "nb201", "--algorithm", "prune", "--scorer", "flops", "--quiet",
               "--json", str(out)])
    assert rc == 0
    text = capsys.readouterr().out
    assert "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|" in text
    assert "algorithm=prune" in text and "scorer_calls=" in text and "distinct_archs=" in text
    data = json.loads(out.read_text())
    assert data["algorithm"] == "prune" and data["scorer"] == "flops" and data["n_distinct"] > 0


def test_cli_search_darts_random_budget(capsys):
    rc = main(["search", "--space", "darts", "--algorithm", "random", "--scorer", "flops", "--budget", "3",
               "--threads", "1", "--quiet"])
    assert rc == 0
    text = capsys.readouterr().out
    assert text.startswith("Genotype(normal=[")
    assert "distinct_archs=3 (budget 3)" in text


def test_cli_rejects_unknown_algorithm():
    with pytest.raises(SystemExit):
        main(["search", "--space", "nb201", "--algorithm", "anneal"])
