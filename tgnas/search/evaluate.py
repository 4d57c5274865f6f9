"""Judging found architectures *after* a search (benchmark look-ups never drive a search).

* :func:`results_frame`: the results as a table, with the benchmark accuracy of each found
  architecture where the space has one (the look-ups live in each space's folder, e.g.
  ``tgnas/spaces/nb201/benchmark.py`` and ``tgnas/spaces/darts/benchmark.py``);
* :func:`run_many` / :func:`run_seeded`: several algorithms x seeds with one scorer (or one
  per seed), as a table
  (:mod:`tgnas.experiments.search` summarises it over seeds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import pandas as pd

from tgnas.search.records import SearchResult
from tgnas.search.runner import run_search
from tgnas.search.counting import CountingScorer
from tgnas.search.parallel import run_jobs
from tgnas.spaces.base import Space


def run_many(algorithms: Sequence[str], space: Space, scorer, seeds: Sequence[int], budget: int,
             progress: bool = False, workers: int = 1, **options: Any) -> list[SearchResult]:
    """Run every algorithm for every seed, each run on a fresh cache (independent counts).

    ``scorer`` is a plain callable (not a :class:`CountingScorer`) so that no run benefits
    from another's cache. ``workers``: searches at once (:func:`tgnas.search.parallel.run_jobs`;
    the same results in the same order for any value).
    """
    return run_seeded(algorithms, space, lambda seed: scorer, seeds, budget, progress=progress, workers=workers,
                      **options)


def seeded_jobs(algorithms: Sequence[str], space: Space, scorer_of_seed: Callable[[int], Any], seeds: Sequence[int],
                budget: int, progress: bool = False, **options: Any) -> list[Callable[[], SearchResult]]:
    """One argument-free job per algorithm and seed (algorithm-major), each making its own
    scorer (``scorer_of_seed(seed)``) and :class:`CountingScorer` when it runs."""
    def job(alg: str, seed: int) -> Callable[[], SearchResult]:
        def run() -> SearchResult:
            scorer = scorer_of_seed(seed)
            counter = CountingScorer(scorer, getattr(scorer, "name", "scorer"))
            return run_search(alg, space, counter, budget=budget, seed=seed, progress=progress, **options)
        return run

    return [job(alg, seed) for alg in algorithms for seed in seeds]


def run_seeded(algorithms: Sequence[str], space: Space, scorer_of_seed: Callable[[int], Any], seeds: Sequence[int],
               budget: int, progress: bool = False, workers: int = 1, **options: Any) -> list[SearchResult]:
    """:func:`run_many` with a scorer made per seed (``scorer_of_seed(seed)``, a plain
    callable): a scorer with its own randomness (TG-NAS+'s lite networks) follows the
    search seed."""
    jobs = seeded_jobs(algorithms, space, scorer_of_seed, seeds, budget, progress=progress and workers == 1,
                       **options)
    return run_jobs(jobs, workers, progress=progress and workers > 1)


def results_frame(results: Sequence[SearchResult], space: Space | None = None) -> pd.DataFrame:
    """One row per result (:meth:`SearchResult.to_dict`); with the results' ``space``, when it
    has every cell's benchmark accuracy (NB201), their true accuracies, one column per dataset."""
    df = pd.DataFrame([r.to_dict() for r in results])
    if space is not None and len(df):
        names = set(df["space"])
        if names != {space.name}:
            raise ValueError(f"results of spaces {sorted(names)} judged as {space.name!r}")
        if space.provides("accuracy"):
            acc = space.accuracy(df["arch_str"].tolist())
            for d in space.datasets:
                df[d] = acc[d].to_numpy()
    return df


