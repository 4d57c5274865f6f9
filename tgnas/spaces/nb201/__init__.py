"""NAS-Bench-201 (Dong & Yang, ICLR 2020): one cell of 4 nodes and 6 edges, 5 ops per edge,
15,625 cells with test accuracies on CIFAR-10, CIFAR-100 and ImageNet16-120.

``SPACE`` is the space object (:class:`~tgnas.spaces.nb201.space.NB201Space`).
"""

from tgnas.spaces.nb201.space import NB201Space

SPACE = NB201Space()

__all__ = ["SPACE", "NB201Space"]
