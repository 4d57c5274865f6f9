"""NAS-Bench-101's module hash, written from its published description.

NAS-Bench-101 identifies a cell by an MD5 fingerprint that is invariant to relabelling the
vertices (google-research/nasbench, ``graph_util.hash_module`` with the labels built by
``ModelSpec.hash_spec``). The algorithm is a Weisfeiler-Lehman-style colour refinement:

1. Each vertex ``v`` starts with ``md5(str((out_degree, in_degree, label)))``, where
   ``str`` is Python's tuple repr (``"(2, 0, -1)"``) and ``label`` is ``-1`` for the input,
   ``-2`` for the output and, for the other vertices, the index of the op in the
   benchmark's canonical op list ``[conv3x3-bn-relu, conv1x1-bn-relu, maxpool3x3]``.
2. ``V`` times (``V`` = number of vertices), every vertex becomes
   ``md5(sorted-concatenated in-neighbour hashes + "|" + sorted-concatenated out-neighbour
   hashes + "|" + own hash)``, all vertices updated at once.
3. The fingerprint is ``md5(str(sorted(vertex hashes)))`` with ``str`` the list repr
   (``"['0a..', '1b..']"``).

The hash is defined on the *pruned* cell (every vertex on an input-to-output path), which is
how the benchmark stores cells. Hashing all 423,624 cells with :func:`hash_table_rows` is a
pure-Python loop over MD5 calls (the only part that cannot be vectorised); neighbour lists
and the initial vertex hashes are precomputed with numpy / memoised. Measured: about 60 s
of CPU time for all 423,624 cells (one core, Python 3.11).
"""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import md5

import numpy as np
from tqdm.auto import tqdm

#: The benchmark's op ordering (its ``config['available_ops']``); labels are indices here.
CANONICAL_OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
INPUT_LABEL = -1
OUTPUT_LABEL = -2

# md5 of the tuple repr of (out_degree, in_degree, label); few distinct keys, so memoise.
_INITIAL_CACHE: dict[tuple[int, int, int], str] = {}


def _initial_hash(out_deg: int, in_deg: int, label: int) -> str:
    key = (out_deg, in_deg, label)
    h = _INITIAL_CACHE.get(key)
    if h is None:
        # Python's repr of a tuple of ints, exactly as the benchmark hashes it.
        h = md5(f"({out_deg}, {in_deg}, {label})".encode()).hexdigest()
        _INITIAL_CACHE[key] = h
    return h


def labels_from_ops(ops: Sequence[str]) -> list[int]:
    """Integer labels of a cell's op names: ``-1`` input, ``-2`` output, else canonical index.

    Raises:
        ValueError: an intermediate op is not one of :data:`CANONICAL_OPS`.
    """
    labels = [INPUT_LABEL]
    for v, op in enumerate(ops[1:-1], start=1):
        try:
            labels.append(CANONICAL_OPS.index(op))
        except ValueError:
            raise ValueError(f"unknown op {op!r} at vertex {v}; expected one of {list(CANONICAL_OPS)}") from None
    labels.append(OUTPUT_LABEL)
    return labels


def _hash_from_lists(n: int, in_nb: list[list[int]], out_nb: list[list[int]], labels: Sequence[int]) -> str:
    """Core of the algorithm on neighbour lists (``in_nb[v]``: sources of edges into ``v``)."""
    hashes = [_initial_hash(len(out_nb[v]), len(in_nb[v]), int(labels[v])) for v in range(n)]
    for _ in range(n):
        hashes = [
            md5(("".join(sorted([hashes[w] for w in in_nb[v]])) + "|"
                 + "".join(sorted([hashes[w] for w in out_nb[v]])) + "|"
                 + hashes[v]).encode()).hexdigest()
            for v in range(n)
        ]
    hashes.sort()
    return md5(("[" + ", ".join(f"'{h}'" for h in hashes) + "]").encode()).hexdigest()


def hash_module(adjacency: np.ndarray | Sequence[Sequence[int]], labels: Sequence[int]) -> str:
    """Isomorphism-invariant MD5 fingerprint of a labelled DAG.

    Args:
        adjacency: ``(V, V)`` 0/1 matrix, ``adjacency[i, j] = 1`` for an edge ``i -> j``.
        labels: ``V`` integer labels (``-1`` input, ``-2`` output, op index otherwise).

    Returns:
        32-character hex digest, equal to the benchmark's module hash for a pruned cell.
    """
    adj = np.asarray(adjacency)
    n = len(labels)
    if adj.shape != (n, n):
        raise ValueError(f"adjacency has shape {adj.shape}, expected ({n}, {n}) for {n} labels")
    rows, cols = np.nonzero(adj)
    in_nb: list[list[int]] = [[] for _ in range(n)]
    out_nb: list[list[int]] = [[] for _ in range(n)]
    for i, j in zip(rows.tolist(), cols.tolist()):
        out_nb[i].append(j)
        in_nb[j].append(i)
    return _hash_from_lists(n, in_nb, out_nb, labels)


def hash_cell(adjacency: np.ndarray | Sequence[Sequence[int]], ops: Sequence[str]) -> str:
    """Module hash of a pruned cell given op names (``ops[0] == "input"``, last ``"output"``)."""
    return hash_module(adjacency, labels_from_ops(ops))


def hash_table_rows(adjacency: np.ndarray, op_codes: np.ndarray, num_vertices: np.ndarray,
                    progress: bool = False) -> np.ndarray:
    """Module hashes of many zero-padded cells in the table encoding.

    Args:
        adjacency: ``(N, 7, 7)`` int 0/1, cell ``k`` in the top-left ``num_vertices[k]`` block.
        op_codes: ``(N, 7)`` int, the table's codes (``-1`` input, ``-2`` output, ``0``
            conv3x3, ``1`` conv1x1, ``2`` maxpool3x3, ``-3`` padding). These *are* the
            benchmark's hash labels, so no translation is needed.
        num_vertices: ``(N,)`` number of real vertices of each cell.
        progress: show a tqdm bar.

    Returns:
        ``(N,)`` array of 32-character hex strings.
    """
    adjacency = np.asarray(adjacency)
    op_codes = np.asarray(op_codes)
    num_vertices = np.asarray(num_vertices)
    n_cells = len(num_vertices)
    if adjacency.shape[0] != n_cells or op_codes.shape[0] != n_cells:
        raise ValueError(f"{n_cells} vertex counts but adjacency {adjacency.shape} and ops {op_codes.shape}")
    # All edges of all cells at once; then split into per-cell neighbour lists.
    cell_idx, src, dst = np.nonzero(adjacency)
    bounds = np.searchsorted(cell_idx, np.arange(n_cells + 1))
    src_l, dst_l = src.tolist(), dst.tolist()
    labels_l = op_codes.tolist()
    nv_l = num_vertices.tolist()
    bounds_l = bounds.tolist()
    out = np.empty(n_cells, dtype="<U32")
    for k in tqdm(range(n_cells), disable=not progress, desc="hashing NB101 cells", mininterval=2):
        n = nv_l[k]
        in_nb: list[list[int]] = [[] for _ in range(n)]
        out_nb: list[list[int]] = [[] for _ in range(n)]
        for e in range(bounds_l[k], bounds_l[k + 1]):
            i, j = src_l[e], dst_l[e]
            out_nb[i].append(j)
            in_nb[j].append(i)
        out[k] = _hash_from_lists(n, in_nb, out_nb, labels_l[k])
    return out
