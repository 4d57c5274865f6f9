"""NB101 search space: textual form, validation messages, pruning, sampling, mutation, FLOPs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tgnas.nets import count_flops
from tgnas.spaces.nb101.benchmark import load_nb101
from tgnas.cellgraph import CellGraph
from tgnas.spaces.catalog import get_space
from tgnas.spaces.nb101.arch import NB101Cell, num_representations
from tgnas.spaces.nb101.net import nb101_cost
from tgnas.spaces.nb101.space import NB101Space

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
SPACE = NB101Space()


def _cell(rows: list[str], ops: list[str]) -> NB101Cell:
    return NB101Cell(tuple(tuple(int(c) for c in r) for r in rows), tuple(ops))


@pytest.fixture(scope="module")
def table():
    return load_nb101()


def test_registry_and_attributes():
    space = get_space("nb101")
    assert isinstance(space, NB101Space)
    assert space.name == "nb101"
    assert space.ops == (C3, C1, MP)
    assert space.graph_ops == ("input", C3, C1, MP, "output")


def test_format_and_parse_round_trip():
    text = "0110.0001.0001.0000/input,conv3x3-bn-relu,maxpool3x3,output"
    cell = SPACE.parse(text)
    assert cell.num_vertices == 4 and cell.num_edges == 4
    assert cell.ops == ("input", C3, MP, "output")
    assert cell.adjacency[0] == (0, 1, 1, 0)
    assert SPACE.format(cell) == text
    assert SPACE.parse(SPACE.format(cell)) == cell


def test_round_trip_on_table_cells(table):
    for i in np.random.default_rng(0).choice(len(table), 300, replace=False):
        cell = table.cell(int(i))
        assert SPACE.parse(SPACE.format(cell)) == cell


def test_cell_is_hashable_and_compared_by_value():
    a = _cell(["011", "001", "000"], ["input", C3, "output"])
    b = NB101Cell(np.array([[0, 1, 1], [0, 0, 1], [0, 0, 0]]), ["input", C3, "output"])
    assert a == b and hash(a) == hash(b)
    assert len({a, b}) == 1
    assert a != _cell(["011", "001", "000"], ["input", C1, "output"])
    assert isinstance(a.adjacency, tuple) and isinstance(a.adjacency[0], tuple)
    with pytest.raises(AttributeError):
        a.ops = ("input", "output")  # frozen


@pytest.mark.parametrize("text, message", [
    ("garbage", "not an NB101 cell string"),
    ("01.00/input,output/x", "not an NB101 cell string"),
    ("011.00.000/input,conv3x3-bn-relu,output", "must each have 3 digits"),
    ("01.00/input,conv3x3-bn-relu,output", "2 adjacency rows but 3 ops"),
])
def test_parse_errors(text, message):
    with pytest.raises(ValueError, match=message):
        SPACE.parse(text)


def _chain(n: int) -> NB101Cell:
    """input -> v1 -> ... -> output, all conv3x3."""
    adj = np.eye(n, k=1, dtype=int)
    return NB101Cell(adj, ("input", *[C3] * (n - 2), "output"))


@pytest.mark.parametrize("cell, message", [
    (_chain(8), r"too many vertices: 8 \(at most 7\)"),
    (NB101Cell(np.triu(np.ones((7, 7), dtype=int), k=1), ("input", *[C3] * 5, "output")),
     r"too many edges: 21 \(at most 9\)"),
    (_cell(["010", "000", "010"], ["input", C3, "output"]), "strictly upper-triangular.*edge 2 -> 1"),
    (_cell(["011", "011", "000"], ["input", C3, "output"]), "strictly upper-triangular.*edge 1 -> 1"),
    (_cell(["011", "001", "000"], ["input", "conv5x5", "output"]), "unknown op 'conv5x5' at vertex 1"),
    (_cell(["011", "001", "000"], ["input", "input", "output"]), "unknown op 'input' at vertex 1"),
    (_cell(["011", "001", "000"], [C3, C3, "output"]), "first op must be 'input', got 'conv3x3-bn-relu'"),
    (_cell(["011", "001", "000"], ["input", C3, C3]), "last op must be 'output', got 'conv3x3-bn-relu'"),
    (_cell(["0101", "0000", "0001", "0000"], ["input", C3, C1, "output"]),
     r"disconnected: vertices \[1, 2\] are not on an input->output path"),
    (_cell(["0100", "0000", "0001", "0000"], ["input", C3, C1, "output"]),
     "disconnected: no path from the input to the output"),
    (_cell(["000", "000", "000"], ["input", C3, "output"]), "empty graph: the cell has no edges"),
    (NB101Cell((), ()), "empty graph: a cell needs at least an input and an output vertex, got 0"),
    (NB101Cell(((0,),), ("input",)), "empty graph: .*got 1 vertices"),
])
def test_validation_errors(cell, message):
    with pytest.raises(ValueError, match=message):
        SPACE.validate(cell)


def test_cell_structure_errors():
    with pytest.raises(ValueError, match=r"shape \(2, 2\), expected \(3, 3\)"):
        NB101Cell(((0, 1), (0, 0)), ("input", C3, "output"))
    with pytest.raises(ValueError, match=r"entries must be 0 or 1, got values \[0, 2\]"):
        NB101Cell(((0, 2), (0, 0)), ("input", "output"))
    with pytest.raises(ValueError, match="expected an NB101Cell, got str"):
        SPACE.validate("01.00/input,output")


def test_prune_drops_vertices_off_the_path():
    # Vertex 1 has no input (dead), vertex 3 has no output (dangling).
    cell = NB101Cell(np.array([[0, 0, 1, 1, 0],
                               [0, 0, 1, 0, 0],
                               [0, 0, 0, 0, 1],
                               [0, 0, 0, 0, 0],
                               [0, 0, 0, 0, 0]]), ("input", C1, C3, MP, "output"))
    pruned = SPACE.prune(cell)
    assert pruned == _cell(["010", "001", "000"], ["input", C3, "output"])
    assert SPACE.validate(pruned) is pruned
    valid = _cell(["011", "001", "000"], ["input", C3, "output"])
    assert SPACE.prune(valid) == valid
    # Like the benchmark, limits apply after pruning: 8 vertices with a dead one is fine.
    big = np.eye(8, k=1, dtype=int)
    big[0, 1], big[1, 2], big[0, 2] = 0, 0, 1  # vertex 1 is cut off
    pruned = SPACE.prune(NB101Cell(big, ("input", *[C1] * 6, "output")))
    assert pruned.num_vertices == 7 and SPACE.validate(pruned) is pruned
    with pytest.raises(ValueError, match="no path from the input to the output"):
        SPACE.prune(_cell(["010", "000", "000"], ["input", C3, "output"]))


def test_table_cells_validate_and_convert(table):
    for i in np.random.default_rng(3).choice(len(table), 500, replace=False):
        cell = SPACE.from_table(table, int(i))
        assert SPACE.validate(cell) is cell
        assert SPACE.prune(cell) == cell  # table cells are already pruned
        g = SPACE.to_graph(cell)
        assert isinstance(g, CellGraph)
        assert g.ops == cell.ops and g.num_nodes == table.num_vertices[i]
        assert g.adjacency.dtype == np.uint8
        np.testing.assert_array_equal(g.adjacency, table.adjacency[i, :g.num_nodes, :g.num_nodes])
        assert set(g.ops) <= set(SPACE.graph_ops)


def test_sampling_is_uniform_over_unique_cells(table):
    rng = np.random.default_rng(4)
    cells = [SPACE.sample(rng) for _ in range(300)]
    for cell in cells:
        assert SPACE.validate(cell) is cell
        table.index_of(SPACE.module_hash(cell))  # KeyError if the cell were not a benchmark cell
    # Uniform over the 423,624 cells: 84.8 % have 7 vertices, 14.6 % 6 (binomial s.e. 2 %).
    sizes = np.array([c.num_vertices for c in cells])
    assert 0.78 <= (sizes == 7).mean() <= 0.91
    assert 0.09 <= (sizes == 6).mean() <= 0.21
    assert len({SPACE.module_hash(c) for c in cells}) >= 295  # few repeats among 423k cells
    assert SPACE.sample(np.random.default_rng(4)) == cells[0]  # deterministic given the generator


def test_spec_sampling_is_valid_but_favours_small_cells(table):
    rng = np.random.default_rng(6)
    cells = [SPACE.sample_spec(rng) for _ in range(300)]
    for cell in cells:
        table.index_of(SPACE.module_hash(cell))
    assert np.mean([c.num_vertices == 7 for c in cells]) < 0.05


def test_num_representations():
    chain = _cell(["0100", "0010", "0001", "0000"], ["input", C3, C1, "output"])
    parallel = _cell(["0110", "0001", "0001", "0000"], ["input", C3, C1, "output"])
    twins = _cell(["0110", "0001", "0001", "0000"], ["input", C3, C3, "output"])
    assert num_representations(chain) == 1
    assert num_representations(parallel) == 2  # the two branches can swap places
    assert num_representations(twins) == 1  # swapping identical branches changes nothing


def _difference(a: NB101Cell, b: NB101Cell) -> int:
    edges = int(np.abs(a.matrix().astype(int) - b.matrix().astype(int)).sum())
    ops = sum(x != y for x, y in zip(a.ops, b.ops))
    return edges + ops


def test_mutation_changes_exactly_one_thing(table):
    rng = np.random.default_rng(5)
    for i in rng.choice(len(table), 200, replace=False):
        cell = table.cell(int(i))
        child = SPACE.mutate(cell, rng)
        assert SPACE.validate(child) is child
        assert child.num_vertices == cell.num_vertices
        assert _difference(cell, child) == 1
        assert SPACE.module_hash(child) != SPACE.module_hash(cell)
        table.index_of(SPACE.module_hash(child))


def test_mutation_of_the_two_vertex_cell_inserts_an_op():
    cell = _cell(["01", "00"], ["input", "output"])
    child = SPACE.mutate(cell, np.random.default_rng(0))
    assert child.num_vertices == 3 and child.ops[1] in SPACE.ops
    assert child.adjacency == ((0, 1, 0), (0, 0, 1), (0, 0, 0))


def test_mutate_rejects_invalid_cells():
    with pytest.raises(ValueError, match="disconnected"):
        SPACE.mutate(_cell(["0101", "0000", "0001", "0000"], ["input", C3, C1, "output"]),
                     np.random.default_rng(0))


def test_flops_of_is_the_macs_of_the_size_network():
    text = "01101.00001.00010.00001.00000/input,conv3x3-bn-relu,maxpool3x3,conv1x1-bn-relu,output"
    cell = SPACE.parse(text)
    macs = count_flops(SPACE.build_net(cell), (1, 3, 32, 32))  # the proxy network is the size network
    assert SPACE.flops_of(cell) == SPACE.flops_of(text) == float(macs) == float(nb101_cost(cell).macs)
    assert SPACE.provides("flops_of")


def test_flops_of_ranks_like_the_table_flops(table):
    # the table's flops_thop also count 2 per BatchNorm output: a different convention, the
    # same ordering
    idx = np.random.default_rng(0).choice(len(table), size=200, replace=False)
    ours = [SPACE.flops_of(table.cell(int(i))) for i in idx]
    assert stats.spearmanr(ours, table.flops[idx]).statistic > 0.99
    assert all(o < f for o, f in zip(ours, table.flops[idx]))
