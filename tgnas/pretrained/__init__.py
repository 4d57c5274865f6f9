"""The predictor and TG-NAS+ rule shipped with the package, and the command that ships them.

Files beside this module (package data, installed with tgnas):

* ``tgnas_nb101.pt``: the pipeline's predictor (``dvc repro predictor``: the ``pure`` preset,
  seed 0), reduced to what scoring needs (the best epoch's weights; no optimiser state), so
  it is a few hundred KB. It loads like any checkpoint (``weights_only``, digest checked).
* ``tgnas_plus_rule.json``: its TG-NAS+ rule (notebook 06), with a reference population for
  every space that has a network builder (a seeded sample of the DARTS space is added at
  ship time), stamped with the shipped checkpoint's SHA-256.
* ``provenance.json``: where both came from: the source files' SHA-256, the training config,
  the data files' checksums, training-space validation metrics, NB201 and NB301 results,
  scores of a few fixed cells (a test reproduces them) and the command that shipped them.

``tgnas score`` / ``tgnas search`` / :func:`tgnas.score` use them when no checkpoint is given.
A pipeline run replaces them only through :func:`ship` (``tgnas models ship``), never as a
side effect of a notebook.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["PRETRAINED_DIR", "CHECKPOINT", "RULE", "PROVENANCE", "available", "default_checkpoint",
           "provenance", "reference_cells", "ship", "slim_checkpoint"]

PRETRAINED_DIR: Path = Path(__file__).resolve().parent
CHECKPOINT: Path = PRETRAINED_DIR / "tgnas_nb101.pt"
RULE: Path = PRETRAINED_DIR / "tgnas_plus_rule.json"
PROVENANCE: Path = PRETRAINED_DIR / "provenance.json"

#: Cells of each space whose scores the provenance records (and a test reproduces).
_NB201_CELLS = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
                "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|")
_NB101_CELLS = ("0110.0001.0001.0000/input,conv3x3-bn-relu,maxpool3x3,output",
                "0100000.0010000.0001000.0000100.0000010.0000001.0000000/input,conv3x3-bn-relu,conv1x1-bn-relu,"
                "maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,output")
#: Data files the shipped predictor was trained or evaluated on (keys of :mod:`tgnas.datafiles`).
_DATA_KEYS = ("nb101_full", "nb201_test_acc", "nb301_zc", "cifar10_python")


def available() -> bool:
    """The shipped checkpoint and rule are present."""
    return CHECKPOINT.is_file() and RULE.is_file()


def default_checkpoint() -> Path:
    """The shipped checkpoint; ``FileNotFoundError`` with the way to make one if it is absent."""
    if not CHECKPOINT.is_file():
        raise FileNotFoundError(f"no shipped predictor at {CHECKPOINT}; pass --checkpoint, or train one "
                                f"(dvc repro predictor plus) and ship it with `tgnas models ship`")
    return CHECKPOINT


def provenance() -> dict[str, Any]:
    """The shipped provenance record (``{}`` when nothing is shipped)."""
    return json.loads(PROVENANCE.read_text()) if PROVENANCE.is_file() else {}


def reference_cells() -> dict[str, list[str]]:
    """A few fixed cells per space (texts) whose scores the provenance records."""
    from tgnas.spaces.darts import DARTS_V1, DARTS_V2, format_genotype, parse_genotype
    # a DARTS-code genotype outside the search space: same-input pair and a none op
    odd = format_genotype(parse_genotype(
        "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('none', 0), ('sep_conv_5x5', 1), "
        "('skip_connect', 0), ('dil_conv_3x3', 2), ('sep_conv_3x3', 0), ('skip_connect', 3)], "
        "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), "
        "('max_pool_3x3', 1), ('avg_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('none', 1)], "
        "reduce_concat=range(2, 6))"))
    return {"nb101": list(_NB101_CELLS), "nb201": list(_NB201_CELLS),
            "darts": [format_genotype(DARTS_V1), format_genotype(DARTS_V2), odd]}


def slim_checkpoint(src: Path | str, dst: Path | str, overwrite: bool = False) -> Path:
    """Write ``src``'s scoring content to ``dst``: the best epoch's weights as both ``best`` and
    the current state, no optimiser / scheduler / RNG / averaging state (it cannot resume)."""
    from tgnas.checkpoints import save_checkpoint
    from tgnas.predictor.train import load_checkpoint
    ckpt = load_checkpoint(src)
    slim = {k: v for k, v in ckpt.items() if k not in ("digest", "average")}
    slim["model_state"] = ckpt["best"]["model_state"]
    slim["optimizer_state"], slim["scheduler_state"], slim["rng_state"] = {}, {}, {}
    slim["inference_only"] = True
    return save_checkpoint(slim, dst, overwrite=overwrite)


def _data_checksums() -> dict[str, dict]:
    from tgnas import datafiles
    out = {}
    for key in _DATA_KEYS:
        entry = datafiles.get(key)
        out[key] = {"path": entry.relpath, "sha256": entry.sha256, "status": datafiles.status(entry)}
    return out


def _validation(ckpt: dict) -> dict[str, Any]:
    best = ckpt["best"]
    row = next((h for h in ckpt["history"] if h.get("epoch") == best["epoch"]), {})
    return {"best_epoch": int(best["epoch"]), "val_score": float(best["val_score"]),
            **{k: v for k, v in row.items() if k.startswith("val_")}}


def ship(checkpoint: Path | str, rule: Path | str, dest: Path | str = PRETRAINED_DIR, overwrite: bool = False,
         command: str = "", reference_n: int = 500, results: dict | None = None,
         progress: bool = True) -> dict[str, Any]:
    """Ship ``checkpoint`` and its TG-NAS+ ``rule`` into ``dest`` with a provenance record.

    The checkpoint is slimmed (:func:`slim_checkpoint`; its scores are checked equal to the
    source's on :func:`reference_cells`), the rule gains a reference population for every
    space with a network builder it lacks (:func:`tgnas.scoring.reference_table`, a seeded
    sample of ``reference_n`` cells) and is stamped with the slim checkpoint's SHA-256.

    Args:
        results: NB201 / NB301 results to record (``None``: computed here by
            :func:`tgnas.experiments.open_tool.shipped_results`, about a minute with cached
            lite-proxy tables).

    Raises:
        ValueError: the rule was made for another checkpoint, or the slim copy scores differently.
        OutputExistsError: a file in ``dest`` exists and not ``overwrite``.

    Returns:
        the provenance record (also written to ``dest/provenance.json``).
    """
    from tgnas.ensemble import PlusRule, check_rule_matches
    from tgnas.fileio import atomic_output, check_output, sha256_file, write_json
    from tgnas.predictor import Predictor
    from tgnas.predictor.train import load_checkpoint
    from tgnas.scoring import plus_signals, reference_table
    from tgnas.spaces import get_record, space_names
    src, rule_src = Path(checkpoint).expanduser().resolve(), Path(rule).expanduser().resolve()
    dest = Path(dest).expanduser().resolve()
    out_ckpt, out_rule, out_prov = dest / CHECKPOINT.name, dest / RULE.name, dest / PROVENANCE.name
    for f in (out_ckpt, out_rule, out_prov):  # all checked before any work
        check_output(f, overwrite, "shipped file")
    plus_rule = PlusRule.load(rule_src)
    check_rule_matches(plus_rule, src, rule_src)
    source = Predictor.load(src, device="cpu")
    with atomic_output(out_ckpt, overwrite, "shipped checkpoint") as tmp:
        slim_checkpoint(src, tmp, overwrite=True)
        shipped = Predictor.load(tmp, device="cpu")
        cells = reference_cells()
        scores = {}
        for space, texts in cells.items():
            a, b = source.score(texts, space=space), shipped.score(texts, space=space)
            if not np.array_equal(a, b):
                raise ValueError(f"the slim checkpoint scores {space} cells differently ({a} vs {b})")
            scores[space] = b
        slim_sha = sha256_file(tmp)
        t0 = time.perf_counter()
        for space in space_names(has="size"):
            if space not in plus_rule.references and get_record(space).net is not None:
                plus_rule.add_reference(space, reference_table(shipped, space, n=reference_n, progress=progress))
                plus_rule.info.setdefault("reference_samples", {})[space] = {"n": reference_n, "seed": 0,
                                                                             "how": "uniform sample of the space"}
        ref_seconds = time.perf_counter() - t0
        plus_rule.info["source_checkpoint_sha256"] = plus_rule.info["predictor_sha256"]
        plus_rule.info["predictor_sha256"] = slim_sha
        recorded = {}
        for space, texts in cells.items():
            row = {"cells": texts, "score": [float(v) for v in scores[space]]}
            if space in plus_rule.references:
                archs = [get_record(space).make_space().parse(t) for t in texts]
                table = plus_signals(shipped, archs, space, tgnas_scores=scores[space])
                row["plus_score"] = [float(v) for v in plus_rule.score(table, space)]
            recorded[space] = row
        if results is None:
            from tgnas.experiments.open_tool import shipped_results
            results = shipped_results(shipped, plus_rule, progress=progress)
        ckpt = load_checkpoint(src)
        record = {
            "command": command,
            "shipped_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "source": {"checkpoint": src.name, "checkpoint_sha256": sha256_file(src),
                       "rule": rule_src.name, "rule_sha256": sha256_file(rule_src)},
            "shipped": {"checkpoint_sha256": slim_sha, "checkpoint_bytes": Path(tmp).stat().st_size,
                        "note": "best-epoch weights of the source checkpoint; scores equal on the recorded cells"},
            "config": ckpt["config"],
            "training_validation": _validation(ckpt),
            "data": _data_checksums(),
            "rule": {"signals": list(plus_rule.signals), "weights": plus_rule.weights.tolist(),
                     "weights_from": plus_rule.info.get("weights_from"),
                     "references": sorted(plus_rule.references), "reference_seconds": round(ref_seconds, 1)},
            "results": results,
            "recorded_scores": recorded,
        }
        with atomic_output(out_rule, overwrite, "shipped rule") as tmp_rule:
            plus_rule.save(tmp_rule)
        stamp_check = PlusRule.load(out_rule)
        if stamp_check.info["predictor_sha256"] != slim_sha:
            raise ValueError("the shipped rule does not name the shipped checkpoint")
    write_json(record, out_prov, indent=1)
    return record
