"""NAS-Bench-101 as one :class:`~tgnas.spaces.base.Space`: its cells and module hash
(:mod:`.arch`, :mod:`.hashing`), its network and closed-form size (:mod:`.net`) and its
benchmark table (:mod:`.benchmark`)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

import tgnas.spaces.nb101.benchmark as bench
import tgnas.spaces.nb101.databuild as databuild
import tgnas.spaces.nb101.net as net
import tgnas.spaces.nb101.size as sizes
from tgnas.spaces.nb101.arch import NB101Form

__all__ = ["NB101Space"]


class NB101Space(NB101Form):
    """NAS-Bench-101: 423,624 unique cells with CIFAR-10 test accuracy (one training run)."""

    benchmark = "NB101"
    proxy_C, proxy_N = 128, 3  # the benchmark's own network
    enumerable = True
    n_archs = bench.NUM_CELLS
    datasets = ("cifar10",)
    examples = ("0110.0001.0001.0000/input,conv3x3-bn-relu,maxpool3x3,output",
                "0100000.0010000.0001000.0000100.0000010.0000001.0000000/input,conv3x3-bn-relu,conv1x1-bn-relu,"
                "maxpool3x3,conv3x3-bn-relu,conv3x3-bn-relu,output")

    def build_net(self, arch, num_classes: int = 10, C: int | None = None, N: int | None = None):
        return net.build_nb101_net(arch, num_classes=num_classes, C=self.proxy_C if C is None else C,
                                   N=self.proxy_N if N is None else N)

    def cells(self, form: str = "full"):
        return bench.cell_graphs(form)

    def cell_ids(self):
        return bench.cell_ids()

    def labelled(self, form: str = "full", surrogate_samples: int = 0, seed: int = 0, task: str | None = None):
        self.check_task(task)
        return bench.labelled_cells(form, surrogate_samples, seed)

    def cells_size(self) -> np.ndarray:
        return sizes.log_cost_table()

    def labelled_size(self, surrogate_samples: int = 0, seed: int = 0, task: str | None = None) -> np.ndarray:
        """Log parameters (millions) and log multiply-accumulates of :func:`.net.nb101_cost` (C=128,
        3 cells per stack, 32 x 32) of all 423,624 cells (about 30 s, once per process)."""
        self.check_task(task)
        return sizes.log_cost_table()

    def size(self, archs: Sequence) -> np.ndarray:
        """Closed-form parameters (millions) of the NB101 network (C=128, 3 cells per stack)."""
        return np.array([net.nb101_cost(self.parse(a) if isinstance(a, str) else a).params / 1e6 for a in archs],
                        dtype=np.float64)

    def flops_of(self, arch) -> float:
        """Multiply-accumulates (conv + linear, :func:`tgnas.nets.count_flops`'s convention) of
        the network :meth:`size` counts, on one 32x32 image (:func:`.net.nb101_cost`; the
        benchmark table's ``flops`` also count 2 per BatchNorm output)."""
        return float(net.nb101_cost(self.parse(arch) if isinstance(arch, str) else arch).macs)

    def build_data(self, root: Path, overwrite: bool = False, progress: bool = True) -> list[Path]:
        """The full NB101 table (ObfuNAS accuracies joined with the enumeration), and the
        108-epoch runs when the official TFRecord was fetched."""
        return databuild.build(root, overwrite=overwrite, progress=progress)
