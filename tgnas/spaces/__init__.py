"""Registry of search spaces: ``get_space("nb201")``."""

from __future__ import annotations

from tgnas.spaces.base import CellGraph, SearchSpace

__all__ = ["CellGraph", "SearchSpace", "SPACE_NAMES", "get_space"]

SPACE_NAMES: tuple[str, ...] = ("nb101", "nb201", "darts")


def get_space(name: str) -> SearchSpace:
    """Return the search space called ``name``; unknown names raise ``KeyError``."""
    if name == "nb101":
        from tgnas.spaces.nb101 import NB101Space
        return NB101Space()
    if name == "nb201":
        from tgnas.spaces.nb201 import NB201Space
        return NB201Space()
    if name == "darts":
        from tgnas.spaces.darts import DartsSpace
        return DartsSpace()
    raise KeyError(f"unknown search space {name!r}; expected one of {list(SPACE_NAMES)}")
