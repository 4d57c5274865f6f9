"""The paper's continuous encoding: every discrete choice of a cell as a number in [0, 1].

A choice among ``n`` options owns the interval [0, 1] cut into ``n`` equal bins; option
``j`` is bin ``[j/n, (j+1)/n)`` (1.0 falls in the last bin). Decoding (discretisation) maps
a vector to an architecture; encoding maps an architecture to the bin centres.

* NB201: 6 genes, the op of each edge among :data:`~tgnas.spaces.nb201.arch.NB201_OPS`.
* DARTS: 24 genes, per cell (normal, then reduce) and intermediate node ``k = 2..5``: one
  gene for the node's input pair among the ``C(k, 2)`` pairs ``(i, j)``, ``i < j < k``, and
  one for the op of each of its two edges among :data:`~tgnas.spaces.darts.arch.SEARCH_OPS`
  (``none`` is not a choice). Layout: ``[pair_2, op_2a, op_2b, pair_3, ...]`` per cell.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from tgnas.spaces.base import SearchSpace
from tgnas.spaces.darts.arch import CELL_TYPES, INTERMEDIATE_NODES, SEARCH_OPS, Genotype
from tgnas.spaces.nb201.arch import NB201_EDGES, NB201_OPS, NB201Arch
from tgnas.spaces.registry import get_record, space_names

_PAIRS: dict[int, tuple[tuple[int, int], ...]] = {
    k: tuple(itertools.combinations(range(k), 2)) for k in INTERMEDIATE_NODES}


def _bin(x: float, n: int) -> int:
    return min(int(x * n), n - 1)


def _centre(j: int, n: int) -> float:
    return (j + 0.5) / n


class ContinuousEncoding:
    """Map architectures of ``space`` to and from vectors in ``[0, 1]^dim``.

    ``ContinuousEncoding(space)`` builds the encoding the space's record names
    (:class:`NB201Encoding`, :class:`DartsEncoding`); a space's own encoding subclasses this
    and sets ``dim`` and the two maps.
    """

    #: number of genes.
    dim: int

    def __new__(cls, space: SearchSpace):
        if cls is ContinuousEncoding:  # the generic entry point: the space record names the class
            try:
                cls = get_record(space.name).resolve("encoding")
            except (KeyError, NotImplementedError):
                raise ValueError(f"no continuous encoding for space {getattr(space, 'name', space)!r}; "
                                 f"expected one of {list(space_names(has='encoding'))}") from None
        return super().__new__(cls)

    def __init__(self, space: SearchSpace) -> None:
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
        return self.make(tuple(self.ops[_bin(v, len(self.ops))] for v in x))

    def encode(self, arch: Any) -> np.ndarray:
        self.space.validate(arch)
        return np.array([_centre(self.ops.index(op), len(self.ops)) for op in self.ops_of(arch)])


class NB201Encoding(EdgeOpEncoding):
    """NB201: one gene per edge, its op among :data:`~tgnas.spaces.nb201.arch.NB201_OPS`."""

    dim = len(NB201_EDGES)
    ops = NB201_OPS

    def make(self, ops: tuple[str, ...]) -> NB201Arch:
        return NB201Arch(ops)


class DartsEncoding(ContinuousEncoding):
    """DARTS: per cell and intermediate node, the input pair and the op of each of its two edges."""

    dim = len(CELL_TYPES) * 3 * len(INTERMEDIATE_NODES)

    def decode(self, x: np.ndarray) -> Genotype:
        x = self._check(x)
        cells = []
        g = iter(x)
        for _ in CELL_TYPES:
            pairs: list[tuple[str, int]] = []
            for k in INTERMEDIATE_NODES:
                i, j = _PAIRS[k][_bin(next(g), len(_PAIRS[k]))]
                pairs.append((SEARCH_OPS[_bin(next(g), len(SEARCH_OPS))], i))
                pairs.append((SEARCH_OPS[_bin(next(g), len(SEARCH_OPS))], j))
            cells.append(pairs)
        return Genotype(normal=cells[0], reduce=cells[1])

    def encode(self, arch: Genotype) -> np.ndarray:
        """Bin centres (up to the order of a node's two edges, which encoding sorts by input)."""
        self.space.check_search_space(arch, "the search encoding")
        out: list[float] = []
        for cell in CELL_TYPES:
            pairs = arch.cell(cell)
            for n, k in enumerate(INTERMEDIATE_NODES):
                a, b = sorted(pairs[2 * n:2 * n + 2], key=lambda p: p[1])
                out.append(_centre(_PAIRS[k].index((a[1], b[1])), len(_PAIRS[k])))
                out.append(_centre(SEARCH_OPS.index(a[0]), len(SEARCH_OPS)))
                out.append(_centre(SEARCH_OPS.index(b[0]), len(SEARCH_OPS)))
        return np.array(out)
