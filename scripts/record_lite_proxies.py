#!/usr/bin/env python
"""Record the lite-proxy tables that notebook 06 needs (the frozen ``lite_proxies`` stage).

Computes lite NASWOT/synflow (:mod:`tgnas.proxies.lite`) and lite AZ-NAS
(:mod:`tgnas.proxies.az_nas_lite`, noise input) of all 15,625 NB201 cells, the seeded
2,000-cell NB101 sample and the 500 labelled NB301 cells (about 14 minutes on one CPU core),
then copies the six tables to ``tgnas.paths.RECORDED_LITE_DIR`` (``data/recorded/lite_proxies/``,
committed). ``lite_table`` and ``az_nas_lite_table`` restore a table from there when its cache
is missing, so a fresh clone's ``dvc repro`` reads these bits instead of computing its own: the
lite networks' floats follow the CPU's kernels (``tgnas.numerics``), and so would the results.

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
    from tgnas.experiments.tgnas_plus.signals import nb101_az_sample, nb301_az_table, nb301_lite_table
    from tgnas.proxies.az_nas_lite import benchmark_az_lite_path, benchmark_az_lite_table
    from tgnas.plus.signals import az_config
    from tgnas.proxies.lite import benchmark_lite_path, benchmark_lite_table
    from tgnas.spaces.catalog import SPACES
    from tgnas.experiments.tgnas_plus.nb101_sample import nb101_lite_path, nb101_lite_sample

    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    n301 = len(load_nb301())
    nb301_lite_table(n301)
    nb101_lite_sample(n=args.nb101_sample, seed=0)
    benchmark_lite_table(SPACES["nb201"])
    nb301_az_table(n301)
    nb101_az_sample(n=args.nb101_sample, seed=0)
    benchmark_az_lite_table(SPACES["nb201"], az_config(SPACES["nb201"]))
    made = [benchmark_lite_path(SPACES["nb201"]), nb101_lite_path(args.nb101_sample, 0),
            *paths.LITE_PROXY_DIR.glob(f"nb301_lite_*_n{n301}.npz"),
            benchmark_az_lite_path(SPACES["nb201"], az_config(SPACES["nb201"])),
            *paths.LITE_PROXY_DIR.glob(f"nb101_az_nas_noise_*_n{args.nb101_sample}_seed0.npz"),
            *paths.LITE_PROXY_DIR.glob(f"nb301_az_nas_noise_*_n{n301}.npz")]
    paths.ensure_dir(paths.RECORDED_LITE_DIR)
    for f in made:
        if f.resolve() != (paths.RECORDED_LITE_DIR / f.name).resolve():
            shutil.copyfile(f, paths.RECORDED_LITE_DIR / f.name)
        print("recorded", paths.rel(paths.RECORDED_LITE_DIR / f.name))
    print(f"done in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
