"""The paper's continuous encoding: every discrete choice of a cell as a number in [0, 1].

A choice among ``n`` options owns the interval [0, 1] cut into ``n`` equal bins; option
``j`` is bin ``[j/n, (j+1)/n)`` (1.0 falls in the last bin). Decoding (discretisation) maps
a vector to an architecture; encoding maps an architecture to the bin centres. Each space's
encoding lives in its folder (``space.encoding()``); :class:`EdgeOpEncoding` serves spaces
whose cell is one op per edge in a few lines.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tgnas.spaces.base import Space


def bin_of(x: float, n: int) -> int:
    return min(int(x * n), n - 1)


def centre(j: int, n: int) -> float:
    return (j + 0.5) / n


class ContinuousEncoding:
    """Map architectures of ``space`` to and from vectors in ``[0, 1]^dim``.

    A space's own encoding (``space.encoding()``, in the space's folder) subclasses this and
    sets ``dim`` and the two maps.
    """

    #: number of genes.
    dim: int

    def __init__(self, space: Space) -> None:
        self.space = space

    def _check(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.shape != (self.dim,) or np.any(x < 0) or np.any(x > 1):
            raise ValueError(f"expected a vector of {self.dim} values in [0, 1] for {self.space.name}, got "
                             f"shape {x.shape}, range [{x.min() if x.size else None}, "
                             f"{x.max() if x.size else None}]")
        return x

    def decode(self, x: np.ndarray) -> Any:
        """Discretise ``x`` ``(dim,)`` in [0, 1] to an architecture."""
        raise NotImplementedError

    def encode(self, arch: Any) -> np.ndarray:
        """Bin centres of ``arch``'s choices: ``(dim,)`` float64 (``decode(encode(a)) == a``)."""
        raise NotImplementedError

    def random(self, rng: np.random.Generator) -> np.ndarray:
        """A uniform vector (its decoding is uniform over each choice)."""
        return rng.random(self.dim)


class EdgeOpEncoding(ContinuousEncoding):
    """One gene per edge, its op among :attr:`ops`, for spaces whose cell is one op per edge.

    A subclass sets ``dim`` (the number of edges), ``ops`` and how a cell is built from and
    read as its ops (:meth:`make`, :meth:`ops_of`).
    """

    ops: tuple[str, ...]

    def make(self, ops: tuple[str, ...]) -> Any:
        raise NotImplementedError

    def ops_of(self, arch: Any) -> tuple[str, ...]:
        return arch.ops

    def decode(self, x: np.ndarray) -> Any:
        x = self._check(x)
        return self.make(tuple(self.ops[bin_of(v, len(self.ops))] for v in x))

    def encode(self, arch: Any) -> np.ndarray:
        self.space.validate(arch)
        return np.array([centre(self.ops.index(op), len(self.ops)) for op in self.ops_of(arch)])
