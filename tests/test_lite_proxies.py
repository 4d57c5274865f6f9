"""Lite (reduced-cost) NASWOT/synflow of TG-NAS+: values, orderings, resumable tables."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F

from tgnas import paths
from tgnas.proxies import lite
from tgnas.proxies.lite import (DEFAULT_LITE, LITE_COLUMNS, LiteConfig, benchmark_lite_path, lite_batch,
                                lite_signals, lite_table)
from tgnas.spaces.catalog import SPACES

TINY = LiteConfig(C=4, N=1, batch_size=8)


def cell(op: str) -> str:
    """The NB201 cell with ``op`` on all six edges."""
    return f"|{op}~0|+|{op}~0|{op}~1|+|{op}~0|{op}~1|{op}~2|"


ARCHS = [
    "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|",
    "|avg_pool_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_1x1~0|none~1|nor_conv_3x3~2|",
    "|skip_connect~0|+|nor_conv_3x3~0|none~1|+|avg_pool_3x3~0|nor_conv_1x1~1|skip_connect~2|",
    cell("nor_conv_1x1"),
    "|none~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_3x3~2|",
]


@pytest.fixture(scope="module")
def tiny_batch():
    return lite_batch(TINY)


# --------------------------------------------------------------------------- config


@pytest.mark.parametrize("kwargs, field", [
    (dict(C=0, N=1, batch_size=8), "C"),
    (dict(C=4, N=0, batch_size=8), "N"),
    (dict(C=4, N=1, batch_size=1), "batch_size"),
    (dict(C=4, N=1, batch_size=8, side=30), "side"),
    (dict(C=4, N=1, batch_size=8, side=64), "side"),
    (dict(C=4, N=1, batch_size=8, seed=-1), "seed"),
    (dict(C=4.0, N=1, batch_size=8), "C"),
    (dict(C=4, N=True, batch_size=8), "N"),
])
def test_bad_config_raises(kwargs, field):
    with pytest.raises(ValueError, match=f"LiteConfig.{field}"):
        LiteConfig(**kwargs)


def test_config_key_and_dict():
    cfg = LiteConfig(C=8, N=2, batch_size=32, side=16, seed=3)
    assert cfg.key() == "C8_N2_B32_S16_seed3"
    assert cfg.to_dict() == {"C": 8, "N": 2, "batch_size": 32, "side": 16, "seed": 3}
    assert LiteConfig(**cfg.to_dict()) == cfg
    assert isinstance(DEFAULT_LITE, LiteConfig)


def test_lite_batch_shapes_and_downsampling():
    images32, labels32 = lite_batch(LiteConfig(C=4, N=1, batch_size=8, side=32))
    images16, labels16 = lite_batch(LiteConfig(C=4, N=1, batch_size=8, side=16))
    assert images32.shape == (8, 3, 32, 32) and images16.shape == (8, 3, 16, 16)
    assert labels16.dtype == torch.int64 and torch.equal(labels16, labels32)
    # "area" downsampling by 2 is the 2x2 average of the same images
    assert torch.allclose(images16, F.avg_pool2d(images32, 2), atol=1e-6)


# --------------------------------------------------------------------------- signals


def test_signals_finite_and_deterministic(tiny_batch):
    for arch in ARCHS[:3]:
        a = lite_signals(arch, SPACES["nb201"], TINY, tiny_batch)
        b = lite_signals(arch, SPACES["nb201"], TINY, tiny_batch)
        assert set(a) == {"naswot", "synflow", "seconds"}
        assert math.isfinite(a["naswot"]) and math.isfinite(a["synflow"]) and a["synflow"] > 0
        assert a["seconds"] > 0
        assert (a["naswot"], a["synflow"]) == (b["naswot"], b["synflow"])
    # another init seed gives another synflow (it depends on the weights)
    other = lite_signals(ARCHS[0], SPACES["nb201"], LiteConfig(C=4, N=1, batch_size=8, seed=1))
    assert other["synflow"] != lite_signals(ARCHS[0], SPACES["nb201"], TINY, tiny_batch)["synflow"]


def test_signals_load_batch_when_none(tiny_batch):
    assert (lite_signals(ARCHS[1], SPACES["nb201"], TINY)["naswot"]
            == lite_signals(ARCHS[1], SPACES["nb201"], TINY, tiny_batch)["naswot"])


def test_known_orderings(tiny_batch):
    v = {op: lite_signals(cell(op), SPACES["nb201"], TINY, tiny_batch)
         for op in ("none", "skip_connect", "avg_pool_3x3", "nor_conv_1x1", "nor_conv_3x3")}
    # all-none: the output ignores the input -> no synaptic flow, and every image has the
    # same ReLU codes -> singular NASWOT kernel
    assert v["none"]["synflow"] == 0.0
    assert v["none"]["naswot"] == -math.inf
    # synflow grows with the parameters on the paths: none < skip < conv1x1 < conv3x3
    assert 0 < v["skip_connect"]["synflow"] < v["nor_conv_1x1"]["synflow"] < v["nor_conv_3x3"]["synflow"]
    # cells with convolutions (ReLUs inside) separate the images more than parameter-free ones
    for free in ("skip_connect", "avg_pool_3x3"):
        for conv in ("nor_conv_1x1", "nor_conv_3x3"):
            assert v[free]["naswot"] < v[conv]["naswot"]


def test_signals_wrong_side_raises(tiny_batch):
    with pytest.raises(ValueError, match="expected side 16"):
        lite_signals(ARCHS[0], SPACES["nb201"], LiteConfig(C=4, N=1, batch_size=8, side=16), tiny_batch)


def test_a_space_name_instead_of_the_space_is_refused():
    with pytest.raises(TypeError, match="space object"):
        lite_signals(ARCHS[0], "nb201", TINY)


# --------------------------------------------------------------------------- tables


def test_table_matches_signals(tiny_batch):
    df = lite_table(ARCHS[:2], SPACES["nb201"], TINY, progress=False)
    assert list(df.columns) == list(LITE_COLUMNS) and len(df) == 2
    for i, arch in enumerate(ARCHS[:2]):
        r = lite_signals(arch, SPACES["nb201"], TINY, tiny_batch)
        assert df.loc[i, "naswot"] == r["naswot"] and df.loc[i, "synflow"] == r["synflow"]


def test_table_resumes_from_partial_checkpoint(tmp_path, monkeypatch):
    full = lite_table(ARCHS, SPACES["nb201"], TINY, progress=False)
    out = tmp_path / "lite.npz"
    real = lite.lite_signals
    calls = []

    def crash_after_three(*args, **kwargs):
        if len(calls) == 3:
            raise KeyboardInterrupt("simulated interruption")
        calls.append(args[0])
        return real(*args, **kwargs)

    monkeypatch.setattr(lite, "lite_signals", crash_after_three)
    with pytest.raises(KeyboardInterrupt):
        lite_table(ARCHS, SPACES["nb201"], TINY, out=out, progress=False, checkpoint_every=2)
    assert out.is_file() and not list(tmp_path.glob("*.tmp"))
    with np.load(out) as z:
        assert int(z["done"]) == 2              # the last checkpoint before the crash

    calls.clear()
    monkeypatch.setattr(lite, "lite_signals", lambda *a, **k: (calls.append(a[0]), real(*a, **k))[1])
    resumed = lite_table(ARCHS, SPACES["nb201"], TINY, out=out, progress=False, checkpoint_every=2)
    assert calls == ARCHS[2:]                   # only the missing rows were computed
    np.testing.assert_array_equal(resumed[["naswot", "synflow"]].to_numpy(),
                                  full[["naswot", "synflow"]].to_numpy())
    # a complete file is read back without computing anything
    calls.clear()
    again = lite_table(ARCHS, SPACES["nb201"], TINY, out=out, progress=False)
    assert calls == []
    np.testing.assert_array_equal(again.to_numpy(), resumed.to_numpy())


def test_table_mismatch_raises(tmp_path):
    out = tmp_path / "lite.npz"
    lite_table(ARCHS[:2], SPACES["nb201"], TINY, out=out, progress=False)
    with pytest.raises(ValueError, match="lite.npz.*another run.*config"):
        lite_table(ARCHS[:2], SPACES["nb201"], LiteConfig(C=4, N=1, batch_size=8, seed=1), out=out,
                   progress=False)
    with pytest.raises(ValueError, match="lite.npz.*another run.*archs_sha"):
        lite_table(ARCHS[1:3], SPACES["nb201"], TINY, out=out, progress=False)


def test_bad_checkpoint_every_raises():
    with pytest.raises(ValueError, match="checkpoint_every"):
        lite_table(ARCHS[:1], SPACES["nb201"], TINY, checkpoint_every=0)


def test_nb201_cache_path(monkeypatch, tmp_path):
    monkeypatch.setattr(paths, "LITE_PROXY_DIR", tmp_path / "lite")
    cfg = LiteConfig(C=8, N=1, batch_size=16)
    assert benchmark_lite_path(SPACES["nb201"], cfg) == tmp_path / "lite" / "nb201_lite_C8_N1_B16_S32_seed0.npz"


def test_nb201_lite_table_caches_and_recomputes(monkeypatch, tmp_path):
    import tgnas.spaces.nb201.benchmark as nb201_benchmark

    monkeypatch.setattr(paths, "LITE_PROXY_DIR", tmp_path / "lite")
    # three cells stand in for the 15,625 (the wiring is what is under test)
    monkeypatch.setattr(nb201_benchmark, "cell_ids", lambda: pd.DataFrame(
        {"nb201_index": range(3), "arch": [str(a) for a in ARCHS[:3]]}))
    df = lite.benchmark_lite_table(SPACES["nb201"], TINY, progress=False)
    path = tmp_path / "lite" / f"nb201_lite_{TINY.key()}.npz"
    assert path.is_file() and df.index.name == "nb201_index" and len(df) == 3
    # resume=True reads the cache; resume=False recomputes (same values, new seconds)
    cached = lite.benchmark_lite_table(SPACES["nb201"], TINY, progress=False)
    np.testing.assert_array_equal(cached.to_numpy(), df.to_numpy())
    fresh = lite.benchmark_lite_table(SPACES["nb201"], TINY, resume=False, progress=False)
    np.testing.assert_array_equal(fresh[["naswot", "synflow"]].to_numpy(),
                                  df[["naswot", "synflow"]].to_numpy())
    assert not np.array_equal(fresh["seconds"].to_numpy(), df["seconds"].to_numpy())


def test_a_recorded_table_is_restored_into_an_empty_cache(tmp_path, monkeypatch):
    from tgnas import paths
    from tgnas.proxies import lite

    recorded = tmp_path / "recorded"
    monkeypatch.setattr(paths, "RECORDED_LITE_DIR", recorded)
    archs = ["|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"]
    cfg = lite.LiteConfig(C=4, N=1, batch_size=2, side=8)
    first = lite.lite_table(archs, SPACES["nb201"], cfg, out=recorded / "t.npz", progress=False)
    cache = tmp_path / "cache" / "t.npz"
    assert lite.restore_recorded(cache) and cache.read_bytes() == (recorded / "t.npz").read_bytes()
    assert not lite.restore_recorded(cache)  # an existing cache is never replaced
    again = lite.lite_table(archs, SPACES["nb201"], cfg, out=cache, progress=False)
    assert again.equals(first)
    # a recorded table of another arch list is refused on load, not silently used
    other = tmp_path / "cache2" / "t.npz"
    with pytest.raises(ValueError, match="another run"):
        lite.lite_table(archs * 2, SPACES["nb201"], cfg, out=other, progress=False)


def test_the_recorded_nb201_table_matches_a_recomputation():
    """The committed table of the frozen lite_proxies stage holds what lite_signals gives now."""
    from tgnas import paths
    from tgnas.proxies import lite
    from tgnas.spaces.nb201.benchmark import enumerate_archs

    recorded = paths.RECORDED_LITE_DIR / lite.benchmark_lite_path(SPACES["nb201"]).name
    assert recorded.is_file(), f"{recorded} missing: run `dvc repro --force lite_proxies`"
    with np.load(recorded, allow_pickle=False) as z:
        values, done = z["values"], int(z["done"])
    assert done == 15_625 and values.shape == (15_625, len(lite.LITE_COLUMNS))
    archs = enumerate_archs()
    batch = lite.lite_batch(lite.DEFAULT_LITE)
    for i in (0, 7_000, 15_624):
        r = lite.lite_signals(archs[i], SPACES["nb201"], lite.DEFAULT_LITE, batch)
        for j, col in enumerate(lite.LITE_COLUMNS):
            if col != "seconds":
                assert np.isclose(r[col], values[i, j], rtol=1e-4) or (np.isinf(r[col]) and np.isinf(values[i, j])), (i, col)


def test_a_recorded_az_table_is_restored_into_an_empty_cache(tmp_path, monkeypatch):
    # the AZ-NAS lite tables are recorded too: a fresh clone computing its own under other
    # float kernels got 77 % of the NB201 values different, and other pipeline results
    from tgnas import paths
    from tgnas.proxies import lite
    from tgnas.proxies.az_nas_lite import az_nas_lite_table

    recorded = tmp_path / "recorded"
    monkeypatch.setattr(paths, "RECORDED_LITE_DIR", recorded)
    archs = ["|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"]
    cfg = lite.LiteConfig(C=4, N=1, batch_size=2, side=8)
    first = az_nas_lite_table(archs, SPACES["nb201"], cfg, out=recorded / "az.npz", progress=False)
    # a marker only a restored file can carry: the recorded values are what gets read back
    with np.load(recorded / "az.npz", allow_pickle=False) as z:
        values, done, meta = z["values"].copy(), z["done"], z["meta"]
    values[0, 0] = 123.0
    with open(recorded / "az.npz", "wb") as fh:
        np.savez(fh, values=values, done=done, meta=meta)
    cache = tmp_path / "cache" / "az.npz"
    again = az_nas_lite_table(archs, SPACES["nb201"], cfg, out=cache, progress=False)
    assert cache.read_bytes() == (recorded / "az.npz").read_bytes()
    assert again.iloc[0, 0] == 123.0 and again.iloc[0, 0] != first.iloc[0, 0]


def test_the_recorded_nb201_az_table_matches_a_recomputation():
    """The committed AZ-NAS table of the frozen lite_proxies stage holds what az_nas_lite_signals gives now."""
    from tgnas import paths
    from tgnas.plus.signals import az_config
    from tgnas.proxies.az_nas_lite import AZ_LITE_COLUMNS, az_lite_images, az_nas_lite_signals, benchmark_az_lite_path
    from tgnas.spaces.nb201.benchmark import enumerate_archs

    space = SPACES["nb201"]
    cfg = az_config(space)
    recorded = paths.RECORDED_LITE_DIR / benchmark_az_lite_path(space, cfg).name
    assert recorded.is_file(), f"{recorded} missing: run `dvc repro --force lite_proxies`"
    with np.load(recorded, allow_pickle=False) as z:
        values, done = z["values"], int(z["done"])
    assert done == 15_625 and values.shape == (15_625, len(AZ_LITE_COLUMNS))
    archs, images = enumerate_archs(), az_lite_images(cfg)
    for i in (0, 7_000, 15_624):
        r = az_nas_lite_signals(archs[i], space, cfg, images)
        for j, col in enumerate(AZ_LITE_COLUMNS):
            if col != "seconds":
                assert np.isclose(r[col], values[i, j], rtol=1e-4, atol=1e-6), (i, col, r[col], values[i, j])
