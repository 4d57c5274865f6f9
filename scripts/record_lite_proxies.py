#!/usr/bin/env python
"""Record the lite-proxy tables that notebook 06 needs (the frozen ``lite_proxies`` stage).

Computes lite NASWOT/synflow (:mod:`tgnas.proxies.lite`) of all 15,625 NB201 cells, the
seeded 2,000-cell NB101 sample and the 500 labelled NB301 cells (about 8 minutes on one CPU
core), then copies the three tables to ``tgnas.paths.RECORDED_LITE_DIR``
(``data/recorded/lite_proxies/``, committed). ``tgnas.proxies.lite.lite_table`` restores a
table from there when its cache is missing, so a fresh clone's ``dvc repro`` reads them.

    python scripts/record_lite_proxies.py [--nb101-sample 2000]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--nb101-sample", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args(argv)

    import torch

    from tgnas import paths
    from tgnas.spaces.darts.benchmark import load_nb301
    from tgnas.experiments.tgnas_plus.signals import nb301_lite_table
    from tgnas.proxies.lite import benchmark_lite_path, benchmark_lite_table
    from tgnas.spaces.catalog import SPACES
    from tgnas.experiments.tgnas_plus.nb101_sample import nb101_lite_path, nb101_lite_sample

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    n301 = len(load_nb301())
    nb301_lite_table(n301)
    nb101_lite_sample(n=args.nb101_sample, seed=0)
    benchmark_lite_table(SPACES["nb201"])
    made = [benchmark_lite_path(SPACES["nb201"]), nb101_lite_path(args.nb101_sample, 0),
            *paths.LITE_PROXY_DIR.glob(f"nb301_lite_*_n{n301}.npz")]
    paths.ensure_dir(paths.RECORDED_LITE_DIR)
    for f in made:
        if f.resolve() != (paths.RECORDED_LITE_DIR / f.name).resolve():
            shutil.copyfile(f, paths.RECORDED_LITE_DIR / f.name)
        print("recorded", paths.rel(paths.RECORDED_LITE_DIR / f.name))
    print(f"done in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
