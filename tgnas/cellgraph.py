"""The node-op graph every search space converts its architectures to.

The predictor never sees a space's own textual form: each space turns an architecture into
a :class:`CellGraph`, a DAG whose nodes carry operator names (labels that the spaces describe
in English, collected by :mod:`tgnas.descriptions`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["CellGraph"]


@dataclass(frozen=True, eq=False)
class CellGraph:
    """A node-op DAG.

    Attributes:
        adjacency: ``(N, N)`` uint8; ``adjacency[i, j] == 1`` means data flows from node
            ``i`` to node ``j``. Nodes are in topological order, so the matrix is strictly
            upper-triangular. Node 0 is an input node and node ``N - 1`` the output node.
        ops: ``N`` operator names, one per node (roles such as ``"input"`` included).
    """

    adjacency: np.ndarray
    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        adj = np.asarray(self.adjacency)
        n = len(self.ops)
        if n == 0:
            raise ValueError("a CellGraph needs at least one node (an input); got no ops")
        if adj.shape != (n, n):
            raise ValueError(f"adjacency has shape {adj.shape}, expected ({n}, {n}) for {n} ops")
        if not np.all((adj == 0) | (adj == 1)):
            bad = sorted({repr(v) for v in np.asarray(adj, dtype=object).ravel() if not (v == 0 or v == 1)})[:5]
            raise ValueError(f"adjacency entries must be 0 or 1 (edge or no edge), found {', '.join(bad)}")
        if not all(isinstance(op, str) for op in self.ops):
            raise ValueError(f"ops must be operator names (str), got {[type(op).__name__ for op in self.ops][:5]}")
        if np.any(np.tril(adj) != 0):
            raise ValueError("adjacency must be strictly upper-triangular (nodes in topological order)")
        object.__setattr__(self, "adjacency", adj.astype(np.uint8, copy=False))
        object.__setattr__(self, "ops", tuple(self.ops))

    @classmethod
    def _trusted(cls, adjacency: np.ndarray, ops: tuple[str, ...]) -> CellGraph:
        """A graph from code that builds valid ones by construction (uint8, strictly upper
        triangular, one str op per node), without :meth:`__post_init__`'s checks."""
        g = object.__new__(cls)
        object.__setattr__(g, "adjacency", adjacency)
        object.__setattr__(g, "ops", ops)
        return g

    @property
    def num_nodes(self) -> int:
        return len(self.ops)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, CellGraph) and self.ops == other.ops
                and np.array_equal(self.adjacency, other.adjacency))

    def __hash__(self) -> int:
        return hash((self.ops, self.adjacency.tobytes()))
