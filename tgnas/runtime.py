"""The one place that seeds the global generators and picks the device."""

from __future__ import annotations

import random

import numpy as np
import torch


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and every CUDA device) global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def resolve_device(device: str | torch.device = "auto", local_rank: int = 0) -> torch.device:
    """Pick the device once, explicitly.

    ``"auto"`` -> CUDA if available, else CPU; a bare ``"cuda"`` becomes ``cuda:<local_rank>``
    (one GPU per process under ``torchrun``); anything else goes to :class:`torch.device`.

    Raises:
        ValueError: CUDA is asked for but not available.
    """
    if isinstance(device, torch.device):
        dev = device
    else:
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dev = torch.device(device)
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {str(device)!r} asked for but CUDA is not available")
        if dev.index is None:
            dev = torch.device("cuda", local_rank % torch.cuda.device_count())
    return dev
