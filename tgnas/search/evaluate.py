"""Judging found architectures *after* a search (benchmark look-ups never drive a search).

* NB201: true test accuracy of found cells (:func:`nb201_accuracy`) and the space's optimum;
* DARTS: parameters of the CIFAR-10 evaluation network (:func:`darts_params`) and the
  NB301-surrogate accuracy of a genotype against random genotypes
  (:func:`surrogate_rank`, :func:`surrogate_ranks` for several).
* :func:`run_many` / :func:`run_seeded`: several algorithms x seeds with one scorer (or one
  per seed), as a table
  (:mod:`tgnas.experiments.search` summarises it over seeds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from tgnas.spaces.nb201.benchmark import NB201_DATASETS
from tgnas.search.records import SearchResult


def nb201_accuracy(archs: Sequence[Any]) -> pd.DataFrame:
    """True test accuracy (%) of NB201 cells (objects or arch strings).

    Returns:
        DataFrame, one row per arch in input order, columns ``arch``, ``nb201_index`` and
        :data:`NB201_DATASETS`.
    """
    from tgnas.spaces.nb201.benchmark import load_nb201

    table = load_nb201()
    index_of = {s: i for i, s in zip(table.index, table["arch"])}
    rows = []
    for a in archs:
        s = str(a)
        if s not in index_of:
            raise KeyError(f"{s!r} is not an NB201 arch string")
        i = index_of[s]
        rows.append({"arch": s, "nb201_index": int(i), **{d: float(table.at[i, d]) for d in NB201_DATASETS}})
    return pd.DataFrame(rows, columns=["arch", "nb201_index", *NB201_DATASETS])


def nb201_optimum() -> dict[str, float]:
    """Best test accuracy (%) in the space per dataset (94.37 / 73.51 / 47.31)."""
    from tgnas.spaces.nb201.benchmark import load_nb201

    table = load_nb201()
    return {d: float(table[d].max()) for d in NB201_DATASETS}


def nb201_percentile(accuracy: float, dataset: str = "cifar10") -> float:
    """Share (%) of the 15,625 NB201 cells with a test accuracy strictly below ``accuracy``."""
    from tgnas.spaces.nb201.benchmark import load_nb201

    col = load_nb201()[dataset].to_numpy()
    return float(100.0 * np.mean(col < accuracy))


def darts_params(genotype: Any, C: int = 36, layers: int = 20) -> int:
    """Parameters of the CIFAR-10 evaluation network (``NetworkCIFAR(36, 10, 20)``, no auxiliary head)."""
    from tgnas.nets import count_params
    from tgnas.spaces.darts.net import NetworkCIFAR

    return int(count_params(NetworkCIFAR(C, 10, layers, auxiliary=False, genotype=genotype)))


def _surrogate_and_randoms(n_random: int, seed: int):
    """The NB301 surrogate and its ``(n_random,)`` accuracies of uniformly sampled genotypes."""
    from tgnas.spaces.darts.benchmark import NB301Surrogate
    from tgnas.spaces.darts.arch import DartsSpace

    space = DartsSpace()
    rng = np.random.default_rng(seed)
    randoms = [space.sample(rng) for _ in range(n_random)]
    sur = NB301Surrogate()
    return sur, np.asarray(sur.predict(randoms), dtype=np.float64)


def _rank_row(acc: float, ref: np.ndarray) -> dict[str, Any]:
    """``acc`` against the random accuracies ``ref``: rank (1 = better than all), percentile, ..."""
    return {"accuracy": float(acc), "rank": int(1 + np.sum(ref > acc)),
            "percentile": float(100.0 * np.mean(ref < acc)), "random_mean": float(ref.mean()),
            "random_max": float(ref.max()), "n_random": len(ref)}


def surrogate_rank(genotype: Any, n_random: int = 1000, seed: int = 0) -> dict[str, Any]:
    """NB301-surrogate accuracy of ``genotype`` against ``n_random`` uniformly sampled genotypes.

    Returns:
        dict with ``accuracy`` (%, the surrogate's CIFAR-10 validation accuracy at epoch 98),
        ``random_accuracies`` (``(n_random,)``), ``rank`` (1 = better than every random
        genotype), ``percentile`` (share of random genotypes strictly below, %),
        ``random_mean`` / ``random_max``.
    """
    sur, ref = _surrogate_and_randoms(n_random, seed)
    return {**_rank_row(float(sur.predict([genotype])[0]), ref), "random_accuracies": ref}


def surrogate_ranks(genotypes: Sequence[Any], n_random: int = 1000, seed: int = 0) -> pd.DataFrame:
    """:func:`surrogate_rank` of several genotypes against one set of ``n_random`` random
    genotypes (the surrogate scores the random set once).

    Returns:
        DataFrame, one row per genotype: ``accuracy``, ``rank``, ``percentile``, ``random_mean``,
        ``random_max``, ``n_random`` (as :func:`surrogate_rank`).
    """
    genotypes = list(genotypes)
    if not genotypes:
        raise ValueError("surrogate_ranks needs at least one genotype")
    sur, ref = _surrogate_and_randoms(n_random, seed)
    return pd.DataFrame([_rank_row(a, ref) for a in np.asarray(sur.predict(genotypes), dtype=np.float64)])


def run_many(algorithms: Sequence[str], space: str, scorer, seeds: Sequence[int], budget: int,
             progress: bool = False, **options: Any) -> list[SearchResult]:
    """Run every algorithm for every seed, each run on a fresh cache (independent counts).

    ``scorer`` is a plain callable (not a :class:`CountingScorer`) so that no run benefits
    from another's cache.
    """
    return run_seeded(algorithms, space, lambda seed: scorer, seeds, budget, progress=progress, **options)


def run_seeded(algorithms: Sequence[str], space: str, scorer_of_seed: Callable[[int], Any], seeds: Sequence[int],
               budget: int, progress: bool = False, **options: Any) -> list[SearchResult]:
    """:func:`run_many` with a scorer made per seed (``scorer_of_seed(seed)``, a plain
    callable): a scorer with its own randomness (TG-NAS+'s lite networks) follows the
    search seed."""
    from tgnas.search.runner import run_search
    from tgnas.search.scorers import CountingScorer

    results = []
    for alg in algorithms:
        for seed in seeds:
            scorer = scorer_of_seed(seed)
            counter = CountingScorer(scorer, getattr(scorer, "name", "scorer"))
            results.append(run_search(alg, space, counter, budget=budget, seed=seed, progress=progress,
                                      **options))
    return results


def results_frame(results: Sequence[SearchResult]) -> pd.DataFrame:
    """One row per result (:meth:`SearchResult.to_dict`); results of one space whose benchmark
    has every cell's accuracy (NB201) get their true accuracies, one column per dataset."""
    from tgnas.spaces.registry import get_record

    df = pd.DataFrame([r.to_dict() for r in results])
    spaces = set(df["space"]) if len(df) else set()
    record = get_record(spaces.pop()) if len(spaces) == 1 else None
    if record is not None and record.accuracy is not None:
        acc = record.resolve("accuracy")(df["arch_str"].tolist())
        for d in record.datasets:
            df[d] = acc[d].to_numpy()
    return df


def nb201_top_threshold(top_pct: float = 1.0, dataset: str = "cifar10") -> float:
    """The test accuracy (%) that the best ``top_pct`` % of NB201 cells reach (93.78 for 1 %, CIFAR-10).

    It is the accuracy of the ``ceil(N * top_pct / 100)``-th best of the N = 15,625 cells.
    """
    from tgnas.spaces.nb201.benchmark import load_nb201

    if not 0 < top_pct <= 100:
        raise ValueError(f"top_pct must be in (0, 100], got {top_pct!r}")
    col = np.sort(load_nb201()[dataset].to_numpy())[::-1]
    return float(col[int(np.ceil(len(col) * top_pct / 100.0)) - 1])
