"""NAS-Bench-201 tables: accuracies of all 15,625 cells and zero-cost proxies of 9,445.

Every table is indexed by the NAS-Bench-201 index (0..15624, the order of the benchmark's
test-accuracy table). Files from other sources are joined on the arch string (NASLib
6-tuples are converted with :func:`tgnas.spaces.nb201.arch.from_naslib_tuple`), never on their
own row numbers.

Loaders cache their result for the process (keyed on the verified file path, so pointing
``TGNAS_DATA`` elsewhere takes effect; the checksum is re-checked only when the file's size
or mtime changes) and return a copy, so a caller may modify it.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tgnas import datafiles
from tgnas.graph_forms import check_form, to_form
from tgnas.graphs import GraphSet
from tgnas.spaces.nb201.arch import NUM_ARCHS, NB201Arch, NB201Form, from_naslib_tuple, parse_arch, product_archs

#: Dataset names as used in column names, in the benchmark's order.
NB201_DATASETS: tuple[str, ...] = ("cifar10", "cifar100", "imagenet16-120")

#: Zero-cost proxy columns of :func:`load_nb201_proxies`, in file order.
PROXY_COLUMNS: tuple[str, ...] = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov",
                                  "l2_norm", "nwot", "params", "plain", "snip", "synflow", "zen")

_TEST_COLUMNS = {
    "CIFAR10TestAccuracy200Epochs": "cifar10",
    "CIFAR100TestAccuracy200Epochs": "cifar100",
    "ImageNetTestAccuracy200Epochs": "imagenet16-120",
}
_ZEN_DATASETS = {"cifar10": "cifar10", "cifar100": "cifar100", "ImageNet16-120": "imagenet16-120"}
_ZEN_NAME = re.compile(r"^zen/benchmark--nasbench201--(cifar10|cifar100|ImageNet16-120)--\d+\.json$")
_PROXY_FILES = {"cifar10": "nb201_zc_cifar10", "imagenet16-120": "nb201_zc_imagenet"}
INDEX_NAME = "nb201_index"


@lru_cache(maxsize=2)
def _read_test_table(path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path)
    missing = [c for c in (*_TEST_COLUMNS, "ArchitectureString") if c not in raw.columns]
    if missing:
        raise ValueError(f"{path} lacks columns {missing}; has {list(raw.columns)}")
    if len(raw) != NUM_ARCHS:
        raise ValueError(f"{path} has {len(raw)} rows, expected {NUM_ARCHS}")
    df = pd.DataFrame({"arch": raw["ArchitectureString"].astype(str)})
    for src, dst in _TEST_COLUMNS.items():
        df[dst] = raw[src].astype(np.float64)
    df.index = pd.RangeIndex(NUM_ARCHS, name=INDEX_NAME)
    if df["arch"].duplicated().any():
        raise ValueError(f"{path} lists some arch strings twice")
    return df


def nb201_arch_strings() -> tuple[str, ...]:
    """The 15,625 arch strings in NAS-Bench-201 index order (from the test-accuracy table)."""
    return _read_arch_strings(datafiles.require("nb201_test_acc"))


@lru_cache(maxsize=2)
def _read_arch_strings(path: Path) -> tuple[str, ...]:
    return tuple(_read_test_table(path)["arch"])


def enumerate_archs(order: str = "benchmark") -> tuple[NB201Arch, ...]:
    """All 15,625 cells.

    Args:
        order: ``"benchmark"`` (NAS-Bench-201 index order, read from the test-accuracy table;
            needs the data file ``nb201_test_acc``) or ``"product"``
            (:func:`tgnas.spaces.nb201.arch.product_archs`; needs no data).
    """
    if order == "benchmark":
        # The cache is keyed on the verified file path, so a changed TGNAS_DATA takes effect.
        return _read_benchmark_order(datafiles.require("nb201_test_acc"))
    if order == "product":
        return product_archs()
    raise ValueError(f"unknown order {order!r}; expected 'benchmark' or 'product'")


def index_of(arch: NB201Arch) -> int:
    """The NAS-Bench-201 index (0..15624) of ``arch`` (needs the data file ``nb201_test_acc``)."""
    if not isinstance(arch, NB201Arch):
        raise ValueError(f"expected an NB201Arch, got {type(arch).__name__}: {arch!r}")
    return _read_index_table(datafiles.require("nb201_test_acc"))[arch]


@lru_cache(maxsize=2)
def _read_benchmark_order(path: Path) -> tuple[NB201Arch, ...]:
    archs = tuple(parse_arch(s) for s in _read_arch_strings(path))
    if len(archs) != NUM_ARCHS or set(archs) != set(product_archs()):
        raise ValueError(f"the benchmark's arch list ({len(archs)} rows, {len(set(archs))} distinct) "
                         f"is not a permutation of the {NUM_ARCHS} NB201 cells")
    return archs


@lru_cache(maxsize=2)
def _read_index_table(path: Path) -> dict[NB201Arch, int]:
    return {a: i for i, a in enumerate(_read_benchmark_order(path))}


@lru_cache(maxsize=2)
def _read_index_of_string(path: Path) -> dict[str, int]:
    return {s: i for i, s in enumerate(_read_test_table(path)["arch"])}


def _indices_of_tuples(tuples: pd.Series, test_path: Path, what: str) -> np.ndarray:
    """Benchmark indices of NASLib tuple strings; ``ValueError`` on unknown or repeated cells."""
    lookup = _read_index_of_string(test_path)
    idx = np.fromiter((lookup[str(from_naslib_tuple(t))] for t in tuples), dtype=np.int64, count=len(tuples))
    if len(np.unique(idx)) != len(idx):
        raise ValueError(f"{what} lists some NB201 cells more than once")
    return idx


@lru_cache(maxsize=2)
def _read_val_zen_table(path: Path, test_path: Path) -> pd.DataFrame:
    """Validation accuracy and Zen score per dataset, indexed by benchmark index."""
    records: dict[str, list[dict]] = {d: [] for d in NB201_DATASETS}
    # Read in memory: the zip is small (1.7 MB) and never extracted.
    with zipfile.ZipFile(io.BytesIO(path.read_bytes())) as zf:
        for name in zf.namelist():
            if name.endswith("/"):
                continue
            m = _ZEN_NAME.match(name)
            if not m:
                raise ValueError(f"unexpected member {name!r} in {path}")
            records[_ZEN_DATASETS[m.group(1)]].extend(json.loads(zf.read(name)))
    cols: dict[str, pd.Series] = {}
    for dataset, recs in records.items():
        if len(recs) != NUM_ARCHS:
            raise ValueError(f"{path} has {len(recs)} {dataset} records, expected {NUM_ARCHS}")
        idx = _indices_of_tuples(pd.Series([r["arch"] for r in recs]), test_path,
                                 f"{path} ({dataset})")
        cols[f"{dataset}_val"] = pd.Series([float(r["val_accuracy"]) for r in recs], index=idx)
        cols[f"zen_{dataset}"] = pd.Series([float(r["zen"]["score"]) for r in recs], index=idx)
    out = pd.DataFrame(cols).sort_index()
    out.index.name = INDEX_NAME
    return out


@lru_cache(maxsize=2)
def _nb201_table(test_path: Path, zen_path: Path | None) -> pd.DataFrame:
    df = _read_test_table(test_path)
    order = ["arch", *NB201_DATASETS]
    if zen_path is not None:
        df = df.join(_read_val_zen_table(zen_path, test_path), how="left")
        order += [*(f"{d}_val" for d in NB201_DATASETS), *(f"zen_{d}" for d in NB201_DATASETS)]
    return df[order]


def load_nb201(validation: bool = False) -> pd.DataFrame:
    """All 15,625 NB201 cells.

    Args:
        validation: also join the validation accuracies and Zen scores of
            NAS-Bench-Suite-Zero (the optional data file ``nb201_val_acc_zen``).

    Returns:
        DataFrame indexed by ``nb201_index`` (0..15624) with columns

        * ``arch``: the benchmark arch string (parse with :func:`~tgnas.spaces.nb201.arch.parse_arch`),
        * ``cifar10``, ``cifar100``, ``imagenet16-120``: test accuracy (%) after 200 epochs,
          mean over seeds (NATS-Bench),
        * with ``validation``: ``cifar10_val``, ``cifar100_val``, ``imagenet16-120_val``:
          validation accuracy (%), and ``zen_cifar10``, ``zen_cifar100``,
          ``zen_imagenet16-120``: Zen-NAS score, kept as published: the 341 cells with no
          input-to-output path (all at 10 % accuracy) carry NASLib's marker ``-1e8``.

    Raises:
        DataFileError: a needed file is missing or corrupt.
    """
    zen = datafiles.require("nb201_val_acc_zen") if validation else None
    return _nb201_table(datafiles.require("nb201_test_acc"), zen).copy()


# ------------------------------------------------------------- the space record's cells

@lru_cache(maxsize=4)
def cell_graphs(form: str = "full"):
    """All 15,625 cells as a :class:`~tgnas.graphs.GraphSet` in ``form`` (:mod:`tgnas.graph_forms`),
    in benchmark index order (8 nodes in the full form, fewer otherwise); built once per process."""
    check_form(form)
    space = NB201Form()
    return GraphSet.from_graphs([to_form(space.to_graph(a), form) for a in enumerate_archs()])


def cell_ids() -> pd.DataFrame:
    """``nb201_index`` and ``arch`` (benchmark arch string) of every cell, in benchmark order."""
    space = NB201Form()
    return pd.DataFrame({INDEX_NAME: range(NUM_ARCHS), "arch": [space.format(a) for a in enumerate_archs()]})


def labelled_cells(form: str = "full", surrogate_samples: int = 0, seed: int = 0, dataset: str = "cifar10"):
    """(GraphSet, ``(15625,)`` test accuracy (%) on ``dataset``) of every cell, in benchmark order
    (NB201 has no surrogate: ``surrogate_samples`` and ``seed`` are unused)."""
    df = load_nb201()
    if not np.array_equal(df.index.to_numpy(), np.arange(len(df))):
        raise ValueError("load_nb201() is not in benchmark index order 0..15624")
    if dataset not in NB201_DATASETS:
        raise KeyError(f"unknown NB201 dataset {dataset!r}; expected one of {list(NB201_DATASETS)}")
    return cell_graphs(form), df[dataset].to_numpy()


@lru_cache(maxsize=4)
def _read_proxy_table(path: Path, test_path: Path) -> pd.DataFrame:
    raw = pd.read_csv(path)
    missing = [c for c in ("net", *PROXY_COLUMNS) if c not in raw.columns]
    if missing:
        raise ValueError(f"{path} lacks columns {missing}; has {list(raw.columns)}")
    idx = _indices_of_tuples(raw["net"], test_path, str(path))
    if "net_str" in raw.columns:
        # Both forms are present: they must name the same cell.
        strings = _read_test_table(test_path)["arch"].to_numpy()[idx]
        bad = np.flatnonzero(strings != raw["net_str"].to_numpy())
        if len(bad):
            raise ValueError(f"{path}: row {bad[0]} has net {raw['net'].iloc[bad[0]]!r} but "
                             f"net_str {raw['net_str'].iloc[bad[0]]!r}")
    out = raw[list(PROXY_COLUMNS)].astype(np.float64)
    out.index = pd.Index(idx, name=INDEX_NAME)
    return out.sort_index()


def load_nb201_proxies(dataset: str = "cifar10") -> pd.DataFrame:
    """The 13 zero-cost proxies (:data:`PROXY_COLUMNS`) of 9,445 NB201 cells.

    Args:
        dataset: ``"cifar10"`` or ``"imagenet16-120"``.

    Returns:
        DataFrame indexed by ``nb201_index`` (sorted), one float column per proxy.

    Raises:
        KeyError: unknown ``dataset``.
        DataFileError: a needed file is missing or corrupt.
    """
    if dataset not in _PROXY_FILES:
        raise KeyError(f"no NB201 zero-cost proxies for dataset {dataset!r}; expected one of "
                       f"{list(_PROXY_FILES)}")
    return _read_proxy_table(datafiles.require(_PROXY_FILES[dataset]),
                             datafiles.require("nb201_test_acc")).copy()


# ------------------------------------------------- judging found cells (never during search)

def nb201_accuracy(archs: Sequence[Any]) -> pd.DataFrame:
    """True test accuracy (%) of NB201 cells (objects or arch strings).

    Returns:
        DataFrame, one row per arch in input order, columns ``arch``, ``nb201_index`` and
        :data:`NB201_DATASETS`.
    """
    table = load_nb201()
    index_of = {s: i for i, s in zip(table.index, table["arch"])}
    rows = []
    for a in archs:
        s = str(a)
        if s not in index_of:
            raise KeyError(f"{s!r} is not an NB201 arch string")
        i = index_of[s]
        rows.append({"arch": s, "nb201_index": int(i), **{d: float(table.at[i, d]) for d in NB201_DATASETS}})
    return pd.DataFrame(rows, columns=["arch", "nb201_index", *NB201_DATASETS])


def nb201_optimum() -> dict[str, float]:
    """Best test accuracy (%) in the space per dataset (94.37 / 73.51 / 47.31)."""
    table = load_nb201()
    return {d: float(table[d].max()) for d in NB201_DATASETS}


def nb201_percentile(accuracy: float, dataset: str = "cifar10") -> float:
    """Share (%) of the 15,625 NB201 cells with a test accuracy strictly below ``accuracy``."""
    col = load_nb201()[dataset].to_numpy()
    return float(100.0 * np.mean(col < accuracy))


def nb201_top_threshold(top_pct: float = 1.0, dataset: str = "cifar10") -> float:
    """The test accuracy (%) that the best ``top_pct`` % of NB201 cells reach (93.78 for 1 %, CIFAR-10).

    It is the accuracy of the ``ceil(N * top_pct / 100)``-th best of the N = 15,625 cells.
    """
    if not 0 < top_pct <= 100:
        raise ValueError(f"top_pct must be in (0, 100], got {top_pct!r}")
    col = np.sort(load_nb201()[dataset].to_numpy())[::-1]
    return float(col[int(np.ceil(len(col) * top_pct / 100.0)) - 1])


def clear_cache() -> None:
    """Forget the cached tables (e.g. after changing ``TGNAS_DATA``)."""
    for fn in (_read_test_table, _read_arch_strings, _read_index_of_string, _read_val_zen_table, _nb201_table,
               _read_proxy_table, _read_benchmark_order, _read_index_table):
        fn.cache_clear()
