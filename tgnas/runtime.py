"""The one place that seeds the global generators and picks the device."""

from __future__ import annotations

import math
import os
import random

import numpy as np
import torch

from tgnas.errors import SettingError, shorten

#: Largest seed (torch's generators take a signed 64-bit integer).
MAX_SEED = 2**63 - 1
#: Most CPU threads a setting may ask torch for: far more than the cores only makes threads
#: wait for each other, and torch crashes on absurd counts (100,000: a segmentation fault).
MAX_THREADS = 4 * (os.cpu_count() or 1)


def check_seed(seed: object, name: str = "seed") -> int:
    """``seed`` if it is an integer in ``0..MAX_SEED``, else :class:`SettingError` naming ``name``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed <= MAX_SEED:
        raise SettingError(name, f"must be an integer in 0..2**63-1, got {shorten(seed, 40)}")
    return int(seed)


def check_number(value: object, name: str, minimum: float = 0.0, above: bool = False) -> float:
    """``value`` if it is a finite real number ``>= minimum`` (``> minimum`` with ``above``),
    else :class:`SettingError` naming ``name`` (NaN, inf, strings and bools are refused)."""
    ok = (not isinstance(value, bool) and isinstance(value, (int, float, np.integer, np.floating))
          and math.isfinite(value) and (value > minimum if above else value >= minimum))
    if not ok:
        bound = f"> {minimum:g}" if above else f">= {minimum:g}"
        raise SettingError(name, f"must be a finite number {bound}, got {shorten(value, 40)}")
    return float(value)


def check_threads(value: object, name: str = "threads") -> int:
    """``value`` if it is 0 (torch's default) or a thread count up to :data:`MAX_THREADS`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value <= MAX_THREADS:
        raise SettingError(name, f"must be 0 (torch's default) or a thread count 1..{MAX_THREADS} (4 per CPU "
                                 f"core here), got {shorten(value, 40)}")
    return int(value)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device) global generators.

    Raises:
        SettingError: ``seed`` is not an integer in ``0..MAX_SEED``.
    """
    seed = check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(device: str | torch.device = "auto", local_rank: int = 0) -> torch.device:
    """Pick the device once, explicitly.

    ``"auto"`` -> CUDA if available, else CPU; a bare ``"cuda"`` becomes ``cuda:<local_rank>``
    (one GPU per process under ``torchrun``); anything else goes to :class:`torch.device`.

    Raises:
        ValueError: not a device name (``"evil"``), or CUDA is asked for but not available.
    """
    if isinstance(device, torch.device):
        dev = device
    else:
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError):  # torch's own message lists its ~20 device types
            raise SettingError("device", f"must be 'auto', 'cpu', 'cuda', 'cuda:N' or another torch device "
                                         f"name, got {shorten(device, 40)}") from None
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(device)!r} asked for but CUDA is not available")
        if dev.index is None:
            dev = torch.device("cuda", local_rank % torch.cuda.device_count())
    return dev
