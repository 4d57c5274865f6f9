"""The size-aware predictor, task-qualified training spaces, space balancing and dead cells."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from tgnas.graph_forms import to_form
from tgnas.graphs import GraphSet, computes_nothing
from tgnas.metrics import kendall_tau
from tgnas.predictor import Predictor, TrainConfig, train
from tgnas.predictor.data import SpaceData, canonical_train_name, load_space_data, split_name
from tgnas.predictor.predictor import DEAD_SCORE
from tgnas.predictor.size import carries_size, generic_scale, normalise, size_features, size_reference
from tgnas.predictor.train import _batch_weights, epoch_batches
from tgnas.spaces.catalog import get_space

from test_predictor import onehot_embed, synthetic_space, tiny_config

NB201_DEAD = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
NB201_CUT = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|"
NB201_CONV1 = "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|"


# ------------------------------------------------------------------ size features

def test_size_reference_is_label_free_deterministic_and_normalises():
    sp = get_space("nb201")
    mean, std = size_reference(sp)
    again = size_reference(sp)
    np.testing.assert_array_equal(mean, again[0])
    assert (std > 0).all()
    z = size_features(sp, [sp.parse(NB201_CONV1), sp.parse(NB201_DEAD)])
    assert z.shape == (2, 2) and z[0, 0] > z[1, 0]  # convolutions have parameters, 'none' has none
    with pytest.raises(ValueError, match=r"must be \(M, 2\)"):
        normalise(sp, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="NaN or inf"):
        normalise(sp, np.array([[np.inf, 1.0]]))


def test_every_benchmark_space_has_a_size_model_whose_cells_align():
    for name in ("nb201", "tnb101_macro"):
        sp = get_space(name)
        assert sp.cells_size().shape == (len(sp.cells()), 2)
    tnb = get_space("tnb101_macro")
    graphs, labels = tnb.labelled(task="jigsaw")
    assert tnb.labelled_size(task="jigsaw").shape == (len(labels), 2)


def test_generic_cells_carry_their_size_or_are_ranked_by_graph_alone():
    cell = get_space("cell")
    sized = cell.parse('{"nodes": ["input", "conv3x3-bn-relu", "output"], "edges": [[0, 1], [1, 2]], '
                       '"params": 1.5, "flops": 2e8}')
    bare = cell.parse('{"nodes": ["input", "conv3x3-bn-relu", "output"], "edges": [[0, 1], [1, 2]]}')
    assert sized.size == (1.5, 2e8) and bare.size is None and sized != bare
    assert cell.parse(cell.format(sized)) == sized
    assert carries_size(cell, [sized]) and not carries_size(cell, [bare])
    with pytest.raises(ValueError, match="while others do"):
        carries_size(cell, [sized, bare])
    z = size_features(cell, [sized])
    np.testing.assert_allclose(z[0], np.log([1.5, 2e8]) / generic_scale())
    for bad, msg in (('"params": 1.5', "give both"), ('"params": -1, "flops": 2', "positive"),
                     ('"params": true, "flops": 2', "positive")):
        with pytest.raises(ValueError, match=msg):
            cell.parse('{"nodes": ["input", "output"], "edges": [[0, 1]], ' + bad + '}')


# ------------------------------------------------------------------ training with size

def _sized(data: SpaceData, seed: int) -> SpaceData:
    """The synthetic space with size features; labels now follow size too."""
    rng = np.random.default_rng(seed)
    size = rng.normal(size=(len(data), 2))
    return SpaceData(data.space, data.graphs, data.labels + 3.0 * size[:, 0], size)


def test_size_aware_training_learns_the_size_term_and_needs_size_to_score(tmp_path):
    data = _sized(synthetic_space(600, seed=1), seed=2)
    cfg = tiny_config(size_features=True, epochs=8, step_size=8)
    res = train(cfg, tmp_path / "s.pt", data=[data], embed_fn=onehot_embed, progress=False)
    p = Predictor.load(res.path, device="cpu")
    assert p.size_aware and p.net.size_head is not None
    w = p.net.size_head.weight.detach()[0]
    assert w[0] > 0 and w[0] > 3 * abs(w[1])  # labels grow with the first size feature, not the second
    scores = p.score(data.graphs, size=data.size)
    assert kendall_tau(scores, data.labels) > 0.5
    moved = p.score(data.graphs, size=data.size + np.array([1.0, 0.0]))
    assert (moved > scores).all()
    with pytest.raises(ValueError, match="size-aware"):
        p.score(data.graphs)
    plain = Predictor.load(train(tiny_config(), tmp_path / "p.pt", data=[synthetic_space(200)],
                                 embed_fn=onehot_embed, progress=False).path, device="cpu")
    with pytest.raises(ValueError, match="trained without them"):
        plain.score(data.graphs, size=data.size)
    with pytest.raises(ValueError, match="size features in the data"):
        train(cfg, tmp_path / "n.pt", data=[synthetic_space(200)], embed_fn=onehot_embed, progress=False)


def test_balance_spaces_gives_every_space_the_same_total_weight():
    space_id = np.repeat([0, 1, 2], [700, 100, 100])
    cfg = TrainConfig(train_spaces=("nb101", "nb201", "nb201:cifar100"), balance_spaces=True)
    batches = epoch_batches(space_id, 64, seed=0, epoch=0)
    w = np.asarray(_batch_weights(batches, space_id, cfg))
    groups = np.array(["nb101" if space_id[b[0]] == 0 else "nb201" for b in batches])
    assert np.isclose(w[groups == "nb101"].sum(), w[groups == "nb201"].sum())
    assert np.isclose(w.sum(), len(batches))
    assert _batch_weights(batches, space_id, replace(cfg, balance_spaces=False)) == [1.0] * len(batches)


# ------------------------------------------------------------------ training spaces with tasks

def test_task_qualified_training_spaces():
    assert split_name("nb301") == ("darts", None)
    assert split_name("nb201:cifar100") == ("nb201", "cifar100")
    assert canonical_train_name("nb201:cifar10") == "nb201"  # the default task is left out
    assert canonical_train_name("tnb101_macro:jigsaw") == "tnb101_macro:jigsaw"
    assert TrainConfig(train_spaces=("nb201:cifar10", "nb201:imagenet16-120")).train_spaces == \
        ("nb201", "nb201:imagenet16-120")
    with pytest.raises(KeyError, match="no labelled task"):
        canonical_train_name("nb201:mnist")
    c10, c100 = load_space_data("nb201"), load_space_data("nb201:cifar100")
    assert c100.space == "nb201:cifar100" and len(c10) == len(c100)
    assert not np.array_equal(c10.labels, c100.labels)
    jig = load_space_data("tnb101_macro:jigsaw", size=True)
    assert jig.size.shape == (len(jig), 2) and np.isfinite(jig.size).all()


# ------------------------------------------------------------------ cells that compute nothing

def _graphs(space, texts, form="contracted"):
    sp = get_space(space)
    return GraphSet.from_graphs([to_form(sp.to_graph(sp.parse(t)), form) for t in texts])


@pytest.mark.parametrize("form", ["full", "contracted"])
def test_computes_nothing_finds_cut_off_outputs(form):
    dead = computes_nothing(_graphs("nb201", [NB201_DEAD, NB201_CUT, NB201_CONV1], form))
    assert dead.tolist() == [True, True, False]
    darts = get_space("darts")
    v2 = darts.named_archs["DARTS_V2"]
    none_normal = type(v2)(normal=[("none", i) for _, i in v2.normal], normal_concat=v2.normal_concat,
                           reduce=v2.reduce, reduce_concat=v2.reduce_concat)
    gs = GraphSet.from_graphs([to_form(darts.to_graph(g), form) for g in (none_normal, v2)])
    assert computes_nothing(gs).tolist() == [True, False]
    cell = get_space("cell")
    cut = cell.parse('{"nodes": ["input", "conv3x3-bn-relu", "output"], "edges": [[0, 1]]}')
    ok = cell.parse('{"nodes": ["input", "conv3x3-bn-relu", "output"], "edges": [[0, 1], [1, 2]]}')
    assert computes_nothing(GraphSet.from_graphs([cell.to_graph(cut), cell.to_graph(ok)])).tolist() == [True, False]


def test_no_benchmark_cell_that_computes_something_is_flagged():
    for name in ("nb101", "darts", "tnb101_macro"):
        assert not computes_nothing(get_space(name).cells("contracted")).any(), name
    nb201 = get_space("nb201")
    dead = computes_nothing(nb201.cells("contracted"))
    acc = nb201.accuracy([nb201.parse(a) for a in nb201.cell_ids()["arch"]])["cifar10"].to_numpy()
    assert dead.sum() == 341 and acc[dead].max() < acc[~dead].min()  # all of them train to chance


def test_the_shipped_predictor_ranks_dead_cells_below_every_live_one():
    from tgnas.scoring import load_predictor
    pred = load_predictor(None, "cpu")
    nb201 = get_space("nb201")
    scores = pred.score([NB201_DEAD, NB201_CUT, NB201_CONV1], space=nb201)
    assert scores[0] == scores[1] == DEAD_SCORE < scores[2]
    darts = get_space("darts")
    v2 = darts.named_archs["DARTS_V2"]
    none_normal = type(v2)(normal=[("none", i) for _, i in v2.normal], normal_concat=v2.normal_concat,
                           reduce=v2.reduce, reduce_concat=v2.reduce_concat)
    sample = [darts.sample(np.random.default_rng(0)) for _ in range(20)]
    s = pred.score([none_normal, v2, *sample], space=darts)
    assert s[0] == DEAD_SCORE and s[0] < s[1:].min()


def test_the_shipped_tgnas_plus_ranks_an_all_skip_genotype_below_darts_v2():
    # NASWOT alone favours the all-skip cell; the shipped rule's size signals must not let it win
    import tgnas
    darts = get_space("darts")
    v2 = darts.named_archs["DARTS_V2"]
    skip = type(v2)(normal=[("skip_connect", i) for _, i in v2.normal], normal_concat=v2.normal_concat,
                    reduce=[("skip_connect", i) for _, i in v2.reduce], reduce_concat=v2.reduce_concat)
    out = tgnas.score([darts.format(skip), darts.format(v2)], space="darts", plus=True)
    assert out["plus_score"].iloc[0] < out["plus_score"].iloc[1]
