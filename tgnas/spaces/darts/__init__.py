"""The DARTS search space (Liu et al., ICLR 2019): a normal and a reduction cell of 4
intermediate nodes, each with two inputs and 8 ops; labelled by NAS-Bench-301.

``SPACE`` is the space object (:class:`~tgnas.spaces.darts.space.DartsSpace`).
"""

from tgnas.spaces.darts.space import DartsSpace

SPACE = DartsSpace()

__all__ = ["SPACE", "DartsSpace"]
