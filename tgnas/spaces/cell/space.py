"""The generic cell space: any cell as a JSON node-op graph (:mod:`.arch`). It scores, but does
not sample or mutate; a generic cell whose labels and shape are NAS-Bench-101's is built as
an NB101 cell (:meth:`CellSpace.builds_as`), so that TG-NAS+ can build its network."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tgnas.spaces.base import Space
from tgnas.spaces.cell.arch import Cell, CellForm
from tgnas.spaces.nb101 import SPACE as NB101

__all__ = ["CellSpace"]


class CellSpace(CellForm):
    """Generic cells in JSON (:class:`~tgnas.spaces.cell.arch.Cell`); an open vocabulary."""

    def builds_as(self, arch: Cell) -> tuple[Space, Any]:
        """``(NB101 space, cell)`` when ``arch`` is an NB101 cell written as a generic cell
        (labels ``input``, NB101 operators, ``output``; at most 7 nodes and 9 edges).

        Raises:
            ValueError: the cell's operators or shape have no network builder, naming them.
        """
        g = self.validate(arch).graph
        unknown = sorted(set(g.ops) - set(NB101.graph_ops))
        if unknown:
            raise ValueError(f"no network builder for operators {unknown} of a generic cell: TG-NAS+ builds "
                             f"generic cells whose labels are NB101's {list(NB101.graph_ops)}; score it without "
                             f"--plus")
        text = ".".join("".join(str(int(v)) for v in row) for row in g.adjacency) + "/" + ",".join(g.ops)
        try:
            return NB101, NB101.parse(text)
        except ValueError as e:
            raise ValueError(f"a generic cell with NB101 operators that is not an NB101 cell ({e}); TG-NAS+ "
                             f"builds only NB101-shaped generic cells; score it without --plus") from None

    def reference_space(self) -> Space:
        return NB101

    def log_size(self, archs: Sequence[Cell]) -> np.ndarray:
        """``(M, 2)`` logs of the ``params`` and ``flops`` the cells carry.

        Raises:
            ValueError: a cell without them (naming its position).
        """
        cells = [self.validate(a) for a in archs]
        missing = [k for k, c in enumerate(cells) if c.size is None]
        if missing:
            raise ValueError(f"cell {missing[0]} carries no 'params' and 'flops': a generic cell's size is what its "
                             f"JSON says")
        return np.log(np.array([c.size for c in cells], dtype=np.float64)).reshape(len(cells), 2)
