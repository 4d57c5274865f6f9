"""GraphSet packing, padded batches, graph operations, and the vectorised NB101 conversion."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tgnas.spaces.nb101.benchmark import NB101_VOCAB, table_graphset
from tgnas.graphs import PAD, BatchMaker, GraphSet, masked_pool, propagation_matrix
from tgnas.spaces.base import CellGraph

OPS = ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output")


def random_graph(n: int, rng: np.random.Generator, ops=OPS) -> CellGraph:
    """A random DAG with ``n`` nodes: input, ``n - 2`` random ops, output."""
    adj = np.triu(rng.integers(0, 2, size=(n, n)), k=1).astype(np.uint8)
    adj[np.arange(n - 1), np.arange(1, n)] = 1  # a spine, so every node is connected
    mid = tuple(str(o) for o in rng.choice(ops[1:-1], size=n - 2))
    return CellGraph(adj, (ops[0], *mid, ops[-1]))


@pytest.fixture
def mixed() -> list[CellGraph]:
    rng = np.random.default_rng(0)
    return [random_graph(n, rng) for n in (7, 8, 11, 30, 5)]


def test_from_graphs_shapes_padding_and_roundtrip(mixed):
    gs = GraphSet.from_graphs(mixed)
    assert gs.ops.shape == (5, 30) and gs.adjacency.shape == (5, 30, 30)
    assert gs.num_nodes.tolist() == [7, 8, 11, 30, 5]
    assert gs.ops.dtype == np.int32 and gs.adjacency.dtype == np.uint8
    assert np.all(gs.ops[0, 7:] == PAD) and np.all(gs.ops[0, :7] >= 0)
    assert gs.adjacency[0, 7:].sum() == 0 and gs.adjacency[0, :, 7:].sum() == 0
    for i, g in enumerate(mixed):
        assert gs.graph(i) == g
    # first-appearance vocabulary order starts with the input of graph 0
    assert gs.vocab[0] == "input" and set(gs.vocab) == set(OPS)


def test_batch_pads_to_largest_in_batch(mixed):
    gs = GraphSet.from_graphs(mixed)
    mk = BatchMaker(gs)
    b = mk.batch([0, 1, 4])
    assert b.ops.shape == (3, 8) and b.adj.shape == (3, 8, 8) and b.mask.shape == (3, 8)
    assert b.mask.sum(1).tolist() == [7, 8, 5]
    assert torch.equal(b.adj[0, :7, :7], torch.from_numpy(mixed[0].adjacency).float())
    big = mk.batch([3, 0])
    assert big.ops.shape == (2, 30) and big.mask.sum().item() == 37
    table = torch.arange(len(gs.vocab) * 2, dtype=torch.float32).reshape(-1, 2) + 1
    x = b.features(table)
    assert x.shape == (3, 8, 2)
    assert torch.all(x[2, 5:] == 0)                       # padding features are zero
    assert torch.equal(x[0, 0], table[gs.vocab.index("input")])


def test_subset_concat_and_vocab_remap(mixed):
    a = GraphSet.from_graphs(mixed[:2])
    rng = np.random.default_rng(1)
    nb201_like = [random_graph(8, rng, ops=("input", "none", "skip_connect", "output")) for _ in range(3)]
    b = GraphSet.from_graphs(nb201_like)
    c = GraphSet.concat([a, b])
    assert len(c) == 5 and c.max_nodes == 8
    assert set(c.vocab) == set(OPS) | {"none", "skip_connect"}
    for i, g in enumerate(mixed[:2] + nb201_like):
        assert c.graph(i) == g
    assert c.subset([4, 0]).graph(0) == nb201_like[2]
    with pytest.raises(KeyError, match="not in the new vocab"):
        b.with_vocab(OPS)
    with pytest.raises(KeyError, match="'none', not in vocab"):
        GraphSet.from_graphs(nb201_like, vocab=OPS)


def test_graphset_rejects_bad_arrays():
    ops = np.array([[0, 1, PAD]], dtype=np.int32)
    adj = np.zeros((1, 3, 3), dtype=np.uint8)
    adj[0, 1, 0] = 1
    with pytest.raises(ValueError, match="upper-triangular"):
        GraphSet(ops, adj, np.array([2]), ("a", "b"))
    with pytest.raises(ValueError, match="index vocab"):
        GraphSet(np.array([[0, 5, PAD]]), np.zeros((1, 3, 3)), np.array([2]), ("a", "b"))
    with pytest.raises(ValueError, match="beyond num_nodes must be PAD"):
        GraphSet(np.array([[0, 1, 1]]), np.zeros((1, 3, 3)), np.array([2]), ("a", "b"))


def test_save_load_roundtrip(tmp_path, mixed):
    gs = GraphSet.from_graphs(mixed)
    back = GraphSet.load(gs.save(tmp_path / "g.npz"))
    assert back.vocab == gs.vocab and back.content_hash() == gs.content_hash()


def test_propagation_direction_on_a_chain():
    adj = torch.zeros(1, 3, 3)
    adj[0, 0, 1] = adj[0, 1, 2] = 1          # 0 -> 1 -> 2
    fwd = propagation_matrix(adj, "forward")
    assert fwd[0, 1, 0] == 1 and fwd[0, 2, 1] == 1 and fwd[0, 0, 1] == 0   # from predecessors
    bwd = propagation_matrix(adj, "backward")
    assert bwd[0, 0, 1] == 1 and bwd[0, 1, 0] == 0                         # from successors
    both = propagation_matrix(adj, "both")
    assert torch.equal(both, fwd + bwd)
    with pytest.raises(ValueError, match="unknown direction 'sideways'"):
        propagation_matrix(adj, "sideways")


def test_masked_pool_ignores_padding_and_order():
    h = torch.randn(2, 5, 3)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
    mean = masked_pool(h, mask, "mean")
    assert torch.allclose(mean[0], h[0, :3].mean(0))
    perm = torch.tensor([2, 0, 1, 3, 4])
    assert torch.allclose(masked_pool(h[:, perm], mask, "sum"), masked_pool(h, mask, "sum"))
    with pytest.raises(ValueError, match="unknown pooling 'max'"):
        masked_pool(h, mask, "max")


# ----------------------------------------------------------------------------- NB101

@pytest.fixture(scope="module")
def nb101():
    from tgnas.spaces.nb101.benchmark import load_nb101
    from tgnas.datafiles import DataFileError
    try:
        return load_nb101()
    except DataFileError as e:
        pytest.skip(f"NB101 data not available: {e}")


def test_nb101_vectorised_equals_per_cell_conversion(nb101, tmp_path, monkeypatch):
    from tgnas import paths
    from tgnas.spaces.nb101.space import NB101Space
    monkeypatch.setattr(paths, "CACHE_DIR", tmp_path)
    gs = table_graphset(nb101)                      # builds and writes the cache
    assert len(gs) == 423_624 and gs.vocab == NB101_VOCAB and gs.max_nodes == 7
    assert np.bincount(gs.num_nodes)[7] == 359_082 and np.bincount(gs.num_nodes)[2] == 1
    assert len(list((tmp_path / "graphs").glob("nb101_*.npz"))) == 1
    again = table_graphset(nb101)                   # reads the cache
    assert again.content_hash() == gs.content_hash()
    space = NB101Space()
    rng = np.random.default_rng(0)
    sample = np.concatenate([rng.choice(len(gs), 150, replace=False),
                             np.flatnonzero(gs.num_nodes < 6)[:50]])
    for i in sample:
        assert gs.graph(int(i)) == space.to_graph(space.from_table(nb101, int(i))), i
