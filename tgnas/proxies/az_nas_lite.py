"""Reduced-cost ("lite") AZ-NAS components: small networks on few small images, for TG-NAS+.

The same four components as :mod:`tgnas.proxies.az_nas` (and the same label-free
aggregation, :func:`tgnas.proxies.az_nas.aggregate_log_ranks`), on the network and minibatch
of a :class:`tgnas.proxies.lite.LiteConfig` (width ``C``, cells per stage ``N``, batch size,
image side, seed). The input is noise, as in the authors' NB201 protocol
(:func:`tgnas.proxies.az_nas.noise_images`), or ``inputs="cifar10"``
(:func:`tgnas.proxies.lite.lite_batch`). Kept beside, not inside, :mod:`tgnas.proxies.lite`:
its columns (:data:`tgnas.proxies.lite.LITE_COLUMNS`) and cached tables are unchanged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from tgnas import paths
from tgnas.fileio import atomic_output
from tgnas.proxies.az_nas import AZ_COMPONENTS, az_nas_components, noise_images
from tgnas.proxies.lite import LiteConfig, arch_list_hash, benchmark_archs, lite_batch, restore_recorded
from tgnas.proxies.zero_cost import build_net
from tgnas.spaces.base import Space

__all__ = ["AZ_LITE_COLUMNS", "AZ_INPUTS", "AZ_DEFAULT_LITE", "az_lite_images", "az_nas_lite_signals",
           "az_nas_lite_table", "benchmark_az_lite_path", "benchmark_az_lite_table"]

#: Columns of :func:`az_nas_lite_table`.
AZ_LITE_COLUMNS: tuple[str, ...] = (*AZ_COMPONENTS, "seconds")
#: Input kinds of :func:`az_lite_images`.
AZ_INPUTS: tuple[str, ...] = ("noise", "cifar10")
#: Bump when the computation changes, so that stale checkpoints are not reused.
_FORMAT_VERSION = 1
#: The recommended setting (= :data:`tgnas.proxies.lite.DEFAULT_LITE`'s network and input size, on
#: noise), chosen by ``scripts/check_az_nas.py`` without labels: the cheapest tried config whose
#: aggregate has Spearman >= 0.9 with the full-size aggregate on 200 seeded NB201 cells (0.913;
#: C=16, B=32, 32x32: 0.942 at 7x the cost), 0.016 s median per cell on one thread; see
#: ``metrics/az_nas_check.json``.
AZ_DEFAULT_LITE: LiteConfig = LiteConfig(C=8, N=1, batch_size=16, side=16, seed=0)


def az_lite_images(config: LiteConfig, inputs: str = "noise") -> torch.Tensor:
    """The input of ``config``: (batch_size, 3, side, side) float32, standard-normal noise
    seeded with ``config.seed`` or the normalised CIFAR-10 minibatch of
    :func:`tgnas.proxies.lite.lite_batch`."""
    if inputs == "noise":
        return noise_images(config.batch_size, config.side, config.seed)
    if inputs == "cifar10":
        return lite_batch(config)[0]
    raise KeyError(f"unknown AZ-NAS input {inputs!r}; expected one of {list(AZ_INPUTS)}")


def az_nas_lite_signals(arch, space: Space, config: LiteConfig, images: torch.Tensor | None = None,
                        inputs: str = "noise") -> dict[str, float]:
    """AZ-NAS components of ``arch`` on one small network built with ``config``.

    Args:
        arch: an architecture of ``space`` (object or string).
        space: a space with a network builder.
        config: a :class:`tgnas.proxies.lite.LiteConfig` (width ``C``, cells per stage ``N``,
            batch size, image side, seed of the initialisation, the probes and the noise).
        images: (B, 3, side, side); ``None`` makes :func:`az_lite_images` of ``inputs``
            (not timed).

    Returns:
        ``{component: float for AZ_COMPONENTS} | {"seconds": float}``; seconds cover building
        the network and the four components.

    Raises:
        ValueError: the images have the wrong size.
    """
    images = az_lite_images(config, inputs) if images is None else images
    if tuple(images.shape[-2:]) != (config.side, config.side):
        raise ValueError(f"images are {tuple(images.shape[-2:])}, expected side "
                         f"{config.side} of {config.key()}")
    start = time.perf_counter()
    # build_net's default init (global RNG) is overwritten by kaiming_fanin_init; fork the
    # RNG so that building leaves the caller's global state untouched
    with torch.random.fork_rng(devices=[]):
        net = build_net(arch, space, C=config.C, N=config.N)
    out = az_nas_components(net, images, seed=config.seed)
    out["seconds"] = time.perf_counter() - start
    return out


def _meta(archs: Sequence, space: Space, config: LiteConfig, inputs: str) -> dict:
    return {"kind": "az_nas", "version": _FORMAT_VERSION, "space": space.name, "config": config.to_dict(), "inputs": inputs,
            "n_archs": len(archs), "archs_sha": arch_list_hash(archs)}


def az_nas_lite_table(archs: Sequence, space: Space, config: LiteConfig, out: Path | None = None,
                      progress: bool = True, checkpoint_every: int = 500, inputs: str = "noise") -> pd.DataFrame:
    """Lite AZ-NAS components of every arch, in order, optionally checkpointed and resumable.

    Args:
        archs: architectures of ``space``.
        config: a :class:`tgnas.proxies.lite.LiteConfig`.
        inputs: ``"noise"`` or ``"cifar10"`` (:func:`az_lite_images`).
        out: an ``.npz`` file: partial results are written there (atomically) every
            ``checkpoint_every`` archs and at the end; a later call with the same space,
            config, inputs and arch list resumes from them.

    Returns:
        DataFrame (len(archs), 5) with columns :data:`AZ_LITE_COLUMNS`, index 0..n-1. Feed
        its component columns to :func:`aggregate_log_ranks` for the AZ-NAS score.

    Raises:
        ValueError: ``out`` holds results of another run, or bad ``checkpoint_every``.
    """
    if checkpoint_every < 1:
        raise ValueError(f"checkpoint_every must be >= 1, got {checkpoint_every}")
    archs = list(archs)
    n = len(archs)
    meta = _meta(archs, space, config, inputs)
    values = np.full((n, len(AZ_LITE_COLUMNS)), np.nan)
    done = 0

    def save() -> None:
        with atomic_output(out) as tmp, open(tmp, "wb") as fh:   # a handle: np.savez would append ".npz"
            np.savez(fh, values=values, done=np.int64(done), meta=np.array(json.dumps(meta, sort_keys=True)))

    if out is not None:
        out = Path(out)
        # a recorded table of the same name (the frozen ``lite_proxies`` stage) is the one every
        # checkout reads: computed again under other float kernels it would differ in the last bits
        restore_recorded(out)
        if out.is_file():
            with np.load(out, allow_pickle=False) as z:
                stored = json.loads(str(z["meta"]))
                if stored != meta:
                    raise ValueError(f"{out} was written for another run (stored {stored}, requested "
                                     f"{meta}); delete it or pass another out path")
                values, done = z["values"].copy(), int(z["done"])
    if done < n:
        images = az_lite_images(config, inputs)
        for i in tqdm(range(done, n), total=n, initial=done, desc=f"az-nas {space.name} {config.key()}",
                      unit="arch", disable=not progress):
            r = az_nas_lite_signals(archs[i], space, config, images)
            values[i] = [r[c] for c in AZ_LITE_COLUMNS]
            done = i + 1
            if out is not None and (done % checkpoint_every == 0 or done == n):
                save()
    elif out is not None and not out.is_file():
        save()
    return pd.DataFrame(values[:n], columns=list(AZ_LITE_COLUMNS))


def benchmark_az_lite_path(space: Space, config: LiteConfig = AZ_DEFAULT_LITE, inputs: str = "noise") -> Path:
    """Cache file of :func:`benchmark_az_lite_table` (under ``tgnas.paths.LITE_PROXY_DIR``)."""
    if inputs not in AZ_INPUTS:
        raise KeyError(f"unknown AZ-NAS input {inputs!r}; expected one of {list(AZ_INPUTS)}")
    return paths.LITE_PROXY_DIR / f"{space.name}_az_nas_{inputs}_{config.key()}.npz"


def benchmark_az_lite_table(space: Space, config: LiteConfig = AZ_DEFAULT_LITE, inputs: str = "noise",
                            resume: bool = True, progress: bool = True) -> pd.DataFrame:
    """Lite AZ-NAS components of every benchmark cell of an enumerable ``space``, in its table
    order (cached).

    Args:
        resume: reuse (and complete) the cache file; ``False`` recomputes from scratch.

    Returns:
        DataFrame (cells, 5), columns :data:`AZ_LITE_COLUMNS`, indexed like ``space.cell_ids()``.
    """
    archs, index_name = benchmark_archs(space)
    out = benchmark_az_lite_path(space, config, inputs)
    if not resume and out.is_file():
        out.unlink()
    df = az_nas_lite_table(archs, space, config, out=out, progress=progress, inputs=inputs)
    df.index.name = index_name
    return df
