"""NAS-Bench-101 (Ying et al., ICML 2019): cells of at most 7 nodes and 9 edges, 3 ops, 423,624
unique cells with CIFAR-10 accuracies.

``SPACE`` is the space object (:class:`~tgnas.spaces.nb101.space.NB101Space`).
"""

from tgnas.spaces.nb101.space import NB101Space

SPACE = NB101Space()

__all__ = ["SPACE", "NB101Space"]
