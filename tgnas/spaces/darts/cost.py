"""Parameters and multiply-accumulates of DARTS' CIFAR network in closed form (no network is
built per genotype): the space's ``size`` and ``flops_of``.

For ``NetworkCIFAR(C, 10, layers, auxiliary=False, genotype)`` on one 32x32 image::

    cost(genotype) = skeleton(len(normal_concat), len(reduce_concat))
                     + Σ_{edges of the normal cell} NORMAL[op]
                     + Σ_{edges of the reduction cell} REDUCE_IN[op]   (from input node 0 or 1)
                                                    or REDUCE_MID[op]  (from node 2..5)

``NORMAL[op]`` is the cost of ``op``'s module summed over the network's normal cells (each at
its own channels and resolution); ``REDUCE_IN[op]`` the same over the reduction cells at
stride 2 (a ``skip_connect`` there is a :class:`~tgnas.nets.ops.FactorizedReduce`), and
``REDUCE_MID[op]`` at stride 1 on the halved maps. The skeleton is the stem, the cells'
preprocessing and the classifier; its preprocessing widths depend on how many nodes the
cells concatenate, hence its two keys. The model is exact because every edge of every cell
is built and run (an intermediate node outside the concat still costs) and an op's module
depends only on (op, channels, stride, input side). Nothing is written by hand: each op
module is built with :func:`~tgnas.spaces.darts.net.make_darts_op` and counted, and the
skeleton is counted on the network whose edges are all ``"none"``, once per
``(C, layers, num_classes)`` and process.

MACs follow :func:`tgnas.nets.count_flops`: multiply-accumulates of ``nn.Conv2d`` and
``nn.Linear`` layers; BatchNorm, ReLU, pooling, the zero op, additions and concatenations
are not counted, nor are bias additions. Parameters follow :func:`tgnas.nets.count_params`
(BatchNorm's affine parameters included, the auxiliary head excluded: the network has none).
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch

from tgnas.errors import shorten
from tgnas.nets import count_flops, count_params
from tgnas.spaces.darts.arch import (DARTS_OPS, EDGES_PER_CELL, INTERMEDIATE_NODES, NUM_INPUTS, Genotype,
                                     parse_genotype)
from tgnas.spaces.darts.net import NetworkCIFAR, make_darts_op

__all__ = ["INPUT_SIDE", "CellSite", "DartsCostModel", "darts_cost_model", "op_cost", "as_genotype"]

#: Side (pixels) of the input image the MACs are counted for: NetworkCIFAR's 32x32.
INPUT_SIDE: int = 32
#: Rows of the edge tables: normal-cell edges; reduction-cell edges from the cell inputs
#: (stride 2); reduction-cell edges from an intermediate node (stride 1, halved maps).
NORMAL, REDUCE_IN, REDUCE_MID = 0, 1, 2
_OP_INDEX: dict[str, int] = {op: i for i, op in enumerate(DARTS_OPS)}
_N_OPS = len(DARTS_OPS)
_NONE_CELL = tuple(("none", node) for node in (0, 1) * (EDGES_PER_CELL // 2))


@dataclass(frozen=True)
class CellSite:
    """One cell of the network: whether it reduces, its op channels, and the side of its
    (preprocessed) inputs and of its output."""

    reduction: bool
    C: int
    side_in: int
    side_out: int


def as_genotype(arch: Genotype | str) -> Genotype:
    """``arch`` itself if it is a :class:`Genotype`, parsed if it is a genotype string."""
    if isinstance(arch, Genotype):
        return arch
    if isinstance(arch, str):
        return parse_genotype(arch)
    raise ValueError(f"expected a DARTS Genotype or its string, got {type(arch).__name__}: {shorten(arch)}")


def _check_sizes(C: object, layers: object, num_classes: object) -> tuple[int, int, int]:
    out = []
    for name, value, low in (("C", C, 1), ("layers", layers, 3), ("num_classes", num_classes, 1)):
        try:
            v = operator.index(value) if not isinstance(value, bool) else None
        except TypeError:
            v = None
        if v is None or v < low:
            raise ValueError(f"{name} must be an int >= {low}, got {shorten(value)}")
        out.append(v)
    return out[0], out[1], out[2]


@lru_cache(maxsize=None)
def op_cost(op: str, C: int, stride: int, side: int) -> tuple[int, int]:
    """``(params, MACs)`` of ``make_darts_op(op, C, stride)`` on one ``(C, side, side)`` input."""
    with torch.random.fork_rng(devices=[]):  # building initialises weights; leave the caller's RNG alone
        module = make_darts_op(op, C, stride)
    return count_params(module), count_flops(module, (1, C, side, side))


@lru_cache(maxsize=None)
def _skeleton(C: int, layers: int, num_classes: int, n_normal: int,
              n_reduce: int) -> tuple[int, int, tuple[CellSite, ...]]:
    """``(params, MACs, sites)`` of the network whose edges are all ``"none"`` (its stem,
    preprocessing and classifier), cells concatenating their first ``n_normal`` / ``n_reduce``
    intermediate nodes; ``sites`` read off the built network's cells in a forward pass."""
    g = Genotype(normal=_NONE_CELL, reduce=_NONE_CELL, normal_concat=INTERMEDIATE_NODES[:n_normal],
                 reduce_concat=INTERMEDIATE_NODES[:n_reduce])
    with torch.random.fork_rng(devices=[]):
        net = NetworkCIFAR(C, num_classes, layers, auxiliary=False, genotype=g)
    # the channels and side every cell's ops see (preprocess1's output: both inputs are
    # brought to it) and the side of the cell's output, recorded during the counting pass
    seen: dict[tuple[int, str], torch.Size] = {}

    def recorder(key: tuple[int, str]):
        return lambda mod, inp, out: seen.__setitem__(key, out.shape)

    hooks = [m.register_forward_hook(recorder((i, part))) for i, cell in enumerate(net.cells)
             for part, m in (("pre", cell.preprocess1), ("out", cell))]
    try:
        macs = count_flops(net, (1, 3, INPUT_SIDE, INPUT_SIDE))
    finally:
        for h in hooks:
            h.remove()
    sites = tuple(CellSite(bool(cell.reduction), int(seen[i, "pre"][1]), int(seen[i, "pre"][2]),
                           int(seen[i, "out"][2])) for i, cell in enumerate(net.cells))
    return count_params(net), macs, sites


def _edge_tables(C: int, layers: int, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """``(params, MACs)`` tables, each ``(3, 8)`` int64: rows NORMAL / REDUCE_IN / REDUCE_MID,
    columns :data:`DARTS_OPS`, summed over the cells of that kind."""
    *_, sites = _skeleton(C, layers, num_classes, len(INTERMEDIATE_NODES), len(INTERMEDIATE_NODES))
    table = np.zeros((2, 3, _N_OPS), dtype=np.int64)
    for site in sites:
        if site.reduction:
            rows = ((REDUCE_IN, 2, site.side_in), (REDUCE_MID, 1, site.side_out))
        else:
            rows = ((NORMAL, 1, site.side_in),)
        for row, stride, side in rows:
            for j, op in enumerate(DARTS_OPS):
                table[:, row, j] += op_cost(op, site.C, stride, side)
    table.setflags(write=False)
    return table[0], table[1]


@dataclass(frozen=True, eq=False)
class DartsCostModel:
    """Params and MACs of ``NetworkCIFAR(C, num_classes, layers, auxiliary=False)`` on one
    32x32 image, for any genotype (``"none"`` edges, repeated inputs and any concat
    included), as ``skeleton + Σ edges`` (see the module docstring).

    Attributes:
        edge_params, edge_macs: ``(3, 8)`` int64, rows NORMAL / REDUCE_IN / REDUCE_MID,
            columns :data:`~tgnas.spaces.darts.arch.DARTS_OPS` (read-only).
    """

    C: int
    layers: int
    num_classes: int
    edge_params: np.ndarray
    edge_macs: np.ndarray

    def skeleton(self, n_normal: int = 4, n_reduce: int = 4) -> tuple[int, int]:
        """``(params, MACs)`` of the stem, preprocessing and classifier when the cells
        concatenate ``n_normal`` / ``n_reduce`` nodes."""
        params, macs, _ = _skeleton(self.C, self.layers, self.num_classes, n_normal, n_reduce)
        return params, macs

    def params_of(self, arch: Genotype | str) -> int:
        """Parameters of ``arch``'s network (equal to :func:`~tgnas.nets.count_params` on it)."""
        return int(self.costs([arch])[0, 0])

    def macs_of(self, arch: Genotype | str) -> int:
        """Conv + linear MACs of ``arch``'s network on one 32x32 image (equal to
        :func:`~tgnas.nets.count_flops` on it)."""
        return int(self.costs([arch])[0, 1])

    def costs(self, archs: Sequence[Genotype | str]) -> np.ndarray:
        """``(M, 2)`` int64: params and MACs of each architecture (genotypes or their strings)."""
        genotypes = [as_genotype(a) for a in archs]
        if not genotypes:
            return np.zeros((0, 2), dtype=np.int64)
        # one flat index into the (3 * 8) tables per edge: 16 per genotype
        index = np.array([[_OP_INDEX[op] for op, _ in g.normal]
                          + [(REDUCE_IN if inp < NUM_INPUTS else REDUCE_MID) * _N_OPS + _OP_INDEX[op]
                             for op, inp in g.reduce] for g in genotypes], dtype=np.intp)
        keys = [(len(g.normal_concat), len(g.reduce_concat)) for g in genotypes]
        base = {k: self.skeleton(*k) for k in set(keys)}
        out = np.array([base[k] for k in keys], dtype=np.int64)
        out[:, 0] += self.edge_params.reshape(-1)[index].sum(axis=1)
        out[:, 1] += self.edge_macs.reshape(-1)[index].sum(axis=1)
        return out


@lru_cache(maxsize=None)
def darts_cost_model(C: int, layers: int, num_classes: int = 10) -> DartsCostModel:
    """The cost model of ``NetworkCIFAR(C, num_classes, layers)`` (measured once per process:
    a few hundred milliseconds at C=36, 20 cells)."""
    C, layers, num_classes = _check_sizes(C, layers, num_classes)
    params, macs = _edge_tables(C, layers, num_classes)
    return DartsCostModel(C, layers, num_classes, params, macs)
