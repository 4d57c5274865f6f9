"""Architecture search driven by a scorer (the TG-NAS predictor, FLOPs, synflow, ...).

This package module imports nothing (a space folder imports the search building blocks it
subclasses without pulling in the scorers); import from the modules:

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
