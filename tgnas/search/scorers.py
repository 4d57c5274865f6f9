"""Scorers: what a search optimises, behind one counting, caching interface.

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

Adapters turn the project's scorers into this interface: :func:`predictor_scorer` (TG-NAS),
:func:`plus_scorer` (TG-NAS+), :func:`flops_scorer`, :func:`synflow_scorer`; :func:`make_scorer`
picks one by name.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tgnas.spaces.base import SearchSpace
from tgnas.spaces.registry import get_record

#: ``scorer(archs) -> (M,) float array``; higher is better.
ScoreFn = Callable[[Sequence[Any]], np.ndarray]

#: Names accepted by :func:`make_scorer`.
SCORER_NAMES: tuple[str, ...] = ("tgnas", "tgnas+", "flops", "synflow")
#: Scorers that need a predictor checkpoint.
PREDICTOR_SCORERS: tuple[str, ...] = ("tgnas", "tgnas+")


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


# ---------------------------------------------------------------------------- adapters

def predictor_scorer(predictor: Any, space: SearchSpace | str) -> ScoreFn:
    """TG-NAS: ``predictor.score(archs, space=name)`` (a :class:`tgnas.predictor.Predictor`)."""
    name = _space_name(space)

    def score(archs: Sequence[Any]) -> np.ndarray:
        return np.asarray(predictor.score(list(archs), space=name), dtype=np.float64)

    score.name = "tgnas"  # type: ignore[attr-defined]
    return score


def plus_scorer(rule: Any, predictor: Any, space: SearchSpace | str, seed: int = 0,
                reference: str | None = None) -> ScoreFn:
    """TG-NAS+: ``rule.score(plus_signals(predictor, archs, space, signals=rule.signals, seed=seed), reference)``.

    Args:
        rule: a :class:`tgnas.ensemble.PlusRule` made for ``predictor`` (see
            :func:`tgnas.scoring.load_rule`, which checks that).
        seed: seed of the lite networks' initialisation and minibatch.
        reference: the rule's reference population that normalises the signals (a key of
            ``rule.references``); ``None``: the space's own name. A rule without the space's
            own reference needs one named explicitly (DARTS cells with the pipeline rule:
            ``"nb301"``, its 500 DARTS cells computed with the same lite settings).

    Raises:
        KeyError: the rule has no such reference.

    The lite networks cost about 0.02 s (NB201) to 0.1 s (DARTS) per cell on one CPU thread.
    """
    from tgnas.scoring import plus_signals

    name = _space_name(space)
    ref = name if reference is None else reference
    if ref not in rule.references:
        raise KeyError(f"the TG-NAS+ rule has no reference population {ref!r} for space {name!r}; it has "
                       f"{sorted(rule.references)} (name one with reference=...)")

    def score(archs: Sequence[Any]) -> np.ndarray:
        table = plus_signals(predictor, list(archs), name, signals=rule.signals, seed=seed)
        return np.asarray(rule.score(table, ref), dtype=np.float64)

    score.name = "tgnas+"  # type: ignore[attr-defined]
    return score


def flops_scorer(space: SearchSpace | str) -> ScoreFn:
    """FLOPs of the architecture's network (higher = better, the usual FLOPs baseline).

    Spaces whose record has an exact FLOPs model use it (NB201: the additive cost model of
    :func:`tgnas.proxies.nb201_cost_model`, CIFAR-10 network, C=16, N=5, microseconds per
    cell); the others count :func:`tgnas.proxies.compute_proxy` ``"flops"`` on the space's
    proxy network (DARTS: C=16, 8 cells, ~0.1 s per cell).
    """
    name = _space_name(space)
    record = get_record(name)
    if record.flops_model is not None:
        model = record.resolve("flops_model")()

        def score(archs: Sequence[Any]) -> np.ndarray:
            return np.array([model.flops_of(a) / 1e6 for a in archs], dtype=np.float64)
    else:
        score = _proxy_fn("flops", name)
    score.name = "flops"  # type: ignore[attr-defined]
    return score


def synflow_scorer(space: SearchSpace | str, seed: int = 0) -> ScoreFn:
    """``log10(1 + synflow)`` (:func:`tgnas.proxies.compute_proxy`, data-free) of each cell's network.

    Synflow spans tens of orders of magnitude (1e17 to 1e43 on NB201), so a mean of raw
    values — what pruning's expected score takes — would be the largest value alone; the
    logarithm keeps the ranking and makes averages meaningful. Built per architecture
    (about 0.1-0.5 s each on one CPU thread), so use it with small budgets. The weight
    initialisation is seeded with ``seed``, so a cell always gets the same score.
    """
    raw = _proxy_fn("synflow", _space_name(space), seed)

    def score(archs: Sequence[Any]) -> np.ndarray:
        return np.log10(1.0 + np.maximum(raw(archs), 0.0))

    score.name = "synflow"  # type: ignore[attr-defined]
    return score


def _proxy_fn(proxy: str, space: str, seed: int = 0) -> ScoreFn:
    from tgnas.proxies import compute_proxy

    def score(archs: Sequence[Any]) -> np.ndarray:
        return np.array([compute_proxy(proxy, a, space=space, seed=seed)[0] for a in archs],
                        dtype=np.float64)
    return score


def _space_name(space: SearchSpace | str) -> str:
    return get_record(space if isinstance(space, str) else getattr(space, "name", None)).name


def _output_path(path: Path | str) -> Path:
    from tgnas import paths

    path = Path(path)
    return path if path.is_absolute() else paths.OUTPUT_ROOT / path


def make_scorer(name: str, space: SearchSpace | str, checkpoint: Path | str | None = None,
                device: str = "cpu", rule: Path | str | None = None, seed: int = 0,
                reference: str | None = None) -> ScoreFn:
    """A scorer by name: ``"tgnas"`` (needs ``checkpoint``), ``"tgnas+"`` (needs ``checkpoint``
    and its ``rule``; ``seed`` = lite seed, ``reference`` as in :func:`plus_scorer`),
    ``"flops"`` or ``"synflow"`` (``seed`` = weight initialisation). Relative paths are
    below ``tgnas.paths.OUTPUT_ROOT``.

    Raises:
        KeyError: unknown ``name``, or a rule without the ``reference`` population.
        ValueError: a predictor scorer without a checkpoint, ``"tgnas+"`` without a rule, or a
            rule made for another checkpoint.
        FileNotFoundError: the checkpoint or rule does not exist.
    """
    if name not in SCORER_NAMES:
        raise KeyError(f"unknown scorer {name!r}; expected one of {list(SCORER_NAMES)}")
    if name in PREDICTOR_SCORERS:
        if checkpoint is None or str(checkpoint) == "":
            raise ValueError(f"scorer {name!r} needs a predictor checkpoint (e.g. models/tgnas_nb101.pt)")
        path = _output_path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"predictor checkpoint {path} does not exist; train one with "
                                    f"notebooks/02_train_predictor.ipynb (dvc repro) or `tgnas train`")
        if name == "tgnas+" and (rule is None or str(rule) == ""):
            raise ValueError("scorer 'tgnas+' needs the TG-NAS+ rule of its checkpoint (e.g. "
                             "models/tgnas_plus_rule.json, written by notebooks/06_tgnas_plus.ipynb)")
        from tgnas.scoring import load_predictor, load_rule  # heavy imports, only when needed

        predictor = load_predictor(path, device=device)
        if name == "tgnas":
            return predictor_scorer(predictor, space)
        return plus_scorer(load_rule(_output_path(rule), path), predictor, space, seed=seed, reference=reference)
    if name == "flops":
        return flops_scorer(space)
    return synflow_scorer(space, seed=seed)
