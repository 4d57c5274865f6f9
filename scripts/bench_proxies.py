"""Time the zero-cost proxies on real NB201 networks and check them against the shared table.

For a seeded random sample of the 9,445 NB201 cells that NAS-Bench-Suite-Zero's CIFAR-10
table covers, computes every proxy with a table column (:data:`tgnas.proxies.TABLE_COLUMN`)
with one CIFAR-10 minibatch (default 64 images) on a freshly initialised network, records the
seconds per architecture (network construction + proxy; data loading excluded), and the rank
agreement (Spearman, Kendall) with the table's column for that proxy on the same cells.
Also times the analytic params/FLOPs of all 15,625 cells. Prints a table and writes
``metrics/proxy_timing.json``.

    python scripts/bench_proxies.py            # 50 cells, quick (minutes on a laptop CPU)
    python scripts/bench_proxies.py --n 200    # a larger sample for tighter estimates

Full-space hours are *estimates* (mean seconds per cell × 15,625) and labelled so.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from tgnas import paths
from tgnas.spaces.catalog import SPACES
from tgnas.spaces.nb201.benchmark import load_nb201, load_nb201_proxies
from tgnas.fileio import write_json
from tgnas.metrics import rank_correlation
from tgnas.proxies import TABLE_COLUMN, cifar10_minibatch, compute_proxy
from tgnas.spaces.nb201.cost import params_and_flops_all
from tgnas.spaces.nb201.arch import NUM_ARCHS


def _args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50, help="number of sampled cells (default 50)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sample, the minibatch and the inits")
    ap.add_argument("--batch-size", type=int, default=64)
    # only proxies with a column in the precomputed table can be compared with it
    ap.add_argument("--proxies", nargs="+", default=list(TABLE_COLUMN), choices=list(TABLE_COLUMN))
    ap.add_argument("--device", default="cpu", help="torch device (default cpu)")
    ap.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    ap.add_argument("--out", type=Path, default=paths.METRICS_DIR / "proxy_timing.json")
    return ap.parse_args(argv)


def _corr(a: np.ndarray, b: np.ndarray) -> tuple[float | None, float | None]:
    """Spearman and Kendall on the pairs where both are finite; None where undefined."""
    r = rank_correlation(a, b, constant="nan", nonfinite="drop")
    if np.isnan(r["kendall"]):
        return None, None
    return r["spearman"], r["kendall"]


def main(argv=None) -> dict:
    args = _args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    table = load_nb201_proxies("cifar10")
    archs = load_nb201()["arch"]
    rng = np.random.default_rng(args.seed)
    cells = np.sort(rng.choice(table.index.to_numpy(), size=args.n, replace=False))
    images, labels = cifar10_minibatch(args.batch_size, seed=args.seed)
    load_start = os.getloadavg()

    values = {p: np.full(args.n, np.nan) for p in args.proxies}
    seconds = {p: np.full(args.n, np.nan) for p in args.proxies}
    failures: dict[str, list[str]] = {p: [] for p in args.proxies}
    for i, idx in enumerate(tqdm(cells, desc="cells", unit="cell")):
        for p in args.proxies:
            try:
                v, s = compute_proxy(p, archs[idx], SPACES["nb201"], batch=(images, labels), seed=args.seed,
                                     device=args.device)
            except ValueError as e:          # e.g. jacob_cov of a cell whose output ignores the input
                failures[p].append(f"{int(idx)}: {e}")
                continue
            values[p][i], seconds[p][i] = v, s

    t0 = time.perf_counter()
    params_and_flops_all(cache=False)
    analytic_s = time.perf_counter() - t0

    rows = {}
    for p in args.proxies:
        col = TABLE_COLUMN[p]
        rho, tau = _corr(values[p], table.loc[cells, col].to_numpy())
        s = seconds[p][np.isfinite(seconds[p])]
        mean = float(s.mean()) if s.size else float("nan")
        rows[p] = {
            "table_column": col,
            "seconds_per_arch_mean": mean,
            "seconds_per_arch_median": float(np.median(s)) if s.size else None,
            "spearman_vs_table": rho,
            "kendall_vs_table": tau,
            "n_finite": int(np.isfinite(values[p]).sum()),
            "n_failed": len(failures[p]),
            "failures": failures[p][:5],
            "estimated_full_space_hours": mean * NUM_ARCHS / 3600 if s.size else None,
        }
    result = {
        "what": "zero-cost proxies on real NB201 networks (fresh init), one CIFAR-10 minibatch",
        "n_cells": int(args.n),
        "cells": [int(c) for c in cells],
        "seed": args.seed,
        "batch_size": args.batch_size,
        "device": str(args.device),
        "torch_threads": torch.get_num_threads(),
        "torch_version": torch.__version__,
        "machine": platform.platform(),
        "cpu_count": os.cpu_count(),
        "loadavg_start": list(load_start),
        "loadavg_end": list(os.getloadavg()),
        "seconds_include": "network construction + proxy (data loading excluded)",
        "estimate_note": "estimated_full_space_hours = mean seconds per cell x 15,625 (an estimate "
                         "from the sample, not a full run)",
        "analytic_params_flops_all_cells_seconds": analytic_s,
        "analytic_params_flops_seconds_per_arch": analytic_s / NUM_ARCHS,
        "proxies": rows,
        "per_cell": {p: {"values": values[p].tolist(), "seconds": seconds[p].tolist()}
                     for p in args.proxies},
    }
    write_json(result, args.out)  # strict JSON: non-finite values become null

    print(f"{args.n} NB201 cells, batch {args.batch_size}, device {args.device}, "
          f"{torch.get_num_threads()} torch threads, load avg {load_start[0]:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"{'proxy':<10} {'table col':<10} {'s/arch':>8} {'median':>8} {'rho':>7} {'tau':>7} "
          f"{'ok':>4} {'full space (est.)':>18}")
    for p, r in rows.items():
        rho = "  n/a" if r["spearman_vs_table"] is None else f"{r['spearman_vs_table']:7.3f}"
        tau = "  n/a" if r["kendall_vs_table"] is None else f"{r['kendall_vs_table']:7.3f}"
        est = r["estimated_full_space_hours"]
        print(f"{p:<10} {r['table_column']:<10} {r['seconds_per_arch_mean']:8.3f} "
              f"{r['seconds_per_arch_median']:8.3f} {rho:>7} {tau:>7} {r['n_finite']:>4} "
              f"{'' if est is None else f'{est:14.2f} h':>18}")
    print(f"analytic params+FLOPs of all {NUM_ARCHS} cells: {analytic_s:.2f} s "
          f"({analytic_s / NUM_ARCHS * 1e6:.1f} µs per cell)")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
