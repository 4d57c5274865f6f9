"""The architecture to train: detect and parse it, find the search's result, build its network.

``parse_architecture`` accepts a DARTS genotype string, an NB201 arch string or the name of
a published DARTS genotype; ``build_model`` gives the evaluation network for a dataset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from tgnas.train.config import FinalTrainConfig


@dataclass(frozen=True)
class ParsedArch:
    """An architecture to train: ``space`` (``"darts"``/``"nb201"``), the parsed object, its text."""

    space: str
    arch: Any
    text: str


def named_genotypes() -> dict[str, Any]:
    """Published DARTS genotypes accepted by name (``DARTS_V1``, ``DARTS_V2``)."""
    from tgnas.spaces.darts.arch import DARTS_V1, DARTS_V2
    return {"DARTS_V1": DARTS_V1, "DARTS_V2": DARTS_V2}


def parse_architecture(text: str) -> ParsedArch:
    """Detect and parse a DARTS genotype string, an NB201 arch string or a genotype name.

    NB201 strings start with ``'|'`` (``|nor_conv_3x3~0|+|...``); DARTS strings with
    ``Genotype(``; ``DARTS_V1`` / ``DARTS_V2`` name DARTS' published cells.

    Raises:
        ValueError: anything else, or a string its space rejects (the message says which).
    """
    from tgnas.spaces import get_record, get_space, space_names

    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"genotype must be a non-empty string, got {text!r}; expected a DARTS genotype "
                         f"'Genotype(normal=[...], normal_concat=[...], reduce=[...], reduce_concat=[...])', "
                         f"an NB201 arch string '|op~0|+|op~0|op~1|+|op~0|op~1|op~2|' or one of "
                         f"{sorted(named_genotypes())}")
    s = text.strip()
    named = named_genotypes()
    if s.upper() in named:
        space = get_space("darts")
        arch = space.validate(named[s.upper()])
        return ParsedArch("darts", arch, space.format(arch))
    kinds = [get_record(n) for n in space_names(has="final_net")]
    record = next((r for r in kinds if r.text_prefix and s.startswith(r.text_prefix)), None)
    if record is None:
        raise ValueError(f"cannot tell the kind of genotype {text!r}: expected a DARTS genotype string "
                         f"starting with 'Genotype(', an NB201 arch string starting with '|', or one of "
                         f"{sorted(named)}")
    space = record.make_space()
    try:
        arch = space.parse(s)
    except ValueError as err:
        raise ValueError(f"bad {space.name} genotype: {err}") from None
    return ParsedArch(space.name, arch, space.format(arch))


#: Where notebook 04 (search) writes its full record (``metrics/details/``);
#: :func:`genotype_from_search` reads it.
SEARCH_METRICS_NAME = "search.json"


def genotype_from_search(path: str | Path | None = None) -> str | None:
    """The DARTS genotype string found by the search notebook, or ``None`` if it has not run.

    Reads ``path`` (default ``tgnas.paths.METRIC_DETAILS_DIR / "search.json"``, written by
    notebook 04) and takes ``["darts"]["arch_str"]`` (``["darts"]["genotype"]`` is accepted too).

    Raises:
        KeyError: the file exists but holds no DARTS genotype (the message lists its keys).
    """
    from tgnas import paths

    p = Path(path) if path is not None else paths.METRIC_DETAILS_DIR / SEARCH_METRICS_NAME
    if not p.is_file():
        return None
    doc = json.loads(p.read_text())
    darts = doc.get("darts") if isinstance(doc, dict) else None
    for key in ("arch_str", "genotype"):
        if isinstance(darts, dict) and isinstance(darts.get(key), str):
            return darts[key]
    keys = sorted(darts) if isinstance(darts, dict) else (sorted(doc) if isinstance(doc, dict) else [])
    raise KeyError(f"{p} holds no DARTS genotype at ['darts']['arch_str']; keys there: {keys}")


def build_model(cfg: FinalTrainConfig, parsed: ParsedArch, num_classes: int) -> nn.Module:
    """The evaluation network of ``parsed`` for ``cfg.dataset``.

    DARTS cells: ``NetworkCIFAR`` / ``NetworkImageNet`` (``init_channels``, ``layers`` cells,
    auxiliary head if ``auxiliary`` and ``auxiliary_weight > 0``). NB201 cells: the
    benchmark skeleton with ``C = init_channels`` and ``N = layers`` cells per stage.
    """
    from tgnas.spaces import get_record
    record = get_record(parsed.space)
    if cfg.dataset not in record.final_datasets:
        raise ValueError(f"{record.benchmark or record.name} cells are trained on "
                         f"{' or '.join(record.final_datasets)} here, not {cfg.dataset!r}")
    aux = cfg.auxiliary and cfg.auxiliary_weight > 0
    return record.resolve("final_net")(parsed.arch, cfg.dataset, num_classes, cfg.init_channels, cfg.layers, aux)


def count_parameters(model: nn.Module) -> int:
    """Parameters without the auxiliary head (as DARTS reports model size)."""
    return sum(p.numel() for n, p in model.named_parameters() if not n.startswith("auxiliary_head"))




__all__ = ["ParsedArch", "SEARCH_METRICS_NAME", "build_model", "count_parameters", "genotype_from_search",
           "named_genotypes", "parse_architecture"]
