"""Sizes of every NB101 benchmark cell's network, for size-aware ranking."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from tgnas.spaces.nb101.benchmark import load_nb101
from tgnas.spaces.nb101.net import nb101_cost


@lru_cache(maxsize=1)
def log_cost_table() -> np.ndarray:
    """``(423624, 2)`` float64 ``[log params (millions), log MACs]`` of :func:`~.net.nb101_cost`
    (C=128, 3 cells per stack, 32 x 32 images) of every cell of the benchmark table, in table
    order; read-only, computed once per process (about 30 s: closed form, 70 us a cell)."""
    table = load_nb101()
    out = np.empty((len(table), 2))
    for i in range(len(table)):
        c = nb101_cost(table.cell(i))
        out[i] = (np.log(c.params / 1e6), np.log(c.macs))
    out.flags.writeable = False
    return out
