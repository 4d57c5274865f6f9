"""What search needs of NB201: the continuous encoding of evolution and the pruning supernet.

Both are the generic one-op-per-edge kinds (:class:`~tgnas.search.encoding.EdgeOpEncoding`,
:class:`~tgnas.search.pruning.EdgeOpSupernet`) over NB201's 6 edges and 5 ops.
"""

from __future__ import annotations

from tgnas.search.encoding import EdgeOpEncoding
from tgnas.search.pruning import EdgeOpSupernet
from tgnas.spaces.nb201.arch import NB201_EDGES, NB201_OPS, NB201Arch

__all__ = ["NB201Encoding", "NB201Supernet"]


class NB201Encoding(EdgeOpEncoding):
    """NB201: one gene per edge, its op among :data:`~tgnas.spaces.nb201.arch.NB201_OPS`."""

    dim = len(NB201_EDGES)
    ops = NB201_OPS

    def make(self, ops: tuple[str, ...]) -> NB201Arch:
        return NB201Arch(ops)




class NB201Supernet(EdgeOpSupernet):
    """NB201: 6 edges, each with a subset of :data:`NB201_OPS`; a cell picks one op per edge."""

    def __init__(self) -> None:
        super().__init__([f"({t}<-{s})" for t, s in NB201_EDGES], NB201_OPS, NB201Arch)
