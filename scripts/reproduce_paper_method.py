"""The paper's own method reproduced at CPU scale, beside the companion's default predictor
(the ``paper_method`` stage; notebook 07 reads its record).

Trains, once per seed, on NAS-Bench-101 only: the paper's method and the ``pure`` preset at
``--fraction`` / ``--epochs``, and the paper's method at ``--ratio-fraction`` (the paper's
data-ratio claim, within NB101); scores each run on all NB201 cells, on the 9,445 cells with
NAS-Bench-Suite-Zero proxies, and on the 500 labelled NB301 cells
(:mod:`tgnas.experiments.paper_method`). Checkpoints are cached under ``models/paper_*.pt``.

    python scripts/reproduce_paper_method.py --fraction 0.1 --epochs 8 --seeds 0,1,2,3,4 \
        --ratio-fraction 0.01 --out metrics/details/paper_method.json --overwrite
"""

from __future__ import annotations

import argparse

import torch

from tgnas import paths
from tgnas.experiments.paper_method import run_study
from tgnas.fileio import check_output, write_json


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fraction", type=float, default=0.1, help="share of NB101 each main run uses")
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated")
    ap.add_argument("--ratio-fraction", type=float, default=0.01, help="share of NB101 of the data-ratio runs")
    ap.add_argument("--out", default=str(paths.METRIC_DETAILS_DIR / "paper_method.json"))
    ap.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    if len(seeds) < 2:
        ap.error(f"--seeds needs at least 2 seeds for a standard deviation, got {args.seeds!r}")
    check_output(args.out, args.overwrite, "paper-method record")
    torch.set_num_threads(args.threads)
    record = run_study(fraction=args.fraction, epochs=args.epochs, seeds=seeds,
                       ratio_fraction=args.ratio_fraction, progress=True)
    print(f"wrote {write_json(record, args.out)} ({record['wall_s']:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
