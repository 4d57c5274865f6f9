"""One entry point for every search algorithm: ``run_search("prune", space, scorer, ...)`` (``space`` a space object)."""

from __future__ import annotations

from typing import Any

from tgnas.search.cascade import cascade
from tgnas.search.evolution import AgingConfig, EvolutionConfig, aging_evolution, continuous_evolution
from tgnas.search.hybrid import hybrid
from tgnas.search.pruning import PruneConfig, prune
from tgnas.search.random_search import random_search
from tgnas.search.records import SearchResult
from tgnas.search.counting import CountingScorer, ScoreFn

#: Algorithm names: supernet pruning, the paper's continuous-encoding evolution, aging
#: (regularised) evolution, the pruning + evolution hybrid, random search, and the cascade
#: (a cheap ``prescorer`` ranks a pool, the scorer re-ranks its top ``budget``).
ALGORITHMS: tuple[str, ...] = ("prune", "evolve", "aging", "hybrid", "random", "cascade")


def run_search(algorithm: str, space, scorer: ScoreFn | CountingScorer, budget: int = 200, seed: int = 0,
               progress: bool = True, prune_config: PruneConfig | None = None,
               evolution_config: EvolutionConfig | None = None, aging_config: AgingConfig | None = None,
               **options: Any) -> SearchResult:
    """Run ``algorithm`` on ``space`` with ``scorer``.

    Args:
        algorithm: one of :data:`ALGORITHMS`.
        budget: distinct cells for ``evolve`` / ``aging`` / ``random`` / ``cascade`` (its
            expensive stage) and for the hybrid's evolution; ignored by ``prune`` (its cost
            follows from ``prune_config``).
        options: passed on (e.g. ``evolution="aging"`` for the hybrid; ``prescorer=`` and
            ``pool=`` for the cascade).

    Raises:
        KeyError: unknown ``algorithm``.
        ValueError: ``cascade`` without a ``prescorer``.
    """
    if algorithm == "prune":
        return prune(space, scorer, seed=seed, config=prune_config, progress=progress, **options)
    if algorithm == "evolve":
        return continuous_evolution(space, scorer, budget, seed=seed, config=evolution_config,
                                    progress=progress, **options)
    if algorithm == "aging":
        return aging_evolution(space, scorer, budget, seed=seed, config=aging_config, progress=progress,
                               **options)
    if algorithm == "hybrid":
        evo = options.pop("evolution", "evolve")
        return hybrid(space, scorer, budget, seed=seed, prune_config=prune_config, evolution=evo,
                      evolution_config=aging_config if evo == "aging" else evolution_config,
                      progress=progress, **options)
    if algorithm == "random":
        return random_search(space, scorer, budget, seed=seed, progress=progress, **options)
    if algorithm == "cascade":
        if options.get("prescorer") is None:
            raise ValueError("algorithm 'cascade' needs a cheap prescorer (prescorer=...), e.g. the predictor")
        return cascade(space, scorer, budget, seed=seed, progress=progress, **options)
    raise KeyError(f"unknown search algorithm {algorithm!r}; expected one of {list(ALGORITHMS)}")
