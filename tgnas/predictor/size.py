"""Network size as an input of the predictor: log parameters and log FLOPs, normalised within
their space.

A cell graph says what a cell computes but not how big the network built from it is, and on
several spaces size alone ranks well (#params on DARTS, FLOPs on macro spaces). A size-aware
predictor (``TrainConfig.size_features``) adds a learnt linear term of two features to the GCN's
score:

* ``log_params``, ``log_flops``: the logs of :meth:`~tgnas.spaces.base.Space.log_size` (the
  space's benchmark-size network), z-scored with the mean and standard deviation of the space's
  **reference population**: :data:`REFERENCE_SAMPLES` architectures drawn by ``space.sample``
  with a fixed seed. The reference uses no labels, so it is the same for a held-out space and for
  a training space, and one architecture's features never depend on what else is scored.

A space with no population to sample (generic cells, whose JSON may carry ``params`` and
``flops``) has no reference: its log sizes are divided by the mean reference std of the catalog's
spaces and not centred (centring shifts every score of a space alike, so rankings within it do
not depend on it).

The weights of the term are learnt across the training spaces, so the ranker learns how much
size tends to matter, not a per-space rule.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from tgnas.spaces import catalog
from tgnas.spaces.base import Space

#: Names of the size features, in column order.
SIZE_FEATURES: tuple[str, ...] = ("log_params", "log_flops")
#: Architectures in a space's reference population.
REFERENCE_SAMPLES = 2000


@lru_cache(maxsize=16)
def _reference(space: Space) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([zlib.crc32(space.name.encode()), REFERENCE_SAMPLES])
    logs = space.log_size([space.sample(rng) for _ in range(REFERENCE_SAMPLES)])
    std = logs.std(axis=0)
    # a space whose networks all have one size carries no size information: unit scale keeps 0
    std[~(std > 0)] = 1.0
    return logs.mean(axis=0), std


def has_reference(space: Space) -> bool:
    """Whether ``space`` can draw a reference population with sizes (``sample``, ``size``, ``flops_of``)."""
    return all(space.provides(c) for c in ("sample", "size", "flops_of"))


@lru_cache(maxsize=1)
def generic_scale() -> np.ndarray:
    """``(2,)`` the mean reference std of the catalog spaces that have a reference."""
    stds = [_reference(sp)[1] for sp in catalog.SPACES.values() if has_reference(sp)]
    return np.mean(stds, axis=0)


def size_reference(space: Space) -> tuple[np.ndarray, np.ndarray]:
    """``((2,), (2,))`` mean and std of ``space``'s reference population's log sizes; for a space
    without one (:func:`has_reference`), zeros and :func:`generic_scale`."""
    if not isinstance(space, Space):
        raise TypeError(f"space must be a space object, got {type(space).__name__}")
    if not has_reference(space):
        return np.zeros(len(SIZE_FEATURES)), generic_scale().copy()
    mean, std = _reference(space)
    return mean.copy(), std.copy()


def normalise(space: Space, log_size: np.ndarray) -> np.ndarray:
    """``(M, 2)`` log sizes of ``space`` -> ``(M, 2)`` float64 z-scores (:func:`size_reference`)."""
    log_size = np.asarray(log_size, dtype=np.float64)
    if log_size.ndim != 2 or log_size.shape[1] != len(SIZE_FEATURES):
        raise ValueError(f"log sizes must be (M, {len(SIZE_FEATURES)}), got shape {log_size.shape}")
    if not np.all(np.isfinite(log_size)):
        raise ValueError(f"{space.name}: log sizes contain NaN or inf (a network of size 0?)")
    mean, std = size_reference(space)
    return (log_size - mean) / std


def carries_size(space: Space, archs: Sequence[Any]) -> bool:
    """Whether ``archs`` have sizes: the space has a size model, or (generic cells) each cell
    carries its own. ``ValueError`` when only some of the cells do (one ranking, one rule)."""
    if has_reference(space):
        return True
    if not space.provides("log_size"):
        return False
    sized = [getattr(a, "size", None) is not None for a in archs]
    if any(sized) and not all(sized):
        raise ValueError(f"cell {sized.index(False)} carries no 'params' and 'flops' while others do: give them for "
                         f"every cell or for none")
    return all(sized) and bool(sized)


def size_features(space: Space, archs: Sequence[Any]) -> np.ndarray:
    """``(M, 2)`` float64 normalised size features of ``archs`` (objects of ``space``)."""
    return normalise(space, space.log_size(list(archs)))


def cells_size_features(space: Space) -> np.ndarray:
    """``(M, 2)`` normalised size features of ``space.cells()``, in its order."""
    return normalise(space, space.cells_size())
