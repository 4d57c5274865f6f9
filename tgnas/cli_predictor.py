"""``tgnas train`` and ``tgnas score``: train the predictor, score architectures with it.

Relative ``--out`` / ``--checkpoint`` paths are taken relative to the current directory
(as any command-line tool does); the library itself never uses the working directory.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tgnas import paths

#: TrainConfig fields settable from the command line (flag ``--a-b`` for field ``a_b``);
#: unset flags keep TrainConfig's defaults (one source of truth, and no torch import here).
_CONFIG_FLAGS = ("fraction", "nb301_surrogate_samples", "seed", "epochs", "batch_size", "lr", "weight_decay",
                 "schedule", "loss", "pairwise", "margin", "length", "val_fraction", "patience", "graph_form",
                 "average_from")


def _train_config(args: argparse.Namespace):
    """The run's TrainConfig: the ``--preset`` (or TrainConfig's defaults), then every flag given."""
    from dataclasses import replace

    from tgnas.predictor import TrainConfig, gcn_preset
    from tgnas.predictor.presets import train_preset
    base = train_preset(args.preset) if args.preset else TrainConfig()
    kw = {k: getattr(args, k) for k in _CONFIG_FLAGS if getattr(args, k) is not None}
    if args.model is not None:
        kw["embedding_model"] = args.model
    if args.gcn is not None:
        kw["gcn"] = gcn_preset(args.gcn)
    if args.train_space:
        kw["train_spaces"] = tuple(args.train_space)
    if args.monitor_nb201:
        kw["monitor_nb201"] = True
    return replace(base, **kw)


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from tgnas.predictor import train
    if args.threads:
        torch.set_num_threads(args.threads)
    config = _train_config(args)
    out = Path(args.out).expanduser().resolve()
    print(f"training {config.gcn} on {list(config.train_spaces)} -> {out}")
    t0 = time.perf_counter()
    res = train(config, out, resume=args.resume, device=args.device, progress=not args.no_progress)
    last = res.history[-1] if res.history else {}
    print(f"done in {time.perf_counter() - t0:.1f} s: {len(res.history)} epochs, best epoch {res.best_epoch} "
          f"(validation tau {res.best_val_score:.4f}); last epoch val tau {last.get('val_tau')}"
          + ("; stopped early" if res.stopped_early else ""))
    return 0


def _all_of_space(space: str, form: str):
    """(GraphSet, DataFrame of identifiers) for every cell of an enumerable space."""
    from tgnas.graphs import graphset
    from tgnas.spaces import get_record, space_names
    record = get_record(space)
    if not record.enumerable:
        raise ValueError(f"--all needs an enumerable space {list(space_names(has='enumerable'))}, got {space!r}")
    return graphset(space, form), record.resolve("cell_ids")()


def _cmd_score(args: argparse.Namespace) -> int:
    import pandas as pd

    import torch

    from tgnas.predictor import Predictor
    if args.threads:
        torch.set_num_threads(args.threads)
    descriptions = {}
    for item in args.describe or []:
        op, sep, text = item.partition("=")
        if not sep or not op or not text:
            raise ValueError(f"--describe expects OP=TEXT, got {item!r}")
        descriptions[op] = text
    if bool(args.all) == bool(args.arch):
        raise ValueError("give either --all or one or more --arch")
    checkpoint = Path(args.checkpoint).expanduser().resolve()
    p = Predictor.load(checkpoint, device=args.device)
    if args.plus:
        return _score_plus(args, p, checkpoint)
    if args.all:
        graphs, ids = _all_of_space(args.space, p.config.graph_form)
        t0 = time.perf_counter()
        scores = p.score(graphs, batch_size=args.batch_size, descriptions=descriptions or None)
        dt = time.perf_counter() - t0
        ids["score"] = scores
        print(f"scored {len(scores)} {args.space} cells in {dt:.3f} s")
    else:
        scores = p.score(args.arch, space=args.space, descriptions=descriptions or None)
        ids = pd.DataFrame({"arch": args.arch, "score": scores})
    return _report_scores(args, ids, "score")


def _report_scores(args: argparse.Namespace, ids, column: str) -> int:
    """Print the top 5 (``--all``) or every score (``--arch``), write ``--out``; exit status 1
    if a score is not finite."""
    import numpy as np
    scores = ids[column].to_numpy()
    if args.all:
        print("top 5:\n" + ids.sort_values(column, ascending=False).head(5).to_string(index=False))
    else:
        for a, s in zip(args.arch, scores):
            print(f"{s:.6f}\t{a}")
    if args.out:
        out = Path(args.out).expanduser().resolve()
        paths.ensure_dir(out.parent)
        ids.to_csv(out, index=False, float_format="%.7g")
        print(f"wrote {out}")
    return 0 if np.all(np.isfinite(scores)) else 1


def _score_plus(args: argparse.Namespace, pred, checkpoint: Path) -> int:
    """``tgnas score --plus``: TG-NAS+ (predictor + #params + lite NASWOT/synflow, weights of the rule)."""
    import pandas as pd

    from tgnas.ensemble import PlusRule, check_rule_matches
    from tgnas.experiments.tgnas_plus.signals import SIGNALS, nb201_signal_table
    if args.space != "nb201":
        raise ValueError(f"--plus scores nb201 cells (the rule's target population), got --space {args.space}")
    if args.describe:
        raise ValueError("--plus does not take --describe (lite proxies need a buildable network)")
    if bool(args.all) == bool(args.arch):
        raise ValueError("give either --all or one or more --arch")
    rule_path = Path(args.rule).expanduser().resolve() if args.rule else paths.PLUS_RULE
    rule = PlusRule.load(rule_path)
    check_rule_matches(rule, checkpoint, rule_path)
    t0 = time.perf_counter()
    if args.all:
        from tgnas.benchmarks.nb201 import enumerate_archs
        from tgnas.spaces.nb201 import NB201Space
        table = nb201_signal_table(pred, progress=True)
        sp = NB201Space()
        ids = pd.DataFrame({"nb201_index": table["nb201_index"], "arch": [sp.format(a) for a in enumerate_archs()]})
    else:
        from tgnas.proxies import params_and_flops_all
        from tgnas.proxies.lite import DEFAULT_LITE, lite_batch, lite_signals
        batch = lite_batch(DEFAULT_LITE)
        lite = [lite_signals(a, "nb201", DEFAULT_LITE, batch) for a in args.arch]
        # a -inf NASWOT (singular kernel) lies below the whole reference population: lowest score
        table = pd.DataFrame({"tgnas": pred.score(args.arch, space="nb201"),
                              "params": params_and_flops_all(args.arch, cache=True)["params"].to_numpy(),
                              "naswot": [r["naswot"] for r in lite],
                              "synflow": [r["synflow"] for r in lite], "seconds": [r["seconds"] for r in lite]})
        ids = pd.DataFrame({"arch": args.arch})
    scores = rule.score(table, "nb201")
    dt = time.perf_counter() - t0
    for s in SIGNALS:
        ids[s] = table[s].to_numpy()
    ids["plus_score"] = scores
    weights = ", ".join(f"{s} {w:.3f}" for s, w in zip(rule.signals, rule.weights))
    print(f"TG-NAS+ ({weights}; weights from {rule.info.get('weights_from', '?')}): "
          f"{len(scores)} cells in {dt:.2f} s")
    return _report_scores(args, ids, "plus_score")


def register(sub: argparse._SubParsersAction) -> None:
    from tgnas.spaces import get_record, space_names
    labelled = [get_record(n) for n in space_names(has="labelled")]
    t = sub.add_parser("train", help="train the TG-NAS predictor (checkpoint every epoch)",
                       description="Train the predictor; unset options keep the defaults of "
                                   "tgnas.predictor.TrainConfig.")
    t.add_argument("--train-space", action="append",
                   choices=[*(r.name for r in labelled), *(a for r in labelled for a in r.aliases)],
                   help="training space (repeat to mix; default: the preset's, else nb101; nb301 = darts)")
    t.add_argument("--out", required=True, help="checkpoint file, e.g. models/tgnas_nb101.pt")
    t.add_argument("--epochs", type=int)
    t.add_argument("--fraction", type=float, help="seeded fraction of each space's cells (default 1)")
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--weight-decay", type=float)
    t.add_argument("--schedule", choices=("cosine", "step", "constant"))
    t.add_argument("--loss", choices=("mse", "pairwise"))
    t.add_argument("--pairwise", choices=("logistic", "hinge"), help="kind of pairwise loss")
    t.add_argument("--margin", type=float, help="hinge margin")
    t.add_argument("--preset", help="named training preset (tgnas.predictor.presets.TRAIN_PRESETS: upstream, "
                                    "tgnas-v1, pure); flags given as well override its fields")
    t.add_argument("--gcn", choices=("upstream", "paper"), help="GCN preset (default upstream)")
    t.add_argument("--model", help="embedding model: minilm (default), mpnet, minilm-pca64, mpnet-pca64, onehot")
    t.add_argument("--length", choices=("short", "medium", "long"))
    t.add_argument("--seed", type=int)
    t.add_argument("--val-fraction", type=float)
    t.add_argument("--patience", type=int, help="early-stopping patience in epochs (0 = off)")
    t.add_argument("--nb301-surrogate-samples", type=int)
    t.add_argument("--average-from", type=int, help="average weights from this epoch on (0 = off)")
    t.add_argument("--graph-form", choices=("full", "no_none", "pruned", "contracted"),
                   help="form of NB201/DARTS graphs in training and scoring (tgnas.graph_forms)")
    t.add_argument("--monitor-nb201", action="store_true",
                   help="record NB201 CIFAR-10 tau per epoch (monitor only, never used for selection)")
    t.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    t.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (0 = torch's default); the model's ops are small, and on a "
                        "shared CPU more threads mostly wait for each other")
    t.add_argument("--resume", action="store_true", help="continue from the checkpoint at --out")
    t.add_argument("--no-progress", action="store_true")
    t.set_defaults(func=_cmd_train)

    s = sub.add_parser("score", help="score architectures with a trained predictor")
    s.add_argument("--checkpoint", required=True)
    s.add_argument("--space", required=True, choices=space_names())
    s.add_argument("--all", action="store_true",
                   help=f"every cell of the space ({', '.join(space_names(has='enumerable'))})")
    s.add_argument("--arch", action="append", help="one architecture in the space's text form (repeatable)")
    s.add_argument("--out", help="CSV file for the scores")
    s.add_argument("--describe", action="append", metavar="OP=TEXT",
                   help="free-text description of an operator not seen in training")
    s.add_argument("--plus", action="store_true",
                   help="TG-NAS+: combine the predictor with #params and lite NASWOT/synflow (nb201)")
    s.add_argument("--rule", help="TG-NAS+ rule file (default models/tgnas_plus_rule.json, written by "
                                  "notebook 06 for the pipeline's checkpoint)")
    s.add_argument("--batch-size", type=int, default=1024)
    s.add_argument("--device", default="auto")
    s.add_argument("--threads", type=int, default=1, help="torch CPU threads (0 = torch's default)")
    s.set_defaults(func=_cmd_score)

