"""NB101 loaders: the full table, NASLib's zero-cost file and the unlabelled Zen cells."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tgnas import datafiles, paths
from tgnas.spaces.nb101.benchmark import (
    NASLIB_NB101_OPS,
    NB101_OP_CODES,
    NB101_ZC_PROXIES,
    NB101Table,
    decode_naslib_key,
    load_nb101,
    load_nb101_unlabelled,
    load_nb101_zc,
)
from tgnas.spaces.nb101.arch import NB101Cell
from tgnas.spaces.nb101.space import NB101Space


@pytest.fixture(scope="module")
def table() -> NB101Table:
    return load_nb101()


def test_constants():
    assert NB101_OP_CODES == {-1: "input", -2: "output", 0: "conv3x3-bn-relu",
                              1: "conv1x1-bn-relu", 2: "maxpool3x3"}
    assert NASLIB_NB101_OPS == ["input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu"]


def test_table_shapes_and_dtypes(table):
    n = 423_624
    assert len(table) == n
    assert table.hashes.shape == (n,) and table.hashes.dtype.kind == "U"
    assert table.adjacency.shape == (n, 7, 7) and table.adjacency.dtype == np.int8
    assert table.ops.shape == (n, 7) and table.ops.dtype == np.int8
    assert table.num_vertices.dtype == np.int8
    assert table.test_acc.dtype == np.float64 and table.flops.dtype == np.float64
    assert len(np.unique(table.hashes)) == n
    assert np.all(table.hashes[:-1] < table.hashes[1:])  # sorted: index_of uses binary search
    assert not table.test_acc.flags.writeable  # shared cached arrays are read-only


def test_vertex_count_histogram(table):
    counts = dict(zip(*np.unique(table.num_vertices, return_counts=True)))
    assert counts == {7: 359_082, 6: 62_010, 5: 2_441, 4: 84, 3: 6, 2: 1}


def test_accuracy_statistics(table):
    assert table.test_acc.max() == pytest.approx(0.9466, abs=5e-5)
    assert table.test_acc.mean() == pytest.approx(0.8968, abs=5e-5)
    assert np.all((table.test_acc > 0) & (table.test_acc < 1))
    assert np.all(table.flops > 0)


def test_padding_and_structure(table):
    v = table.num_vertices.astype(int)
    pos = np.arange(7)
    assert np.all(table.ops[:, 0] == -1)
    assert np.all(table.ops[np.arange(len(table)), v - 1] == -2)
    assert np.all((table.ops == -3) == (pos[None, :] >= v[:, None]))
    pad = (pos[None, :, None] >= v[:, None, None]) | (pos[None, None, :] >= v[:, None, None])
    assert not table.adjacency[pad].any()
    assert not np.tril(table.adjacency).any()  # np.tril acts on the last two axes
    assert table.adjacency.sum(axis=(1, 2)).max() == 9


def test_cell_index_and_frame(table):
    cell = table.cell(0)
    assert isinstance(cell, NB101Cell) and cell.num_vertices == table.num_vertices[0]
    assert table.index_of(str(table.hashes[12345])) == 12345
    with pytest.raises(KeyError, match="not in the NB101 table"):
        table.index_of("0" * 32)
    with pytest.raises(IndexError):
        table.cell(len(table))
    frame = table.to_frame()
    assert isinstance(frame, pd.DataFrame) and len(frame) == len(table)
    assert {"hash", "num_vertices", "num_edges", "test_acc", "flops"} <= set(frame.columns)
    assert "adjacency" not in frame.columns
    assert frame["test_acc"].idxmax() == int(np.argmax(table.test_acc))
    ops_total = frame[["n_conv3x3-bn-relu", "n_conv1x1-bn-relu", "n_maxpool3x3"]].sum(axis=1)
    np.testing.assert_array_equal(ops_total, table.num_vertices - 2)


def test_best_cell_is_a_valid_cell(table):
    best = int(np.argmax(table.test_acc))
    cell = NB101Space().from_table(table, best)
    assert NB101Space().module_hash(cell) == table.hashes[best]


def test_load_is_cached(table):
    assert load_nb101() is table


def test_decode_naslib_key():
    adj, ops = decode_naslib_key("(0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 4, 1)")
    np.testing.assert_array_equal(adj, [[0, 1, 0], [0, 0, 1], [0, 0, 0]])
    assert ops == ("input", "conv3x3-bn-relu", "output")
    with pytest.raises(ValueError, match="expected n\\*n \\+ n"):
        decode_naslib_key("(0, 1, 0)")
    with pytest.raises(ValueError, match="op code outside 0..4"):
        decode_naslib_key((0, 1, 0, 0, 0, 7))
    with pytest.raises(ValueError, match="not a tuple of ints"):
        decode_naslib_key("[0, 1]")


def test_zc_file(table):
    zc = load_nb101_zc()
    assert len(zc) == 500
    assert zc["key"].is_unique
    assert zc["hash"].nunique() == 292  # unpruned duplicates of the same cells
    assert set(zc["num_vertices"]) == {7}
    assert {"key", "num_vertices", "adjacency", "ops", "hash", "val_accuracy", *NB101_ZC_PROXIES} <= set(zc.columns)
    assert len(NB101_ZC_PROXIES) == 11
    assert zc["adjacency"].iloc[0].shape == (7, 7)
    assert isinstance(zc["ops"].iloc[0], tuple) and zc["ops"].iloc[0][0] == "input"
    # Every cell is a benchmark cell; FLOPs agree with the table's up to scale (one per cell).
    rows = [table.index_of(h) for h in zc["hash"]]
    assert np.corrcoef(zc["flops"], table.flops[rows])[0, 1] > 0.99
    # val_accuracy is in percent and comes from another training run than the table's label.
    assert 80 < zc["val_accuracy"].median() < 95
    assert np.corrcoef(zc["val_accuracy"], table.test_acc[rows])[0, 1] > 0.9


def test_unlabelled_file(table):
    unl = load_nb101_unlabelled()
    assert len(unl) == 10_250
    assert list(unl["idx"]) == list(range(10_250))
    assert unl["hash"].nunique() == 10_250
    assert unl["num_vertices"].value_counts().to_dict() == {7: 8644, 6: 1524, 5: 78, 4: 3, 2: 1}
    assert np.isfinite(unl["zen"]).all()
    assert np.isin(unl["hash"].to_numpy(dtype=str), table.hashes).all()  # all are benchmark cells


def test_frames_are_copies():
    a = load_nb101_zc()
    a.loc[0, "val_accuracy"] = -1.0
    assert load_nb101_zc().loc[0, "val_accuracy"] != -1.0


@pytest.mark.parametrize("loader, relpath", [
    (load_nb101, "nb101/nb101_full_test_acc_run0.npz"),
    (load_nb101_zc, "nb101/zc_nasbench101.json"),
    (load_nb101_unlabelled, "nb101/nb101_unlabelled_zen.zip"),
])
def test_loaders_raise_when_data_is_missing(loader, relpath, monkeypatch, tmp_path):
    load_nb101()  # warm the cache: the check must still happen on every call
    monkeypatch.setenv(paths.DATA_ENV_VAR, str(tmp_path))
    with pytest.raises(datafiles.DataFileError, match=relpath):
        loader()
