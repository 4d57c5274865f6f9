"""What a final-training run costs: network size, multiply-adds, measured throughput, hours.

Used by notebook 05 and the GPU check to turn a measured images/s into the hours a
paper-scale run needs (``epochs × training images / images_per_s``).
"""

from __future__ import annotations

import json
import time
from contextlib import nullcontext
from pathlib import Path

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from tgnas import paths
from tgnas.spaces import catalog
from tgnas.train.config import preset
from tgnas.train.loop import _split_output, amp_dtype, build_model, count_parameters

#: Training images per epoch of the two datasets (CIFAR-10 train split; ImageNet-1k train).
TRAIN_IMAGES: dict[str, int] = {"cifar10": 50_000, "imagenet": 1_281_167}


def multiply_adds(model: nn.Module, image_size: int) -> int:
    """Multiply-adds of one inference forward pass on a ``(1, 3, S, S)`` input.

    Counted with :class:`torch.utils.flop_counter.FlopCounterMode` (which reports 2 FLOPs
    per multiply-add of convolutions and matrix products), auxiliary head excluded (eval mode).
    """
    was_training = model.training
    model.eval()
    x = torch.zeros(1, 3, image_size, image_size, device=next(model.parameters()).device)
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(x)
    model.train(was_training)
    return counter.get_total_flops() // 2


def measure_train_throughput(model: nn.Module, batch_size: int, image_size: int, steps: int = 3,
                             warmup: int = 1, device: torch.device | str = "cpu", amp: str = "auto",
                             num_classes: int = 10, auxiliary_weight: float = 0.4) -> float:
    """Training images/s (forward, backward, SGD step) on random inputs.

    ``(batch_size, 3, S, S)`` normal noise; ``warmup`` untimed steps first (cuDNN autotuning,
    allocator). Data loading is not included. The model is left in training mode with its
    weights changed: pass a throw-away copy.
    """
    device = torch.device(device)
    model = model.to(device).train()
    dtype = amp_dtype(amp, device)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    g = torch.Generator(device=device).manual_seed(0)
    x = torch.randn(batch_size, 3, image_size, image_size, generator=g, device=device)
    y = torch.randint(0, num_classes, (batch_size,), generator=g, device=device)
    ctx = (lambda: torch.autocast(device.type, dtype=dtype)) if dtype is not None else nullcontext

    def step():
        with ctx():
            logits, aux = _split_output(model(x))
            loss = nn.functional.cross_entropy(logits.float(), y)
            if aux is not None:
                loss = loss + auxiliary_weight * nn.functional.cross_entropy(aux.float(), y)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()

    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return steps * batch_size / (time.perf_counter() - t0)


def run_hours(epochs: int, images_per_epoch: int, images_per_s: float) -> float:
    """Hours of training (no evaluation, no data stalls) at ``images_per_s``."""
    if images_per_s <= 0:
        raise ValueError(f"images_per_s must be > 0, got {images_per_s}")
    return epochs * images_per_epoch / images_per_s / 3600.0


def describe_network(model: nn.Module, image_size: int) -> dict[str, float]:
    """``{"params_m": millions of parameters (no auxiliary head), "madds_m": millions of multiply-adds}``."""
    return {"params_m": count_parameters(model) / 1e6, "madds_m": multiply_adds(model, image_size) / 1e6}


#: Published results a paper-scale run is compared with (test error / top-1 in %).
PUBLISHED: tuple[dict[str, object], ...] = (
    {"result": "TE-NAS (Chen et al., 2021), CIFAR-10 test error (%)", "published": 2.63},
    {"result": "DARTS-V2 (Liu et al., 2019), CIFAR-10 test error (%), 3.3 M params", "published": 2.76},
    {"result": "TG-NAS v1, ImageNet top-1 (%), 14 cells x 48 ch", "published": 74.5},
    {"result": "TG-NAS v2, ImageNet top-1 (%), 14 cells x 48 ch", "published": 74.9},
)

#: (dataset, input side, classes) of the paper-scale runs.
_PAPER_RUNS: tuple[tuple[str, int, int], ...] = (("cifar10", 32, 10), ("imagenet", 224, 1000))


def read_gpu_check(path: Path | None = None) -> dict | None:
    """The JSON of ``scripts/gpu_check_final_training.py`` (default
    ``METRICS_DIR / "final_training_gpu_check.json"`` where :func:`tgnas.paths.input_path` finds
    it), or ``None`` if it is not there."""
    p = Path(path) if path is not None else paths.input_path(paths.METRICS_DIR / "final_training_gpu_check.json")
    return json.loads(p.read_text()) if p.is_file() else None


def paper_scale_costs(parsed, assumed_gpu_images_per_s: float, gpu_check: dict | None = None,
                      cpu_threads: int = 1, cpu_batch: int = 8) -> list[dict[str, object]]:
    """Rows of the cost table of the paper-scale runs of ``parsed`` (a ``ParsedArch``).

    For CIFAR-10 (and ImageNet for DARTS cells): parameters, multiply-adds, the GPU
    throughput — measured (from ``gpu_check``'s ``<dataset>_images_per_s``) or
    ``assumed_gpu_images_per_s``, labelled ``ASSUMED`` — and GPU-hours; plus one row with the
    paper-scale CIFAR-10 network's training throughput measured on this CPU (``cpu_batch``
    random images, ``cpu_threads`` threads; 0 = torch's default) and its CPU-hours.
    """
    rows: list[dict[str, object]] = []
    for ds, size, classes in _PAPER_RUNS:
        if ds not in catalog.get_space(parsed.space).final_datasets:
            continue
        paper = preset(ds, parsed.space)
        net = build_model(paper, parsed, classes)
        desc = describe_network(net, size)
        base = {"run": f"{ds} paper scale ({paper.layers} cells x {paper.init_channels} ch)",
                "epochs": paper.epochs, "params (M)": round(desc["params_m"], 2),
                "mult-adds (M)": round(desc["madds_m"], 1)}
        measured = (gpu_check or {}).get(f"{ds}_images_per_s")
        if measured:
            ips, source = float(measured), f"measured on {gpu_check.get('device', 'a GPU')}"
        else:
            ips, source = float(assumed_gpu_images_per_s), "ASSUMED (not measured)"
        rows.append({**base, "images/s": round(ips, 1), "throughput source": source,
                     "GPU-hours": round(run_hours(paper.epochs, TRAIN_IMAGES[ds], ips), 1)})
        if ds == "cifar10":
            threads = torch.get_num_threads()
            torch.set_num_threads(cpu_threads or threads)
            try:
                cpu_ips = measure_train_throughput(net, batch_size=cpu_batch, image_size=size, steps=2,
                                                   warmup=1, device="cpu", amp="off", num_classes=classes)
            finally:
                torch.set_num_threads(threads)
            rows.append({**base, "run": f"{ds} paper scale on this CPU", "images/s": round(cpu_ips, 2),
                         "throughput source": "measured on this CPU",
                         "CPU-hours": round(run_hours(paper.epochs, TRAIN_IMAGES[ds], cpu_ips))})
    return rows


__all__ = ["PUBLISHED", "TRAIN_IMAGES", "describe_network", "measure_train_throughput", "multiply_adds",
           "paper_scale_costs", "read_gpu_check", "run_hours"]
