"""The paper's hybrid (Algorithm 1): run pruning and evolution, return the better by score."""

from __future__ import annotations

import time

from tgnas.search.evolution import (AgingConfig, EvolutionConfig, _check_budget, _space, aging_evolution,
                                    continuous_evolution)
from tgnas.search.pruning import PruneConfig, prune
from tgnas.search.records import SearchResult
from tgnas.search.counting import CountingScorer, ScoreFn, as_counting

#: Evolution variants the hybrid can run.
EVOLUTIONS: tuple[str, ...] = ("evolve", "aging")


def hybrid(space, scorer: ScoreFn | CountingScorer, budget: int, seed: int = 0,
           prune_config: PruneConfig | None = None, evolution: str = "evolve",
           evolution_config: EvolutionConfig | AgingConfig | None = None,
           progress: bool = True) -> SearchResult:
    """Pruning (its own cost) and evolution (``budget`` distinct cells) with one shared scorer.

    Both parts score through the same :class:`CountingScorer`, so a cell met by both is
    scored once. The result is the part whose found cell scores higher (pruning wins ties);
    its ``n_distinct`` / ``n_calls`` / ``wall_time_s`` cover both parts, ``budget`` is the
    evolution's, and ``extra`` holds both sub-results (``"prune"``, ``"evolution"``) and
    which one won (``"winner"``).

    Args:
        evolution: ``"evolve"`` (the paper's continuous-encoding GA) or ``"aging"``.
    """
    space, budget = _space(space), _check_budget(budget)
    if evolution not in EVOLUTIONS:
        raise KeyError(f"unknown evolution {evolution!r}; expected one of {list(EVOLUTIONS)}")
    counter = as_counting(scorer)
    calls0, distinct0, trace0 = counter.calls, counter.n_distinct, len(counter.trace)
    t0 = time.perf_counter()
    pruned = prune(space, counter, seed=seed, config=prune_config, progress=progress)
    if evolution == "evolve":
        evolved = continuous_evolution(space, counter, budget, seed=seed, config=evolution_config,
                                       progress=progress)
    else:
        evolved = aging_evolution(space, counter, budget, seed=seed, config=evolution_config,
                                  progress=progress)
    best = pruned if pruned.score >= evolved.score else evolved
    return SearchResult(
        algorithm="hybrid", space=space.name, scorer=counter.name, seed=seed, arch=best.arch,
        arch_str=best.arch_str, score=best.score, history=counter.trace[trace0:],
        wall_time_s=time.perf_counter() - t0, n_calls=counter.calls - calls0,
        n_distinct=counter.n_distinct - distinct0, budget=budget,
        extra={"winner": best.algorithm, "prune": pruned.to_dict(), "evolution": evolved.to_dict()})
