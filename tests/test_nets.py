"""Real networks: NB201 parameter counts and FLOPs of known cells, DARTS networks."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from tgnas.nets import count_flops, count_params
from tgnas.spaces.darts.net import NetworkCIFAR, NetworkImageNet, make_darts_op
from tgnas.spaces.nb201.net import build_nb201_net
from tgnas.nets.ops import FactorizedReduce, Zero, drop_path
from tgnas.spaces.darts.arch import DARTS_V2
from tgnas.spaces.nb201.space import NB201Space

ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
ALL_CONV3 = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
             "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")

# (benchmark index, cell, params in M, FLOPs in M) from NAS-Bench-Suite-Zero's CIFAR-10
# table (nb201_zc_proxies.csv, columns `params`, `flops`). Index 6111 is the CIFAR-10
# optimum (94.37 %), 1651 the all-none cell, 1462 all-nor_conv_3x3 (the benchmark's
# largest, 1.531546 MB), 4317 all-nor_conv_1x1, 7581 all-avg_pool_3x3, 1835 all-skip;
# the other 17 are a seeded random sample of the table's rows.
KNOWN_CELLS = [
    (6111, "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|", 1.073466, 155.584192),
    (1651, ALL_NONE, 0.073306, 7.943872),
    (1462, ALL_CONV3, 1.531546, 222.860992),
    (4317, "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_conv_1x1~2|", 0.241306, 34.117312),
    (7581, "|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|avg_pool_3x3~2|", 0.073306, 15.685312),
    (1835, "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|", 0.073306, 7.943872),
    (12267, "|avg_pool_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|nor_conv_1x1~1|avg_pool_3x3~2|", 0.129306, 19.248832),
    (12065, "|skip_connect~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|avg_pool_3x3~1|nor_conv_1x1~2|", 0.101306, 14.886592),
    (3639, "|avg_pool_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|skip_connect~2|", 0.101306, 14.886592),
    (14501, "|skip_connect~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", 0.802426, 116.692672),
    (14367, "|nor_conv_1x1~0|+|none~0|skip_connect~1|+|nor_conv_3x3~0|none~1|skip_connect~2|", 0.344346, 48.125632),
    (8001, "|avg_pool_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|none~0|none~1|skip_connect~2|", 0.316346, 46.343872),
    (13914, "|avg_pool_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|none~0|skip_connect~1|nor_conv_1x1~2|", 0.344346, 49.415872),
    (3034, "|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|nor_conv_1x1~1|skip_connect~2|", 0.372346, 52.487872),
    (8726, "|avg_pool_3x3~0|+|skip_connect~0|nor_conv_3x3~1|+|none~0|nor_conv_3x3~1|nor_conv_3x3~2|", 0.802426, 116.692672),
    (9957, "|avg_pool_3x3~0|+|none~0|avg_pool_3x3~1|+|nor_conv_1x1~0|skip_connect~1|nor_conv_1x1~2|", 0.129306, 19.248832),
    (7053, "|avg_pool_3x3~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|avg_pool_3x3~0|nor_conv_1x1~1|avg_pool_3x3~2|", 0.372346, 56.358592),
    (13112, "|skip_connect~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|", 0.615386, 88.307392),
    (13359, "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|skip_connect~2|", 0.830426, 119.764672),
    (1138, "|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|nor_conv_1x1~0|skip_connect~1|nor_conv_1x1~2|", 0.372346, 53.778112),
    (12838, "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|nor_conv_3x3~2|", 0.830426, 121.054912),
    (14886, "|avg_pool_3x3~0|+|none~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_1x1~1|nor_conv_1x1~2|", 0.615386, 89.597632),
    (7301, "|skip_connect~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|none~0|avg_pool_3x3~1|skip_connect~2|", 0.344346, 49.415872),
]


@pytest.mark.parametrize("index, cell, params_m, _flops", KNOWN_CELLS, ids=[str(c[0]) for c in KNOWN_CELLS])
def test_nb201_params_equal_benchmark(index, cell, params_m, _flops):
    net = build_nb201_net(cell)
    assert count_params(net) == round(params_m * 1e6)


def test_nb201_flops_of_extreme_cells():
    # conv + linear MACs: skeleton 7,783,040; each nor_conv_3x3 edge adds
    # 9·C²·H·W = 2,359,296 per cell and stage, times 15 cells.
    assert count_flops(build_nb201_net(ALL_NONE)) == 7_783_040
    assert count_flops(build_nb201_net(ALL_CONV3)) == 7_783_040 + 6 * 15 * 2_359_296


@pytest.mark.parametrize("index, cell, _params, flops_m", KNOWN_CELLS[:8], ids=[str(c[0]) for c in KNOWN_CELLS[:8]])
def test_nb201_flops_relate_exactly_to_table_convention(index, cell, _params, flops_m):
    """The table (tensorwatch) adds, per op, 3 FLOPs per output element of a
    ReLU-Conv-BN (1 ReLU + 2 BN) and 9 per output of a 3x3 average pool; over the
    15 cells (16·32² + 32·16² + 64·8² = 28,672 output elements per edge per cell
    position, ×5 cells) that is 430,080 per conv edge and 1,290,240 per pool edge; the
    skeleton's BN/ReLU/pooling adds 160,832 (fitted exactly on all 9,445 rows)."""
    arch = NB201Space().parse(cell)
    n_conv = sum(op.startswith("nor_conv") for op in arch.ops)
    n_pool = sum(op == "avg_pool_3x3" for op in arch.ops)
    ours = count_flops(build_nb201_net(arch))
    assert ours + 160_832 + 430_080 * n_conv + 1_290_240 * n_pool == round(flops_m * 1e6)


def test_nb201_forward_shapes_and_classes():
    net = build_nb201_net(ALL_CONV3, num_classes=100, C=8, N=2)
    out = net(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 100)
    # 120 classes for ImageNet16-120 at 16x16
    out = build_nb201_net(ALL_CONV3, num_classes=120, C=4, N=1)(torch.randn(3, 3, 16, 16))
    assert out.shape == (3, 120)


def test_nb201_cell_wiring_skip_only_path():
    # node 3 = skip(node 0) only (the other edges into 3 are none): the cell is the identity
    cell = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    net = build_nb201_net(cell, C=4, N=1)
    x = torch.randn(2, 4, 8, 8)
    assert torch.equal(net.cells[0](x), x)
    # node 3 = conv(node 2) with node 2 = skip(node 0) + skip(node 1), node 1 = skip(node 0)
    cell2 = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|none~1|skip_connect~2|"
    net2 = build_nb201_net(cell2, C=4, N=1)
    assert torch.allclose(net2.cells[0](x), 2 * x)


def test_nb201_bad_arch():
    with pytest.raises(ValueError):
        build_nb201_net("|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    with pytest.raises(TypeError):
        build_nb201_net(42)


def test_darts_v2_cifar_params_and_shapes():
    net = NetworkCIFAR(36, 10, 20, auxiliary=True, genotype=DARTS_V2)
    # DARTS paper: 3.3M parameters for DARTS (2nd order) on CIFAR-10, auxiliary head excluded
    assert count_params(net) == 3_349_342
    assert count_params(net, exclude_auxiliary=False) > count_params(net)
    net.train()
    net.drop_path_prob = 0.2
    logits, aux = net(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, 10) and aux.shape == (2, 10)
    net.eval()
    with torch.no_grad():
        logits, aux = net(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, 10) and aux is None


def test_darts_imagenet_forward_tiny_batch():
    net = NetworkImageNet(48, 1000, 14, auxiliary=True, genotype=DARTS_V2)
    assert count_params(net) == 4_718_752          # DARTS paper: 4.7M
    net.train()
    logits, aux = net(torch.randn(2, 3, 224, 224))
    assert logits.shape == (2, 1000) and aux.shape == (2, 1000)


def test_darts_ops_shapes():
    x = torch.randn(2, 8, 16, 16)
    for op in ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3",
               "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"):
        assert make_darts_op(op, 8, 1)(x).shape == (2, 8, 16, 16), op
        assert make_darts_op(op, 8, 2)(x).shape == (2, 8, 8, 8), op
    assert isinstance(make_darts_op("skip_connect", 8, 2), FactorizedReduce)
    with pytest.raises(KeyError, match="unknown DARTS op"):
        make_darts_op("conv_7x7", 8, 1)
    assert torch.count_nonzero(Zero(2)(x)) == 0


def test_drop_path():
    x = torch.ones(1000, 3, 2, 2)
    assert drop_path(x, 0.3, training=False) is x
    torch.manual_seed(0)
    y = drop_path(x, 0.25, training=True)
    per_sample = y[:, 0, 0, 0]
    # every sample is either dropped (0) or rescaled by 1 / 0.75
    kept = per_sample[per_sample != 0]
    assert torch.allclose(kept, torch.full_like(kept, 1 / 0.75))
    assert 0.15 < float((per_sample == 0).float().mean()) < 0.35
    assert torch.all(y[per_sample == 0] == 0)


def test_networks_have_hookable_relus():
    net = build_nb201_net(ALL_CONV3, C=4, N=1)
    # 6 ReLU-Conv-BN per cell x 3 cells + 2 x 2 in reduction blocks + lastact
    assert sum(isinstance(m, nn.ReLU) for m in net.modules()) == 18 + 4 + 1
