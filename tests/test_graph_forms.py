"""Graph forms (tgnas.graph_forms): what each rewrite keeps, on cells checked by hand."""

import numpy as np
import pytest

from tgnas.graph_forms import GRAPH_FORMS, contract_identities, prune, to_form
from tgnas.spaces.base import CellGraph
from tgnas.spaces.darts.space import DartsSpace
from tgnas.spaces.nb101.space import NB101Space
from tgnas.spaces.nb201.arch import parse_arch
from tgnas.spaces.nb201.space import NB201Space


def edges(g: CellGraph) -> set[tuple[str, str]]:
    return {(g.ops[i], g.ops[j]) for i, j in zip(*np.nonzero(g.adjacency))}


@pytest.fixture(scope="module")
def nb201():
    return NB201Space()


def test_nb201_dead_conv_is_pruned(nb201):
    # conv 1x1 on 1<-0 feeds only `none` edges: computed, but never reaches the output
    arch = parse_arch("|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|skip_connect~2|")
    g = nb201.to_graph(arch)
    assert to_form(g, "no_none").ops == ("input", "nor_conv_1x1", "nor_conv_3x3", "skip_connect", "output")
    p = to_form(g, "pruned")
    assert p.ops == ("input", "nor_conv_3x3", "skip_connect", "output")
    assert edges(p) == {("input", "nor_conv_3x3"), ("nor_conv_3x3", "skip_connect"), ("skip_connect", "output")}
    c = to_form(g, "contracted")
    assert c.ops == ("input", "nor_conv_3x3", "output")
    assert edges(c) == {("input", "nor_conv_3x3"), ("nor_conv_3x3", "output")}


def test_nb201_unfed_node_is_pruned(nb201):
    # node 1 receives only `none`: the avg-pool on 2<-1 gets zeros and is not on an input path
    arch = parse_arch("|none~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|none~1|none~2|")
    p = to_form(nb201.to_graph(arch), "pruned")
    assert p.ops == ("input", "skip_connect", "output")
    c = to_form(nb201.to_graph(arch), "contracted")
    # the cell is input + identity: an NB101 cell with a single input -> output link
    assert c.ops == ("input", "output") and edges(c) == {("input", "output")}


def test_nb201_no_path_gives_bare_input_output(nb201):
    arch = parse_arch("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|")
    for form in ("pruned", "contracted"):
        g = to_form(nb201.to_graph(arch), form)
        assert g.ops == ("input", "output") and not g.adjacency.any()


def test_nb101_cells_are_fixed_points():
    space = NB101Space()
    rng = np.random.default_rng(0)
    for _ in range(50):
        g = space.to_graph(space.sample(rng))
        for form in GRAPH_FORMS:
            assert to_form(g, form) == g


def test_darts_reduce_input_skip_is_not_contracted():
    space = DartsSpace()
    g = space.to_graph(space.parse(
        "Genotype(normal=[('skip_connect', 0), ('skip_connect', 1), ('skip_connect', 0), ('skip_connect', 1), "
        "('skip_connect', 0), ('skip_connect', 1), ('skip_connect', 0), ('skip_connect', 1)], normal_concat=[2, 3, 4, 5], "
        "reduce=[('skip_connect', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), "
        "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"))
    c = contract_identities(g)
    # normal cell: all eight identities gone, both inputs link straight to the output
    assert c.ops[:3] == ("input_0", "input_1", "output")
    assert ("input_0", "output") in edges(c) and ("input_1", "output") in edges(c)
    # reduce cell: the skip fed by reduce_input_0 (a strided conv in the network) stays;
    # the three skips from intermediate node 2 are identities and go
    reduce_ops = c.ops[3:]
    assert reduce_ops.count("skip_connect") == 1
    assert reduce_ops.count("max_pool_3x3") == 4


def test_forms_keep_topological_order_and_reject_unknown(nb201):
    rng = np.random.default_rng(1)
    for _ in range(200):
        g = nb201.to_graph(nb201.sample(rng))
        for form in GRAPH_FORMS:
            h = to_form(g, form)
            assert not np.tril(h.adjacency).any() and h.ops[0] == "input" and h.ops[-1] == "output"
            assert "none" not in h.ops or form == "full"
    with pytest.raises(ValueError, match="unknown graph form 'tidy'"):
        to_form(g, "tidy")


def test_prune_is_idempotent(nb201):
    rng = np.random.default_rng(2)
    for _ in range(100):
        g = to_form(nb201.to_graph(nb201.sample(rng)), "no_none")
        assert prune(prune(g)) == prune(g)
