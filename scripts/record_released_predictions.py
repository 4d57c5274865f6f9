"""The authors' released NB201 predictions (``test.txt`` of GitHub YeQiao/TG-NAS at a pinned
commit), scored like every method of notebook 07: Kendall tau / Spearman rho on all 15,625
NB201 cells and on the 9,445 cells with NAS-Bench-Suite-Zero proxies, for the three NB201
datasets (the ``released_predictions`` stage).

The file is not part of the benchmark data: download it from the pinned URL
(``tgnas.experiments.paper_method.RELEASED``) to ``<data root>/sources/TG-NAS-78ba7908/test.txt``
or pass ``--file``; its SHA256 is checked.

    python scripts/record_released_predictions.py --out metrics/details/released_predictions.json --overwrite
"""

from __future__ import annotations

import argparse

from tgnas import paths
from tgnas.experiments.paper_method import released_report
from tgnas.fileio import check_output, write_json


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--file", default=None, help="the released test.txt (default: below the data root)")
    ap.add_argument("--out", default=str(paths.METRIC_DETAILS_DIR / "released_predictions.json"))
    ap.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    args = ap.parse_args()
    check_output(args.out, args.overwrite, "released-predictions record")
    try:
        report = released_report(args.file)
    except (FileNotFoundError, ValueError) as err:
        ap.exit(2, f"{ap.prog}: error: {err}\n")
    print(f"wrote {write_json(report, args.out)}: CIFAR-10 tau {report['cifar10_all_kendall']:.3f} "
          f"/ rho {report['cifar10_all_spearman']:.3f} on all cells")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
