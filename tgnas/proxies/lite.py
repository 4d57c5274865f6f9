"""Reduced-cost ("lite") NASWOT and synflow (the cheap signals of TG-NAS+, :mod:`tgnas.plus`).

The full-size proxies of :mod:`tgnas.proxies.zero_cost` build the benchmark's proxy network (NB201:
C=16, N=5 cells per stage) and NASWOT looks at 64 images of 32x32. Both rankings are
dominated by the cell's ops, not by the macro skeleton's size, so a narrower and shallower
network on fewer (or smaller) images keeps most of the ranking at a fraction of the cost.
:data:`DEFAULT_LITE` was chosen by ``scripts/bench_lite_proxies.py`` from rank agreement
with the *full-size proxy values* of the precomputed NB201 table (never from accuracies)
and the measured seconds per cell; see ``metrics/bench_lite_proxies.json``.

Both proxies are computed on one freshly built network (``torch.manual_seed(seed)`` first):
synflow first (it works on a float64 copy, so the network is unchanged), then NASWOT
(a forward pass in training mode). Synflow is data-free (an input of ones,
``(1, 3, side, side)``); NASWOT uses :func:`lite_batch`.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from tgnas import paths
from tgnas.fileio import atomic_output
from tgnas.proxies.zero_cost import build_net, cifar10_minibatch, naswot, synflow
from tgnas.spaces.base import Space

__all__ = [
    "LiteConfig", "DEFAULT_LITE", "LITE_COLUMNS", "lite_batch", "lite_signals", "lite_table",
    "benchmark_lite_table", "benchmark_lite_path", "benchmark_archs", "arch_list_hash", "restore_recorded",
]

#: Columns of :func:`lite_table`.
LITE_COLUMNS: tuple[str, ...] = ("naswot", "synflow", "seconds")
#: Bump when the computation changes, so that stale checkpoints are not reused.
_FORMAT_VERSION = 1


@dataclass(frozen=True)
class LiteConfig:
    """One reduced-cost setting.

    Attributes:
        C: channels of the first stage (NB201 full size: 16).
        N: cells per stage (NB201 full size: 5).
        batch_size: NASWOT minibatch size (full size: 64); >= 2 (a 1x1 kernel says nothing).
        side: image side in pixels, 8..32 (32 = CIFAR-10's own size; smaller sides are
            area-downsampled). NB201 halves the side twice, so it must be divisible by 4.
        seed: seeds the weight initialisation and the choice of the minibatch.
    """

    C: int
    N: int
    batch_size: int
    side: int = 32
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("C", "N", "batch_size", "side", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"LiteConfig.{name} must be an int, got {v!r}")
        if self.C < 1:
            raise ValueError(f"LiteConfig.C must be >= 1, got {self.C}")
        if self.N < 1:
            raise ValueError(f"LiteConfig.N must be >= 1, got {self.N}")
        if self.batch_size < 2:
            raise ValueError(f"LiteConfig.batch_size must be >= 2, got {self.batch_size}")
        if not 8 <= self.side <= 32 or self.side % 4:
            raise ValueError(f"LiteConfig.side must be a multiple of 4 in 8..32, got {self.side}")
        if self.seed < 0:
            raise ValueError(f"LiteConfig.seed must be >= 0, got {self.seed}")

    def key(self) -> str:
        """Short name for files, e.g. ``C8_N1_B32_S16_seed0``."""
        return f"C{self.C}_N{self.N}_B{self.batch_size}_S{self.side}_seed{self.seed}"

    def to_dict(self) -> dict[str, int]:
        return {k: int(v) for k, v in asdict(self).items()}


#: The chosen setting, from ``scripts/bench_lite_proxies.py`` (200 seeded-random cells of the
#: NB201 table, seed 0, one torch thread, agreement with the table's *full-size* values):
#: lite NASWOT vs ``nwot`` Spearman 0.973 (Kendall 0.863), lite synflow vs ``synflow``
#: Spearman 0.995 (Kendall 0.947), median 0.022 s per cell for both proxies together
#: (full-size synflow alone: 0.78 s). It ties on time with the cheapest qualifying
#: candidate (C=4, same batch/side: 0.023 s, but Spearman only 0.958 / 0.973), so the
#: script's tie rule prefers it; see ``metrics/bench_lite_proxies.json``.
DEFAULT_LITE: LiteConfig = LiteConfig(C=8, N=1, batch_size=16, side=16, seed=0)


def lite_batch(config: LiteConfig) -> tuple[torch.Tensor, torch.Tensor]:
    """The NASWOT minibatch of ``config``.

    Returns:
        images (B, 3, side, side) float32 (normalised CIFAR-10, area-downsampled when
        ``side < 32``), labels (B,) int64.
    """
    images, labels = cifar10_minibatch(config.batch_size, seed=config.seed)
    if config.side != images.shape[-1]:
        images = F.interpolate(images, size=(config.side, config.side), mode="area")
    return images, labels


def lite_signals(arch, space: Space, config: LiteConfig,
                 batch: tuple[torch.Tensor, torch.Tensor] | None = None) -> dict[str, float]:
    """Lite NASWOT and synflow of ``arch`` on one network built with ``config``.

    Args:
        arch: an architecture of ``space`` (object or string), as :func:`tgnas.proxies.zero_cost.build_net`
            takes it.
        space: a space with a network builder.
        batch: ``(images (B, 3, side, side), labels (B,))``; ``None`` loads :func:`lite_batch`
            (loading is not timed). Its spatial size must equal ``config.side``.

    Returns:
        ``{"naswot": float, "synflow": float, "seconds": float}``; seconds cover building the
        network and both proxies. ``naswot`` is ``-inf`` for a singular kernel (every image
        has the same ReLU codes, e.g. the all-``none`` NB201 cell); ``synflow`` is ``0.0``
        when the output does not depend on the input.

    Raises:
        ValueError: the batch has the wrong image size, synflow is not finite, or NASWOT
            is NaN or +inf.
    """
    images, _ = lite_batch(config) if batch is None else batch
    if tuple(images.shape[-2:]) != (config.side, config.side):
        raise ValueError(f"batch images are {tuple(images.shape[-2:])}, expected side "
                         f"{config.side} of {config.key()}")
    start = time.perf_counter()
    torch.manual_seed(config.seed)
    net = build_net(arch, space, C=config.C, N=config.N)
    # synflow works on a float64 deep copy, so the network NASWOT sees is the fresh one.
    syn = synflow(net, images[:1])
    nw = naswot(net, images)
    seconds = time.perf_counter() - start
    # NASWOT is -inf when the ReLU-code kernel is singular: a cell whose output does not
    # depend on its input and that has no ReLU of its own (e.g. all ``none``) gives every
    # image the same codes. That is the score's honest value (the lowest rank; the NB201
    # table stores NASLib's -1e8 sentinel there), so it is kept; anything else non-finite
    # is an error.
    if not (np.isfinite(syn) and (np.isfinite(nw) or nw == -np.inf)):
        raise ValueError(f"lite proxies of {arch} with {config.key()} are not finite: "
                         f"naswot={nw}, synflow={syn}")
    return {"naswot": float(nw), "synflow": float(syn), "seconds": float(seconds)}


# --------------------------------------------------------------------------- tables


def arch_list_hash(archs: Sequence) -> str:
    """SHA-256 (first 16 hex digits) of the archs' strings, in order."""
    h = hashlib.sha256()
    for a in archs:
        h.update(str(a).encode())
        h.update(b"\n")
    return h.hexdigest()[:16]


def _meta(archs: Sequence, space: Space, config: LiteConfig) -> dict:
    return {"version": _FORMAT_VERSION, "space": space.name, "config": config.to_dict(),
            "n_archs": len(archs), "archs_sha": arch_list_hash(archs)}


def _save(out: Path, meta: dict, values: np.ndarray, done: int) -> None:
    """Write ``values`` (n, 3) and how many rows are ``done`` to ``out`` atomically."""
    # atomic_output's temporary name is per process: two processes filling the same cache
    # never write into one temporary file (the rename itself is atomic)
    with atomic_output(out) as tmp, open(tmp, "wb") as fh:  # a handle: np.savez would append ".npz"
        np.savez(fh, values=values, done=np.int64(done), meta=np.array(json.dumps(meta, sort_keys=True)))


def _load(out: Path, meta: dict) -> tuple[np.ndarray, int]:
    with np.load(out, allow_pickle=False) as z:
        stored = json.loads(str(z["meta"]))
        if stored != meta:
            diff = {k: (stored.get(k), meta.get(k)) for k in set(stored) | set(meta)
                    if stored.get(k) != meta.get(k)}
            raise ValueError(f"{out} was written for another run (stored vs requested: {diff}); "
                             f"delete it or pass another out path")
        return z["values"].copy(), int(z["done"])


def restore_recorded(out: Path) -> bool:
    """Copy the recorded table of the same name (``tgnas.paths.RECORDED_LITE_DIR``) to ``out``
    when ``out`` does not exist; return whether it did. Its metadata is checked on load."""
    recorded = paths.RECORDED_LITE_DIR / Path(out).name
    if Path(out).is_file() or not recorded.is_file() or Path(out).resolve() == recorded.resolve():
        return False
    with atomic_output(out) as tmp:
        shutil.copyfile(recorded, tmp)
    return True


def lite_table(archs: Sequence, space: Space, config: LiteConfig, out: Path | None = None,
               progress: bool = True, checkpoint_every: int = 500) -> pd.DataFrame:
    """Lite NASWOT/synflow of every arch, in order, optionally checkpointed and resumable.

    Args:
        archs: architectures of ``space``.
        out: an ``.npz`` file; partial results are written there (atomically) every
            ``checkpoint_every`` archs and at the end, and a later call with the same
            space, config and arch list resumes from them.
        checkpoint_every: >= 1.

    Returns:
        DataFrame (len(archs), 3) with columns :data:`LITE_COLUMNS`, index 0..n-1
        (``naswot`` may be ``-inf``: see :func:`lite_signals`).

    Raises:
        ValueError: ``out`` holds results of another space/config/arch list, or bad
            ``checkpoint_every``.
    """
    if checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
    archs = list(archs)
    n = len(archs)
    meta = _meta(archs, space, config)
    values = np.full((n, len(LITE_COLUMNS)), np.nan)
    done = 0
    if out is not None:
        out = Path(out)
        restore_recorded(out)
        if out.is_file():
            values, done = _load(out, meta)
    if done < n:
        batch = lite_batch(config)
        bar = tqdm(range(done, n), total=n, initial=done, desc=f"lite {space.name} {config.key()}",
                   unit="arch", disable=not progress)
        for i in bar:
            r = lite_signals(archs[i], space, config, batch)
            values[i] = [r[c] for c in LITE_COLUMNS]
            done = i + 1
            if out is not None and (done % checkpoint_every == 0 or done == n):
                _save(out, meta, values, done)
    elif out is not None and not out.is_file():
        _save(out, meta, values, done)          # an empty arch list
    return pd.DataFrame(values[:n], columns=list(LITE_COLUMNS))


def benchmark_lite_path(space: Space, config: LiteConfig = DEFAULT_LITE) -> Path:
    """Cache file of :func:`benchmark_lite_table` (under ``tgnas.paths.LITE_PROXY_DIR``)."""
    return paths.LITE_PROXY_DIR / f"{space.name}_lite_{config.key()}.npz"


def benchmark_archs(space: Space) -> tuple[list, str]:
    """Every benchmark cell of an enumerable ``space`` as objects, in its table order, and the
    name of its index column (the first column of ``space.cell_ids()``)."""
    if not space.enumerable:
        raise ValueError(f"space {space.name!r} is not enumerable: its benchmark cells are not the whole space")
    ids = space.cell_ids()
    return [space.parse(t) for t in ids["arch"]], str(ids.columns[0])


def benchmark_lite_table(space: Space, config: LiteConfig = DEFAULT_LITE, resume: bool = True,
                         progress: bool = True) -> pd.DataFrame:
    """Lite proxies of every benchmark cell of an enumerable ``space``, in its table order (cached).

    Args:
        resume: reuse (and complete) the cache file; ``False`` recomputes from scratch.

    Returns:
        DataFrame (cells, 3), columns :data:`LITE_COLUMNS`, indexed like ``space.cell_ids()``.
    """
    archs, index_name = benchmark_archs(space)
    out = benchmark_lite_path(space, config)
    if not resume and out.is_file():
        out.unlink()
    df = lite_table(archs, space, config, out=out, progress=progress)
    df.index.name = index_name
    return df
