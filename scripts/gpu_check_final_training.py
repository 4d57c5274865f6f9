#!/usr/bin/env python
"""GPU check of final training (at most ~8 minutes on one GPU).

1. DDP with one process: the first training step of DARTS-V2 (20 cells × 36 channels,
   auxiliary head, AMP) gives the same loss plain and wrapped in DistributedDataParallel
   (world size 1, file:// init; NCCL on CUDA, gloo on a CPU).
2. Trains DARTS-V2 NetworkCIFAR (20 × 36, auxiliary, drop-path, cutout, AMP) on CIFAR-10
   for a few epochs, time-boxed, and reports images/s, peak GPU memory and test accuracy.
3. Measures the training throughput of the ImageNet network (14 cells × 48 channels) on
   random 224 × 224 inputs, for the GPU-hour estimate of an ImageNet run.

Results go as JSON to ``--out`` (default ``$OUT/gpu_check.json`` when ``OUT`` is set, else
``metrics/final_training_gpu_check.json``, which notebook 05 reads). CIFAR-10 comes from
the JPEG zip: ``--cifar-zip PATH`` (a GPU machine may have no data root), else
``$TGNAS_DATA`` / the usual data root.

Usage::

    python scripts/gpu_check_final_training.py --cifar-zip carried/cifar10_jpg.zip
    # CPU dry run of the script itself (tiny settings):
    python scripts/gpu_check_final_training.py --device cpu --layers 3 --init-channels 4 \\
        --train-images 256 --test-images 100 --epochs 1 --imagenet-batch 2 --imagenet-steps 1 \\
        --ddp-images 32 --batch-size 16 --out gpu_check_dry_run.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def _default_out() -> Path:
    if os.environ.get("OUT"):
        return Path(os.environ["OUT"]) / "gpu_check.json"
    from tgnas import paths
    return paths.METRICS_DIR / "final_training_gpu_check.json"


def _use_zip(zip_path: str) -> None:
    """Point TGNAS_DATA at a temporary root holding ``cifar10/cifar10_jpg.zip`` -> ``zip_path``."""
    src = Path(zip_path).expanduser().resolve()
    if not src.is_file():
        raise SystemExit(f"--cifar-zip {src}: no such file")
    root = Path(tempfile.mkdtemp(prefix="tgnas-data-"))
    (root / "cifar10").mkdir()
    (root / "cifar10" / "cifar10_jpg.zip").symlink_to(src)
    os.environ["TGNAS_DATA"] = str(root)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=None)
    ap.add_argument("--cifar-zip", default=None, help="path of cifar10_jpg.zip (else TGNAS_DATA / data root)")
    ap.add_argument("--device", default="auto")
    ap.add_argument("--amp", default="auto", choices=("auto", "off", "bf16", "fp16"))
    ap.add_argument("--epochs", type=int, default=8, help="cosine schedule length (the run may stop earlier)")
    ap.add_argument("--budget-s", type=float, default=240.0, help="time box of the CIFAR-10 training")
    ap.add_argument("--batch-size", type=int, default=96)
    ap.add_argument("--layers", type=int, default=20)
    ap.add_argument("--init-channels", type=int, default=36)
    ap.add_argument("--train-images", type=int, default=None, help="default: all 50,000")
    ap.add_argument("--test-images", type=int, default=None, help="default: all 10,000")
    ap.add_argument("--ddp-images", type=int, default=192, help="training images of the DDP check runs")
    ap.add_argument("--imagenet-batch", type=int, default=128)
    ap.add_argument("--imagenet-steps", type=int, default=10)
    args = ap.parse_args(argv)
    t_start = time.perf_counter()
    if args.cifar_zip:
        _use_zip(args.cifar_zip)

    import torch
    import torch.distributed as dist

    from tgnas.train import FinalTrainData, build_model, parse_architecture, preset, train_final
    from tgnas.train.cost import TRAIN_IMAGES, describe_network, measure_train_throughput, run_hours
    from tgnas.train.data import TensorSplit
    from tgnas.train.loop import amp_dtype, load_data, resolve_device

    out_path = Path(args.out) if args.out else _default_out()
    device = resolve_device(args.device)
    report: dict = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__, "cuda": torch.version.cuda, "amp": args.amp,
        "amp_dtype": str(amp_dtype(args.amp, device)), "checks": {},
    }

    def write() -> None:
        report["total_seconds"] = round(time.perf_counter() - t_start, 1)
        out_path.parent.mkdir(parents=True, exist_ok=True)
        out_path.write_text(json.dumps(report, indent=2))

    def stage(name, fn) -> None:
        """Run one check; record its error and go on, so one failure does not hide the rest."""
        t0 = time.perf_counter()
        try:
            fn()
        except Exception as err:  # noqa: BLE001 - reported, not swallowed
            traceback.print_exc()
            report.setdefault("errors", {})[name] = f"{type(err).__name__}: {err}"
        report.setdefault("stage_seconds", {})[name] = round(time.perf_counter() - t0, 1)
        write()

    parsed = parse_architecture("DARTS_V2")
    cfg = preset("cifar10", "darts").with_overrides(dict(
        epochs=args.epochs, batch_size=args.batch_size, layers=args.layers, init_channels=args.init_channels,
        train_images=args.train_images, test_images=args.test_images, amp=args.amp, device=str(device),
        progress=False, time_limit_s=args.budget_s, num_workers=0))
    t = time.perf_counter()
    data = load_data(cfg)
    report["data"] = {"source": data.source, "train_images": len(data.train), "test_images": len(data.test),
                      "load_seconds": round(time.perf_counter() - t, 1)}
    print("data:", report["data"], flush=True)
    work = Path(tempfile.mkdtemp(prefix="tgnas-gpu-check-"))

    # ---- 1. DDP (world size 1) vs plain: the first step's loss
    n = args.ddp_images
    small = FinalTrainData(TensorSplit(data.train.images[:n], data.train.labels[:n], data.source),
                           TensorSplit(data.test.images[:n], data.test.labels[:n], data.source), 10, data.source)
    ddp_cfg = cfg.with_overrides({"epochs": 1, "time_limit_s": None})

    def first_step_loss(tag: str) -> float:
        seen: list[float] = []

        def grab(info):
            seen.append(info.loss)
            info.stop.set("first step taken")

        train_final(ddp_cfg, parsed, work / tag, data=small, on_step=grab)
        return seen[0]

    def ddp_check() -> None:
        plain = first_step_loss("plain")
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend, init_method=f"file://{work / 'pg_store'}", rank=0, world_size=1)
        try:
            wrapped = first_step_loss("ddp")
        finally:
            dist.destroy_process_group()
        diff = abs(plain - wrapped)
        # same weights, same batch: only cuDNN's algorithm choice (benchmark mode) may differ,
        # which moves a bf16/fp16 loss in its third digit at most
        tol = (1e-2 if amp_dtype(args.amp, device) is not None else 1e-4) * max(abs(plain), 1.0)
        report["checks"]["ddp_world1_first_step"] = {
            "backend": backend, "plain_loss": plain, "ddp_loss": wrapped, "abs_diff": diff,
            "tolerance": tol, "match": diff <= tol}
        print("DDP check:", report["checks"]["ddp_world1_first_step"], flush=True)

    stage("ddp_world1_first_step", ddp_check)

    # ---- 2. CIFAR-10 training, time-boxed
    def cifar10() -> None:
        if device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(device)
        result = train_final(cfg, parsed, work / "cifar10", data=data)
        peak = torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None
        train_s = sum(h["train_seconds"] for h in result.history)
        images = len(result.history) * (len(data.train) // cfg.batch_size) * cfg.batch_size
        ips = images / train_s if train_s > 0 else None
        later = [h["images_per_s"] for h in result.history[1:] if h["images_per_s"]]
        report["cifar10"] = {
            "network": f"DARTS_V2 NetworkCIFAR {cfg.layers} cells x {cfg.init_channels} ch, auxiliary, "
                       f"drop-path {cfg.drop_path_prob}, cutout {cfg.cutout}",
            "params_m": result.num_params / 1e6, "batch_size": cfg.batch_size,
            "epochs_scheduled": cfg.epochs, "epochs_done": result.epochs_done,
            "stopped_by": result.stop_reason or "finished", "test_acc": result.test_acc,
            "history": result.history, "images_per_s": ips,
            "images_per_s_after_epoch_1": sorted(later)[len(later) // 2] if later else None,
            "peak_memory_gib": peak, "seconds": round(result.seconds, 1)}
        report["cifar10_images_per_s"] = ips
        if ips:
            report["gpu_hours_cifar10_600_epochs"] = run_hours(600, TRAIN_IMAGES["cifar10"], ips)
        print("CIFAR-10:", {k: v for k, v in report["cifar10"].items() if k != "history"}, flush=True)

    stage("cifar10_training", cifar10)

    # ---- 3. ImageNet network throughput on random inputs
    def imagenet() -> None:
        in_cfg = preset("imagenet", "darts")
        net = build_model(in_cfg, parsed, 1000)
        desc = describe_network(net, 224)
        if device.type == "cuda":
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
        in_ips = measure_train_throughput(net, args.imagenet_batch, 224, steps=args.imagenet_steps, warmup=3,
                                          device=device, amp=args.amp, num_classes=1000)
        report["imagenet_synthetic"] = {
            "network": f"DARTS_V2 NetworkImageNet {in_cfg.layers} cells x {in_cfg.init_channels} ch, auxiliary",
            **{k: round(v, 3) for k, v in desc.items()}, "batch_size": args.imagenet_batch,
            "images_per_s": in_ips,
            "peak_memory_gib": torch.cuda.max_memory_allocated(device) / 2**30 if device.type == "cuda" else None,
            "note": "random inputs; no JPEG decoding or data loading"}
        report["imagenet_images_per_s"] = in_ips
        report["gpu_hours_imagenet_250_epochs"] = run_hours(250, TRAIN_IMAGES["imagenet"], in_ips)
        print("ImageNet network:", report["imagenet_synthetic"], flush=True)

    stage("imagenet_throughput", imagenet)
    print("wrote", out_path, f"({report['total_seconds']} s)", flush=True)
    return 1 if report.get("errors") else 0


if __name__ == "__main__":
    sys.exit(main())
