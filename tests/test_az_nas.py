"""AZ-NAS components on synthetic features and tiny real networks; rank aggregation; registry."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tgnas.proxies import az_nas as A
from tgnas.proxies import az_nas_lite as AL
from tgnas.proxies import zero_cost as P
from tgnas.proxies.lite import LiteConfig
from tgnas.spaces.darts.arch import DARTS_V2
from tgnas.spaces.catalog import SPACES

CELL = "|nor_conv_3x3~0|+|avg_pool_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
IDENTITY = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"   # cell output = cell input
TINY = LiteConfig(C=4, N=1, batch_size=8, side=16)


@pytest.fixture(scope="module")
def batch():
    return P.random_minibatch(batch_size=8, num_classes=10, seed=0)


def _features(rank: int, c: int = 8, seed: int = 0) -> torch.Tensor:
    """(64, c, 8, 8) features whose channel covariance has ``rank`` equal eigenvalues."""
    g = torch.Generator().manual_seed(seed)
    z = torch.randn(64 * 8 * 8, rank, generator=g, dtype=torch.float64)
    basis = torch.linalg.qr(torch.randn(c, c, generator=g, dtype=torch.float64))[0][:, :rank]
    return (z @ basis.T).reshape(64, 8, 8, c).permute(0, 3, 1, 2).float()


# --------------------------------------------------------------------------- expressivity


def test_expressivity_isotropic_is_log_c_and_rank_one_is_zero():
    iso, r1 = _features(8), _features(1)
    e = A.expressivity_scores([iso, r1])
    assert e[0] == pytest.approx(math.log(8), abs=0.01)      # the maximum for 8 channels
    assert e[1] == pytest.approx(0.0, abs=1e-3)
    assert A.expressivity([iso, r1]) == pytest.approx(e.sum())
    # entropy grows with the number of equal eigenvalues: log(rank)
    assert A.expressivity_scores([_features(2)])[0] == pytest.approx(math.log(2), abs=0.01)


def test_expressivity_of_zero_features_is_minus_inf():
    z = torch.zeros(4, 3, 2, 2)
    assert np.isnan(A.expressivity_scores([z])[0])
    assert A.expressivity([_features(8), z]) == -math.inf


def test_progressivity_sign_and_value():
    rising = [_features(1), _features(2), _features(8)]
    e = A.expressivity_scores(rising)
    assert A.progressivity(rising) == pytest.approx(min(e[1] - e[0], e[2] - e[1]))
    assert A.progressivity(rising) > 0.5
    assert A.progressivity(rising[::-1]) < -0.5
    with pytest.raises(ValueError, match=">= 2 features"):
        A.progressivity([_features(1)])


# --------------------------------------------------------------------------- trainability


def _pair(fn, shape=(64, 4, 16, 16)):
    x = torch.randn(shape, generator=torch.Generator().manual_seed(1), requires_grad=True)
    return [x, fn(x)]


def test_trainability_of_known_jacobians():
    g = torch.Generator().manual_seed(0)
    one = (8, 1, 8, 8)     # one channel: E[g g] = 1 exactly for Rademacher probes, no noise
    # J = -I: sigma = 1, the best score (2 - 1 - 1 = 0)
    assert A.trainability(_pair(lambda x: -x, one), g) == pytest.approx(0.0, abs=1e-5)
    # J = 2I: sigma = 2, score 2 - 2 - 1/2
    assert A.trainability(_pair(lambda x: 2 * x, one), g) == pytest.approx(-0.5, abs=1e-5)
    # 2x2 average pool: space-to-depth stacks four 1/4 entries, sigma = sqrt(4/16) = 1/2
    assert A.trainability(_pair(lambda x: F.avg_pool2d(x, 2), one), g) == pytest.approx(-0.5, abs=1e-5)
    # several channels: the sample covariance of the probes adds a little noise to sigma
    neg = A.trainability(_pair(lambda x: -x), g)
    dbl = A.trainability(_pair(lambda x: 2 * x), g)
    assert neg == pytest.approx(0.0, abs=0.02)
    assert dbl == pytest.approx(-0.5, abs=0.05)
    assert neg > dbl


def test_trainability_identity_is_minus_inf_and_disconnected_is_very_low():
    g = torch.Generator().manual_seed(0)
    assert A.trainability(_pair(lambda x: x * 1.0), g) == -math.inf
    assert A.trainability(_pair(lambda x: x * 0.0), g) < -1e5


# --------------------------------------------------------------------------- aggregation


def test_aggregate_log_ranks_values_ties_and_inf():
    out = A.aggregate_log_ranks({"a": [1.0, 2.0, 3.0]})
    np.testing.assert_allclose(out, np.log([1 / 3, 2 / 3, 1.0]))
    ties = A.aggregate_log_ranks({"a": [5.0, 5.0, 9.0]})
    np.testing.assert_allclose(ties, np.log([1.5 / 3, 1.5 / 3, 1.0]))
    inf = A.aggregate_log_ranks({"a": [-math.inf, 0.0, 1.0]})
    np.testing.assert_allclose(inf, np.log([1 / 3, 2 / 3, 1.0]))
    two = A.aggregate_log_ranks({"a": [1.0, 2.0, 3.0], "b": [3.0, 2.0, 1.0]})
    np.testing.assert_allclose(two, np.log([1 / 3, 2 / 3, 1.0]) + np.log([1.0, 2 / 3, 1 / 3]))
    # a column subset, and ranks do not depend on the scale of a column
    np.testing.assert_allclose(A.aggregate_log_ranks({"a": [1.0, 2.0, 3.0], "b": [0, 0, 1]}, ["a"]), out)
    np.testing.assert_allclose(A.aggregate_log_ranks({"a": [10.0, 200.0, 3000.0]}), out)
    assert (A.aggregate_log_ranks({"a": [3.0, 1.0], "b": [2.0, 0.0]}) == [0.0, math.log(0.25)]).all()


def test_aggregate_log_ranks_rejects_bad_tables():
    with pytest.raises(ValueError, match=r"column 'b' has 1 NaN"):
        A.aggregate_log_ranks({"a": [1.0, 2.0], "b": [1.0, math.nan]})
    with pytest.raises(KeyError, match="no column"):
        A.aggregate_log_ranks({"a": [1.0, 2.0]}, ["c"])
    with pytest.raises(ValueError, match="at least one row"):
        A.aggregate_log_ranks({"a": []})


# --------------------------------------------------------------------------- real networks


def test_components_on_tiny_nb201_network(batch):
    net = P.build_net(CELL, SPACES["nb201"], C=4, N=1)
    assert len(A.feature_modules(net)) == 1 + 3 * 1 + 2          # stem, 3N cells, 2 reductions
    comp = A.az_nas_components(net, batch[0], seed=0)
    assert set(comp) == set(A.AZ_COMPONENTS)
    assert all(math.isfinite(v) for v in comp.values())
    assert comp["complexity"] == P.flops(net, batch[0]) > 0       # complexity is the FLOPs proxy
    assert comp["trainability"] <= 0.0                              # 2 - s - 1/s <= 0


def test_components_deterministic_and_leave_global_rng_alone(batch):
    state = torch.get_rng_state()
    a = A.az_nas_components(P.build_net(CELL, SPACES["nb201"], C=4, N=1), batch[0], seed=3)
    torch.manual_seed(123)                        # a different default init: overwritten
    b = A.az_nas_components(P.build_net(CELL, SPACES["nb201"], C=4, N=1), batch[0], seed=3)
    c = A.az_nas_components(P.build_net(CELL, SPACES["nb201"], C=4, N=1), batch[0], seed=4)
    assert a == b
    assert a["expressivity"] != c["expressivity"] and a["trainability"] != c["trainability"]
    torch.set_rng_state(state)
    before = torch.get_rng_state()
    A.az_nas_components(P.build_net(CELL, SPACES["nb201"], C=4, N=1), batch[0], seed=3)
    AL.az_nas_lite_signals(CELL, SPACES["nb201"], TINY)
    # build_net draws from the global RNG, az_nas_lite_signals must not
    torch.set_rng_state(before)
    AL.az_nas_lite_signals(CELL, SPACES["nb201"], TINY)
    assert torch.equal(torch.get_rng_state(), before)


def test_degenerate_cells_rank_last(batch):
    none = A.az_nas_components(P.build_net(ALL_NONE, SPACES["nb201"], C=4, N=1), batch[0])
    ident = A.az_nas_components(P.build_net(IDENTITY, SPACES["nb201"], C=4, N=1), batch[0])
    assert none["expressivity"] == -math.inf                        # all-zero features
    assert ident["trainability"] == -math.inf                       # identity cells


def test_components_on_tiny_darts_network(batch):
    comp = A.az_nas_components(P.build_net(DARTS_V2, SPACES["darts"], C=4, N=3), batch[0])
    assert all(math.isfinite(v) for v in comp.values())


def test_feature_modules_needs_a_stem_and_a_body():
    with pytest.raises(ValueError, match=r"AZ-NAS needs per-block features of Sequential"):
        A.feature_modules(nn.Sequential(nn.Conv2d(3, 4, 3)))


# --------------------------------------------------------------------------- registry and lite


@pytest.mark.parametrize("comp", ["expressivity", "progressivity", "trainability"])
def test_registry_entries_match_the_module(comp, batch):
    name = f"az_nas_{comp}"
    assert name in P.PROXIES and name in P.DATA_FREE           # noise inputs, as the authors' NB201 code
    value, seconds = P.compute_proxy(name, CELL, SPACES["nb201"], batch=batch, seed=0, C=4, N=1)
    torch.manual_seed(0)                          # what compute_proxy does before building
    net = P.build_net(CELL, SPACES["nb201"], C=4, N=1)
    seed = int(torch.randint(0, 2**62, (1,)))
    assert value == A.az_nas_components(net, A.noise_images(8, 32, seed), seed=seed)[comp]
    assert seconds > 0
    assert P.compute_proxy(name, CELL, SPACES["nb201"], batch=batch, seed=1, C=4, N=1)[0] != value
    # data-free: the images' values do not matter, only their shape (default 64 x 32 x 32)
    assert P.compute_proxy(name, CELL, SPACES["nb201"], batch=(batch[0] * 3.0, batch[1]), seed=0, C=4, N=1)[0] == value
    assert P.compute_proxy(name, CELL, SPACES["nb201"], seed=0, C=4, N=1)[0] != value


def test_noise_images_seeded_and_checked():
    a = A.noise_images(4, 8, seed=1)
    assert a.shape == (4, 3, 8, 8) and a.dtype == torch.float32
    assert torch.equal(a, A.noise_images(4, 8, seed=1)) and not torch.equal(a, A.noise_images(4, 8, seed=2))
    assert abs(float(a.mean())) < 0.2 and float(a.std()) == pytest.approx(1.0, abs=0.15)
    with pytest.raises(ValueError, match="batch_size >= 2"):
        A.noise_images(1, 8)
    with pytest.raises(KeyError, match="unknown AZ-NAS input 'gauss'"):
        AL.az_lite_images(TINY, "gauss")
    assert AL.az_lite_images(TINY, "cifar10").shape == (8, 3, 16, 16)


def test_registry_returns_minus_inf_for_degenerate_cells(batch):
    assert P.compute_proxy("az_nas_expressivity", ALL_NONE, SPACES["nb201"], batch=batch, C=4, N=1)[0] == -math.inf
    with pytest.raises(ValueError, match="non-finite"):          # other proxies still refuse
        P.compute_proxy("naswot", ALL_NONE, SPACES["nb201"], batch=batch, C=4, N=1)      # -inf too


def test_lite_table_resumes_and_refuses_other_runs(tmp_path):
    archs = [CELL, ALL_NONE, IDENTITY]
    out = tmp_path / "az.npz"
    first = AL.az_nas_lite_table(archs, SPACES["nb201"], TINY, out=out, progress=False, checkpoint_every=1)
    assert list(first.columns) == list(AL.AZ_LITE_COLUMNS) and len(first) == 3
    assert first.loc[1, "expressivity"] == -math.inf and first.loc[2, "trainability"] == -math.inf
    again = AL.az_nas_lite_table(archs, SPACES["nb201"], TINY, out=out, progress=False)   # read back
    assert again.equals(first)
    with pytest.raises(ValueError, match="written for another run"):
        AL.az_nas_lite_table(archs, SPACES["nb201"], LiteConfig(C=4, N=1, batch_size=8, side=16, seed=1), out=out,
                            progress=False)
    with pytest.raises(ValueError, match="written for another run"):
        AL.az_nas_lite_table(archs, SPACES["nb201"], TINY, out=out, progress=False, inputs="cifar10")
    # the resumed table equals one computed in a single pass without a file
    assert AL.az_nas_lite_table(archs, SPACES["nb201"], TINY, progress=False).drop(columns="seconds").equals(
        first.drop(columns="seconds"))
    agg = A.aggregate_log_ranks(first, A.AZ_COMPONENTS)
    assert int(np.argmax(agg)) == 0                                # the real cell beats both


def test_lite_signals_check_the_image_size(batch):
    with pytest.raises(ValueError, match="expected side 16"):
        AL.az_nas_lite_signals(CELL, SPACES["nb201"], TINY, batch[0])


def test_benchmark_az_lite_table_caches_per_input(monkeypatch, tmp_path):
    import tgnas.spaces.nb201.benchmark as nb201_benchmark
    from tgnas import paths

    monkeypatch.setattr(paths, "LITE_PROXY_DIR", tmp_path / "lite")
    # three cells stand in for the 15,625 (the wiring is what is under test)
    monkeypatch.setattr(nb201_benchmark, "cell_ids", lambda: pd.DataFrame(
        {"nb201_index": range(3), "arch": [str(a) for a in (CELL, ALL_NONE, IDENTITY)]}))
    nb201 = SPACES["nb201"]
    assert AL.benchmark_az_lite_path(nb201, TINY) == tmp_path / "lite" / f"nb201_az_nas_noise_{TINY.key()}.npz"
    df = AL.benchmark_az_lite_table(nb201, TINY, progress=False)
    assert AL.benchmark_az_lite_path(nb201, TINY).is_file() and df.index.name == "nb201_index" and len(df) == 3
    cached = AL.benchmark_az_lite_table(nb201, TINY, progress=False)
    np.testing.assert_array_equal(cached.to_numpy(), df.to_numpy())
    real = AL.benchmark_az_lite_table(nb201, TINY, inputs="cifar10", progress=False)
    assert AL.benchmark_az_lite_path(nb201, TINY, "cifar10").is_file()
    assert real.loc[0, "expressivity"] != df.loc[0, "expressivity"]
    assert real.loc[0, "complexity"] == df.loc[0, "complexity"]
    with pytest.raises(KeyError, match="unknown AZ-NAS input"):
        AL.benchmark_az_lite_path(nb201, TINY, "imagenet")


def test_default_lite_config_gives_finite_components():
    assert AL.AZ_DEFAULT_LITE.key() == "C8_N1_B16_S16_seed0"
    comp = AL.az_nas_lite_signals(CELL, SPACES["nb201"], AL.AZ_DEFAULT_LITE)
    assert set(comp) == set(AL.AZ_LITE_COLUMNS) and all(math.isfinite(v) for v in comp.values())
