"""TransNAS-Bench-101 macro benchmark: NAS-Bench-Suite-Zero's ``zc_transbench101_macro.json``.

The file (data key ``tnb101_macro_zc``) holds, for each of 7 tasks (:data:`TASKS`), records
``{idx, arch, val_accuracy, <11 proxies>: {score, time}}`` keyed by NASLib's padded tuple
``"(1, 2, 4, 2, 0, 0)"``: 725 distinct networks in all, 662 of them in the two
classification tasks. ``idx`` (0..724) names one network in every task; it is this
module's **fixed order** (:func:`benchmark_archs`, :func:`cell_ids`, :func:`cell_graphs`),
checked to be a permutation of 0..724 that agrees across tasks.

``val_accuracy`` means something different in every task (top-1 % for ``class_scene``,
``class_object`` and ``jigsaw``; an mIoU-like accuracy for ``segmentsemantic``; SSIM for
``normal`` and ``autoencoder``; a negative L2 loss for ``room_layout``); higher is better
in all of them, but **rank within one task only**: the numbers of two tasks are not
comparable. The proxies were computed per task on that task's data and network.

Tables are read once per process (keyed on the verified file path) and returned as copies.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from tgnas import datafiles
from tgnas.graph_forms import check_form, to_form
from tgnas.graphs import GraphSet
from tgnas.spaces.tnb101_macro.arch import (TASKS, MacroArch, as_arch, format_arch, from_naslib_tuple, to_graph,
                                           to_naslib_string)

#: The 11 zero-cost proxies of every record (their ``score``), in column order.
PROXIES: tuple[str, ...] = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov", "l2_norm", "nwot",
                            "params", "plain", "snip")
#: Distinct networks in the file.
NUM_BENCHMARK_ARCHS: int = 725
INDEX_NAME = "tnb101_index"
DATA_KEY = "tnb101_macro_zc"


def check_task(task: str) -> str:
    """Return ``task`` or raise ``KeyError`` listing the tasks."""
    if task not in TASKS:
        raise KeyError(f"unknown TNB101 macro task {task!r}; expected one of {list(TASKS)}")
    return task


@lru_cache(maxsize=2)
def _read(path: Path) -> dict[str, pd.DataFrame]:
    with open(path) as fh:
        raw = json.load(fh)
    if set(raw) != set(TASKS):
        raise ValueError(f"{path}: tasks {sorted(raw)} differ from the expected {sorted(TASKS)}")
    tables: dict[str, pd.DataFrame] = {}
    index_of: dict[MacroArch, int] = {}
    for task in TASKS:
        rows = []
        for key, rec in raw[task].items():
            missing = [c for c in ("idx", "arch", "val_accuracy", *PROXIES) if c not in rec]
            if missing:
                raise ValueError(f"{path}: {task} record {key!r} lacks {missing}")
            if rec["arch"] != key:
                raise ValueError(f"{path}: {task} record {key!r} names arch {rec['arch']!r}")
            arch = from_naslib_tuple(key)
            idx = int(rec["idx"])
            if index_of.setdefault(arch, idx) != idx:
                raise ValueError(f"{path}: {key} has idx {idx} in {task} but {index_of[arch]} in another task")
            rows.append({INDEX_NAME: idx, "arch": format_arch(arch), "naslib": key,
                         "val_accuracy": float(rec["val_accuracy"]),
                         **{p: float(rec[p]["score"]) for p in PROXIES}})
        df = pd.DataFrame(rows).set_index(INDEX_NAME).sort_index()
        if df.index.duplicated().any():
            raise ValueError(f"{path}: {task} lists some idx twice")
        tables[task] = df
    if sorted(index_of.values()) != list(range(NUM_BENCHMARK_ARCHS)):
        raise ValueError(f"{path}: the idx of its {len(index_of)} distinct archs are not 0..{NUM_BENCHMARK_ARCHS - 1}")
    return tables


def _tables() -> dict[str, pd.DataFrame]:
    return _read(datafiles.require(DATA_KEY))


def load_task(task: str = TASKS[0]) -> pd.DataFrame:
    """The benchmark's records of one task (rank within it only; module docstring).

    Returns:
        DataFrame indexed by ``tnb101_index`` (the file's ``idx``, sorted) with columns
        ``arch`` (canonical net code, ``"64-1242-basic"``), ``naslib`` (the file's key),
        ``val_accuracy`` (the task's label) and one float column per proxy of :data:`PROXIES`
        (its ``score``). 725 rows, 662 for ``class_scene`` and ``class_object``.

    Raises:
        KeyError: unknown ``task``.
        DataFileError: the file is missing or corrupt.
    """
    return _tables()[check_task(task)].copy()


def benchmark_archs() -> tuple[MacroArch, ...]:
    """The 725 networks of the file in ``tnb101_index`` order (0..724)."""
    return _archs(datafiles.require(DATA_KEY))


@lru_cache(maxsize=2)
def _archs(path: Path) -> tuple[MacroArch, ...]:
    tables = _read(path)
    text = pd.concat([tables[t]["arch"] for t in TASKS])
    text = text[~text.index.duplicated()].sort_index()
    return tuple(as_arch(s) for s in text)


def cell_ids() -> pd.DataFrame:
    """``tnb101_index``, ``arch`` (net code) and ``naslib`` (tuple key) of the 725 networks, in order."""
    archs = benchmark_archs()
    return pd.DataFrame({INDEX_NAME: range(len(archs)), "arch": [format_arch(a) for a in archs],
                         "naslib": [to_naslib_string(a) for a in archs]})


@lru_cache(maxsize=4)
def cell_graphs(form: str = "full"):
    """The 725 networks as a :class:`~tgnas.graphs.GraphSet` of ``form``, in ``tnb101_index`` order.

    (Every form gives the same chains: the space has no ``none`` or identity labels.)
    """
    check_form(form)
    return GraphSet.from_graphs([to_form(to_graph(a), form) for a in benchmark_archs()])


def accuracy(archs: Sequence[MacroArch | str]) -> pd.DataFrame:
    """``val_accuracy`` of ``archs`` in every task: one row per arch (input order), one column
    per task of :data:`TASKS`. NaN where a task lacks the arch (63 of the 725 in the two
    classification tasks) and in every column for the networks of the space that the
    benchmark file does not hold (2,531 of 3,256). Compare values within a column only."""
    tables = _tables()
    keys = [format_arch(as_arch(a)) for a in archs]
    cols = {}
    for task in TASKS:
        lookup = dict(zip(tables[task]["arch"], tables[task]["val_accuracy"]))
        cols[task] = np.array([lookup.get(k, np.nan) for k in keys], dtype=np.float64)
    return pd.DataFrame(cols, index=pd.Index(keys, name="arch"))


def labelled_cells(form: str = "full", surrogate_samples: int = 0, seed: int = 0, task: str = TASKS[0]):
    """``(GraphSet, (M,) labels)``: the networks ``task`` labels, in ``tnb101_index`` order,
    and their ``val_accuracy`` in that task (M = 662 for the classification tasks, else 725).

    Labels of two tasks are not comparable: train and rank within one task. The benchmark
    has no surrogate: ``surrogate_samples`` and ``seed`` are unused (as for NB201).
    """
    df = _tables()[check_task(task)]
    # tnb101_index is the position in cell_graphs' order (0..724, checked on reading).
    return cell_graphs(form).subset(df.index.to_numpy()), df["val_accuracy"].to_numpy(dtype=np.float64)


def labelled_archs(task: str) -> list[MacroArch]:
    """The networks of :func:`labelled_cells` for ``task``, in its order."""
    return [as_arch(a) for a in _tables()[check_task(task)]["arch"]]


def clear_cache() -> None:
    """Forget the cached tables (e.g. after changing ``TGNAS_DATA``)."""
    for fn in (_read, _archs, cell_graphs):
        fn.cache_clear()
