"""Architecture search driven by a scorer (the TG-NAS predictor, FLOPs, synflow, ...).

* :func:`prune` — supernet pruning on the expected score of the remaining cells
  (:mod:`tgnas.search.pruning`);
* :func:`continuous_evolution` (the paper's encoding) and :func:`aging_evolution`
  (:mod:`tgnas.search.evolution`);
* :func:`hybrid` — both, the better by score; :func:`random_search` — the baseline;
* :func:`cascade` — a cheap prescorer ranks a pool, the scorer re-ranks its top ``budget``;
* :func:`run_search` — any of them by name; :class:`SearchResult` — what each returns;
* scorers: :class:`CountingScorer`, :func:`predictor_scorer`, :func:`flops_scorer`,
  :func:`plus_scorer` (TG-NAS+), :func:`synflow_scorer`, :func:`make_scorer`.
"""

from tgnas.search.cascade import cascade
from tgnas.search.encoding import ContinuousEncoding
from tgnas.search.evolution import AgingConfig, EvolutionConfig, aging_evolution, continuous_evolution
from tgnas.search.hybrid import hybrid
from tgnas.search.pruning import PruneConfig, prune
from tgnas.search.random_search import random_search
from tgnas.search.records import SearchResult
from tgnas.search.runner import ALGORITHMS, run_search
from tgnas.search.scorers import (SCORER_NAMES, BudgetExceeded, CountingScorer, as_counting, flops_scorer,
                                  make_scorer, plus_scorer, predictor_scorer, synflow_scorer)

__all__ = [
    "ALGORITHMS", "SCORER_NAMES", "AgingConfig", "BudgetExceeded", "ContinuousEncoding", "CountingScorer",
    "EvolutionConfig", "PruneConfig", "SearchResult", "aging_evolution", "as_counting", "cascade",
    "continuous_evolution", "flops_scorer", "hybrid", "make_scorer", "plus_scorer", "predictor_scorer", "prune",
    "random_search", "run_search", "synflow_scorer",
]
