"""TG-NAS+ rule study (notebook 06): signal sets x weightings x predictor ensembles, over seeds.

Trains the ``pure`` preset once per seed (cached under ``models/06_rules_*.pt``), builds each
predictor's signal tables with the lite AZ-NAS components, and scores every variant of
:mod:`tgnas.experiments.tgnas_plus.rules` on NB301 and held-out NB101 (selection) and NB201
(evaluation only). Pipeline seed ``s`` with an ensemble of ``k`` members uses the predictors
of seeds ``s, s + S, ..., s + (k-1) S`` (``S`` = number of seeds), so no two pipeline seeds
share a member.

    python scripts/study_plus_rules.py --seeds 0,1,2,3,4 --members 1,3 --out metrics/details/plus_rules.json
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace

import torch

from tgnas import paths
from tgnas.fileio import check_output, write_json


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="0,1,2,3,4", help="pipeline seeds, comma-separated")
    ap.add_argument("--members", default="1,3", help="ensemble sizes, comma-separated")
    ap.add_argument("--nb101-sample", type=int, default=2000)
    ap.add_argument("--out", default=str(paths.METRIC_DETAILS_DIR / "plus_rules.json"))
    ap.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    members = [int(m) for m in args.members.split(",") if m.strip()]
    if not seeds or not members or min(members) < 1:
        raise SystemExit(f"--seeds and --members need >= 1 value each (members >= 1), got {args.seeds!r}, {args.members!r}")
    check_output(args.out, args.overwrite, "rule study")
    torch.set_num_threads(args.threads)

    from tgnas.experiments.common import train_cached
    from tgnas.experiments.tgnas_plus.rules import ensemble_tables, rule_study, select_rule, summarise_rules
    from tgnas.experiments.tgnas_plus.signals import nb101_signal_table, nb201_signal_table, nb301_signal_table
    from tgnas.predictor import Predictor
    from tgnas.predictor.data import load_space_data
    from tgnas.predictor.presets import train_preset

    t0 = time.perf_counter()
    base = train_preset("pure")
    nb101 = load_space_data("nb101", graph_form=base.graph_form)
    stride = len(seeds)
    member_seeds = sorted({s + j * stride for s in seeds for j in range(max(members))})
    tables = {}
    train_s = {}
    for ms in member_seeds:
        t = time.perf_counter()
        path = train_cached(replace(base, seed=ms), "rules_pure", data=[nb101], prefix="06")
        train_s[ms] = time.perf_counter() - t
        pred = Predictor.load(path, device="cpu")
        tables[ms] = {"nb201": nb201_signal_table(pred, az=True),
                      "nb101": nb101_signal_table(pred, n=args.nb101_sample, az=True),
                      "nb301": nb301_signal_table(pred, az=True)}
        print(f"predictor seed {ms}: {train_s[ms]:.1f} s", flush=True)
    by_seed = {(s, k): ensemble_tables([tables[s + j * stride] for j in range(k)]) for s in seeds for k in members}
    runs = rule_study(by_seed)
    summary = summarise_rules(runs)
    selected = select_rule(summary, members=1)
    t201 = tables[member_seeds[0]]["nb201"]
    costs = {"lite_naswot_synflow_s_median": float(t201["seconds"].median()),
             "lite_az_nas_s_median": float(t201["az_seconds"].median()),
             "nb301_lite_az_nas_s_median": float(tables[member_seeds[0]]["nb301"]["az_seconds"].median())}
    out = {"seeds": seeds, "members": members, "member_seeds": member_seeds, "nb101_sample": args.nb101_sample,
           "preset": "pure", "config": base.to_dict(), "train_s": train_s, "costs": costs,
           "selected": selected, "wall_s": time.perf_counter() - t0,
           "runs": json.loads(runs.to_json(orient="records")),
           "summary": json.loads(summary.to_json(orient="records"))}
    write_json(out, args.out)
    import pandas as pd
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.precision", 3):
        cols = ["members", "signals", "weighting", "nb301_cv_kendall_mean", "nb101_cv_kendall_mean",
                "cifar10_kendall_mean", "cifar10_kendall_std", "cifar100_kendall_mean", "imagenet16-120_kendall_mean",
                "cifar10_spearman_mean"]
        print(summary[cols].to_string(index=False))
    print(f"selected (NB301 CV tau, one predictor): {selected}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
