"""Bad, careless and hostile input through the CLI and the API: one-line errors, no lost
results, no code run from a checkpoint, bounded parsers."""

from __future__ import annotations

import errno
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch

from tgnas import numerics
from tgnas import paths
from tgnas.checkpoints import CheckpointError, load_checkpoint_file, save_checkpoint
from tgnas.cli import main
from tgnas.descriptions import parse_op_texts
from tgnas.graphs import GraphSet
from tgnas.plus.rule import PlusRule
from tgnas.pretrained import RULE
from tgnas.predictor import Predictor, TrainConfig, gcn_preset, train
from tgnas.predictor.data import SpaceData
from tgnas.spaces.catalog import get_space
from tgnas.spaces.base import CellGraph
from test_predictor import nb201_conv_count_cells  # seeded NB201 cells labelled by their 3x3-conv count

NB201 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def _error(capsys, argv, command: str) -> str:
    """Run ``tgnas argv``; assert exit status 2 and a one-line ``tgnas <command>: error:`` message."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"tgnas {command}: error: "), err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A one-epoch predictor on 60 random NB201 cells (built-in one-hot features, no data files)."""
    _, graphs, y = nb201_conv_count_cells(60, seed=0)
    cfg = TrainConfig(train_spaces=("nb201",), epochs=1, batch_size=32, embedding_model="onehot",
                      gcn=gcn_preset("upstream", hidden=8))
    out = tmp_path_factory.mktemp("hard") / "m.pt"
    train(cfg, out, data=[SpaceData("nb201", GraphSet.from_graphs(graphs), y)], progress=False)
    return out


# ------------------------------------------------------------------ 1. no code from a checkpoint

class _Payload:
    """Unpickling this touches a marker file: proof that a load ran code."""

    def __init__(self, marker: pathlib.Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def test_a_pickled_payload_is_refused_without_running(tmp_path):
    from tgnas.train.loop import train_final

    marker = tmp_path / "payload-ran"
    run = tmp_path / "run"
    run.mkdir()
    torch.save({"format": 2, "model": _Payload(marker)}, run / "checkpoint.pt")
    with pytest.raises(CheckpointError, match="refused without loading"):
        load_checkpoint_file(run / "checkpoint.pt")
    from tgnas.train.config import preset
    from tgnas.train.data import TensorSplit
    from tgnas.train.loop import FinalTrainData

    cfg = preset("cifar10", "darts").with_overrides(dict(epochs=1, batch_size=8, layers=3, init_channels=4,
                                                         device="cpu", progress=False, amp="off"))
    split = TensorSplit(torch.zeros(16, 3, 32, 32, dtype=torch.uint8), torch.arange(16) % 10, "synthetic")
    with pytest.raises(CheckpointError, match="refused"):
        train_final(cfg, "DARTS_V2", run, resume=True, data=FinalTrainData(split, split, 10, "synthetic"))
    torch.save({"format": "tgnas-predictor", "best": _Payload(marker)}, tmp_path / "p.pt")
    with pytest.raises(CheckpointError, match="refused"):
        Predictor.load(tmp_path / "p.pt")
    assert not marker.exists()


# ------------------------------------------------------------------ 2. never lose a result

def test_train_final_refuses_a_folder_holding_a_run(tmp_path, capsys, monkeypatch):
    import tgnas.train.loop as tloop

    monkeypatch.setattr(tloop, "load_data", lambda cfg: pytest.fail("data loaded before the check"))
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.jsonl").write_text('{"epoch": 1}\n')
    (run / "checkpoint.pt").write_bytes(b"precious")
    err = _error(capsys, ["train-final", "--genotype", "DARTS_V2", "--smoke", "--out", str(run)], "train-final")
    assert "holds a run" in err and "--resume" in err and "--overwrite" in err
    assert (run / "log.jsonl").read_text() == '{"epoch": 1}\n' and (run / "checkpoint.pt").read_bytes() == b"precious"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "log.jsonl"]


def test_train_refuses_an_existing_checkpoint(tmp_path, capsys, monkeypatch):
    import importlib

    ptrain = importlib.import_module("tgnas.predictor.train")  # (the package exports a function of that name)
    monkeypatch.setattr(ptrain, "load_space_data", lambda *a, **k: pytest.fail("data loaded before the check"))
    out = tmp_path / "m.pt"
    out.write_bytes(b"trained")
    err = _error(capsys, ["train", "--out", str(out), "--epochs", "1"], "train")
    assert "already exists" in err and out.read_bytes() == b"trained"
    assert "--resume" in _error(capsys, ["train", "--out", str(tmp_path / "none.pt"), "--resume"], "train")
    # into a path below a file: fails before any data is loaded
    assert "is a file" in _error(capsys, ["train", "--out", str(out / "x.pt")], "train")


def test_score_out_refuses_existing_files_and_the_checkpoint(checkpoint, tmp_path, capsys):
    before = checkpoint.read_bytes()
    base = ["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--arch", NB201, "--device", "cpu"]
    assert "checkpoint being read" in _error(capsys, [*base, "--out", str(checkpoint)], "score")
    assert "checkpoint being read" in _error(capsys, [*base, "--out", str(checkpoint), "--overwrite"], "score")
    assert checkpoint.read_bytes() == before
    csv = tmp_path / "s.csv"
    csv.write_text("mine\n")
    assert "already exists" in _error(capsys, [*base, "--out", str(csv)], "score")
    assert csv.read_text() == "mine\n"
    assert main([*base, "--out", str(csv), "--overwrite"]) == 0
    assert csv.read_text().startswith("arch,score") and not list(tmp_path.glob(".*tmp*"))


def test_search_json_and_embed_out_refuse_existing_files(tmp_path, capsys, monkeypatch):
    import tgnas.search.scorers as search

    monkeypatch.setattr(search, "make_scorer", lambda *a, **k: pytest.fail("searched before the check"))
    js = tmp_path / "r.json"
    js.write_text("{}")
    assert "already exists" in _error(capsys, ["search", "--space", "nb201", "--scorer", "flops", "--json",
                                               str(js)], "search")
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert "is a file" in _error(capsys, ["search", "--space", "nb201", "--scorer", "flops", "--json",
                                          str(blocker / "r.json")], "search")
    npz = tmp_path / "e.npz"
    npz.write_bytes(b"x")
    assert "already exists" in _error(capsys, ["embed", "--model", "onehot", "--space", "nb201", "--out",
                                               str(npz)], "embed")
    assert npz.read_bytes() == b"x"


def test_a_failed_checkpoint_write_leaves_no_temp_file(tmp_path):
    out = tmp_path / "c.pt"
    save_checkpoint({"w": torch.ones(2)}, out)
    before = out.read_bytes()
    with pytest.raises(Exception):
        save_checkpoint({"w": torch.ones(2), "bad": lambda: 0}, out)  # a lambda cannot be saved
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]


# ------------------------------------------------------------------ 3. --describe is checked

def test_describe_parsing_is_strict_and_shared():
    from tgnas.cli import embed as cli_embed
    from tgnas.cli import score as cli_score

    assert parse_op_texts(["my_op=Conv 7 by 7", "x=a=b"]) == {"my_op": "Conv 7 by 7", "x": "a=b"}
    for bad, msg in ((" nor_conv_3x3 =conv", "contains spaces"), ("=text", "OP=TEXT"), ("op=", "OP=TEXT"),
                     ("noequals", "OP=TEXT")):
        with pytest.raises(ValueError, match=msg):
            parse_op_texts([bad])
    with pytest.raises(ValueError, match="described twice"):
        parse_op_texts(["a=x", "a=y"])
    assert cli_embed.parse_op_texts is cli_score.parse_op_texts is parse_op_texts


def test_describe_naming_an_absent_op_is_an_error(checkpoint, capsys):
    base = ["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--arch", NB201, "--device", "cpu"]
    err = _error(capsys, [*base, "--describe", "nor_conv3x3=a 3 by 3 convolution"], "score")
    assert "'nor_conv3x3'" in err and "'nor_conv_3x3'" in err and "'skip_connect'" in err
    assert "contains spaces" in _error(capsys, [*base, "--describe", " nor_conv_3x3 =conv"], "score")
    p = Predictor.load(checkpoint, device="cpu")
    with pytest.raises(ValueError, match="do not occur in the scored architectures"):
        p.score([NB201], space=get_space("nb201"), descriptions={"avg_pool_3x3": "average pooling"})


# ------------------------------------------------------------------ 4. bounded parsers

@pytest.mark.parametrize("text", [
    "Genotype(normal=[], normal_concat=range(0, 10**12), reduce=[], reduce_concat=[])",
    "Genotype(normal=[], normal_concat=range(0, 1000000000000), reduce=[], reduce_concat=[])",
    "Genotype(normal=" + "1+" * 1900 + "1, reduce=[])",
    "Genotype(normal=" + "[" * 1000 + "]" * 1000 + ", reduce=[])",
    "Genotype(normal=[('x', 0)] * 1000, reduce=[])",
    "Genotype(normal=[" + "('sep_conv_3x3', 0), " * 1000 + "], reduce=[])",
])
def test_darts_parser_bounds(text):
    t0 = time.perf_counter()
    with pytest.raises(ValueError) as err:
        get_space("darts").parse(text)
    assert time.perf_counter() - t0 < 2.0 and len(str(err.value)) < 600


@pytest.mark.parametrize("space", ["nb101", "nb201", "darts"])
def test_huge_inputs_give_short_errors(space):
    text = "|nor_conv_3x3~0|+" * 600_000  # 10 MB
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="characters long") as err:
        get_space(space).parse(text)
    assert time.perf_counter() - t0 < 1.0 and len(str(err.value)) < 500


def test_range_concats_still_parse():
    g = get_space("darts").parse("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), "
                                 "('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), "
                                 "('skip_connect', 2)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), "
                                 "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
                                 "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], "
                                 "reduce_concat=range(2, 6))")
    assert g.normal_concat == (2, 3, 4, 5)


# ------------------------------------------------------------------ 5. one handler

def test_every_command_reports_bad_input_in_one_line(checkpoint, tmp_path, capsys):
    _error(capsys, ["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--arch", "|bogus~0|"], "score")
    _error(capsys, ["score", "--checkpoint", str(tmp_path / "none.pt"), "--space", "nb201", "--all"], "score")
    _error(capsys, ["train", "--out", str(tmp_path / "a.pt"), "--fraction", "2"], "train")
    _error(capsys, ["search", "--space", "nb201", "--checkpoint", str(tmp_path / "none.pt")], "search")
    _error(capsys, ["train-final", "--genotype", "Genotype(normal=[])", "--out", str(tmp_path / "r")],
           "train-final")
    _error(capsys, ["embed", "--model", "onehot", "--describe", "novel=x"], "embed")


def test_unexpected_errors_keep_their_traceback_and_debug_shows_all(monkeypatch, tmp_path):
    import tgnas.cli.train as cp

    def boom(args):
        raise RuntimeError("a bug")

    monkeypatch.setattr(cp, "_cmd_train", boom)
    with pytest.raises(RuntimeError, match="a bug"):
        main(["train", "--out", str(tmp_path / "x.pt")])
    monkeypatch.undo()
    with pytest.raises(ValueError, match="fraction"):
        main(["--debug", "train", "--out", str(tmp_path / "x.pt"), "--fraction", "2"])


# ------------------------------------------------------------------ 6. the smaller ones

class _Tiny:
    """A toy space of 20 cells (numbers), for budget tests."""

    name = "tiny"
    n_archs = None

    def sample(self, rng):
        return int(rng.integers(0, 20))

    def validate(self, arch):
        return arch

    def format(self, arch):
        return str(arch)


def test_random_search_stops_when_the_space_is_exhausted():
    from tgnas.search.random_search import random_search

    t0 = time.perf_counter()
    res = random_search(_Tiny(), lambda archs: np.asarray(archs, dtype=float), budget=10**9, progress=False)
    assert res.n_distinct == 20 and res.arch == 19 and time.perf_counter() - t0 < 5
    sized = _Tiny()
    sized.n_archs = 5  # a space that states its size: the budget is capped at it
    res = random_search(sized, lambda archs: np.asarray(archs, dtype=float), budget=10**9, progress=False)
    assert res.n_distinct == 5


def test_batch_size_is_validated(checkpoint, capsys):
    p = Predictor.load(checkpoint, device="cpu")
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            p.score([NB201], space=get_space("nb201"), batch_size=bad)
    with pytest.raises(SystemExit) as ex:
        main(["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--arch", NB201, "--batch-size", "0"])
    assert ex.value.code == 2 and "positive integer" in capsys.readouterr().err


def test_nan_weights_and_flipped_bits_are_named(checkpoint, tmp_path, capsys):
    ck = load_checkpoint_file(checkpoint)
    name = next(k for k, v in ck["best"]["model_state"].items() if v.is_floating_point())
    ck["best"]["model_state"][name] = ck["best"]["model_state"][name].clone().fill_(float("nan"))
    save_checkpoint(ck, tmp_path / "nan.pt")
    err = _error(capsys, ["score", "--checkpoint", str(tmp_path / "nan.pt"), "--space", "nb201", "--arch", NB201],
                 "score")
    assert "non-finite" in err and name in err

    ck = load_checkpoint_file(checkpoint)
    w = ck["model_state"][name]
    w.view(torch.int32).view(-1)[0] ^= 1  # one bit of one weight
    torch.save(ck, tmp_path / "flip.pt")  # the stored digest is the original's
    with pytest.raises(CheckpointError, match="damaged"):
        Predictor.load(tmp_path / "flip.pt", which="last")


def test_data_check_reports_every_file_and_goes_on(monkeypatch, capsys):
    from tgnas import datafiles
    from tgnas.cli import data as cli_data

    first = datafiles.FILES[0]
    real = datafiles.status

    def status(entry, root=None):  # datafiles.status's signature
        if entry is first:
            raise PermissionError(13, "Permission denied")
        return real(entry, root)

    monkeypatch.setattr(datafiles, "status", status)
    ok = cli_data.check_data()
    out = capsys.readouterr().out
    assert not ok if first.required else True
    assert "unreadable" in out and "Permission denied" in out
    assert all(e.relpath in out for e in datafiles.FILES)


def test_cellgraph_rejects_bad_adjacency_and_empty_graphs():
    with pytest.raises(ValueError, match="0 or 1"):
        CellGraph(np.array([[0, 2], [0, 0]]), ("input", "output"))
    with pytest.raises(ValueError, match="0 or 1"):
        CellGraph(np.array([[0, 0.5], [0, 0]]), ("input", "output"))
    with pytest.raises(ValueError, match="at least one node"):
        CellGraph(np.zeros((0, 0)), ())
    assert CellGraph(np.array([[0, True], [0, 0]]), ("input", "output")).adjacency.dtype == np.uint8


def test_embedding_cache_follows_the_output_root(tmp_path, monkeypatch):
    from tgnas import embeddings as emb

    class Fake:
        def encode(self, texts, **kw):
            return np.ones((len(texts), 384), dtype=np.float32)

    monkeypatch.setattr(paths, "OUTPUT_ROOT", tmp_path / "out")
    monkeypatch.setattr(paths, "CACHE_DIR", tmp_path / "project-cache")
    monkeypatch.setattr(emb, "_load_sentence_model", lambda model: Fake())
    monkeypatch.setattr(emb, "_resolve_source", lambda model: ("fake", "fake-key"))
    emb._embed_base(["a brand-new operator"], "minilm", emb.default_cache_dir())
    assert (tmp_path / "out" / "data" / "cache" / "embeddings" / f"fake-key-{emb.ENCODING_PROTOCOL}-{numerics.key()}.npz").is_file()
    assert not (tmp_path / "project-cache").exists()


def test_train_flags_come_from_trainconfig():
    from dataclasses import fields

    from tgnas.cli import build_parser
    from tgnas.predictor.presets import TRAIN_PRESETS

    train_parser = build_parser()._subparsers._group_actions[0].choices["train"]
    dests = {a.dest for a in train_parser._actions}
    assert {f"cfg_{f.name}" for f in fields(TrainConfig)} <= dests
    help_text = train_parser.format_help()
    assert all(p in help_text for p in TRAIN_PRESETS)
    args = train_parser.parse_args(["--out", "x.pt", "--step-size", "7", "--gcn", "paper", "--train-space", "nb101",
                                    "--train-space", "nb201", "--monitor-nb201"])
    args.preset = None
    from tgnas.cli.train import _train_config
    cfg = _train_config(args)
    assert (cfg.step_size, cfg.gcn, cfg.train_spaces, cfg.monitor_nb201) == (7, gcn_preset("paper"),
                                                                               ("nb101", "nb201"), True)
    assert replace(cfg, step_size=40, gcn=gcn_preset("upstream"), train_spaces=("nb101",),
                   monitor_nb201=False) == TrainConfig()


# ------------------------------------------------------------------ 7. outputs that are inputs, sizes that cannot fit

def test_score_out_is_never_an_input_even_with_overwrite(checkpoint, tmp_path, capsys, monkeypatch):
    archs = tmp_path / "a.txt"
    archs.write_text(NB201 + "\n")
    (tmp_path / "link.txt").symlink_to(archs)
    rule = tmp_path / "rule.json"
    rule.write_text("{}")
    base = ["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--overwrite"]
    for out in (archs, tmp_path / "link.txt"):
        err = _error(capsys, [*base, "--archs", str(archs), "--out", str(out)], "score")
        assert "is the --archs file being read" in err
    err = _error(capsys, [*base, "--archs", str(archs), "--plus", "--rule", str(rule), "--out", str(rule)], "score")
    assert "is the TG-NAS+ rule being read" in err
    with open(archs) as stdin:  # --archs - < a.txt --out a.txt
        monkeypatch.setattr(sys, "stdin", stdin)
        assert "standard input" in _error(capsys, [*base, "--archs", "-", "--out", str(archs)], "score")
    assert archs.read_text() == NB201 + "\n" and rule.read_text() == "{}"
    assert "is a device" in _error(capsys, [*base, "--arch", NB201, "--out", os.devnull], "score")
    assert "is a folder" in _error(capsys, [*base, "--arch", NB201, "--out", str(tmp_path)], "score")


def test_search_json_is_never_an_input_and_a_huge_pool_is_refused(checkpoint, tmp_path, capsys, monkeypatch):
    import tgnas.search.scorers as scorers
    from tgnas.search.cascade import MAX_POOL, cascade_pool

    monkeypatch.setattr(scorers, "make_scorer", lambda *a, **k: pytest.fail("searched before the check"))
    before = checkpoint.read_bytes()
    base = ["search", "--space", "nb201", "--checkpoint", str(checkpoint), "--overwrite"]
    assert "is the checkpoint being read" in _error(capsys, [*base, "--json", str(checkpoint)], "search")
    rule = tmp_path / "rule.json"
    rule.write_text("{}")
    err = _error(capsys, [*base, "--scorer", "tgnas+", "--rule", str(rule), "--json", str(rule)], "search")
    assert "is the TG-NAS+ rule being read" in err
    assert checkpoint.read_bytes() == before and rule.read_text() == "{}"
    err = _error(capsys, ["search", "--space", "darts", "--algorithm", "cascade", "--scorer", "tgnas+",
                          "--pool", str(10**10)], "search")
    assert f"at most {MAX_POOL:,}" in err
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="cannot be held in memory"):
        cascade_pool(get_space("darts"), 10**10)
    assert time.perf_counter() - t0 < 1


@pytest.mark.parametrize("field, value", [("in_dim", 20_000_000), ("in_dim", 10**13), ("hidden", 10**9)])
def test_a_checkpoint_whose_sizes_cannot_fit_is_refused_before_allocating(checkpoint, tmp_path, capsys, field, value):
    ck = load_checkpoint_file(checkpoint)
    if field == "in_dim":
        ck["in_dim"] = value
    else:
        ck["config"]["gcn"]["hidden"] = value
    save_checkpoint(ck, tmp_path / "big.pt")
    t0 = time.perf_counter()
    err = _error(capsys, ["score", "--checkpoint", str(tmp_path / "big.pt"), "--space", "nb201", "--arch", NB201],
                 "score")
    assert time.perf_counter() - t0 < 2
    # (the checkpoint reader names the table's shape against in_dim before the network is built)
    assert (f"in_dim) = (7, {value}), got (7, 20)" in err if field == "in_dim"
            else f"layer convs.0.weight needs shape (21, {value}), the file holds (21, 8)" in err), err


# ------------------------------------------------------------------ 8. bad lines skipped one by one

def test_skip_bad_skips_each_bad_csv_line_and_keeps_the_good_ones(checkpoint, tmp_path, capsys):
    f = tmp_path / "a.csv"
    # line 3: a quote left open; line 5: a 200,000-character field (beyond the csv module's limit)
    f.write_text(f"arch\n{NB201}\n\"{NB201}\n{NB201}\n" + "x" * 200_000 + f"\n{NB201}\n")
    out = tmp_path / "s.csv"
    assert main(["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--archs", str(f), "--out", str(out),
                 "--skip-bad"]) == 0
    err = capsys.readouterr().err
    assert "skipped 2 bad architecture(s)" in err and f"{f} line 3: bad CSV row" in err and f"{f} line 5" in err
    assert pd.read_csv(out)["line"].tolist() == [2, 4, 6]


def test_skip_bad_skips_a_cell_whose_operator_nobody_describes(capsys, tmp_path):
    import tgnas

    good = {"nodes": ["input", "conv3x3-bn-relu", "output"], "edges": [[0, 1], [1, 2]]}
    bad = {"nodes": ["input", "weird_op", "output"], "edges": [[0, 1], [1, 2]]}
    f = tmp_path / "c.jsonl"
    f.write_text("".join(json.dumps(bad if k in (2, 5, 8) else good) + "\n" for k in range(10)))
    assert main(["score", "--space", "cell", "--archs", str(f), "--out", str(tmp_path / "s.csv"), "--skip-bad"]) == 0
    err = capsys.readouterr().err
    assert "skipped 3 bad architecture(s)" in err and f"{f} line 3: no description for operator(s) ['weird_op']" in err
    assert pd.read_csv(tmp_path / "s.csv")["id"].tolist() == [1, 2, 4, 5, 7, 8, 10]
    err = _error(capsys, ["score", "--space", "cell", "--archs", str(f)], "score")
    assert f"{f} line 3: no description for operator(s) ['weird_op']" in err and "--describe" in err
    described = tgnas.score([bad], space="cell", descriptions={"weird_op": "a 3 by 3 convolution"})
    assert np.isfinite(described["score"]).all()


# ------------------------------------------------------------------ 9. signals and full devices

def _cli_process(*argv: str, **kw) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "tgnas", *argv], cwd=paths.PROJECT_ROOT, env=env, text=True,
                            **kw)


def test_sigterm_during_score_out_removes_the_temporary_file(checkpoint, tmp_path):
    out = tmp_path / "s.csv"
    out.write_text("finished work\n")
    proc = _cli_process("score", "--checkpoint", str(checkpoint), "--space", "nb201", "--archs", "-", "--out", str(out),
                        "--overwrite", stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdin.write(NB201 + "\n")
    proc.stdin.flush()  # stdin stays open: the command waits for more lines while --out is being written
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".s.*.tmp.csv")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "slow"
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    assert proc.stderr.read() == "tgnas score: terminated by SIGTERM\n"
    proc.stdin.close()
    proc.stdout.close()
    proc.stderr.close()
    assert out.read_text() == "finished work\n" and sorted(p.name for p in tmp_path.iterdir()) == ["s.csv"]


def test_only_the_command_line_turns_signals_into_exceptions():
    import argparse

    from tgnas.cli.guard import Terminated, run_command

    before = signal.getsignal(signal.SIGTERM)
    inside = []

    def command(args):
        inside.append(signal.getsignal(signal.SIGTERM))
        with pytest.raises(Terminated):
            signal.raise_signal(signal.SIGTERM)
        return 3

    assert run_command(command, argparse.Namespace()) == 3
    assert inside[0] is not before and signal.getsignal(signal.SIGTERM) is before


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_stdout_is_one_error_line(checkpoint):
    with open("/dev/full", "w") as full:
        proc = _cli_process("score", "--checkpoint", str(checkpoint), "--space", "nb201", "--arch", NB201,
                            stdout=full, stderr=subprocess.PIPE)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and err == "tgnas score: error: cannot write to standard output: No space left on device\n"


def test_a_full_disk_under_score_out_is_one_error_line(checkpoint, tmp_path, capsys, monkeypatch):
    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    f = tmp_path / "a.txt"
    f.write_text(NB201 + "\n")
    monkeypatch.setattr(pd.DataFrame, "to_csv", no_room)
    err = _error(capsys, ["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--archs", str(f), "--out",
                          str(tmp_path / "s.csv")], "score")
    assert f"cannot write --out {tmp_path / 's.csv'}: No space left on device; nothing was written" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]
def test_errors_name_the_flags_not_the_python_options(checkpoint, tmp_path, capsys):
    """The command line said "use normalise='reference'" and "ask to overwrite"."""
    from tgnas.fileio import OutputExistsError, check_output
    from tgnas.plus.combine import NormaliseError, check_normalise

    base = ["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--arch", NB201, "--device", "cpu"]
    csv = tmp_path / "s.csv"
    csv.write_text("mine\n")
    err = _error(capsys, [*base, "--out", str(csv)], "score")
    assert "--overwrite" in err and "overwrite=True" not in err and "ask to" not in err
    run = tmp_path / "run"
    run.mkdir()
    (run / "log.jsonl").write_text("{}\n")
    err = _error(capsys, ["train-final", "--genotype", "DARTS_V2", "--smoke", "--out", str(run)], "train-final")
    assert "--resume" in err and "--overwrite" in err and "=True" not in err
    err = _error(capsys, ["score", "--space", "nb201", "--arch", NB201, "--plus", "--normalise", "within"], "score")
    assert "--normalise reference" in err and "normalise=" not in err
    # the library's own messages keep the Python spelling
    with pytest.raises(OutputExistsError, match="overwrite=True"):
        check_output(csv)
    with pytest.raises(NormaliseError, match="'reference'"):
        check_normalise("ranks")
    assert "--normalise reference" in NormaliseError("use normalise='reference'").for_command_line()


# ------------------------------------------------------------------ 7. the hostile-input probe's cases

def _argparse_error(capsys, argv, flag: str) -> str:
    """``tgnas argv`` refused by argparse (exit 2) with a short message naming ``flag``."""
    with pytest.raises(SystemExit) as ex:
        main(argv)
    err = capsys.readouterr().err
    line = err.strip().splitlines()[-1]  # after argparse's usage
    assert ex.value.code == 2 and line.startswith("tgnas ") and f"argument {flag}:" in line, err
    assert "Traceback" not in err and len(line) < 300, line
    return line


def test_threads_seeds_and_huge_integers_are_refused_naming_the_flag(checkpoint, capsys):
    """--threads -1/-100 gave a RuntimeError, 100000 a segmentation fault; --seed 2**64 "Overflow
    when unpacking long long"; a 5,000-digit integer was echoed whole."""
    from tgnas import runtime
    from tgnas.cli import args

    assert args.MAX_THREADS == runtime.MAX_THREADS and args._MAX_SEED == runtime.MAX_SEED
    base = ["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--arch", NB201]
    for bad in ("-1", "-100", "100000", "two"):
        assert "thread count" in _argparse_error(capsys, [*base, "--threads", bad], "--threads")
    huge = "7" * 5000
    for argv, flag in ((["train", "--out", "x.pt", "--seed", "-1"], "--seed"),
                       (["train", "--out", "x.pt", "--seed", str(2**64)], "--seed"),
                       (["train", "--out", "x.pt", "--epochs", huge], "--epochs"),
                       (["search", "--space", "nb201", "--seed", "-1"], "--seed"),
                       (["search", "--space", "nb201", "--budget", huge], "--budget")):
        err = _argparse_error(capsys, argv, flag)
        assert "expected" in err and "5,000 characters" in err if argv[-1] == huge else "0..2**63-1" in err
    err = _error(capsys, ["train-final", "--genotype", "DARTS_V2", "--out", "o", "--epochs", huge], "train-final")
    assert "--epochs must be an int" in err and len(err) < 300
    assert "--seed must be an integer in 0..2**63-1" in _error(
        capsys, ["train-final", "--genotype", "DARTS_V2", "--out", "o", "--seed", str(2**64)], "train-final")
    assert "--cpu-threads must be 0" in _error(
        capsys, ["train-final", "--genotype", "DARTS_V2", "--out", "o", "--cpu-threads", "100000"], "train-final")
    with pytest.raises(ValueError, match="seed must be an integer in 0..2"):
        runtime.set_seed(2**64)


def test_learning_rates_margins_and_devices_name_the_flag(checkpoint, tmp_path, capsys):
    """--margin nan trained on; --lr -1 / nan and --device evil were tracebacks or named no flag."""
    out = str(tmp_path / "m.pt")
    for flag, value, expected in (("--margin", "nan", "--margin must be a finite number >= 0, got nan"),
                                  ("--lr", "-1", "--lr must be a finite number > 0, got -1.0"),
                                  ("--lr", "nan", "--lr must be a finite number > 0, got nan"),
                                  ("--weight-decay", "inf", "--weight-decay must be a finite number >= 0")):
        assert expected in _error(capsys, ["train", "--out", out, flag, value], "train")
    assert not (tmp_path / "m.pt").exists()
    for value in ("nan", "-1", "0"):
        assert "--lr must be a finite number > 0" in _error(
            capsys, ["train-final", "--genotype", "DARTS_V2", "--out", str(tmp_path / "r"), "--lr", value],
            "train-final")
    err = _error(capsys, ["score", "--checkpoint", str(checkpoint), "--space", "nb201", "--arch", NB201,
                          "--device", "evil"], "score")
    assert "--device must be 'auto', 'cpu', 'cuda'" in err and "'evil'" in err
    with pytest.raises(ValueError, match="margin must be a finite number"):
        TrainConfig(margin=float("nan"))


def test_params_files_name_themselves_and_refuse_python_tags(tmp_path, capsys):
    tagged = tmp_path / "tagged.yaml"
    tagged.write_text("final_training:\n  epochs: !!python/object/apply:os.system ['echo owned']\n")
    err = _error(capsys, ["train-final", "--genotype", "DARTS_V2", "--out", str(tmp_path / "r"), "--params",
                          str(tagged)], "train-final")
    assert "not plain YAML (line 2)" in err and str(tagged) in err
    bad_lr = tmp_path / "lr.yaml"
    bad_lr.write_text("final_training:\n  lr: .nan\n")
    err = _error(capsys, ["train-final", "--genotype", "DARTS_V2", "--out", str(tmp_path / "r"), "--params",
                          str(bad_lr)], "train-final")
    assert f"--params {bad_lr}: final_training.lr must be a finite number > 0" in err


def _with(checkpoint, tmp_path, name: str, change) -> pathlib.Path:
    """A copy of ``checkpoint`` changed by ``change(ckpt)``, saved with a fresh digest."""
    ck = load_checkpoint_file(checkpoint)
    change(ck)
    return save_checkpoint(ck, tmp_path / name)


@pytest.mark.parametrize("name, change, expected", [
    ("nan_table", lambda ck: ck["embedding_table"].view(-1).__setitem__(0, float("nan")),
     "'embedding_table' hold 1 non-finite value"),
    ("inf_table", lambda ck: ck["embedding_table"].view(-1).__setitem__(3, float("inf")),
     "'embedding_table' hold 1 non-finite value"),
    ("int_vocab", lambda ck: ck.__setitem__("vocab", 7), "vocab must be a list of distinct operator names, got 7"),
    ("3d_table", lambda ck: ck.__setitem__("embedding_table", ck["embedding_table"][None]),
     "embedding_table must be a float tensor of shape (len(vocab), in_dim)"),
    ("narrow_table", lambda ck: ck.__setitem__("embedding_table", ck["embedding_table"][:, :3]),
     "embedding_table must be a float tensor of shape (len(vocab), in_dim)"),
    ("list_config", lambda ck: ck.__setitem__("config", [1, 2]), "config must be a dict, got list"),
])
def test_checkpoints_with_bad_vocab_or_embedding_tables_are_refused(checkpoint, tmp_path, capsys, name, change,
                                                                     expected):
    """A NaN embedding row scored NaN with exit 0; an int vocabulary or a 3-wide table was a traceback."""
    bad = _with(checkpoint, tmp_path, f"{name}.pt", change)
    err = _error(capsys, ["score", "--checkpoint", str(bad), "--space", "nb201", "--arch", NB201], "score")
    assert expected in err


def test_a_checkpoint_without_its_digest_is_refused(checkpoint, tmp_path, capsys):
    """Altered weights re-saved with plain torch.save (no digest) used to load."""
    ck = load_checkpoint_file(checkpoint)
    del ck["digest"]
    name = next(k for k, v in ck["best"]["model_state"].items() if v.is_floating_point())
    ck["best"]["model_state"][name] = ck["best"]["model_state"][name] * 2
    torch.save(ck, tmp_path / "altered.pt")
    err = _error(capsys, ["score", "--checkpoint", str(tmp_path / "altered.pt"), "--space", "nb201", "--arch",
                          NB201], "score")
    assert "has no digest" in err and "refused" in err


def _shipped_rule() -> dict:
    import json

    from tgnas import pretrained
    return json.loads(pretrained.RULE.read_text())


def _set(path: str, value):
    """``change(rule_dict)`` setting the dotted ``path`` to ``value``."""
    def change(d):
        *parents, last = path.split(".")
        for p in parents:
            d = d[p]
        d[last] = value(d[last]) if callable(value) else value
    return change


@pytest.mark.parametrize("change, expected", [
    (lambda d: [d], "a rule must be an object, got list"),
    (_set("weights", {"tgnas": 1.0}), "weights must be a list of numbers, got dict"),
    (_set("references.darts", [[1.0, 2.0]]), "references.darts must be an object, got list"),
    (_set("references.darts.tgnas", []), "references.darts.tgnas: quantiles must be >= 2 finite numbers"),
    (_set("references.darts.tgnas", [1.0]), "references.darts.tgnas: quantiles must be >= 2 finite numbers"),
    (_set("references.nb201.naswot", lambda q: [float("nan")] + q[1:]), "references.nb201.naswot: quantiles"),
    (_set("references.nb201.tgnas", lambda q: q[::-1]), "(value 1 is below value 0)"),
    (_set("references.nb201.tgnas", "0.5"), "references.nb201.tgnas must be a list of numbers, got str"),
    (_set("references.nb201.tgnas", lambda q: [str(v) for v in q]), "a list holding str"),
    (_set("weights", lambda w: [float("nan")] + w[1:]), f"weights must be {len(PlusRule.load(RULE).signals)} finite numbers >= 0"),
    (_set("signals", "tgnas"), "signals must be a non-empty list of distinct names"),
    (lambda d: d["references"]["nb201"].pop("az_complexity") and None, "references.nb201 lacks the signals ['az_complexity']"),
])
def test_rule_files_are_checked_field_by_field(tmp_path, capsys, change, expected):
    """A rule file was read unchecked: a list, weights as an object or empty quantiles were
    tracebacks; NaN, reversed, string or single-value quantiles gave scores with exit 0."""
    import json

    d = _shipped_rule()
    d = change(d) or d
    path = tmp_path / "rule.json"
    path.write_text(json.dumps(d))
    err = _error(capsys, ["score", "--space", "nb201", "--arch", NB201, "--plus", "--rule", str(path), "--quiet"],
                 "score")
    assert expected in err and str(path) in err


def test_deeply_nested_rule_files_are_one_line(tmp_path, capsys):
    path = tmp_path / "deep.json"
    path.write_text('{"format": ' + "[" * 300_000 + "]" * 300_000 + "}")
    assert "nested too deeply" in _error(capsys, ["score", "--space", "nb201", "--arch", NB201, "--plus", "--rule",
                                                 str(path)], "score")


@pytest.mark.parametrize("record, expected", [
    ("[]", "must hold a JSON object, got list"),
    ('{"config": []}', "config must be an object, got []"),
    ('{"rule": {"references": "nb201"}}', "rule.references must be a list of space names"),
    ('{"results": {"nb201": {"cells": "many", "signals": {}, "tgnas_plus": {}}}}', "results.nb201.cells must be"),
    ('{"results": {"nb201": {"cells": 9, "signals": {"tgnas": {"kendall": "high"}}, "tgnas_plus": {}}}}',
     "results.nb201.signals.tgnas must be an object with numbers kendall and spearman"),
    ("{not json", "is not JSON"),
])
def test_models_list_names_a_malformed_provenance_field(tmp_path, capsys, monkeypatch, record, expected):
    from tgnas import pretrained

    prov = tmp_path / "provenance.json"
    prov.write_text(record)
    monkeypatch.setattr(pretrained, "PROVENANCE", prov)
    assert expected in _error(capsys, ["models", "list"], "models list")


def test_ship_refuses_reference_samples_under_two_cells(tmp_path, capsys):
    from tgnas.shipping import ship

    for bad in ("0", "-1"):
        _argparse_error(capsys, ["models", "ship", "--checkpoint", "c.pt", "--rule", "r.json", "--reference-cells",
                                 bad], "--reference-cells")
    with pytest.raises(ValueError, match="reference_n must be an integer >= 2"):  # before any file is read
        ship(tmp_path / "none.pt", tmp_path / "none.json", dest=tmp_path, reference_n=1)


def _tiny_run(tmp_path):
    """A finished one-epoch final-training run (DARTS_V2, synthetic images) and its config."""
    from test_train_final import synthetic_data, tiny_cfg
    from tgnas.train.loop import train_final

    cfg, data = tiny_cfg(epochs=2), synthetic_data()
    stop = {"at": None}

    def interrupt(info):  # stop after the first epoch, so that a resume has work left
        if info.epoch == 1 and stop["at"] is None:
            stop["at"] = info.step
            info.stop.set("test")

    train_final(cfg, "DARTS_V2", tmp_path, data=data, on_step=interrupt)
    return cfg, data


@pytest.mark.parametrize("change, expected", [
    (lambda ck: ck["model"].__setitem__(next(iter(ck["model"])), ck["model"][next(iter(ck["model"]))] * float("nan")),
     "non-finite value"),
    (lambda ck: ck.__setitem__("config", [1, 2]), "'config' must be of type dict, got list"),
    (lambda ck: ck.__setitem__("epoch", "1"), "'epoch' must be of type int, got str"),
    (lambda ck: ck.pop("rng"), "lacks ['rng']"),
])
def test_resume_refuses_nan_weights_and_malformed_checkpoints(tmp_path, change, expected):
    """Resuming a run whose weights were NaN trained on ("test accuracy 10.00 %"); a list config, a
    string epoch or a missing rng were tracebacks ("error: rng")."""
    from tgnas.train.loop import train_final

    cfg, data = _tiny_run(tmp_path)
    ck = load_checkpoint_file(tmp_path / "checkpoint.pt")
    change(ck)
    save_checkpoint(ck, tmp_path / "checkpoint.pt")
    with pytest.raises(CheckpointError, match=re.escape(expected)):
        train_final(cfg, "DARTS_V2", tmp_path, data=data, resume=True)


@pytest.mark.parametrize("space, text, expected", [
    ("nb201", NB201.replace("nor_conv_3x3~1", "nor_conv_3\u04453~1", 1), "U+0445 CYRILLIC SMALL LETTER HA"),
    ("nb201", NB201.replace("~0|+", "\u200b~0|+", 1), "U+200B ZERO WIDTH SPACE"),
    ("darts", "Genotype(normal=[('sep_conv_3x3', 0), ('sep_\u0441onv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), "
              "('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 2)], "
              "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
              "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
              "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])", "character 5 is U+0441 CYRILLIC SMALL LETTER ES"),
    ("nb101", "0101000.0011000.0001010.0000100.0000010.0000001.0000000/input,conv1x1-bn-relu,conv1x1-bn-relu,"
              "conv3x3-bn-r\u0435lu,maxpool3x3,conv3x3-bn-relu,output", "U+0435 CYRILLIC SMALL LETTER IE"),
])
def test_an_op_name_with_a_lookalike_or_invisible_character_says_which(space, text, expected):
    with pytest.raises(ValueError, match=re.escape(expected)):
        get_space(space).parse(text)


def test_a_generic_cell_op_with_a_lookalike_character_says_which():
    import tgnas

    cell = {"nodes": ["input", "conv3x3-bn-r\u0435lu", "output"], "edges": [[0, 1], [1, 2]]}
    with pytest.raises((KeyError, ValueError), match="U\\+0435 CYRILLIC SMALL LETTER IE"):
        tgnas.score([cell], space="cell")


def test_a_lone_surrogate_in_an_id_names_its_line(tmp_path, capsys):
    f = tmp_path / "cells.jsonl"
    f.write_text('{"id": "ok", "arch": "%s"}\n{"id": "bad\\ud800", "arch": "%s"}\n' % (NB201, NB201))
    err = _error(capsys, ["score", "--space", "nb201", "--archs", str(f), "--column", "arch", "--id-column", "id"],
                 "score")
    assert "line 2" in err and "U+D800, a lone surrogate" in err


def test_numpy_integers_and_arrays_in_a_cell_dict_are_accepted():
    """``tgnas.score`` refused ``np.int64`` edge indices (a cell built with NumPy)."""
    import tgnas

    plain = {"nodes": ["input", "conv3x3-bn-relu", "maxpool3x3", "output"], "edges": [[0, 1], [1, 2], [2, 3], [0, 3]]}
    numpy_edges = {**plain, "edges": [[np.int64(i), np.int32(j)] for i, j in plain["edges"]]}
    adjacency = np.zeros((4, 4), dtype=np.int64)
    adjacency[[0, 1, 2, 0], [1, 2, 3, 3]] = 1
    arrays = {"nodes": np.array(plain["nodes"]), "adjacency": adjacency}
    got = tgnas.score([plain, numpy_edges, arrays], space="cell")["score"].to_numpy()
    assert np.isfinite(got).all() and got[0] == pytest.approx(got[1]) == got[2]
    with pytest.raises(ValueError, match="must be 0 or 1"):  # NumPy values are still checked
        tgnas.score([{**arrays, "adjacency": adjacency * 2}], space="cell")
