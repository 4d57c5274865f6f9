"""The DARTS space: genotype validation, text and compact forms, graphs, sampling, mutation."""

from __future__ import annotations

import collections
import re

import numpy as np
import pytest

from tgnas.spaces.catalog import get_space
from tgnas.spaces.darts.arch import DARTS_OPS, DARTS_V1, DARTS_V2, NASLIB_DARTS_OPS, SEARCH_OPS, Genotype, from_compact, parse_genotype, to_compact, to_compact_key
from tgnas.spaces.darts.space import DartsSpace

SPACE = DartsSpace()

# DARTS' genotypes.py, copied by hand from the published file (second-order DARTS).
DARTS_V2_TEXT = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)

# A small cell with every kind of link: node 2 <- (0, 1); 3 <- (0, 2); 4 <- (1, 3); 5 <- (2, 4).
HAND_NORMAL = (("sep_conv_3x3", 0), ("skip_connect", 1), ("max_pool_3x3", 0), ("dil_conv_3x3", 2),
               ("avg_pool_3x3", 1), ("sep_conv_5x5", 3), ("dil_conv_5x5", 2), ("skip_connect", 4))


def _pairs(n: int = 8, op: str = "sep_conv_3x3") -> list[tuple[str, int]]:
    base = [(op, 0), (op, 1), (op, 0), (op, 2), (op, 1), (op, 3), (op, 2), (op, 4)]
    return base[:n]


def test_op_tables():
    assert DARTS_OPS[0] == "none" and len(DARTS_OPS) == 8
    assert SEARCH_OPS == NASLIB_DARTS_OPS == DARTS_OPS[1:]
    assert SPACE.ops == SEARCH_OPS and "none" not in SPACE.ops
    assert SPACE.graph_ops == ("input_0", "input_1", "output", "reduce_input_0", "reduce_input_1",
                               "reduce_output", *DARTS_OPS)
    assert isinstance(get_space("darts"), DartsSpace) and SPACE.name == "darts"


def test_format_matches_darts_text_and_round_trips():
    assert SPACE.format(DARTS_V2) == DARTS_V2_TEXT
    assert SPACE.parse(DARTS_V2_TEXT) == DARTS_V2
    assert SPACE.parse(SPACE.format(DARTS_V1)) == DARTS_V1
    assert DARTS_V1 != DARTS_V2
    assert DARTS_V2.normal[7] == ("dil_conv_3x3", 2) and DARTS_V1.reduce[7] == ("avg_pool_3x3", 0)


def test_parse_variants():
    ranged = DARTS_V2_TEXT.replace("[2, 3, 4, 5]", "range(2, 6)")
    assert "range(2, 6)" in ranged and SPACE.parse(ranged) == DARTS_V2
    # namedtuple positional order, tuples, newlines
    positional = (f"Genotype({list(DARTS_V2.normal)!r},\n (2, 3, 4, 5),\n"
                  f" {list(DARTS_V2.reduce)!r}, range(2, 6))")
    assert SPACE.parse(positional) == DARTS_V2
    # concats default to 2..5
    assert parse_genotype(f"Genotype(normal={list(DARTS_V2.normal)}, reduce={list(DARTS_V2.reduce)})") == DARTS_V2
    sub = parse_genotype(DARTS_V2_TEXT.replace("reduce_concat=[2, 3, 4, 5]", "reduce_concat=[4, 5]"))
    assert sub.reduce_concat == (4, 5) and sub.normal_concat == (2, 3, 4, 5)


@pytest.mark.parametrize("text, message", [
    ("__import__('os').system('true')", "expected 'Genotype("),
    ("Genotype(normal=[('sep_conv_3x3', 0)] * 8, reduce=[])", "not a literal"),
    ("Genotype(normal=x, reduce=[])", "not a literal"),
    ("Genotype(normal=[], reduce=[], extra=1)", "unknown field 'extra'"),
    (f"Genotype(normal={_pairs()})", "field 'reduce' is missing"),
    (f"Genotype(normal={_pairs()}, reduce={_pairs()}, normal_concat=range(7, 'a'))", "range"),
    ("Genotype(normal=[", "malformed"),
    (f"Genotype(normal={_pairs(7)}, reduce={_pairs()})", "must have 8 (op, input) pairs"),
    (f"Genotype(normal={_pairs(op='conv_7x7')}, reduce={_pairs()})", "unknown DARTS op 'conv_7x7'"),
])
def test_parse_rejects(text, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        parse_genotype(text)


def test_genotype_validation_messages():
    cyc = _pairs()
    cyc[3] = ("sep_conv_3x3", 3)  # node 3 fed from node 3
    with pytest.raises(ValueError, match="feeds node 3 from node 3"):
        Genotype(normal=cyc, reduce=_pairs())
    later = _pairs()
    later[0] = ("sep_conv_3x3", 5)
    with pytest.raises(ValueError, match="feeds node 2 from node 5"):
        Genotype(normal=_pairs(), reduce=later)
    same = _pairs()
    same[5] = ("skip_connect", 1)  # node 4 <- (1, 1): DARTS builds it, the search space excludes it
    g_same = Genotype(normal=same, reduce=_pairs())
    assert SPACE.validate(g_same) is g_same
    with pytest.raises(ValueError, match="both edges into node 4 of the normal cell come from node 1.*outside "
                                         "the DARTS search space"):
        SPACE.check_search_space(g_same)
    with pytest.raises(ValueError, match="input node of Genotype.normal\\[0\\] must be an int"):
        Genotype(normal=[("sep_conv_3x3", "0"), *_pairs()[1:]], reduce=_pairs())
    for concat in ([], [1, 2], [2, 2, 3], [3, 2], [2, 6], "2345", [True, 2]):
        with pytest.raises(ValueError, match="Genotype.normal_concat"):
            Genotype(normal=_pairs(), reduce=_pairs(), normal_concat=concat)
    # lists are coerced, so equal content gives equal, hashable genotypes
    g = Genotype(normal=_pairs(), reduce=_pairs(), normal_concat=range(2, 6))
    assert g == Genotype(tuple(_pairs()), tuple(_pairs())) and len({g, Genotype(_pairs(), _pairs())}) == 1


def test_none_is_a_genotype_but_not_in_the_search_space():
    with_none = Genotype(normal=_pairs(op="none"), reduce=_pairs())
    assert SPACE.validate(with_none) is with_none and SPACE.parse(SPACE.format(with_none)) == with_none
    with pytest.raises(ValueError, match="op 'none' in Genotype.normal\\[0\\] is not in the DARTS search space"):
        SPACE.check_search_space(with_none)
    with pytest.raises(ValueError, match="no NASLib compact code"):
        to_compact(with_none)
    assert SPACE.to_graph(with_none, cell="normal").ops[2] == "none"
    with pytest.raises(ValueError, match="expected a DARTS Genotype"):
        SPACE.validate(DARTS_V2_TEXT)


def test_compact_form():
    # op codes: max 0, avg 1, skip 2, sep3 3, sep5 4, dil3 5, dil5 6
    assert to_compact(DARTS_V2) == (
        ((0, 3), (1, 3), (0, 3), (1, 3), (1, 3), (0, 2), (0, 2), (2, 5)),
        ((0, 0), (1, 0), (2, 2), (1, 0), (0, 0), (2, 2), (2, 2), (1, 0)),
    )
    key = to_compact_key(DARTS_V2)
    assert key == ("[[(0, 3), (1, 3), (0, 3), (1, 3), (1, 3), (0, 2), (0, 2), (2, 5)], "
                   "[(0, 0), (1, 0), (2, 2), (1, 0), (0, 0), (2, 2), (2, 2), (1, 0)]]")
    assert from_compact(key) == DARTS_V2 == SPACE.from_compact(SPACE.to_compact(DARTS_V2))
    with pytest.raises(ValueError, match="unknown NASLib DARTS op index 7"):
        from_compact([[(0, 7)] + [(1, 0)] * 7, [(0, 0)] * 8])
    with pytest.raises(ValueError, match="compact form is \\(normal, reduce\\)"):
        from_compact([[(0, 1)] * 8])
    with pytest.raises(ValueError, match="malformed NASLib DARTS compact string"):
        from_compact("[[(0, 1)")
    with pytest.raises(ValueError, match="assumes normal_concat"):
        to_compact(Genotype(_pairs(), _pairs(), normal_concat=(4, 5)))


def test_graph_of_one_cell_by_hand():
    g = Genotype(normal=HAND_NORMAL, reduce=DARTS_V2.reduce)
    graph = SPACE.to_graph(g, cell="normal")
    assert graph.ops == ("input_0", "input_1", *(op for op, _ in HAND_NORMAL), "output")
    # nodes: 0 in0, 1 in1, op-nodes 2..9 for pairs 0..7, 10 output
    # pair 0 (2<-0), 1 (2<-1), 2 (3<-0), 3 (3<-2), 4 (4<-1), 5 (4<-3), 6 (5<-2), 7 (5<-4)
    expected = {(0, 2), (1, 3), (0, 4),
                (2, 5), (3, 5),            # pair 3 reads node 2 = op-nodes of pairs 0, 1
                (1, 6),
                (4, 7), (5, 7),            # pair 5 reads node 3 = pairs 2, 3
                (2, 8), (3, 8),            # pair 6 reads node 2
                (6, 9), (7, 9),            # pair 7 reads node 4 = pairs 4, 5
                *((k, 10) for k in range(2, 10))}
    assert set(zip(*np.nonzero(graph.adjacency))) == expected
    assert graph.adjacency.dtype == np.uint8 and graph.num_nodes == 11

    only45 = SPACE.to_graph(Genotype(HAND_NORMAL, HAND_NORMAL, normal_concat=(4, 5)), cell="normal")
    assert set(np.nonzero(only45.adjacency[:, 10])[0]) == {6, 7, 8, 9}


def test_graph_of_both_cells():
    both = SPACE.to_graph(DARTS_V2)
    normal = SPACE.to_graph(DARTS_V2, cell="normal")
    reduce = SPACE.to_graph(DARTS_V2, cell="reduce")
    assert both.num_nodes == 22 and both.adjacency.shape == (22, 22)
    assert both.ops == normal.ops + reduce.ops
    assert reduce.ops[0] == "reduce_input_0" and reduce.ops[-1] == "reduce_output"
    assert reduce.ops[2:10] == tuple(op for op, _ in DARTS_V2.reduce)
    assert np.array_equal(both.adjacency[:11, :11], normal.adjacency)
    assert np.array_equal(both.adjacency[11:, 11:], reduce.adjacency)
    # the only links between the cells: input_1 -> reduce_input_0, output -> reduce_input_1
    assert set(zip(*np.nonzero(both.adjacency[:11, 11:]))) == {(1, 0), (10, 1)}
    assert not both.adjacency[11:, :11].any()
    assert np.all(np.tril(both.adjacency) == 0)
    adj = both.adjacency.astype(int)
    assert list(np.nonzero(adj.sum(0) == 0)[0]) == [0, 1]    # no predecessors: input_0, input_1
    assert list(np.nonzero(adj.sum(1) == 0)[0]) == [21]      # no successors: reduce_output
    # links: one per pair from a cell input, two per pair from an intermediate node, 8 to the
    # output; normal inputs 0,1,0,1,1,0,0,2 -> 9; reduce 0,1,2,1,0,2,2,1 -> 11; 2 between cells
    assert int(adj.sum()) == (9 + 8) + (11 + 8) + 2
    with pytest.raises(ValueError, match="unknown cell 'both_cells'"):
        SPACE.to_graph(DARTS_V2, cell="both_cells")


def test_sample_is_valid_seeded_and_uniform():
    a = [SPACE.sample(np.random.default_rng(3)) for _ in range(2)]
    assert a[0] == a[1]
    rng = np.random.default_rng(0)
    samples = [SPACE.sample(rng) for _ in range(1500)]
    assert len(set(samples)) == 1500
    pair_counts = collections.Counter()
    op_counts = collections.Counter()
    for g in samples:
        assert SPACE.validate(g) is g and g.canonical() == g  # smaller input listed first
        for cell in ("normal", "reduce"):
            pairs = g.cell(cell)
            pair_counts[(pairs[6][1], pairs[7][1])] += cell == "normal"
            op_counts.update(op for op, _ in pairs)
    # node 5: 10 input pairs, 150 expected each; ops: 7, 24000 / 7 = 3429 expected each
    assert len(pair_counts) == 10 and min(pair_counts.values()) > 100 and max(pair_counts.values()) < 200
    assert set(op_counts) == set(SEARCH_OPS) and min(op_counts.values()) > 3200
    with pytest.raises(ValueError, match="numpy.random.Generator"):
        SPACE.sample(0)


def test_mutate_changes_exactly_one_thing():
    rng = np.random.default_rng(1)
    kinds = collections.Counter()
    g = DARTS_V2
    for _ in range(400):
        m = SPACE.mutate(g, rng)
        SPACE.validate(m)
        diffs = [(cell, e, a, b) for cell in ("normal", "reduce")
                 for e, (a, b) in enumerate(zip(g.cell(cell), m.cell(cell))) if a != b]
        assert len(diffs) == 1, diffs
        _cell, e, (op_a, in_a), (op_b, in_b) = diffs[0]
        assert (op_a != op_b) != (in_a != in_b)  # op or input, not both
        if e < 2:
            assert in_a == in_b  # node 2's inputs are fixed
        kinds["op" if op_a != op_b else "input"] += 1
        assert m.normal_concat == g.normal_concat and m.reduce_concat == g.reduce_concat
        g = m
    assert kinds["op"] > 150 and kinds["input"] > 100
    with pytest.raises(ValueError, match="not in the DARTS search space"):
        SPACE.mutate(Genotype(_pairs(op="none"), _pairs()), rng)


def test_canonical_sorts_each_node():
    c = DARTS_V2.canonical()
    assert c.normal[4:6] == (("skip_connect", 0), ("sep_conv_3x3", 1))
    assert c.reduce[6:8] == (("max_pool_3x3", 1), ("skip_connect", 2))
    assert c.canonical() == c and c != DARTS_V2
