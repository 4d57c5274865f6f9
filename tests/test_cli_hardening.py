"""Bad, careless and hostile input through the CLI and the API: one-line errors, no lost
results, no code run from a checkpoint, bounded parsers."""

from __future__ import annotations

import pathlib
import time
from dataclasses import replace

import numpy as np
import pytest
import torch

from tgnas import paths
from tgnas.checkpoints import CheckpointError, load_checkpoint_file, save_checkpoint
from tgnas.cli import main
from tgnas.descriptions import parse_op_texts
from tgnas.graphs import GraphSet
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
    assert (tmp_path / "out" / "data" / "cache" / "embeddings" / f"fake-key-{emb.ENCODING_PROTOCOL}.npz").is_file()
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
