"""The catalog of search spaces: one line per space folder.

The CLI, the API and the pipeline turn a space's name into its object here, once, at the
edge (``get_space("nb201")``); everything below them takes the object. Adding a space is one
folder under ``tgnas/spaces/`` and one line in :data:`SPACES`.
"""

from __future__ import annotations

from tgnas.spaces import cell, darts, nb101, nb201, tnb101_macro
from tgnas.spaces.base import CAPABILITIES, Space

__all__ = ["SPACES", "PAPER_SPACES", "get_space", "space_names", "canonical_name"]

#: Every space by its one name.
SPACES: dict[str, Space] = {
    "nb101": nb101.SPACE,
    "nb201": nb201.SPACE,
    "darts": darts.SPACE,
    "tnb101_macro": tnb101_macro.SPACE,
    "cell": cell.SPACE,
}

#: The spaces the paper studies (its operator vocabulary is the one-hot and PCA fit set of
#: :mod:`tgnas.embeddings`, fixed so that adding a space changes no paper-space feature).
PAPER_SPACES: tuple[str, ...] = ("nb101", "nb201", "darts")

_ALIASES: dict[str, str] = {alias: name for name, s in SPACES.items() for alias in s.aliases}


def canonical_name(name: str) -> str:
    """``name``, or the space an old alias stands for (``"nb301"`` -> ``"darts"``)."""
    return _ALIASES.get(name, name)


def get_space(name: str) -> Space:
    """The space called ``name`` (old aliases accepted); unknown names raise ``KeyError``
    listing the valid ones."""
    try:
        return SPACES[canonical_name(name)]
    except (KeyError, TypeError):
        raise KeyError(f"unknown space {name!r}; expected one of {list(SPACES)}") from None


def space_names(provides: str | None = None) -> tuple[str, ...]:
    """Names of the catalog's spaces, in catalog order; with ``provides``, only those that
    provide that capability (``space_names(provides="labelled")``: the training spaces)."""
    if provides is not None and provides not in CAPABILITIES:
        raise KeyError(f"unknown capability {provides!r}; expected one of {list(CAPABILITIES)}")
    return tuple(n for n, s in SPACES.items() if provides is None or s.provides(provides))
