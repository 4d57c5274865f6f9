"""NB101 module hash: reproduces the benchmark's stored hashes and is isomorphism-invariant."""

from __future__ import annotations

import numpy as np
import pytest

from tgnas.spaces.nb101.benchmark import load_nb101
from tgnas.spaces.nb101.space import NB101Space
from tgnas.spaces.nb101.hashing import hash_cell, hash_module, hash_table_rows, labels_from_ops


@pytest.fixture(scope="module")
def table():
    return load_nb101()


def test_hash_matches_stored_hashes_on_a_sample(table):
    idx = np.random.default_rng(0).choice(len(table), 2000, replace=False)
    got = hash_table_rows(table.adjacency[idx], table.ops[idx], table.num_vertices[idx])
    assert got.shape == (2000,)
    np.testing.assert_array_equal(got, table.hashes[idx])


def test_single_cell_hash_agrees_with_batch(table):
    space = NB101Space()
    for i in (0, 1, 12345, len(table) - 1):
        cell = table.cell(i)
        assert hash_cell(cell.adjacency, cell.ops) == table.hashes[i]
        assert space.module_hash(cell) == table.hashes[i]


def test_smallest_cells_are_in_the_table(table):
    # Input -> output directly: the only 2-vertex cell.
    i = int(np.flatnonzero(table.num_vertices == 2)[0])
    assert hash_module([[0, 1], [0, 0]], [-1, -2]) == table.hashes[i]
    # The 3-vertex cells: each op alone, with or without the skip edge (3 x 2 = 6).
    three = {str(h) for h in table.hashes[table.num_vertices == 3]}
    ours = {hash_cell(adj, ("input", op, "output"))
            for op in NB101Space.ops
            for adj in ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [[0, 1, 1], [0, 0, 1], [0, 0, 0]])}
    assert ours == three


def _permute(adj: np.ndarray, ops: tuple[str, ...], rng: np.random.Generator):
    """Relabel the intermediate vertices randomly (input and output stay first and last)."""
    n = len(ops)
    perm = np.concatenate([[0], 1 + rng.permutation(n - 2), [n - 1]])  # new position of vertex v
    new = np.zeros_like(adj)
    new[np.ix_(perm, perm)] = adj
    new_ops = [None] * n
    for v, p in enumerate(perm):
        new_ops[p] = ops[v]
    return new, tuple(new_ops)


def test_isomorphic_relabellings_hash_alike(table):
    rng = np.random.default_rng(1)
    for i in rng.choice(len(table), 200, replace=False):
        cell = table.cell(int(i))
        adj = cell.matrix()
        new_adj, new_ops = _permute(adj, cell.ops, rng)
        # Not necessarily upper-triangular any more; the hash does not care.
        assert hash_cell(new_adj, new_ops) == table.hashes[i]


def test_different_cells_hash_differently(table):
    idx = np.random.default_rng(2).choice(len(table), 300, replace=False)
    hashes = {hash_cell(table.cell(int(i)).adjacency, table.cell(int(i)).ops) for i in idx}
    assert len(hashes) == 300
    # One op change changes the hash.
    cell = table.cell(0)
    ops = list(cell.ops)
    ops[1] = "conv1x1-bn-relu" if ops[1] != "conv1x1-bn-relu" else "maxpool3x3"
    assert hash_cell(cell.adjacency, ops) != table.hashes[0]


def test_labels_and_shape_errors():
    assert labels_from_ops(("input", "maxpool3x3", "conv3x3-bn-relu", "output")) == [-1, 2, 0, -2]
    with pytest.raises(ValueError, match="unknown op 'conv5x5' at vertex 1"):
        labels_from_ops(("input", "conv5x5", "output"))
    with pytest.raises(ValueError, match=r"shape \(2, 2\), expected \(3, 3\)"):
        hash_module(np.zeros((2, 2)), [-1, 0, -2])


@pytest.mark.slow
def test_hash_matches_stored_hashes_on_all_cells(table):
    got = hash_table_rows(table.adjacency, table.ops, table.num_vertices, progress=True)
    np.testing.assert_array_equal(got, table.hashes)
