"""The shipped predictor and TG-NAS+ on NB201 and NB301, per normalisation; scoring rate from a file.

Writes ``metrics/open_tool.json``:

* ``nb201`` / ``nb301``: tau / rho of the shipped predictor, #params, lite NASWOT, lite synflow
  and TG-NAS+ (shipped rule; DARTS cells normalised against the rule's DARTS reference sample),
  and the normalisation study (:func:`tgnas.experiments.open_tool.normalisation_study`): the
  full population as reference, a 500-cell seeded reference sample, ranks within the scored set,
  on all cells and on seeded subsets. NB201 labels are used only to evaluate.
* ``rate``: scoring ``--n`` seeded-random DARTS genotypes (every 10th in DARTS's own forms:
  ``range(2, 6)`` concats, a node fed twice from one input) from a text file with
  :func:`tgnas.scoring.score_stream` (what ``tgnas score --archs`` runs), split into reading +
  parsing + graph conversion and the predictor; and TG-NAS+ per genotype on a few of them.

    python scripts/open_tool_metrics.py [--n 100000] [--plus-n 50] [--out metrics/open_tool.json]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np


def _genotype_file(path: Path, n: int, seed: int = 0) -> None:
    from tgnas.spaces.darts.arch import Genotype, format_genotype
    from tgnas.spaces.darts.space import DartsSpace
    sp = DartsSpace()
    rng = np.random.default_rng(seed)
    with open(path, "w") as fh:
        for k in range(n):
            g = sp.sample(rng)
            if k % 10 == 0:  # DARTS's own forms
                normal = list(g.normal)
                normal[1] = (normal[1][0], normal[0][1])  # node 2 fed twice from one input
                text = format_genotype(Genotype(normal=normal, reduce=g.reduce))
                text = text.replace("[2, 3, 4, 5]", "range(2, 6)")
            else:
                text = format_genotype(g)
            fh.write(text + "\n")


def rate(n: int, plus_n: int) -> dict:
    import torch

    from tgnas.archfiles import read_archs
    from tgnas.scoring import ScoreStats, _Converter, load_predictor, score_stream
    torch.set_num_threads(1)
    pred = load_predictor(None, "cpu")
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "genotypes.txt"
        _genotype_file(f, n)
        size_mb = f.stat().st_size / 1e6
        t0 = time.perf_counter()
        texts_all = [t for _i, t, _w in read_archs(f)]
        t_read = time.perf_counter() - t0
        from tgnas.spaces.catalog import get_space
        sp = get_space("darts")
        t0 = time.perf_counter()
        for t in texts_all:
            sp.parse(t)
        t_parse = time.perf_counter() - t0
        del texts_all
        t0 = time.perf_counter()
        conv = _Converter(sp, pred.config.graph_form)
        for _id, text, _where in read_archs(f):
            conv(text)
        t_convert = time.perf_counter() - t0
        t0 = time.perf_counter()
        stats = ScoreStats()
        m = sum(len(frame) for frame in score_stream(read_archs(f), "darts", stats=stats))
        t_total = time.perf_counter() - t0
        assert m == n == stats.scored
        texts = [t for _i, t, _w in read_archs(f)][:plus_n]
    t0 = time.perf_counter()
    frames = list(score_stream(((i, t, "") for i, t in enumerate(texts)), "darts", plus=True))
    t_plus = time.perf_counter() - t0
    assert sum(len(x) for x in frames) == plus_n
    return {"genotypes": n, "file_mb": round(size_mb, 1), "threads": 1,
            "read_s": round(t_read, 2), "parse_s": round(t_parse, 2),
            "graph_and_form_s": round(t_convert - t_read - t_parse, 2),
            "read_parse_convert_s": round(t_convert, 2),
            "end_to_end_s": round(t_total, 2), "per_second": round(n / t_total),
            "parse_share": round(t_parse / t_total, 3),
            "predictor_share": round(max(0.0, 1 - t_convert / t_total), 3),
            "plus": {"genotypes": plus_n, "seconds": round(t_plus, 2),
                     "seconds_per_genotype": round(t_plus / plus_n, 3)}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--plus-n", type=int, default=50)
    ap.add_argument("--out", default=None, help="default: metrics/open_tool.json under the output root")
    ap.add_argument("--overwrite", action="store_true")
    args = ap.parse_args()
    from tgnas import paths
    from tgnas.plus.rule import PlusRule
    from tgnas.experiments.open_tool import shipped_results
    from tgnas.fileio import check_output, write_json
    from tgnas.pretrained import CHECKPOINT, RULE, provenance
    from tgnas.scoring import load_predictor
    out = check_output(Path(args.out) if args.out else paths.METRICS_DIR / "open_tool.json", args.overwrite)
    pred = load_predictor(None, "cpu")
    t0 = time.perf_counter()
    results = shipped_results(pred, PlusRule.load(RULE), progress=True, with_study=True)
    results["study_seconds"] = round(time.perf_counter() - t0, 1)
    results["rate"] = rate(args.n, args.plus_n)
    results["shipped"] = {"checkpoint": CHECKPOINT.name, "sha256": provenance()["shipped"]["checkpoint_sha256"],
                          "rule_weights": dict(zip(PlusRule.load(RULE).signals, PlusRule.load(RULE).weights))}
    results["machine"] = {"cpu_count": os.cpu_count(), "python": platform.python_version()}
    write_json(results, out, overwrite=True, indent=1)
    print(f"wrote {out}")
    r = results["rate"]
    print(f"{r['genotypes']:,} DARTS genotypes from a file: {r['end_to_end_s']} s ({r['per_second']:,}/s), "
          f"of which reading {r['read_s']} s, parsing {r['parse_s']} s, graphs and graph form "
          f"{r['graph_and_form_s']} s; TG-NAS+ "
          f"{r['plus']['seconds_per_genotype']} s per genotype")


if __name__ == "__main__":
    main()
