"""TransNAS-Bench-101 macro space (tgnas/spaces/tnb101_macro/): text forms, rules, sampling,
graph, network and size, benchmark loader, descriptions."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest
import torch
from scipy.stats import kendalltau, spearmanr

from tgnas import datafiles
from tgnas.graphs import GraphSet
from tgnas.nets import count_flops, count_params
from tgnas.spaces.base import CAPABILITIES, Space
from tgnas.spaces.tnb101_macro import SPACE, TNB101MacroSpace
from tgnas.spaces.tnb101_macro import arch as A
from tgnas.spaces.tnb101_macro.descriptions import DESCRIPTIONS
from tgnas.spaces.tnb101_macro.size import num_macs, num_params

needs_data = pytest.mark.skipif(datafiles.status(datafiles.get("tnb101_macro_zc")) != "ok",
                                reason="tnb101_macro/zc_transbench101_macro.json not available")


@pytest.fixture(scope="module")
def raw():
    with open(datafiles.require("tnb101_macro_zc")) as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def bench():
    from tgnas.spaces.tnb101_macro import benchmark
    return benchmark


# ------------------------------------------------------------------ text forms and rules

def test_both_text_forms_parse_to_the_same_arch_and_format_is_the_net_code():
    a = SPACE.parse("64-1242-basic")
    assert a == SPACE.parse("(1, 2, 4, 2, 0, 0)") == SPACE.parse(" (1,2,4,2,0,0) ")
    assert a.codes == (1, 2, 4, 2) and (a.n_layers, a.n_down, a.n_widen) == (4, 1, 3)
    assert SPACE.format(a) == str(a) == "64-1242-basic"
    assert SPACE.to_naslib_tuple(a) == (1, 2, 4, 2, 0, 0)
    assert A.to_naslib_string(SPACE.parse("64-131344-basic")) == "(1, 3, 1, 3, 4, 4)"


def test_every_arch_round_trips_through_both_forms():
    for a in A.enumerate_archs():
        assert SPACE.parse(SPACE.format(a)) == a
        assert SPACE.parse(A.to_naslib_string(a)) == a


@pytest.mark.parametrize("text, message", [
    ("64-124-basic", r"4 to 6 layers, got 3"),
    ("64-1242131-basic", r"4 to 6 layers, got 7"),
    ("32-1242-basic", r"base width 32; the macro space fixes it to 64"),
    ("64-1242-bottleneck", r"cell 'bottleneck'"),
    ("64-1252-basic", r"unknown TNB101 macro layer code 5"),
    ("64-1212-basic", r"halves the resolution 0 times .*expected 1 to 4"),
    ("64-3333-basic", r"doubles the channels 0 times .*expected 1 to 3"),
    ("64-343333-basic", r"halves the resolution 6 times"),
    ("64-244423-basic", r"doubles the channels 5 times"),
    ("(1, 0, 2, 4, 2, 0)", r"a 0 before a layer"),
    ("(1, 2, 4, 2)", r"has 6 entries .*got 4"),
    ("(1, 2, x, 2, 0, 0)", r"malformed NASLib"),
    ("1242", r"malformed TNB101 macro arch string '1242'; expected a net code"),
    ("", r"malformed"),
])
def test_bad_text_is_rejected_with_a_message_naming_it(text, message):
    with pytest.raises(ValueError, match=message):
        SPACE.parse(text)


def test_bad_objects_are_rejected():
    with pytest.raises(ValueError, match="must be a str"):
        SPACE.parse(1242)
    with pytest.raises(ValueError, match="at most 200"):
        SPACE.parse("6" * 1000)
    with pytest.raises(ValueError, match="must be ints"):
        A.MacroArch((1, 2, "4", 2))
    with pytest.raises(ValueError, match="sequence of 4 to 6 layer codes"):
        A.MacroArch("1242")
    with pytest.raises(ValueError, match="expected a MacroArch"):
        SPACE.format((1, 2, 4, 2))
    with pytest.raises(ValueError, match="expected a MacroArch"):
        SPACE.validate("64-1242-basic")
    with pytest.raises(ValueError, match="unknown TNB101 macro layer label 'conv'"):
        A.from_labels(["tnb_block", "conv", "tnb_block", "tnb_block"])


def test_enumeration_gives_the_published_total():
    archs = A.enumerate_archs()
    assert len(archs) == len(set(archs)) == A.NUM_ARCHS == SPACE.n_archs == 3256
    assert Counter(a.n_layers for a in archs) == {4: 210, 5: 750, 6: 2296}
    assert all(1 <= a.n_down <= 4 and 1 <= a.n_widen <= 3 for a in archs)
    assert archs[0].codes == (1, 1, 1, 4) and archs[-1].codes == (4, 4, 4, 3, 1, 1)
    assert A.from_labels(archs[5].labels) == archs[5]


@needs_data
def test_enumeration_covers_every_benchmark_key(raw):
    keys = {k for task in raw.values() for k in task}
    assert len(keys) == 725
    space = {A.to_naslib_string(a) for a in A.enumerate_archs()}
    assert keys <= space, sorted(keys - space)[:5]


# ------------------------------------------------------------------ sampling and mutation

def test_sample_is_valid_and_uniform_over_the_space():
    rng = np.random.default_rng(0)
    draws = [SPACE.sample(rng) for _ in range(4000)]
    assert all(SPACE.validate(a) is a for a in draws)
    share = Counter(a.n_layers for a in draws)
    # expected shares 210, 750, 2296 of 3256: 0.064, 0.230, 0.705
    assert abs(share[4] / 4000 - 210 / 3256) < 0.02
    assert abs(share[6] / 4000 - 2296 / 3256) < 0.03
    assert len(set(draws)) > 2000
    assert SPACE.sample(np.random.default_rng(7)) == SPACE.sample(np.random.default_rng(7))
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        SPACE.sample(7)


def _edit_distance(a: tuple[int, ...], b: tuple[int, ...]) -> int:
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[-1]


def test_mutate_makes_one_valid_elementary_change():
    rng = np.random.default_rng(1)
    kinds = Counter()
    for _ in range(300):
        a = SPACE.sample(rng)
        b = SPACE.mutate(a, rng)
        assert isinstance(b, A.MacroArch) and b != a
        assert _edit_distance(a.codes, b.codes) == 1
        kinds[b.n_layers - a.n_layers] += 1
    assert set(kinds) == {-1, 0, 1}  # changes, insertions and removals all happen


def test_neighbours_stay_in_the_space():
    a = SPACE.parse("64-1213-basic")  # 4 layers, 1 downsampling, 2 widenings
    nb = A.neighbours(a)
    assert a not in nb and len(nb) == len(set(nb))
    assert all(4 <= b.n_layers <= 6 for b in nb)
    assert all(b.n_layers != 3 for b in nb)              # no removal below 4 layers
    assert (1, 2, 1, 1) not in {b.codes for b in nb}      # would leave no downsampling
    assert not A.is_valid((1, 2, 1, 1))
    assert SPACE.parse("64-1233-basic") in nb and SPACE.parse("64-12143-basic") in nb


# ------------------------------------------------------------------ graph

def test_graph_is_a_chain_of_the_layer_labels():
    g = SPACE.to_graph(SPACE.parse("64-1242-basic"))
    assert g.ops == ("input", "tnb_block", "tnb_block_widen", "tnb_block_down_widen", "tnb_block_widen", "output")
    assert np.array_equal(g.adjacency, np.eye(6, k=1, dtype=np.uint8))
    g6 = SPACE.to_graph(SPACE.parse("(3, 1, 1, 1, 1, 2)"))
    assert g6.num_nodes == 8 and g6.adjacency.sum() == 7 and g6.ops[1] == "tnb_block_down"
    assert SPACE.to_graph_form(SPACE.parse("64-1242-basic"), "contracted") == g
    labels = {op for a in A.enumerate_archs()[::7] for op in SPACE.to_graph(a).ops}
    assert labels == set(SPACE.graph_ops)


# ------------------------------------------------------------------ network and size

def test_network_runs_and_matches_the_closed_form_size():
    a = SPACE.parse("64-3142-basic")
    net = SPACE.build_net(a, num_classes=10, C=16)
    with torch.no_grad():
        y = net(torch.randn(2, 3, 64, 64))
    assert y.shape == (2, 10) and torch.isfinite(y).all()
    assert net.out_channels == 16 * 2 ** 2
    assert count_params(net) == num_params(a, 10, 16)
    assert count_flops(net, (1, 3, 40, 40)) == num_macs(a, 10, 16, 40)
    tiny = SPACE.build_net(SPACE.parse("64-444131-basic"), num_classes=3, C=4)  # 32 pixels, 6 halvings
    assert tiny(torch.randn(2, 3, 32, 32)).shape == (2, 3)  # the last maps are 1 x 1
    with pytest.raises(ValueError, match="even int"):
        SPACE.build_net(a, C=3)


def test_size_is_the_benchmark_network_in_millions():
    archs = [SPACE.parse("64-1242-basic"), SPACE.parse("64-444131-basic")]
    size = SPACE.size(archs)
    assert size.dtype == np.float64 and size.shape == (2,)
    for a, s in zip(archs, size):
        net = SPACE.build_net(a, num_classes=63)
        assert count_params(net) == round(s * 1e6)
    assert size[0] == pytest.approx(11.218783)  # the class_scene params of the benchmark file
    assert SPACE.size(["64-1242-basic"])[0] == size[0]
    assert SPACE.flops_of("64-1242-basic") == num_macs(archs[0], 63, 64, 256)


@needs_data
def test_size_and_flops_rank_like_the_benchmark_columns(bench):
    df = bench.load_task("class_scene")
    params = SPACE.size(list(df["arch"]))
    flops = np.array([SPACE.flops_of(a) for a in df["arch"]]) / 1e6
    # measured: params exact (Spearman = Kendall = 1); FLOPs Spearman 0.99999, Kendall 0.999,
    # the file counting 0.1-1.2 % more (it also counts batch norm and the like)
    assert np.max(np.abs(params - df["params"].to_numpy())) < 1e-6
    assert spearmanr(flops, df["flops"]).statistic > 0.9999
    assert kendalltau(flops, df["flops"]).statistic > 0.998
    assert np.all((df["flops"] / flops > 1.0) & (df["flops"] / flops < 1.02))


# ------------------------------------------------------------------ benchmark

@needs_data
def test_loader_tables(bench):
    df = bench.load_task()
    assert len(df) == 662 and df.index.name == "tnb101_index"
    assert list(df.columns) == ["arch", "naslib", "val_accuracy", *bench.PROXIES]
    assert np.isfinite(df[["val_accuracy", *bench.PROXIES]].to_numpy()).all()
    row = df[df["naslib"] == "(1, 2, 4, 2, 0, 0)"].iloc[0]
    assert row.name == 534 and row["arch"] == "64-1242-basic"
    assert row["val_accuracy"] == pytest.approx(54.29438781738281)
    assert len(bench.load_task("autoencoder")) == 725
    with pytest.raises(KeyError, match="unknown TNB101 macro task 'cifar10'"):
        bench.load_task("cifar10")


@needs_data
def test_cells_ids_and_accuracy(bench):
    cells = SPACE.cells()
    ids = SPACE.cell_ids()
    assert isinstance(cells, GraphSet) and len(cells) == 725 and len(ids) == 725
    assert list(ids["tnb101_index"]) == list(range(725))
    assert cells.graph(534) == SPACE.to_graph(SPACE.parse("64-1242-basic"))
    assert ids["arch"][534] == "64-1242-basic" and ids["naslib"][534] == "(1, 2, 4, 2, 0, 0)"
    acc = SPACE.accuracy(list(ids["arch"]))
    assert list(acc.columns) == list(SPACE.datasets) and SPACE.datasets[0] == "class_scene"
    assert acc.isna().sum().to_dict() == {t: (63 if t.startswith("class_") else 0) for t in SPACE.datasets}
    outside = next(a for a in A.enumerate_archs() if A.format_arch(a) not in set(ids["arch"]))
    assert SPACE.accuracy([outside]).isna().all(axis=None)


@needs_data
@pytest.mark.parametrize("task, n", [("class_scene", 662), ("class_object", 662), ("room_layout", 725),
                                     ("normal", 725)])
def test_labelled_one_task(bench, task, n):
    graphs, labels = SPACE.labelled("full", task=task)
    df = bench.load_task(task)
    assert len(graphs) == len(labels) == n and np.isfinite(labels).all()
    assert np.array_equal(labels, df["val_accuracy"].to_numpy())
    for i in (0, n // 2, n - 1):
        assert graphs.graph(i) == SPACE.to_graph(SPACE.parse(df["arch"].iloc[i]))
    if task == "room_layout":
        assert (labels < 0).all()  # a negative loss: higher is better
    default_graphs, default_labels = SPACE.labelled()
    assert len(default_labels) == 662


# ------------------------------------------------------------------ protocol, descriptions

def test_space_protocol():
    assert isinstance(SPACE, Space) and isinstance(SPACE, TNB101MacroSpace)
    assert (SPACE.name, SPACE.benchmark, SPACE.enumerable, SPACE.subsample) == ("tnb101_macro", "TNB101-macro",
                                                                               True, False)
    provided = {c for c in CAPABILITIES if SPACE.provides(c)}
    assert provided == {"sample", "mutate", "build_net", "cells", "cell_ids", "labelled", "accuracy", "labelled_size", "cells_size",
                        "flops_of", "size"}
    assert set(SPACE.ops) < set(SPACE.graph_ops) and SPACE.graph_ops[0] == "input"


def test_descriptions_cover_every_label():
    # Every network has >= 4 learnable layers, so there is no empty cell to test; instead the
    # table must describe every label the graphs can carry, except the shared input/output.
    own = set(SPACE.graph_ops) - {"input", "output"}
    assert set(DESCRIPTIONS) == own and SPACE.descriptions is DESCRIPTIONS
    for label, texts in DESCRIPTIONS.items():
        assert set(texts) == {"short", "medium", "long"}
        assert all(isinstance(t, str) and t.strip() == t and t for t in texts.values())
    for length in ("short", "medium", "long"):
        assert len({DESCRIPTIONS[op][length] for op in own}) == len(own)  # labels stay distinguishable
    assert "halves" in DESCRIPTIONS["tnb_block_down"]["long"] and "doubles" in DESCRIPTIONS["tnb_block_widen"]["long"]
    from tgnas.descriptions import DESCRIPTIONS as CENTRAL
    from tgnas.spaces.catalog import SPACES
    assert all(not own & set(sp.graph_ops) for name, sp in SPACES.items() if name != SPACE.name)  # labels of its own
    assert all(CENTRAL[op] == DESCRIPTIONS[op] for op in own)  # the one table embeds them
