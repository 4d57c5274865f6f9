"""Supernet pruning driven by a scorer of discrete cells (the paper's Algorithm 1 (a), TE-NAS style).

State: a *supernet*, the set of ops still allowed on every edge. It starts with every op on
every edge (NB201: the 5 ops on each of the 6 edges, ``none`` included; DARTS: the 8
:data:`~tgnas.spaces.darts.arch.DARTS_OPS` on each of the 14 possible edges of both cells). Each
round, for every edge ``e`` and remaining op ``o``, the supernet is scored with ``o`` removed
from ``e``; ``ΔP(e, o) = P(S) − P(S \\ {o on e})``, and on every edge the op whose removal
costs least (smallest ΔP, i.e. removing it *raises* the score most) is pruned. Rounds repeat
until one op is left per edge. Upstream's code sorted by op index and never used the
scores; here the scores decide.

How a supernet is scored
------------------------
The predictor scores discrete cells, not mixtures. A supernet's score is defined as the
**expected score of a cell drawn uniformly from it**:

    P(S) = E_{cell ~ U(S)} [ f(cell) ],

where ``U(S)`` draws each edge's op uniformly from its remaining ops (DARTS: and each
intermediate node's two inputs uniformly among its possible input pairs). This is the
principled analogue of TE-NAS, whose supernet *mixes* all remaining ops on every edge: it
rewards an op for how good cells are that use it together with everything still allowed,
not for one lucky combination; the score of the argmax cell alone would rank ops on a single
context and be as noisy as one sample. Because the edges are drawn independently,

    P(S \\ {o on e}) = mean_{o' in S_e, o' != o} m_e(o'),   m_e(o) = E[f(cell) | op on e = o],

so ``ΔP(e, o) = (m_e(o) − P(S)) / (|S_e| − 1)`` and pruning the smallest ΔP prunes the op
with the lowest conditional mean ``m_e(o)``. ``m_e(o)`` is computed

* **exactly** by enumerating every cell of the supernet when that is no more expensive than
  sampling (NB201 with 16 contexts: the last round, 2^6 = 64 cells; with 41 or more
  contexts also the 3^6 = 729 cells of the round before), or
* by **Monte-Carlo** with ``n_samples`` seeded *contexts* (the ops of the other edges, and
  for DARTS the input pairs, drawn from ``U(S)``): every op of edge ``e`` is scored on the
  same contexts (common random numbers), so the differences between ops of one edge carry
  no sampling noise from the rest of the cell — for a scorer that is a sum of per-edge
  values, the Monte-Carlo choice is exact whatever ``n_samples``.

DARTS edge selection
--------------------
After the op rounds every one of the 14 edges per cell holds one op (possibly ``none``).
Each intermediate node then keeps two incoming edges from distinct earlier nodes, in both
cells: for every candidate input pair ``(i, j)`` of node ``k`` the expected score of the
cells that use that pair (the other nodes' pairs drawn uniformly from *their* candidate
pairs, common contexts again) is computed, and the best pair is kept — "the two strongest
incoming edges" measured by the predicted score of the resulting cells. ``none`` is never
kept: edges whose op is ``none`` are not candidates (``none`` means "no edge"); only when a
node has fewer than two other edges are its ``none`` edges considered, each with its
runner-up op (the op pruned in the last round on that edge).
"""

from __future__ import annotations

import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from tgnas.search.records import SearchResult
from tgnas.search.scorers import CountingScorer, ScoreFn, as_counting
from tgnas.spaces.base import SearchSpace
from tgnas.spaces.darts.arch import CELL_TYPES, DARTS_OPS, INTERMEDIATE_NODES, Genotype
from tgnas.spaces.nb201.arch import NB201_EDGES, NB201_OPS, NB201Arch
from tgnas.spaces.registry import get_record, get_space, space_names


@dataclass(frozen=True)
class PruneConfig:
    """Settings of :func:`prune`.

    Attributes:
        n_samples: Monte-Carlo contexts per edge and round (and per node in DARTS edge
            selection). Cost per MC round: ``n_samples * Σ_e |S_e|`` cells.
        exact: enumerate the supernet exactly when it has no more cells than one MC round
            would score (NB201 only; the DARTS supernet is always too large).
    """

    n_samples: int = 16
    exact: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.n_samples, bool) or not isinstance(self.n_samples, int) or self.n_samples < 1:
            raise ValueError(f"n_samples must be a positive int, got {self.n_samples!r}")


# ---------------------------------------------------------------------------- supernets

class Supernet(ABC):
    """Remaining ops per edge, and how to draw cells from them."""

    #: ``candidates[e]``: ops still allowed on edge ``e`` (in the space's op order).
    candidates: list[list[str]]

    @abstractmethod
    def edge_name(self, e: int) -> str:
        """Readable name of edge ``e``."""

    @abstractmethod
    def sample_contexts(self, rng: np.random.Generator, n: int) -> Any:
        """``n`` random contexts (seeded through ``rng``)."""

    @abstractmethod
    def cells_with(self, ctx: Any, e: int, op: str) -> list[Any]:
        """One cell per context, each with edge ``e`` present and carrying ``op``."""

    def n_cells(self) -> int:
        """Number of distinct cells in the supernet (``inf``-like large int if huge)."""
        return int(np.prod([len(c) for c in self.candidates], dtype=object))

    def enumerate_cells(self) -> list[tuple[Any, tuple[str, ...]]] | None:
        """Every cell with its op per edge, or ``None`` if enumeration is not supported."""
        return None

    def remove(self, e: int, op: str) -> None:
        """Prune ``op`` from edge ``e``."""
        self.candidates[e].remove(op)

    @abstractmethod
    def final(self) -> Any:
        """The cell of a fully pruned supernet (one op per edge)."""

    def finish(self, scorer: CountingScorer, config: PruneConfig,
               rng: np.random.Generator) -> tuple[Any, dict[str, Any]]:
        """The searched cell once every edge holds one op, and extra information for the result."""
        return self.final(), {}


class EdgeOpSupernet(Supernet):
    """A space whose cell is one op per edge from a fixed op list (NB201, or a test space).

    Args:
        edge_names: readable name of each edge.
        ops: the op choices of every edge (the space's op order).
        make: ``make(ops)`` builds the cell with ``ops[e]`` on edge ``e``.
    """

    def __init__(self, edge_names: Sequence[str], ops: Sequence[str], make: Callable[[tuple[str, ...]], Any]) -> None:
        self.edge_names = tuple(edge_names)
        self.make = make
        self.candidates = [list(ops) for _ in self.edge_names]

    def edge_name(self, e: int) -> str:
        return self.edge_names[e]

    def sample_contexts(self, rng: np.random.Generator, n: int) -> np.ndarray:
        # (n, edges) uniforms; the op of edge j in context r is candidates[j][floor(u * |S_j|)]
        return rng.random((n, len(self.candidates)))

    def _ops_of(self, u: np.ndarray) -> list[list[str]]:
        return [[self.candidates[j][int(u[r, j] * len(self.candidates[j]))] for j in range(u.shape[1])]
                for r in range(u.shape[0])]

    def cells_with(self, ctx: np.ndarray, e: int, op: str) -> list[Any]:
        cells = []
        for ops in self._ops_of(ctx):
            ops[e] = op
            cells.append(self.make(tuple(ops)))
        return cells

    def enumerate_cells(self) -> list[tuple[Any, tuple[str, ...]]]:
        return [(self.make(ops), ops) for ops in itertools.product(*self.candidates)]

    def final(self) -> Any:
        if any(len(c) != 1 for c in self.candidates):
            raise ValueError(f"supernet not fully pruned: {self.candidates}")
        return self.make(tuple(c[0] for c in self.candidates))


class NB201Supernet(EdgeOpSupernet):
    """NB201: 6 edges, each with a subset of :data:`NB201_OPS`; a cell picks one op per edge."""

    def __init__(self) -> None:
        super().__init__([f"({t}<-{s})" for t, s in NB201_EDGES], NB201_OPS, NB201Arch)


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
        arch, info = _select_darts_edges(self, scorer, config, rng)
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


# ------------------------------------------------------------------------------ pruning

def _conditional_means(net: Supernet, scorer: CountingScorer, config: PruneConfig,
                       rng: np.random.Generator) -> tuple[list[dict[str, float]], str, int]:
    """``m_e(o)`` for every edge and remaining op, the method used and the cells scored."""
    mc_cost = config.n_samples * sum(len(c) for c in net.candidates)
    cells = net.enumerate_cells() if config.exact and net.n_cells() <= mc_cost else None
    if cells is not None:
        scores = scorer([a for a, _ in cells])
        means = []
        for e, cand in enumerate(net.candidates):
            means.append({o: float(np.mean([s for (_, ops), s in zip(cells, scores) if ops[e] == o]))
                          for o in cand})
        return means, "exact", len(cells)
    ctx = net.sample_contexts(rng, config.n_samples)
    batch: list[Any] = []
    slots: list[tuple[int, str]] = []
    for e, cand in enumerate(net.candidates):
        if len(cand) < 2:
            continue  # nothing to decide on this edge
        for o in cand:
            batch.extend(net.cells_with(ctx, e, o))
            slots.append((e, o))
    scores = scorer(batch).reshape(len(slots), config.n_samples) if batch else np.zeros((0, 1))
    means: list[dict[str, float]] = [{} for _ in net.candidates]
    for (e, o), row in zip(slots, scores):
        means[e][o] = float(row.mean())
    return means, "mc", len(batch)


def _prune_round(net: Supernet, means: list[dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Remove, on every edge with >1 op, the op with the smallest ΔP; return what was done."""
    done = {}
    for e, cand in enumerate(net.candidates):
        if len(cand) < 2:
            continue
        ops = list(cand)
        m = np.array([means[e][o] for o in ops])
        p_with = m.mean()
        # ΔP(o) = P(S) − P(S without o); P(S without o) = mean of the other ops' m
        delta = p_with - (m.sum() - m) / (len(m) - 1)
        worst = int(np.argmin(delta))  # ties: the first in op order (deterministic)
        net.remove(e, ops[worst])
        done[net.edge_name(e)] = {"pruned": ops[worst], "delta": {o: float(d) for o, d in zip(ops, delta)}}
    return done


def _select_darts_edges(net: DartsSupernet, scorer: CountingScorer, config: PruneConfig,
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


def prune(space: SearchSpace | str, scorer: ScoreFn | CountingScorer, seed: int = 0,
          config: PruneConfig | None = None, progress: bool = True) -> SearchResult:
    """Prune the supernet of ``space`` with ``scorer`` (see the module docstring).

    Args:
        space: ``"nb201"`` / ``"darts"`` or the space object.
        scorer: ``scorer(archs) -> (M,)`` scores, higher = better (wrapped in a
            :class:`CountingScorer` unless it is one). For DARTS it must accept genotypes
            holding ``"none"``.
        seed: seeds the Monte-Carlo contexts.
        config: :class:`PruneConfig` (default: 16 contexts, exact enumeration when cheaper).

    Returns:
        :class:`SearchResult` with ``budget=None`` (pruning's cost is its own; see
        ``n_distinct``) and ``extra["rounds"]``: per round the method (exact / mc), the
        number of cells scored and, per edge, the pruned op and the ΔP of every op.
    """
    space = get_space(space) if isinstance(space, str) else space
    config = config or PruneConfig()
    counter = as_counting(scorer)
    start_calls, start_distinct, start_trace = counter.calls, counter.n_distinct, len(counter.trace)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    try:
        net: Supernet = get_record(space.name).resolve("supernet")()
    except NotImplementedError:
        raise ValueError(f"pruning supports the spaces {list(space_names(has='supernet'))}, "
                         f"got {space.name!r}") from None
    rounds = []
    n_rounds = max(len(c) for c in net.candidates) - 1
    for r in tqdm(range(n_rounds), desc=f"prune {space.name}", disable=not progress):
        means, method, cost = _conditional_means(net, counter, config, rng)
        done = _prune_round(net, means)
        rounds.append({"round": r + 1, "method": method, "cells_scored": cost, "edges": done,
                       "remaining": [list(c) for c in net.candidates]})
    extra: dict[str, Any] = {"config": asdict(config), "rounds": rounds}
    arch, more = net.finish(counter, config, rng)
    extra.update(more)
    space.validate(arch)
    score = counter.score_one(arch)
    return SearchResult(
        algorithm="prune", space=space.name, scorer=counter.name, seed=seed, arch=arch,
        arch_str=space.format(arch), score=score, history=counter.trace[start_trace:],
        wall_time_s=time.perf_counter() - t0, n_calls=counter.calls - start_calls,
        n_distinct=counter.n_distinct - start_distinct, budget=None, extra=extra)

