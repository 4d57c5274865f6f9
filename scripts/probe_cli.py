"""Probe the command line and the API with bad, careless and hostile inputs; count the outcomes.

    PYTHONPATH=. python scripts/probe_cli.py [--verbose]

Each case runs in this process (``tgnas.cli.main`` or a library call) under a time limit
and is classified as:

* clear error   -- CLI: exit status 2 and one line ``tgnas <cmd>: error: ...`` (or argparse's
  usage error); API: the documented exception type with a message under 1,000 characters;
* traceback     -- any other exception (a bug's traceback reaches the user);
* silent wrong  -- the call succeeded although the input was bad (or a pickled payload ran);
* data loss     -- a file that existed before the call was changed or removed;
* hang          -- the call ran past the time limit.

Works against any tgnas version (it crafts its files with torch and numpy only), so the
same probe gives before/after counts.
"""

from __future__ import annotations

from tgnas.spaces.catalog import SPACES

import argparse
import contextlib
import io
import os
import pathlib
import signal
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

NB201 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
DARTS = ("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), "
         "('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 2)], "
         "normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
         "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
         "('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])")
TIME_LIMIT_S = 60


class _Hang(Exception):
    pass


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (self.marker,))


def _snapshot(files: list[Path]) -> dict[Path, bytes | None]:
    snap = {}
    for f in files:
        if f.is_dir():
            for g in sorted(f.rglob("*")):
                snap[g] = g.read_bytes() if g.is_file() else None
        else:
            snap[f] = f.read_bytes() if f.is_file() else None
    return snap


def _alarm(signum, frame):
    raise _Hang()


def run_case(kind: str, call: Callable[[], object], expect_error: bool, protect: list[Path],
             marker: Path, api_errors: tuple[type[BaseException], ...] = (ValueError,)) -> tuple[str, str]:
    """Run one case; return (outcome, detail)."""
    before = _snapshot(protect)
    err_buf, out_buf = io.StringIO(), io.StringIO()
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(TIME_LIMIT_S)
    outcome, detail = "", ""
    try:
        with contextlib.redirect_stderr(err_buf), contextlib.redirect_stdout(out_buf):
            result = call()
        if kind == "cli":
            msg = err_buf.getvalue().strip().splitlines()
            if result == 2 and len(msg) == 1 and ": error: " in msg[0]:
                outcome, detail = "clear error", msg[0][:160]
            elif result not in (0, None) and msg and ": error" in msg[-1]:
                outcome, detail = "clear error", msg[-1][:160]
            elif result not in (0, None):
                outcome, detail = ("clear error" if msg else "silent wrong"), f"exit {result}: {' '.join(msg)[:160]}"
            else:
                outcome, detail = ("silent wrong" if expect_error else "ok"), f"exit {result}"
        else:
            outcome, detail = ("silent wrong" if expect_error else "ok"), "returned"
    except _Hang:
        outcome, detail = "hang", f"over {TIME_LIMIT_S} s"
    except SystemExit as ex:  # argparse usage errors: status 2 and a usage line
        outcome, detail = ("clear error" if ex.code == 2 else "traceback"), err_buf.getvalue().strip()[-160:]
    except BaseException as ex:  # noqa: BLE001 -- classifying every outcome is the point
        text = str(ex)
        if kind == "api" and isinstance(ex, api_errors) and len(text) < 1_000:
            outcome, detail = "clear error", f"{type(ex).__name__}: {text[:160]}"
        else:
            outcome, detail = "traceback", f"{type(ex).__name__}: {text[:160]}"
    finally:
        signal.alarm(0)
    after = _snapshot(protect)
    changed = [k for k, v in before.items() if after.get(k) != v]
    if changed:
        outcome, detail = "data loss", f"changed: {[k.name for k in changed]}"
        for k in changed:  # put it back, so that later cases see the same files
            if before[k] is None:
                k.unlink(missing_ok=True)
            else:
                k.write_bytes(before[k])
    if marker.exists():
        marker.unlink()
        outcome, detail = "silent wrong", "a pickled payload ran"
    return outcome, detail


def build_cases(tmp: Path) -> list[tuple[str, str, Callable[[], object], bool, list[Path], tuple]]:
    """(name, kind, call, expect_error, protected files, API error types)."""
    from tgnas.cli import main
    from tgnas.graphs import GraphSet
    from tgnas.predictor import Predictor, TrainConfig, gcn_preset, train
    from tgnas.predictor.data import SpaceData
    from tgnas.spaces.catalog import get_space
    from tgnas.spaces.base import CellGraph

    marker = tmp / "payload-ran"
    sp201 = get_space("nb201")
    rng = np.random.default_rng(0)
    graphs = [sp201.to_graph(sp201.sample(rng)) for _ in range(60)]
    ck = tmp / "m.pt"
    cfg = TrainConfig(train_spaces=("nb201",), epochs=1, batch_size=32, embedding_model="onehot",
                      gcn=gcn_preset("upstream", hidden=8))
    with contextlib.redirect_stderr(io.StringIO()):
        train(cfg, ck, data=[SpaceData("nb201", GraphSet.from_graphs(graphs), rng.normal(size=60))], progress=False)
    state = torch.load(ck, weights_only=True)
    nan = dict(state)
    nan["best"] = {**state["best"], "model_state": {k: v.clone().fill_(float("nan")) if v.is_floating_point() else v
                                                   for k, v in state["best"]["model_state"].items()}}
    nan.pop("digest", None)
    torch.save(nan, tmp / "nan.pt")
    flip = {k: v for k, v in state.items()}
    flip["best"] = {**state["best"], "model_state": {k: v.clone() for k, v in state["best"]["model_state"].items()}}
    w = next(v for v in flip["best"]["model_state"].values() if v.dtype == torch.float32)
    w.view(torch.int32).view(-1)[0] ^= 1 << 22
    torch.save(flip, tmp / "flip.pt")
    (tmp / "junk.pt").write_bytes(b"not a checkpoint")
    torch.save({"format": "tgnas-predictor", "best": _Payload(marker)}, tmp / "evil.pt")
    run = tmp / "run"
    run.mkdir()
    (run / "log.jsonl").write_text('{"epoch": 1}\n')
    (run / "config.json").write_text("{}")
    evil_run = tmp / "evil_run"
    evil_run.mkdir()
    torch.save({"format": 2, "model": _Payload(marker)}, evil_run / "checkpoint.pt")
    existing = tmp / "existing.csv"
    existing.write_text("precious\n")
    blocker = tmp / "a_file"
    blocker.write_text("")
    trained = tmp / "trained.pt"
    trained.write_bytes(ck.read_bytes())
    npz = tmp / "e.npz"
    npz.write_bytes(b"precious")

    score = ["score", "--checkpoint", str(ck), "--device", "cpu"]
    s201 = [*score, "--space", "nb201"]
    cases: list = []

    def cli(name, argv, expect_error=True, protect=()):
        cases.append((name, "cli", lambda: main(argv), expect_error, [*protect, ck], ()))

    def api(name, fn, errors=(ValueError,), expect_error=True):
        cases.append((name, "api", fn, expect_error, [ck], errors))

    # --- score
    cli("score ok", [*s201, "--arch", NB201], expect_error=False)
    cli("describe typo", [*s201, "--arch", NB201, "--describe", "nor_conv3x3=a conv"])
    cli("describe spaces", [*s201, "--arch", NB201, "--describe", " nor_conv_3x3 =a conv"])
    cli("describe empty", [*s201, "--arch", NB201, "--describe", "=x"])
    cli("missing checkpoint", ["score", "--checkpoint", str(tmp / "none.pt"), "--space", "nb201", "--arch", NB201])
    cli("junk checkpoint", ["score", "--checkpoint", str(tmp / "junk.pt"), "--space", "nb201", "--arch", NB201])
    cli("pickled checkpoint", ["score", "--checkpoint", str(tmp / "evil.pt"), "--space", "nb201", "--arch", NB201])
    cli("nan checkpoint", ["score", "--checkpoint", str(tmp / "nan.pt"), "--space", "nb201", "--arch", NB201])
    cli("flipped bit", ["score", "--checkpoint", str(tmp / "flip.pt"), "--space", "nb201", "--arch", NB201])
    cli("out = checkpoint", [*s201, "--arch", NB201, "--out", str(ck)])
    cli("out existing", [*s201, "--arch", NB201, "--out", str(existing)], protect=[existing])
    cli("batch 0", [*s201, "--arch", NB201, "--batch-size", "0"])
    cli("batch -1", [*s201, "--arch", NB201, "--batch-size", "-1"])
    cli("all and arch", [*s201, "--all", "--arch", NB201])
    cli("neither all nor arch", s201)
    cli("all darts", [*score, "--space", "darts", "--all"])
    for i, bad in enumerate(["", "x", NB201[:-1], NB201.replace("~0", "~1", 1), NB201 + "+", "|a~0|+|b~0|c~1|",
                             NB201.replace("nor_conv_3x3", "conv", 1), "|nor_conv_3x3~0|" * 5000,
                             "+" * 1000, NB201 * 200_000]):
        cli(f"bad nb201 {i}", [*s201, "--arch", bad])
    for i, bad in enumerate(["Genotype()", "Genotype(normal=[])", DARTS.replace("[2, 3, 4, 5]", "range(0, 10**12)", 1),
                             DARTS.replace("[2, 3, 4, 5]", "range(0, 100000000)", 1),
                             "Genotype(normal=" + "1+" * 5000 + "1)", "Genotype(normal=" + "[" * 3000 + "]" * 3000 + ")",
                             DARTS.replace("sep_conv_3x3", "__import__('os')", 1), "os.system('true')",
                             DARTS.replace("0)", "-1)", 1), DARTS * 30_000]):
        cli(f"bad darts {i}", [*score, "--space", "darts", "--arch", bad])
    for i, bad in enumerate(["", "01.00", "01.00/input,output,extra", "0110.0001.0001.0000/input,a,b,output",
                             "02.00/input,output", "1" * 100_000 + "/input"]):
        cli(f"bad nb101 {i}", [*score, "--space", "nb101", "--arch", bad])
    # --- train
    cli("train over existing", ["train", "--out", str(trained), "--epochs", "1"], protect=[trained])
    cli("train under a file", ["train", "--out", str(blocker / "m.pt"), "--epochs", "1"])
    cli("train fraction 2", ["train", "--out", str(tmp / "t1.pt"), "--fraction", "2"])
    cli("train epochs 0", ["train", "--out", str(tmp / "t2.pt"), "--epochs", "0"])
    cli("train val 1", ["train", "--out", str(tmp / "t3.pt"), "--val-fraction", "1"])
    cli("train preset nope", ["train", "--out", str(tmp / "t4.pt"), "--preset", "nope"])
    cli("train resume missing", ["train", "--out", str(tmp / "t5.pt"), "--resume", "--epochs", "1"])
    cli("train model nope", ["train", "--out", str(tmp / "t6.pt"), "--model", "bert"])
    cli("train fraction x", ["train", "--out", str(tmp / "t7.pt"), "--fraction", "x"])
    # --- train-final
    cli("final over a run", ["train-final", "--genotype", "DARTS_V2", "--smoke", "--out", str(run)], protect=[run])
    cli("final pickled resume", ["train-final", "--genotype", "DARTS_V2", "--smoke", "--out", str(evil_run),
                                 "--resume"])
    cli("final bad genotype", ["train-final", "--genotype", "Genotype(normal=[])", "--out", str(tmp / "f1")])
    cli("final range bomb", ["train-final", "--genotype", DARTS.replace("[2, 3, 4, 5]", "range(0, 10**12)", 1),
                             "--out", str(tmp / "f2")])
    cli("final epochs x", ["train-final", "--genotype", "DARTS_V2", "--epochs", "x", "--out", str(tmp / "f3")])
    cli("final imagenet", ["train-final", "--genotype", "DARTS_V2", "--dataset", "imagenet", "--out", str(tmp / "f4")])
    cli("final params missing", ["train-final", "--genotype", "DARTS_V2", "--params", str(tmp / "none.yaml"),
                                 "--out", str(tmp / "f5")])
    cli("final out is a file", ["train-final", "--genotype", "DARTS_V2", "--smoke", "--out", str(blocker)])
    # --- search
    search = ["search", "--space", "nb201", "--scorer", "flops", "--quiet"]
    cli("search json existing", [*search, "--json", str(existing)], protect=[existing])
    cli("search json under a file", [*search, "--json", str(blocker / "r.json")])
    cli("search budget 0", [*search, "--budget", "0"])
    cli("search budget -5", [*search, "--algorithm", "random", "--budget", "-5"])
    cli("search missing checkpoint", ["search", "--space", "nb201", "--checkpoint", str(tmp / "none.pt"), "--quiet"])
    cli("search junk checkpoint", ["search", "--space", "nb201", "--checkpoint", str(tmp / "junk.pt"), "--quiet"])
    # --- embed
    cli("embed describe bad", ["embed", "--model", "onehot", "--describe", "novel"])
    cli("embed out existing", ["embed", "--model", "onehot", "--space", "nb201", "--out", str(npz)], protect=[npz])
    cli("embed out not npz", ["embed", "--model", "onehot", "--space", "nb201", "--out", str(tmp / "e.txt")])

    # --- API
    p = Predictor.load(ck, device="cpu")
    api("score batch 0", lambda: p.score([NB201], space=get_space("nb201"), batch_size=0))
    api("score batch -1", lambda: p.score([NB201], space=get_space("nb201"), batch_size=-1))
    api("score describe typo", lambda: p.score([NB201], space=get_space("nb201"), descriptions={"nor_conv3x3": "x"}))
    api("score empty", lambda: p.score([], space=get_space("nb201")))
    api("load junk", lambda: Predictor.load(tmp / "junk.pt"))
    api("load pickled", lambda: Predictor.load(tmp / "evil.pt"))
    api("load nan", lambda: Predictor.load(tmp / "nan.pt"))
    api("load flipped", lambda: Predictor.load(tmp / "flip.pt"))
    api("cellgraph 2", lambda: CellGraph(np.array([[0, 2], [0, 0]]), ("input", "output")))
    api("cellgraph 0.5", lambda: CellGraph(np.array([[0, 0.5], [0, 0]]), ("input", "output")))
    api("cellgraph empty", lambda: CellGraph(np.zeros((0, 0)), ()))
    api("cellgraph lower", lambda: CellGraph(np.array([[0, 0], [1, 0]]), ("input", "output")))
    api("config fraction", lambda: TrainConfig(fraction=0))
    api("config batch", lambda: TrainConfig(batch_size=0))
    for space, texts in (("nb201", ["", None, 42, NB201 * 100_000, "|x~0|+|x~0|x~1|+|x~0|x~1|x~2|"]),
                         ("darts", ["", None, DARTS.replace("[2, 3, 4, 5]", "range(0, 10**12)", 1),
                                    "Genotype(normal=" + "1+" * 5000 + "1)", "__import__('os').system('x')",
                                    DARTS * 30_000]),
                         ("nb101", ["", None, "0" * 1_000_000 + "/input", "01.00/input"])):
        for i, t in enumerate(texts):
            api(f"parse {space} {i}", (lambda s=space, t=t: get_space(s).parse(t)))
    api("random budget 1e9 on NB201 (15,625 cells)", lambda: _random_exhaust())
    return cases


def _random_exhaust():
    from tgnas.search.random_search import random_search
    from tgnas.spaces.catalog import get_space
    res = random_search(get_space(SPACES["nb201"]), lambda archs: np.zeros(len(archs)), budget=10**9, progress=False)
    return res  # ends: fine (expected no error)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--verbose", action="store_true", help="print every case")
    args = ap.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.environ.setdefault("TGNAS_OUTPUT_ROOT", str(tmp / "outputs"))
        cases = build_cases(tmp)
        counts: Counter = Counter()
        for name, kind, call, expect_error, protect, errors in cases:
            if name.startswith("random budget"):
                expect_error = False
            outcome, detail = run_case(kind, call, expect_error, protect, tmp / "payload-ran",
                                       errors or (ValueError,))
            counts[outcome] += 1
            if args.verbose or outcome not in ("clear error", "ok"):
                print(f"{outcome:13s} {kind:3s} {name:38s} {detail}")
    print(f"\n{len(cases)} cases: " + ", ".join(f"{k} {counts[k]}" for k in
                                               ("clear error", "ok", "traceback", "silent wrong", "data loss", "hang")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
