"""Check AZ-NAS (:mod:`tgnas.proxies.az_nas`) against its published NB201 numbers on a sample.

Full-size protocol of the paper: the benchmark's network (C=16, N=5), Kaiming-normal fan-in
initialisation, one minibatch of 64 images of 32x32 (``--input noise``, the default:
standard-normal noise, what the authors' NB201 code feeds; ``cifar10``: a seeded CIFAR-10
training minibatch), on a seeded random sample of NB201 cells. Reports Kendall τ / Spearman ρ (95 % bootstrap
intervals) against the CIFAR-10 test accuracy for each component and for the label-free
aggregate (Σ log(rank / n) within the sample), next to the published all-cell aggregate
(τ 0.741 / ρ 0.913). The NB201 labels only evaluate: nothing here is chosen or tuned on them.

The lite versions (:func:`tgnas.proxies.az_nas_lite.az_nas_lite_table`, small networks on few
small inputs of the same kind) are reported on the same cells and on a larger sample
(``--lite-cells``), with their seconds per cell and their agreement with the full-size
components. The recommended lite config is chosen without labels: the cheapest (median
seconds) whose aggregate has Spearman >= ``--min-agreement`` with the full-size aggregate.

    python scripts/check_az_nas.py                     # 200 cells full size, 1000 lite
    python scripts/check_az_nas.py --input cifar10 --out metrics/az_nas_check_cifar10.json
    python scripts/check_az_nas.py --lite 8,1,16,16 --lite-cells 15625 --out metrics/az_nas_check_lite_all.json
    python scripts/check_az_nas.py --n-cells 20 --lite-cells 50 --out smoke_az_nas.json   # smoke

Prints a table and writes ``metrics/az_nas_check.json`` (``--overwrite`` to replace it).
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import numpy as np
import torch
from scipy import stats
from tqdm.auto import tqdm

from tgnas import paths
from tgnas.spaces.nb201.benchmark import enumerate_archs, load_nb201
from tgnas.fileio import check_output, write_json
from tgnas.metrics import bootstrap_ci, rank_correlation, spearman_rho
from tgnas.proxies.az_nas import AZ_COMPONENTS, aggregate_log_ranks, az_nas_components, noise_images
from tgnas.proxies.az_nas_lite import AZ_INPUTS, az_nas_lite_table
from tgnas.proxies.lite import DEFAULT_LITE, LiteConfig
from tgnas.proxies.zero_cost import build_net, cifar10_minibatch
from tgnas.spaces.nb201.arch import NUM_ARCHS
from tgnas.spaces.catalog import SPACES

#: Lee & Ham, CVPR 2024, Table 1: NB201 CIFAR-10, all 15,625 cells.
PUBLISHED = {"aggregate": {"kendall": 0.741, "spearman": 0.913}}


def _args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-cells", type=int, default=200, help="full-size sample (default 200)")
    ap.add_argument("--lite-cells", type=int, default=1000,
                    help="lite sample, a superset of the full-size one (default 1000)")
    ap.add_argument("--lite", action="append", default=None, metavar="C,N,B,SIDE",
                    help="a lite config (repeatable; default: the TG-NAS+ DEFAULT_LITE and 16,1,32,32)")
    ap.add_argument("--input", choices=AZ_INPUTS, default="noise")
    ap.add_argument("--min-agreement", type=float, default=0.9,
                    help="Spearman of lite vs full-size aggregate needed to recommend a lite config")
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0, help="seed of the sample, minibatch, inits and probes")
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=paths.METRICS_DIR / "az_nas_check.json")
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args(argv)
    if not 3 <= args.n_cells <= args.lite_cells <= NUM_ARCHS:
        ap.error(f"need 3 <= --n-cells <= --lite-cells <= {NUM_ARCHS}, got {args.n_cells}, {args.lite_cells}")
    try:
        args.lite = [LiteConfig(**dict(zip(("C", "N", "batch_size", "side"), map(int, s.split(",")), strict=True)),
                                seed=args.seed)
                     for s in (args.lite or [])] or [
            LiteConfig(C=DEFAULT_LITE.C, N=DEFAULT_LITE.N, batch_size=DEFAULT_LITE.batch_size,
                       side=DEFAULT_LITE.side, seed=args.seed),
            LiteConfig(C=16, N=1, batch_size=32, side=32, seed=args.seed)]
    except ValueError as e:
        ap.error(f"--lite expects C,N,B,SIDE integers: {e}")
    return args


def _corr(scores: np.ndarray, acc: np.ndarray, n_boot: int, seed: int) -> dict:
    """τ, ρ and 95 % bootstrap intervals; on ranks, so that -inf values rank last."""
    r = stats.rankdata(scores)
    out = rank_correlation(r, acc, constant="nan")
    del out["n"]
    if np.all(r == r[0]):
        return {**out, "kendall_ci": None, "spearman_ci": None}
    out["kendall_ci"] = list(bootstrap_ci(r, acc, "kendall", n_boot=n_boot, seed=seed))
    out["spearman_ci"] = list(bootstrap_ci(r, acc, "spearman", n_boot=n_boot, seed=seed))
    return out


def _evaluate(values: dict[str, np.ndarray], acc: np.ndarray, n_boot: int, seed: int) -> dict:
    rows = {c: _corr(values[c], acc, n_boot, seed) for c in AZ_COMPONENTS}
    rows["aggregate"] = _corr(aggregate_log_ranks(values, AZ_COMPONENTS), acc, n_boot, seed)
    for c in AZ_COMPONENTS:
        rows[c]["n_neg_inf"] = int(np.isneginf(values[c]).sum())
    return rows


def main(argv=None) -> dict:
    args = _args(argv)
    check_output(args.out, args.overwrite, "AZ-NAS check")
    torch.set_num_threads(1)
    archs = enumerate_archs()
    acc_all = load_nb201()["cifar10"].to_numpy()
    perm = np.random.default_rng([args.seed, 16]).permutation(NUM_ARCHS)
    full_cells, lite_cells = perm[:args.n_cells], perm[:args.lite_cells]
    load_start = os.getloadavg()

    # ---- full size
    if args.input == "cifar10":
        images, _ = cifar10_minibatch(args.batch_size, seed=args.seed)
    else:
        images = noise_images(args.batch_size, 32, args.seed)
    full = {c: np.empty(args.n_cells) for c in AZ_COMPONENTS}
    seconds = np.empty(args.n_cells)
    for k, i in enumerate(tqdm(full_cells, desc="AZ-NAS full size", unit="cell", mininterval=5.0)):
        start = time.perf_counter()
        torch.manual_seed(args.seed)            # build_net's default init is overwritten anyway
        comp = az_nas_components(build_net(archs[i], SPACES["nb201"]), images, seed=args.seed)
        seconds[k] = time.perf_counter() - start
        for c in AZ_COMPONENTS:
            full[c][k] = comp[c]
    full_rows = _evaluate(full, acc_all[full_cells], args.n_boot, args.seed)

    # ---- lite
    lite_out = []
    for cfg in args.lite:
        table = az_nas_lite_table([archs[i] for i in lite_cells], SPACES["nb201"], cfg, progress=True, inputs=args.input)
        vals = {c: table[c].to_numpy() for c in AZ_COMPONENTS}
        same = {c: v[:args.n_cells] for c, v in vals.items()}
        agree = {c: spearman_rho(same[c], full[c], constant="nan", nonfinite="rank") for c in AZ_COMPONENTS}
        agree["aggregate"] = spearman_rho(aggregate_log_ranks(same), aggregate_log_ranks(full), constant="nan")
        sec = table["seconds"].to_numpy()
        lite_out.append({
            "config": cfg.to_dict(), "key": cfg.key(),
            "same_cells": _evaluate(same, acc_all[full_cells], args.n_boot, args.seed),
            "lite_sample": _evaluate(vals, acc_all[lite_cells], args.n_boot, args.seed),
            "spearman_vs_full_size": agree,
            "seconds_per_cell_median": float(np.median(sec)), "seconds_per_cell_mean": float(sec.mean()),
        })

    ok = [lo for lo in lite_out if lo["spearman_vs_full_size"]["aggregate"] >= args.min_agreement]
    if ok:
        chosen = min(ok, key=lambda lo: lo["seconds_per_cell_median"])
        why = (f"cheapest lite config whose aggregate has Spearman >= {args.min_agreement} with the "
               f"full-size aggregate on the same cells (no labels used)")
    else:
        chosen = max(lite_out, key=lambda lo: lo["spearman_vs_full_size"]["aggregate"])
        why = f"NO lite config reaches Spearman {args.min_agreement}; the best agreement"

    result = {
        "what": "AZ-NAS components and label-free aggregate vs NB201 CIFAR-10 test accuracy "
                "(NB201 labels only evaluate)",
        "protocol": {"space": "nb201", "C": 16, "N": 5, "init": "kaiming_normal fan_in (AZ-NAS)",
                     "input": args.input, "batch_size": args.batch_size, "side": 32, "seed": args.seed},
        "n_cells": int(args.n_cells), "lite_cells": int(args.lite_cells),
        "cells": [int(c) for c in full_cells],
        "published_all_cells": PUBLISHED,
        "full_size": full_rows,
        "full_size_seconds_per_cell_median": float(np.median(seconds)),
        "full_size_seconds_per_cell_mean": float(seconds.mean()),
        "lite": lite_out,
        "lite_recommended": {"key": chosen["key"], "config": chosen["config"], "why": why},
        "machine": {"platform": platform.platform(), "torch": torch.__version__, "threads": 1,
                    "loadavg_start": list(load_start), "loadavg_end": list(os.getloadavg())},
    }
    write_json(result, args.out, overwrite=args.overwrite)

    def line(name: str, r: dict) -> str:
        ci = r.get("kendall_ci")
        ci_s = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "—"
        return f"  {name:<14} tau {r['kendall']:6.3f} {ci_s:<16} rho {r['spearman']:6.3f}"

    print(f"\nAZ-NAS on {args.n_cells} NB201 cells, full size ({args.input} input, batch {args.batch_size}), "
          f"median {np.median(seconds):.2f} s/cell; CIFAR-10 test accuracy")
    for name, r in full_rows.items():
        print(line(name, r))
    print(f"  {'published':<14} tau {PUBLISHED['aggregate']['kendall']:6.3f} {'(all cells)':<16} "
          f"rho {PUBLISHED['aggregate']['spearman']:6.3f}")
    for lo in lite_out:
        print(f"\nlite {lo['key']}: median {lo['seconds_per_cell_median']:.3f} s/cell; "
              f"aggregate vs full-size aggregate rho {lo['spearman_vs_full_size']['aggregate']:.3f}")
        for name in (*AZ_COMPONENTS, "aggregate"):
            print(line(name, lo["same_cells"][name]) + f"   | {args.lite_cells} cells: tau "
                  f"{lo['lite_sample'][name]['kendall']:.3f} rho {lo['lite_sample'][name]['spearman']:.3f}")
    print(f"\nrecommended lite config: {chosen['key']} ({why})")
    print(f"wrote {args.out}")
    return result


if __name__ == "__main__":
    main()
