"""CIFAR-10 images as uint8 tensors, from the official tarball, the JPEG zip or python batches.

Sources:

* default: the official python release ``cifar10/cifar-10-python.tar.gz`` of the data root
  (data file ``cifar10_python``, what ``tgnas data fetch`` downloads; SHA256-checked), read in
  memory without extracting; when it is absent, the JPEG zip below.
* ``cifar10/cifar10_jpg.zip`` of the data root (``train/<class>/NNNN.jpg``, 5,000 per
  class; ``test/<class>/NNNN.jpg``, 1,000 per class), a JPEG re-encoding of CIFAR-10 (close
  to, not bit-identical with, the official release). Images are decoded with PIL straight
  from the zip in memory, never extracted. A full split is decoded once and cached as
  ``.npy`` under ``tgnas.paths.CACHE_DIR / "cifar10"`` (the name carries the zip's SHA256),
  so later loads only read the array. Order: class by class (official class order), files
  in name order within a class.
* ``source=Path("…/cifar-10-batches-py")`` (an extracted release: ``data_batch_1`` …
  ``data_batch_5``, ``test_batch``, ``batches.meta``) or ``source=Path("….tar.gz")`` (the
  tarball itself). Python-release images come in the file order.
"""

from __future__ import annotations

import io
import os
import pickle
import tarfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from tgnas import datafiles, paths
from tgnas.fileio import sha256_file

#: Class names in the official label order (label i is ``CIFAR10_CLASSES[i]``).
CIFAR10_CLASSES: tuple[str, ...] = ("airplane", "automobile", "bird", "cat", "deer",
                                    "dog", "frog", "horse", "ship", "truck")
SPLITS: tuple[str, ...] = ("train", "test")
#: Images per class in each split.
PER_CLASS: dict[str, int] = {"train": 5000, "test": 1000}
_SIDE = 32
_BATCH_FILES: dict[str, tuple[str, ...]] = {
    "train": tuple(f"data_batch_{i}" for i in range(1, 6)),
    "test": ("test_batch",),
}


@dataclass(frozen=True, eq=False)
class CIFAR10Data:
    """One split (or a class-balanced subset of it).

    Attributes:
        images: ``(N, 3, 32, 32)`` uint8 RGB, channels first.
        labels: ``(N,)`` int64 in ``0..9``, indices into ``classes``.
        classes: the 10 class names in the official order.
        source: ``"python-tarball"``, ``"jpeg-zip"`` or ``"python-batches"`` (results on the
            JPEG copy are labelled so).
    """

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...] = CIFAR10_CLASSES
    source: str = "jpeg-zip"

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"unknown CIFAR-10 split {split!r}; expected one of {list(SPLITS)}")


def _per_class(split: str, limit: int | None) -> int:
    """Images per class to load: all, or ``limit / 10`` for a class-balanced subset."""
    full = PER_CLASS[split]
    if limit is None:
        return full
    if isinstance(limit, bool) or not isinstance(limit, (int, np.integer)):
        raise ValueError(f"limit must be an int or None, got {limit!r}")
    n_cls = len(CIFAR10_CLASSES)
    if limit <= 0 or limit % n_cls or limit > full * n_cls:
        raise ValueError(f"limit={limit} must be a positive multiple of {n_cls} (class-balanced) "
                         f"and at most {full * n_cls} for split {split!r}")
    return int(limit) // n_cls


def _first_per_class(labels: np.ndarray, k: int) -> np.ndarray:
    """Positions of the first ``k`` images of each class, in their original order."""
    rank = np.zeros_like(labels)
    for c in range(len(CIFAR10_CLASSES)):
        pos = np.flatnonzero(labels == c)
        rank[pos] = np.arange(len(pos))
    return np.flatnonzero(rank < k)


# --------------------------------------------------------------------------- JPEG zip


def jpeg_members(split: str, zip_path: Path | None = None) -> list[tuple[str, int]]:
    """``(member name, label)`` of every image of ``split`` in the JPEG zip, in load order.

    Reads only the zip's listing. Raises ``ValueError`` if a class folder does not hold
    exactly :data:`PER_CLASS` images.
    """
    _check_split(split)
    path = zip_path if zip_path is not None else datafiles.require("cifar10_jpg")
    with zipfile.ZipFile(path) as zf:
        return _members(zf.namelist(), split, path)


def _members(names: list[str], split: str, path: Path) -> list[tuple[str, int]]:
    by_class: dict[str, list[str]] = {c: [] for c in CIFAR10_CLASSES}
    for name in names:
        parts = name.split("/")
        if len(parts) == 3 and parts[0] == split and parts[2].endswith(".jpg"):
            if parts[1] not in by_class:
                raise ValueError(f"{path}: unknown class folder {parts[1]!r} in {name!r}; "
                                 f"expected one of {list(CIFAR10_CLASSES)}")
            by_class[parts[1]].append(name)
    out: list[tuple[str, int]] = []
    for label, cls in enumerate(CIFAR10_CLASSES):
        files = sorted(by_class[cls])
        if len(files) != PER_CLASS[split]:
            raise ValueError(f"{path}: {split}/{cls}/ holds {len(files)} images, expected {PER_CLASS[split]}")
        out.extend((f, label) for f in files)
    return out


def _decode(zf: zipfile.ZipFile, names: list[str], desc: str) -> np.ndarray:
    """Decode JPEG members into ``(N, 3, 32, 32)`` uint8."""
    out = np.empty((len(names), 3, _SIDE, _SIDE), dtype=np.uint8)
    for i, name in enumerate(tqdm(names, desc=desc, unit="img", mininterval=1.0,
                                  disable=len(names) < 2000)):
        with Image.open(io.BytesIO(zf.read(name))) as im:
            arr = np.asarray(im.convert("RGB"))
        if arr.shape != (_SIDE, _SIDE, 3):
            raise ValueError(f"{name} is {arr.shape[1]}x{arr.shape[0]}, expected 32x32 RGB")
        out[i] = arr.transpose(2, 0, 1)
    return out


def cache_path(split: str, zip_sha256: str) -> Path:
    """Where the decoded ``split`` of the JPEG zip with checksum ``zip_sha256`` is cached."""
    _check_split(split)
    return paths.CACHE_DIR / "cifar10" / f"cifar10_jpg-{zip_sha256[:16]}-{split}-uint8-nchw.npy"


def _load_jpeg(split: str, k: int, cache: bool) -> tuple[np.ndarray, np.ndarray]:
    zip_path = datafiles.require("cifar10_jpg")
    sha = sha256_file(zip_path)  # already computed (and cached) by require()
    npy = cache_path(split, sha)
    # The member listing is checked to be class-major with PER_CLASS images per class, so
    # the labels are known without opening the zip (parsing its 60,000 entries takes ~0.5 s).
    labels = np.repeat(np.arange(len(CIFAR10_CLASSES), dtype=np.int64), PER_CLASS[split])
    keep = _first_per_class(labels, k)
    whole = k == PER_CLASS[split]
    if cache and npy.is_file():
        full = np.load(npy, mmap_mode=None if whole else "r")
        expected = (len(labels), 3, _SIDE, _SIDE)
        if full.shape != expected or full.dtype != np.uint8:
            raise ValueError(f"cached CIFAR-10 array {npy} has shape {full.shape} {full.dtype}, "
                             f"expected {expected} uint8; delete it to rebuild")
        return (full if whole else np.array(full[keep])), labels[keep]
    # Members are decoded in memory, straight from the zip (never extracted to disk).
    with zipfile.ZipFile(zip_path) as zf:
        members = _members(zf.namelist(), split, zip_path)  # class-major, like ``labels``
        images = _decode(zf, [members[i][0] for i in keep], f"decode CIFAR-10 {split}")
    # A subset (smoke run) decodes only what it needs and leaves the cache alone.
    if cache and whole:
        paths.ensure_dir(npy.parent)
        tmp = npy.with_name(f"{npy.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, images)
        os.replace(tmp, npy)  # atomic: a concurrent reader never sees half a file
    return images, labels[keep]


# --------------------------------------------------------------------------- python batches


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles only what the CIFAR-10 batches hold (numpy arrays, lists, dicts, bytes).

    The batches are pickles; refusing every other global keeps a tampered file from running
    code.
    """

    _ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
                ("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
                ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")}

    def find_class(self, module: str, name: str):  # noqa: D102
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR-10 batch file")
        if module.startswith("numpy.core") and hasattr(np, "_core"):
            module = "numpy._core" + module[len("numpy.core"):]  # numpy >= 2 moved the module
        return super().find_class(module, name)


def _unpickle(path: Path | str, data: bytes | None = None) -> dict:
    """Unpickle a batch file at ``path`` (or its bytes ``data``, ``path`` naming it)."""
    if data is None:
        data = Path(path).read_bytes()
    obj = _ArrayUnpickler(io.BytesIO(data), encoding="bytes").load()
    if not isinstance(obj, dict):
        raise ValueError(f"{path} holds a {type(obj).__name__}, expected a dict (CIFAR-10 batch)")
    # Python-2 pickles give bytes keys; accept str keys as well.
    return {(k.decode() if isinstance(k, bytes) else k): v for k, v in obj.items()}


def _load_batches(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    folder = Path(folder).expanduser()
    if folder.is_file() and folder.name.endswith((".tar.gz", ".tgz")):
        return _load_tarball(folder, split)
    if not folder.is_dir():
        raise FileNotFoundError(f"CIFAR-10 source {folder} is not a folder; expected the "
                                f"'cifar-10-batches-py' folder of the official python release "
                                f"or its .tar.gz")
    present = {f.name for f in folder.iterdir() if f.is_file()}
    return _read_batches(lambda name: _unpickle(folder / name), present, str(folder), split)


#: Folder of the batches inside the official tarball.
TAR_FOLDER = "cifar-10-batches-py"


def _load_tarball(path: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """The batches of ``split`` straight from the official ``.tar.gz`` (never extracted)."""
    wanted = {*_BATCH_FILES[split], "batches.meta"}
    blobs: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:gz") as tar:
            for member in tar:
                folder, _, name = member.name.rpartition("/")
                if member.isfile() and folder.endswith(TAR_FOLDER) and name in wanted:
                    blobs[name] = tar.extractfile(member).read()
    except (tarfile.TarError, OSError, EOFError) as err:
        raise ValueError(f"{path} is not a readable CIFAR-10 tarball: {err}") from None
    where = f"{path} ({TAR_FOLDER}/)"
    return _read_batches(lambda name: _unpickle(f"{where} {name}", blobs[name]), set(blobs), where, split)


def _read_batches(read: Callable[[str], dict], present: set[str], where: str,
                  split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels of ``split`` from the batch files ``read(name)`` of one release."""
    missing = [f for f in _BATCH_FILES[split] if f not in present]
    if missing:
        raise ValueError(f"{where} is not a CIFAR-10 'cifar-10-batches-py' folder: missing {missing} "
                         f"(expected {list(_BATCH_FILES['train'])}, 'test_batch' and 'batches.meta')")
    if "batches.meta" in present:
        names = [n.decode() if isinstance(n, bytes) else n for n in read("batches.meta").get("label_names", [])]
        if tuple(names) != CIFAR10_CLASSES:
            raise ValueError(f"{where} batches.meta names classes {names}, expected {list(CIFAR10_CLASSES)}")
    images, labels = [], []
    for fname in _BATCH_FILES[split]:
        batch = read(fname)
        if "data" not in batch or "labels" not in batch:
            raise ValueError(f"{where} {fname} lacks 'data' or 'labels' (has {sorted(batch)})")
        data = np.asarray(batch["data"])
        lab = np.asarray(batch["labels"], dtype=np.int64)
        if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * _SIDE * _SIDE \
                or data.shape[0] != len(lab):
            raise ValueError(f"{where} {fname}: data is {data.dtype} {data.shape} with {len(lab)} labels, "
                             f"expected uint8 (N, 3072) with N labels")
        if len(lab) and (lab.min() < 0 or lab.max() >= len(CIFAR10_CLASSES)):
            raise ValueError(f"{where} {fname}: labels outside 0..9")
        # Each row is the red, green, blue 32x32 planes in turn, rows first: NCHW after reshape.
        images.append(data.reshape(-1, 3, _SIDE, _SIDE))
        labels.append(lab)
    return np.concatenate(images), np.concatenate(labels)


# --------------------------------------------------------------------------- entry point


def default_source() -> Path | None:
    """The verified official tarball of the data root, or ``None`` to use the JPEG zip.

    Raises:
        DataFileError: neither is present and intact (the message names both).
    """
    try:
        return datafiles.require("cifar10_python")
    except datafiles.DataFileError as err:
        if datafiles.status(datafiles.get("cifar10_jpg")) == "ok":
            return None
        try:
            datafiles.require("cifar10_jpg")
        except datafiles.DataFileError as err_jpg:
            raise datafiles.DataFileError(f"{err} Alternatively: {err_jpg}") from None
        raise  # pragma: no cover - the zip became readable in between


def load_cifar10(split: str = "train", limit: int | None = None, source: str | Path | None = None,
                 cache: bool = True) -> CIFAR10Data:
    """Load one CIFAR-10 split.

    Args:
        split: ``"train"`` (50,000 images) or ``"test"`` (10,000).
        limit: ``None`` for the whole split, else the size of a class-balanced subset (a
            multiple of 10): the first ``limit / 10`` images of each class in source order.
        source: ``None`` for the data root's official tarball (data file ``cifar10_python``)
            or, when it is absent, its JPEG zip (``cifar10_jpg``); or the path of an official
            ``cifar-10-batches-py`` folder or ``.tar.gz``.
        cache: JPEG source only: read/write the decoded full split under ``CACHE_DIR``.

    Returns:
        :class:`CIFAR10Data` with ``images`` ``(N, 3, 32, 32)`` uint8 and ``labels`` ``(N,)`` int64.

    Raises:
        ValueError: bad ``split`` or ``limit``, or a source folder that is not a CIFAR-10 one.
        FileNotFoundError: ``source`` is not a folder.
        DataFileError: neither the tarball nor the JPEG zip is present and intact.
    """
    _check_split(split)
    k = _per_class(split, limit)
    if source is None:
        source = default_source()
    if source is None:
        images, labels = _load_jpeg(split, k, cache)
        kind = "jpeg-zip"
    else:
        kind = "python-tarball" if Path(source).is_file() else "python-batches"
        images, labels = _load_batches(Path(source), split)
        n_cls = np.bincount(labels, minlength=len(CIFAR10_CLASSES))
        if limit is not None and n_cls.min() < k:
            raise ValueError(f"limit={limit} needs {k} images per class but {source} has only "
                             f"{n_cls.min()} of some class")
        keep = _first_per_class(labels, k)
        images, labels = images[keep], labels[keep]
    return CIFAR10Data(images=torch.from_numpy(np.ascontiguousarray(images)),
                       labels=torch.from_numpy(labels), source=kind)
