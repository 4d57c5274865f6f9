"""Pure-predictor study (notebook 06): variants x seeds, scored on NB101 val, NB301 (selection)
and NB201 (evaluation only). Prints the per-variant summary and writes it to
``metrics/plus_study.json`` (``--out`` to change).

    python scripts/study_plus.py --fraction 0.1 --epochs 6 --seeds 0 1 2 3 4 --variants all
"""

from __future__ import annotations

import argparse
import json
import time

import torch

from tgnas import paths
from tgnas.fileio import write_json


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fraction", type=float, default=0.1)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--variants", default="all", help="comma-separated names of tgnas.predictor.presets.study_variants(), or all")
    ap.add_argument("--out", default=str(paths.METRICS_DIR / "plus_study.json"))
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    from tgnas.predictor.presets import study_variants
    from tgnas.experiments.tgnas_plus.study import run_variants, summarise
    variants = study_variants(fraction=args.fraction, epochs=args.epochs)
    if args.variants != "all":
        names = [v.strip() for v in args.variants.split(",") if v.strip()]
        unknown = [n for n in names if n not in variants]
        if unknown:
            raise SystemExit(f"unknown variants {unknown}; expected some of {list(variants)}")
        variants = {n: variants[n] for n in names}
    t0 = time.perf_counter()
    runs = run_variants(variants, args.seeds)
    summary = summarise(runs)
    import pandas as pd
    with pd.option_context("display.width", 250, "display.max_columns", 40, "display.precision", 3):
        print(summary[["variant", "n_seeds", "nb101_val_mean", "nb301_kendall_mean", "cifar10_kendall_mean",
                       "cifar10_kendall_std", "cifar10_spearman_mean", "cifar100_kendall_mean",
                       "imagenet16-120_kendall_mean", "max_swing", "train_s_mean"]].to_string(index=False))
    out = {"fraction": args.fraction, "epochs": args.epochs, "seeds": args.seeds,
           "wall_s": time.perf_counter() - t0,
           "configs": {n: c.to_dict() for n, c in variants.items()},
           "runs": json.loads(runs.to_json(orient="records")),
           "summary": json.loads(summary.to_json(orient="records"))}
    from pathlib import Path
    path = Path(args.out)
    old = json.loads(path.read_text()) if path.is_file() else None
    if old and old.get("fraction") == args.fraction and old.get("epochs") == args.epochs:
        # merge: keep runs of variants not rerun now
        keep = [r for r in old["runs"] if r["variant"] not in variants]
        out["runs"] = keep + out["runs"]
        out["configs"] = {**old["configs"], **out["configs"]}
        out["summary"] = json.loads(summarise(pd.DataFrame(out["runs"])).to_json(orient="records"))
    write_json(out, path)
    print(f"wrote {path} ({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
