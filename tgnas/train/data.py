"""Data for final training, without torchvision.

CIFAR-10 lives as one uint8 tensor on the training device; each step takes a batch by index
and augments it there, as a whole, in plain torch (:class:`CifarAugment`: random crop with
zero padding, horizontal flip, normalisation, cutout — DARTS' order). ImageNet is read
from a class-per-folder tree with PIL in DataLoader worker processes
(:class:`ImageFolderDataset`), which hand uint8 crops to the device for normalisation.

Data parallelism: an epoch's order is one permutation drawn from ``(seed, epoch)``, cut
into *global* batches; rank ``r`` of ``W`` takes the ``r``-th equal slice of each
(:func:`global_batches`, :func:`rank_slice`). Random augmentation parameters are drawn for
the whole global batch from a generator that every rank holds in the same state, and each
rank keeps its slice: a run on ``W`` ranks sees exactly the images, crops, flips and
cutouts of a one-process run with the same global batch.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import torch
from PIL import Image, ImageEnhance

from tgnas.datasets.cifar10 import load_cifar10

#: DARTS' CIFAR-10 normalisation (per-channel mean and std of the training images in [0, 1]).
CIFAR10_MEAN: tuple[float, float, float] = (0.49139968, 0.48215827, 0.44653124)
CIFAR10_STD: tuple[float, float, float] = (0.24703233, 0.24348505, 0.26158768)
#: ImageNet normalisation (the usual torchvision constants).
IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)
IMAGE_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png")
#: ImageNet evaluation: resize the shorter side to ``image_size / EVAL_CROP_FRACTION``
#: (256 for 224), then take the centre ``image_size`` square.
EVAL_CROP_FRACTION: float = 0.875


@dataclass(frozen=True, eq=False)
class TensorSplit:
    """A dataset held as tensors.

    Attributes:
        images: ``(N, 3, H, W)`` uint8.
        labels: ``(N,)`` int64.
        source: where it came from (``"jpeg-zip"``, ``"python-batches"``, ``"synthetic"``…).
    """

    images: torch.Tensor
    labels: torch.Tensor
    source: str = "unknown"

    def __post_init__(self) -> None:
        if self.images.dtype != torch.uint8 or self.images.dim() != 4 or self.images.shape[1] != 3:
            raise ValueError(f"images must be uint8 (N, 3, H, W), got {self.images.dtype} "
                             f"{tuple(self.images.shape)}")
        if self.labels.dtype != torch.int64 or self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"labels must be int64 ({self.images.shape[0]},), got {self.labels.dtype} "
                             f"{tuple(self.labels.shape)}")

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    def to(self, device: torch.device) -> TensorSplit:
        return TensorSplit(self.images.to(device), self.labels.to(device), self.source)


# --------------------------------------------------------------------------- CIFAR-10


def balanced_subset(labels: torch.Tensor, n: int) -> torch.Tensor:
    """Positions of ``n`` samples taken round-robin over classes, each class in source order.

    labels: ``(N,)`` int64. Class counts differ by at most one (when ``n`` is not a multiple
    of the number of classes). Returned positions are sorted.
    """
    if n > len(labels):
        raise ValueError(f"asked for {n} samples but only {len(labels)} are available")
    rank = torch.empty_like(labels)
    for c in labels.unique():
        pos = torch.nonzero(labels == c).flatten()
        rank[pos] = torch.arange(len(pos))
    # order by (within-class rank, class): the first n are round-robin over classes
    order = torch.argsort(rank * (int(labels.max()) + 1) + labels, stable=True)
    return torch.sort(order[:n]).values


def load_cifar10_split(split: str, n: int | None = None, source: str | None = None) -> TensorSplit:
    """CIFAR-10 ``split`` (``"train"``/``"test"``) from :func:`tgnas.datasets.cifar10.load_cifar10`.

    ``n`` = ``None`` for the whole split, else a class-balanced subset of ``n`` images (any
    ``n``; the loader itself needs a multiple of 10, so a few more are decoded and cut).
    ``source``: ``None`` for the shared JPEG zip or an official ``cifar-10-batches-py`` folder.
    """
    limit = None if n is None else 10 * math.ceil(n / 10)
    data = load_cifar10(split, limit=limit, source=source)
    images, labels = data.images, data.labels
    if n is not None and n != len(labels):
        keep = balanced_subset(labels, n)
        images, labels = images[keep], labels[keep]
    return TensorSplit(images.contiguous(), labels.contiguous(), data.source)


def normalize(x: torch.Tensor, mean: torch.Tensor, std: torch.Tensor) -> torch.Tensor:
    """uint8 ``(B, 3, H, W)`` -> float32 ``(x / 255 - mean) / std``; mean/std ``(3,)``."""
    return (x.float().div_(255.0) - mean.view(1, 3, 1, 1)) / std.view(1, 3, 1, 1)


class CifarAugment:
    """DARTS' CIFAR-10 training transform on whole batches: crop, flip, normalise, cutout.

    Random crop: zero-pad by ``padding`` pixels (black, before normalisation, as
    ``RandomCrop(32, padding=4)``), take a ``H x W`` window at a uniform offset. Flip:
    mirror left-right with probability 1/2. Cutout (DeVries & Taylor): a ``cutout x cutout``
    square, centre uniform over the image, clipped at the border, set to 0 *after*
    normalisation (as DARTS' ``Cutout`` does).
    """

    def __init__(self, mean: tuple[float, ...] = CIFAR10_MEAN, std: tuple[float, ...] = CIFAR10_STD,
                 padding: int = 4, cutout: int = 16, flip: bool = True,
                 device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.mean = torch.tensor(mean, dtype=torch.float32, device=self.device)
        self.std = torch.tensor(std, dtype=torch.float32, device=self.device)
        self.padding = int(padding)
        self.cutout = int(cutout)
        self.flip = bool(flip)

    def draw(self, gen: torch.Generator, n: int, height: int, width: int) -> dict[str, torch.Tensor]:
        """Random parameters for ``n`` images, all drawn from ``gen`` in a fixed order.

        Returns ``dx, dy`` (crop offsets, ``0..2*padding``), ``flip`` (bool),
        ``cy, cx`` (cutout centres), each ``(n,)`` on ``gen``'s device. Every entry is drawn
        even when its transform is off, so turning one off leaves the others' draws unchanged.
        """
        dev = gen.device
        span = 2 * self.padding + 1
        return {
            "dy": torch.randint(0, span, (n,), generator=gen, device=dev),
            "dx": torch.randint(0, span, (n,), generator=gen, device=dev),
            "flip": torch.rand(n, generator=gen, device=dev) < 0.5,
            "cy": torch.randint(0, height, (n,), generator=gen, device=dev),
            "cx": torch.randint(0, width, (n,), generator=gen, device=dev),
        }

    def __call__(self, x: torch.Tensor, gen: torch.Generator, global_size: int | None = None,
                 offset: int = 0) -> torch.Tensor:
        """Augment ``x`` (uint8 ``(b, 3, H, W)``) -> float32 ``(b, 3, H, W)``.

        Parameters are drawn for ``global_size`` images (default ``b``) and positions
        ``offset .. offset + b`` are used, so data-parallel ranks stay consistent with one
        process (see the module docstring).
        """
        b, _, h, w = x.shape
        g = b if global_size is None else int(global_size)
        if not 0 <= offset <= g - b:
            raise ValueError(f"offset {offset} with local batch {b} does not fit a global batch of {g}")
        p = {k: v[offset:offset + b].to(x.device) for k, v in self.draw(gen, g, h, w).items()}
        out = x.float().div_(255.0)
        if self.padding:
            padded = torch.nn.functional.pad(out, (self.padding,) * 4)
            rows = (p["dy"][:, None] + torch.arange(h, device=x.device))[:, None, :, None]  # (b,1,h,1)
            cols = (p["dx"][:, None] + torch.arange(w, device=x.device))[:, None, None, :]  # (b,1,1,w)
            bi = torch.arange(b, device=x.device)[:, None, None, None]
            ci = torch.arange(3, device=x.device)[None, :, None, None]
            out = padded[bi, ci, rows, cols]
        if self.flip:
            out = torch.where(p["flip"][:, None, None, None], out.flip(3), out)
        out = (out - self.mean.view(1, 3, 1, 1)) / self.std.view(1, 3, 1, 1)
        if self.cutout:
            half = self.cutout // 2
            ys = torch.arange(h, device=x.device)
            xs = torch.arange(w, device=x.device)
            in_y = (ys[None, :] >= p["cy"][:, None] - half) & (ys[None, :] < p["cy"][:, None] + half)
            in_x = (xs[None, :] >= p["cx"][:, None] - half) & (xs[None, :] < p["cx"][:, None] + half)
            hole = in_y[:, :, None] & in_x[:, None, :]                                      # (b,h,w)
            out = out.masked_fill(hole[:, None], 0.0)
        return out


# --------------------------------------------------------------------------- batching


def epoch_permutation(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The order of ``n`` samples in ``epoch`` under ``seed`` (same on every rank)."""
    state = np.random.SeedSequence([int(seed), int(epoch)]).generate_state(2, dtype=np.uint32)
    g = torch.Generator().manual_seed(int(state[0]) << 32 | int(state[1]))
    return torch.randperm(n, generator=g)


def global_batches(n: int, batch_size: int, seed: int, epoch: int, shuffle: bool = True,
                   drop_last: bool = True) -> list[torch.Tensor]:
    """Cut an epoch over ``n`` samples into global batches of ``batch_size`` indices."""
    order = epoch_permutation(n, seed, epoch) if shuffle else torch.arange(n)
    batches = list(torch.split(order, batch_size))
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    return batches


def rank_slice(batch: torch.Tensor, rank: int, world_size: int) -> tuple[torch.Tensor, int]:
    """Rank ``rank``'s equal share of a global batch, and its offset in it."""
    if len(batch) % world_size:
        raise ValueError(f"a global batch of {len(batch)} does not split evenly over {world_size} ranks")
    size = len(batch) // world_size
    return batch[rank * size:(rank + 1) * size], rank * size


def eval_shard(n: int, rank: int, world_size: int) -> torch.Tensor:
    """Contiguous positions of ``n`` evaluation samples that ``rank`` evaluates."""
    return torch.tensor_split(torch.arange(n), world_size)[rank]


class ShardedBatchSampler(torch.utils.data.Sampler):
    """Batch sampler for a :class:`torch.utils.data.DataLoader`: this rank's slice of each
    global batch of one epoch, from batch ``start`` on (for resuming mid-epoch)."""

    def __init__(self, n: int, batch_size: int, rank: int, world_size: int, seed: int,
                 epoch: int = 0, start: int = 0) -> None:
        self.n, self.batch_size, self.rank, self.world_size, self.seed = n, batch_size, rank, world_size, seed
        self.epoch, self.start = epoch, start

    def _batches(self) -> list[torch.Tensor]:
        return global_batches(self.n, self.batch_size, self.seed, self.epoch)[self.start:]

    def __iter__(self) -> Iterator[list[int]]:
        for batch in self._batches():
            yield rank_slice(batch, self.rank, self.world_size)[0].tolist()

    def __len__(self) -> int:
        return max(self.n // self.batch_size - self.start, 0)


# --------------------------------------------------------------------------- ImageNet


def scan_image_folder(root: Path, classes: tuple[str, ...] | None = None
                      ) -> tuple[tuple[str, ...], list[tuple[str, int]]]:
    """Classes (sorted sub-folder names) and ``(file, label)`` samples of a class-per-folder tree.

    ``classes`` fixes the class list (the validation split must use the training split's);
    a class folder missing from ``root`` then raises, as does a folder without images.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"image folder {root} does not exist; expected <root>/<class>/<image>.jpg")
    found = tuple(sorted(d.name for d in root.iterdir() if d.is_dir()))
    if classes is None:
        classes = found
    missing = sorted(set(classes) - set(found))
    extra = sorted(set(found) - set(classes))
    if missing or extra:
        raise ValueError(f"{root}: class folders differ from the expected classes "
                         f"(missing {missing[:5]}, unexpected {extra[:5]})")
    if not classes:
        raise ValueError(f"{root} holds no class folders")
    samples: list[tuple[str, int]] = []
    for label, name in enumerate(classes):
        files = sorted(f for f in os.listdir(root / name) if f.lower().endswith(IMAGE_EXTENSIONS))
        if not files:
            raise ValueError(f"{root / name} holds no images ({'/'.join(IMAGE_EXTENSIONS)})")
        samples.extend((str(root / name / f), label) for f in files)
    return classes, samples


def random_resized_crop_box(width: int, height: int, rng: np.random.Generator,
                            scale: tuple[float, float] = (0.08, 1.0),
                            ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> tuple[int, int, int, int]:
    """A random crop box ``(left, top, right, bottom)`` covering a fraction in ``scale`` of the
    image area with aspect ratio in ``ratio`` (log-uniform); after 10 failed tries, the
    largest centred box with the ratio clipped to ``ratio`` (the usual Inception crop)."""
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            left = int(rng.integers(0, width - w + 1))
            top = int(rng.integers(0, height - h + 1))
            return left, top, left + w, top + h
    in_ratio = width / height
    if in_ratio < ratio[0]:
        w, h = width, int(round(width / ratio[0]))
    elif in_ratio > ratio[1]:
        w, h = int(round(height * ratio[1])), height
    else:
        w, h = width, height
    left, top = (width - w) // 2, (height - h) // 2
    return left, top, left + w, top + h


def center_crop_box(width: int, height: int, image_size: int) -> tuple[float, float, float, float]:
    """Box in original pixels equal to: resize shorter side to ``image_size / 0.875``, centre-crop."""
    side = min(width, height) * EVAL_CROP_FRACTION
    left, top = (width - side) / 2, (height - side) / 2
    return left, top, left + side, top + side


def _jitter(img: Image.Image, strength: float, rng: np.random.Generator) -> Image.Image:
    """Brightness, contrast and saturation each scaled by a factor in ``1 ± strength``, in a
    random order (torchvision's ``ColorJitter`` without hue)."""
    enhancers = [ImageEnhance.Brightness, ImageEnhance.Contrast, ImageEnhance.Color]
    for k in rng.permutation(len(enhancers)):
        img = enhancers[k](img).enhance(float(rng.uniform(1 - strength, 1 + strength)))
    return img


class ImageFolderDataset(torch.utils.data.Dataset):
    """``root/<class>/<image>`` decoded with PIL; items are ``(uint8 (3, S, S), label)``.

    Training items: random-resized crop (scale 0.08–1), left-right flip with probability
    1/2 and colour jitter (``color_jitter``, 0 = off), with randomness drawn from
    ``(seed, epoch, index)`` — the same whatever worker decodes the item. Evaluation items:
    resize + centre crop (:func:`center_crop_box`). Normalisation happens on the device.
    ``limit`` keeps a class-balanced subset (round-robin over classes, each in file order).
    """

    def __init__(self, root: str | Path, train: bool, image_size: int = 224, seed: int = 0,
                 limit: int | None = None, classes: tuple[str, ...] | None = None,
                 color_jitter: float = 0.4) -> None:
        self.root = Path(root)
        self.classes, samples = scan_image_folder(self.root, classes)
        labels = torch.tensor([lab for _, lab in samples], dtype=torch.int64)
        if limit is not None:
            keep = balanced_subset(labels, limit).tolist()
            samples = [samples[i] for i in keep]
            labels = labels[keep]
        self.samples = samples
        self.labels = labels
        self.train = bool(train)
        self.image_size = int(image_size)
        self.seed = int(seed)
        self.color_jitter = float(color_jitter)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose random crops the next DataLoader iterator draws."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        path, label = self.samples[index]
        s = self.image_size
        with Image.open(path) as im:
            img = im.convert("RGB")
        if self.train:
            rng = np.random.default_rng([self.seed, self.epoch, int(index)])
            box = random_resized_crop_box(img.width, img.height, rng)
            img = img.resize((s, s), Image.Resampling.BILINEAR, box=box)
            if rng.random() < 0.5:
                img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            if self.color_jitter > 0:
                img = _jitter(img, self.color_jitter, rng)
        else:
            img = img.resize((s, s), Image.Resampling.BILINEAR,
                             box=center_crop_box(img.width, img.height, s))
        arr = np.asarray(img, dtype=np.uint8)
        return torch.from_numpy(arr.copy()).permute(2, 0, 1).contiguous(), label


__all__ = ["CIFAR10_MEAN", "CIFAR10_STD", "IMAGENET_MEAN", "IMAGENET_STD", "CifarAugment",
           "ImageFolderDataset", "ShardedBatchSampler", "TensorSplit", "balanced_subset",
           "center_crop_box", "epoch_permutation", "eval_shard", "global_batches",
           "load_cifar10_split", "normalize", "random_resized_crop_box", "rank_slice",
           "scan_image_folder"]
