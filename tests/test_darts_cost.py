"""The closed-form size of DARTS networks (tgnas.spaces.darts.cost) against the built network:
parameters against ``darts_params`` / ``count_params``, MACs against ``count_flops`` (conv +
linear multiply-accumulates on one 32x32 image), and the space's ``size`` / ``flops_of``."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tgnas.nets import count_flops, count_params
from tgnas.proxies import compute_proxy
from tgnas.search.scorers import flops_scorer
from tgnas.spaces.darts.arch import DARTS_OPS, DARTS_V1, DARTS_V2, Genotype, format_genotype
from tgnas.spaces.darts.cost import NORMAL, REDUCE_IN, REDUCE_MID, darts_cost_model
from tgnas.spaces.darts.net import NetworkCIFAR, build_darts_net, darts_params
from tgnas.spaces.darts.space import DartsSpace

SPACE = DartsSpace()

# outside the search space, but built by DARTS's NetworkCIFAR: "none" edges, both edges of a
# node from one input, nodes left out of the concat (a node feeding nothing still runs)
ODD = (
    Genotype(normal=(("none", 0), ("none", 1), ("sep_conv_5x5", 2), ("sep_conv_5x5", 2),
                     ("skip_connect", 1), ("skip_connect", 1), ("dil_conv_5x5", 0), ("none", 4)),
             reduce=(("skip_connect", 0), ("skip_connect", 0), ("none", 2), ("dil_conv_3x3", 1),
                     ("sep_conv_3x3", 3), ("avg_pool_3x3", 3), ("none", 0), ("none", 1)),
             normal_concat=(3, 5), reduce_concat=(2,)),
    Genotype(normal=(("none", 0),) * 8, reduce=(("none", 1),) * 8),
    Genotype(normal=tuple(("sep_conv_3x3", 0) for _ in range(8)), reduce=tuple(("skip_connect", 1) for _ in range(8)),
             normal_concat=(5,), reduce_concat=(2, 4, 5)),
    SPACE.parse(SPACE.examples[2]),
)


def _sampled(n: int, seed: int = 0) -> list[Genotype]:
    rng = np.random.default_rng(seed)
    return [SPACE.sample(rng) for _ in range(n)]


@pytest.mark.parametrize("C, layers", [(36, 20), (16, 8)])
def test_params_equal_the_built_network_for_named_genotypes(C, layers):
    model = darts_cost_model(C, layers)
    for g in (DARTS_V1, DARTS_V2):
        assert model.params_of(g) == darts_params(g, C, layers)


def test_darts_v2_evaluation_network_has_the_published_size():
    assert darts_cost_model(36, 20).params_of(DARTS_V2) == 3_349_342  # DARTS paper: 3.3M


def test_params_equal_the_built_network_for_sampled_and_odd_genotypes():
    archs = _sampled(10) + list(ODD)
    got = darts_cost_model(16, 8).costs(archs)[:, 0]
    want = [darts_params(g, 16, 8) for g in archs]
    np.testing.assert_array_equal(got, want)
    assert len(set(want)) > 8  # the genotypes differ in size, so equality says something


@pytest.mark.parametrize("C, layers, num_classes", [(10, 4, 100), (8, 5, 10), (6, 3, 7)])
def test_params_and_macs_at_other_widths_and_depths(C, layers, num_classes):
    # layers 3 and 4: two reductions in a row (a reduction cell's s0 went through FactorizedReduce)
    model = darts_cost_model(C, layers, num_classes)
    for g in (DARTS_V2, ODD[0], *_sampled(2, seed=layers)):
        net = NetworkCIFAR(C, num_classes, layers, auxiliary=False, genotype=g)
        assert (model.params_of(g), model.macs_of(g)) == (count_params(net), count_flops(net))


def test_macs_equal_count_flops_on_the_built_proxy_network():
    archs = [DARTS_V1, DARTS_V2, *_sampled(3, seed=1), *ODD]
    got = darts_cost_model(16, 8).costs(archs)[:, 1]
    want = [count_flops(build_darts_net(g, 10, 16, 8), (1, 3, 32, 32)) for g in archs]
    np.testing.assert_array_equal(got, want)
    assert len(set(want)) == len(want)


def test_edge_tables_count_what_count_flops_counts():
    model = darts_cost_model(16, 8)
    cols = {op: j for j, op in enumerate(DARTS_OPS)}
    for table in (model.edge_params, model.edge_macs):
        # the zero op, pools and (stride 1) identities have no parameters and no conv/linear MACs
        for op in ("none", "max_pool_3x3", "avg_pool_3x3"):
            assert not table[:, cols[op]].any()
        assert table[NORMAL, cols["skip_connect"]] == table[REDUCE_MID, cols["skip_connect"]] == 0
        assert table[REDUCE_IN, cols["skip_connect"]] > 0  # FactorizedReduce
        assert (table[:, cols["sep_conv_3x3"]] > table[:, cols["dil_conv_3x3"]]).all()
        assert not table.flags.writeable
    # a reduction's strided and unstrided convolutions have the same weights and output size
    np.testing.assert_array_equal(model.edge_params[REDUCE_IN, 4:], model.edge_params[REDUCE_MID, 4:])
    np.testing.assert_array_equal(model.edge_macs[REDUCE_IN, 4:], model.edge_macs[REDUCE_MID, 4:])


def test_space_size_equals_the_built_network_count():
    archs = [DARTS_V1, *_sampled(4, seed=2), ODD[0]]
    texts = [format_genotype(g) for g in archs]
    want = np.array([darts_params(g, SPACE.proxy_C, SPACE.proxy_N) / 1e6 for g in archs], dtype=np.float64)
    for given in (archs, texts):
        got = SPACE.size(given)
        assert got.dtype == np.float64 and got.shape == (len(archs),)
        np.testing.assert_array_equal(got, want)
    assert SPACE.size([]).shape == (0,)


def test_space_flops_of_and_flops_are_the_proxy_network_macs():
    archs = [DARTS_V2, *_sampled(2, seed=3)]
    want = [float(count_flops(SPACE.build_net(g))) for g in archs]
    assert [SPACE.flops_of(g) for g in archs] == want
    assert SPACE.flops_of(format_genotype(archs[0])) == want[0]
    got = SPACE.flops(archs)
    assert got.dtype == np.float64 and got.tolist() == want
    assert SPACE.provides("flops_of") and SPACE.provides("size")
    # the FLOPs scorer of search now reads the model: same values as counting the proxy net
    assert flops_scorer(SPACE)(archs[:1])[0] == compute_proxy("flops", archs[0], space=SPACE)[0]


def test_building_the_model_leaves_the_global_rng_alone():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    darts_cost_model(12, 3)  # a size no other test builds, so it is measured here
    assert torch.equal(torch.rand(3), expected)


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="layers must be an int >= 3, got 2"):
        darts_cost_model(16, 2)
    with pytest.raises(ValueError, match="C must be an int >= 1"):
        darts_cost_model(0, 8)
    with pytest.raises(ValueError, match="expected a DARTS Genotype or its string, got int"):
        SPACE.size([DARTS_V1, 7])
    with pytest.raises(ValueError, match="malformed DARTS genotype string"):
        SPACE.flops_of("Genotype(")
