"""Evolutionary search with a fixed evaluation budget (distinct architectures scored).

* :func:`continuous_evolution` — the paper's Algorithm 1 (b), which upstream never
  implemented: a population of vectors in [0, 1]^d (:mod:`tgnas.search.encoding`), parents
  picked by tournament, uniform crossover, Gaussian mutation (reflected into [0, 1]),
  discretisation to cells, scorer fitness, and (μ + λ) survivor selection (the best
  ``population`` of parents and children survive).
* :func:`aging_evolution` — regularised evolution (Real et al., 2019): a queue of
  ``population`` cells; each cycle samples ``sample`` members, mutates the best
  (:meth:`Space.mutate`), appends the child and removes the oldest member.

Both stop when ``budget`` distinct architectures have been scored (re-visiting a scored
cell is free, through the :class:`~tgnas.search.scorers.CountingScorer` cache) and never
exceed it: the scorer is held to the budget by :meth:`CountingScorer.limit`. A generation
/ cycle cap guards against a search that keeps revisiting cells (tiny spaces).
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from tgnas.search.records import SearchResult
from tgnas.search.counting import CountingScorer, ScoreFn, as_counting, score_within_budget
from tgnas.spaces.base import Space


def _check_budget(budget: int) -> int:
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise ValueError(f"budget must be a positive int (distinct architectures to score), got {budget!r}")
    return int(budget)


def _space(space: Space) -> Space:
    """``space`` itself: search takes the space object, never its name."""
    if isinstance(space, str):
        raise TypeError(f"search takes a space object, not its name {space!r}: "
                        f"tgnas.spaces.catalog.get_space({space!r})")
    return space


class _Run:
    """Shared bookkeeping of a budgeted run: counters at start, best of this run, progress."""

    def __init__(self, counter: CountingScorer, budget: int, desc: str, progress: bool) -> None:
        self.counter = counter
        self.budget = budget
        self.calls0, self.distinct0, self.trace0 = counter.calls, counter.n_distinct, len(counter.trace)
        self.t0 = time.perf_counter()
        self.best: tuple[Any, float] | None = None
        self.bar = tqdm(total=budget, desc=desc, disable=not progress)

    def seen(self, archs: list[Any], scores: np.ndarray) -> None:
        for a, s in zip(archs, scores):
            if self.best is None or s > self.best[1]:
                self.best = (a, float(s))
        self.bar.update(self.counter.n_distinct - self.distinct0 - self.bar.n)

    def result(self, algorithm: str, space: Space, seed: int, extra: dict[str, Any]) -> SearchResult:
        self.bar.close()
        if self.best is None:
            raise RuntimeError(f"{algorithm} scored no architecture")
        arch, score = self.best
        space.validate(arch)
        n_distinct = self.counter.n_distinct - self.distinct0
        if n_distinct > self.budget:  # cannot happen while the limit holds; a loud guard
            raise RuntimeError(f"{algorithm} scored {n_distinct} architectures, budget {self.budget}")
        return SearchResult(
            algorithm=algorithm, space=space.name, scorer=self.counter.name, seed=seed, arch=arch,
            arch_str=space.format(arch), score=score, history=self.counter.trace[self.trace0:],
            wall_time_s=time.perf_counter() - self.t0, n_calls=self.counter.calls - self.calls0,
            n_distinct=n_distinct, budget=self.budget, extra=extra)


# ------------------------------------------------------------------ continuous (paper)

@dataclass(frozen=True)
class EvolutionConfig:
    """Settings of :func:`continuous_evolution`.

    Attributes:
        population: parents kept per generation (μ) and children bred per generation (λ).
        tournament: members drawn (with replacement) per parent selection; the best wins.
        crossover_prob: probability that a child has two parents (uniform crossover, each
            gene from either parent with probability 1/2); otherwise it copies one parent.
        sigma: standard deviation of the Gaussian noise added to a perturbed gene (a bin is
            1/n wide for a choice among n options).
        mutate_genes: expected number of genes perturbed per child (each gene with
            probability ``mutate_genes / dim``; at least one). Noise on every gene at once
            turns the search into random sampling on DARTS' 24 genes (checked on additive
            toy scorers, not on benchmark labels).
        max_generations: cap on generations (guards a search that only revisits cells);
            ``None``: ``10 * budget``.
    """

    population: int = 20
    tournament: int = 3
    crossover_prob: float = 0.5
    sigma: float = 0.2
    mutate_genes: float = 1.0
    max_generations: int | None = None

    def __post_init__(self) -> None:
        if self.population < 2 or self.tournament < 1:
            raise ValueError(f"need population >= 2 and tournament >= 1, got {self.population}, {self.tournament}")
        if not 0 <= self.crossover_prob <= 1 or self.sigma <= 0 or self.mutate_genes <= 0:
            raise ValueError(f"need 0 <= crossover_prob <= 1, sigma > 0 and mutate_genes > 0, got "
                             f"{self.crossover_prob}, {self.sigma}, {self.mutate_genes}")


def _reflect(x: np.ndarray) -> np.ndarray:
    """Fold values back into [0, 1] (reflection keeps the noise symmetric at the borders)."""
    x = np.mod(x, 2.0)
    return np.where(x > 1.0, 2.0 - x, x)


def continuous_evolution(space: Space, scorer: ScoreFn | CountingScorer, budget: int,
                         seed: int = 0, config: EvolutionConfig | None = None,
                         progress: bool = True) -> SearchResult:
    """The paper's evolutionary search on the continuous encoding (see the module docstring).

    Args:
        space: the space object (one that provides an encoding).
        scorer: fitness, ``scorer(archs) -> (M,)``, higher = better.
        budget: distinct architectures to score at most.
        seed: seeds every random draw.

    Returns:
        :class:`SearchResult`; ``extra["generations"]`` is the number of generations run.
    """
    space, budget = _space(space), _check_budget(budget)
    config = config or EvolutionConfig()
    if not space.provides("encoding"):
        raise ValueError(f"no continuous encoding for space {space.name!r}: evolution needs a space that provides one")
    enc = space.encoding()
    counter = as_counting(scorer)
    rng = np.random.default_rng(seed)
    run = _Run(counter, budget, f"evolve {space.name}", progress)
    max_gen = config.max_generations if config.max_generations is not None else 10 * budget
    with counter.limit(budget):
        xs = [enc.random(rng) for _ in range(config.population)]
        archs = [enc.decode(x) for x in xs]
        kept, scores = score_within_budget(counter, archs)
        run.seen([archs[i] for i in kept], scores)
        pop = [(xs[i], s) for i, s in zip(kept, scores)]
        gen = 0
        while counter.remaining > 0 and gen < max_gen:
            gen += 1
            fitness = np.array([s for _, s in pop])

            def pick() -> np.ndarray:
                idx = rng.integers(len(pop), size=config.tournament)
                return pop[int(idx[np.argmax(fitness[idx])])][0]

            children = []
            for _ in range(config.population):
                x = pick()
                if rng.random() < config.crossover_prob:
                    x = np.where(rng.random(enc.dim) < 0.5, x, pick())
                # perturb each gene with probability mutate_genes / dim, at least one gene
                mask = rng.random(enc.dim) < config.mutate_genes / enc.dim
                if not mask.any():
                    mask[rng.integers(enc.dim)] = True
                noise = rng.normal(0.0, config.sigma, enc.dim) * mask
                children.append(_reflect(x + noise))
            archs = [enc.decode(x) for x in children]
            kept, scores = score_within_budget(counter, archs)
            run.seen([archs[i] for i in kept], scores)
            merged = pop + [(children[i], s) for i, s in zip(kept, scores)]
            # (μ + λ): stable sort, so among equal scores the older member survives
            order = sorted(range(len(merged)), key=lambda i: -merged[i][1])
            pop = [merged[i] for i in order[:config.population]]
    return run.result("evolve", space, seed, {"config": asdict(config), "generations": gen})


# ---------------------------------------------------------------------- aging evolution

@dataclass(frozen=True)
class AgingConfig:
    """Settings of :func:`aging_evolution` (population P, sample S; Real et al. use 100 / 25)."""

    population: int = 20
    sample: int = 5
    max_cycles: int | None = None

    def __post_init__(self) -> None:
        if self.population < 1 or not 1 <= self.sample <= self.population:
            raise ValueError(f"need population >= 1 and 1 <= sample <= population, got "
                             f"{self.population}, {self.sample}")


def aging_evolution(space: Space, scorer: ScoreFn | CountingScorer, budget: int,
                    seed: int = 0, config: AgingConfig | None = None, progress: bool = True) -> SearchResult:
    """Regularised (aging) evolution with ``budget`` distinct architectures (see the module docstring)."""
    space, budget = _space(space), _check_budget(budget)
    config = config or AgingConfig()
    counter = as_counting(scorer)
    rng = np.random.default_rng(seed)
    run = _Run(counter, budget, f"aging {space.name}", progress)
    max_cycles = config.max_cycles if config.max_cycles is not None else 20 * budget + 1000
    cycles = 0
    with counter.limit(budget):
        pop: deque[tuple[Any, float]] = deque()
        tries = 0
        while len(pop) < config.population and counter.remaining > 0 and tries < 100 * config.population:
            tries += 1
            arch = space.sample(rng)
            score = counter.score_one(arch)
            run.seen([arch], np.array([score]))
            pop.append((arch, score))
        while counter.remaining > 0 and cycles < max_cycles and pop:
            cycles += 1
            idx = rng.choice(len(pop), size=min(config.sample, len(pop)), replace=False)
            parent = max((pop[int(i)] for i in idx), key=lambda p: p[1])[0]
            child = space.mutate(parent, rng)
            score = counter.score_one(child)
            run.seen([child], np.array([score]))
            pop.append((child, score))
            if len(pop) > config.population:
                pop.popleft()
    return run.result("aging", space, seed, {"config": asdict(config), "cycles": cycles})
