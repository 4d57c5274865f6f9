"""Random search: score uniformly drawn cells until the budget of distinct cells is spent."""

from __future__ import annotations

import numpy as np

from tgnas.search.evolution import _check_budget, _Run, _space
from tgnas.search.records import SearchResult
from tgnas.search.scorers import CountingScorer, ScoreFn, as_counting, score_within_budget
from tgnas.spaces.base import SearchSpace


def random_search(space: SearchSpace | str, scorer: ScoreFn | CountingScorer, budget: int, seed: int = 0,
                  batch_size: int = 256, progress: bool = True) -> SearchResult:
    """Draw cells with :meth:`SearchSpace.sample` and keep the best by ``scorer``.

    Cells are drawn and scored in batches of ``batch_size`` (one scorer call each) until
    ``budget`` distinct cells have been scored; repeats are free and do not count. Stops
    after ``100 * budget`` draws in any case (a space smaller than the budget).

    Returns:
        :class:`SearchResult`; ``extra["draws"]`` is the number of cells drawn.
    """
    space, budget = _space(space), _check_budget(budget)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    counter = as_counting(scorer)
    rng = np.random.default_rng(seed)
    run = _Run(counter, budget, f"random {space.name}", progress)
    draws = 0
    with counter.limit(budget):
        while counter.remaining > 0 and draws < 100 * budget:
            n = int(min(batch_size, counter.remaining))
            archs = [space.sample(rng) for _ in range(n)]
            draws += n
            kept, scores = score_within_budget(counter, archs)
            run.seen([archs[i] for i in kept], scores)
    return run.result("random", space, seed, {"draws": draws})
