"""The notebook-03 experiment package (tgnas.experiments).

Training, scoring and benchmark loading are replaced by fakes (monkeypatch) wherever a test
checks what the runners *pass* (no NB201 label ever reaches a model evaluated on NB201);
one test trains a tiny synthetic run to check checkpoint caching; one uses the real NB201
cell list for the avg-pool count.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tgnas.experiments import common
from tgnas.experiments.correlations import ablations, correlation, independence, transfer, unseen
from tgnas.experiments.correlations.report import TOP_KEYS, correlation_json
from tgnas.fileio import write_json
from tgnas.graphs import GraphSet
from tgnas.metrics import rank_correlation
from tgnas.predictor import TrainConfig, gcn_preset
from tgnas.predictor.data import SpaceData
from tgnas.spaces.base import CellGraph
from tgnas.spaces.catalog import SPACES

OPS = ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output")



def chain(ops: tuple[str, ...]) -> CellGraph:
    n = len(ops)
    adj = np.zeros((n, n), dtype=np.uint8)
    adj[np.arange(n - 1), np.arange(1, n)] = 1
    return CellGraph(adj, ops)


def synthetic_space(m: int = 60, seed: int = 0, name: str = "nb101") -> SpaceData:
    """Chains of 3..6 nodes with NB101 ops; label = #conv3x3 - #maxpool + noise."""
    rng = np.random.default_rng(seed)
    graphs = []
    for _ in range(m):
        mid = tuple(str(o) for o in rng.choice(OPS[1:-1], size=int(rng.integers(1, 5))))
        graphs.append(chain(("input", *mid, "output")))
    y = np.array([g.ops.count("conv3x3-bn-relu") - g.ops.count("maxpool3x3") for g in graphs]) + rng.normal(0, .1, m)
    return SpaceData(name, GraphSet.from_graphs(graphs, vocab=OPS), y)


# ----------------------------------------------------------------------------- fakes

class FakePredictor:
    """Stands in for Predictor: remembers its config, scores by a seeded random vector."""

    def __init__(self, config: TrainConfig) -> None:
        self.config = config
        self.vocab = ("input", "output")

    def score(self, graphs) -> np.ndarray:
        return np.random.default_rng(len(graphs)).normal(size=len(graphs))


@pytest.fixture
def fake_world(monkeypatch):
    """Fake training / loading / NB201 data; returns the log of what the runners did."""
    log = {"trained": [], "nb201_scored": [], "forms": []}
    configs: dict[str, TrainConfig] = {}
    spaces = {"nb101": synthetic_space(80, 1, "nb101"), "darts": synthetic_space(40, 2, "darts"),
              "nb201": synthetic_space(50, 3, "nb201")}

    def fake_train_cached(config, name, *, data=None, tag="", device="cpu"):
        log["trained"].append((config, name, tag, None if data is None else [d.space for d in data]))
        path = Path(f"/fake/03_{name}_{common.config_key(config, tag)}.pt")
        configs[str(path)] = config
        return path

    def fake_load(path, device="cpu"):
        return FakePredictor(configs[str(path)])

    def fake_score_nb201(pred, form=None):
        common.check_no_nb201_labels(pred.config)
        log["nb201_scored"].append(pred.config)
        log["forms"].append(form)
        return np.random.default_rng(0).normal(size=15625)

    truth = {ds: np.random.default_rng(i).normal(size=15625) for i, ds in enumerate(common.NB201_DATASETS)}
    for mod in (transfer, ablations):
        monkeypatch.setattr(mod, "train_cached", fake_train_cached)
        monkeypatch.setattr(mod.Predictor, "load", staticmethod(fake_load))
        monkeypatch.setattr(mod, "score_nb201", fake_score_nb201)
        monkeypatch.setattr(mod, "nb201_truth", lambda ds="cifar10": truth[ds])
    monkeypatch.setattr(transfer, "space_data", lambda s, *a: spaces[s])
    monkeypatch.setattr(common, "space_data", lambda s, *a: spaces[s])
    monkeypatch.setattr(transfer, "within_space_val",
                        lambda path: {s: {"kendall": 0.5, "spearman": 0.6} for s in configs[str(path)].train_spaces})
    return log


# ----------------------------------------------------------------------------- no NB201 labels

def test_check_no_nb201_labels():
    common.check_no_nb201_labels(TrainConfig(train_spaces=("nb101", "darts")))
    with pytest.raises(ValueError, match="must not train on NB201"):
        common.check_no_nb201_labels(TrainConfig(train_spaces=("nb101", "nb201")))


def test_transfer_never_evaluates_nb201_trained_model_on_nb201(fake_world):
    base = TrainConfig(embedding_model="onehot", gcn="upstream", monitor_nb201=True)
    df = transfer.run_transfer({"a": base, "b": replace(base, loss="pairwise")}, fraction=0.1, epochs=1,
                               nb101_eval_cells=20)
    trained = fake_world["trained"]
    assert len(trained) == 2 * 4
    assert {c.train_spaces for c, *_ in trained} == {("nb101",), ("darts",), ("nb201",), ("nb101", "darts")}
    assert all(not c.monitor_nb201 and c.fraction == 0.1 and c.epochs == 1 for c, *_ in trained)
    # NB201 scored by the 3 non-NB201 models of each config, none of them trained on NB201
    assert len(fake_world["nb201_scored"]) == 2 * 3
    assert all("nb201" not in c.train_spaces for c in fake_world["nb201_scored"])
    assert len(df) == 2 * 4 * 3
    within = df[df["kind"] == "within (val)"]
    assert set(zip(within["train"], within["eval"])) == {("nb101", "nb101"), ("nb301", "nb301"), ("nb201", "nb201"),
                                                         ("nb101+nb301", "nb101"), ("nb101+nb301", "nb301")}
    assert (df.loc[df["kind"] == "transfer", "n"].dropna() > 0).all()
    mat = transfer.transfer_matrix(df, "a")
    assert list(mat.index) == list(transfer.TRAIN_SETS) and list(mat.columns) == list(transfer.EVAL_SPACES)


def test_ablations_train_only_on_nb101_or_nb301(fake_world):
    base = TrainConfig(embedding_model="minilm", length="short", gcn="upstream", loss="mse", monitor_nb201=True)
    df = ablations.run_ablations(base, fraction=0.05, epochs=1, models=["minilm", "onehot"],
                                 lengths=["short", "long"], data_ratios=[0.001, 0.01])
    cfgs = [c for c, *_ in fake_world["trained"]]
    assert all(c.train_spaces in (("nb101",), ("darts",)) and not c.monitor_nb201 for c in cfgs)
    assert all("nb201" not in c.train_spaces for c in fake_world["nb201_scored"])
    # base, 2 + 1 embeddings (onehot has one length), 2 losses, 2 ratios, nb301, + 4 graph-form rows
    assert list(df["group"]).count("embedding") == 3
    assert set(df.loc[df["group"] == "graph_form", "variant"]) == {"full", "no_none", "pruned", "contracted"}
    # the base run is scored in its own form; each other form is scored explicitly
    assert sorted(f for f in fake_world["forms"] if f is not None) == ["contracted", "no_none", "pruned"]
    assert set(df.loc[df["group"] == "data", "variant"]) == {"0.1% nb101", "1% nb101", "nb301 (500 cells)"}
    assert len(df) == 1 + 4 + 3 + 2 + 3


def test_ablation_variants_keep_base_settings():
    base = TrainConfig(gcn=gcn_preset("paper"), lr=5e-4)
    v = ablations.ablation_variants(base, fraction=0.02, epochs=3, models=["onehot"], lengths=["short", "long"],
                                    data_ratios=[0.5], seed=7)
    assert all(c.gcn == base.gcn and c.lr == 5e-4 and c.seed == 7 for _, _, c in v)
    assert [c.fraction for g, _, c in v if g == "data"] == [0.5, 1.0]


# ----------------------------------------------------------------------------- unseen operators

def test_without_op_removes_every_cell_with_the_op():
    data = synthetic_space(200, 4)
    has = unseen.contains_op(data.graphs, "maxpool3x3")
    expected = np.array(["maxpool3x3" in data.graphs.graph(i).ops for i in range(len(data))])
    assert np.array_equal(has, expected) and 0 < has.sum() < len(data)
    kept = unseen.without_op(data, "maxpool3x3")
    assert len(kept) == int((~has).sum())
    assert all("maxpool3x3" not in kept.graphs.graph(i).ops for i in range(len(kept)))
    assert np.array_equal(kept.labels, data.labels[~has])


def test_contains_op_errors():
    data = synthetic_space(10)
    with pytest.raises(KeyError, match="avg_pool_3x3"):
        unseen.contains_op(data.graphs, "avg_pool_3x3")
    only_pool = SpaceData("x", GraphSet.from_graphs([chain(("input", "maxpool3x3", "output"))] * 3, vocab=OPS),
                          np.arange(3.0))
    with pytest.raises(ValueError, match="nothing left"):
        unseen.without_op(only_pool, "maxpool3x3")


def test_nb201_cells_with_avg_pool():
    from tgnas.graphs import graphset
    # 5**6 cells, 4**6 of which use none of the 6 edges for avg_pool_3x3
    assert int(unseen.contains_op(graphset(SPACES["nb201"], "full"), "avg_pool_3x3").sum()) == 15625 - 4 ** 6


# ----------------------------------------------------------------------------- independence

def test_independence_matrix_symmetric_unit_diagonal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=300)
    df = pd.DataFrame({"a": x, "b": x ** 3, "c": -x + rng.normal(size=300), "d": rng.normal(size=300)})
    m = independence.independence_matrix(df)
    assert m.shape == (4, 4)
    assert np.allclose(np.diag(m), 1.0) and np.allclose(m, m.T)
    assert m.loc["a", "b"] == pytest.approx(1.0)  # monotone transform
    assert m.loc["a", "c"] < -0.5
    with pytest.raises(ValueError, match="constant"):
        independence.independence_matrix(df.assign(e=1.0))


def test_sample_cells_seeded_subset():
    avail = np.arange(0, 1000, 3)
    a, b = independence.sample_cells(avail, 50, 0), independence.sample_cells(avail, 50, 0)
    assert np.array_equal(a, b) and len(np.unique(a)) == 50 and np.isin(a, avail).all()
    assert not np.array_equal(a, independence.sample_cells(avail, 50, 1))
    assert np.array_equal(independence.sample_cells(avail, 10_000), avail)


def test_score_frame_drops_zc_duplicates():
    pre = pd.DataFrame({"synflow": np.arange(10.0), "params_zc": np.arange(10.0)}, index=np.arange(10) * 2)
    df = independence.score_frame(np.arange(20.0), {"params": np.arange(20.0) * 2}, pre, np.array([0, 4, 8]))
    assert list(df.columns) == ["tgnas", "params", "synflow"]
    assert df["synflow"].tolist() == [0.0, 2.0, 4.0] and df["params"].tolist() == [0.0, 8.0, 16.0]


# ----------------------------------------------------------------------------- metrics and json

def test_grid_correlation_values_and_constant():
    # what the grids of notebooks 03 and 06 call: a constant row is NaN, a NaN score an error
    r = rank_correlation(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 40, 30]), constant="nan")
    assert r["kendall"] == pytest.approx(4 / 6) and r["spearman"] == pytest.approx(0.8) and r["n"] == 4
    assert np.isnan(rank_correlation(np.ones(4), np.arange(4.0), constant="nan")["kendall"])
    with pytest.raises(ValueError, match="NaN"):
        rank_correlation(np.array([1.0, np.nan, 3]), np.arange(3.0), constant="nan")


def test_main_table_shape_with_fake_truth(monkeypatch):
    rng = np.random.default_rng(0)
    truth = rng.normal(size=15625)
    monkeypatch.setattr(correlation, "nb201_truth", lambda ds: truth)
    monkeypatch.setattr(correlation, "computed_baselines", lambda ds: {"params": truth + rng.normal(size=15625)})
    t = correlation.main_table(truth * 2, n_boot=20, datasets=("cifar10",), with_precomputed=False)
    assert set(t) == {"cifar10"} and set(t["cifar10"]) == {"tgnas", "params"}
    assert t["cifar10"]["tgnas"]["kendall"] == pytest.approx(1.0) and t["cifar10"]["tgnas"]["n"] == 15625
    frame = correlation.main_table_frame(t)
    assert list(frame["method"]) == ["tgnas", "params"]  # sorted by tau
    assert frame.loc[0, "paper_kendall"] == common.PAPER_REFERENCE["kendall"]
    with pytest.raises(ValueError, match="15625"):
        correlation.main_table(truth[:10])


def test_timing_table_ratios(tmp_path):
    f = tmp_path / "proxy_timing.json"
    f.write_text(json.dumps({"n_cells": 5, "proxies": {"synflow": {"seconds_per_arch_mean": 2.0},
                                                         "snip": {"seconds_per_arch_mean": 4.0}}}))
    df = correlation.timing_table({"seconds_per_arch": 0.01}, {"snip": 3.0}, timing_file=f)
    got = dict(zip(df["method"], df["ratio_vs_tgnas"]))
    assert got == pytest.approx({"tgnas": 1.0, "snip": 300.0, "synflow": 200.0})
    assert "this run" in df.loc[df["method"] == "snip", "source"].item()


def test_correlation_json_shape(tmp_path):
    rep = {"kendall": 0.5, "spearman": 0.7, "kendall_ci": [0.4, 0.6], "spearman_ci": [0.6, 0.8], "n": 15625,
           "spearman_top10pct": float("nan")}
    nb201 = {ds: {"tgnas": rep, "synflow": {**rep, "n": 9445}} for ds in common.NB201_DATASETS}
    rows = pd.DataFrame({"x": [1.0, np.nan], "checkpoint": ["a.pt", "b.pt"]})
    out = correlation_json(nb201, rows, rows, rows, rows, {"smoke": True, "n_boot": np.int64(3)})
    path = write_json(out, tmp_path / "correlation.json")
    saved = json.loads(path.read_text())
    assert tuple(saved) == TOP_KEYS == ("nb201", "transfer", "ablations", "unseen", "timing")
    assert set(saved["nb201"]) == {"cifar10", "cifar100", "imagenet16-120"}
    assert saved["nb201"]["cifar10"]["tgnas"]["kendall"] == 0.5
    assert saved["nb201"]["cifar10"]["tgnas"]["spearman_top10pct"] is None
    for key in TOP_KEYS[1:]:
        assert saved[key]["settings"] == {"smoke": True, "n_boot": 3}
        assert saved[key]["rows"] == [{"x": 1.0}, {"x": None}]  # no checkpoint column, NaN -> null


# ----------------------------------------------------------------------------- caching of runs

def test_train_cached_reuses_finished_run(tmp_path, monkeypatch):
    from tgnas import paths
    monkeypatch.setattr(paths, "MODELS_DIR", tmp_path)
    data = synthetic_space(60, 5, "syn")
    cfg = TrainConfig(train_spaces=("syn",), epochs=1, batch_size=32, embedding_model="onehot",
                      gcn=gcn_preset("upstream", hidden=8), monitor_nb201=True)
    p1 = common.train_cached(cfg, "t", data=[data])
    assert p1.parent == tmp_path and p1.name.startswith("03_t_") and p1.is_file()

    def boom(*a, **k):
        raise AssertionError("a finished run must not be retrained")
    monkeypatch.setattr(common, "train", boom)
    assert common.train_cached(cfg, "t", data=[data]) == p1
    # another tag (filtered data) or config is another file, so it would train
    with pytest.raises(AssertionError, match="retrained"):
        common.train_cached(cfg, "t", data=[data], tag="no-maxpool3x3")
    with pytest.raises(AssertionError, match="retrained"):
        common.train_cached(replace(cfg, epochs=2), "t", data=[data])
    # a run trained under other float kernels is not this setting's run either
    monkeypatch.setattr(common.numerics, "key", lambda: "AVX512-mklauto-t2")
    with pytest.raises(AssertionError, match="retrained"):
        common.train_cached(cfg, "t", data=[data])
    val = common.within_space_val(p1)
    assert set(val) == {"syn"} and -1 <= val["syn"]["kendall"] <= 1


def test_load_default_predictor_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="notebooks/02_train_predictor.ipynb"):
        common.load_default_predictor(tmp_path / "nope.pt")


# ----------------------------------------------------------------------------- seeds

def test_over_seeds_and_summary():
    def run(seed, scale):
        return pd.DataFrame({"variant": ["a", "b"], "kendall": [seed * scale, 1.0]})
    df = common.over_seeds(run, [1, 3], scale=0.1)
    assert list(df.columns) == ["seed", "variant", "kendall"]
    assert df["seed"].tolist() == [1, 1, 3, 3]
    s = common.seed_summary(df, ["variant"], ["kendall"])
    assert s["variant"].tolist() == ["a", "b"] and s["n_seeds"].tolist() == [2, 2]
    assert s["kendall_mean"].tolist() == pytest.approx([0.2, 1.0])
    assert s["kendall_std"].tolist() == pytest.approx([np.std([0.1, 0.3], ddof=1), 0.0])
    with pytest.raises(ValueError, match="empty"):
        common.over_seeds(run, [], scale=1.0)


def test_seed_summary_skips_nan_and_keeps_order():
    df = pd.DataFrame({"v": ["b", "b", "a", "a"], "seed": [0, 1, 0, 1], "k": [0.5, 0.7, np.nan, 0.4]})
    s = common.seed_summary(df, ["v"], ["k"])
    assert list(s["v"]) == ["b", "a"] and list(s["n_seeds"]) == [2, 2]
    assert s.loc[0, "k_mean"] == pytest.approx(0.6) and s.loc[0, "k_std"] == pytest.approx(np.std([0.5, 0.7], ddof=1))
    assert s.loc[1, "k_mean"] == 0.4 and np.isnan(s.loc[1, "k_std"])  # one non-NaN value: std undefined


def test_search_summary_means_stds_and_top_seeds():
    from tgnas.experiments.search import search_summary, search_table
    df = pd.DataFrame({"scorer": ["tgnas"] * 3 + ["flops"], "algorithm": ["prune"] * 3 + ["random"],
                       "seed": [0, 1, 2, 0], "cifar10": [94.0, 93.0, 92.0, 90.0], "cifar100": [70.0, 71.0, 72.0, 60.0],
                       "imagenet16-120": [40.0, 41.0, 42.0, 30.0], "wall_time_s": [1.0, 2.0, 3.0, 4.0],
                       "n_calls": [10, 20, 30, 40], "n_distinct": [5, 6, 7, 8]})
    assert list(search_table(df)["scorer"]) == ["flops", "tgnas"]  # sorted by scorer, algorithm
    s = search_summary(df, top1=93.0)
    assert list(s) == ["flops/random", "tgnas/prune"]
    t = s["tgnas/prune"]
    assert t["cifar10"] == {"mean": 93.0, "std": 1.0} and t["n_calls"]["mean"] == 20.0
    assert t["top1pct_seeds"] == 2 and t["seeds"] == 3
    assert s["flops/random"]["top1pct_seeds"] == 0 and np.isnan(s["flops/random"]["cifar10"]["std"])
