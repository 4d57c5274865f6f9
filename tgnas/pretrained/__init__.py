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
A pipeline run replaces them only through :func:`tgnas.shipping.ship` (``tgnas models ship``),
never as a side effect of a notebook.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["PRETRAINED_DIR", "CHECKPOINT", "RULE", "PROVENANCE", "available", "default_checkpoint",
           "provenance", "reference_cells"]

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
    from tgnas.spaces.darts.arch import DARTS_V1, DARTS_V2, format_genotype, parse_genotype
    # a DARTS-code genotype outside the search space: same-input pair and a none op
    odd = format_genotype(parse_genotype(
        "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('none', 0), ('sep_conv_5x5', 1), "
        "('skip_connect', 0), ('dil_conv_3x3', 2), ('sep_conv_3x3', 0), ('skip_connect', 3)], "
        "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), "
        "('max_pool_3x3', 1), ('avg_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('none', 1)], "
        "reduce_concat=range(2, 6))"))
    return {"nb101": list(_NB101_CELLS), "nb201": list(_NB201_CELLS),
            "darts": [format_genotype(DARTS_V1), format_genotype(DARTS_V2), odd]}
