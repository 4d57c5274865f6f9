"""Where and how a training process runs: devices and ranks, mixed precision, seeds,
stop requests (SIGTERM), the learning-rate schedule and atomic checkpoint writes."""

from __future__ import annotations

import math
import os
import random
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from tgnas.runtime import resolve_device, set_seed


@dataclass(frozen=True)
class DistContext:
    """Where this process runs: ``rank`` of ``world_size`` on ``device``."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device
    created_group: bool

    @property
    def distributed(self) -> bool:
        return self.world_size > 1 or dist.is_initialized()

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str) -> DistContext:
    """Join or create the process group.

    An existing group (made by the caller) is used as is; otherwise, when ``WORLD_SIZE > 1``
    (set by ``torchrun``), one is created from ``env://`` with NCCL on CUDA and gloo else.
    """
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if dist.is_available() and dist.is_initialized():
        dev = resolve_device(device, local_rank)
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        return DistContext(dist.get_rank(), dist.get_world_size(), local_rank, dev, False)
    world = int(os.environ.get("WORLD_SIZE", "1"))
    dev = resolve_device(device, local_rank)
    if world <= 1:
        return DistContext(0, 1, 0, dev, False)
    if dev.type == "cuda":
        torch.cuda.set_device(dev)
    dist.init_process_group("nccl" if dev.type == "cuda" else "gloo", init_method="env://")
    return DistContext(dist.get_rank(), dist.get_world_size(), local_rank, dev, True)


def amp_dtype(mode: str, device: torch.device) -> torch.dtype | None:
    """Autocast dtype for ``mode`` on ``device``: ``None`` means full precision.

    ``"auto"``: bf16 on CUDA devices that support it, fp16 on older ones, off on a CPU.
    ``"bf16"``/``"fp16"`` on a CPU raise (mixed precision runs only on CUDA here).
    """
    if device.type != "cuda":
        if mode in ("bf16", "fp16"):
            raise ValueError(f"amp={mode!r} needs a CUDA device, got {device}; use amp='auto' or 'off'")
        return None
    if mode == "off":
        return None
    if mode == "bf16" or (mode == "auto" and torch.cuda.is_bf16_supported()):
        return torch.bfloat16
    return torch.float16


def derived_seed(seed: int, *keys: int) -> int:
    return int(np.random.SeedSequence([int(seed), *keys]).generate_state(1, dtype=np.uint64)[0] >> 1)


# --------------------------------------------------------------------------- stop requests


class StopFlag:
    """Set by SIGTERM (or by a caller); the loop checkpoints at the next step boundary."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.reason = ""

    def set(self, reason: str = "requested") -> None:
        self.reason = self.reason or reason
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


@contextmanager
def sigterm_sets(flag: StopFlag) -> Iterator[bool]:
    """Within the block SIGTERM sets ``flag`` instead of killing the process.

    Yields whether the handler is installed (only possible in the main thread).
    """
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum, frame):  # noqa: ARG001
        flag.set("SIGTERM")

    signal.signal(signal.SIGTERM, handler)
    try:
        yield True
    finally:
        signal.signal(signal.SIGTERM, previous)


# --------------------------------------------------------------------------- schedule


class WarmupCosine:
    """LR factor per step: linear warm-up over ``warmup_steps``, then cosine to ``floor``.

    ``factor(step) = (step + 1) / warmup_steps`` during warm-up, then
    ``floor + (1 - floor) * (1 + cos(pi * t)) / 2`` with ``t`` going 0 -> 1 over the rest;
    ``floor = lr_min / lr``. Picklable (its state is saved with the scheduler).
    """

    def __init__(self, total_steps: int, warmup_steps: int = 0, floor: float = 0.0) -> None:
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.floor = float(floor)

    def __call__(self, step: int) -> float:
        if step < self.warmup_steps:
            return (step + 1) / self.warmup_steps
        span = max(self.total_steps - self.warmup_steps, 1)
        t = min(max(step - self.warmup_steps, 0) / span, 1.0)
        return self.floor + (1.0 - self.floor) * 0.5 * (1.0 + math.cos(math.pi * t))




def rng_state(gen: torch.Generator) -> dict[str, Any]:
    """Every RNG state of this process as tensors and plain lists (so a checkpoint holding it
    loads with ``torch.load(..., weights_only=True)``)."""
    version, mt, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state = {"python": [version, list(mt), gauss],
             "numpy": [str(name), torch.from_numpy(np.asarray(keys, dtype=np.uint32).astype(np.int64)),
                       int(pos), int(has_gauss), float(cached)],
             "torch": torch.get_rng_state(), "augment": gen.get_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict[str, Any], gen: torch.Generator) -> None:
    """Restore what :func:`rng_state` returned."""
    version, mt, gauss = state["python"]
    random.setstate((version, tuple(mt), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, np.asarray(keys, dtype=np.int64).astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    gen.set_state(state["augment"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model




__all__ = ["DistContext", "StopFlag", "WarmupCosine", "amp_dtype",
           "derived_seed", "init_distributed", "resolve_device", "rng_state", "set_rng_state", "set_seed",
           "sigterm_sets", "unwrap"]
