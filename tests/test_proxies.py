"""Proxies on tiny real networks, hand-checked kernels, and the NB201 cost model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from tgnas import datafiles
from tgnas.proxies import zero_cost as P
from tgnas.spaces.nb201 import cost as nb201_cost
from tgnas.nets import count_flops, count_params
from tgnas.spaces.nb201.net import build_nb201_net
from tgnas.spaces.darts.arch import DARTS_V2
from tgnas.spaces.nb201.arch import NB201_OPS, NB201Arch
from tgnas.spaces.catalog import SPACES

CELL = "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
ALL_CONV3 = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
             "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")


@pytest.fixture(scope="module")
def batch():
    return P.random_minibatch(batch_size=8, num_classes=10, seed=0)


@pytest.mark.parametrize("name", sorted(P.PROXIES))
def test_each_proxy_finite_on_tiny_network(name, batch):
    value, seconds = P.compute_proxy(name, CELL, SPACES["nb201"], batch=batch, seed=0, C=4, N=1)
    assert math.isfinite(value)
    assert seconds > 0
    # same seed, same network, same value
    again, _ = P.compute_proxy(name, CELL, SPACES["nb201"], batch=batch, seed=0, C=4, N=1)
    assert again == pytest.approx(value, rel=1e-6)


@pytest.mark.parametrize("name", ["synflow", "grad_norm", "snip", "jacob_cov"])
def test_proxy_depends_on_init_seed(name, batch):
    a, _ = P.compute_proxy(name, CELL, SPACES["nb201"], batch=batch, seed=0, C=4, N=1)
    b, _ = P.compute_proxy(name, CELL, SPACES["nb201"], batch=batch, seed=1, C=4, N=1)
    assert a != b


def test_proxies_on_tiny_darts_network(batch):
    for name in ("params", "naswot"):
        value, _ = P.compute_proxy(name, DARTS_V2, space=SPACES["darts"], batch=batch, C=4, N=3)
        assert math.isfinite(value), name


def test_unknown_proxy_and_space():
    with pytest.raises(KeyError, match=r"unknown proxy 'zico'.*naswot.*synflow"):
        P.get_proxy("zico")
    with pytest.raises(KeyError, match="unknown proxy"):
        P.compute_proxy("zico", CELL, SPACES["nb201"])
    with pytest.raises(TypeError, match="space object"):
        P.compute_proxy("params", CELL, "nb201")


def test_params_of_known_cells():
    # NAS-Bench-201 / NAS-Bench-Suite-Zero: 1.531546 MB (all nor_conv_3x3), 0.073306 MB (all
    # none), 1.073466 MB (the CIFAR-10 optimum, index 6111)
    assert P.compute_proxy("params", ALL_CONV3, SPACES["nb201"])[0] == pytest.approx(1.531546, abs=1e-9)
    assert P.compute_proxy("params", "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", SPACES["nb201"])[0] == \
        pytest.approx(0.073306, abs=1e-9)
    best = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    assert P.compute_proxy("params", best, SPACES["nb201"])[0] == pytest.approx(1.073466, abs=1e-9)


def test_synflow_leaves_network_unchanged_and_ignores_data(batch):
    torch.manual_seed(0)
    net = build_nb201_net(CELL, C=4, N=1)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    v1 = P.synflow(net, batch[0], batch[1])
    v2 = P.synflow(net, batch[0] * 5.0, batch[1])   # data-free: only the shape counts
    assert v1 == v2 > 0
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_synflow_hand_computed_linear():
    # f(x) = W x with W = [[1, -2], [3, 4]], ones input: R = Σ|W| · 1 -> ∂R/∂W_ij = 1,
    # synflow = Σ |W_ij| = 10 (bias set to 0 contributes nothing to the weight sum)
    net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2))
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[1.0, -2.0], [3.0, 4.0]]))
        net[1].bias.zero_()
    assert P.synflow(net, torch.zeros(1, 2, 1, 1)) == pytest.approx(10.0)


def test_naswot_hand_computed_kernel():
    # one ReLU over 3 units; codes c1 = [1, 0, 1], c2 = [1, 1, 0]: K = [[3, 1], [1, 3]],
    # det K = 8
    net = nn.Sequential(nn.Flatten(), nn.ReLU())
    x = torch.tensor([[1.0, -1.0, 1.0], [1.0, 1.0, -1.0]]).view(2, 3, 1, 1)
    assert P.naswot(net, x) == pytest.approx(math.log(8.0))


def test_jacob_cov_hand_computed_linear():
    # a linear map has the same input gradient for every image: correlations all 1,
    # eigenvalues {B, 0, ..., 0}
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(12, 3))
    b, k = 4, 1e-5
    want = -((math.log(b + k) + 1 / (b + k)) + (b - 1) * (math.log(k) + 1 / k))
    got = P.jacob_cov(net, torch.randn(b, 3, 2, 2))
    assert got == pytest.approx(want, rel=1e-6)


def test_grad_norm_and_snip_hand_computed_linear():
    # one Linear layer, CE loss on one sample: ∂L/∂W = (softmax - onehot) xᵀ
    net = nn.Sequential(nn.Flatten(), nn.Linear(2, 2))
    with torch.no_grad():
        net[1].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
        net[1].bias.zero_()
    x = torch.tensor([[2.0, 0.0]]).view(1, 2, 1, 1)
    y = torch.tensor([1])
    p = torch.softmax(torch.tensor([2.0, 0.0]), 0)
    g = torch.outer(p - torch.tensor([0.0, 1.0]), torch.tensor([2.0, 0.0]))
    assert P.grad_norm(net, x, y) == pytest.approx(float(g.norm()), rel=1e-6)
    assert P.snip(net, x, y) == pytest.approx(float((g * torch.eye(2)).abs().sum()), rel=1e-6)


def test_jacob_cov_rejects_input_independent_network(batch):
    net = build_nb201_net("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", C=4, N=1)
    with pytest.raises(ValueError, match="constant"):
        P.jacob_cov(net, batch[0], batch[1])


def test_cost_model_matches_real_networks(tmp_path, monkeypatch):
    monkeypatch.setattr(nb201_cost.paths, "CACHE_DIR", tmp_path)
    model = nb201_cost.nb201_cost_model(num_classes=10, C=4, N=1)
    assert nb201_cost._cost_model_path(10, 4, 1).is_file()
    assert nb201_cost.nb201_cost_model(num_classes=10, C=4, N=1) == model     # read back from cache
    rng = np.random.default_rng(0)
    for _ in range(8):
        arch = NB201Arch(tuple(rng.choice(NB201_OPS, size=6)))
        net = build_nb201_net(arch, C=4, N=1)
        assert model.params_of(arch) == count_params(net)
        assert model.flops_of(arch) == count_flops(net)


def test_params_and_flops_all_full_size(tmp_path, monkeypatch):
    monkeypatch.setattr(nb201_cost.paths, "CACHE_DIR", tmp_path)
    cells = [ALL_CONV3, CELL, "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"]
    df = nb201_cost.params_and_flops_all(cells)
    assert df["params"].tolist() == pytest.approx([1.531546, 0.587386, 0.073306])
    assert df["flops"].tolist() == pytest.approx([220.11968, 82.49408, 7.78304])
    assert df["arch"].tolist() == cells
    real = build_nb201_net(CELL)
    assert df["flops"][1] * 1e6 == pytest.approx(count_flops(real))


@pytest.mark.skipif(datafiles.status(datafiles.get("nb201_zc_cifar10")) != "ok",
                    reason="NB201 zero-cost table not available")
def test_params_and_flops_all_cells_against_table():
    """Params of all 15,625 cells; on the 9,445 cells of NAS-Bench-Suite-Zero's table they
    equal its `params` column exactly, and our FLOPs rank its `flops` column almost alike
    (it counts BN/ReLU/pool FLOPs too, see test_nets)."""
    from scipy import stats

    from tgnas.spaces.nb201.benchmark import load_nb201_proxies

    df = nb201_cost.params_and_flops_all()
    assert len(df) == 15_625 and df.index.name == "nb201_index"
    assert df["params"].min() == pytest.approx(0.073306) and df["params"].max() == pytest.approx(1.531546)
    table = load_nb201_proxies("cifar10")
    ours = df.loc[table.index]
    np.testing.assert_allclose(ours["params"].to_numpy(), table["params"].to_numpy(), atol=5e-7)
    assert stats.spearmanr(ours["flops"], table["flops"]).statistic > 0.99
