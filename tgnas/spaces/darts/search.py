"""What search needs of the DARTS space: the continuous encoding of evolution, and the pruning
supernet with its edge selection.

Encoding: 24 genes, per cell (normal, then reduce) and intermediate node ``k = 2..5``: one
gene for the node's input pair among the ``C(k, 2)`` pairs ``(i, j)``, ``i < j < k``, and one
for the op of each of its two edges among :data:`~tgnas.spaces.darts.arch.SEARCH_OPS`
(``none`` is not a choice). Layout: ``[pair_2, op_2a, op_2b, pair_3, ...]`` per cell.

Pruning (:func:`tgnas.search.pruning.prune` explains how a supernet is scored): the supernet
holds the 8 :data:`~tgnas.spaces.darts.arch.DARTS_OPS` on each of the 14 possible edges of
both cells. After the op rounds every edge holds one op (possibly ``none``); each
intermediate node then keeps two incoming edges from distinct earlier nodes, in both cells:
for every candidate input pair ``(i, j)`` of node ``k`` the expected score of the cells that
use that pair (the other nodes' pairs drawn uniformly from *their* candidate pairs, common
contexts again) is computed, and the best pair is kept — "the two strongest incoming edges"
measured by the predicted score of the resulting cells. ``none`` is never kept: edges whose op
is ``none`` are not candidates (``none`` means "no edge"); only when a node has fewer than two
other edges are its ``none`` edges considered, each with its runner-up op (the op pruned in
the last round on that edge).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np

from tgnas.search.encoding import ContinuousEncoding, bin_of, centre
from tgnas.search.pruning import PruneConfig, Supernet
from tgnas.search.counting import CountingScorer
from tgnas.spaces.darts.arch import CELL_TYPES, DARTS_OPS, INTERMEDIATE_NODES, SEARCH_OPS, Genotype

__all__ = ["DartsEncoding", "DartsSupernet", "DARTS_EDGES"]

_PAIRS: dict[int, tuple[tuple[int, int], ...]] = {
    k: tuple(itertools.combinations(range(k), 2)) for k in INTERMEDIATE_NODES}


class DartsEncoding(ContinuousEncoding):
    """DARTS: per cell and intermediate node, the input pair and the op of each of its two edges."""

    dim = len(CELL_TYPES) * 3 * len(INTERMEDIATE_NODES)

    def decode(self, x: np.ndarray) -> Genotype:
        x = self._check(x)
        cells = []
        g = iter(x)
        for _ in CELL_TYPES:
            pairs: list[tuple[str, int]] = []
            for k in INTERMEDIATE_NODES:
                i, j = _PAIRS[k][bin_of(next(g), len(_PAIRS[k]))]
                pairs.append((SEARCH_OPS[bin_of(next(g), len(SEARCH_OPS))], i))
                pairs.append((SEARCH_OPS[bin_of(next(g), len(SEARCH_OPS))], j))
            cells.append(pairs)
        return Genotype(normal=cells[0], reduce=cells[1])

    def encode(self, arch: Genotype) -> np.ndarray:
        """Bin centres (up to the order of a node's two edges, which encoding sorts by input)."""
        self.space.check_search_space(arch, "the search encoding")
        out: list[float] = []
        for cell in CELL_TYPES:
            pairs = arch.cell(cell)
            for n, k in enumerate(INTERMEDIATE_NODES):
                a, b = sorted(pairs[2 * n:2 * n + 2], key=lambda p: p[1])
                out.append(centre(_PAIRS[k].index((a[1], b[1])), len(_PAIRS[k])))
                out.append(centre(SEARCH_OPS.index(a[0]), len(SEARCH_OPS)))
                out.append(centre(SEARCH_OPS.index(b[0]), len(SEARCH_OPS)))
        return np.array(out)

#: DARTS edges: (cell index, target node, input node), 14 per cell, both cells.
DARTS_EDGES: tuple[tuple[int, int, int], ...] = tuple(
    (c, k, i) for c in range(len(CELL_TYPES)) for k in INTERMEDIATE_NODES for i in range(k))
_DARTS_EDGE_INDEX: dict[tuple[int, int, int], int] = {e: n for n, e in enumerate(DARTS_EDGES)}
_NODE_SLOTS: tuple[tuple[int, int], ...] = tuple((c, k) for c in range(len(CELL_TYPES)) for k in INTERMEDIATE_NODES)


@dataclass
class _DartsContexts:
    u: np.ndarray                      # (n, 28) uniforms for the op of every edge
    perms: list[dict[tuple[int, int], list[int]]]  # per context, per (cell, node): input permutation


def _genotype(pairs: dict[tuple[int, int], tuple[tuple[str, int], tuple[str, int]]]) -> Genotype:
    """Genotype from ``{(cell, node): ((op, i), (op, j))}`` with the smaller input first."""
    cells = []
    for c in range(len(CELL_TYPES)):
        cell: list[tuple[str, int]] = []
        for k in INTERMEDIATE_NODES:
            cell.extend(sorted(pairs[(c, k)], key=lambda p: p[1]))
        cells.append(cell)
    return Genotype(normal=cells[0], reduce=cells[1])


class DartsSupernet(Supernet):
    """DARTS: 28 edges (14 per cell), each with a subset of :data:`DARTS_OPS` (``none`` included).

    A cell drawn from the supernet picks, for each intermediate node, two distinct inputs
    uniformly among its possible pairs, and an op for each of the two edges uniformly among
    that edge's remaining ops. Sampled cells may hold ``none`` (the scorer must accept it,
    as :meth:`DartsSpace.to_graph` and the predictor do); the final genotype never does.
    """

    def __init__(self) -> None:
        self.candidates = [list(DARTS_OPS) for _ in DARTS_EDGES]
        #: ops pruned so far per edge, in pruning order (the last one is the runner-up)
        self.pruned: list[list[str]] = [[] for _ in DARTS_EDGES]

    def edge_name(self, e: int) -> str:
        c, k, i = DARTS_EDGES[e]
        return f"{CELL_TYPES[c]}:{k}<-{i}"

    def n_cells(self) -> int:
        total = 1
        for c, k in _NODE_SLOTS:
            sizes = [len(self.candidates[_DARTS_EDGE_INDEX[(c, k, i)]]) for i in range(k)]
            total *= sum(a * b for a, b in itertools.combinations(sizes, 2))
        return total

    def sample_contexts(self, rng: np.random.Generator, n: int) -> _DartsContexts:
        u = rng.random((n, len(DARTS_EDGES)))
        perms = [{(c, k): [int(x) for x in rng.permutation(k)] for c, k in _NODE_SLOTS} for _ in range(n)]
        return _DartsContexts(u, perms)

    def _op(self, ctx: _DartsContexts, r: int, edge: tuple[int, int, int]) -> str:
        e = _DARTS_EDGE_INDEX[edge]
        cand = self.candidates[e]
        return cand[int(ctx.u[r, e] * len(cand))]

    def remove(self, e: int, op: str) -> None:
        super().remove(e, op)
        self.pruned[e].append(op)

    def final(self) -> Genotype:
        raise NotImplementedError("a DARTS supernet ends with edge selection: call finish()")

    def finish(self, scorer: CountingScorer, config: PruneConfig,
               rng: np.random.Generator) -> tuple[Genotype, dict[str, Any]]:
        arch, info = select_edges(self, scorer, config, rng)
        return arch, {"edge_selection": info}

    def cells_with(self, ctx: _DartsContexts, e: int, op: str) -> list[Genotype]:
        ce, ke, ie = DARTS_EDGES[e]
        cells = []
        for r, perm in enumerate(ctx.perms):
            pairs = {}
            for c, k in _NODE_SLOTS:
                if (c, k) == (ce, ke):
                    # edge e must be present: its partner is the first other input of the
                    # permutation, which is uniform over the k-1 others (and equals the
                    # unconditioned pair whenever that pair already contains ie)
                    other = next(x for x in perm[(c, k)] if x != ie)
                    inputs = (ie, other)
                else:
                    inputs = tuple(perm[(c, k)][:2])
                pairs[(c, k)] = tuple(
                    (op if (c, k, i) == (ce, ke, ie) else self._op(ctx, r, (c, k, i)), i) for i in inputs)
            cells.append(_genotype(pairs))
        return cells


def select_edges(net: DartsSupernet, scorer: CountingScorer, config: PruneConfig,
                        rng: np.random.Generator) -> tuple[Genotype, dict[str, Any]]:
    """Keep the best input pair per intermediate node of both cells (see the module docstring)."""
    op_of: dict[tuple[int, int, int], str] = {}
    candidates: dict[tuple[int, int], list[int]] = {}
    for c, k in _NODE_SLOTS:
        real = [i for i in range(k) if net.candidates[_DARTS_EDGE_INDEX[(c, k, i)]][0] != "none"]
        inputs = real if len(real) >= 2 else list(range(k))
        candidates[(c, k)] = inputs
        for i in inputs:
            e = _DARTS_EDGE_INDEX[(c, k, i)]
            op = net.candidates[e][0]
            op_of[(c, k, i)] = op if op != "none" else net.pruned[e][-1]
    pair_sets = {slot: list(itertools.combinations(candidates[slot], 2)) for slot in _NODE_SLOTS}
    n = config.n_samples
    # context r: a uniformly drawn candidate pair for every node
    draws = {slot: rng.integers(len(pair_sets[slot]), size=n) for slot in _NODE_SLOTS}
    batch, slots = [], []
    for slot in _NODE_SLOTS:
        if len(pair_sets[slot]) < 2:
            continue
        for pair in pair_sets[slot]:
            for r in range(n):
                chosen = {s: pair if s == slot else pair_sets[s][draws[s][r]] for s in _NODE_SLOTS}
                batch.append(_genotype({s: tuple((op_of[(s[0], s[1], i)], i) for i in p)
                                        for s, p in chosen.items()}))
            slots.append((slot, pair))
    scores = scorer(batch).reshape(len(slots), n) if batch else np.zeros((0, n))
    means: dict[tuple[int, int], dict[tuple[int, int], float]] = {s: {} for s in _NODE_SLOTS}
    for (slot, pair), row in zip(slots, scores):
        means[slot][pair] = float(row.mean())
    best: dict[tuple[int, int], tuple[int, int]] = {}
    for slot in _NODE_SLOTS:
        if len(pair_sets[slot]) == 1:
            best[slot] = pair_sets[slot][0]
        else:
            pairs = pair_sets[slot]
            best[slot] = pairs[int(np.argmax([means[slot][p] for p in pairs]))]
    g = _genotype({s: tuple((op_of[(s[0], s[1], i)], i) for i in p) for s, p in best.items()})
    info = {"cells_scored": len(batch),
            "pair_means": {f"{CELL_TYPES[c]}:{k}": {f"{p[0]}_{p[1]}": v for p, v in means[(c, k)].items()}
                           for c, k in _NODE_SLOTS}}
    return g, info
