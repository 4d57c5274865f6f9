"""The :class:`~tgnas.spaces.base.Space` of the TransNAS-Bench-101 macro space: every
capability delegates to this folder's modules (:mod:`.arch`, :mod:`.net`, :mod:`.size`,
:mod:`.benchmark`, :mod:`.descriptions`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import tgnas.spaces.tnb101_macro.benchmark as bench
import tgnas.spaces.tnb101_macro.net as net
import tgnas.spaces.tnb101_macro.size as sizes
from tgnas.cellgraph import CellGraph
from tgnas.spaces.base import Space
from tgnas.spaces.tnb101_macro.arch import (
    LABELS,
    NUM_ARCHS,
    TASKS,
    MacroArch,
    check_arch,
    enumerate_archs,
    format_arch,
    from_naslib_tuple,
    neighbours,
    parse_arch,
    to_graph,
    to_naslib_tuple,
)
from tgnas.spaces.tnb101_macro.descriptions import DESCRIPTIONS

__all__ = ["TNB101MacroSpace"]


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"expected a numpy.random.Generator (np.random.default_rng(seed)), got {type(rng).__name__}")
    return rng


class TNB101MacroSpace(Space):
    """TransNAS-Bench-101's macro space; architectures are :class:`~.arch.MacroArch`.

    The space holds 3,256 networks (:data:`n_archs`, :func:`.arch.enumerate_archs`); its
    benchmark file labels 725 of them, which are what :meth:`cells` enumerates
    (``enumerable``: scoring "all" cells scores those 725). Labels come per task
    (:data:`datasets`, ``class_scene`` first) and rank within one task only. Text form:
    ``"64-1242-basic"`` (NASLib's ``"(1, 2, 4, 2, 0, 0)"`` is accepted too).
    """

    name = "tnb101_macro"
    ops = tuple(LABELS.values())
    graph_ops = ("input", *LABELS.values(), "output")
    descriptions = DESCRIPTIONS
    benchmark = "TNB101-macro"
    #: the benchmark's stem width; ``N`` means nothing here (every layer is two blocks). No
    #: ``text_prefix``: the space has no ``build_final_net``, so ``tgnas train-final`` must not detect it.
    proxy_C = 64
    proxy_N = None
    enumerable = True
    subsample = False
    n_archs = NUM_ARCHS
    datasets = TASKS

    # -- text form, validation, graph ---------------------------------------------------------

    def parse(self, text: str) -> MacroArch:
        """Parse ``"64-1242-basic"`` or ``"(1, 2, 4, 2, 0, 0)"``; ``ValueError`` if bad (:func:`.arch.parse_arch`)."""
        return parse_arch(text)

    def format(self, arch: MacroArch) -> str:
        """The canonical net code, ``"64-1242-basic"``."""
        return format_arch(arch)

    def validate(self, arch: MacroArch) -> MacroArch:
        """Return ``arch`` if it is a :class:`MacroArch` (whose rules are checked at construction)."""
        return check_arch(arch)

    def to_graph(self, arch: MacroArch) -> CellGraph:
        """The chain ``input -> layers -> output`` (:func:`.arch.to_graph`)."""
        return to_graph(arch)

    def from_naslib_tuple(self, t: Sequence[int] | str) -> MacroArch:
        """See :func:`.arch.from_naslib_tuple`."""
        return from_naslib_tuple(t)

    def to_naslib_tuple(self, arch: MacroArch) -> tuple[int, ...]:
        """See :func:`.arch.to_naslib_tuple`."""
        return to_naslib_tuple(arch)

    # -- sampling and mutation ----------------------------------------------------------------

    def sample(self, rng: np.random.Generator) -> MacroArch:
        """One of the 3,256 networks, each with probability 1/3,256."""
        archs = enumerate_archs()
        return archs[int(_check_rng(rng).integers(len(archs)))]

    def mutate(self, arch: MacroArch, rng: np.random.Generator) -> MacroArch:
        """A uniformly drawn valid network one elementary change away: one layer's code changed,
        one layer inserted or one removed (:func:`.arch.neighbours`)."""
        options = neighbours(arch)
        return options[int(_check_rng(rng).integers(len(options)))]

    # -- networks and sizes -------------------------------------------------------------------

    def build_net(self, arch: MacroArch, num_classes: int = 10, C: int | None = None, N: int | None = None):
        """The macro network (:func:`.net.build_net`); ``C``: stem width (default 64), ``N`` unused."""
        return net.build_net(arch, num_classes, self.proxy_C if C is None else C, N)

    def size(self, archs: Sequence[MacroArch | str]) -> np.ndarray:
        """``(M,)`` float64 parameters (millions) of the benchmark-size networks (stem width 64,
        ``class_scene``'s 63-class head; :mod:`.size`)."""
        return sizes.params_millions(archs)

    def flops_of(self, arch: MacroArch | str) -> float:
        """Multiply-accumulates of the benchmark-size network on one 256 x 256 image (:func:`.size.num_macs`)."""
        return float(sizes.num_macs(arch))

    # -- benchmark ----------------------------------------------------------------------------

    def cells(self, form: str = "full"):
        """The 725 benchmark networks in ``tnb101_index`` order (:func:`.benchmark.cell_graphs`)."""
        return bench.cell_graphs(form)

    def cell_ids(self):
        """``tnb101_index``, ``arch``, ``naslib`` of :meth:`cells` (:func:`.benchmark.cell_ids`)."""
        return bench.cell_ids()

    def labelled(self, form: str = "full", surrogate_samples: int = 0, seed: int = 0, task: str | None = None):
        """``(GraphSet, labels)`` of one task, ``class_scene`` by default; rank within one task
        only (:func:`.benchmark.labelled_cells`)."""
        return bench.labelled_cells(form, surrogate_samples, seed, task=self.check_task(task))

    def cells_size(self) -> np.ndarray:
        """Log sizes of :meth:`cells`, read through :meth:`cell_ids` (so the two always align)."""
        return self.log_size([self.parse(a) for a in self.cell_ids()["arch"]])

    def labelled_size(self, surrogate_samples: int = 0, seed: int = 0, task: str | None = None) -> np.ndarray:
        """Log parameters and log MACs (:meth:`size`, :meth:`flops_of`) of the networks ``task`` labels."""
        return self.log_size(bench.labelled_archs(self.check_task(task)))

    def accuracy(self, archs: Sequence[MacroArch | str]):
        """``val_accuracy`` per task, NaN where unlabelled (:func:`.benchmark.accuracy`)."""
        return bench.accuracy(archs)
