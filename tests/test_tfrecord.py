"""TFRecord reading/writing without TensorFlow, on small synthetic NAS-Bench-101 files."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest

from tgnas.spaces.nb101.benchmark import load_nb101
from tgnas.spaces.nb101.tfrecord import (
    TFRecordError,
    crc32c,
    crc32c_many,
    encode_nasbench_record,
    mask_crc,
    model_metrics_classes,
    read_nasbench_tfrecord,
    read_tfrecord,
    to_nb101_table,
    write_tfrecord,
)

RECORD_HEADER = 12  # uint64 length + uint32 masked CRC
RECORD_FOOTER = 4


def test_crc32c_known_vectors():
    # RFC 3720 (iSCSI) appendix B.4 test vectors and the usual check value.
    assert crc32c(b"123456789") == 0xE3069283
    assert crc32c(bytes(32)) == 0x8A9136AA
    assert crc32c(b"\xff" * 32) == 0x62A8AB43
    assert crc32c(bytes(range(32))) == 0x46DD794E
    assert crc32c(b"") == 0


def test_vectorised_crc_matches_scalar():
    rng = np.random.default_rng(0)
    buf = rng.integers(0, 256, size=5000, dtype=np.uint8)
    starts = rng.integers(0, 4000, size=300)
    lengths = rng.integers(0, 1000, size=300)
    got = crc32c_many(buf, starts, lengths)
    want = [crc32c(buf[s:s + n].tobytes()) for s, n in zip(starts, lengths)]
    np.testing.assert_array_equal(got, np.array(want, dtype=np.uint32))
    crcs = np.array(want, dtype=np.uint32)
    np.testing.assert_array_equal(mask_crc(crcs), [mask_crc(int(c)) for c in want])


def test_mask_formula():
    # ((crc >> 15) | (crc << 17)) + 0xa282ead8, mod 2**32
    assert mask_crc(0) == 0xA282EAD8
    assert mask_crc(1) == (0x20000 + 0xA282EAD8) & 0xFFFFFFFF
    assert mask_crc(0xFFFFFFFF) == (0xFFFFFFFF + 0xA282EAD8) & 0xFFFFFFFF


def test_raw_records_round_trip(tmp_path):
    records = [b"", b"a", b"hello world", bytes(range(256)) * 3]
    path = tmp_path / "raw.tfrecord"
    assert write_tfrecord(path, records) == 4
    assert read_tfrecord(path) == records
    assert path.stat().st_size == sum(RECORD_HEADER + len(r) + RECORD_FOOTER for r in records)


def _evaluations(rng: np.random.Generator, epochs: int) -> list[dict[str, float]]:
    out = []
    for epoch in (0, epochs / 2, epochs):
        out.append({"current_epoch": float(epoch), "training_time": float(rng.uniform(0, 3000)),
                    "train_accuracy": float(rng.uniform()), "validation_accuracy": float(rng.uniform()),
                    "test_accuracy": float(rng.uniform())})
    return out


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """Six real cells, 3 runs each at 108 epochs and 1 run at 4 epochs, in the official format."""
    table = load_nb101()
    rng = np.random.default_rng(7)
    rows = sorted(rng.choice(len(table), 6, replace=False).tolist())
    rows.append(int(np.flatnonzero(table.num_vertices == 2)[0]))  # the smallest cell too
    records, expected = [], []
    for run in range(3):
        for i in rows[::-1]:  # file order is not hash order
            cell = table.cell(i)
            for epochs in ((108, 4) if run == 0 else (108,)):
                ev = _evaluations(rng, epochs)
                params = int(rng.integers(1e5, 5e7))
                records.append(encode_nasbench_record(str(table.hashes[i]), epochs, cell.adjacency,
                                                      cell.ops, ev, params, total_time=1234.5))
                expected.append((str(table.hashes[i]), epochs, run, params, ev))
    path = tmp_path_factory.mktemp("nb101") / "nasbench_tiny.tfrecord"
    write_tfrecord(path, records)
    return path, table, rows, expected


def test_record_json_layout(synthetic):
    path, table, rows, _ = synthetic
    first = json.loads(read_tfrecord(path)[0])
    module_hash, epochs, raw_adj, raw_ops, raw_metrics = first
    assert module_hash == table.hashes[rows[-1]] and epochs == 108
    assert set(raw_adj) <= {"0", "1"} and len(raw_adj) == int(np.sqrt(len(raw_adj))) ** 2
    assert raw_ops.split(",")[0] == "input"
    metrics_cls, _ = model_metrics_classes()
    msg = metrics_cls.FromString(base64.b64decode(raw_metrics))
    assert len(msg.evaluation_data) == 3 and msg.total_time == 1234.5
    # Field numbers of nasbench's model_metrics.proto.
    fields = {f.name: f.number for f in msg.DESCRIPTOR.fields}
    assert fields == {"evaluation_data": 1, "trainable_parameters": 2, "total_time": 3}
    ev_fields = {f.name: f.number for f in msg.evaluation_data[0].DESCRIPTOR.fields}
    assert ev_fields == {"current_epoch": 1, "training_time": 2, "train_accuracy": 3,
                         "validation_accuracy": 4, "test_accuracy": 5, "checkpoint_path": 6}


def test_nasbench_records_round_trip(synthetic):
    path, table, rows, expected = synthetic
    df = read_nasbench_tfrecord(path, progress=False)
    assert len(df) == len(expected) == 3 * 7 + 7
    for (h, epochs, run, params, ev), (_, row) in zip(expected, df.iterrows()):
        assert (row["module_hash"], row["epochs"], row["run"]) == (h, epochs, run)
        assert row["trainable_parameters"] == params
        for prefix, k in (("halfway", 1), ("final", 2)):
            for field in ("training_time", "train_accuracy", "validation_accuracy", "test_accuracy"):
                assert row[f"{prefix}_{field}"] == ev[k][field]  # doubles survive exactly
        cell = table.cell(table.index_of(h))
        assert row["ops"] == cell.ops and row["num_vertices"] == cell.num_vertices
        np.testing.assert_array_equal(row["adjacency"], cell.matrix())
    assert sorted(df["run"].unique()) == [0, 1, 2]
    assert set(df.loc[df["epochs"] == 4, "run"]) == {0}


def test_to_nb101_table(synthetic):
    path, table, rows, expected = synthetic
    df = read_nasbench_tfrecord(path, progress=False)
    small = to_nb101_table(df)
    want = sorted(rows, key=lambda i: table.hashes[i])
    assert len(small) == 7
    np.testing.assert_array_equal(small.hashes, table.hashes[want])
    np.testing.assert_array_equal(small.adjacency, table.adjacency[want])
    np.testing.assert_array_equal(small.ops, table.ops[want])
    np.testing.assert_array_equal(small.num_vertices, table.num_vertices[want])
    run0 = {h: ev[2]["test_accuracy"] for h, e, run, _, ev in expected if e == 108 and run == 0}
    np.testing.assert_array_equal(small.test_acc, [run0[h] for h in small.hashes])
    assert np.isnan(small.flops).all()
    assert small.cell(0) == table.cell(want[0])
    assert len(to_nb101_table(df, epochs=4)) == 7
    with pytest.raises(ValueError, match="no records for epochs=108, run=3"):
        to_nb101_table(df, run=3)


def _offsets(path) -> list[int]:
    offsets, pos = [], 0
    for rec in read_tfrecord(path):
        offsets.append(pos)
        pos += RECORD_HEADER + len(rec) + RECORD_FOOTER
    return offsets


def test_bad_data_crc_names_file_and_offset(synthetic, tmp_path):
    path = synthetic[0]
    offsets = _offsets(path)
    data = bytearray(path.read_bytes())
    data[offsets[5] + RECORD_HEADER + 20] ^= 0x01
    bad = tmp_path / "bad_data.tfrecord"
    bad.write_bytes(bytes(data))
    with pytest.raises(TFRecordError, match=f"{bad}: record at byte offset {offsets[5]}: data CRC mismatch"):
        read_nasbench_tfrecord(bad, progress=False)


def test_bad_length_names_file_and_offset(synthetic, tmp_path):
    path = synthetic[0]
    offsets = _offsets(path)
    for delta, name in ((1, "small"), (1 << 40, "huge")):
        data = bytearray(path.read_bytes())
        length = int.from_bytes(data[offsets[3]:offsets[3] + 8], "little")
        data[offsets[3]:offsets[3] + 8] = (length + delta).to_bytes(8, "little")
        bad = tmp_path / f"bad_length_{name}.tfrecord"
        bad.write_bytes(bytes(data))
        with pytest.raises(TFRecordError, match=f"record at byte offset {offsets[3]}: length CRC mismatch"):
            read_tfrecord(bad)


def test_truncated_file_names_file_and_offset(synthetic, tmp_path):
    path = synthetic[0]
    offsets = _offsets(path)
    data = path.read_bytes()
    cut = tmp_path / "cut.tfrecord"
    cut.write_bytes(data[:-10])
    with pytest.raises(TFRecordError, match=f"{cut}: record at byte offset {offsets[-1]}: truncated record"):
        read_tfrecord(cut)
    cut.write_bytes(data[:offsets[-1] + 5])
    with pytest.raises(TFRecordError, match=f"byte offset {offsets[-1]}: truncated record header"):
        read_tfrecord(cut)


def test_foreign_record_is_reported(tmp_path):
    path = tmp_path / "foreign.tfrecord"
    write_tfrecord(path, [b"not json at all"])
    with pytest.raises(TFRecordError, match=f"{path}: record at byte offset 0 is not a NAS-Bench-101 record"):
        read_nasbench_tfrecord(path, progress=False)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.tfrecord"
    write_tfrecord(path, [])
    assert read_tfrecord(path) == []
    assert read_nasbench_tfrecord(path, progress=False).empty
