"""The predictor and TG-NAS+ rule shipped with the package, and the command that ships them.

Files beside this module (package data, installed with tgnas):

* ``tgnas_ranker.pt``: the ranker chosen by the leave-one-space-out benchmark (notebook 08,
  ``dvc repro --force generalization``): the benchmark's chosen variant trained on every space that
  variant trains on, reduced to what scoring needs (the best epoch's weights; no optimiser
  state), so it is a few hundred KB. It loads like any checkpoint (``weights_only``, digest checked).
* ``tgnas_plus_rule.json``: its TG-NAS+ rule, weights fitted on all four benchmark spaces (each
  scored by the predictor trained without it), with a reference population for every space
  that has a network builder (seeded samples added at ship time), stamped with the shipped
  checkpoint's SHA-256.
* ``provenance.json``: where both came from: the source files' SHA-256, the training config
  (its ``train_spaces``), the data files' checksums, training-space validation metrics, per
  benchmark target the shipped predictor's and TG-NAS+'s tau marked in-sample or held-out
  beside the leave-one-space-out estimate, scores of a few fixed cells (a test reproduces
  them) and the command that shipped them.

``tgnas score`` / ``tgnas search`` / :func:`tgnas.score` use them when no checkpoint is given.
A pipeline run replaces them only through :func:`tgnas.shipping.ship` (``tgnas models ship``),
never as a side effect of a notebook.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tgnas.fileio import read_json

__all__ = ["PRETRAINED_DIR", "CHECKPOINT", "RULE", "PROVENANCE", "available", "default_checkpoint",
           "provenance"]

PRETRAINED_DIR: Path = Path(__file__).resolve().parent
CHECKPOINT: Path = PRETRAINED_DIR / "tgnas_ranker.pt"
RULE: Path = PRETRAINED_DIR / "tgnas_plus_rule.json"
PROVENANCE: Path = PRETRAINED_DIR / "provenance.json"



def available() -> bool:
    """The shipped checkpoint and rule are present."""
    return CHECKPOINT.is_file() and RULE.is_file()


def default_checkpoint() -> Path:
    """The shipped checkpoint; ``FileNotFoundError`` with the way to make one if it is absent."""
    if not CHECKPOINT.is_file():
        raise FileNotFoundError(f"no shipped predictor at {CHECKPOINT}; pass --checkpoint, or train one "
                                f"(dvc repro --force generalization) and ship it with `tgnas models ship`")
    return CHECKPOINT


def provenance() -> dict[str, Any]:
    """The shipped provenance record (``{}`` when nothing is shipped).

    Raises:
        ValueError: the file is not a JSON object (the message names it).
    """
    if not PROVENANCE.is_file():
        return {}
    record = read_json(PROVENANCE, "provenance record")
    if not isinstance(record, dict):
        raise ValueError(f"provenance record {PROVENANCE} must hold a JSON object, got {type(record).__name__}")
    return record
