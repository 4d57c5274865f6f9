"""Configuration of the final training of a found architecture, with the published presets.

One dataclass, :class:`FinalTrainConfig`, holds every value; :func:`preset` gives the
published protocol for a (dataset, space) pair and a ``smoke`` variant that runs on a CPU in
a minute or two. Values are overridden from a mapping (the ``final_training`` section of
``params.yaml``) or from the command line with :meth:`FinalTrainConfig.with_overrides`;
unknown keys and badly typed values raise.

Presets (what the literature publishes):

* ``cifar10`` / ``darts`` — the DARTS evaluation protocol (Liu et al., 2019): 600 epochs,
  batch 96, SGD lr 0.025 momentum 0.9 weight decay 3e-4, cosine to 0, 20 cells of 36
  initial channels, cutout 16, auxiliary head weight 0.4, drop-path 0.3 (scaled linearly by
  epoch), gradient clipping at norm 5.
* ``cifar10`` / ``nb201`` — the NAS-Bench-201 protocol (Dong & Yang, 2020): 200 epochs,
  batch 256, SGD lr 0.1 Nesterov momentum 0.9 weight decay 5e-4, cosine to 0, ``C = 16``,
  ``N = 5`` cells per stage, random crop + flip, no cutout, no auxiliary head, no drop-path,
  no gradient clipping (the benchmark's 200-epoch training configuration).
* ``imagenet`` / ``darts`` — 14 cells of 48 channels as in TG-NAS, 250 epochs, the
  large-batch setting PC-DARTS trains with on 8 GPUs (batch 1024, lr 0.5), a 5-epoch linear
  warm-up then cosine (PC-DARTS decays linearly, DARTS by 0.97 per epoch), label smoothing
  0.1, weight decay 3e-5, auxiliary 0.4, no drop-path, clip 5, mixed precision; random-resized
  crop, flip and brightness/contrast/saturation jitter 0.4 (DARTS' jitter also has hue 0.2).
  DARTS' own one-GPU setting is batch 128 / lr 0.1 (``--batch-size 128 --lr 0.1``).

Deviations from the published code, on purpose: the learning rate follows the schedule
per step rather than per epoch (the same curve, without its 600 small stairs; it also
makes a one-epoch smoke run anneal), and the last incomplete training batch of an epoch is
dropped (different images each epoch) so that every data-parallel rank takes the same
number of equal steps. Mixed precision (``amp="auto"``: bf16 where supported on CUDA,
else fp16 with loss scaling; never on a CPU) is on by default on GPUs for CIFAR-10 too;
use ``amp="off"`` for the exact fp32 protocol.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, fields
from typing import Any, Mapping

from tgnas.errors import SettingError, shorten
from tgnas.runtime import check_number, check_seed, check_threads
from tgnas.spaces.catalog import get_space, space_names

DATASETS: tuple[str, ...] = ("cifar10", "imagenet")
#: Spaces whose cells ``tgnas train-final`` trains (those with an evaluation network).
SPACES: tuple[str, ...] = space_names(provides="build_final_net")
AMP_MODES: tuple[str, ...] = ("auto", "off", "bf16", "fp16")
#: Keys of a ``final_training`` params section that choose the run (or the notebook's
#: report) rather than the config.
META_KEYS: tuple[str, ...] = ("genotype", "smoke", "use_search_result", "assumed_gpu_images_per_s")
#: Override values that mean "unset" for optional fields (params files and papermill pass
#: plain scalars): 0 images = the whole split, "" = no data source, 0 s = no time limit.
_UNSET: dict[str, object] = {"train_images": 0, "test_images": 0, "data_source": "", "time_limit_s": 0}


@dataclass(frozen=True)
class FinalTrainConfig:
    """Every setting of a final-training run (defaults: DARTS on CIFAR-10, as published).

    Attributes:
        dataset: ``"cifar10"`` or ``"imagenet"``.
        epochs: training epochs.
        batch_size: the *global* batch (split evenly over data-parallel ranks).
        lr, lr_min: peak and final learning rate of the cosine schedule.
        momentum, nesterov, weight_decay: SGD settings (weight decay on all parameters,
            as DARTS does).
        warmup_epochs: linear warm-up from ``lr / warmup_steps`` to ``lr`` (0 = none).
        label_smoothing: cross-entropy label smoothing (main and auxiliary loss).
        init_channels: DARTS: initial channels ``C``; NB201: stage-1 channels ``C``.
        layers: DARTS: number of cells; NB201: cells per stage ``N``.
        auxiliary: add DARTS' auxiliary head (ignored by NB201 networks, which have none).
        auxiliary_weight: weight of the auxiliary loss.
        drop_path_prob: final drop-path probability; epoch ``e`` of ``E`` uses
            ``drop_path_prob * e / E`` (DARTS' linear schedule).
        grad_clip: clip the gradient norm to this (``0`` = no clipping).
        cutout: side of the cutout square (``0`` = none), CIFAR-10 only.
        crop_padding: zero padding of CIFAR-10's random crop (``0`` = no crop).
        image_size: ImageNet training/eval crop side.
        color_jitter: ImageNet brightness/contrast/saturation jitter strength (0 = off).
        train_images, test_images: class-balanced subsets (``None``, or 0 in overrides = whole split).
        data_source: CIFAR-10: an official ``cifar-10-batches-py`` folder (``None`` = the
            shared JPEG zip); ImageNet: the root holding ``train/`` and ``val/`` class folders.
        num_workers: ImageNet decoding worker processes per rank.
        amp: ``"auto"`` | ``"off"`` | ``"bf16"`` | ``"fp16"`` (CUDA only).
        device: ``"auto"`` (CUDA if available, else CPU), ``"cpu"``, ``"cuda"``…
        cpu_threads: torch intra-op threads while training on a CPU (``0`` = torch's default,
            all cores). ``1`` is much faster on a machine whose cores are shared with other
            jobs (spinning OpenMP threads then stall each other).
        seed: seeds model initialisation, data order and augmentation.
        eval_every: evaluate on the test split every this many epochs (and after the last).
        time_limit_s: stop (with a checkpoint) at the first epoch end after which another
            epoch would pass this many seconds of this run (``None`` = no limit).
        progress: show a tqdm bar on rank 0.
    """

    dataset: str = "cifar10"
    epochs: int = 600
    batch_size: int = 96
    lr: float = 0.025
    lr_min: float = 0.0
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 3e-4
    warmup_epochs: int = 0
    label_smoothing: float = 0.0
    init_channels: int = 36
    layers: int = 20
    auxiliary: bool = True
    auxiliary_weight: float = 0.4
    drop_path_prob: float = 0.3
    grad_clip: float = 5.0
    cutout: int = 16
    crop_padding: int = 4
    image_size: int = 224
    color_jitter: float = 0.4
    train_images: int | None = None
    test_images: int | None = None
    data_source: str | None = None
    num_workers: int = 4
    amp: str = "auto"
    device: str = "auto"
    cpu_threads: int = 0
    seed: int = 0
    eval_every: int = 1
    time_limit_s: float | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        _check_choice("dataset", self.dataset, DATASETS)
        _check_choice("amp", self.amp, AMP_MODES)
        for name in ("epochs", "batch_size", "init_channels", "layers", "image_size", "eval_every"):
            _check_int(name, getattr(self, name), minimum=1)
        for name in ("warmup_epochs", "cutout", "crop_padding", "num_workers", "seed", "cpu_threads"):
            _check_int(name, getattr(self, name), minimum=0)
        check_threads(self.cpu_threads, "cpu_threads")
        for name in ("train_images", "test_images"):
            if getattr(self, name) is not None:
                _check_int(name, getattr(self, name), minimum=1)
        check_seed(self.seed)
        for name in ("lr_min", "momentum", "weight_decay", "label_smoothing",
                     "auxiliary_weight", "drop_path_prob", "grad_clip", "color_jitter"):
            check_number(getattr(self, name), name)
        check_number(self.lr, "lr", 0.0, above=True)
        if self.lr_min > self.lr:
            raise SettingError("lr_min", f"must not exceed lr={self.lr}, got {self.lr_min}")
        if not self.drop_path_prob < 1:
            raise SettingError("drop_path_prob", f"must be in [0, 1), got {self.drop_path_prob}")
        if not self.label_smoothing < 1:
            raise SettingError("label_smoothing", f"must be in [0, 1), got {self.label_smoothing}")
        if self.warmup_epochs >= self.epochs and self.warmup_epochs > 0:
            raise SettingError("warmup_epochs", f"must be < epochs={self.epochs}, got {self.warmup_epochs}")
        if self.time_limit_s is not None:
            check_number(self.time_limit_s, "time_limit_s", 0.0, above=True)
        for name in ("nesterov", "auxiliary", "progress"):
            if not isinstance(getattr(self, name), bool):
                raise SettingError(name, f"must be a bool, got {shorten(getattr(self, name), 40)}")
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov=True needs momentum > 0")
        if not isinstance(self.device, str) or not self.device:
            raise SettingError("device", f"must be a non-empty string, got {shorten(self.device, 40)}")

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> FinalTrainConfig:
        """A copy with ``overrides`` applied (values coerced to the field's type).

        ``train_images``/``test_images`` 0, ``data_source`` "" and ``time_limit_s`` 0 mean
        unset (``None``).

        Raises:
            KeyError: a key that is not a field (the message lists the fields).
            ValueError: a value of the wrong type or out of range.
        """
        if not overrides:
            return self
        known = {f.name: f for f in fields(self)}
        changes: dict[str, Any] = {}
        for key, value in overrides.items():
            if key not in known:
                raise KeyError(f"unknown final-training setting {key!r}; expected one of {sorted(known)}")
            if key in _UNSET and not isinstance(value, bool) and value == _UNSET[key]:
                value = None
            changes[key] = coerce(key, value, _field_types()[key])
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (JSON-serialisable) of every field."""
        return dataclasses.asdict(self)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise SettingError(name, f"must be one of {list(choices)}, got {shorten(value, 40)}")


def _check_int(name: str, value: object, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise SettingError(name, f"must be an int >= {minimum}, got {shorten(value, 40)}")


def _field_types() -> dict[str, Any]:
    return typing.get_type_hints(FinalTrainConfig)


def coerce(name: str, value: Any, annotation: Any) -> Any:
    """Convert ``value`` (possibly a CLI/YAML string) to the field type ``annotation``.

    ``None``/``"none"``/``"null"`` are accepted for optional fields only; bools accept
    true/false/1/0/yes/no strings; ints refuse non-integral floats.
    """
    args = typing.get_args(annotation)
    optional = (typing.get_origin(annotation) in (typing.Union, types.UnionType)) and type(None) in args
    base = next(a for a in args if a is not type(None)) if optional else annotation
    if value is None or (isinstance(value, str) and value.strip().lower() in ("none", "null")):
        if optional:
            return None
        raise SettingError(name, f"cannot be None (expected {base.__name__})")
    try:
        if base is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if base is int:
            if isinstance(value, bool) or (isinstance(value, str) and len(value.strip()) > 30):
                raise ValueError  # (int() of thousands of digits is slow, then refused by Python)
            if isinstance(value, float):
                if not value.is_integer():
                    raise ValueError
                return int(value)
            return int(str(value).strip())
        if base is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if base is str:
            if not isinstance(value, (str, int, float)) or isinstance(value, bool):
                raise ValueError
            return str(value)
    except (TypeError, ValueError, OverflowError):
        article = "an" if base.__name__[0] in "aeiou" else "a"
        raise SettingError(name, f"must be {article} {base.__name__}, got {shorten(value, 40)}") from None
    raise TypeError(f"field {name} has an unsupported type {annotation!r}")  # pragma: no cover


# --------------------------------------------------------------------------- presets

# The protocols themselves are facts of each space (``space.final_protocols`` and
# ``space.final_smoke``, in its folder): which networks it trains on which dataset, how.


def preset(dataset: str = "cifar10", space: str = "darts", smoke: bool = False) -> FinalTrainConfig:
    """The published protocol for training a ``space`` cell on ``dataset`` (or its smoke run).

    Raises:
        ValueError: unknown dataset/space, or a pair without a protocol (NB201 cells are
            trained on CIFAR-10 only here).
    """
    _check_choice("dataset", dataset, DATASETS)
    _check_choice("space", space, SPACES)
    sp = get_space(space)
    if dataset not in sp.final_protocols:
        available = sorted((d, n) for n in SPACES for d in get_space(n).final_protocols)
        raise ValueError(f"no final-training protocol for {space} cells on {dataset}; available: {available}")
    values = dict(sp.final_protocols[dataset])
    if smoke:
        values.update(sp.final_smoke[dataset])
    return FinalTrainConfig(**values)


def split_params(section: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a ``final_training`` params section into (run keys, config overrides).

    Run keys are :data:`META_KEYS` (``genotype``, ``smoke``, ``use_search_result``);
    everything else must be a :class:`FinalTrainConfig` field (checked by
    :meth:`FinalTrainConfig.with_overrides`).
    """
    section = dict(section or {})
    meta = {k: section.pop(k) for k in META_KEYS if k in section}
    return meta, section


def resolve_config(space: str, dataset: str = "cifar10", smoke: bool = False,
                   overrides: Mapping[str, Any] | None = None) -> FinalTrainConfig:
    """Preset for (``dataset``, ``space``, ``smoke``) with ``overrides`` applied on top."""
    overrides = dict(overrides or {})
    named = overrides.pop("dataset", dataset)
    if named != dataset:
        raise ValueError(f"overrides name dataset {named!r} but the preset is "
                         f"for {dataset!r}; pass the dataset as the dataset argument")
    return preset(dataset, space, smoke).with_overrides(overrides)


__all__ = ["AMP_MODES", "DATASETS", "FinalTrainConfig", "META_KEYS", "SPACES",
           "coerce", "preset", "resolve_config", "split_params"]
