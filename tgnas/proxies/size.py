"""Network size per space: the ``params`` signal of TG-NAS+ (each space record's ``size``).

Each function takes architectures of its space (objects or text forms) and returns ``(M,)``
float64 parameter counts in millions of the space's benchmark-size network.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["nb101_params", "nb201_params", "darts_params"]


def nb101_params(archs: Sequence) -> np.ndarray:
    """Closed-form count of the NB101 network (C=128, 3 cells per stack)."""
    from tgnas.spaces.nb101.net import nb101_cost
    from tgnas.spaces.nb101.arch import NB101Space
    sp = NB101Space()
    return np.array([nb101_cost(sp.parse(a) if isinstance(a, str) else a).params / 1e6 for a in archs],
                    dtype=np.float64)


def nb201_params(archs: Sequence) -> np.ndarray:
    """NB201's analytic cost model (C=16, 5 cells per stage; microseconds per cell)."""
    from tgnas.proxies import params_and_flops_all
    return params_and_flops_all(list(archs), cache=True)["params"].to_numpy(dtype=np.float64)


def darts_params(archs: Sequence) -> np.ndarray:
    """Parameters of the DARTS CIFAR network with C=16 and 8 cells (the proxy network), counted
    on the built network (about 30 ms each)."""
    from tgnas.proxies import build_net, params
    return np.array([params(build_net(a, "darts")) for a in archs], dtype=np.float64)
