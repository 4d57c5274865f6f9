"""Benchmark: params + FLOPs of DARTS genotypes from the closed-form cost model.

Samples ``--n`` genotypes of the search space (seeded), then times
``space.size(archs)`` and ``space.flops(archs)`` together (the proxy network, C=16, 8 cells,
32x32 input; the model itself measured first, reported apart), on genotype objects and on
their text forms (which adds parsing). Prints genotypes per second for each; the size-aware
ranker needs >= 1,000 per second. Run by hand; records nothing.

Usage: ``python scripts/bench_darts_size.py [--n 10000] [--repeats 3] [--seed 0]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from tgnas.spaces.catalog import get_space
from tgnas.spaces.darts.cost import darts_cost_model


def _best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="genotypes to sample (default 10,000)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repeats; the best is reported")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    space = get_space("darts")
    rng = np.random.default_rng(args.seed)
    archs = [space.sample(rng) for _ in range(args.n)]
    texts = [space.format(a) for a in archs]

    t = time.perf_counter()
    darts_cost_model(space.proxy_C, space.proxy_N)
    print(f"cost model (C={space.proxy_C}, {space.proxy_N} cells) measured in {time.perf_counter() - t:.3f} s")
    for label, items in (("genotype objects", archs), ("genotype strings", texts)):
        seconds = _best_time(lambda: (space.size(items), space.flops(items)), args.repeats)
        print(f"size + flops of {args.n:,} {label}: {seconds:.3f} s, {args.n / seconds:,.0f} genotypes/s "
              f"(best of {args.repeats})")
    params, flops = space.size(archs), space.flops(archs) / 1e6
    print(f"params {params.min():.3f}-{params.max():.3f} M, FLOPs {flops.min():.1f}-{flops.max():.1f} M MACs")


if __name__ == "__main__":
    main()
