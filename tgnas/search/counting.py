"""Counting scorers: what a search optimises, behind one counting, caching interface.

A *scorer* is any callable ``scorer(archs) -> np.ndarray``: a list of M architectures of one
space in, ``(M,)`` floats out, higher = better. Every search algorithm wraps it in a
:class:`CountingScorer`, which

* caches scores per architecture (DARTS genotypes by their canonical form, since the order
  of a node's two edges does not change the network), so that an architecture is scored
  once however often a search meets it;
* counts the calls to the underlying scorer and the distinct architectures scored — the
  *evaluation budget* of a search is the number of distinct architectures;
* enforces a hard limit (:meth:`CountingScorer.limit`): a request that would score more new
  architectures than allowed raises :class:`BudgetExceeded` instead of silently scoring
  them (algorithms check :attr:`CountingScorer.remaining` first; the limit guards bugs);
* records the best-so-far trace ``(distinct archs scored, best score)``.

The project's scorers (TG-NAS, TG-NAS+, FLOPs, synflow) are in :mod:`tgnas.search.scorers`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

#: ``scorer(archs) -> (M,) float array``; higher is better.
ScoreFn = Callable[[Sequence[Any]], np.ndarray]


class BudgetExceeded(RuntimeError):
    """A search asked to score more distinct architectures than its budget allows."""


def arch_key(arch: Any) -> Any:
    """Cache key of an architecture: DARTS genotypes by :meth:`Genotype.canonical`, others as is."""
    canonical = getattr(arch, "canonical", None)
    return canonical() if callable(canonical) else arch


class CountingScorer:
    """Wrap ``fn`` with a cache, call / distinct-arch counters and an optional hard limit.

    Args:
        fn: ``fn(archs) -> (M,)`` scores (higher = better); called only with archs not yet
            in the cache, at most once per :meth:`__call__`.
        name: shown in results (``"tgnas"``, ``"flops"``...).

    Attributes:
        calls: number of calls to ``fn`` so far.
        trace: ``[(n_distinct, best_so_far)]`` after each batch of new archs.
    """

    def __init__(self, fn: ScoreFn, name: str = "scorer") -> None:
        if not callable(fn):
            raise ValueError(f"a scorer must be callable archs -> scores, got {type(fn).__name__}")
        self.fn = fn
        self.name = name
        self.calls = 0
        self.seconds = 0.0
        self._cache: dict[Any, float] = {}
        self._archs: dict[Any, Any] = {}
        self._cap: int | None = None
        self._best_key: Any = None
        self.trace: list[tuple[int, float]] = []

    # ------------------------------------------------------------------ counters
    @property
    def n_distinct(self) -> int:
        """Distinct architectures scored so far (the evaluation count)."""
        return len(self._cache)

    @property
    def remaining(self) -> int | float:
        """How many more distinct archs may be scored under the current limit (``inf`` if none)."""
        return float("inf") if self._cap is None else max(self._cap - self.n_distinct, 0)

    @contextlib.contextmanager
    def limit(self, budget: int | None) -> Iterator[CountingScorer]:
        """Within the block, at most ``budget`` *new* distinct archs may be scored (``None``: no limit).

        Limits nest: the tighter one wins.
        """
        if budget is not None and (isinstance(budget, bool) or not isinstance(budget, (int, np.integer))
                                   or budget < 0):
            raise ValueError(f"budget must be a non-negative int or None, got {budget!r}")
        old = self._cap
        if budget is not None:
            cap = self.n_distinct + int(budget)
            self._cap = cap if old is None else min(old, cap)
        try:
            yield self
        finally:
            self._cap = old

    def is_cached(self, arch: Any) -> bool:
        return arch_key(arch) in self._cache

    def count_new(self, archs: Sequence[Any]) -> int:
        """How many distinct archs of ``archs`` are not yet in the cache."""
        return len({arch_key(a) for a in archs} - self._cache.keys())

    # ------------------------------------------------------------------ scoring
    def __call__(self, archs: Sequence[Any]) -> np.ndarray:
        """Scores of ``archs`` ``(M,)`` float64, from the cache where possible.

        Raises:
            BudgetExceeded: scoring the new archs would pass the current limit.
            ValueError: ``fn`` returned the wrong shape or non-finite values.
        """
        archs = list(archs)
        keys = [arch_key(a) for a in archs]
        new: dict[Any, Any] = {}
        for k, a in zip(keys, archs):
            if k not in self._cache and k not in new:
                new[k] = a
        if new:
            if self._cap is not None and self.n_distinct + len(new) > self._cap:
                raise BudgetExceeded(
                    f"scoring {len(new)} new architectures would exceed the budget: "
                    f"{self.n_distinct} scored, limit {self._cap}")
            start = time.perf_counter()
            scores = np.asarray(self.fn(list(new.values())), dtype=np.float64).reshape(-1)
            self.seconds += time.perf_counter() - start
            self.calls += 1
            if scores.shape != (len(new),):
                raise ValueError(f"scorer {self.name!r} returned {scores.shape[0]} scores for "
                                 f"{len(new)} architectures")
            if not np.all(np.isfinite(scores)):
                raise ValueError(f"scorer {self.name!r} returned non-finite scores: {scores}")
            for (k, a), s in zip(new.items(), scores):
                self._cache[k] = float(s)
                self._archs[k] = a
                if self._best_key is None or s > self._cache[self._best_key]:
                    self._best_key = k
            self.trace.append((self.n_distinct, self._cache[self._best_key]))
        return np.array([self._cache[k] for k in keys], dtype=np.float64)

    def score_one(self, arch: Any) -> float:
        return float(self([arch])[0])

    def best(self) -> tuple[Any, float]:
        """The best architecture scored so far and its score; ``ValueError`` if none."""
        if self._best_key is None:
            raise ValueError(f"scorer {self.name!r} has scored nothing yet")
        return self._archs[self._best_key], self._cache[self._best_key]


def score_within_budget(counter: CountingScorer, archs: Sequence[Any]) -> tuple[list[int], np.ndarray]:
    """Score ``archs`` in order, dropping those that would pass ``counter``'s limit.

    Cached archs (and repeats of an arch kept earlier in ``archs``) are always kept since
    they cost nothing; a new arch is kept while ``counter.remaining`` allows.

    Returns:
        ``(indices into archs of the kept ones, their (K,) scores)``, in input order.
    """
    room = counter.remaining
    kept: list[int] = []
    new: set[Any] = set()
    for n, a in enumerate(archs):
        k = arch_key(a)
        if counter.is_cached(a) or k in new:
            kept.append(n)
        elif len(new) < room:
            new.add(k)
            kept.append(n)
    return kept, (counter([archs[n] for n in kept]) if kept else np.zeros(0))


def as_counting(scorer: ScoreFn | CountingScorer, name: str | None = None) -> CountingScorer:
    """Return ``scorer`` if it already counts, else wrap it (named ``name`` or its ``name``)."""
    if isinstance(scorer, CountingScorer):
        return scorer
    return CountingScorer(scorer, name or getattr(scorer, "name", None) or getattr(scorer, "__name__", "scorer"))
