"""Read the official NAS-Bench-101 file (``nasbench_only108.tfrecord``) without TensorFlow.

TFRecord framing (little-endian), repeated to the end of the file::

    uint64 length | uint32 masked_crc32c(length bytes) | data[length] | uint32 masked_crc32c(data)

with ``masked = ((crc >> 15) | (crc << 17)) + 0xa282ead8 (mod 2**32)`` and CRC32C the
Castagnoli CRC. Every CRC is verified, in C by the ``google-crc32c`` package (a pure-Python or numpy
CRC over the ~0.5 GB official file would take minutes).

Each NAS-Bench-101 record is the UTF-8 JSON list
``[module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]``: the adjacency as a
string of ``V*V`` digits (row-major), the ops comma-separated, and ``raw_metrics`` a
base64 ``nasbench.ModelMetrics`` protocol buffer (google-research/nasbench
``model_metrics.proto``, proto2)::

    ModelMetrics   { repeated EvaluationData evaluation_data = 1; int32 trainable_parameters = 2;
                     double total_time = 3; }
    EvaluationData { double current_epoch = 1; double training_time = 2; double train_accuracy = 3;
                     double validation_accuracy = 4; double test_accuracy = 5;
                     string checkpoint_path = 6; }

``evaluation_data`` holds the evaluations at step 0, halfway and at the end of training
(the benchmark's API reads indices 1 and 2). There is one record per (cell, epoch budget,
training run); a cell's runs are numbered in file order, as the benchmark's API does.
The message classes are built at run time from a ``FileDescriptorProto`` (no protoc).
"""

from __future__ import annotations

import base64
import json
import struct
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import google_crc32c
import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from tgnas.spaces.nb101.benchmark import MAX_VERTICES, NB101_OP_CODES, PAD_CODE, NB101Table

_MASK_DELTA = 0xA282EAD8
_HEADER = struct.Struct("<QI")  # length, masked crc of the 8 length bytes
_FOOTER = struct.Struct("<I")


class TFRecordError(ValueError):
    """A TFRecord file is truncated, corrupted or not in the expected format."""


def crc32c(data: bytes) -> int:
    """CRC32C (Castagnoli) of ``data``, computed in C by ``google-crc32c``."""
    return int(google_crc32c.value(bytes(data)))


def crc32c_many(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """CRC32C of many byte ranges of one buffer.

    Args:
        buf: ``(B,)`` uint8, the bytes.
        starts: ``(R,)`` int, start offset of each range.
        lengths: ``(R,)`` int, length of each range.

    Returns:
        ``(R,)`` uint32 CRCs (one C call per range: ~1 s for the 0.5 GB official file).
    """
    buf = np.asarray(buf, dtype=np.uint8)
    value = google_crc32c.value  # wants bytes: each range is copied once (small records)
    return np.fromiter((value(buf[s:s + n].tobytes()) for s, n in zip(np.asarray(starts).tolist(),
                                                          np.asarray(lengths).tolist())),
                       dtype=np.uint32, count=len(starts))


def mask_crc(crc: int | np.ndarray) -> int | np.ndarray:
    """TFRecord's CRC mask: rotate right by 15 bits and add a constant (mod 2**32)."""
    if isinstance(crc, np.ndarray):
        crc = crc.astype(np.uint64)
        return ((((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF).astype(np.uint32)
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + _MASK_DELTA) & 0xFFFFFFFF


def write_tfrecord(path: str | Path, records: Iterable[bytes]) -> int:
    """Write ``records`` (bytes each) as a TFRecord file; return how many were written."""
    count = 0
    with open(path, "wb") as fh:
        for data in records:
            data = bytes(data)
            length = struct.pack("<Q", len(data))
            fh.write(length)
            fh.write(_FOOTER.pack(mask_crc(crc32c(length))))
            fh.write(data)
            fh.write(_FOOTER.pack(mask_crc(crc32c(data))))
            count += 1
    return count


def _stored_u32(buf: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Little-endian uint32 values stored at byte offsets ``at``."""
    if len(at) == 0:
        return np.zeros(0, dtype=np.uint32)
    return buf[at[:, None] + np.arange(4)].copy().view("<u4").ravel()


def _check_crcs(path: Path, buf: np.ndarray, offsets: np.ndarray, lengths: np.ndarray,
                batch_size: int, progress: bool, data: bool = True) -> None:
    """Raise :class:`TFRecordError` at the first record whose length (or data) CRC is wrong."""
    for lo in tqdm(range(0, len(offsets), batch_size), disable=not progress, desc="checking CRCs"):
        off, n = offsets[lo:lo + batch_size], lengths[lo:lo + batch_size]
        checks = [("length", off, np.full(len(off), 8), off + 8)]
        if data:
            checks.append(("data", off + _HEADER.size, n, off + _HEADER.size + n))
        bad = np.zeros(len(off), dtype=bool)
        what = np.full(len(off), "", dtype=object)
        for name, start, length, crc_at in reversed(checks):
            wrong = mask_crc(crc32c_many(buf, start, length)) != _stored_u32(buf, crc_at)
            what[wrong] = name
            bad |= wrong
        if bad.any():
            k = int(np.argmax(bad))
            raise TFRecordError(f"{path}: record at byte offset {int(off[k])}: {what[k]} CRC mismatch "
                                f"(corrupted file)")


def _scan(path: Path, buf: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Offsets of all records (header start) and their data lengths; checks the framing."""
    size = len(buf)
    raw = buf.data
    offsets: list[int] = []
    lengths: list[int] = []
    pos = 0
    while pos < size:
        problem = None
        if pos + _HEADER.size > size:
            problem = f"truncated record header ({size - pos} bytes left, need {_HEADER.size})"
        else:
            length = _HEADER.unpack_from(raw, pos)[0]
            end = pos + _HEADER.size + length + _FOOTER.size
            if end > size:
                problem = f"truncated record (needs {end - pos} bytes, only {size - pos} left)"
        if problem is not None:
            # A corrupted length field earlier on also ends here (the scan lost the framing):
            # report the first record whose length CRC is wrong, if any, instead.
            offs = np.asarray(offsets + ([pos] if pos + 12 <= size else []), dtype=np.int64)
            _check_crcs(path, buf, offs, np.zeros(len(offs), dtype=np.int64), 65536, False, data=False)
            raise TFRecordError(f"{path}: record at byte offset {pos}: {problem}")
        offsets.append(pos)
        lengths.append(length)
        pos = end
    return np.asarray(offsets, dtype=np.int64), np.asarray(lengths, dtype=np.int64)


def read_tfrecord(path: str | Path, batch_size: int = 8192, progress: bool = False) -> list[bytes]:
    """All records of a TFRecord file, every length and data CRC verified.

    Raises:
        TFRecordError: truncated file or CRC mismatch; the message names the file and the
            byte offset of the bad record.
    """
    path = Path(path)
    buf = np.fromfile(path, dtype=np.uint8)
    offsets, lengths = _scan(path, buf)
    _check_crcs(path, buf, offsets, lengths, batch_size, progress)
    mv = memoryview(buf)
    return [mv[o + _HEADER.size:o + _HEADER.size + n].tobytes()
            for o, n in zip(offsets.tolist(), lengths.tolist())]


# --------------------------------------------------------------------------- NAS-Bench-101
@lru_cache(maxsize=1)
def model_metrics_classes() -> tuple[type, type]:
    """``(ModelMetrics, EvaluationData)`` message classes built from the proto description."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    fdp = descriptor_pb2.FileDescriptorProto(name="tgnas_nasbench_model_metrics.proto",
                                             package="nasbench", syntax="proto2")
    F = descriptor_pb2.FieldDescriptorProto
    ev = fdp.message_type.add(name="EvaluationData")
    for number, name in enumerate(("current_epoch", "training_time", "train_accuracy",
                                   "validation_accuracy", "test_accuracy"), start=1):
        ev.field.add(name=name, number=number, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    ev.field.add(name="checkpoint_path", number=6, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL)
    mm = fdp.message_type.add(name="ModelMetrics")
    mm.field.add(name="evaluation_data", number=1, type=F.TYPE_MESSAGE, label=F.LABEL_REPEATED,
                 type_name=".nasbench.EvaluationData")
    mm.field.add(name="trainable_parameters", number=2, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL)
    mm.field.add(name="total_time", number=3, type=F.TYPE_DOUBLE, label=F.LABEL_OPTIONAL)
    # A private pool, so that a real nasbench install (same full names) cannot clash.
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    metrics_cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("nasbench.ModelMetrics"))
    eval_cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("nasbench.EvaluationData"))
    return metrics_cls, eval_cls


_EVAL_FIELDS = ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy")


def encode_nasbench_record(module_hash: str, epochs: int, adjacency: Sequence[Sequence[int]],
                           ops: Sequence[str], evaluations: Sequence[dict[str, float]],
                           trainable_parameters: int, total_time: float = 0.0) -> bytes:
    """One record in the official format (used by tests and to write small files).

    Args:
        adjacency: ``(V, V)`` 0/1.
        ops: ``V`` op names.
        evaluations: dicts with ``current_epoch`` and the :data:`_EVAL_FIELDS` keys, in
            training order (the official files have three: step 0, halfway, final).
    """
    metrics_cls, _ = model_metrics_classes()
    msg = metrics_cls(trainable_parameters=int(trainable_parameters), total_time=float(total_time))
    for ev in evaluations:
        msg.evaluation_data.add(**ev)
    raw_adj = "".join(str(int(x)) for row in adjacency for x in row)
    row = [module_hash, int(epochs), raw_adj, ",".join(ops),
           base64.b64encode(msg.SerializeToString()).decode("ascii")]
    return json.dumps(row).encode("utf-8")


def _decode_nasbench_record(data: bytes, metrics_cls: type) -> dict[str, Any]:
    module_hash, epochs, raw_adj, raw_ops, raw_metrics = json.loads(data.decode("utf-8"))
    dim = int(round(len(raw_adj) ** 0.5))
    if dim * dim != len(raw_adj):
        raise ValueError(f"adjacency string of length {len(raw_adj)} is not a square matrix")
    adjacency = np.frombuffer(raw_adj.encode("ascii"), dtype=np.uint8).reshape(dim, dim) - ord("0")
    metrics = metrics_cls.FromString(base64.b64decode(raw_metrics))
    if len(metrics.evaluation_data) < 3:
        raise ValueError(f"{len(metrics.evaluation_data)} evaluations, expected 3 (start, halfway, final)")
    half, final = metrics.evaluation_data[1], metrics.evaluation_data[2]
    row = {"module_hash": module_hash, "epochs": int(epochs), "adjacency": adjacency.astype(np.int8),
           "ops": tuple(raw_ops.split(",")), "trainable_parameters": int(metrics.trainable_parameters),
           "total_time": metrics.total_time}
    for prefix, ev in (("halfway", half), ("final", final)):
        for field in _EVAL_FIELDS:
            row[f"{prefix}_{field}"] = getattr(ev, field)
    return row


def read_nasbench_tfrecord(path: str | Path, progress: bool = True) -> pd.DataFrame:
    """Every record of an official NAS-Bench-101 TFRecord file, one row per training run.

    Columns: ``module_hash``, ``epochs``, ``run`` (0-based, in file order per cell and
    epoch budget), ``adjacency`` (object, ``(V, V)`` int8), ``ops`` (object, tuple of
    names), ``num_vertices``, ``trainable_parameters``, ``total_time``, and
    ``{halfway,final}_{training_time,train_accuracy,validation_accuracy,test_accuracy}``
    (accuracies as fractions, times in seconds).

    Raises:
        TFRecordError: bad framing/CRC, or a record that is not a NAS-Bench-101 record (the
            message names the file and the record's byte offset).
    """
    path = Path(path)
    records = read_tfrecord(path, progress=progress)
    metrics_cls, _ = model_metrics_classes()
    rows = []
    offset = 0
    for data in tqdm(records, disable=not progress, desc="decoding NB101 records", mininterval=2):
        try:
            rows.append(_decode_nasbench_record(data, metrics_cls))
        except Exception as err:  # any decoding failure names the record
            raise TFRecordError(f"{path}: record at byte offset {offset} is not a NAS-Bench-101 "
                                f"record: {type(err).__name__}: {err}") from err
        offset += _HEADER.size + len(data) + _FOOTER.size
    columns = ["module_hash", "epochs", "run", "adjacency", "ops", "num_vertices", "trainable_parameters",
               "total_time"] + [f"{p}_{f}" for p in ("halfway", "final") for f in _EVAL_FIELDS]
    if not rows:
        return pd.DataFrame(columns=columns)
    df = pd.DataFrame(rows)
    df["run"] = df.groupby(["module_hash", "epochs"], sort=False).cumcount()
    df["num_vertices"] = [len(ops) for ops in df["ops"]]
    return df[columns]


def to_nb101_table(df: pd.DataFrame, epochs: int = 108, run: int = 0) -> NB101Table:
    """The :class:`~tgnas.spaces.nb101.benchmark.NB101Table` of one epoch budget and run.

    Rows are sorted by module hash (as :func:`~tgnas.spaces.nb101.benchmark.load_nb101`), cells
    zero-padded to 7 vertices, ``test_acc`` = final test accuracy, ``flops`` = NaN (the
    official file has no FLOPs).
    """
    sel = df[(df["epochs"] == epochs) & (df["run"] == run)].sort_values("module_hash")
    if sel.empty:
        raise ValueError(f"no records for epochs={epochs}, run={run}; present: "
                         f"{sorted(set(zip(df['epochs'], df['run'])))}")
    if sel["module_hash"].duplicated().any():
        raise ValueError("a module hash appears twice for the same epochs and run")
    code = {name: c for c, name in NB101_OP_CODES.items()}
    n = len(sel)
    adjacency = np.zeros((n, MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
    ops = np.full((n, MAX_VERTICES), PAD_CODE, dtype=np.int8)
    for k, (adj, names) in enumerate(zip(sel["adjacency"], sel["ops"])):
        v = len(names)
        if v > MAX_VERTICES:
            raise ValueError(f"cell {sel['module_hash'].iloc[k]} has {v} vertices (at most {MAX_VERTICES})")
        adjacency[k, :v, :v] = adj
        try:
            ops[k, :v] = [code[o] for o in names]
        except KeyError as err:
            raise ValueError(f"cell {sel['module_hash'].iloc[k]}: unknown op {err.args[0]!r}; "
                             f"expected one of {list(code)}") from None
    return NB101Table(
        hashes=sel["module_hash"].to_numpy(dtype="<U32"),
        adjacency=adjacency,
        ops=ops,
        num_vertices=sel["num_vertices"].to_numpy(dtype=np.int8),
        test_acc=sel["final_test_accuracy"].to_numpy(dtype=np.float64),
        flops=np.full(n, np.nan),
    )
