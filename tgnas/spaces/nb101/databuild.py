"""Derive the tables loaders read from the downloaded originals (``tgnas data build``).

NAS-Bench-101 (``nb101/nb101_full_test_acc_run0.npz``) is built from the ObfuNAS arrays
(``data/test.npy``, ``data/flops.npy``: run-0 108-epoch test accuracy and FLOPs of every
cell, in sorted module-hash order) joined with the project's enumeration of the space
(:mod:`tgnas.spaces.nb101.enumerate`, hashed with :mod:`tgnas.spaces.nb101.hashing`). This
route is the default because it is 7 MB instead of 0.5 GB, carries FLOPs (the official
file has none), and its result is checked byte for byte against the recorded SHA256. The
official ``nasbench_only108.tfrecord`` (optional original ``nb101_tfrecord``) adds all three
training runs with validation and test accuracy: :func:`build_nb101_runs` writes those to
``nb101/nb101_108_runs.npz`` and checks its run 0 against the ObfuNAS table.

Every output is written to a temporary file, checked against its recorded hash, and only
then renamed into place (:func:`tgnas.fileio.atomic_output`).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tgnas import datafiles, fileio
from tgnas.errors import CommandError
from tgnas.spaces.nb101.enumerate import enumerate_nb101
from tgnas.spaces.nb101.tfrecord import read_nasbench_tfrecord, to_nb101_table

#: Output of :func:`build_nb101_runs` (below the data root); optional, no recorded hash.
NB101_RUNS_RELPATH = "nb101/nb101_108_runs.npz"


class BuildError(CommandError):
    """An original is missing or malformed, or an output does not match its recorded hash."""


def nb101_full_arrays(test_acc: np.ndarray, flops: np.ndarray, cells) -> dict[str, np.ndarray]:
    """The arrays of ``nb101_full`` from the ObfuNAS arrays and an enumeration.

    Args:
        test_acc: ``(N,)`` float64, accuracy of the ``k``-th cell in sorted-hash order.
        flops: ``(N,)`` float64, same order.
        cells: an :class:`~tgnas.spaces.nb101.enumerate.NB101Enumeration` of ``N`` cells.
    """
    n = len(cells)
    for name, arr in (("test.npy", test_acc), ("flops.npy", flops)):
        if arr.shape != (n,) or arr.dtype != np.float64:
            raise BuildError(f"ObfuNAS {name} is {arr.dtype} {arr.shape}, expected float64 ({n},) "
                             f"(one value per NB101 cell)")
    if np.any(cells.hashes[1:] <= cells.hashes[:-1]):
        raise BuildError("the enumerated cells are not in strictly ascending hash order")
    return {"hash": cells.hashes, "adjacency": cells.adjacency, "ops": cells.ops,
            "num_vertices": cells.num_vertices, "test_acc_108_run0": test_acc, "flops_thop": flops}


def write_npz(path: Path, arrays: dict[str, np.ndarray], sha256: str | None,
              overwrite: bool = True) -> str:
    """Write ``arrays`` as a compressed ``.npz`` (deterministic bytes); return its SHA256.

    Raises:
        BuildError: ``sha256`` is given and the written bytes differ; nothing is left at ``path``.
    """
    with fileio.atomic_output(path, overwrite, "data file") as tmp:
        np.savez_compressed(tmp, **arrays)  # numpy fixes member timestamps: same bytes each time
        got = fileio.sha256_file(tmp)
        if sha256 is not None and got != sha256:
            raise BuildError(f"{path.name}: the built file has SHA256 {got}, expected {sha256}; "
                             f"not written")
    return got


def build_nb101_full(root: Path, overwrite: bool = True, progress: bool = True) -> Path:
    """Build ``nb101_full`` below ``root`` from the ObfuNAS originals (about a minute)."""
    entry = datafiles.get("nb101_full")
    test_acc, flops = (np.load(_original_path(root, k), allow_pickle=False) for k in entry.built_from)
    arrays = nb101_full_arrays(test_acc, flops, enumerate_nb101(progress=progress))
    out = root / entry.relpath
    write_npz(out, arrays, entry.sha256, overwrite)
    return out


def _original_path(root: Path, key: str) -> Path:
    orig = datafiles.original(key)
    if datafiles.status(orig, root) != "ok":
        raise BuildError(f"original {orig.relpath} is {datafiles.status(orig, root)} below {root}; "
                         f"run `tgnas data fetch {key}` first")
    return root / orig.relpath


def nb101_runs_arrays(df) -> dict[str, np.ndarray]:
    """All 108-epoch runs of an official NB101 TFRecord as arrays sorted by module hash.

    Args:
        df: :func:`tgnas.spaces.nb101.tfrecord.read_nasbench_tfrecord` output.

    Returns:
        ``hash`` (N,), ``adjacency`` (N, 7, 7) int8, ``ops`` (N, 7) int8, ``num_vertices``
        (N,) int8, ``params`` (N,) int64, ``val_acc_108`` and ``test_acc_108`` (N, R)
        float64 (final accuracies, fractions; R = 3 runs in file order).
    """
    runs = sorted(df.loc[df["epochs"] == 108, "run"].unique().tolist())
    if not runs:
        raise BuildError("the TFRecord holds no 108-epoch records")
    base = to_nb101_table(df, epochs=108, run=runs[0])
    val = np.empty((len(base), len(runs)))
    test = np.empty((len(base), len(runs)))
    params = None
    for col, r in enumerate(runs):
        sel = df[(df["epochs"] == 108) & (df["run"] == r)].sort_values("module_hash")
        if not np.array_equal(sel["module_hash"].to_numpy(dtype="<U32"), base.hashes):
            raise BuildError(f"run {r} does not cover the same cells as run {runs[0]}")
        val[:, col] = sel["final_validation_accuracy"].to_numpy(dtype=np.float64)
        test[:, col] = sel["final_test_accuracy"].to_numpy(dtype=np.float64)
        params = sel["trainable_parameters"].to_numpy(dtype=np.int64)
    return {"hash": base.hashes, "adjacency": base.adjacency, "ops": base.ops,
            "num_vertices": base.num_vertices, "params": params,
            "val_acc_108": val, "test_acc_108": test}


def build_nb101_runs(root: Path, overwrite: bool = True, progress: bool = True) -> Path:
    """Build ``nb101/nb101_108_runs.npz`` from the official TFRecord below ``root``.

    Every record's CRC32C is verified while reading. When the ObfuNAS table is present,
    its cells and run-0 test accuracies must equal the TFRecord's.
    """
    tfrecord = root / datafiles.original("nb101_tfrecord").relpath
    if not tfrecord.is_file():
        raise BuildError(f"{tfrecord} is missing; run `tgnas data fetch nb101_tfrecord` first")
    arrays = nb101_runs_arrays(read_nasbench_tfrecord(tfrecord, progress=progress))
    full = root / datafiles.get("nb101_full").relpath
    if datafiles.status(datafiles.get("nb101_full"), root) == "ok":
        with np.load(full) as d:
            if not (np.array_equal(d["hash"], arrays["hash"])
                    and np.array_equal(d["test_acc_108_run0"], arrays["test_acc_108"][:, 0])):
                raise BuildError(f"{tfrecord}: cells or run-0 test accuracies differ from {full}")
    out = root / NB101_RUNS_RELPATH
    write_npz(out, arrays, None, overwrite)
    return out


#: Builder of each derived data file, by key.
BUILDERS = {"nb101_full": build_nb101_full}


def build(root: Path, overwrite: bool = False, progress: bool = True) -> list[Path]:
    """Build every derived file that is missing or corrupt below ``root``; return their paths.

    Also builds ``nb101/nb101_108_runs.npz`` when the official TFRecord has been fetched
    and that output is missing. Files already verified are left alone unless ``overwrite``.
    """
    out = []
    for entry in datafiles.FILES:
        if not entry.derived:
            continue
        if datafiles.status(entry, root) == "ok" and not overwrite:
            print(f"  ok       {entry.relpath} (already built)", flush=True)
            continue
        print(f"  build    {entry.relpath} from {', '.join(entry.built_from)}", flush=True)
        t0 = time.perf_counter()
        out.append(BUILDERS[entry.key](root, overwrite=True, progress=progress))
        print(f"           {time.perf_counter() - t0:.0f} s, SHA256 {fileio.sha256_file(out[-1])}")
    tfrecord = root / datafiles.original("nb101_tfrecord").relpath
    if tfrecord.is_file() and (overwrite or not (root / NB101_RUNS_RELPATH).is_file()):
        print(f"  build    {NB101_RUNS_RELPATH} from nb101_tfrecord", flush=True)
        out.append(build_nb101_runs(root, overwrite=True, progress=progress))
        print(f"           SHA256 {fileio.sha256_file(out[-1])} (no recorded hash: not built here)")
    return out
