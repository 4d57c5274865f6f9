"""GPU speed of the predictor (prepared for a lent CUDA machine; well under 5 minutes).

Measures on ``cuda``:

1. one training epoch over all 423,624 NB101 cells (``upstream`` GCN, 384-d node features,
   MSE) for batch sizes 128 (upstream's), 512 and 2048 -- time of the optimisation steps
   only (``history[0]["train_time_s"]``; every step reads the loss back, which synchronises);
2. scoring all 15,625 NB201 cells (best of 5, results copied back to the host).

The paper reports about 1.5 GPU-hours for its whole predictor training on all of NB101.

Node features: MiniLM short-description embeddings when the model (or the embedding cache)
is available on the machine; otherwise a fixed random ``(V, 384)`` table, which has the
same shapes and therefore the same speed -- the script says loudly which one it used.

Needs the NB101 table under the data root (``TGNAS_DATA``; ``docs/data.md``). Prints JSON and writes
``metrics/gpu_bench_predictor.json``.

Usage::

    python scripts/gpu_bench_predictor.py [--batch-sizes 128 512 2048]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from tgnas import paths
from tgnas.fileio import write_json
from tgnas.predictor import Predictor, TrainConfig, gcn_preset, train
from tgnas.graphs import graphset
from tgnas.predictor.data import load_space_data
from tgnas.spaces.catalog import SPACES


def _embed_fn():
    try:
        from tgnas.embeddings import embed_ops
        embed_ops(["input", "output"], model="minilm", length="short")
        print("node features: MiniLM, short descriptions")
        return None, "minilm"
    except Exception as e:  # noqa: BLE001 -- timing does not depend on the feature values
        print(f"*** MiniLM unavailable ({type(e).__name__}: {e}); using a fixed random 384-d table "
              "(same shapes, same speed; the tau values below are then meaningless) ***")
        rng = np.random.default_rng(0)
        return (lambda vocab: rng.standard_normal((len(vocab), 384)).astype(np.float32)), "random-384"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch-sizes", type=int, nargs="+", default=[128, 512, 2048])
    args = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this script measures GPU speed only")
    dev = torch.device("cuda")
    out: dict = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__}
    embed_fn, out["features"] = _embed_fn()
    t0 = time.perf_counter()
    data = [load_space_data("nb101")]
    out["load_nb101_s"] = time.perf_counter() - t0
    out["epochs"] = []
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = None
        for bs in args.batch_sizes:
            cfg = TrainConfig(train_spaces=("nb101",), epochs=1, batch_size=bs, schedule="constant",
                              embedding_model="minilm", length="short", gcn=gcn_preset("upstream"))
            t0 = time.perf_counter()
            res = train(cfg, Path(tmp) / f"b{bs}.pt", data=data, embed_fn=embed_fn, device=dev, progress=False)
            h = res.history[0]
            rec = {"batch_size": bs, "train_steps_s": h["train_time_s"], "epoch_with_validation_s": h["time_s"],
                   "call_total_s": time.perf_counter() - t0, "val_tau_nb101": h["val_tau"]["nb101"]}
            print(json.dumps(rec))
            out["epochs"].append(rec)
            ckpt = res.path
        p = Predictor.load(ckpt, device="cuda")
        graphs = graphset(SPACES["nb201"], "full")
        p.score(graphs, batch_size=16384)  # warm-up (CUDA kernels, embedding table)
        for bs in (4096, 16384):
            times = []
            for _ in range(5):
                t0 = time.perf_counter()
                p.score(graphs, batch_size=bs)
                times.append(time.perf_counter() - t0)
            out[f"score_all_nb201_batch{bs}_best_s"] = min(times)
    print(json.dumps(out, indent=2))
    path = write_json(out, paths.METRICS_DIR / "gpu_bench_predictor.json", indent=2)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
