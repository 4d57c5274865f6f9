"""Speed of the predictor on this machine's CPU: scoring all NB201 cells, one NB101 epoch.

Measures (wall clock, ``time.perf_counter``):

1. scoring all 15,625 NB201 cells with a trained predictor, graphs and embeddings cached
   (``Predictor.score`` on the prebuilt GraphSet; the first call, which fills the embedding
   cache, is reported separately), for 1 and 2 torch threads and batch sizes 1,024 (the
   default of ``Predictor.score``) and 4,096;
   also the one-off cost of building the 15,625 NB201 graphs;
2. one training epoch over all 423,624 NB101 cells (``upstream`` GCN, MiniLM short
   embeddings, batch 512, MSE; 90 % = 381,262 cells are trained on), wall time of the
   optimisation steps only (validation excluded), plus the process CPU time of the whole
   call (with one thread, CPU time is what the epoch costs on an uncontended core).

Results are printed and written to ``metrics/bench_predictor.json``. The CPU may be shared
with other jobs; the load average at the start and end is recorded next to the numbers.
On a shared 2-core machine use one torch thread: with two, every small op waits at an
OpenMP barrier for a core another process holds (measured here: 13x slower epochs).

Usage::

    python scripts/bench_predictor.py [--skip-epoch] [--epoch-threads 1 2] [--out metrics/bench_predictor.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from tgnas import paths
from tgnas.fileio import write_json
from tgnas.predictor import Predictor, TrainConfig, gcn_preset, train
from tgnas.spaces.nb201 import benchmark as nb201_benchmark
from tgnas.graphs import graphset
from tgnas.predictor.data import load_space_data
from tgnas.spaces.catalog import SPACES


def _best_of(fn, repeats: int) -> tuple[float, float]:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), float(np.median(times))


def bench_scoring(ckpt: Path, repeats: int = 7) -> dict:
    res: dict = {}
    nb201_benchmark.cell_graphs.cache_clear()
    t0 = time.perf_counter()
    graphs = graphset(SPACES["nb201"], "full")
    res["build_nb201_graphs_s"] = time.perf_counter() - t0
    p = Predictor.load(ckpt, device="cpu")
    t0 = time.perf_counter()
    p.score(graphs)
    res["first_call_s"] = time.perf_counter() - t0
    for threads in (1, 2):
        torch.set_num_threads(threads)
        for bs in (1024, 4096):
            best, med = _best_of(lambda: p.score(graphs, batch_size=bs), repeats)
            res[f"score_all_nb201_threads{threads}_batch{bs}"] = {"best_s": best, "median_s": med}
    return res


def bench_epoch(threads: int, batch_size: int = 512) -> dict:
    torch.set_num_threads(threads)
    data = [load_space_data("nb101")]
    cfg = TrainConfig(train_spaces=("nb101",), fraction=1.0, val_fraction=0.1, epochs=1, batch_size=batch_size,
                      embedding_model="minilm", length="short", gcn=gcn_preset("upstream"), schedule="constant")
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0 = time.perf_counter(), time.process_time()
        res = train(cfg, Path(tmp) / "b.pt", data=data, progress=False)
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
    h = res.history[0]
    n_train = len(data[0]) - int(round(0.1 * len(data[0])))
    return {"threads": threads, "batch_size": batch_size, "train_cells": n_train,
            "train_steps_s": h["train_time_s"], "epoch_with_validation_s": h["time_s"],
            "call_total_s": total, "call_process_cpu_s": cpu, "val_tau_after_1_epoch": h["val_tau"]["nb101"],
            "cells_per_s": n_train / h["train_time_s"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-epoch", action="store_true")
    ap.add_argument("--epoch-threads", type=int, nargs="+", default=[1])
    ap.add_argument("--out", type=Path, default=paths.METRICS_DIR / "bench_predictor.json")
    args = ap.parse_args()
    out = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__,
                       "loadavg_at_start": os.getloadavg()}}
    # A small trained checkpoint to score with (the weights do not change the speed).
    with tempfile.TemporaryDirectory() as tmp:
        torch.set_num_threads(1)
        cfg = TrainConfig(fraction=0.01, epochs=1, batch_size=512, embedding_model="minilm")
        ckpt = train(cfg, Path(tmp) / "s.pt", progress=False).path
        out["scoring"] = bench_scoring(ckpt)
    if not args.skip_epoch:
        out["nb101_epoch"] = [bench_epoch(t) for t in args.epoch_threads]
    out["machine"]["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(out, indent=2))
    path = write_json(out, args.out, indent=2)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
