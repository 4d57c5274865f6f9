"""Ship a pipeline checkpoint and its TG-NAS+ rule as the package's predictor (``tgnas models ship``).

See :mod:`tgnas.pretrained` for what is shipped and where.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tgnas.pretrained import CHECKPOINT, PRETRAINED_DIR, PROVENANCE, RULE
from tgnas.checkpoints import save_checkpoint
from tgnas.errors import SettingError, shorten
from tgnas.predictor.train import load_checkpoint
from tgnas import datafiles
from tgnas.fileio import atomic_output, check_output, sha256_file, write_json
from tgnas.plus.rule import PlusRule, check_rule_matches
from tgnas.plus.signals import reference_table, signal_table
from tgnas.predictor import Predictor
from tgnas.spaces.catalog import SPACES, get_space, space_names

__all__ = ["ship", "slim_checkpoint"]

#: Data files the shipped predictor was trained or evaluated on (keys of :mod:`tgnas.datafiles`).


def reference_cells() -> dict[str, list[str]]:
    """A few fixed cells per space (texts, each space's ``examples``) whose scores the provenance records."""
    return {name: list(sp.examples) for name, sp in SPACES.items() if sp.examples}


def slim_checkpoint(src: Path | str, dst: Path | str, overwrite: bool = False) -> Path:
    """Write ``src``'s scoring content to ``dst``: the best epoch's weights as both ``best`` and
    the current state, no optimiser / scheduler / RNG / averaging state (it cannot resume)."""
    ckpt = load_checkpoint(src)
    slim = {k: v for k, v in ckpt.items() if k not in ("digest", "average")}
    slim["model_state"] = ckpt["best"]["model_state"]
    slim["optimizer_state"], slim["scheduler_state"], slim["rng_state"] = {}, {}, {}
    slim["inference_only"] = True
    return save_checkpoint(slim, dst, overwrite=overwrite)


def _data_checksums() -> dict[str, dict]:
    out = {}
    for entry in datafiles.FILES:
        key = entry.key
        out[key] = {"path": entry.relpath, "sha256": entry.sha256, "status": datafiles.status(entry)}
    return out


def _validation(ckpt: dict) -> dict[str, Any]:
    best = ckpt["best"]
    row = next((h for h in ckpt["history"] if h.get("epoch") == best["epoch"]), {})
    return {"best_epoch": int(best["epoch"]), "val_score": float(best["val_score"]),
            **{k: v for k, v in row.items() if k.startswith("val_")}}


def ship(checkpoint: Path | str, rule: Path | str, dest: Path | str = PRETRAINED_DIR, overwrite: bool = False,
         command: str = "", reference_n: int = 500,
         results: Mapping | Callable[[Any, Any], Mapping] | None = None,
         progress: bool = True) -> dict[str, Any]:
    """Ship ``checkpoint`` and its TG-NAS+ ``rule`` into ``dest`` with a provenance record.

    The checkpoint is slimmed (:func:`slim_checkpoint`; its scores are checked equal to the
    source's on :func:`reference_cells`), the rule gains a reference population for every
    space with a network builder it lacks (:func:`tgnas.plus.signals.reference_table`, a seeded
    sample of ``reference_n`` cells) and is stamped with the slim checkpoint's SHA-256.

    Args:
        results: the benchmark results to record, measured by the caller: a dict, or a
            callable ``results(predictor, rule) -> dict`` called with the shipped predictor and
            the shipped rule (references added), e.g. the paper's
            ``tgnas.experiments.open_tool.shipped_results`` (NB201 / NB301 tau / rho, about a
            minute with cached lite-proxy tables); ``None``: none recorded.

    Raises:
        ValueError: the rule was made for another checkpoint, or the slim copy scores differently.
        OutputExistsError: a file in ``dest`` exists and not ``overwrite``.

    Returns:
        the provenance record (also written to ``dest/provenance.json``).
    """
    if isinstance(reference_n, bool) or not isinstance(reference_n, int) or reference_n < 2:
        raise SettingError("reference_n", f"must be an integer >= 2 (cells of each reference sample), "
                                          f"got {shorten(reference_n, 40)}")
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
            a, b = source.score(texts, space=get_space(space)), shipped.score(texts, space=get_space(space))
            if not np.array_equal(a, b):
                raise ValueError(f"the slim checkpoint scores {space} cells differently ({a} vs {b})")
            scores[space] = b
        slim_sha = sha256_file(tmp)
        t0 = time.perf_counter()
        for space in space_names(provides="size"):
            if space not in plus_rule.references and SPACES[space].provides("build_net"):
                plus_rule.add_reference(space, reference_table(shipped, SPACES[space], n=reference_n,
                                                               progress=progress, signals=plus_rule.signals))
                plus_rule.info.setdefault("reference_samples", {})[space] = {"n": reference_n, "seed": 0,
                                                                             "how": "uniform sample of the space"}
        ref_seconds = time.perf_counter() - t0
        plus_rule.info["source_checkpoint_sha256"] = plus_rule.info["predictor_sha256"]
        plus_rule.info["predictor_sha256"] = slim_sha
        recorded = {}
        for space, texts in cells.items():
            row = {"cells": texts, "score": [float(v) for v in scores[space]]}
            if space in plus_rule.references:
                archs = [get_space(space).parse(t) for t in texts]
                table = signal_table(shipped, archs, get_space(space), tgnas_scores=scores[space],
                                     signals=plus_rule.signals)
                row["plus_score"] = [float(v) for v in plus_rule.score(table, space)]
            recorded[space] = row
        if callable(results):
            results = results(shipped, plus_rule)
        results = None if results is None else dict(results)
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
