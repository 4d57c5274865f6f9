"""Choose the reduced-cost ("lite") NASWOT/synflow setting of TG-NAS+ from evidence.

For a seeded random sample of the 9,445 NB201 cells that NAS-Bench-Suite-Zero's CIFAR-10
table covers, computes :func:`tgnas.proxies.lite.lite_signals` for each candidate
:class:`~tgnas.proxies.lite.LiteConfig` (width C, cells per stage N, NASWOT batch size, image
side) on ONE torch thread, and reports the rank agreement (Spearman, Kendall) of lite
NASWOT with the table's ``nwot`` and of lite synflow with the table's ``synflow`` (the
*full-size proxies*, never accuracies: nothing of TG-NAS+ is selected on NB201 labels), and the
seconds per cell (network construction + both proxies; data loading excluded).

The recommendation is the cheapest config (median seconds) whose two Spearman values are
both >= ``--min-rho`` and whose median seconds are <= ``--max-seconds``. Timings on a shared
CPU move by tens of percent between runs while the rank agreements are deterministic, so
configs whose median is within ``--tie-tolerance`` (relative, default 25%) of the cheapest
qualifying one count as equally cheap, and of those the one with the best worse-of-two
Spearman is recommended. If none qualifies, the config with the best worse-of-two Spearman
within ``--max-seconds`` (labelled so).

    python scripts/bench_lite_proxies.py                   # 200 cells, small grid
    python scripts/bench_lite_proxies.py --grid full       # C x N x batch x side, 54 configs

Prints a table and writes ``metrics/bench_lite_proxies.json``.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from tgnas import paths
from tgnas.spaces.nb201.benchmark import enumerate_archs, load_nb201_proxies
from tgnas.fileio import write_json
from tgnas.metrics import rank_correlation
from tgnas.proxies.lite import DEFAULT_LITE, LiteConfig, lite_batch, lite_signals
from tgnas.spaces.nb201.arch import NUM_ARCHS
from tgnas.spaces.catalog import SPACES

#: Full-size reference (the table's own setting: C=16, N=5, 64 images of 32x32).
FULL_SIZE = (16, 5, 64, 32)


def grid(name: str) -> list[tuple[int, int, int, int]]:
    """Candidate ``(C, N, batch_size, side)`` tuples, cheapest-first is not implied."""
    if name == "full":
        return list(itertools.product((4, 8, 16), (1, 2, 5), (16, 32, 64), (16, 32)))
    if name == "small":
        # Width and image side at the shallowest depth, then one factor at a time around
        # C=8/N=1/B=32, plus the full-size setting as the ceiling of the agreement.
        cands = [(c, 1, 32, s) for c in (4, 8, 16) for s in (16, 32)]
        cands += [(8, 2, 32, 32), (8, 5, 32, 32), (8, 1, 16, 32), (8, 1, 64, 32),
                  (4, 1, 16, 16), (4, 1, 64, 16), (4, 2, 32, 16), (8, 1, 16, 16), (4, 1, 16, 32),
                  (16, 1, 64, 32), FULL_SIZE]
        return list(dict.fromkeys(cands))
    raise ValueError(f"unknown grid {name!r}; expected 'small' or 'full'")


def _args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="number of sampled cells (default 200)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the sample, the minibatch and the inits")
    ap.add_argument("--grid", choices=("small", "full"), default="small")
    ap.add_argument("--min-rho", type=float, default=0.95, help="Spearman needed for both proxies")
    ap.add_argument("--max-seconds", type=float, default=0.1, help="median seconds per cell allowed")
    ap.add_argument("--tie-tolerance", type=float, default=0.25,
                    help="relative median-time difference treated as a tie (default 0.25)")
    ap.add_argument("--no-full-size", action="store_true", help="skip the full-size reference config")
    ap.add_argument("--out", type=Path, default=paths.METRICS_DIR / "bench_lite_proxies.json")
    return ap.parse_args(argv)


def _corr(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    r = rank_correlation(a, b, constant="nan", nonfinite="rank")
    return r["spearman"], r["kendall"]


def choose(rows: list[dict], min_rho: float, max_seconds: float,
           tie_tolerance: float = 0.25) -> tuple[dict | None, str]:
    """The recommended row and why (see the module docstring)."""
    def worse(r):
        return min(r["naswot_spearman"], r["synflow_spearman"])
    affordable = [r for r in rows if r["seconds_median"] <= max_seconds]
    ok = [r for r in affordable if worse(r) >= min_rho]
    if ok:
        cheapest = min(r["seconds_median"] for r in ok)
        tied = [r for r in ok if r["seconds_median"] <= cheapest * (1 + tie_tolerance)]
        return max(tied, key=worse), (
            f"best worse-of-two Spearman among the configs with Spearman >= {min_rho} for both "
            f"proxies and median <= {max_seconds} s whose median is within {tie_tolerance:.0%} of "
            f"the cheapest such config ({cheapest:.3f} s): {[r['key'] for r in tied]}")
    if affordable:
        return max(affordable, key=worse), (
            f"NO config within {max_seconds} s reaches Spearman {min_rho} for both proxies; "
            "this is the best worse-of-two Spearman among those within the time limit")
    return None, f"no config has median seconds <= {max_seconds}"


def main(argv=None) -> dict:
    args = _args(argv)
    torch.set_num_threads(1)
    table = load_nb201_proxies("cifar10")
    archs = enumerate_archs()
    rng = np.random.default_rng(args.seed)
    cells = np.sort(rng.choice(table.index.to_numpy(), size=args.n, replace=False))
    ref_nwot = table.loc[cells, "nwot"].to_numpy()
    ref_syn = table.loc[cells, "synflow"].to_numpy()
    cands = [c for c in grid(args.grid) if not (args.no_full_size and c == FULL_SIZE)]
    load_start = os.getloadavg()

    rows = []
    for (C, N, B, side) in cands:
        cfg = LiteConfig(C=C, N=N, batch_size=B, side=side, seed=args.seed)
        batch = lite_batch(cfg)
        res = [lite_signals(archs[i], SPACES["nb201"], cfg, batch)
               for i in tqdm(cells, desc=cfg.key(), unit="cell", leave=False)]
        nw = np.array([r["naswot"] for r in res])
        syn = np.array([r["synflow"] for r in res])
        sec = np.array([r["seconds"] for r in res])
        n_rho, n_tau = _corr(nw, ref_nwot)
        s_rho, s_tau = _corr(syn, ref_syn)
        row = {"config": cfg.to_dict(), "key": cfg.key(),
               "naswot_spearman": n_rho, "naswot_kendall": n_tau,
               "synflow_spearman": s_rho, "synflow_kendall": s_tau,
               "seconds_median": float(np.median(sec)), "seconds_mean": float(sec.mean()),
               "seconds_p90": float(np.quantile(sec, 0.9)),
               "estimated_full_space_minutes": float(sec.mean() * NUM_ARCHS / 60)}
        rows.append(row)
        print(f"{cfg.key():<24} naswot rho {n_rho:.3f} tau {n_tau:.3f} | synflow rho {s_rho:.3f} "
              f"tau {s_tau:.3f} | median {row['seconds_median']:.3f} s", flush=True)

    best, why = choose(rows, args.min_rho, args.max_seconds, args.tie_tolerance)
    result = {
        "what": "lite NASWOT/synflow on reduced NB201 networks vs the full-size values of the "
                "NAS-Bench-Suite-Zero CIFAR-10 table (no accuracy labels used)",
        "n_cells": int(args.n), "cells": [int(c) for c in cells], "seed": args.seed,
        "grid": args.grid, "min_rho": args.min_rho, "max_seconds": args.max_seconds,
        "tie_tolerance": args.tie_tolerance,
        "torch_threads": torch.get_num_threads(), "torch_version": torch.__version__,
        "machine": platform.platform(), "cpu_count": os.cpu_count(),
        "loadavg_start": list(load_start), "loadavg_end": list(os.getloadavg()),
        "seconds_include": "network construction + synflow + naswot (data loading excluded)",
        "estimate_note": "estimated_full_space_minutes = mean seconds x 15,625 (an estimate)",
        "rows": rows,
        "recommended": None if best is None else best["key"],
        "recommended_reason": why,
        "default_lite_in_code": DEFAULT_LITE.key(),
    }
    write_json(result, args.out)  # strict JSON: non-finite values become null

    print(f"\n{args.n} NB201 cells (seed {args.seed}), 1 torch thread, load avg "
          f"{load_start[0]:.1f} -> {os.getloadavg()[0]:.1f}")
    print(f"{'config':<24} {'nwot rho':>8} {'tau':>6} {'syn rho':>8} {'tau':>6} "
          f"{'median s':>9} {'mean s':>7} {'15625 (min)':>11}")
    for r in sorted(rows, key=lambda r: r["seconds_median"]):
        print(f"{r['key']:<24} {r['naswot_spearman']:8.3f} {r['naswot_kendall']:6.3f} "
              f"{r['synflow_spearman']:8.3f} {r['synflow_kendall']:6.3f} {r['seconds_median']:9.3f} "
              f"{r['seconds_mean']:7.3f} {r['estimated_full_space_minutes']:11.1f}")
    print(f"recommended: {result['recommended']} ({why}); DEFAULT_LITE in code: {DEFAULT_LITE.key()}")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    _t0 = time.perf_counter()
    main()
    print(f"total {time.perf_counter() - _t0:.0f} s")
