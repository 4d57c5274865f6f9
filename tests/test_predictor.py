"""The predictor network, its training loop, checkpoints and the Predictor object.

Synthetic data throughout (random DAGs with NB101/NB201 op labels, a label that depends on
the graph), so the tests are fast and need no benchmark file; the NB201 scoring test needs
the NB201 space module only.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch_geometric.nn import DenseGCNConv

from tgnas.checkpoints import save_checkpoint
from tgnas.graphs import BatchMaker, GraphSet
from tgnas.predictor import GCNConfig, Predictor, TrainConfig, gcn_preset, load_checkpoint, train
from tgnas.predictor.data import SpaceData
from tgnas.predictor.model import MaskedBatchNorm1d, TGNASPredictorNet, gcn_normalise, real_rows
from tgnas.predictor.train import batch_loss
from tgnas.spaces.base import CellGraph

OPS = ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output")



def random_graph(n: int, rng: np.random.Generator, ops=OPS) -> CellGraph:
    adj = np.triu(rng.integers(0, 2, size=(n, n)), k=1).astype(np.uint8)
    adj[np.arange(n - 1), np.arange(1, n)] = 1
    mid = tuple(str(o) for o in rng.choice(ops[1:-1], size=n - 2))
    return CellGraph(adj, (ops[0], *mid, ops[-1]))


def synthetic_space(m: int = 600, seed: int = 0, name: str = "syn") -> SpaceData:
    """Graphs of 4..7 nodes; label = #conv3x3 - 0.5 #maxpool + 0.1 #edges + noise."""
    rng = np.random.default_rng(seed)
    graphs = [random_graph(int(rng.integers(4, 8)), rng) for _ in range(m)]
    y = np.array([g.ops.count("conv3x3-bn-relu") - 0.5 * g.ops.count("maxpool3x3")
                  + 0.1 * int(g.adjacency.sum()) for g in graphs]) + rng.normal(0, 0.1, m)
    return SpaceData(name, GraphSet.from_graphs(graphs, vocab=OPS), y)


def onehot_embed(vocab):
    """Deterministic features without a sentence model: one-hot over OPS + extras."""
    names = list(OPS) + sorted(set(vocab) - set(OPS))
    eye = np.eye(len(names), 16, dtype=np.float32)
    return eye[[names.index(op) for op in vocab]]


def tiny_config(**kw) -> TrainConfig:
    base = TrainConfig(train_spaces=("syn",), epochs=3, batch_size=64, lr=3e-3, embedding_model="onehot",
                       gcn=gcn_preset("upstream", hidden=16), schedule="step", step_size=2, gamma=0.5)
    return replace(base, **kw)


def batch_of(graphs, table):
    gs = GraphSet.from_graphs(graphs, vocab=OPS)
    b = BatchMaker(gs).batch(np.arange(len(graphs)))
    return b, b.features(table)


CONFIGS = {
    "upstream": gcn_preset("upstream", hidden=16),
    "paper": gcn_preset("paper", hidden=16),
    "graphconv-mean-both": GCNConfig(num_layers=3, hidden=16, conv="graphconv", direction="both",
                                     global_node=False, readout="mean"),
    "raw-sum-backward": GCNConfig(num_layers=2, hidden=16, conv="raw", direction="backward", readout="sum"),
    # without BatchNorm the convolutions carry a bias
    "raw-no-bn": GCNConfig(num_layers=2, hidden=16, conv="raw", batch_norm=False),
    "gcn-no-bn-mean": GCNConfig(num_layers=2, hidden=16, conv="gcn", batch_norm=False, readout="mean"),
    "graphconv-no-bn": GCNConfig(num_layers=2, hidden=16, conv="graphconv", batch_norm=False),
}


# ============================================================================ model

@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_indexed_path_equals_feature_path(name):
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    table = torch.randn(len(OPS), 6)
    net = TGNASPredictorNet(6, CONFIGS[name])
    b, x = batch_of([random_graph(n, rng) for n in (7, 8, 11, 30, 3)], table)
    for mode in (True, False):
        net.train(mode)
        a = net(x, b.adj, b.mask)
        c = net.forward_indexed(b.ops, table, b.adj, b.mask)
        assert a.shape == (5,)
        assert torch.allclose(a, c, atol=1e-5), (mode, a, c)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_node_permutation_and_padding_invariance(name):
    torch.manual_seed(1)
    rng = np.random.default_rng(1)
    table = torch.randn(len(OPS), 6)
    net = TGNASPredictorNet(6, CONFIGS[name])
    with torch.no_grad():  # move BatchNorm running stats away from the identity
        net.train()
        b0, x0 = batch_of([random_graph(n, rng) for n in (7, 6, 9)], table)
        for _ in range(3):
            net(x0, b0.adj, b0.mask)
    net.eval()
    graphs = [random_graph(n, rng) for n in (7, 8, 11)]
    b, x = batch_of(graphs, table)
    ref = net(x, b.adj, b.mask)
    # permute the nodes of every graph consistently (the padded tail stays in place)
    n = x.shape[1]
    perm = torch.arange(n)
    perm[:7] = torch.tensor([3, 0, 6, 1, 5, 2, 4])
    xp, ap, mp = x[:, perm], b.adj[:, perm][:, :, perm], b.mask[:, perm]
    assert torch.allclose(net(xp, ap, mp), ref, atol=1e-5)
    # scored alone (no padding) or next to a 30-node graph: the same score
    for i, g in enumerate(graphs):
        bi, xi = batch_of([g], table)
        solo = net(xi, bi.adj, bi.mask)
        bb, xb = batch_of([random_graph(30, rng), g], table)
        assert bb.adj.shape[1] == 30
        assert torch.allclose(solo, ref[i:i + 1], atol=1e-5)
        assert torch.allclose(net(xb, bb.adj, bb.mask)[1:], ref[i:i + 1], atol=1e-5)


def test_forward_direction_matches_upstream_matrix():
    """Upstream: append a ones column (node -> global), fill the diagonal, transpose."""
    rng = np.random.default_rng(2)
    g = random_graph(7, rng)
    a = g.adjacency.astype(np.float32)
    up = np.column_stack([a, np.ones(7, np.float32)])
    up = np.vstack([up, np.zeros(8, np.float32)])
    np.fill_diagonal(up, 1)
    up = up.T
    net = TGNASPredictorNet(4, gcn_preset("upstream"))
    prop, mask = net._structure(torch.from_numpy(a)[None], torch.ones(1, 7, dtype=torch.bool))
    assert torch.equal(prop[0], torch.from_numpy(up)) and bool(mask.all())
    back = TGNASPredictorNet(4, gcn_preset("upstream", direction="backward"))
    prop_b, _ = back._structure(torch.from_numpy(a)[None], torch.ones(1, 7, dtype=torch.bool))
    assert not torch.equal(prop_b[0], torch.from_numpy(up))


def test_gcn_normalise_matches_pyg_dense_gcn_conv():
    torch.manual_seed(3)
    conv = DenseGCNConv(5, 4)
    x = torch.randn(2, 6, 5)
    prop = (torch.rand(2, 6, 6) > 0.5).float()
    ours = gcn_normalise(prop, add_loop=True) @ conv.lin(x) + conv.bias
    assert torch.allclose(ours, conv(x, prop, add_loop=True), atol=1e-6)


def test_masked_batchnorm_equals_batchnorm_on_real_nodes():
    torch.manual_seed(4)
    h = torch.randn(3, 5, 4) * 3 + 1
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 1, 0, 0, 0]], dtype=torch.bool)
    h[~mask] = 1e3  # padding garbage must not leak into the statistics
    ours, ref = MaskedBatchNorm1d(4), torch.nn.BatchNorm1d(4)
    rows = real_rows(mask)
    assert rows.tolist() == [0, 1, 2, 5, 6, 7, 8, 9, 10, 11]
    out = ours(h, rows)
    expect = ref(h[mask])
    assert torch.allclose(out[mask], expect, atol=1e-5)
    assert torch.equal(out[~mask], h[~mask])                  # padding passes through
    assert torch.allclose(ours.running_mean, ref.running_mean, atol=1e-6)
    assert torch.allclose(ours.running_var, ref.running_var, atol=1e-5)
    ours.eval(), ref.eval()
    assert torch.allclose(ours(h, rows)[mask], ref(h[mask]), atol=1e-5)
    assert real_rows(torch.ones(2, 3, dtype=torch.bool)) is None


def test_config_errors_name_the_value():
    with pytest.raises(ValueError, match="readout='global' needs global_node=True"):
        GCNConfig(global_node=False)
    with pytest.raises(ValueError, match="unknown conv 'gat'"):
        GCNConfig(conv="gat")
    with pytest.raises(KeyError, match="unknown GCN preset 'big'"):
        gcn_preset("big")
    with pytest.raises(ValueError, match="unknown loss 'l1'"):
        TrainConfig(loss="l1")


def test_pairwise_loss_orders_and_stays_within_a_space():
    cfg = TrainConfig(loss="pairwise")
    y = torch.tensor([0.0, 1.0, 2.0, 3.0])
    same = torch.zeros(4, dtype=torch.long)
    good, bad = batch_loss(y.clone(), y, same, cfg), batch_loss(-y, y, same, cfg)
    assert good < bad
    # two spaces, each with one graph: no same-space pair -> zero loss
    assert batch_loss(-y[:2], y[:2], torch.tensor([0, 1]), cfg).item() == 0.0
    hinge = replace(cfg, pairwise="hinge", margin=0.5)
    assert batch_loss(y * 10, y, same, hinge).item() == 0.0


# ============================================================================ training

@pytest.fixture(scope="module")
def syn():
    return synthetic_space()


def test_tiny_training_lowers_the_loss(tmp_path, syn):
    res = train(tiny_config(epochs=4), tmp_path / "m.pt", data=[syn], embed_fn=onehot_embed, progress=False)
    losses = [h["train_loss"] for h in res.history]
    assert len(losses) == 4
    assert all(b < a for a, b in zip(losses, losses[1:])), losses
    assert res.history[-1]["val_tau"]["syn"] > 0.5
    assert 1 <= res.best_epoch <= 4 and res.best_val_score == max(h["val_score"] for h in res.history)


def test_resume_is_bit_for_bit(tmp_path, syn):
    cfg = tiny_config(epochs=2)
    full = train(cfg, tmp_path / "full.pt", data=[syn], embed_fn=onehot_embed, progress=False)
    part = train(cfg, tmp_path / "part.pt", data=[syn], embed_fn=onehot_embed, progress=False,
                 max_epochs_this_run=1)
    assert len(part.history) == 1
    done = train(cfg, tmp_path / "part.pt", data=[syn], embed_fn=onehot_embed, progress=False, resume=True)
    assert len(done.history) == 2
    a, b = load_checkpoint(full.path), load_checkpoint(done.path)
    for k, v in a["model_state"].items():
        assert torch.equal(v, b["model_state"][k]), k
    for k, v in a["best"]["model_state"].items():
        assert torch.equal(v, b["best"]["model_state"][k]), k
    sa, sb = a["optimizer_state"]["state"], b["optimizer_state"]["state"]
    for p in sa:
        assert torch.equal(sa[p]["exp_avg"], sb[p]["exp_avg"]) and torch.equal(sa[p]["exp_avg_sq"], sb[p]["exp_avg_sq"])
    assert a["scheduler_state"] == b["scheduler_state"]
    assert [h["train_loss"] for h in a["history"]] == [h["train_loss"] for h in b["history"]]
    with pytest.raises(ValueError, match="config differs.*'lr'"):
        train(replace(cfg, lr=0.1), tmp_path / "part.pt", data=[syn], embed_fn=onehot_embed,
              progress=False, resume=True)


def test_bad_checkpoints_raise_clear_errors(tmp_path, syn):
    with pytest.raises(FileNotFoundError, match="no predictor checkpoint at"):
        Predictor.load(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"this is not a checkpoint")
    with pytest.raises(ValueError, match="not a readable torch checkpoint"):
        Predictor.load(junk)
    other = tmp_path / "other.pt"
    save_checkpoint({"state_dict": {}}, other)
    with pytest.raises(ValueError, match="not a tgnas predictor checkpoint"):
        Predictor.load(other)
    good = train(tiny_config(epochs=1), tmp_path / "good.pt", data=[syn], embed_fn=onehot_embed,
                 progress=False).path
    ckpt = torch.load(good, weights_only=True)
    del ckpt["vocab"], ckpt["best"]
    save_checkpoint(ckpt, tmp_path / "cut.pt")  # a fresh digest: the keys are checked next
    with pytest.raises(ValueError, match=r"lacks keys \['vocab', 'best'\]"):
        Predictor.load(tmp_path / "cut.pt")


def test_mixed_spaces_standardise_labels_per_space(tmp_path):
    a = synthetic_space(300, seed=1, name="a")
    b = synthetic_space(300, seed=2, name="b")
    b = SpaceData("b", b.graphs, b.labels * 100 + 50)          # other units
    res = train(tiny_config(train_spaces=("a", "b"), epochs=2, loss="pairwise"), tmp_path / "ab.pt",
                data=[a, b], embed_fn=onehot_embed, progress=False)
    ck = load_checkpoint(res.path)
    (ma, sa), (mb, sb) = ck["label_stats"]["a"], ck["label_stats"]["b"]
    # each space's stats are those of its own (90 % training split of the) labels
    for (m, sd), d in (((ma, sa), a), ((mb, sb), b)):
        assert abs(m - d.labels.mean()) < 0.1 * d.labels.std() and sd == pytest.approx(d.labels.std(), rel=0.1)
    assert sb > 50 * sa
    assert set(res.history[-1]["val_tau"]) == {"a", "b"}
    assert res.history[-1]["monitor"] == {}


# ============================================================================ Predictor

def test_predictor_scores_match_in_a_fresh_process(tmp_path, syn):
    path = train(tiny_config(epochs=2), tmp_path / "p.pt", data=[syn], embed_fn=onehot_embed,
                 progress=False).path
    p = Predictor.load(path, device="cpu")
    graphs = [syn.graphs.graph(i) for i in range(5)]
    s = p.score(graphs)
    assert s.shape == (5,) and s.dtype == np.float64
    assert np.array_equal(p.score(syn.graphs.subset(range(5))), s)
    code = ("import sys, numpy as np; from tgnas.predictor import Predictor; "
            "from tgnas.predictor.data import SpaceData; import tests.test_predictor as t; "
            "syn = t.synthetic_space(); p = Predictor.load(sys.argv[1], device='cpu'); "
            "print(repr(p.score(syn.graphs.subset(range(5))).tolist()))")
    from tgnas import paths
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                         cwd=paths.PROJECT_ROOT, env=env, check=True).stdout.strip().splitlines()[-1]
    assert np.array_equal(np.array(eval(out)), s)  # noqa: S307 (our own repr of a float list)


def test_score_unseen_operator_with_free_text_description(tmp_path, syn):
    """The real sentence model embeds an operator that never occurred in training."""
    cfg = tiny_config(epochs=1, embedding_model="minilm")
    path = train(cfg, tmp_path / "mini.pt", data=[syn], progress=False).path
    p = Predictor.load(path, device="cpu")
    g = syn.graphs.graph(0)
    new = CellGraph(g.adjacency, (g.ops[0], "my_dwconv7", *g.ops[2:]))
    with pytest.raises(KeyError, match="no description for operator 'my_dwconv7'"):
        p.score([new])
    s = p.score([new, g], descriptions={"my_dwconv7": "Depth-wise convolution 7 by 7 followed by layer normalisation"})
    assert s.shape == (2,) and np.all(np.isfinite(s)) and s[0] != s[1]
    # a known op keeps its stored embedding: same score as a plain call
    assert s[1] == pytest.approx(p.score([g])[0], abs=1e-6)


def nb201_conv_count_cells(n: int, seed: int) -> tuple[list, list, np.ndarray]:
    """``n`` seeded random NB201 cells, their graphs and labels ``(n,)`` = number of 3x3
    convolutions + N(0, 0.1) noise (a toy target any predictor can learn)."""
    from tgnas.spaces.catalog import get_space
    space = get_space("nb201")
    rng = np.random.default_rng(seed)
    archs = [space.sample(rng) for _ in range(n)]
    graphs = [space.to_graph(a) for a in archs]
    y = np.array([sum(op == "nor_conv_3x3" for op in g.ops) for g in graphs]) + rng.normal(0, 0.1, n)
    return archs, graphs, y


def test_score_nb201_text_equals_graphs(tmp_path):
    from tgnas.spaces.catalog import get_space
    space = get_space("nb201")
    archs, graphs, y = nb201_conv_count_cells(40, seed=5)
    data = SpaceData("nb201", GraphSet.from_graphs(graphs), y)
    cfg = tiny_config(train_spaces=("nb201",), epochs=1)
    path = train(cfg, tmp_path / "n.pt", data=[data], embed_fn=onehot_embed, progress=False).path
    p = Predictor.load(path, device="cpu")
    by_text = p.score([space.format(a) for a in archs[:6]], space=get_space("nb201"))
    assert np.array_equal(by_text, p.score(archs[:6], space=get_space("nb201")))
    assert np.allclose(by_text, p.score(graphs[:6]))
    with pytest.raises(TypeError, match="pass space="):
        p.score(archs[:2])


def test_select_by_validation_picks_the_best_and_checks_the_split(tmp_path, syn):
    from tgnas.predictor.train import parse_candidates, select_by_validation
    base = tiny_config(epochs=2)
    cands = parse_candidates("onehot:short:upstream; onehot:short:paper", base)
    assert [c.gcn for c in cands] == [gcn_preset("upstream"), gcn_preset("paper")]
    assert parse_candidates("", base) == [base]
    with pytest.raises(ValueError, match="must be 'model:length:gcn'"):
        parse_candidates("minilm:short", base)
    best, results = select_by_validation(cands, tmp_path, data=[syn], embed_fn=onehot_embed, progress=False)
    scores = [r.best_val_score for r in results]
    assert best == int(np.argmax(scores)) and len(results) == 2
    with pytest.raises(ValueError, match=r"differ in \['seed'\]"):
        select_by_validation([base, replace(base, seed=1)], tmp_path, data=[syn], embed_fn=onehot_embed)


def test_epoch_batches_are_seeded_and_never_mix_spaces():
    from tgnas.predictor.train import epoch_batches
    sid = np.array([0] * 250 + [1] * 70)
    a, b = epoch_batches(sid, 64, seed=0, epoch=3), epoch_batches(sid, 64, seed=0, epoch=3)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, epoch_batches(sid, 64, seed=0, epoch=4)))
    assert sorted(np.concatenate(a).tolist()) == list(range(320))            # every cell once
    assert all(len(set(sid[x])) == 1 for x in a) and len(a) == 4 + 2        # 250 -> 4, 70 -> 2
    one = epoch_batches(np.zeros(100, dtype=int), 30, seed=1, epoch=0)
    assert [len(x) for x in one] == [30, 30, 30, 10]
    assert np.array_equal(np.concatenate(one), np.random.default_rng([1, 0]).permutation(100))


def test_weight_averaging_is_the_mean_of_epoch_weights_and_resumes(tmp_path, syn):
    cfg = tiny_config(epochs=3, average_from=2)
    res = train(cfg, tmp_path / "avg.pt", data=[syn], embed_fn=onehot_embed, progress=False)
    ck = load_checkpoint(res.path)
    # weights after epochs 2 and 3, from runs that stop there (same seed, same batches)
    w = []
    for stop in (2, 3):
        r = train(replace(cfg, average_from=0), tmp_path / f"plain{stop}.pt", data=[syn], embed_fn=onehot_embed,
                  progress=False, max_epochs_this_run=stop)
        w.append(load_checkpoint(r.path)["model_state"])
    best = ck["best"]["model_state"]
    assert res.best_epoch == 3 and [h["averaged"] for h in res.history] == [False, True, True]
    for k, v in best.items():
        if v.is_floating_point():
            torch.testing.assert_close(v, (w[0][k] + w[1][k]) / 2, rtol=1e-5, atol=1e-6, msg=k)
    # the averaged weights differ from the last epoch's
    assert any(not torch.equal(best[k], ck["model_state"][k]) for k in best if best[k].is_floating_point())
    part = train(cfg, tmp_path / "part.pt", data=[syn], embed_fn=onehot_embed, progress=False, max_epochs_this_run=2)
    done = train(cfg, part.path, data=[syn], embed_fn=onehot_embed, progress=False, resume=True)
    for k, v in load_checkpoint(done.path)["best"]["model_state"].items():
        assert torch.equal(v, best[k]), k
    with pytest.raises(ValueError, match="average_from must lie in 0..epochs=3, got 4"):
        tiny_config(epochs=3, average_from=4)
    with pytest.raises(ValueError, match="exclude each other"):
        tiny_config(epochs=3, average_from=2, patience=1)


def test_with_epochs_keeps_the_averaged_share():
    c = tiny_config(epochs=8, average_from=5)
    assert c.with_epochs(4).average_from == 3 and c.with_epochs(4).epochs == 4
    assert c.with_epochs(16).average_from == 9
    assert c.with_epochs(1).average_from == 1
    assert tiny_config(epochs=8).with_epochs(2).average_from == 0
