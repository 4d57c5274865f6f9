"""`tgnas data build` on small synthetic originals in the official formats, and on the
real ObfuNAS originals where they are available."""

from __future__ import annotations

import io
import pickle
import shutil
import tarfile
import time

import numpy as np
import pytest

from tgnas import cli, datafiles, fileio
from tgnas.datasets.cifar10 import CIFAR10_CLASSES, load_cifar10
from tgnas.spaces.nb101.tfrecord import encode_nasbench_record, write_tfrecord
from tgnas.spaces.nb101.databuild import (NB101_RUNS_RELPATH, BuildError, build, build_nb101_runs, nb101_full_arrays,
                             write_npz)
from tgnas.spaces.nb101.enumerate import NB101Enumeration, full_dags
from tgnas.spaces.nb101.hashing import hash_cell

# (adjacency, ops) of a few small pruned cells.
_CELLS = [
    ([[0, 1], [0, 0]], ["input", "output"]),
    ([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "conv3x3-bn-relu", "output"]),
    ([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", "maxpool3x3", "output"]),
    ([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]],
     ["input", "conv1x1-bn-relu", "conv3x3-bn-relu", "output"]),
]
_CODE = {"input": -1, "output": -2, "conv3x3-bn-relu": 0, "conv1x1-bn-relu": 1, "maxpool3x3": 2}


def _enumeration() -> NB101Enumeration:
    rows = sorted((hash_cell(np.array(a), o), a, o) for a, o in _CELLS)
    n = len(rows)
    adj = np.zeros((n, 7, 7), dtype=np.int8)
    ops = np.full((n, 7), -3, dtype=np.int8)
    for k, (_, a, o) in enumerate(rows):
        adj[k, :len(o), :len(o)] = a
        ops[k, :len(o)] = [_CODE[x] for x in o]
    return NB101Enumeration(hashes=np.array([r[0] for r in rows], dtype="<U32"), adjacency=adj, ops=ops,
                            num_vertices=np.array([len(r[2]) for r in rows], dtype=np.int8))


def test_full_dags_follow_the_generator_rules():
    three = full_dags(3)
    # Of the 8 matrices on 3 vertices, full DAGs need 1->2 and 0->1; 0->2 is free.
    assert three.shape == (2, 3, 3)
    assert three[:, 0, 1].all() and three[:, 1, 2].all() and three[:, 0, 2].tolist() == [0, 1]
    seven = full_dags(7)
    assert seven.sum(axis=(1, 2)).max() == 9 and np.all(np.triu(seven, 1) == seven)


def test_nb101_full_arrays_and_deterministic_npz(tmp_path):
    cells = _enumeration()
    acc, flops = np.linspace(0.5, 0.9, len(cells)), np.arange(len(cells), dtype=np.float64)
    arrays = nb101_full_arrays(acc, flops, cells)
    assert list(arrays) == ["hash", "adjacency", "ops", "num_vertices", "test_acc_108_run0", "flops_thop"]
    sha = write_npz(tmp_path / "a.npz", arrays, None)
    assert write_npz(tmp_path / "b.npz", arrays, sha) == sha  # same bytes on every build
    with np.load(tmp_path / "b.npz") as d:
        assert np.array_equal(d["test_acc_108_run0"], acc) and np.array_equal(d["hash"], cells.hashes)
    with pytest.raises(BuildError, match="ObfuNAS test.npy is float64 \\(3,\\)"):
        nb101_full_arrays(acc[:3], flops, cells)


def test_npz_with_wrong_hash_is_not_written(tmp_path):
    arrays = nb101_full_arrays(np.zeros(4), np.zeros(4), _enumeration())
    with pytest.raises(BuildError, match="expected 0{64}; not written"):
        write_npz(tmp_path / "x.npz", arrays, "0" * 64)
    assert list(tmp_path.iterdir()) == []


def test_build_without_originals_says_what_to_fetch(tmp_path, capsys):
    with pytest.raises(BuildError, match="tgnas data fetch obfunas_test"):
        build(tmp_path, progress=False)
    assert cli.main(["data", "build", "--root", str(tmp_path), "--quiet"]) == 2
    assert "tgnas data build: error: original sources/ObfuNAS" in capsys.readouterr().err
    assert cli.main(["data", "check", "--root", str(tmp_path), "--quiet"]) == 1


def test_nb101_runs_from_a_tiny_tfrecord(tmp_path):
    rng = np.random.default_rng(0)
    records, want = [], {}
    for run in range(3):
        for adj, ops in _CELLS[::-1]:
            h = hash_cell(np.array(adj), ops)
            ev = [{"current_epoch": float(e), "training_time": 1.0, "train_accuracy": 0.5,
                   "validation_accuracy": float(rng.uniform()), "test_accuracy": float(rng.uniform())}
                  for e in (0, 54, 108)]
            records.append(encode_nasbench_record(h, 108, adj, ops, ev, 1000 + len(ops)))
            want[(h, run)] = (ev[2]["validation_accuracy"], ev[2]["test_accuracy"])
    root = tmp_path
    (root / "nb101").mkdir()
    write_tfrecord(root / datafiles.original("nb101_tfrecord").relpath, records)
    out = build_nb101_runs(root, progress=False)
    assert out == root / NB101_RUNS_RELPATH
    with np.load(out) as d:
        assert d["val_acc_108"].shape == (len(_CELLS), 3)
        assert list(d["hash"]) == sorted(d["hash"])
        for k, h in enumerate(d["hash"]):
            for run in range(3):
                assert (d["val_acc_108"][k, run], d["test_acc_108"][k, run]) == want[(str(h), run)]
        assert sorted(d["num_vertices"].tolist()) == [2, 3, 3, 4]


# ---------------------------------------------------------------------- CIFAR-10 tarball


def _batch(n: int, rng: np.random.Generator) -> dict:
    return {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": [i % 10 for i in range(n)], b"batch_label": b"x"}


def test_cifar_tarball_matches_extracted_folder(tmp_path):
    rng = np.random.default_rng(1)
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(pickle.dumps(_batch(20, rng), protocol=2))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [c.encode() for c in CIFAR10_CLASSES]}))
    tar_path = tmp_path / "cifar-10-python.tar.gz"
    with tarfile.open(tar_path, "w:gz") as tar:
        tar.add(folder, arcname="cifar-10-batches-py")
    for split, n in (("train", 100), ("test", 20)):
        a, b = load_cifar10(split, source=folder), load_cifar10(split, source=tar_path)
        assert b.source == "python-tarball" and a.source == "python-batches"
        assert len(b) == n and np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)
    assert len(load_cifar10("train", limit=10, source=tar_path)) == 10
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a tarball")
    with pytest.raises(ValueError, match="bad.tar.gz is not a readable CIFAR-10 tarball"):
        load_cifar10("test", source=bad)
    small = tmp_path / "small.tar.gz"
    with tarfile.open(small, "w:gz") as tar:
        tar.addfile(tarfile.TarInfo("cifar-10-batches-py/readme"), io.BytesIO(b""))
    with pytest.raises(ValueError, match="missing \\['test_batch'\\]"):
        load_cifar10("test", source=small)


def test_cifar_default_source_names_both_files(monkeypatch, tmp_path):
    monkeypatch.setenv("TGNAS_DATA", str(tmp_path))
    with pytest.raises(datafiles.DataFileError, match="cifar-10-python.tar.gz.*Alternatively.*cifar10_jpg.zip"):
        load_cifar10("test", limit=10)
    fake = tmp_path / datafiles.get("cifar10_python").relpath
    fake.parent.mkdir(parents=True)
    fake.write_bytes(b"not the release")
    assert datafiles.status(datafiles.get("cifar10_python")) == "corrupt"  # SHA256 checked
    with pytest.raises(datafiles.DataFileError, match="corrupt: SHA256 .* expected 6d958be0"):
        load_cifar10("test", limit=10)


# ---------------------------------------------------------------------- real originals


@pytest.mark.slow
@pytest.mark.skipif(any(datafiles.status(datafiles.original(k)) != "ok" for k in ("obfunas_test", "obfunas_flops"))
                    or datafiles.status(datafiles.get("nb101_full")) != "ok",
                    reason="ObfuNAS originals or the staged NB101 table not available")
def test_build_from_obfunas_reproduces_the_staged_table(tmp_path):
    """About 60 s (the enumeration's MD5 calls): hence ``slow``."""
    root = tmp_path / "root"
    for key in ("obfunas_test", "obfunas_flops"):
        dest = root / datafiles.original(key).relpath
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(datafiles.paths.data_root() / datafiles.original(key).relpath, dest)
    t0 = time.perf_counter()
    (out,) = build(root, progress=False)
    print(f"build took {time.perf_counter() - t0:.0f} s")
    staged = datafiles.require("nb101_full")
    assert fileio.sha256_file(out) == fileio.sha256_file(staged)
    with np.load(out) as new, np.load(staged) as old:
        assert new.files == old.files
        for name in new.files:
            assert np.array_equal(new[name], old[name]), name
    assert build(root, progress=False) == []  # verified: not built again
