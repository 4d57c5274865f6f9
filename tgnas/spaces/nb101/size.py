"""Sizes of every NB101 benchmark cell's network, for size-aware ranking."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from tgnas import paths
from tgnas.fileio import atomic_output
from tgnas.spaces.nb101.benchmark import load_nb101, table_key
from tgnas.spaces.nb101.net import nb101_cost

#: Version of the cache file's content (bump when :func:`nb101_cost` changes).
SIZE_CACHE_VERSION = 1


def _compute(table) -> np.ndarray:
    out = np.empty((len(table), 2))
    for i in range(len(table)):
        c = nb101_cost(table.cell(i))
        out[i] = (np.log(c.params / 1e6), np.log(c.macs))
    return out


@lru_cache(maxsize=1)
def log_cost_table() -> np.ndarray:
    """``(423624, 2)`` float64 ``[log params (millions), log MACs]`` of :func:`~.net.nb101_cost`
    (C=128, 3 cells per stack, 32 x 32 images) of every cell of the benchmark table, in table
    order; read-only. Closed form (70 us a cell, about 30 s in all), cached under
    ``CACHE_DIR/sizes`` keyed by the table's content."""
    table = load_nb101()
    path = paths.CACHE_DIR / "sizes" / f"nb101_v{SIZE_CACHE_VERSION}_{table_key(table)}.npy"
    out = None
    if path.is_file():
        out = np.load(path, allow_pickle=False)
        if out.shape != (len(table), 2):
            out = None  # a damaged file: recompute
    if out is None:
        out = _compute(table)
        with atomic_output(path, True, "NB101 size cache") as tmp:
            np.save(tmp, out, allow_pickle=False)
    out.flags.writeable = False
    return out
