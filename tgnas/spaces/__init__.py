"""Search spaces and their registry: ``get_space("nb201")``, ``get_record("darts")``."""

from __future__ import annotations

from tgnas.spaces.base import CellGraph, SearchSpace
from tgnas.spaces.registry import SPACE_NAMES, SpaceRecord, canonical_name, get_record, get_space, register, \
    space_names

__all__ = ["CellGraph", "SearchSpace", "SpaceRecord", "SPACE_NAMES", "canonical_name", "get_record", "get_space",
           "register", "space_names"]
