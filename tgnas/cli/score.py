"""``tgnas score``: score architectures with a trained predictor (or TG-NAS+).

Relative ``--out`` / ``--checkpoint`` paths are taken relative to the current directory
(as any command-line tool does); the library itself never uses the working directory.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from tgnas.cli.args import positive_int, threads
from tgnas.descriptions import parse_op_texts
from tgnas.fileio import atomic_output, check_not_input, check_output
import numpy as np
import pandas as pd


def _all_of_space(space: str, form: str):
    """(GraphSet, DataFrame of identifiers) for every cell of an enumerable space."""
    from tgnas.graphs import graphset
    from tgnas.spaces.catalog import SPACES, get_space
    sp = get_space(space)
    if not sp.enumerable:
        enumerable = [n for n, x in SPACES.items() if x.enumerable]
        raise ValueError(f"--all needs an enumerable space {enumerable}, got {space!r}")
    return graphset(sp, form), sp.cell_ids()


def _cmd_score(args: argparse.Namespace) -> int:
    import torch

    from tgnas.plus.combine import MIN_WITHIN
    descriptions = parse_op_texts(args.describe, "--describe")
    if sum(map(bool, (args.all, args.arch, args.archs))) != 1:
        raise ValueError("give either --all, one or more --arch, or --archs FILE")
    if not args.archs and (args.format or args.column or args.id_column or args.skip_bad):
        raise ValueError("--format, --column, --id-column and --skip-bad read an --archs file")
    if args.normalise != "reference" and not args.plus:
        raise ValueError("--normalise chooses how TG-NAS+ normalises its signals; give --plus")
    if args.normalise == "within" and args.arch and len(args.arch) < MIN_WITHIN:  # before any network is built
        raise ValueError(f"--normalise within ranks within the scored set and needs >= {MIN_WITHIN} "
                         f"architectures, got {len(args.arch)} --arch; use --normalise reference (the default)")
    checkpoint = Path(args.checkpoint).expanduser().resolve() if args.checkpoint else None
    from tgnas.pretrained import default_checkpoint
    _check_score_out(args, checkpoint or default_checkpoint())
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.all:
        return _score_all(args, checkpoint, descriptions)
    return _score_archs(args, checkpoint, descriptions)


def _score_all(args: argparse.Namespace, checkpoint: Path | None, descriptions: dict) -> int:
    """``--all``: every cell of an enumerable space (TG-NAS+: from its cached lite tables)."""
    from tgnas.scoring import load_predictor
    from tgnas.spaces.catalog import get_space
    p = load_predictor(checkpoint, args.device)
    if args.plus:
        return _score_plus_all(args, p, checkpoint)
    graphs, ids = _all_of_space(args.space, p.config.graph_form)
    t0 = time.perf_counter()
    size = p.cells_size(get_space(args.space))
    scores = p.score(graphs, batch_size=args.batch_size, descriptions=descriptions or None, size=size)
    dt = time.perf_counter() - t0
    ids["score"] = scores
    print(f"scored {len(scores)} {args.space} cells in {dt:.3f} s")
    return _report_scores(args, ids, "score")


def _records(args: argparse.Namespace):
    """(records ``(id, text, where)``, name of the id column) of ``--archs FILE`` or the ``--arch`` texts."""
    from tgnas.archfiles import guess_format, read_archs
    if args.archs:
        fmt = args.format or guess_format(str(args.archs))
        # JSONL cells may carry their own "id"; otherwise records are named by line number
        id_name = args.id_column or ("id" if fmt == "jsonl" else "line")
        return read_archs(args.archs, fmt, args.column, args.id_column), id_name
    return ((a, a, f"--arch {k}") for k, a in enumerate(args.arch, 1)), "arch"


def _score_archs(args: argparse.Namespace, checkpoint: Path | None, descriptions: dict) -> int:
    """``--arch`` / ``--archs FILE``: stream through :func:`tgnas.scoring.score_stream`, write CSV
    (``--out``: atomically, so a hard error leaves no file; else to stdout at the end). Columns:
    the ids, then ``score``; or (``--plus``) the ids, the rule's signals, ``seconds``, ``plus_score``."""
    from tgnas.plus.combine import SCORE_COLUMN
    from tgnas.scoring import ScoreStats, load_rule, score_stream
    if args.plus and args.describe:
        raise ValueError("--plus does not take --describe (lite proxies need a buildable network)")
    records, id_name = _records(args)
    stats = ScoreStats()
    column = SCORE_COLUMN if args.plus else "score"
    frames = score_stream(records, args.space, checkpoint=checkpoint, plus=args.plus, rule=args.rule,
                          normalise=args.normalise, descriptions=descriptions or None, skip_bad=args.skip_bad,
                          batch_size=args.batch_size, device=args.device, stats=stats,
                          progress=args.plus and not args.quiet)
    rows = (f.rename(columns={"id": id_name}) for f in frames)
    t0 = time.perf_counter()
    if args.out:
        out = Path(args.out).expanduser().resolve()
        bad = 0
        with atomic_output(out, args.overwrite, "--out") as tmp, open(tmp, "w", newline="") as fh:
            for k, f in enumerate(rows):
                f.to_csv(fh, index=False, header=k == 0, float_format="%.7g")
                bad += int(np.sum(~np.isfinite(f[column].to_numpy())))
        print(f"wrote {out}")
        shown = f"wrote {out}"
    else:  # stdout: only once every row is scored, so a bad line prints no partial table
        allf = pd.concat(list(rows), ignore_index=True)
        bad = int(np.sum(~np.isfinite(allf[column].to_numpy())))
        sys.stdout.write(allf.to_csv(index=False, float_format="%.7g"))
        shown = "CSV above"
    dt = time.perf_counter() - t0
    if args.plus:
        rule = load_rule(args.rule, checkpoint)
        weights = ", ".join(f"{s} {w:.3f}" for s, w in zip(rule.signals, rule.weights))
        print(f"TG-NAS+ ({weights}; weights from {rule.info.get('weights_from', '?')})", file=sys.stderr)
    if args.archs:  # (a file: its count and rate)
        what = "TG-NAS+" if args.plus else "predictor"
        print(f"{what}: scored {stats.scored:,} {args.space} architectures in {dt:.2f} s "
              f"({stats.scored / max(dt, 1e-9):,.0f} per s); {shown}", file=sys.stderr)
    if stats.skipped:
        first = "; ".join(f"{w}: {m}" for w, m in stats.examples[:3])
        print(f"skipped {stats.skipped:,} bad architecture(s) (--skip-bad); first: {first}", file=sys.stderr)
    return _finite_status(args, bad, stats.scored)


def _finite_status(args: argparse.Namespace, bad: int, n: int) -> int:
    """Exit status 1 (with a line on stderr) if ``bad`` of the ``n`` scores are not finite, else 0."""
    if bad:
        print(f"tgnas {args.command_name}: {bad} of {n} scores are not finite (NaN or inf); "
              f"the checkpoint or the architectures give no usable score", file=sys.stderr)
    return 0 if not bad else 1


def _check_score_out(args: argparse.Namespace, checkpoint: Path) -> None:
    """Before scoring: ``--out`` may be written, and is none of the files being read (the
    checkpoint, the ``--archs`` file or the stdin it stands for, the ``--rule``), even with
    ``--overwrite``."""
    if not args.out:
        return
    out = Path(args.out).expanduser()
    rule = args.rule
    if rule is None and args.plus:  # the default rule scoring.load_rule reads
        from tgnas import paths, pretrained
        rule = pretrained.RULE if args.checkpoint is None else paths.PLUS_RULE
    check_not_input(out, {"checkpoint": checkpoint, "--archs file": args.archs, "TG-NAS+ rule": rule})
    if args.archs == "-" and _is_stdin(out):
        raise ValueError(f"--out {out} is the file on standard input (--archs -) being read; choose another file")
    check_output(out, args.overwrite, "--out")


def _is_stdin(path: Path) -> bool:
    """Whether ``path`` is the file standard input reads (``--archs - < FILE``)."""
    try:
        return path.exists() and os.path.samestat(os.fstat(sys.stdin.fileno()), path.stat())
    except (OSError, ValueError, AttributeError):  # no real stdin (a test's capture, a closed one)
        return False


def _report_scores(args: argparse.Namespace, ids, column: str) -> int:
    """``--all``: print the top 5, write ``--out``; exit status 1 if a score is not finite."""
    scores = ids[column].to_numpy()
    print("top 5:\n" + ids.sort_values(column, ascending=False).head(5).to_string(index=False))
    if args.out:
        out = Path(args.out).expanduser().resolve()
        with atomic_output(out, args.overwrite, "--out") as tmp:
            ids.to_csv(tmp, index=False, float_format="%.7g")
        print(f"wrote {out}")
    return _finite_status(args, int(np.sum(~np.isfinite(scores))), len(scores))


def _score_plus_all(args: argparse.Namespace, pred, checkpoint: Path | None) -> int:
    """``tgnas score --plus --all``: TG-NAS+ of every cell of an enumerable space with a network
    builder (lite proxies from the space's cached benchmark tables), every signal of the rule."""
    from tgnas.plus.combine import SCORE_COLUMN, combine
    from tgnas.plus.signals import benchmark_signal_table
    from tgnas.scoring import load_rule
    from tgnas.spaces.catalog import SPACES, get_space
    if args.describe:
        raise ValueError("--plus does not take --describe (lite proxies need a buildable network)")
    sp = get_space(args.space)
    if not (sp.enumerable and sp.provides("build_net") and sp.provides("size")):
        spaces = [n for n, x in SPACES.items() if x.enumerable and x.provides("build_net") and x.provides("size")]
        raise ValueError(f"--plus --all needs an enumerable space with a network builder {spaces}, got "
                         f"--space {args.space}; give the cells with --archs FILE")
    rule = load_rule(args.rule, checkpoint)
    ref = sp.reference_space().name
    if args.normalise == "reference" and ref not in rule.references:  # before any lite network is built
        raise ValueError(f"no reference population for space {ref!r} in the rule; it has {sorted(rule.references)} "
                         f"(use --normalise within, or a rule with a {ref} reference)")
    t0 = time.perf_counter()
    table = benchmark_signal_table(pred, sp, rule.signals, progress=not args.quiet)
    scores = combine(rule, table, sp, args.normalise)
    dt = time.perf_counter() - t0
    ids = sp.cell_ids()
    for c in (*rule.signals, "seconds"):
        ids[c] = table[c].to_numpy()
    ids[SCORE_COLUMN] = scores
    weights = ", ".join(f"{s} {w:.3f}" for s, w in zip(rule.signals, rule.weights))
    print(f"TG-NAS+ ({weights}; weights from {rule.info.get('weights_from', '?')}): "
          f"{len(scores)} cells in {dt:.2f} s")
    return _report_scores(args, ids, SCORE_COLUMN)


def register(s: argparse.ArgumentParser) -> None:
    """Fill the ``tgnas score`` parser (:data:`tgnas.cli.app.COMMANDS` names the command)."""
    from tgnas.spaces.catalog import SPACES, space_names
    s.description = ("Score architectures: --all cells of an enumerable space, --arch texts, or an "
                     "--archs file (one per line, a CSV column or JSONL field; - for stdin), "
                     "streamed in batches; CSV out. A bad input names its line; --skip-bad skips "
                     "and counts it.")
    s.add_argument("--checkpoint", help="predictor checkpoint (default: the predictor shipped with tgnas, "
                                        "`tgnas models list`)")
    s.add_argument("--space", required=True, choices=space_names(),
                   help="the architectures' space; 'cell': generic JSON cells (nodes, edges or adjacency, "
                        "descriptions)")
    s.add_argument("--all", action="store_true",
                   help=f"every cell of the space ({', '.join(n for n, x in SPACES.items() if x.enumerable)})")
    s.add_argument("--arch", action="append", help="one architecture in the space's text form (repeatable)")
    s.add_argument("--archs", metavar="FILE", help="file of architectures ('-' = stdin)")
    s.add_argument("--format", choices=("lines", "csv", "jsonl"),
                   help="form of --archs (default from the name: .csv, .jsonl/.ndjson, else one per line)")
    s.add_argument("--column", help="CSV column / JSONL field holding the architecture (JSONL default: the "
                                    "whole object, for --space cell)")
    s.add_argument("--id-column", help="CSV column / JSONL field of identifiers for the output (default: "
                                       "the line number)")
    s.add_argument("--skip-bad", action="store_true",
                   help="skip architectures that do not parse (counted and reported) instead of stopping")
    s.add_argument("--normalise", choices=("reference", "within"), default="reference",
                   help="TG-NAS+: normal scores against the space's reference sample stored with the rule "
                        "(default) or ranks within the scored set (>= 100 architectures)")
    s.add_argument("--quiet", action="store_true", help="no progress bar")
    s.add_argument("--out", help="CSV file for the scores (never the checkpoint)")
    s.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    s.add_argument("--describe", action="append", metavar="OP=TEXT",
                   help="free-text description of an operator not seen in training")
    s.add_argument("--plus", action="store_true",
                   help="TG-NAS+: combine the predictor with the cheap signals its rule names (#params, lite "
                        "NASWOT/synflow, lite AZ-NAS) (every space with a network builder; generic cells with "
                        "NB101 operators); CSV columns: ids, the rule's signals, seconds, plus_score")
    s.add_argument("--rule", help="TG-NAS+ rule file (default: the shipped rule without --checkpoint, else "
                                  "models/tgnas_plus_rule.json, written by notebook 06)")
    s.add_argument("--batch-size", type=positive_int, default=1024, help="graphs per forward pass")
    s.add_argument("--device", default="auto")
    s.add_argument("--threads", type=threads, default=1, help="torch CPU threads (0 = torch's default)")
    s.set_defaults(func=_cmd_score)
