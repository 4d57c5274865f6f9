"""``tgnas train`` / ``tgnas score`` end to end on a sliver of NB101 (one-hot features)."""

from __future__ import annotations

import io

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
    assert capsys.readouterr().out == f"wrote {csv}\n"
    df = pd.read_csv(csv)
    assert list(df.columns) == ["arch", "score"] and df["arch"].tolist() == [arch, worse]
    assert np.all(np.isfinite(df["score"]))
    # without --out: the same CSV, header included, on stdout (it used to be headerless "score<TAB>arch")
    assert main(["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--arch", arch, "--arch", worse,
                 "--device", "cpu"]) == 0
    printed = capsys.readouterr()
    assert printed.out.splitlines()[0] == "arch,score" and printed.err == ""
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(printed.out)), df)


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
    assert "TG-NAS+ (tgnas 0.250" in capsys.readouterr().err
    df = pd.read_csv(csv)
    assert list(df.columns) == ["arch", *SIGNALS, "seconds", "plus_score"]
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


# ----------------------------------------------------------------------------- TG-NAS+ columns

@pytest.fixture(scope="module")
def az_rule(tmp_path_factory):
    """An equal-weight rule over the predictor, #params, lite NASWOT and the AZ-NAS signals, for
    the shipped predictor, with an NB201 reference of 20 sampled cells."""
    from tgnas.plus.rule import equal_rule, stamp_rule
    from tgnas.plus.signals import AZ_SIGNALS, signal_table
    from tgnas.pretrained import default_checkpoint
    from tgnas.scoring import load_predictor
    from tgnas.spaces.catalog import SPACES
    sp = SPACES["nb201"]
    rng = np.random.default_rng(0)
    archs = [sp.sample(rng) for _ in range(20)]
    rule = equal_rule(("tgnas", "params", "naswot", *AZ_SIGNALS))
    ref = signal_table(load_predictor(), archs, sp, signals=rule.signals)
    for s in rule.signals:  # a reference needs finite values
        ref[s] = np.where(np.isneginf(ref[s]), ref[s][np.isfinite(ref[s])].min() - 1, ref[s])
    rule.add_reference("nb201", ref)
    return rule, stamp_rule(rule, default_checkpoint()).save(tmp_path_factory.mktemp("rule") / "az_rule.json")


@pytest.fixture
def few_nb201_cells(monkeypatch, tmp_path):
    """NB201 whose benchmark is 6 seeded cells (ids, graphs), its lite tables computed under tmp_path."""
    from tgnas import paths
    from tgnas.graphs import GraphSet
    from tgnas.spaces.catalog import SPACES
    sp = SPACES["nb201"]
    rng = np.random.default_rng(5)
    archs = [sp.sample(rng) for _ in range(6)]
    ids = pd.DataFrame({"nb201_index": np.arange(6) * 7, "arch": [sp.format(a) for a in archs]})
    monkeypatch.setattr(sp, "cell_ids", lambda: ids.copy())
    monkeypatch.setattr(sp, "cells", lambda form="full": GraphSet.from_graphs([sp.to_graph_form(a, form) for a in archs]))
    monkeypatch.setattr(paths, "LITE_PROXY_DIR", tmp_path / "lite")
    monkeypatch.setattr(paths, "RECORDED_LITE_DIR", tmp_path / "recorded")  # not the real benchmark's tables
    return ids


def test_score_all_plus_writes_every_signal_of_the_rule(az_rule, few_nb201_cells, tmp_path, capsys):
    """--all --plus used to drop the AZ-NAS signals ("table lacks signal columns az_*")."""
    import tgnas
    rule, path = az_rule
    csv = tmp_path / "all.csv"
    assert main(["score", "--space", "nb201", "--all", "--plus", "--rule", str(path), "--out", str(csv),
                 "--quiet", "--device", "cpu"]) == 0
    assert "6 cells" in capsys.readouterr().out
    df = pd.read_csv(csv)
    assert list(df.columns) == ["nb201_index", "arch", *rule.signals, "seconds", "plus_score"]
    assert df["nb201_index"].tolist() == few_nb201_cells["nb201_index"].tolist() and (df["seconds"] > 0).all()
    # the same signals as scoring the cells one by one (lite values from the cached benchmark tables)
    api = tgnas.score(few_nb201_cells["arch"].tolist(), space="nb201", plus=True, rule=path)
    for s in rule.signals:
        a, b = df[s].to_numpy(), api[s].to_numpy()
        ok = np.isfinite(b)  # a population table floors -inf below the rest
        np.testing.assert_allclose(a[ok], b[ok], rtol=1e-5, atol=1e-6)
    if np.isfinite(api[list(rule.signals)].to_numpy()).all():
        np.testing.assert_allclose(df["plus_score"], api["plus_score"], rtol=1e-5, atol=1e-6)
    # a space the rule has no reference for is refused before any network is built
    capsys.readouterr()
    assert main(["score", "--space", "tnb101_macro", "--all", "--plus", "--rule", str(path), "--quiet"]) == 2
    assert "no reference population for space 'tnb101_macro'" in capsys.readouterr().err
    assert main(["score", "--space", "darts", "--all", "--plus", "--rule", str(path), "--quiet"]) == 2
    assert "needs an enumerable space with a network builder" in capsys.readouterr().err


def test_score_archs_and_arch_plus_write_every_signal_of_the_rule(az_rule, tmp_path):
    """--archs FILE --plus used to write the first rules' four signals only, whatever the rule used."""
    rule, path = az_rule
    cells = ["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
             "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|"]
    f = tmp_path / "cells.txt"
    f.write_text("\n".join(cells) + "\n")
    want = [*rule.signals, "seconds", "plus_score"]
    assert main(["score", "--space", "nb201", "--archs", str(f), "--plus", "--rule", str(path),
                 "--out", str(tmp_path / "a.csv"), "--quiet", "--device", "cpu"]) == 0
    a = pd.read_csv(tmp_path / "a.csv")
    assert list(a.columns) == ["line", *want] and a["line"].tolist() == [1, 2]
    assert main(["score", "--space", "nb201", *(x for c in cells for x in ("--arch", c)), "--plus", "--rule",
                 str(path), "--out", str(tmp_path / "b.csv"), "--device", "cpu"]) == 0
    b = pd.read_csv(tmp_path / "b.csv")
    assert list(b.columns) == ["arch", *want]
    np.testing.assert_allclose(a["plus_score"], b["plus_score"], rtol=1e-6)


def test_arch_takes_the_published_names_train_final_takes(capsys):
    """``--arch DARTS_V2`` was refused though ``train-final --genotype DARTS_V2`` accepts it."""
    import tgnas
    from tgnas.spaces.catalog import get_space
    sp = get_space("darts")
    text = sp.format(sp.named_archs["DARTS_V2"])
    assert main(["score", "--space", "darts", "--arch", "DARTS_V2", "--arch", text, "--arch", "darts_v1",
                 "--device", "cpu"]) == 0
    df = pd.read_csv(io.StringIO(capsys.readouterr().out))
    assert df["arch"].tolist() == ["DARTS_V2", text, "darts_v1"]
    assert df["score"][0] == pytest.approx(df["score"][1], rel=1e-5) and df["score"][0] != df["score"][2]
    api = tgnas.score(["DARTS_V2", text], space="darts")
    assert api["score"][1] == pytest.approx(api["score"][0], rel=1e-5) == df["score"][0]
    with pytest.raises(ValueError, match="DARTS_V3"):  # a name that is no published architecture stays an error
        tgnas.score(["DARTS_V3"], space="darts")


def test_readme_docs_and_help_list_the_columns_the_shipped_rule_writes():
    """One set of TG-NAS+ columns everywhere: the ids, every signal of the rule, seconds, plus_score."""
    from tgnas import paths, pretrained
    from tgnas.cli import build_parser
    from tgnas.plus.combine import output_columns
    from tgnas.plus.rule import PlusRule

    rule = PlusRule.load(pretrained.RULE)
    assert output_columns(rule) == (*rule.signals, "seconds", "plus_score")

    def flat(text: str) -> str:
        return " ".join(text.split())

    scoring = flat((paths.PROJECT_ROOT / "docs" / "scoring.md").read_text(encoding="utf-8"))
    assert f"`{', '.join(rule.signals)}`), `seconds`" in scoring and "then `plus_score`" in scoring
    readme = flat((paths.PROJECT_ROOT / "README.md").read_text(encoding="utf-8"))
    assert "every signal the rule uses, `seconds`, `plus_score`" in readme
    assert "ranks architectures within one space" in readme and "scale is arbitrary" in readme  # what a score means
    score_help = flat(build_parser(("score",))._subparsers._group_actions[0].choices["score"].format_help())
    assert "CSV columns: ids, the rule's signals, seconds, plus_score" in score_help
