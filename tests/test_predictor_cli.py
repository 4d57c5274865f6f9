"""``tgnas train`` / ``tgnas score`` end to end on a sliver of NB101 (one-hot features)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tgnas.cli import main


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from tgnas.spaces.nb101.benchmark import load_nb101
    from tgnas.datafiles import DataFileError
    try:
        load_nb101()
    except DataFileError as e:
        pytest.skip(f"NB101 data not available: {e}")
    out = tmp_path_factory.mktemp("cli") / "m.pt"
    rc = main(["train", "--train-space", "nb101", "--fraction", "0.003", "--epochs", "2", "--batch-size", "128",
               "--model", "onehot", "--out", str(out), "--no-progress", "--threads", "1"])
    assert rc == 0 and out.is_file()
    return out


def test_train_writes_a_loadable_checkpoint(checkpoint):
    from tgnas.predictor import Predictor
    p = Predictor.load(checkpoint, device="cpu")
    assert p.config.fraction == 0.003 and p.config.embedding_model == "onehot" and p.config.epochs == 2
    assert len(p.meta["history"]) == 2 and p.meta["best_epoch"] in (1, 2)


def test_score_one_arch_and_a_csv(checkpoint, tmp_path, capsys):
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    worse = "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"
    csv = tmp_path / "s.csv"
    assert main(["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--arch", arch, "--arch", worse,
                 "--out", str(csv), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert arch in printed and worse in printed
    df = pd.read_csv(csv)
    assert list(df.columns) == ["arch", "score"] and df["arch"].tolist() == [arch, worse]
    assert np.all(np.isfinite(df["score"]))


def test_score_errors_are_clear(checkpoint, capsys):
    def error(argv):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("tgnas score: error: ") and err.count("\n") == 1
        return err

    assert "either --all, one or more --arch, or --archs FILE" in error(["score", "--checkpoint", str(checkpoint), "--space",
                                                           "nb201"])
    assert "--all needs an enumerable space" in error(["score", "--checkpoint", str(checkpoint), "--space",
                                                        "darts", "--all"])
    assert "no predictor checkpoint" in error(["score", "--checkpoint", str(checkpoint) + ".missing", "--space",
                                               "nb201", "--arch", "x"])
    with pytest.raises(ValueError, match="either --all"):  # --debug keeps the exception (and its traceback)
        main(["--debug", "score", "--checkpoint", str(checkpoint), "--space", "nb201"])


def test_train_preset_with_overrides(tmp_path):
    from tgnas.predictor import Predictor
    out = tmp_path / "p.pt"
    rc = main(["train", "--preset", "pure", "--fraction", "0.003", "--epochs", "2", "--average-from", "2",
               "--model", "onehot", "--out", str(out), "--no-progress", "--threads", "1"])
    assert rc == 0
    c = Predictor.load(out, device="cpu").config
    # from the preset: graph form, loss, feature dropout; from the flags: the rest
    assert (c.graph_form, c.loss, c.gcn.dropout) == ("contracted", "pairwise", 0.2)
    assert (c.fraction, c.epochs, c.average_from, c.embedding_model) == (0.003, 2, 2, "onehot")
    with pytest.raises(SystemExit):  # argparse: the choices come from the preset registry
        main(["train", "--preset", "nope", "--out", str(tmp_path / "x.pt")])


def test_score_plus_with_a_stamped_rule(checkpoint, tmp_path, capsys):
    from tgnas.plus.rule import equal_rule, stamp_rule
    from tgnas.experiments.tgnas_plus.signals import SIGNALS, nb201_signal_table
    from tgnas.predictor import Predictor
    pred = Predictor.load(checkpoint, device="cpu")
    cells = np.random.default_rng(0).choice(15_625, 40, replace=False)
    rule = equal_rule(SIGNALS)
    rule.add_reference("nb201", nb201_signal_table(pred, cells=cells, progress=False))
    rule_path = stamp_rule(rule, checkpoint).save(tmp_path / "rule.json")
    good = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
    bad = "|none~0|+|none~0|none~1|+|avg_pool_3x3~0|none~1|none~2|"
    csv = tmp_path / "plus.csv"
    assert main(["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--plus", "--rule", str(rule_path),
                 "--arch", good, "--arch", bad, "--out", str(csv), "--device", "cpu"]) == 0
    assert "TG-NAS+ (tgnas 0.250" in capsys.readouterr().out
    df = pd.read_csv(csv)
    assert list(df.columns) == ["arch", *SIGNALS, "plus_score"]
    # more parameters, more NASWOT patterns: the conv cell ranks above the pooled one
    assert df["plus_score"][0] > df["plus_score"][1]
    rule.info["predictor_sha256"] = "0" * 64  # a rule made for some other checkpoint
    wrong = rule.save(tmp_path / "wrong.json")
    assert main(["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--plus", "--rule", str(wrong),
                 "--arch", good]) == 2
    assert "made for another predictor checkpoint" in capsys.readouterr().err
    from tgnas.spaces.darts.arch import DARTS_V2
    # TG-NAS+ scores DARTS cells when the rule has a DARTS reference; this one has only NB201's
    assert main(["score", "--checkpoint", str(checkpoint), "--space", "darts", "--plus", "--rule", str(rule_path),
                 "--arch", str(DARTS_V2)]) == 2
    assert "no reference population for space 'darts'" in capsys.readouterr().err
