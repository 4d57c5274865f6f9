"""``tgnas train`` / ``tgnas score`` end to end on a sliver of NB101 (one-hot features)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tgnas.cli import main


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    from tgnas.benchmarks.nb101 import load_nb101
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


def test_score_errors_are_clear(checkpoint):
    with pytest.raises(ValueError, match="either --all or one or more --arch"):
        main(["score", "--checkpoint", str(checkpoint), "--space", "nb201"])
    with pytest.raises(ValueError, match="--all needs an enumerable space"):
        main(["score", "--checkpoint", str(checkpoint), "--space", "darts", "--all"])
    with pytest.raises(FileNotFoundError, match="no predictor checkpoint"):
        main(["score", "--checkpoint", str(checkpoint) + ".missing", "--space", "nb201", "--arch", "x"])
