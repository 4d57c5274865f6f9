"""``tgnas data build``: every space builds the derived data files it reads (``space.build_data``),
from the public originals ``tgnas data fetch`` downloaded (see :mod:`tgnas.datafiles`)."""

from __future__ import annotations

from pathlib import Path

from tgnas import paths
from tgnas.spaces.catalog import SPACES

__all__ = ["build"]


def build(root: Path | None = None, overwrite: bool = False, progress: bool = True) -> list[Path]:
    """Build every derived file that is missing or corrupt below ``root`` (default: the data
    root); return their paths. Files already verified are left alone unless ``overwrite``."""
    root = Path(root).expanduser().resolve() if root is not None else paths.data_root()
    return [p for sp in SPACES.values() for p in sp.build_data(root, overwrite=overwrite, progress=progress)]
