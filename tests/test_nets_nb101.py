"""The NAS-Bench-101 network (tgnas.spaces.nb101.net) against the published sizes.

Reference numbers: NAS-Bench-Suite-Zero's ``params`` (millions, NASLib's PyTorch NB101
network) and ``flops`` (torchstat/tensorwatch convention) for its 292 distinct cells, and
the full NB101 table's ``flops`` (thop convention) for any cell. Networks are built on the
``meta`` device where only parameter counts matter (no memory, no initialisation cost).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from tgnas import datafiles
from tgnas.nets import count_flops, count_params
from tgnas.spaces.nb101.net import (NB101Network, as_cell, build_nb101_net, compute_vertex_channels,
                              nb101_cost)
from tgnas.proxies import build_net, naswot, synflow
from tgnas.spaces.nb101.arch import NB101Cell
from tgnas.spaces.nb101.space import NB101Space
from tgnas.spaces.catalog import SPACES

TWO_VERTEX = "01.00/input,output"
# input -> conv3x3 -> output, input -> maxpool -> conv1x1 -> output, input -> output
FIVE_VERTEX = ("01101.00001.00010.00001.00000/"
               "input,conv3x3-bn-relu,maxpool3x3,conv1x1-bn-relu,output")


def _have(key: str) -> bool:
    return datafiles.status(datafiles.get(key)) == "ok"


needs_zc = pytest.mark.skipif(not _have("nb101_zc"), reason="nb101/zc_nasbench101.json not available")
needs_full = pytest.mark.skipif(not _have("nb101_full"), reason="NB101 full table not available")


@pytest.fixture(scope="module")
def zc_cells():
    """(292 distinct pruned cells, params in M, flops in M) of NAS-Bench-Suite-Zero."""
    from tgnas.spaces.nb101.benchmark import load_nb101_zc
    df = load_nb101_zc().drop_duplicates("hash").reset_index(drop=True)
    assert len(df) == 292
    return list(df["cell"]), df["params"].to_numpy(), df["flops"].to_numpy()


def _meta_net(cell, **kw) -> NB101Network:
    with torch.device("meta"):
        return build_nb101_net(cell, **kw)


def _torchstat_flops(net: nn.Module) -> int:
    """FLOPs as torchstat/tensorwatch count them (NAS-Bench-Suite-Zero's ``flops``): conv and
    linear MACs, 2 per BatchNorm output, 1 per ReLU output, kernel area per max-pool output."""
    total = 0

    def hook(m, inp, out) -> None:
        nonlocal total
        if isinstance(m, nn.Conv2d):
            total += out.numel() * m.kernel_size[0] * m.kernel_size[1] * m.in_channels // m.groups
        elif isinstance(m, nn.Linear):
            total += m.in_features * m.out_features
        elif isinstance(m, nn.BatchNorm2d):
            total += 2 * out.numel()
        elif isinstance(m, nn.ReLU):
            total += out.numel()
        elif isinstance(m, nn.MaxPool2d):
            total += out.numel() * m.kernel_size ** 2

    handles = [m.register_forward_hook(hook) for m in net.modules()]
    with torch.no_grad():
        net(torch.zeros(1, 3, 32, 32, device=next(net.parameters()).device))
    for h in handles:
        h.remove()
    return total


# --------------------------------------------------------------------------- structure


def test_vertex_channels_follow_the_benchmark_rule():
    # 5 interior vertices all feeding the output: 128 = 4 * 26 + 24, remainder to the first
    adj = [[0, 1, 1, 1, 1, 1, 0]] + [[0] * 6 + [1] for _ in range(5)] + [[0] * 7]
    assert compute_vertex_channels(64, 128, adj) == [64, 26, 26, 26, 25, 25, 128]
    # chain 0 -> 1 -> 2 -> 3 plus 1 -> 3: vertex 1 feeds the output (64) and vertex 2 (64)
    chain = [[0, 1, 0, 0], [0, 0, 1, 1], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert compute_vertex_channels(32, 128, chain) == [32, 64, 64, 128]
    # vertex 1 feeds only vertex 2, which feeds the output alone: takes its successor's 128
    diamond = [[0, 1, 0, 1], [0, 0, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0]]
    assert compute_vertex_channels(16, 128, diamond) == [16, 128, 128, 128]
    assert compute_vertex_channels(7, 9, [[0, 1], [0, 0]]) == [7, 9]


def test_unpruned_vertex_is_rejected_by_channel_rule():
    with pytest.raises(ValueError, match="prune"):
        compute_vertex_channels(8, 8, [[0, 1, 1], [0, 0, 0], [0, 0, 0]])


def test_output_shape_and_layers():
    torch.manual_seed(0)
    net = build_nb101_net(FIVE_VERTEX, C=16, N=1)
    out = net(torch.randn(4, 3, 32, 32))
    assert out.shape == (4, 10)
    assert torch.isfinite(out).all()
    pools = [m for m in net.layers if isinstance(m, nn.MaxPool2d)]
    assert len(pools) == 2 and len(net.layers) == 5
    assert net.classifier.in_features == 64
    cell = net.layers[0]
    # vertices 1 and 3 feed the output: 16 = 8 + 8; vertex 2 takes vertex 3's 8
    assert cell.channels == [16, 8, 8, 8, 16]
    assert sorted(cell.proj) == ["1", "2", "4"]


def test_two_vertex_cell_forward_and_size():
    torch.manual_seed(0)
    net = build_nb101_net(TWO_VERTEX, num_classes=7, C=8, N=2)
    assert net(torch.randn(3, 3, 32, 32)).shape == (3, 7)
    # full size: stem + 9 projections + classifier = NAS-Bench-Suite-Zero's 0.882570 M
    assert count_params(_meta_net(TWO_VERTEX)) == 882_570


def test_input_forms_and_errors():
    space = NB101Space()
    cell = space.parse(FIVE_VERTEX)
    # an unpruned spec (vertex 2 dangling) is pruned first, like the benchmark's ModelSpec
    unpruned = NB101Cell(((0, 1, 1, 0), (0, 0, 0, 1), (0, 0, 0, 0), (0, 0, 0, 0)),
                         ("input", "conv1x1-bn-relu", "maxpool3x3", "output"))
    assert as_cell(unpruned) == space.parse("010.001.000/input,conv1x1-bn-relu,output")
    assert as_cell(cell) is cell
    with pytest.raises(TypeError, match="NB101Cell"):
        build_nb101_net(42)
    with pytest.raises(ValueError, match="not an NB101 cell string"):
        build_nb101_net("input->output")
    with pytest.raises(ValueError, match="C must be a positive int"):
        build_nb101_net(cell, C=0)


def test_build_net_registry_and_proxies():
    torch.manual_seed(0)
    net = build_net(FIVE_VERTEX, SPACES["nb101"], C=8, N=1)
    assert isinstance(net, NB101Network) and net.stem[0].out_channels == 8
    assert count_params(_meta_net(FIVE_VERTEX)) == count_params(
        build_net(FIVE_VERTEX, SPACES["nb101"]).to("meta"))
    images = torch.randn(8, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert np.isfinite(naswot(net, images)) and synflow(net) > 0
    with pytest.raises(TypeError, match="space object"):
        build_net(FIVE_VERTEX, "nb101")


def test_closed_form_cost_equals_the_built_network():
    for text, kw in ((FIVE_VERTEX, {}), (TWO_VERTEX, {}), (FIVE_VERTEX, {"C": 16, "N": 2, "num_classes": 100})):
        net = build_nb101_net(text, **kw)
        cost = nb101_cost(text, **kw)
        assert cost.params == count_params(net)
        assert cost.macs == count_flops(net)
        assert cost.torchstat_flops == _torchstat_flops(net)


# --------------------------------------------------------------------------- published sizes


def _zc_subset(zc_cells, k):
    cells, params, flops = zc_cells
    pick = np.random.default_rng(0).choice(len(cells), size=k, replace=False)
    return [cells[i] for i in pick], params[pick], flops[pick]


def _as_printed(values_in_millions) -> list[str]:
    # the file prints 6 decimals (whole parameters): agreement to the printed precision
    return [f"{v:.6f}" for v in values_in_millions]


@needs_zc
def test_params_match_naslib_for_all_292_cells(zc_cells):
    cells, params, _ = zc_cells
    assert _as_printed([nb101_cost(c).params / 1e6 for c in cells]) == _as_printed(params)


@needs_zc
def test_params_of_the_built_network_match_naslib_subset(zc_cells):
    # ~30 ms per build: a seeded 30-cell subset by default, all 292 in the slow test
    cells, params, _ = _zc_subset(zc_cells, 30)
    assert _as_printed([count_params(_meta_net(c)) / 1e6 for c in cells]) == _as_printed(params)


@pytest.mark.slow
@needs_zc
def test_params_of_the_built_network_match_naslib_all(zc_cells):
    cells, params, _ = zc_cells
    assert _as_printed([count_params(_meta_net(c)) / 1e6 for c in cells]) == _as_printed(params)


@needs_zc
def test_flops_match_naslib_torchstat_convention_for_all_292_cells(zc_cells):
    cells, _, flops = zc_cells
    assert _as_printed([nb101_cost(c).torchstat_flops / 1e6 for c in cells]) == _as_printed(flops)
    # count_flops (conv + linear MACs only) is a different convention: always smaller
    assert all(nb101_cost(c).macs / 1e6 < f for c, f in zip(cells, flops))


@needs_zc
def test_flops_of_the_built_network_match_naslib_subset(zc_cells):
    # a forward pass per network (on the CPU: meta-device kernels are slower): a seeded
    # subset by default, all 292 in the slow test
    cells, _, flops = _zc_subset(zc_cells, 5)
    assert _as_printed([_torchstat_flops(build_nb101_net(c)) / 1e6 for c in cells]) == _as_printed(flops)


@pytest.mark.slow
@needs_zc
def test_flops_of_the_built_network_match_naslib_all(zc_cells):
    cells, _, flops = zc_cells
    assert _as_printed([_torchstat_flops(build_nb101_net(c)) / 1e6 for c in cells]) == _as_printed(flops)


@needs_full
def test_flops_match_full_table_thop_convention():
    from tgnas.spaces.nb101.benchmark import load_nb101
    table = load_nb101()
    idx = np.random.default_rng(0).choice(len(table), size=300, replace=False)
    # the table's flops (thop) = conv/linear MACs + 2 per BatchNorm output, exactly
    got = np.array([nb101_cost(table.cell(int(i))).thop_flops for i in idx], dtype=np.float64)
    np.testing.assert_array_equal(got, table.flops[idx])
    big = int(idx[np.argmax(table.num_vertices[idx])])
    cost = nb101_cost(table.cell(big))
    assert count_flops(build_nb101_net(table.cell(big))) == cost.macs


@pytest.mark.slow
@needs_full
def test_flops_match_full_table_all_cells():
    from tgnas.spaces.nb101.benchmark import load_nb101
    table = load_nb101()
    got = np.array([nb101_cost(table.cell(i)).thop_flops for i in range(len(table))], dtype=np.float64)
    np.testing.assert_array_equal(got, table.flops)


# --------------------------------------------------------------------------- the NB101 sample


def test_sample_indices_are_seeded_unique_and_checked():
    from tgnas.experiments.tgnas_plus.nb101_sample import nb101_sample_indices
    a = nb101_sample_indices(50, seed=0)
    assert a.shape == (50,) and len(np.unique(a)) == 50 and np.all(np.diff(a) > 0)
    assert np.array_equal(a, nb101_sample_indices(50, seed=0))
    assert not np.array_equal(a, nb101_sample_indices(50, seed=1))
    assert 0 <= a.min() and a.max() < 423_624
    with pytest.raises(ValueError, match="n must be an int in 1..423624"):
        nb101_sample_indices(0)
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        nb101_sample_indices(5, seed=-1)
