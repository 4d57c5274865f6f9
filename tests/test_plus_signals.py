"""TG-NAS+ signals (tgnas.plus.signals) and their combination (tgnas.plus.combine), on a few
NB201 cells with the shipped predictor."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tgnas.plus.combine import MIN_WITHIN, combine, output_columns
from tgnas.plus.rule import equal_rule, stamp_rule
from tgnas.plus.signals import AZ_SIGNALS, KNOWN_SIGNALS, LITE_SIGNALS, az_columns, lite_columns
from tgnas.spaces.catalog import SPACES


def test_signal_names_are_defined_once_and_every_module_uses_them():
    from tgnas.proxies import az_nas_lite
    from tgnas.proxies.az_nas import AZ_COMPONENTS
    from tgnas.experiments.tgnas_plus import signals as paper
    assert AZ_SIGNALS == tuple(f"az_{c}" for c in AZ_COMPONENTS)
    assert KNOWN_SIGNALS == ("tgnas", "params", "flops", *LITE_SIGNALS, *AZ_SIGNALS)
    # the paper-era rule study (notebook 06) combines every signal but flops, which came later
    assert paper.AZ_SIGNALS is AZ_SIGNALS and paper.ALL_SIGNALS == tuple(s for s in KNOWN_SIGNALS if s != "flops")
    assert not hasattr(az_nas_lite, "AZ_SIGNALS")


def test_population_columns_floor_minus_inf():
    lite = pd.DataFrame({"naswot": [1.0, -np.inf, 3.0], "synflow": [0.0, 2.0, -1.0], "seconds": [1, 1, 1]})
    assert lite_columns(lite)["naswot"].tolist() == [1.0, 0.0, 3.0]
    az = pd.DataFrame({c.removeprefix("az_"): [2.0, -np.inf] for c in AZ_SIGNALS})
    assert set(az_columns(az)) == set(AZ_SIGNALS) and az_columns(az)["az_expressivity"].tolist() == [2.0, 1.0]


def test_combine_within_needs_enough_rows():
    rule = equal_rule(("tgnas", "params"))
    t = pd.DataFrame({"tgnas": np.arange(MIN_WITHIN, dtype=float), "params": np.arange(MIN_WITHIN)[::-1] * 1.0})
    assert np.allclose(combine(rule, t, SPACES["nb201"], "within"), 0.0)  # opposite ranks cancel
    with pytest.raises(ValueError, match="needs >= 100"):
        combine(rule, t.iloc[:10], SPACES["nb201"], "within")
    with pytest.raises(ValueError, match="unknown normalise"):
        combine(rule, t, SPACES["nb201"], "ranks")
    assert output_columns(rule) == ("tgnas", "params", "seconds", "plus_score")


def test_signal_table_computes_what_a_rule_names_and_an_az_rule_scores(tmp_path):
    import tgnas
    from tgnas.pretrained import default_checkpoint
    from tgnas.proxies.az_nas_lite import AZ_DEFAULT_LITE, az_nas_lite_signals
    from tgnas.plus.signals import signal_table
    from tgnas.scoring import load_predictor
    from tgnas.spaces.catalog import get_space
    sp = get_space("nb201")
    rng = np.random.default_rng(0)
    archs = [sp.sample(rng) for _ in range(120)]
    pred = load_predictor()
    signals = ("tgnas", "az_expressivity", "naswot", "az_trainability")
    t = signal_table(pred, archs[:3], SPACES["nb201"], signals=signals)
    assert list(t.columns) == [*signals, "seconds"] and (t["seconds"] > 0).all()
    az = az_nas_lite_signals(archs[0], SPACES["nb201"], AZ_DEFAULT_LITE)
    assert t.loc[0, "az_expressivity"] == pytest.approx(az["expressivity"])
    other_seed = signal_table(pred, archs[:3], SPACES["nb201"], signals=("naswot",), seed=1)
    assert not np.allclose(other_seed["naswot"], t["naswot"])  # the seed reaches the lite networks
    with pytest.raises(ValueError, match="unknown TG-NAS\\+ signal"):
        signal_table(pred, archs[:3], SPACES["nb201"], signals=("tgnas", "zico"))
    # a rule over AZ signals, with its own NB201 reference, scores through tgnas.score
    rule = equal_rule(("tgnas", *AZ_SIGNALS))
    ref = signal_table(pred, archs, SPACES["nb201"], signals=rule.signals)
    for s in AZ_SIGNALS:
        ref[s] = np.where(np.isneginf(ref[s]), ref[s][np.isfinite(ref[s])].min() - 1, ref[s])
    rule.add_reference("nb201", ref)
    path = stamp_rule(rule, default_checkpoint()).save(tmp_path / "az_rule.json")
    got = tgnas.score([sp.format(a) for a in archs[:5]], space="nb201", plus=True, rule=path)
    assert list(got.columns) == [*rule.signals, "seconds", "plus_score"]
    np.testing.assert_allclose(got["plus_score"], rule.score(ref.iloc[:5], "nb201"))
