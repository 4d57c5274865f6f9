"""``tgnas train-final``: train a found architecture (DARTS genotype or NB201 cell).

Examples::

    tgnas train-final --genotype DARTS_V2 --dataset cifar10 --smoke --out models/final_smoke
    tgnas train-final --genotype "Genotype(normal=[...], ...)" --out models/final_c10
    torchrun --nproc-per-node 8 -m tgnas train-final --genotype DARTS_V2 --dataset imagenet \\
        --data-source /data/imagenet --out models/final_in1k
    tgnas train-final ... --resume          # continue after a SIGTERM / crash

Settings come from the published preset for (dataset, cell space), then ``--params FILE``
(its ``final_training`` section), then one ``--<field>`` flag per
:class:`~tgnas.train.config.FinalTrainConfig` field. The genotype is parsed before anything
else: a bad one exits with status 2 and a message, having loaded and written nothing.
Exit status 143 means the run stopped on SIGTERM (or its time limit) with a checkpoint.
"""

from __future__ import annotations

import argparse
import typing
from dataclasses import fields
from pathlib import Path

from tgnas.errors import SettingError, shorten
from tgnas.train.config import DATASETS, FinalTrainConfig, coerce, resolve_config, split_params


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    hints = typing.get_type_hints(FinalTrainConfig)
    group = parser.add_argument_group("settings (override the preset; 'none' clears optional ones)")
    for f in fields(FinalTrainConfig):
        if f.name == "dataset":
            continue
        ann = hints[f.name]
        if ann is bool:
            group.add_argument(_flag(f.name), dest=f"cfg_{f.name}", action=argparse.BooleanOptionalAction,
                               default=None, help=f"(preset: {f.default})")
        else:
            group.add_argument(_flag(f.name), dest=f"cfg_{f.name}", default=None, metavar="V",
                               help=f"(default preset value; DARTS CIFAR-10: {f.default})")


def _load_params(path: str) -> dict:
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ValueError(f"--params {path}: no such file")
    try:
        doc = yaml.safe_load(p.read_text()) or {}
    except yaml.YAMLError as err:  # e.g. a `!!python/object` tag, which safe loading refuses
        problem = getattr(err, "problem", None) or type(err).__name__
        mark = getattr(err, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ValueError(f"--params {path}: not plain YAML{where}: {shorten(str(problem), 120)}") from None
    section = doc.get("final_training", doc) if isinstance(doc, dict) else None
    if not isinstance(section, dict):
        raise ValueError(f"--params {path}: expected a mapping with a 'final_training' section")
    return section


def _settings(args: argparse.Namespace, space: str) -> tuple[FinalTrainConfig, bool]:
    """(the run's config, smoke): the preset of (dataset, space, smoke), the ``--params``
    file's values, then every ``--<field>`` flag given."""
    from_file: dict = {}
    smoke = args.smoke
    try:
        if args.params:
            meta, from_file = split_params(_load_params(args.params))
            if smoke is None and "smoke" in meta:
                smoke = coerce("smoke", meta["smoke"], bool)
        dataset = args.dataset or from_file.pop("dataset", "cifar10")
        base = resolve_config(space, dataset, bool(smoke), from_file)
    except SettingError as err:
        if not args.params:
            raise
        raise ValueError(f"--params {args.params}: final_training.{err.setting} {err.problem}") from None
    hints = typing.get_type_hints(FinalTrainConfig)
    flags = {f.name: coerce(f.name, getattr(args, f"cfg_{f.name}"), hints[f.name]) for f in fields(FinalTrainConfig)
             if getattr(args, f"cfg_{f.name}", None) is not None}
    return base.with_overrides(flags), bool(smoke)


def _cmd_train_final(args: argparse.Namespace) -> int:
    from tgnas.train.loop import EXIT_INTERRUPTED, check_run_folder, parse_architecture, preflight

    if args.resume and args.overwrite:
        raise ValueError("--resume continues the run in --out; --overwrite replaces it: give one")
    # 1. the architecture, before anything is loaded or written (errors: tgnas.cli.main)
    parsed = parse_architecture(args.genotype)
    # 2. the settings: the preset, then the --params file, then the flags (a bad value of the
    # file names the file; one of a flag, the flag: tgnas.cli.app)
    cfg, smoke = _settings(args, parsed.space)
    preflight(cfg)
    # 3. the output folder: never replace another run unless asked
    check_run_folder(args.out, resume=args.resume, overwrite=args.overwrite)
    from tgnas.train.loop import train_final

    if smoke:
        print("SMOKE RUN: a small network for one short epoch on a subset; not the paper's protocol",
              flush=True)
    result = train_final(cfg, parsed, args.out, resume=args.resume, overwrite=args.overwrite)
    if result.interrupted:
        return EXIT_INTERRUPTED
    if result.history:
        last = result.history[-1]
        print(f"done: {result.epochs_done} epochs, test accuracy {last['test_acc']:.2f} %, "
              f"{result.images_per_s:.1f} images/s, outputs in {result.out_dir}")
    return 0


def register(p: argparse.ArgumentParser) -> None:
    """Fill the ``tgnas train-final`` parser (:data:`tgnas.cli.app.COMMANDS` names the command)."""
    p.description = __doc__
    p.formatter_class = argparse.RawDescriptionHelpFormatter  # keep the docstring's layout
    p.add_argument("--genotype", required=True,
                   help="DARTS genotype string 'Genotype(normal=[...], ...)', NB201 arch string "
                        "'|op~0|+|op~0|op~1|+...', or DARTS_V1 / DARTS_V2")
    p.add_argument("--dataset", choices=DATASETS, default=None, help="default cifar10")
    p.add_argument("--smoke", action=argparse.BooleanOptionalAction, default=None,
                   help="tiny CPU setting: 1 epoch, 1,024 images, small network")
    p.add_argument("--out", required=True, help="output folder (checkpoint, log.jsonl, result.json)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt if present")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh in an OUT that holds another run (its files are replaced)")
    p.add_argument("--params", default=None, help="YAML file whose 'final_training' section sets values")
    _add_config_flags(p)
    p.set_defaults(func=_cmd_train_final)
