"""NAS-Bench-101 tables: all 423,624 cells with test accuracy, and NASLib's proxy files.

* :func:`load_nb101` - the whole space as numpy arrays (:class:`NB101Table`), rows in
  sorted module-hash order; label = CIFAR-10 test accuracy (fraction) of training run 0 of
  3 after 108 epochs, as in the TG-NAS authors' code (one run, not the seed mean).
* :func:`load_nb101_zc` - NAS-Bench-Suite-Zero's 500 labelled keys with 11 zero-cost
  proxies (only 292 distinct cells: keys are unpruned 7-vertex specs, several of which
  prune to the same cell).
* :func:`load_nb101_unlabelled` - NAS-Bench-Suite-Zero's 10,250 unlabelled cells with Zen
  scores.

Loaders check the file through :func:`tgnas.datafiles.require` on every call (so pointing
``TGNAS_DATA`` elsewhere takes effect) and cache the parsed result per verified path. The
table's arrays are read-only (shared by all callers); DataFrames are returned as copies.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from tgnas import datafiles, paths
from tgnas.graph_forms import check_form
from tgnas.graphs import CACHE_VERSION, GraphSet
from tgnas.spaces.nb101.arch import NB101Cell, NB101Form
from tgnas.spaces.nb101.hashing import hash_cell

#: The table's op codes (``-3`` marks padding beyond ``num_vertices``).
NB101_OP_CODES: dict[int, str] = {-1: "input", -2: "output", 0: "conv3x3-bn-relu",
                                  1: "conv1x1-bn-relu", 2: "maxpool3x3"}
PAD_CODE = -3
#: Op names by code in NASLib's NB101 tuple keys (index into this list).
NASLIB_NB101_OPS: list[str] = ["input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu"]
#: Zero-cost proxy columns of :func:`load_nb101_zc`.
NB101_ZC_PROXIES: tuple[str, ...] = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov",
                                     "l2_norm", "params", "plain", "snip", "synflow")
NUM_CELLS = 423_624
MAX_VERTICES = 7

_OP_NAME_TO_CODE = {name: code for code, name in NB101_OP_CODES.items()}
_ZEN_NAME = re.compile(r"^zen/benchmark--nasbench101--cifar10--\d+\.json$")


@dataclass(frozen=True, eq=False)
class NB101Table:
    """The NAS-Bench-101 space as aligned numpy arrays (one row per unique cell).

    Attributes:
        hashes: ``(N,)`` str, the benchmark's module hash of each cell (sorted ascending).
        adjacency: ``(N, 7, 7)`` int8, upper-triangular, zero-padded beyond
            ``num_vertices``.
        ops: ``(N, 7)`` int8 op codes (:data:`NB101_OP_CODES`; ``-3`` padding).
        num_vertices: ``(N,)`` int8, 2..7.
        test_acc: ``(N,)`` float64, CIFAR-10 test accuracy as a fraction, 108 epochs, run 0.
        flops: ``(N,)`` float64, FLOPs of the PyTorch NB101 network (thop); NaN when unknown
            (a table built from the official TFRecord has no FLOPs).
    """

    hashes: np.ndarray
    adjacency: np.ndarray
    ops: np.ndarray
    num_vertices: np.ndarray
    test_acc: np.ndarray
    flops: np.ndarray

    def __post_init__(self) -> None:
        n = len(self.hashes)
        shapes = {"adjacency": (n, MAX_VERTICES, MAX_VERTICES), "ops": (n, MAX_VERTICES),
                  "num_vertices": (n,), "test_acc": (n,), "flops": (n,)}
        for field, shape in shapes.items():
            got = np.shape(getattr(self, field))
            if got != shape:
                raise ValueError(f"NB101Table.{field} has shape {got}, expected {shape}")

    def __len__(self) -> int:
        return len(self.hashes)

    def __repr__(self) -> str:
        best = float(np.max(self.test_acc)) if len(self) else float("nan")
        return f"NB101Table({len(self)} cells, best test_acc {best:.4f})"

    def op_names(self, i: int) -> tuple[str, ...]:
        """Op names of cell ``i`` (``num_vertices[i]`` of them, input first)."""
        n = int(self.num_vertices[i])
        return tuple(NB101_OP_CODES[int(c)] for c in self.ops[i, :n])

    def cell(self, i: int) -> NB101Cell:
        """Cell ``i`` as an :class:`NB101Cell` (its ``num_vertices`` x ``num_vertices`` block)."""
        if not -len(self) <= i < len(self):
            raise IndexError(f"cell index {i} out of range for a table of {len(self)} cells")
        n = int(self.num_vertices[i])
        return NB101Cell(self.adjacency[i, :n, :n], self.op_names(i))

    def index_of(self, module_hash: str) -> int:
        """Row of ``module_hash`` (binary search; hashes are sorted). ``KeyError`` if absent."""
        pos = int(np.searchsorted(self.hashes, module_hash))
        if pos < len(self) and self.hashes[pos] == module_hash:
            return pos
        raise KeyError(f"module hash {module_hash!r} is not in the NB101 table")

    def to_frame(self) -> pd.DataFrame:
        """One row per cell: hash, num_vertices, num_edges, op counts, test_acc, flops."""
        counts = {f"n_{name}": (self.ops == code).sum(axis=1).astype(np.int8)
                  for code, name in NB101_OP_CODES.items() if code >= 0}
        return pd.DataFrame({
            "hash": self.hashes,
            "num_vertices": self.num_vertices,
            "num_edges": self.adjacency.sum(axis=(1, 2)).astype(np.int8),
            **counts,
            "test_acc": self.test_acc,
            "flops": self.flops,
        })


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@lru_cache(maxsize=2)
def _read_full(path: Path) -> NB101Table:
    with np.load(path) as d:
        expected = {"hash", "adjacency", "ops", "num_vertices", "test_acc_108_run0", "flops_thop"}
        if not expected <= set(d.files):
            raise ValueError(f"{path} lacks arrays {sorted(expected - set(d.files))}; has {d.files}")
        table = NB101Table(
            hashes=_readonly(d["hash"].astype("<U32")),
            adjacency=_readonly(d["adjacency"].astype(np.int8)),
            ops=_readonly(d["ops"].astype(np.int8)),
            num_vertices=_readonly(d["num_vertices"].astype(np.int8)),
            test_acc=_readonly(d["test_acc_108_run0"].astype(np.float64)),
            flops=_readonly(d["flops_thop"].astype(np.float64)),
        )
    if len(table) != NUM_CELLS:
        raise ValueError(f"{path} has {len(table)} cells, expected {NUM_CELLS}")
    return table


def load_nb101() -> NB101Table:
    """All 423,624 NB101 cells (cached per process; arrays are read-only).

    Raises:
        tgnas.datafiles.DataFileError: ``nb101_full`` is missing or corrupt.
    """
    return _read_full(datafiles.require("nb101_full"))


# ------------------------------------------------------------- the space record's cells

#: Node labels of NB101 graphs, the vocabulary of :func:`table_graphset`.
NB101_VOCAB: tuple[str, ...] = NB101Form.graph_ops
#: Table op code -> index into NB101_VOCAB (-1, the GraphSet padding, for the table's padding code -3).
_CODE_TO_VOCAB = {PAD_CODE: -1, -2: 4, -1: 0, 0: 1, 1: 2, 2: 3}


def _table_to_graphset(table: NB101Table):
    # Array operations only: the table's adjacency is already upper-triangular and
    # zero-padded to 7 vertices, with the output at num_vertices - 1 and padding after it,
    # which is GraphSet's layout.
    codes = np.asarray(table.ops)
    lut = np.full(8, -99, dtype=np.int32)  # codes -3..2 -> lut[code + 3]
    for code, idx in _CODE_TO_VOCAB.items():
        lut[code + 3] = idx
    if codes.min() < -3 or codes.max() > 2:
        raise ValueError(f"NB101 op codes must lie in [-3, 2], got [{codes.min()}, {codes.max()}]")
    ops = lut[codes.astype(np.int64) + 3]
    adj = np.asarray(table.adjacency).astype(np.uint8)
    return GraphSet(ops, adj, np.asarray(table.num_vertices, dtype=np.int32), NB101_VOCAB)


def table_key(table: NB101Table) -> str:
    """16 hex digits hashing the table's op codes, adjacency and vertex counts (cache file names:
    a different table never hits a stale file)."""
    h = hashlib.sha256()
    for a in (table.ops, table.adjacency, table.num_vertices):
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()[:16]


def table_graphset(table: NB101Table | None = None, cache: bool = True):
    """All cells of an NB101 table (default :func:`load_nb101`) as a GraphSet, in table order,
    converted with array operations only.

    Args:
        cache: read/write ``CACHE_DIR/graphs/nb101_<key>.npz`` where ``key`` hashes the
            table's op codes, adjacency and vertex counts (a different table never hits a
            stale file).
    """
    table = load_nb101() if table is None else table
    if not cache:
        return _table_to_graphset(table)
    path = paths.CACHE_DIR / "graphs" / f"nb101_v{CACHE_VERSION}_{table_key(table)}.npz"
    if path.is_file():
        return GraphSet.load(path)
    gs = _table_to_graphset(table)
    gs.save(path)
    return gs


def cell_graphs(form: str = "full"):
    """All 423,624 cells as a GraphSet (every graph form is the same: NB101 cells are pruned
    and have no ``none`` or identity op)."""
    check_form(form)
    return table_graphset()


def cell_ids() -> pd.DataFrame:
    """``nb101_index`` and ``hash`` (module hash) of every cell, in table order."""
    table = load_nb101()
    return pd.DataFrame({"nb101_index": range(len(table)), "hash": table.hashes})


def labelled_cells(form: str = "full", surrogate_samples: int = 0, seed: int = 0):
    """(GraphSet, ``(423624,)`` CIFAR-10 test accuracy after 108 epochs, run 0 (fraction)) of
    every cell (NB101 has no surrogate: ``surrogate_samples`` and ``seed`` are unused)."""
    check_form(form)
    table = load_nb101()
    return table_graphset(table), np.asarray(table.test_acc)


def decode_naslib_key(key: str | tuple[int, ...]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Decode a NASLib NB101 tuple key into ``((n, n) int8 adjacency, n op names)``.

    The key lists the ``n x n`` adjacency row-major and then ``n`` op codes into
    :data:`NASLIB_NB101_OPS`, so its length is ``n * n + n``.
    """
    if isinstance(key, str):
        text = key.strip()
        if not (text.startswith("(") and text.endswith(")")):
            raise ValueError(f"NASLib NB101 key {key!r} is not a tuple of ints")
        try:
            values = tuple(int(v) for v in text[1:-1].split(","))
        except ValueError:
            raise ValueError(f"NASLib NB101 key {key!r} is not a tuple of ints") from None
    else:
        values = tuple(int(v) for v in key)
    length = len(values)
    n = int(round((np.sqrt(1 + 4 * length) - 1) / 2))
    if n * n + n != length or n < 2:
        raise ValueError(f"NASLib NB101 key has {length} numbers, expected n*n + n for some n >= 2")
    adj = np.array(values[: n * n], dtype=np.int8).reshape(n, n)
    if any(c < 0 or c >= len(NASLIB_NB101_OPS) for c in values[n * n:]):
        raise ValueError(f"NASLib NB101 key {key!r} has an op code outside 0..{len(NASLIB_NB101_OPS) - 1}")
    return adj, tuple(NASLIB_NB101_OPS[c] for c in values[n * n:])


def _decoded_columns(keys: list, space: NB101Form) -> dict[str, list]:
    """Adjacency, ops, pruned cell and module hash of each NASLib key."""
    cols: dict[str, list] = {"num_vertices": [], "adjacency": [], "ops": [], "cell": [], "hash": []}
    for key in keys:
        adj, ops = decode_naslib_key(key)
        cell = space.prune(NB101Cell(adj, ops))
        space.validate(cell)
        cols["num_vertices"].append(len(ops))
        cols["adjacency"].append(adj)
        cols["ops"].append(ops)
        cols["cell"].append(cell)
        cols["hash"].append(hash_cell(cell.adjacency, cell.ops))
    return cols


@lru_cache(maxsize=2)
def _read_zc(path: Path) -> pd.DataFrame:
    with open(path) as fh:
        raw = json.load(fh)
    try:
        entries = raw["nasbench101"]["cifar10"]
    except (KeyError, TypeError):
        raise ValueError(f"{path} lacks the 'nasbench101' -> 'cifar10' section") from None
    keys = list(entries)
    df = pd.DataFrame({"key": keys, **_decoded_columns(keys, NB101Form())})
    df["val_accuracy"] = [float(entries[k]["val_accuracy"]) for k in keys]
    for proxy in NB101_ZC_PROXIES:
        df[proxy] = [float(entries[k][proxy]) for k in keys]
    return df


def load_nb101_zc() -> pd.DataFrame:
    """NAS-Bench-Suite-Zero's NB101 zero-cost proxies (500 keys, only 292 distinct cells).

    Columns: ``key`` (the file's tuple string), ``num_vertices`` (of the unpruned spec,
    always 7 here), ``adjacency`` (object, ``(n, n)`` int8 unpruned), ``ops`` (object,
    tuple of op names), ``cell`` (object, the pruned :class:`NB101Cell`), ``hash`` (module
    hash of the pruned cell, computed here), ``val_accuracy`` (percent, one training run),
    and the 11 proxies of :data:`NB101_ZC_PROXIES`. Several keys prune to the same cell, so
    group by ``hash`` for per-cell statistics.
    """
    return _read_zc(datafiles.require("nb101_zc")).copy()


@lru_cache(maxsize=2)
def _read_unlabelled(path: Path) -> pd.DataFrame:
    rows = []
    with zipfile.ZipFile(path) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".json"))
        bad = [n for n in names if not _ZEN_NAME.match(n)]
        if bad or not names:
            raise ValueError(f"{path}: unexpected members {bad[:3]} (or no JSON at all)")
        for name in names:
            with zf.open(name) as fh:
                for entry in json.load(io.TextIOWrapper(fh, encoding="utf-8")):
                    rows.append((int(entry["idx"]), entry["arch"], float(entry["zen"]["score"]),
                                 float(entry["zen"]["time"])))
    rows.sort(key=lambda r: r[0])
    keys = [r[1] for r in rows]
    df = pd.DataFrame({"idx": [r[0] for r in rows], "key": keys,
                       **_decoded_columns(keys, NB101Form()),
                       "zen": [r[2] for r in rows], "zen_time": [r[3] for r in rows]})
    return df


def load_nb101_unlabelled() -> pd.DataFrame:
    """NAS-Bench-Suite-Zero's 10,250 unlabelled NB101 cells with Zen scores.

    Read from the zip in memory. Columns: ``idx``, ``key``, ``num_vertices``,
    ``adjacency`` (object, ``(n, n)`` int8 as stored), ``ops`` (tuple of names), ``cell``
    (pruned :class:`NB101Cell`), ``hash``, ``zen`` (score), ``zen_time`` (seconds).
    """
    return _read_unlabelled(datafiles.require("nb101_unlabelled_zen")).copy()
