"""Lite NASWOT/synflow on a uniform sample of NAS-Bench-101 cells (source-space evidence).

TG-NAS+ fits its rule for combining the predictor with cheap proxies on the *source*
space only, NAS-Bench-101 (never on NB201 labels). This module draws a seeded uniform
sample of the 423,624 unique NB101 cells (:func:`tgnas.spaces.nb101.benchmark.load_nb101`),
computes the lite proxies of :mod:`tgnas.proxies.lite` on the NB101 network
(:func:`tgnas.spaces.nb101.net.build_nb101_net` at the lite config's width and depth), and
joins them with the cells' test accuracy and full-size network size.

Files (under ``tgnas.paths.LITE_PROXY_DIR``, fixed names):

* ``nb101_lite_{config}_n{n}_seed{seed}.npz`` - :func:`tgnas.proxies.lite.lite_table`'s
  resumable checkpoint (proxy values in sample order; its metadata fingerprints the
  cell list);
* ``nb101_lite_{config}_n{n}_seed{seed}.csv`` - the finished table of
  :func:`nb101_lite_sample`, with the sample's NB101 indices.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tgnas import paths
from tgnas.fileio import atomic_output
from tgnas.spaces.nb101.benchmark import NUM_CELLS, load_nb101
from tgnas.spaces.nb101.net import nb101_cost
from tgnas.spaces.nb101.space import NB101Space
from tgnas.spaces.catalog import SPACES
from tgnas.proxies.lite import DEFAULT_LITE, lite_table

__all__ = ["nb101_sample_indices", "nb101_lite_path", "nb101_lite_sample", "SAMPLE_COLUMNS"]

#: Columns of :func:`nb101_lite_sample`.
SAMPLE_COLUMNS: tuple[str, ...] = ("nb101_index", "hash", "test_acc", "naswot", "synflow",
                                   "seconds", "params", "flops")


def nb101_sample_indices(n: int = 2000, seed: int = 0) -> np.ndarray:
    """``(n,)`` int64 row indices of :func:`load_nb101`, drawn uniformly without replacement.

    ``np.random.default_rng(seed).choice(423624, n, replace=False)``, sorted ascending
    (the table's rows are the unique cells, so this is uniform over cells).
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= NUM_CELLS:
        raise ValueError(f"n must be an int in 1..{NUM_CELLS}, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(NUM_CELLS, size=int(n), replace=False)).astype(np.int64)


def nb101_lite_path(n: int = 2000, seed: int = 0, config=None, suffix: str = ".npz") -> Path:
    """File of the sample (``suffix`` ``".npz"``: lite checkpoint, ``".csv"``: final table)."""

    config = DEFAULT_LITE if config is None else config
    if suffix not in (".npz", ".csv"):
        raise ValueError(f"suffix must be '.npz' or '.csv', got {suffix!r}")
    return paths.LITE_PROXY_DIR / f"nb101_lite_{config.key()}_n{n}_seed{seed}{suffix}"


def nb101_lite_sample(n: int = 2000, seed: int = 0, config=None, resume: bool = True,
                      progress: bool = True) -> pd.DataFrame:
    """Lite NASWOT/synflow of a uniform sample of ``n`` NB101 cells, with their labels.

    Args:
        n, seed: the sample (:func:`nb101_sample_indices`).
        config: a :class:`tgnas.proxies.lite.LiteConfig` (``None``: ``DEFAULT_LITE``); its
            ``C`` and ``N`` are the NB101 network's stem channels and cells per stack (full
            size 128 and 3). ``C >= 4`` is needed: a cell splits its output channels over
            up to 4 vertices, and a vertex with 0 channels raises ``ValueError``.
        resume: reuse the finished table or continue the checkpoint; ``False``
            recomputes from scratch (both files are replaced).
        progress: show a progress bar.

    Returns:
        DataFrame (n rows, sorted by ``nb101_index``) with columns :data:`SAMPLE_COLUMNS`:
        ``nb101_index`` (row of :func:`load_nb101`), ``hash`` (module hash), ``test_acc``
        (fraction, run 0, 108 epochs), ``naswot``, ``synflow`` (lite values), ``seconds``
        (build + both proxies, one thread as run), ``params`` (millions) and ``flops``
        (conv + linear MACs in millions, :func:`tgnas.nets.count_flops`'s convention) of
        the *full-size* benchmark network (C=128, N=3), counted by
        :func:`tgnas.spaces.nb101.net.nb101_cost`.
    """

    config = DEFAULT_LITE if config is None else config
    idx = nb101_sample_indices(n, seed)
    csv = nb101_lite_path(n, seed, config, ".csv")
    ckpt = nb101_lite_path(n, seed, config, ".npz")
    if resume and csv.is_file():
        df = pd.read_csv(csv)
        if list(df.columns) != list(SAMPLE_COLUMNS) or not np.array_equal(df["nb101_index"].to_numpy(), idx):
            raise ValueError(f"{csv} does not hold the sample n={n}, seed={seed} with columns "
                             f"{list(SAMPLE_COLUMNS)}; delete it or call with resume=False")
        return df
    if not resume:
        for f in (csv, ckpt):
            f.unlink(missing_ok=True)
    table = load_nb101()
    space = NB101Space()
    cells = [table.cell(int(i)) for i in idx]
    # text forms: lite_table fingerprints the arch list by str(arch)
    lite = lite_table([space.format(c) for c in cells], SPACES["nb101"], config, out=ckpt, progress=progress)
    costs = [nb101_cost(c) for c in cells]
    df = pd.DataFrame({
        "nb101_index": idx,
        "hash": table.hashes[idx],
        "test_acc": table.test_acc[idx],
        "naswot": lite["naswot"].to_numpy(),
        "synflow": lite["synflow"].to_numpy(),
        "seconds": lite["seconds"].to_numpy(),
        "params": np.array([c.params for c in costs], dtype=np.float64) / 1e6,
        "flops": np.array([c.macs for c in costs], dtype=np.float64) / 1e6,
    })
    with atomic_output(csv) as tmp:
        df.to_csv(tmp, index=False, float_format="%.17g")
    return df
