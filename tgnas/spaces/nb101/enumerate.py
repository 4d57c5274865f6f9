"""Enumerate every unique NAS-Bench-101 cell, as the benchmark's own generator defines them.

The benchmark (google-research/nasbench, ``scripts/generate_graphs.py``, described in its
paper) walks, for ``V = 2..7`` vertices, every upper-triangular 0/1 matrix in the order of
a bit counter (bit ``x + y(y-1)/2`` is the edge ``x -> y``), keeps the "full" DAGs (every
vertex but the input has an in-edge, every vertex but the output an out-edge) with at most
9 edges, labels the ``V - 2`` inner vertices with every op tuple in ``itertools.product``
order, and keeps the first ``(matrix, labels)`` seen for each module hash. The result is
423,624 cells.

Done literally that is ~1.2 M hash computations. Here the matrices are first grouped by
isomorphism class (input and output fixed, inner vertices permuted; an exact canonical
form, not a hash). All members of a class give the same set of module hashes, and the
first one in counter order is where each of those hashes is first seen, so only each
class's first matrix is labelled and hashed: the same cells, the same representatives,
about a third of the work.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from tgnas.spaces.nb101.hashing import _hash_from_lists

MAX_VERTICES = 7
MAX_EDGES = 9
NUM_OPS = 3
#: Padding op code beyond a cell's vertices (as in the NB101 table).
PAD_CODE = -3


@dataclass(frozen=True, eq=False)
class NB101Enumeration:
    """All unique cells, sorted by module hash.

    Attributes:
        hashes: ``(N,)`` ``<U32`` module hashes, ascending.
        adjacency: ``(N, 7, 7)`` int8, zero-padded beyond ``num_vertices``.
        ops: ``(N, 7)`` int8 labels (-1 input, -2 output, 0 conv3x3, 1 conv1x1, 2 maxpool,
            -3 padding).
        num_vertices: ``(N,)`` int8.
    """

    hashes: np.ndarray
    adjacency: np.ndarray
    ops: np.ndarray
    num_vertices: np.ndarray

    def __len__(self) -> int:
        return len(self.hashes)


def full_dags(vertices: int, max_edges: int = MAX_EDGES) -> np.ndarray:
    """Full DAGs on ``vertices`` vertices in the generator's counter order.

    Returns:
        ``(M, V, V)`` int8 upper-triangular adjacency matrices.
    """
    pairs = [(x, y) for y in range(vertices) for x in range(y)]  # bit k is edge pairs[k]
    bits = np.arange(2 ** len(pairs), dtype=np.int64)
    edges = np.zeros(len(bits), dtype=np.int64)
    for k in range(len(pairs)):
        edges += (bits >> k) & 1
    bits = bits[edges <= max_edges]
    adj = np.zeros((len(bits), vertices, vertices), dtype=np.int8)
    for k, (x, y) in enumerate(pairs):
        adj[:, x, y] = (bits >> k) & 1
    full = (adj.sum(axis=1)[:, 1:] > 0).all(axis=1) & (adj.sum(axis=2)[:, :-1] > 0).all(axis=1)
    return adj[full]


def _canonical_codes(adj: np.ndarray) -> np.ndarray:
    """Exact isomorphism-class code of each matrix (inner vertices permuted, ends fixed).

    Args:
        adj: ``(M, V, V)`` 0/1.

    Returns:
        ``(M,)`` int64, equal for two matrices iff they are isomorphic.
    """
    m, v, _ = adj.shape
    perms = np.array([(0, *p, v - 1) for p in itertools.permutations(range(1, v - 1))], dtype=np.int64)
    weights = (np.int64(1) << np.arange(v * v, dtype=np.int64)).reshape(v, v)
    best = np.full(m, np.iinfo(np.int64).max, dtype=np.int64)
    for p in perms:
        permuted = adj[:, p[:, None], p[None, :]].astype(np.int64)
        best = np.minimum(best, (permuted * weights).sum(axis=(1, 2)))
    return best


def enumerate_nb101(progress: bool = False) -> NB101Enumeration:
    """Every unique NB101 cell with its first-found representative, sorted by module hash.

    Takes about a minute of CPU (the MD5 calls of the module hash).
    """
    found: dict[str, tuple[np.ndarray, tuple[int, ...]]] = {}
    for vertices in range(2, MAX_VERTICES + 1):
        mats = full_dags(vertices)
        _, first = np.unique(_canonical_codes(mats), return_index=True)
        reps = mats[np.sort(first)]  # first member of each class, in counter order
        labelings = [(-1, *lab, -2) for lab in itertools.product(range(NUM_OPS), repeat=vertices - 2)]
        for mat in tqdm(reps, disable=not progress, desc=f"NB101 cells with {vertices} vertices",
                        mininterval=2):
            src, dst = np.nonzero(mat)
            in_nb: list[list[int]] = [[] for _ in range(vertices)]
            out_nb: list[list[int]] = [[] for _ in range(vertices)]
            for i, j in zip(src.tolist(), dst.tolist()):
                out_nb[i].append(j)
                in_nb[j].append(i)
            for labels in labelings:
                h = _hash_from_lists(vertices, in_nb, out_nb, labels)
                if h not in found:
                    found[h] = (mat, labels)
    hashes = np.array(sorted(found), dtype="<U32")
    n = len(hashes)
    adjacency = np.zeros((n, MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
    ops = np.full((n, MAX_VERTICES), PAD_CODE, dtype=np.int8)
    num_vertices = np.zeros(n, dtype=np.int8)
    for k, h in enumerate(hashes.tolist()):
        mat, labels = found[h]
        v = len(labels)
        adjacency[k, :v, :v] = mat
        ops[k, :v] = labels
        num_vertices[k] = v
    return NB101Enumeration(hashes=hashes, adjacency=adjacency, ops=ops, num_vertices=num_vertices)
