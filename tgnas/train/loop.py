"""The final-training loop: one entry point for one CPU, one GPU or N GPUs (``torchrun``).

:func:`train_final` parses the architecture (before anything else, so a bad genotype fails
at once), joins a ``torch.distributed`` process group when ``torchrun`` started several
processes (``env://``; NCCL on CUDA, gloo otherwise) or when the caller already made one,
wraps the network in DDP, and trains with the settings of a
:class:`~tgnas.train.config.FinalTrainConfig`.

Files in ``out_dir`` (written by rank 0 only):

* ``config.json`` — the settings, the architecture and the world size;
* ``log.jsonl`` — one JSON line per epoch: ``epoch, train_loss, train_acc, test_loss,
  test_acc, images_per_s, lr, seconds, train_seconds, drop_path_prob`` (accuracies in %);
* ``checkpoint.pt`` — written atomically after every epoch and when a stop is requested
  (SIGTERM) at the next step boundary: model, optimizer, scheduler, grad scaler, epoch and
  step, per-rank RNG states (python, numpy, torch, CUDA, the augmentation generator) and the
  metrics so far. ``resume=True`` continues from it; on a CPU a resumed run reproduces the
  uninterrupted one exactly (same parameters bit for bit), with the same world size;
* ``result.json`` — the summary of the finished (or interrupted) run.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from torch import nn
from tqdm.auto import tqdm

from tgnas.train.arch import (ParsedArch, build_model, count_parameters,
                              named_genotypes, parse_architecture)
from tgnas.train.config import FinalTrainConfig
from tgnas.train.data import (CIFAR10_MEAN, CIFAR10_STD, IMAGENET_MEAN, IMAGENET_STD, CifarAugment,
                              ImageFolderDataset, ShardedBatchSampler, TensorSplit, eval_shard,
                              global_batches, load_cifar10_split, normalize, rank_slice)
from tgnas.checkpoints import CheckpointError, check_finite, load_checkpoint_file, save_checkpoint
from tgnas.errors import shorten
from tgnas.fileio import OutputExistsError, check_output, write_json, write_text
from tgnas.train.runtime import (DistContext, StopFlag, WarmupCosine, amp_dtype, derived_seed, init_distributed,
                                 resolve_device, rng_state, set_rng_state, set_seed, sigterm_sets, unwrap)

CHECKPOINT_NAME = "checkpoint.pt"
LOG_NAME = "log.jsonl"
CONFIG_NAME = "config.json"
RESULT_NAME = "result.json"
#: ``format`` of ``checkpoint.pt`` (2: RNG states as plain lists and tensors, digest stored).
CHECKPOINT_FORMAT = 2
#: Exit status the CLI returns after a stop request (SIGTERM) was honoured with a checkpoint.
EXIT_INTERRUPTED = 143
#: Config fields that may differ between a run and its resumption (they do not change
#: what is computed, or only how fast).
RESUMABLE_CHANGES: frozenset[str] = frozenset(
    {"progress", "time_limit_s", "num_workers", "device", "data_source", "eval_every", "amp", "cpu_threads"})
#: With several ranks, agree on a stop request every this many steps (a collective call).
_DDP_STOP_CHECK_EVERY = 10


# --------------------------------------------------------------------------- data


@dataclass
class FinalTrainData:
    """Training and test data: tensors (CIFAR-10) or image folders (ImageNet)."""

    train: TensorSplit | ImageFolderDataset
    test: TensorSplit | ImageFolderDataset
    num_classes: int
    source: str


def preflight(cfg: FinalTrainConfig) -> None:
    """Checks that need no data: raise ``ValueError`` now rather than after loading."""
    if cfg.dataset == "imagenet":
        if not cfg.data_source:
            raise ValueError("ImageNet needs data_source: a folder holding train/<class>/*.JPEG and "
                             "val/<class>/*.JPEG (the standard class-per-folder layout)")
        root = Path(cfg.data_source).expanduser()
        for split in ("train", "val"):
            if not (root / split).is_dir():
                raise ValueError(f"ImageNet data_source {root} has no {split}/ folder; expected "
                                 f"{root}/train/<class>/ and {root}/val/<class>/")
    elif cfg.data_source is not None and not Path(cfg.data_source).expanduser().is_dir():
        raise ValueError(f"CIFAR-10 data_source {cfg.data_source} is not a folder; expected the official "
                         f"'cifar-10-batches-py' folder (or leave it unset for the shared JPEG zip)")
    amp_dtype(cfg.amp, resolve_device(cfg.device))


def load_data(cfg: FinalTrainConfig) -> FinalTrainData:
    """Load ``cfg.dataset`` (subsets ``train_images`` / ``test_images``)."""
    if cfg.dataset == "cifar10":
        train = load_cifar10_split("train", cfg.train_images, cfg.data_source)
        test = load_cifar10_split("test", cfg.test_images, cfg.data_source)
        return FinalTrainData(train, test, 10, train.source)
    if cfg.dataset == "imagenet":
        preflight(cfg)
        root = Path(cfg.data_source).expanduser()
        train = ImageFolderDataset(root / "train", train=True, image_size=cfg.image_size, seed=cfg.seed,
                                   limit=cfg.train_images, color_jitter=cfg.color_jitter)
        test = ImageFolderDataset(root / "val", train=False, image_size=cfg.image_size,
                                  limit=cfg.test_images, classes=train.classes)
        return FinalTrainData(train, test, len(train.classes), f"image-folder:{root}")
    raise ValueError(f"unknown dataset {cfg.dataset!r}")


# --------------------------------------------------------------------------- results


@dataclass
class FinalTrainResult:
    """What a run did.

    Attributes:
        out_dir: folder with ``config.json``, ``log.jsonl``, ``checkpoint.pt``, ``result.json``.
        history: one record per finished epoch (as in ``log.jsonl``).
        step_losses: training loss (main head, mean over the global batch) of every step so
            far, resumed parts included.
        epochs_done: finished epochs.
        interrupted: stopped early (SIGTERM / stop request / time limit) with a checkpoint.
        stop_reason: why it stopped early (``""`` if it did not).
        num_params: parameters without the auxiliary head.
        images_per_s: training images per second of this process's run (all ranks together).
        seconds: wall time of this call.
        world_size, device: where it ran.
        data_source: where the images came from.
    """

    out_dir: Path
    history: list[dict[str, Any]]
    step_losses: list[float]
    epochs_done: int
    interrupted: bool
    stop_reason: str
    num_params: int
    images_per_s: float
    seconds: float
    world_size: int
    device: str
    data_source: str
    space: str = ""
    genotype: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    #: the trained network (unwrapped from DDP), on its device; not serialised
    model: nn.Module | None = field(default=None, repr=False)

    @property
    def test_acc(self) -> float | None:
        """Test accuracy (%) of the last evaluated epoch."""
        for rec in reversed(self.history):
            if rec.get("test_acc") is not None:
                return rec["test_acc"]
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"out_dir": str(self.out_dir), "space": self.space, "genotype": self.genotype,
                "epochs_done": self.epochs_done, "interrupted": self.interrupted,
                "stop_reason": self.stop_reason, "num_params": self.num_params,
                "test_acc": self.test_acc, "images_per_s": self.images_per_s,
                "seconds": self.seconds, "world_size": self.world_size, "device": self.device,
                "data_source": self.data_source, "history": self.history, **self.extra}


@dataclass(frozen=True)
class StepInfo:
    """Passed to ``on_step`` after every optimiser step (the loss is this rank's)."""

    epoch: int
    step: int
    global_step: int
    loss: float
    lr: float
    stop: StopFlag


# --------------------------------------------------------------------------- batches


def _train_batches(data: FinalTrainData, cfg: FinalTrainConfig, ctx: DistContext, epoch: int,
                   start: int, augment: CifarAugment, gen: torch.Generator
                   ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """This rank's training batches of ``epoch`` from step ``start``: ``x (b, 3, H, W)`` float, ``y (b,)``."""
    dev = ctx.device
    if isinstance(data.train, TensorSplit):
        for gb in global_batches(len(data.train), cfg.batch_size, cfg.seed, epoch)[start:]:
            idx, offset = rank_slice(gb, ctx.rank, ctx.world_size)
            idx = idx.to(dev)
            yield augment(data.train.images[idx], gen, len(gb), offset), data.train.labels[idx]
        return
    ds = data.train
    ds.set_epoch(epoch)
    sampler = ShardedBatchSampler(len(ds), cfg.batch_size, ctx.rank, ctx.world_size, cfg.seed, epoch, start)
    loader = torch.utils.data.DataLoader(ds, batch_sampler=sampler, num_workers=cfg.num_workers,
                                         pin_memory=dev.type == "cuda")
    mean = torch.tensor(IMAGENET_MEAN, device=dev)
    std = torch.tensor(IMAGENET_STD, device=dev)
    for x, y in loader:
        yield normalize(x.to(dev, non_blocking=True), mean, std), y.to(dev, non_blocking=True)


def _eval_batches(data: FinalTrainData, cfg: FinalTrainConfig, ctx: DistContext
                  ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """This rank's contiguous share of the test split, in batches of the per-rank training batch."""
    dev = ctx.device
    shard = eval_shard(len(data.test), ctx.rank, ctx.world_size)
    batch = max(1, cfg.batch_size // ctx.world_size)  # the per-rank training batch fits, so this does
    if isinstance(data.test, TensorSplit):
        mean = torch.tensor(CIFAR10_MEAN, device=dev)
        std = torch.tensor(CIFAR10_STD, device=dev)
        for idx in torch.split(shard, batch):
            idx = idx.to(dev)
            yield normalize(data.test.images[idx], mean, std), data.test.labels[idx]
        return
    loader = torch.utils.data.DataLoader(torch.utils.data.Subset(data.test, shard.tolist()),
                                         batch_size=batch, shuffle=False,
                                         num_workers=cfg.num_workers, pin_memory=dev.type == "cuda")
    mean = torch.tensor(IMAGENET_MEAN, device=dev)
    std = torch.tensor(IMAGENET_STD, device=dev)
    for x, y in loader:
        yield normalize(x.to(dev, non_blocking=True), mean, std), y.to(dev, non_blocking=True)


def _split_output(out: Any) -> tuple[torch.Tensor, torch.Tensor | None]:
    """DARTS networks return ``(logits, logits_aux)``; NB201 networks return logits."""
    if isinstance(out, tuple):
        return out[0], out[1]
    return out, None


def _all_reduce_sum(values: list[float], ctx: DistContext) -> list[float]:
    if not ctx.distributed:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return t.tolist()


def _broadcast_buffers(model: nn.Module, ctx: DistContext) -> None:
    """Give every rank rank 0's buffers (BatchNorm running statistics).

    DDP broadcasts them at the start of each training forward, so after the last step each
    rank holds statistics of its own half batch; evaluation and checkpoints use rank 0's,
    as the next training forward would.
    """
    if ctx.distributed:
        for buf in unwrap(model).buffers():
            dist.broadcast(buf, src=0)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def evaluate(model: nn.Module, data: FinalTrainData, cfg: FinalTrainConfig, ctx: DistContext,
             dtype: torch.dtype | None) -> tuple[float, float]:
    """Mean loss and accuracy (%) on the test split (shards summed over ranks)."""
    net = unwrap(model)
    net.eval()
    criterion = nn.CrossEntropyLoss(reduction="sum")
    loss_sum, correct, count = 0.0, 0.0, 0.0
    with torch.inference_mode():
        acc = torch.zeros(3, dtype=torch.float64, device=ctx.device)
        for x, y in _eval_batches(data, cfg, ctx):
            with _autocast(ctx.device, dtype):
                logits, _ = _split_output(net(x))
            acc[0] += criterion(logits.float(), y).double()
            acc[1] += (logits.argmax(1) == y).sum()
            acc[2] += y.numel()
        loss_sum, correct, count = acc.tolist()
    loss_sum, correct, count = _all_reduce_sum([loss_sum, correct, count], ctx)
    return loss_sum / max(count, 1), 100.0 * correct / max(count, 1)


def _autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


# --------------------------------------------------------------------------- the loop


def check_run_folder(out_dir: str | Path, resume: bool = False, overwrite: bool = False) -> Path:
    """Before any work: may a run write into ``out_dir``? Returns it resolved.

    A folder holding another run's files (checkpoint, log, config, result) is never reused
    unless ``resume`` (continue it) or ``overwrite`` (replace it) says so.

    Raises:
        OutputExistsError: ``out_dir`` holds a run and neither flag is set.
        NotADirectoryError, PermissionError: ``out_dir`` cannot be written.
    """
    out = Path(out_dir).expanduser().resolve()
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"output folder {out} is a file")
    found = [n for n in (CHECKPOINT_NAME, LOG_NAME, CONFIG_NAME, RESULT_NAME) if (out / n).exists()]
    if found and not (resume or overwrite):
        raise OutputExistsError(f"{out} holds a run ({', '.join(found)}); continue it with resume=True "
                                f"or replace it with overwrite=True")
    check_output(out / CONFIG_NAME, overwrite=True, what="run folder file")
    return out


#: What a final-training checkpoint holds (:func:`_save`): key -> the type of its value.
_SAVED_TYPES: dict[str, type] = {
    "config": dict, "genotype": str, "world_size": int, "epoch": int, "step_in_epoch": int, "model": dict,
    "optimizer": dict, "scheduler": dict, "scaler": dict, "rng": list, "history": list, "step_losses": list,
    "partial": list}


def _check_saved(saved: dict[str, Any]) -> None:
    """Every key :func:`_save` writes, of its type, and finite weights (a diverged run's NaN
    weights would train on with NaN loss)."""
    missing = [k for k in _SAVED_TYPES if k not in saved]
    if missing:
        raise CheckpointError(f"the checkpoint lacks {missing}; it is not a complete final-training checkpoint "
                              f"(start afresh with --overwrite)")
    for key, kind in _SAVED_TYPES.items():
        if not isinstance(saved[key], kind) or isinstance(saved[key], bool):
            raise CheckpointError(f"the checkpoint's {key!r} must be of type {kind.__name__}, got "
                                  f"{type(saved[key]).__name__} {shorten(saved[key], 40)} (start afresh with --overwrite)")
    if len(saved["rng"]) != saved["world_size"]:
        raise CheckpointError(f"the checkpoint holds {len(saved['rng'])} RNG states for {saved['world_size']} "
                              f"processes (start afresh with --overwrite)")
    check_finite(saved["model"], "the checkpoint to resume")


def _check_resumable(saved: dict[str, Any], cfg: FinalTrainConfig, parsed: ParsedArch, world: int) -> None:
    if saved.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"the checkpoint has format {shorten(saved.get('format'))}; this tgnas resumes "
                              f"format {CHECKPOINT_FORMAT} (start afresh with --overwrite)")
    _check_saved(saved)
    if saved["genotype"] != parsed.text:
        raise ValueError(f"the checkpoint trains {shorten(saved['genotype'])}, not {shorten(parsed.text)}; "
                         f"use another out_dir or the same genotype")
    now = cfg.to_dict()
    diff = {k: (v, now.get(k)) for k, v in saved["config"].items()
            if k not in RESUMABLE_CHANGES and now.get(k) != v}
    if diff:
        raise ValueError("cannot resume: settings differ from the checkpoint's "
                         + ", ".join(f"{k}: {a!r} (checkpoint) vs {b!r}" for k, (a, b) in sorted(diff.items())))
    if saved["world_size"] != world:
        raise ValueError(f"cannot resume a {saved['world_size']}-process run with {world} processes: "
                         f"the global batch is split differently; relaunch with "
                         f"--nproc-per-node {saved['world_size']}")


def train_final(cfg: FinalTrainConfig, genotype: str | ParsedArch, out_dir: str | Path,
                resume: bool = False, data: FinalTrainData | None = None,
                on_step: Callable[[StepInfo], None] | None = None, stop: StopFlag | None = None,
                model_fn: Callable[[FinalTrainConfig, ParsedArch, int], nn.Module] | None = None,
                overwrite: bool = True) -> FinalTrainResult:
    """Train ``genotype`` with ``cfg``; see the module docstring for files and behaviour.

    Args:
        cfg: all settings.
        genotype: DARTS genotype string, NB201 arch string, ``DARTS_V1``/``DARTS_V2``, or a
            :class:`ParsedArch`. Parsed first: a bad one raises ``ValueError`` before any
            data is loaded or file written.
        out_dir: output folder (created by rank 0).
        resume: continue from ``out_dir/checkpoint.pt`` if it exists (a fresh run starts,
            with a message, if it does not).
        data: pre-loaded data (tests, notebooks); default :func:`load_data`.
        on_step: called after every step with a :class:`StepInfo`.
        stop: a :class:`StopFlag` to request a stop from outside; SIGTERM also sets it.
        model_fn: ``(cfg, parsed, num_classes) -> nn.Module`` instead of :func:`build_model`.
        overwrite: without ``resume``, may a run already in ``out_dir`` be replaced?
            (``tgnas train-final`` passes False unless ``--overwrite``; see
            :func:`check_run_folder`).

    Returns:
        :class:`FinalTrainResult` (on every rank; metrics are global).
    """
    t_call = time.perf_counter()
    parsed = genotype if isinstance(genotype, ParsedArch) else parse_architecture(genotype)
    check_run_folder(out_dir, resume, overwrite)  # before any work
    if data is None:
        preflight(cfg)
    stop = stop if stop is not None else StopFlag()
    ctx = init_distributed(cfg.device)
    threads = torch.get_num_threads()
    try:
        if ctx.device.type == "cpu" and cfg.cpu_threads:
            torch.set_num_threads(cfg.cpu_threads)
        with sigterm_sets(stop):
            run = _setup(cfg, parsed, Path(out_dir), data, ctx, model_fn, on_step, stop)
            return _run(run, resume, t_call)
    finally:
        torch.set_num_threads(threads)
        if ctx.created_group:
            dist.destroy_process_group()


@dataclass
class _Run:
    """What a run trains with: settings, data, the network and its optimiser (fixed per call)."""

    cfg: FinalTrainConfig
    parsed: ParsedArch
    out: Path
    ctx: DistContext
    dtype: torch.dtype | None      # autocast dtype, None = full precision
    data: FinalTrainData
    steps_per_epoch: int
    model: nn.Module               # DDP-wrapped when distributed
    num_params: int
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LambdaLR
    scaler: torch.amp.GradScaler
    criterion: nn.Module
    gen: torch.Generator           # augmentation draws, equal on every rank
    augment: CifarAugment
    on_step: Callable[[StepInfo], None] | None
    stop: StopFlag

    @property
    def device(self) -> torch.device:
        return self.ctx.device


@dataclass
class _Progress:
    """Where the run is; saved in the checkpoint as plain values."""

    epoch: int = 0
    step: int = 0                  # optimiser steps done in ``epoch``
    history: list[dict[str, Any]] = field(default_factory=list)
    step_losses: list[float] = field(default_factory=list)
    #: loss sum, correct, count, train seconds of the unfinished epoch
    partial: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0, 0.0])
    images: int = 0                # training images of this call (all ranks)
    train_seconds: float = 0.0     # training seconds of this call
    interrupted: bool = False
    reason: str = ""
    where: str = ""


def _setup(cfg: FinalTrainConfig, parsed: ParsedArch, out: Path, data: FinalTrainData | None,
           ctx: DistContext, model_fn, on_step, stop: StopFlag) -> _Run:
    """Data on the device, the seeded network, optimiser, schedule and augmentation (no DDP yet)."""
    dev = ctx.device
    dtype = amp_dtype(cfg.amp, dev)
    if cfg.batch_size % ctx.world_size:
        raise ValueError(f"batch_size={cfg.batch_size} (global) must be divisible by the "
                         f"{ctx.world_size} processes")
    if dev.type == "cuda":
        torch.backends.cudnn.benchmark = True
    data = data if data is not None else load_data(cfg)
    if isinstance(data.train, TensorSplit):
        data = FinalTrainData(data.train.to(dev), data.test.to(dev), data.num_classes, data.source)
    steps_per_epoch = len(data.train) // cfg.batch_size
    if steps_per_epoch == 0:
        raise ValueError(f"batch_size={cfg.batch_size} exceeds the {len(data.train)} training images")
    set_seed(cfg.seed)
    model = (model_fn or build_model)(cfg, parsed, data.num_classes).to(dev)
    num_params = count_parameters(model)
    # per-rank streams for drop-path masks; augmentation draws come from `gen`, equal on all ranks
    set_seed(derived_seed(cfg.seed, 1, ctx.rank))
    gen = torch.Generator(device=dev).manual_seed(derived_seed(cfg.seed, 2))
    augment = CifarAugment(padding=cfg.crop_padding, cutout=cfg.cutout, device=dev)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr, momentum=cfg.momentum,
                                weight_decay=cfg.weight_decay, nesterov=cfg.nesterov)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, WarmupCosine(steps_per_epoch * cfg.epochs, cfg.warmup_epochs * steps_per_epoch,
                                cfg.lr_min / cfg.lr))
    scaler = torch.amp.GradScaler(dev.type, enabled=dtype == torch.float16)
    criterion = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    return _Run(cfg, parsed, out, ctx, dtype, data, steps_per_epoch, model, num_params, optimizer, scheduler,
                scaler, criterion, gen, augment, on_step, stop)


def _restore(run: _Run, prog: _Progress) -> dict[str, Any] | None:
    """Load ``checkpoint.pt`` (``weights_only=True``, digest checked) into ``run`` and ``prog``;
    return this rank's RNG state to restore once the start files are written."""
    saved = load_checkpoint_file(run.out / CHECKPOINT_NAME, "final-training checkpoint")
    _check_resumable(saved, run.cfg, run.parsed, run.ctx.world_size)
    run.model.load_state_dict(saved["model"])
    run.optimizer.load_state_dict(saved["optimizer"])
    run.scheduler.load_state_dict(saved["scheduler"])
    run.scaler.load_state_dict(saved["scaler"])
    prog.epoch, prog.step = saved["epoch"], saved["step_in_epoch"]
    prog.history, prog.step_losses, prog.partial = saved["history"], saved["step_losses"], saved["partial"]
    if run.ctx.is_main:
        print(f"resuming {run.out} at epoch {prog.epoch + 1}, step {prog.step} of {run.steps_per_epoch}",
              flush=True)
    return saved["rng"][run.ctx.rank]


def _write_start_files(run: _Run, prog: _Progress) -> None:
    """``config.json``, and ``log.jsonl`` rewritten from the checkpoint's history (so it never
    holds an epoch the checkpoint does not know)."""
    run.out.mkdir(parents=True, exist_ok=True)
    write_json({"config": run.cfg.to_dict(), "space": run.parsed.space, "genotype": run.parsed.text,
                "world_size": run.ctx.world_size, "device": str(run.device), "num_params": run.num_params,
                "data_source": run.data.source}, run.out / CONFIG_NAME, indent=2)
    write_text(run.out / LOG_NAME, "".join(json.dumps(r) + "\n" for r in prog.history))


def _save(run: _Run, prog: _Progress) -> None:
    """Checkpoint at (``prog.epoch``, ``prog.step``); every rank's RNG state, rank 0 writes."""
    rng = rng_state(run.gen)
    if run.ctx.distributed:
        states: list[Any] = [None] * run.ctx.world_size
        dist.all_gather_object(states, rng)
    else:
        states = [rng]
    if run.ctx.is_main:
        save_checkpoint({
            "format": CHECKPOINT_FORMAT, "config": run.cfg.to_dict(), "space": run.parsed.space,
            "genotype": run.parsed.text, "world_size": run.ctx.world_size, "epoch": prog.epoch,
            "step_in_epoch": prog.step, "model": unwrap(run.model).state_dict(),
            "optimizer": run.optimizer.state_dict(), "scheduler": run.scheduler.state_dict(),
            "scaler": run.scaler.state_dict(), "rng": states, "history": prog.history,
            "step_losses": prog.step_losses, "partial": prog.partial,
        }, run.out / CHECKPOINT_NAME)


def _stop_agreed(run: _Run) -> bool:
    """Has any rank been asked to stop? (a collective call when distributed)"""
    flag = 1.0 if run.stop.is_set() else 0.0
    if run.ctx.distributed:
        t = torch.tensor([flag], device=run.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        flag = float(t.item())
    return flag > 0


def _train_steps(run: _Run, prog: _Progress) -> tuple[torch.Tensor, list[torch.Tensor], float, int]:
    """Train ``prog.epoch`` from step ``prog.step`` until its end or an agreed stop request.

    Returns ``(sums, losses, lr, steps)``: ``sums (3,)`` float64 loss sum, correct, count
    (``prog.partial`` included), per-step losses ``(1,)`` each, the last lr used and the steps taken.
    """
    cfg, dev, model = run.cfg, run.device, run.model
    acc = torch.tensor(prog.partial[:3], dtype=torch.float64, device=dev)
    pending: list[torch.Tensor] = []
    bar = tqdm(total=run.steps_per_epoch, initial=prog.step, desc=f"epoch {prog.epoch + 1}/{cfg.epochs}",
               unit="step", disable=not (cfg.progress and run.ctx.is_main), leave=False, mininterval=1.0)
    start, step = prog.step, prog.step
    lr_used = run.optimizer.param_groups[0]["lr"]
    for x, y in _train_batches(run.data, cfg, run.ctx, prog.epoch, start, run.augment, run.gen):
        lr_used = run.optimizer.param_groups[0]["lr"]
        with _autocast(dev, run.dtype):
            logits, logits_aux = _split_output(model(x))
            loss = run.criterion(logits.float(), y)
            total = loss
            if logits_aux is not None:
                total = loss + cfg.auxiliary_weight * run.criterion(logits_aux.float(), y)
        run.optimizer.zero_grad(set_to_none=True)
        run.scaler.scale(total).backward()
        if cfg.grad_clip > 0:
            run.scaler.unscale_(run.optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        run.scaler.step(run.optimizer)
        run.scaler.update()
        run.scheduler.step()
        step += 1
        loss_d = loss.detach()
        pending.append(loss_d)
        acc[0] += loss_d.double() * y.numel()
        acc[1] += (logits.detach().argmax(1) == y).sum()
        acc[2] += y.numel()
        bar.update(1)
        if run.on_step is not None or (run.ctx.is_main and cfg.progress and step % 20 == 0):
            loss_f = float(loss_d)
            bar.set_postfix(loss=f"{loss_f:.3f}", lr=f"{lr_used:.4g}", refresh=False)
            if run.on_step is not None:
                run.on_step(StepInfo(prog.epoch, step, prog.epoch * run.steps_per_epoch + step, loss_f, lr_used,
                                     run.stop))
        check = run.ctx.world_size == 1 or step % _DDP_STOP_CHECK_EVERY == 0
        if step < run.steps_per_epoch and check and _stop_agreed(run):
            prog.interrupted, prog.reason = True, run.stop.reason or "stop requested on another rank"
            break
    _sync(dev)
    bar.close()
    return acc, pending, lr_used, step - start


def _epoch(run: _Run, prog: _Progress) -> None:
    """One (rest of an) epoch: train, then checkpoint mid-epoch on a stop, or evaluate, log and
    checkpoint at its end."""
    cfg = run.cfg
    epoch_t0 = time.perf_counter()
    net = unwrap(run.model)
    if hasattr(net, "drop_path_prob"):
        net.drop_path_prob = cfg.drop_path_prob * prog.epoch / cfg.epochs
    run.model.train()
    t_train = time.perf_counter()
    acc, pending, lr_used, steps_now = _train_steps(run, prog)
    train_s = time.perf_counter() - t_train
    prog.step_losses.extend(_reduce_losses(pending, run.ctx))
    sums = _all_reduce_sum(acc.tolist(), run.ctx)
    prog.images += steps_now * cfg.batch_size
    prog.train_seconds += train_s
    _broadcast_buffers(run.model, run.ctx)
    if prog.interrupted:
        prog.partial = [*acc.tolist(), prog.partial[3] + train_s]
        prog.step += steps_now
        _save(run, prog)
        prog.where = f"at step {prog.step} of {run.steps_per_epoch} of epoch {prog.epoch + 1}"
        return
    test_loss = test_acc = None
    if prog.epoch + 1 == cfg.epochs or (prog.epoch + 1) % cfg.eval_every == 0:
        test_loss, test_acc = evaluate(run.model, run.data, cfg, run.ctx, run.dtype)
    record = {
        "epoch": prog.epoch + 1, "train_loss": sums[0] / max(sums[2], 1),
        "train_acc": 100.0 * sums[1] / max(sums[2], 1), "test_loss": test_loss, "test_acc": test_acc,
        "images_per_s": steps_now * cfg.batch_size / train_s if train_s > 0 else None,
        "lr": lr_used, "seconds": time.perf_counter() - epoch_t0,
        "train_seconds": prog.partial[3] + train_s,
        "drop_path_prob": getattr(unwrap(run.model), "drop_path_prob", 0.0),
    }
    prog.history.append(record)
    prog.partial = [0.0, 0.0, 0.0, 0.0]
    prog.epoch += 1
    prog.step = 0
    _save(run, prog)
    if run.ctx.is_main:
        with open(run.out / LOG_NAME, "a") as fh:  # one line per epoch; rewritten from the checkpoint on resume
            fh.write(json.dumps(record) + "\n")
        print(json.dumps(record), flush=True)


def _run(run: _Run, resume: bool, t_call: float) -> FinalTrainResult:
    cfg, ctx = run.cfg, run.ctx
    prog = _Progress()
    ckpt_path = run.out / CHECKPOINT_NAME
    rng_to_restore = None
    if resume and ckpt_path.is_file():
        rng_to_restore = _restore(run, prog)
    elif resume and ctx.is_main:
        print(f"--resume: no checkpoint at {ckpt_path}; starting a fresh run", flush=True)
    if ctx.distributed:
        run.model = nn.parallel.DistributedDataParallel(
            run.model, device_ids=[run.device.index] if run.device.type == "cuda" else None)
    if ctx.is_main:
        _write_start_files(run, prog)
    if rng_to_restore is not None:
        set_rng_state(rng_to_restore, run.gen)

    run_t0 = time.perf_counter()
    while prog.epoch < cfg.epochs and not prog.interrupted:
        _epoch(run, prog)
        if prog.interrupted or prog.epoch >= cfg.epochs:
            break
        elapsed = time.perf_counter() - run_t0
        over_time = cfg.time_limit_s is not None and elapsed + prog.history[-1]["seconds"] > cfg.time_limit_s
        if over_time and not run.stop.is_set():
            run.stop.set(f"time limit of {cfg.time_limit_s:g} s")
        if _stop_agreed(run):
            prog.interrupted, prog.reason = True, run.stop.reason or "stop requested on another rank"
            prog.where = f"after epoch {prog.epoch}"

    result = FinalTrainResult(
        out_dir=run.out, history=prog.history, step_losses=prog.step_losses, epochs_done=prog.epoch,
        interrupted=prog.interrupted, stop_reason=prog.reason, num_params=run.num_params,
        images_per_s=prog.images / prog.train_seconds if prog.train_seconds > 0 else 0.0,
        seconds=time.perf_counter() - t_call, world_size=ctx.world_size, device=str(run.device),
        data_source=run.data.source, space=run.parsed.space, genotype=run.parsed.text, model=unwrap(run.model))
    if ctx.is_main:
        write_json(result.to_dict(), run.out / RESULT_NAME, indent=2)
        if prog.interrupted:
            print(f"stopped ({prog.reason}) {prog.where}; checkpoint {ckpt_path}: continue with --resume",
                  flush=True)
    return result


def _reduce_losses(pending: list[torch.Tensor], ctx: DistContext) -> list[float]:
    """Per-step losses averaged over ranks (each rank's is the mean over its equal share)."""
    if not pending:
        return []
    t = torch.stack(pending).float()
    if ctx.distributed:
        dist.all_reduce(t)
        t /= ctx.world_size
    return t.tolist()


__all__ = ["CHECKPOINT_FORMAT", "CHECKPOINT_NAME", "CONFIG_NAME", "EXIT_INTERRUPTED", "FinalTrainData", "FinalTrainResult",
           "LOG_NAME", "RESULT_NAME", "RESUMABLE_CHANGES", "StepInfo", "check_run_folder", "evaluate", "load_data", "preflight",
           "train_final",
           # re-exported from tgnas.train.arch and tgnas.train.runtime
           "DistContext", "ParsedArch", "StopFlag", "WarmupCosine", "amp_dtype", "build_model",
           "count_parameters", "init_distributed", "named_genotypes",
           "parse_architecture", "resolve_device", "set_seed", "sigterm_sets"]
