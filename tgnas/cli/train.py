"""``tgnas train``: train the predictor (a checkpoint every epoch; ``--resume`` continues).

Relative ``--out`` paths are taken relative to the current directory (as any command-line
tool does); the library itself never uses the working directory.
"""

from __future__ import annotations

import argparse
import time
import typing
from dataclasses import MISSING, fields, replace
from pathlib import Path

from tgnas.cli.args import integer, seed, threads
from tgnas.fileio import check_output


#: flags whose name is not the TrainConfig field's (``--a-b`` for field ``a_b`` otherwise)
_FLAG_NAMES = {"train_spaces": "--train-space", "embedding_model": "--model"}


_FLAG_HELP = {
    "train_spaces": "training space (repeat to mix)",
    "fraction": "seeded fraction of each space's cells",
    "pairwise": "kind of pairwise loss", "margin": "hinge margin",
    "gcn": "GCN preset", "embedding_model": "embedding model",
    "patience": "early-stopping patience in epochs (0 = off)",
    "average_from": "average weights from this epoch on (0 = off)",
    "graph_form": "form of NB201/DARTS graphs in training and scoring (tgnas.graph_forms)",
    "monitor_nb201": "record NB201 CIFAR-10 tau per epoch (monitor only, never used for selection)",
}


def _field_choices() -> dict[str, tuple[str, ...]]:
    from tgnas.embeddings import MODELS
    from tgnas.descriptions import LENGTHS
    from tgnas.graph_forms import GRAPH_FORMS
    from tgnas.spaces.catalog import SPACES, space_names
    from tgnas.predictor.model import GCN_PRESETS
    from tgnas.predictor.train import LOSSES, PAIRWISE_KINDS, SCHEDULES
    labelled = [SPACES[n] for n in space_names(provides="labelled")]
    train_spaces = (*(r.name for r in labelled), *(a for r in labelled for a in r.aliases))  # nb301 = darts
    return {"train_spaces": train_spaces, "graph_form": GRAPH_FORMS, "schedule": SCHEDULES, "loss": LOSSES,
            "pairwise": PAIRWISE_KINDS, "length": LENGTHS, "gcn": tuple(GCN_PRESETS),
            "embedding_model": tuple(MODELS)}


def _add_config_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per :class:`~tgnas.predictor.TrainConfig` field (``dest`` = ``cfg_<field>``,
    default None: an unset flag keeps the preset's or TrainConfig's value)."""
    from tgnas.predictor import TrainConfig
    from tgnas.predictor.model import GCN_PRESETS
    hints = typing.get_type_hints(TrainConfig)
    choices = _field_choices()
    group = parser.add_argument_group("settings (tgnas.predictor.TrainConfig; override the --preset)")
    for f in fields(TrainConfig):
        flag = _FLAG_NAMES.get(f.name, "--" + f.name.replace("_", "-"))
        default = f.default_factory() if f.default is MISSING else f.default  # type: ignore[misc]
        shown = list(default) if isinstance(default, tuple) else default
        if f.name == "gcn":
            shown = next((k for k in choices["gcn"] if GCN_PRESETS[k] == default), default)
        help_ = f"{_FLAG_HELP.get(f.name, f.name.replace('_', ' '))} (default {shown})"
        kw: dict = {"dest": f"cfg_{f.name}", "default": None, "help": help_, "metavar": "V"}
        ann = hints[f.name]
        if ann is bool:
            kw["action"] = argparse.BooleanOptionalAction
        elif typing.get_origin(ann) is tuple:
            kw["action"] = "append"
        elif ann is int:
            kw["type"] = seed if f.name == "seed" else integer
        elif ann is float:
            kw["type"] = float  # NaN and inf parse; TrainConfig refuses them, naming the flag
        if f.name in choices:
            kw["choices"] = choices[f.name]
            kw.pop("metavar")
        if ann is bool:
            kw.pop("metavar", None)
        group.add_argument(flag, **kw)


def _train_config(args: argparse.Namespace):
    """The run's TrainConfig: the ``--preset`` (or TrainConfig's defaults), then every flag given."""
    from tgnas.predictor import TrainConfig
    from tgnas.predictor.presets import train_preset
    base = train_preset(args.preset) if args.preset else TrainConfig()
    kw = {f.name: getattr(args, f"cfg_{f.name}") for f in fields(TrainConfig)
          if getattr(args, f"cfg_{f.name}", None) is not None}
    return replace(base, **kw)  # TrainConfig turns lists into tuples and preset names into GCNConfigs


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from tgnas.predictor import train
    config = _train_config(args)
    out = Path(args.out).expanduser().resolve()
    if args.resume and args.overwrite:
        raise ValueError("--resume continues the run at --out; --overwrite replaces it: give one")
    if args.resume:
        if not out.is_file():
            raise FileNotFoundError(f"--resume: no checkpoint at {out}")
        check_output(out, overwrite=True, what="checkpoint")
    else:  # before any data is loaded: a finished checkpoint is never replaced unasked
        check_output(out, args.overwrite, "checkpoint (use --resume to continue it, --overwrite to replace it)")
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"training {config.gcn} on {list(config.train_spaces)} -> {out}")
    t0 = time.perf_counter()
    res = train(config, out, resume=args.resume, device=args.device, progress=not args.no_progress,
                overwrite=args.overwrite)
    last = res.history[-1] if res.history else {}
    print(f"done in {time.perf_counter() - t0:.1f} s: {len(res.history)} epochs, best epoch {res.best_epoch} "
          f"(validation tau {res.best_val_score:.4f}); last epoch val tau {last.get('val_tau')}"
          + ("; stopped early" if res.stopped_early else ""))
    return 0


def register(t: argparse.ArgumentParser) -> None:
    """Fill the ``tgnas train`` parser (:data:`tgnas.cli.app.COMMANDS` names the command)."""
    from tgnas.predictor.presets import TRAIN_PRESETS
    t.description = ("Train the predictor; unset settings keep the --preset's values, "
                     "else the defaults of tgnas.predictor.TrainConfig.")
    t.add_argument("--out", required=True, help="checkpoint file, e.g. models/tgnas_nb101.pt")
    t.add_argument("--preset", choices=TRAIN_PRESETS,
                   help=f"named training preset ({', '.join(TRAIN_PRESETS)}); settings given as well "
                        f"override its fields")
    t.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    t.add_argument("--threads", type=threads, default=1,
                   help="torch CPU threads (0 = torch's default); the model's ops are small, and on a "
                        "shared CPU more threads mostly wait for each other")
    t.add_argument("--resume", action="store_true", help="continue from the checkpoint at --out")
    t.add_argument("--overwrite", action="store_true", help="replace an existing checkpoint at --out")
    t.add_argument("--no-progress", action="store_true")
    _add_config_flags(t)
    t.set_defaults(func=_cmd_train)
