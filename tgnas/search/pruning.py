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

A space may end with more than op rounds (the DARTS space selects two input edges per
node): its supernet's :meth:`Supernet.finish` does that.
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
from tgnas.search.counting import CountingScorer, ScoreFn, as_counting
from tgnas.spaces.base import Space


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


def prune(space: Space, scorer: ScoreFn | CountingScorer, seed: int = 0,
          config: PruneConfig | None = None, progress: bool = True) -> SearchResult:
    """Prune the supernet of ``space`` with ``scorer`` (see the module docstring).

    Args:
        space: the space (one that provides ``supernet``).
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
    config = config or PruneConfig()
    counter = as_counting(scorer)
    start_calls, start_distinct, start_trace = counter.calls, counter.n_distinct, len(counter.trace)
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    if not space.provides("supernet"):
        raise ValueError(f"pruning needs a space with a supernet; {space.name!r} has none")
    net: Supernet = space.supernet()
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

