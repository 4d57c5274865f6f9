"""Benchmark: embed every op of every space (NB101, NB201, DARTS; 20 labels) with a model.

* cold: a fresh Python process with an empty cache folder (interpreter start, imports,
  loading the transformer, encoding) -- timed from the parent, whole process;
* warm, fresh process: a new process whose cache already holds the texts (time of the
  ``embed_ops`` call, and of the whole process);
* warm, in process: repeated ``embed_ops`` calls after the first.

Targets: cold < 10 s, warm < 0.1 s (docs/measured.md). Prints a summary and writes
``metrics/bench_embeddings.json``. The machine's load average is recorded because wall
times on a shared machine depend on it; CPU time (user + sys) of the cold child is reported
beside the wall time.

Usage: ``python scripts/bench_embeddings.py [--model minilm] [--length short] [--repeats 3]``
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tgnas import paths

# The child times its own steps: importing tgnas, then the embed_ops call; on a cold cache
# it also reports how much of the call went into loading the transformer (imports of
# torch / transformers / sentence-transformers, SHA256 check, weights).
CHILD = """
import json, sys, time
t0 = time.perf_counter()
from pathlib import Path
from tgnas import embeddings as emb
from tgnas.descriptions import PAPER_OPS
t1 = time.perf_counter()
load_s = []
real_loader = emb._load_sentence_model
def timed_loader(name):
    t = time.perf_counter()
    m = real_loader(name)
    load_s.append(time.perf_counter() - t)
    return m
emb._load_sentence_model = timed_loader
x = emb.embed_ops(PAPER_OPS, model=sys.argv[1], length=sys.argv[2], cache_dir=Path(sys.argv[3]))
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "call_s": t2 - t1, "model_load_s": sum(load_s),
                  "shape": list(x.shape)}))
"""


def run_child(model: str, length: str, cache: Path) -> dict:
    """Run :data:`CHILD` in a fresh interpreter; return its timings plus wall and CPU time."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, model, length, str(cache)],
                          capture_output=True, text=True, check=True, cwd=paths.PROJECT_ROOT)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["process_wall_s"] = wall
    out["process_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return out


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="minilm")
    ap.add_argument("--length", default="short")
    ap.add_argument("--repeats", type=int, default=3, help="cold and warm-process runs")
    ap.add_argument("--out", type=Path, default=paths.METRICS_DIR / "bench_embeddings.json")
    args = ap.parse_args(argv)

    from tgnas import embeddings as emb
    from tgnas.descriptions import PAPER_OPS

    load_before = os.getloadavg()
    cold, warm_proc = [], []
    for i in range(args.repeats):
        with tempfile.TemporaryDirectory(prefix="tgnas-bench-") as tmp:
            cache = Path(tmp)
            cold.append(run_child(args.model, args.length, cache))
            warm_proc.append(run_child(args.model, args.length, cache))
            print(f"run {i + 1}: cold {cold[-1]['process_wall_s']:.2f} s wall "
                  f"({cold[-1]['process_cpu_s']:.2f} s CPU; loading the model "
                  f"{cold[-1]['model_load_s']:.2f} s), warm process: call "
                  f"{warm_proc[-1]['call_s'] * 1e3:.1f} ms, "
                  f"whole process {warm_proc[-1]['process_wall_s']:.2f} s")
    # in-process warm calls (the first call fills the cache)
    with tempfile.TemporaryDirectory(prefix="tgnas-bench-") as tmp:
        emb.embed_ops(PAPER_OPS, args.model, args.length, cache_dir=Path(tmp))
        warm_in = []
        for _ in range(20):
            t0 = time.perf_counter()
            emb.embed_ops(PAPER_OPS, args.model, args.length, cache_dir=Path(tmp))
            warm_in.append(time.perf_counter() - t0)
    load_after = os.getloadavg()

    med = statistics.median
    result = {
        "model": args.model, "length": args.length, "n_ops": len(PAPER_OPS),
        "repeats": args.repeats,
        "cold_process_wall_s": {"median": round(med(c["process_wall_s"] for c in cold), 3),
                                "min": round(min(c["process_wall_s"] for c in cold), 3)},
        "cold_process_cpu_s": {"median": round(med(c["process_cpu_s"] for c in cold), 3)},
        "cold_embed_call_s": {"median": round(med(c["call_s"] for c in cold), 3)},
        "cold_model_load_s": {"median": round(med(c["model_load_s"] for c in cold), 3)},
        "warm_fresh_process_call_s": {"median": round(med(w["call_s"] for w in warm_proc), 5),
                                      "max": round(max(w["call_s"] for w in warm_proc), 5)},
        "warm_fresh_process_wall_s": {"median": round(med(w["process_wall_s"] for w in warm_proc), 3)},
        "warm_in_process_call_s": {"median": round(med(warm_in), 6), "max": round(max(warm_in), 6)},
        "targets_s": {"cold": 10.0, "warm": 0.1},
        "meets_targets": {
            "cold": med(c["process_wall_s"] for c in cold) < 10.0,
            "warm": max(w["call_s"] for w in warm_proc) < 0.1 and max(warm_in) < 0.1,
        },
        "host": {"cpus": os.cpu_count(), "loadavg_before": [round(x, 2) for x in load_before],
                 "loadavg_after": [round(x, 2) for x in load_after], "python": platform.python_version(),
                 "machine": platform.machine()},
    }
    print(json.dumps(result, indent=2))
    paths.ensure_dir(args.out.parent)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print("wrote", args.out)
    return result


if __name__ == "__main__":
    main()
