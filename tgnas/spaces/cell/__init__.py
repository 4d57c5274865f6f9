"""The generic ``cell`` space: a file format for any cell-based architecture (JSON node-op
graphs with optional English descriptions of new operators).

``SPACE`` is the space object (:class:`~tgnas.spaces.cell.space.CellSpace`).
"""

from tgnas.spaces.cell.space import CellSpace

SPACE = CellSpace()

__all__ = ["SPACE", "CellSpace"]
