"""CIFAR-10 loading from the shared JPEG zip and from (fake) official python batches."""

from __future__ import annotations

import io
import os
import pickle
import zipfile
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tgnas import datafiles, paths
from tgnas.fileio import sha256_file
from tgnas.datasets.cifar10 import (
    CIFAR10_CLASSES,
    CIFAR10Data,
    cache_path,
    jpeg_members,
    load_cifar10,
)


def _decode_members(*names: str) -> list[np.ndarray]:
    """Decode members independently of the loader: (3, 32, 32) uint8 each."""
    out = []
    with zipfile.ZipFile(datafiles.require("cifar10_jpg")) as zf:
        for name in names:
            with Image.open(io.BytesIO(zf.read(name))) as im:
                out.append(np.asarray(im.convert("RGB")).transpose(2, 0, 1))
    return out


def test_classes_official_order():
    assert CIFAR10_CLASSES == ("airplane", "automobile", "bird", "cat", "deer",
                               "dog", "frog", "horse", "ship", "truck")


@pytest.mark.parametrize("split, per_class", [("train", 5000), ("test", 1000)])
def test_zip_listing(split, per_class):
    members = jpeg_members(split)
    assert len(members) == 10 * per_class
    assert Counter(lab for _, lab in members) == {c: per_class for c in range(10)}
    assert members[0] == (f"{split}/airplane/0000.jpg", 0)
    assert members[per_class] == (f"{split}/automobile/0000.jpg", 1)
    assert members[-1] == (f"{split}/truck/{per_class - 1:04d}.jpg", 9)
    assert all(name.split("/")[1] == CIFAR10_CLASSES[lab] for name, lab in members)


def test_load_subset_from_zip(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "CACHE_DIR", tmp_path / "cache")
    data = load_cifar10("test", limit=20)
    assert isinstance(data, CIFAR10Data) and len(data) == 20
    assert data.images.shape == (20, 3, 32, 32) and data.images.dtype == torch.uint8
    assert data.labels.shape == (20,) and data.labels.dtype == torch.int64
    assert data.labels.tolist() == [c for c in range(10) for _ in range(2)]
    assert data.classes == CIFAR10_CLASSES and data.source == "jpeg-zip"
    first, last, cat = _decode_members("test/airplane/0000.jpg", "test/truck/0001.jpg", "train/cat/0000.jpg")
    np.testing.assert_array_equal(data.images[0].numpy(), first)
    np.testing.assert_array_equal(data.images[19].numpy(), last)
    assert data.images.float().std() > 30  # real pictures, not a blank array
    assert not (tmp_path / "cache").exists()  # a subset never writes the cache
    train = load_cifar10("train", limit=10)
    np.testing.assert_array_equal(train.images[3].numpy(), cat)


def test_cache_is_read(monkeypatch, tmp_path):
    """A cached array (here a synthetic one) is used instead of decoding; a bad one is refused."""
    monkeypatch.setattr(paths, "CACHE_DIR", tmp_path)
    npy = cache_path("test", sha256_file(datafiles.require("cifar10_jpg")))
    assert npy.parent == tmp_path / "cifar10"
    assert datafiles.get("cifar10_jpg").sha256[:16] in npy.name
    fake = np.zeros((10000, 3, 32, 32), dtype=np.uint8)
    fake[:, 0, 0, 0] = np.arange(10000) % 251
    npy.parent.mkdir()
    np.save(npy, fake)
    full = load_cifar10("test")
    np.testing.assert_array_equal(full.images.numpy(), fake)
    assert Counter(full.labels.tolist()) == {c: 1000 for c in range(10)}
    sub = load_cifar10("test", limit=30)
    assert sub.images[:, 0, 0, 0].tolist() == [(c * 1000 + j) % 251 for c in range(10) for j in range(3)]
    np.save(npy, fake[:10])
    with pytest.raises(ValueError, match="cached CIFAR-10 array .* has shape \\(10, 3, 32, 32\\)"):
        load_cifar10("test")


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "val"}, "unknown CIFAR-10 split 'val'"),
    ({"split": "test", "limit": 15}, "positive multiple of 10"),
    ({"split": "test", "limit": 0}, "positive multiple of 10"),
    ({"split": "test", "limit": -10}, "positive multiple of 10"),
    ({"split": "test", "limit": 10010}, "at most 10000"),
    ({"split": "test", "limit": True}, "must be an int"),
    ({"split": "test", "limit": 10.0}, "must be an int"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_cifar10(**kwargs)


def test_missing_zip(monkeypatch, tmp_path):
    monkeypatch.setenv("TGNAS_DATA", str(tmp_path))
    with pytest.raises(datafiles.DataFileError, match="cifar10_jpg.zip"):
        load_cifar10("test", limit=10)
    with pytest.raises(datafiles.DataFileError, match="cifar10_jpg.zip"):
        jpeg_members("train")


# ----------------------------------------------------------------- official python batches

def _write_batch(path: Path, data: np.ndarray, labels: list[int]) -> None:
    # Same layout as the official release: a dict with bytes keys.
    with open(path, "wb") as fh:
        pickle.dump({b"batch_label": b"fake", b"data": data, b"labels": labels,
                     b"filenames": [b"x.png"] * len(labels)}, fh, protocol=2)


def _fake_release(folder: Path, n_per_batch: int = 12, seed: int = 0) -> dict[str, tuple]:
    rng = np.random.default_rng(seed)
    folder.mkdir()
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": [c.encode() for c in CIFAR10_CLASSES], b"num_vis": 3072}, fh)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        labels = [int(x) for x in rng.permutation(np.arange(n_per_batch) % 10)]
        _write_batch(folder / name, data, labels)
        written[name] = (data, labels)
    return written


def test_python_batches_read_back(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    written = _fake_release(folder)
    test = load_cifar10("test", source=folder)
    data, labels = written["test_batch"]
    assert test.source == "python-batches" and test.images.shape == (12, 3, 32, 32)
    assert test.images.dtype == torch.uint8 and test.labels.dtype == torch.int64
    assert test.labels.tolist() == labels
    # channel-major rows: first 1024 bytes are the red plane, row by row
    np.testing.assert_array_equal(test.images[5, 0].numpy().ravel(), data[5, :1024])
    np.testing.assert_array_equal(test.images[5, 2, 31].numpy(), data[5, 3072 - 32:])
    train = load_cifar10("train", source=str(folder))
    assert len(train) == 60
    expected = np.concatenate([written[f"data_batch_{i}"][0] for i in range(1, 6)])
    np.testing.assert_array_equal(train.images.numpy().reshape(60, -1), expected)
    # limit: the first image of each class, in file order
    sub = load_cifar10("test", limit=10, source=folder)
    first = [labels.index(c) for c in range(10)]
    assert sub.labels.tolist() == [labels[i] for i in sorted(first)]
    np.testing.assert_array_equal(sub.images.numpy().reshape(10, -1), data[sorted(first)])
    with pytest.raises(ValueError, match="needs 2 images per class"):
        load_cifar10("test", limit=20, source=folder)


def test_python_batches_bad_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="is not a folder"):
        load_cifar10("train", source=tmp_path / "nowhere")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="not a CIFAR-10 'cifar-10-batches-py' folder: missing \\['test_batch'\\]"):
        load_cifar10("test", source=empty)
    folder = tmp_path / "cifar-10-batches-py"
    _fake_release(folder)
    os.remove(folder / "data_batch_3")
    with pytest.raises(ValueError, match="missing \\['data_batch_3'\\]"):
        load_cifar10("train", source=folder)
    # wrong class names in the meta file
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": [b"a"] * 10}, fh)
    with pytest.raises(ValueError, match="names classes"):
        load_cifar10("test", source=folder)


def test_python_batches_bad_content(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    _fake_release(folder)
    _write_batch(folder / "test_batch", np.zeros((4, 100), dtype=np.uint8), [0, 1, 2, 3])
    with pytest.raises(ValueError, match="expected uint8 \\(N, 3072\\)"):
        load_cifar10("test", source=folder)
    _write_batch(folder / "test_batch", np.zeros((2, 3072), dtype=np.uint8), [0, 10])
    with pytest.raises(ValueError, match="labels outside 0..9"):
        load_cifar10("test", source=folder)
    # a pickle that would run code is refused
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({b"data": os.getcwd}, fh)
    with pytest.raises(pickle.UnpicklingError, match="refusing to load"):
        load_cifar10("test", source=folder)


@pytest.mark.slow
def test_full_split_decode_and_cache(monkeypatch, tmp_path):
    """Decode the whole test split once, cache it, and read the same array back."""
    monkeypatch.setattr(paths, "CACHE_DIR", tmp_path)
    cold = load_cifar10("test")
    npy = cache_path("test", sha256_file(datafiles.require("cifar10_jpg")))
    assert npy.is_file()
    warm = load_cifar10("test")
    assert torch.equal(cold.images, warm.images) and torch.equal(cold.labels, warm.labels)
    assert cold.images.shape == (10000, 3, 32, 32)
    sub = load_cifar10("test", limit=100)
    assert torch.equal(sub.images, cold.images[np.concatenate([np.arange(10) + 1000 * c for c in range(10)])])
