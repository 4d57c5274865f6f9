"""Cascade search: a cheap scorer ranks a large pool, an expensive one re-ranks its shortlist.

Stage 1 (``prescorer``, e.g. the TG-NAS predictor at microseconds per cell) scores a pool:
every cell of the space when its record is ``enumerable`` (NB201: all 15,625), else
``pool`` seeded uniform samples (DARTS). Stage 2 (``scorer``, e.g. TG-NAS+ at tens of
milliseconds per cell) scores the prescorer's top ``budget`` distinct cells; the best by the
expensive scorer wins. The budget counts only expensive evaluations, like every other
algorithm's budget; the prescore's cost is reported in ``extra`` and is part of the wall time.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from tgnas.search.evolution import _check_budget, _Run, _space
from tgnas.search.records import SearchResult
from tgnas.search.counting import CountingScorer, ScoreFn, arch_key, as_counting
from tgnas.spaces.base import Space

#: Pool size of a non-enumerable space when none is given.
DEFAULT_POOL = 10_000
#: Largest sampled pool: a DARTS cell and its graph take about 4 KB while the pool is
#: prescored (3.8 KB measured with tracemalloc on 10,000 cells), so 10**6 cells are ~4 GB and
#: minutes of sampling; a larger pool is refused before anything is drawn.
MAX_POOL = 1_000_000


def cascade_pool(space: Space, pool: int | None = DEFAULT_POOL, seed: int = 0) -> tuple[list[Any], bool]:
    """Stage 1's candidates: ``(archs, enumerated)``.

    Every cell (from the space's ``cell_ids`` ``arch`` texts) when the space is
    ``enumerable`` and ``pool`` is ``None``; else ``pool`` cells drawn with
    :meth:`Space.sample` from ``default_rng(seed)`` (repeats kept: they are dropped
    when ranking).

    Raises:
        ValueError: ``pool`` is not a positive int, exceeds :data:`MAX_POOL`, or is ``None`` for a
            space that cannot be enumerated.
    """
    if pool is None:
        if not space.enumerable or not space.provides("cell_ids"):
            raise ValueError(f"space {space.name!r} cannot be enumerated; give pool=<number of sampled cells>")
        ids = space.cell_ids()
        if "arch" not in ids.columns:
            raise ValueError(f"space {space.name!r}: cell_ids() has no 'arch' column to enumerate; give pool=")
        return [space.parse(t) for t in ids["arch"]], True
    if isinstance(pool, bool) or not isinstance(pool, (int, np.integer)) or pool < 1:
        raise ValueError(f"pool must be a positive int (sampled cells) or None (every cell), got {pool!r}")
    if pool > MAX_POOL:
        raise ValueError(f"pool of {int(pool):,} sampled cells cannot be held in memory (about 4 KB each); "
                         f"at most {MAX_POOL:,}")
    rng = np.random.default_rng(seed)
    return [space.sample(rng) for _ in range(int(pool))], False


def cascade(space: Space, scorer: ScoreFn | CountingScorer, budget: int,
            prescorer: ScoreFn, seed: int = 0, pool: int | None | str = "auto",
            progress: bool = True) -> SearchResult:
    """Pre-score a pool with ``prescorer``, score its top ``budget`` distinct cells with ``scorer``.

    Args:
        scorer: the expensive scorer ``(archs) -> (M,)``; counted against ``budget``.
        budget: distinct cells the expensive scorer scores (``K``, the shortlist length).
        prescorer: the cheap scorer ``(archs) -> (M,)`` (never counted; plain callable).
        seed: seeds the pool sample of a non-enumerable space (an enumerated pool needs none).
        pool: ``"auto"``: every cell of an enumerable space, else :data:`DEFAULT_POOL`
            samples; ``None``: every cell; an int: that many samples.

    Returns:
        :class:`SearchResult` (``algorithm="cascade"``); ``extra``: ``pool`` (cells drawn or
        enumerated), ``pool_distinct``, ``enumerated``, ``prescorer`` (name),
        ``prescore_seconds`` (pool drawing + stage 1), ``winner_prescore_rank`` (1 = the
        prescorer's best) and ``winner_prescore``.
    """
    space, budget = _space(space), _check_budget(budget)
    if not callable(prescorer) or isinstance(prescorer, CountingScorer):
        raise ValueError("prescorer must be a plain callable archs -> scores (its cost is not counted), "
                         f"got {type(prescorer).__name__}")
    counter = as_counting(scorer)
    run = _Run(counter, budget, f"cascade {space.name}", progress)
    t0 = time.perf_counter()
    if pool == "auto":
        pool = None if space.enumerable else DEFAULT_POOL
    archs, enumerated = cascade_pool(space, pool, seed)
    # distinct cells in pool order (a sampled pool repeats some), then a stable ranking, so
    # ties keep the pool's order and a run is reproducible
    first: dict[Any, int] = {}
    for n, a in enumerate(archs):
        first.setdefault(arch_key(a), n)
    distinct = [archs[n] for n in first.values()]
    pre = np.asarray(prescorer(distinct), dtype=np.float64).reshape(-1)
    if pre.shape != (len(distinct),) or not np.all(np.isfinite(pre)):
        raise ValueError(f"prescorer returned {pre.shape} scores (finite: {bool(np.all(np.isfinite(pre)))}) "
                         f"for {len(distinct)} architectures")
    order = np.argsort(-pre, kind="stable")
    prescore_seconds = time.perf_counter() - t0
    short = order[:budget]
    with counter.limit(budget):
        scores = counter([distinct[i] for i in short])
    run.seen([distinct[i] for i in short], scores)
    best = int(np.argmax(scores))  # first of equal scores = the prescorer's better one
    extra = {"pool": len(archs), "pool_distinct": len(distinct), "enumerated": enumerated,
             "prescorer": getattr(prescorer, "name", "prescorer"), "prescore_seconds": prescore_seconds,
             "winner_prescore_rank": best + 1, "winner_prescore": float(pre[short[best]])}
    return run.result("cascade", space, seed, extra)
