"""The record every search run returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SearchResult:
    """Outcome of one search run.

    Attributes:
        algorithm: ``"prune"``, ``"evolve"``, ``"aging"``, ``"hybrid"``, ``"random"`` or ``"cascade"``.
        space: the name of the space searched (``SearchResult`` is stored as plain values).
        scorer: the scorer's name (``"tgnas"``, ``"flops"``, ``"synflow"``, ...).
        seed: the seed of the run.
        arch: the found architecture (the space's object; validated).
        arch_str: its textual form (``space.format(arch)``).
        score: the scorer's score of ``arch``.
        history: best-so-far trace ``[(distinct archs scored, best score among them)]``
            over every architecture the run scored (for pruning these are the sampled cells
            used to score the supernet, not only the final cell).
        wall_time_s: wall-clock seconds of the whole run.
        n_calls: calls to the underlying scorer during the run (batches).
        n_distinct: distinct architectures newly scored during the run (cache hits of an
            earlier run on the same :class:`~tgnas.search.scorers.CountingScorer` excluded).
        budget: the evaluation budget the run was given (``None``: the algorithm's own cost,
            as for pruning).
        extra: algorithm-specific details (pruning rounds, sub-results of the hybrid, ...).
    """

    algorithm: str
    space: str
    scorer: str
    seed: int
    arch: Any
    arch_str: str
    score: float
    history: list[tuple[int, float]] = field(default_factory=list)
    wall_time_s: float = 0.0
    n_calls: int = 0
    n_distinct: int = 0
    budget: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, with_history: bool = False) -> dict[str, Any]:
        """JSON-ready summary (the arch as text; history only if asked)."""
        out = {k: getattr(self, k) for k in ("algorithm", "space", "scorer", "seed", "arch_str", "score",
                                             "wall_time_s", "n_calls", "n_distinct", "budget")}
        if with_history:
            out["history"] = [list(h) for h in self.history]
        return out

    def summary(self) -> str:
        """Human-readable lines: the arch and the run's statistics."""
        budget = "own cost" if self.budget is None else str(self.budget)
        return (f"{self.arch_str}\n"
                f"algorithm={self.algorithm} space={self.space} scorer={self.scorer} seed={self.seed} "
                f"score={self.score:.6g} distinct_archs={self.n_distinct} (budget {budget}) "
                f"scorer_calls={self.n_calls} wall={self.wall_time_s:.2f}s")
