"""``tgnas search``: find an architecture with a scorer (TG-NAS predictor, TG-NAS+, FLOPs, synflow)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tgnas.cli.args import positive_int, seed, threads
from tgnas.fileio import check_not_input, check_output, write_json


def _cmd_search(args: argparse.Namespace) -> int:
    from tgnas.search.cascade import MAX_POOL
    from tgnas.search.pruning import PruneConfig
    from tgnas.search.runner import run_search
    from tgnas.search.scorers import make_scorer
    from tgnas.search.counting import CountingScorer
    from tgnas.spaces.catalog import get_space

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    json_out = check_output(args.json, args.overwrite, "--json") if args.json else None
    space = get_space(args.space)
    # Like `tgnas score`: a path given on the command line is relative to the shell's folder;
    # the default is the predictor shipped with tgnas (tgnas.pretrained) and, for TG-NAS+,
    # its rule (another checkpoint's rule is models/tgnas_plus_rule.json unless --rule says).
    prescorer = (args.prescorer or "tgnas") if args.algorithm == "cascade" else None
    needs_predictor = {args.scorer, prescorer} & {"tgnas", "tgnas+"}
    checkpoint = rule = None
    if needs_predictor:
        from tgnas.pretrained import default_checkpoint
        checkpoint = str(default_checkpoint() if args.checkpoint is None else _user_path(args.checkpoint))
    if args.scorer == "tgnas+":
        from tgnas import paths, pretrained
        rule = str(_user_path(args.rule) if args.rule else
                   pretrained.RULE if args.checkpoint is None else paths.PLUS_RULE)
    elif args.rule or args.reference:
        raise ValueError(f"--rule and --reference belong to --scorer tgnas+, not {args.scorer!r}")
    if json_out is not None:  # (even with --overwrite: the result must not replace an input)
        check_not_input(json_out, {"checkpoint": checkpoint, "TG-NAS+ rule": rule}, "--json")
    options: dict = {"evolution": args.evolution} if args.algorithm == "hybrid" else {}
    if args.algorithm == "cascade":
        if prescorer == args.scorer:
            raise ValueError(f"--algorithm cascade re-ranks a cheap prescorer's shortlist with a costlier "
                             f"scorer; --prescorer and --scorer are both {args.scorer!r}")
        if prescorer not in CHEAP_SCORERS:
            raise ValueError(f"--prescorer must be a cheap scorer, one of {list(CHEAP_SCORERS)}; "
                             f"got {prescorer!r}")
        if args.pool is not None and args.pool > MAX_POOL:  # before any scorer is built
            raise ValueError(f"--pool {args.pool:,}: at most {MAX_POOL:,} sampled cells fit in memory "
                             f"(about 4 KB each)")
        options["prescorer"] = make_scorer(prescorer, space, checkpoint=checkpoint, device=args.device)
        options["pool"] = "auto" if args.pool is None else args.pool
    elif args.pool is not None or args.prescorer is not None:
        raise ValueError("--prescorer and --pool belong to --algorithm cascade")
    fn = make_scorer(args.scorer, space, checkpoint=checkpoint, device=args.device, rule=rule,
                     seed=args.seed, reference=args.reference)
    counter = CountingScorer(fn, args.scorer)
    res = run_search(args.algorithm, space, counter, budget=args.budget, seed=args.seed,
                     progress=not args.quiet, prune_config=PruneConfig(n_samples=args.samples), **options)
    print(res.summary())
    if space.provides("accuracy"):
        try:
            acc = space.accuracy([res.arch]).iloc[0]
            print("benchmark test accuracy (not used by the search): "
                  + ", ".join(f"{d} {acc[d]:.2f}%" for d in space.datasets))
        except Exception as err:  # the look-up is informative only; the data may be absent
            print(f"(benchmark accuracy not available: {err})")
    if json_out is not None:
        out = res.to_dict()
        out["extra"] = {k: v for k, v in res.extra.items() if k in JSON_EXTRA}
        write_json(out, json_out, overwrite=args.overwrite)
        print(f"wrote {json_out}")
    return 0


#: Scorers a cascade may pre-score a whole space with (microseconds per cell).
CHEAP_SCORERS: tuple[str, ...] = ("tgnas", "flops")
#: ``SearchResult.extra`` entries written by ``--json`` (plain values only).
JSON_EXTRA: tuple[str, ...] = ("winner", "generations", "cycles", "draws", "pool", "pool_distinct", "enumerated",
                               "prescorer", "prescore_seconds", "winner_prescore_rank", "winner_prescore")


def _user_path(text: str) -> Path:
    return Path(text).expanduser().resolve()


def register(p: argparse.ArgumentParser) -> None:
    """Fill the ``tgnas search`` parser (:data:`tgnas.cli.app.COMMANDS` names the command)."""
    from tgnas.search.runner import ALGORITHMS
    from tgnas.search.scorers import SCORER_NAMES
    from tgnas.spaces.catalog import space_names

    p.description = ("Search NB201 or DARTS with a scorer and print the found architecture "
                     "in the space's textual form, with the run's statistics.")
    p.add_argument("--space", required=True, choices=space_names(provides="encoding"))
    p.add_argument("--algorithm", default="hybrid", choices=ALGORITHMS,
                   help="prune: supernet pruning; evolve: the paper's continuous-encoding evolution; "
                        "aging: regularised evolution; hybrid: prune + evolve, the better; random; "
                        "cascade: --prescorer ranks a pool, --scorer re-ranks its top --budget")
    p.add_argument("--scorer", default="tgnas", choices=SCORER_NAMES,
                   help="tgnas: the predictor; tgnas+: predictor + lite proxies under a TG-NAS+ rule "
                        "(lite seed = --seed; ~0.02-0.1 s per cell)")
    p.add_argument("--checkpoint",
                   help="predictor checkpoint for the tgnas / tgnas+ scorers (relative to the current folder; "
                        "default: the predictor shipped with tgnas, see `tgnas models list`)")
    p.add_argument("--rule", help="TG-NAS+ rule of the checkpoint (default: the shipped rule without "
                                  "--checkpoint, else models/tgnas_plus_rule.json, written by notebook 06)")
    p.add_argument("--reference", default=None,
                   help="TG-NAS+: the rule's reference population normalising the signals (default: the "
                        "space's own; DARTS with the pipeline rule: nb301)")
    p.add_argument("--prescorer", default=None,
                   help=f"cascade: the cheap scorer of the pool, one of {list(CHEAP_SCORERS)} (default: tgnas)")
    p.add_argument("--pool", type=positive_int, default=None,
                   help="cascade: cells sampled for the prescorer (default: every cell of an enumerable "
                        "space such as NB201, else 10,000; at most 1,000,000)")
    p.add_argument("--budget", type=positive_int, default=200,
                   help="distinct architectures for evolve / aging / random, the hybrid's evolution and "
                        "the cascade's re-ranked shortlist")
    p.add_argument("--samples", type=positive_int, default=16, help="pruning: Monte-Carlo contexts per edge and round")
    p.add_argument("--evolution", default="evolve", choices=("evolve", "aging"),
                   help="the hybrid's evolutionary part")
    p.add_argument("--seed", type=seed, default=0)
    p.add_argument("--device", default="cpu", help="predictor device: cpu, cuda, auto")
    p.add_argument("--threads", type=threads, default=None,
                   help="torch CPU threads (1 is fastest for the small networks of the flops / synflow scorers)")
    p.add_argument("--json", default=None, help="also write the result summary to this JSON file")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_search)
