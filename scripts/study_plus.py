"""Pure-predictor study (notebook 06): variants x seeds, scored on NB101 val, NB301 (selection)
and NB201 (evaluation only). Prints the per-variant summary and writes it to
``metrics/plus_study.json`` (``--out`` to change).

    python scripts/study_plus.py --fraction 0.1 --epochs 6 --seeds 0 1 2 3 4 --variants all

With ``--plus-methods nb301,nb101,equal`` it also records TG-NAS+ over the seeds of the
variant selected by NB301 tau (``plus_per_seed``): the recorded seed study that notebook 06
reads in the default pipeline (the frozen ``plus_study`` stage).
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
    ap.add_argument("--seeds", nargs="+", default=["0,1,2,3,4"], help="seeds, space- or comma-separated")
    ap.add_argument("--variants", default="all", help="comma-separated names of tgnas.predictor.presets.study_variants(), or all")
    ap.add_argument("--out", default=str(paths.METRICS_DIR / "plus_study.json"))
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--plus-methods", default="", help="also record TG-NAS+ of the selected variant (e.g. nb301,nb101,equal)")
    ap.add_argument("--nb101-sample", type=int, default=2000, help="NB101 cells of the nb101 TG-NAS+ fit")
    args = ap.parse_args()
    args.seeds = [int(x) for s in args.seeds for x in s.split(",") if x.strip()]
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
    if args.plus_methods:
        from tgnas.experiments.tgnas_plus import report
        selected = report.select_variant(summary)
        sel = runs[runs["variant"] == selected]
        methods = [m.strip() for m in args.plus_methods.split(",") if m.strip()]
        plus = report.plus_over_seeds(list(sel["checkpoint"]), methods, nb101_sample=args.nb101_sample)
        out.update(selected_variant=selected, plus_methods=methods, nb101_sample=args.nb101_sample,
                   plus_per_seed=json.loads(plus.to_json(orient="records")))
        out["runs"] = [{k: v for k, v in r.items() if k != "checkpoint"} for r in out["runs"]]
        out["wall_s"] = time.perf_counter() - t0
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
