"""The architecture to train: detect and parse it, find the search's result, build its network.

``parse_architecture`` accepts a text of any space that trains (DARTS genotype strings,
NB201 arch strings) or the name of a published architecture; ``build_model`` gives the evaluation network for a dataset.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from torch import nn

from tgnas.spaces import catalog
from tgnas.spaces.base import Space
from tgnas.train.config import FinalTrainConfig


@dataclass(frozen=True)
class ParsedArch:
    """An architecture to train: its space's name, the parsed object, its text."""

    space: str
    arch: Any
    text: str


def named_genotypes() -> dict[str, tuple[Space, Any]]:
    """Published architectures accepted by name, of every space that trains
    (``DARTS_V1``, ``DARTS_V2``): ``{name: (space, arch)}``."""
    return {name: (sp, arch) for n in catalog.space_names(provides="build_final_net")
            for sp in (catalog.SPACES[n],) for name, arch in sp.named_archs.items()}


def parse_architecture(text: str) -> ParsedArch:
    """Detect and parse an architecture to train: a text of a space that trains (its
    ``text_prefix`` tells which: DARTS strings start with ``Genotype(``, NB201 strings with
    ``'|'``) or the name of a published architecture (``DARTS_V1`` / ``DARTS_V2``).

    Raises:
        ValueError: anything else, or a string its space rejects (the message says which).
    """
    trainable = [catalog.SPACES[n] for n in catalog.space_names(provides="build_final_net")]
    named = named_genotypes()
    kinds = ", ".join(f"a {sp.name} text starting with {sp.text_prefix!r}" for sp in trainable if sp.text_prefix)
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"genotype must be a non-empty string, got {text!r}; expected {kinds}, or one of "
                         f"{sorted(named)}")
    s = text.strip()
    if s.upper() in named:
        space, arch = named[s.upper()]
        arch = space.validate(arch)
        return ParsedArch(space.name, arch, space.format(arch))
    space = next((sp for sp in trainable if sp.text_prefix and s.startswith(sp.text_prefix)), None)
    if space is None:
        raise ValueError(f"cannot tell the kind of genotype {text!r}: expected {kinds}, or one of {sorted(named)}")
    try:
        arch = space.parse(s)
    except ValueError as err:
        raise ValueError(f"bad {space.name} genotype: {err}") from None
    return ParsedArch(space.name, arch, space.format(arch))


def build_model(cfg: FinalTrainConfig, parsed: ParsedArch, num_classes: int) -> nn.Module:
    """The evaluation network of ``parsed`` for ``cfg.dataset``.

    DARTS cells: ``NetworkCIFAR`` / ``NetworkImageNet`` (``init_channels``, ``layers`` cells,
    auxiliary head if ``auxiliary`` and ``auxiliary_weight > 0``). NB201 cells: the
    benchmark skeleton with ``C = init_channels`` and ``N = layers`` cells per stage.
    """
    space = catalog.get_space(parsed.space)
    if cfg.dataset not in space.final_datasets:
        raise ValueError(f"{space.benchmark or space.name} cells are trained on "
                         f"{' or '.join(space.final_datasets)} here, not {cfg.dataset!r}")
    aux = cfg.auxiliary and cfg.auxiliary_weight > 0
    return space.build_final_net(parsed.arch, cfg.dataset, num_classes, cfg.init_channels, cfg.layers, aux)


def count_parameters(model: nn.Module) -> int:
    """Parameters without the auxiliary head (as DARTS reports model size)."""
    return sum(p.numel() for n, p in model.named_parameters() if not n.startswith("auxiliary_head"))




__all__ = ["ParsedArch", "build_model", "count_parameters", "named_genotypes", "parse_architecture"]
