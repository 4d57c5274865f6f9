"""Random search: score uniformly drawn cells until the budget of distinct cells is spent."""

from __future__ import annotations

import numpy as np

from tgnas.search.evolution import _check_budget, _Run, _space
from tgnas.search.records import SearchResult
from tgnas.search.counting import CountingScorer, ScoreFn, as_counting, score_within_budget
from tgnas.spaces.base import Space


#: Stop after this many times as many fruitless draws as distinct cells seen (see random_search).
EXHAUSTED_AFTER = 10


def random_search(space: Space, scorer: ScoreFn | CountingScorer, budget: int, seed: int = 0,
                  batch_size: int = 256, progress: bool = True) -> SearchResult:
    """Draw cells with :meth:`Space.sample` and keep the best by ``scorer``.

    Cells are drawn and scored in batches of ``batch_size`` (one scorer call each) until
    ``budget`` distinct cells have been scored; repeats are free and do not count. The
    budget is capped at the space's size when the space states it (``space.n_archs``);
    in any case the search stops once :data:`EXHAUSTED_AFTER` times as many draws as there
    are distinct cells scored have brought no new cell (the space is then all but surely
    exhausted: a cell left unseen among N survives 10 N draws with probability e^-10), and
    after ``100 * budget`` draws.

    Returns:
        :class:`SearchResult`; ``extra["draws"]`` is the number of cells drawn.
    """
    space, budget = _space(space), _check_budget(budget)
    if space.n_archs is not None:
        budget = min(budget, int(space.n_archs))
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
    counter = as_counting(scorer)
    rng = np.random.default_rng(seed)
    run = _Run(counter, budget, f"random {space.name}", progress)
    draws, fruitless = 0, 0
    with counter.limit(budget):
        while counter.remaining > 0 and draws < 100 * budget:
            n = int(min(batch_size, counter.remaining))
            archs = [space.sample(rng) for _ in range(n)]
            draws += n
            before = counter.n_distinct
            kept, scores = score_within_budget(counter, archs)
            run.seen([archs[i] for i in kept], scores)
            fruitless = 0 if counter.n_distinct > before else fruitless + n
            if fruitless >= max(EXHAUSTED_AFTER * counter.n_distinct, 1000):
                break
    return run.result("random", space, seed, {"draws": draws})
