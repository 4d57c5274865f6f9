"""NAS-Bench-201 as one :class:`~tgnas.spaces.base.Space`: its cells (:mod:`.arch`), networks
(:mod:`.net`), benchmark (:mod:`.benchmark`), cost model (:mod:`.cost`) and search moves
(:mod:`.search`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import tgnas.spaces.nb201.benchmark as bench
import tgnas.spaces.nb201.cost as cost
import tgnas.spaces.nb201.net as net
import tgnas.spaces.nb201.search as search
from tgnas.spaces.nb201.arch import NB201Form

__all__ = ["NB201Space"]


class NB201Space(NB201Form):
    """NAS-Bench-201: 15,625 cells of 6 edges, 5 ops each; 3 datasets with test accuracies."""

    benchmark = "NB201"
    proxy_C, proxy_N = 16, 5  # the benchmark's CIFAR-10 network
    final_protocols = {  # the benchmark's 200-epoch training configuration
        "cifar10": dict(epochs=200, batch_size=256, lr=0.1, nesterov=True, weight_decay=5e-4,
                        init_channels=16, layers=5, auxiliary=False, auxiliary_weight=0.0, drop_path_prob=0.0,
                        grad_clip=0.0, cutout=0)}
    final_smoke = {"cifar10": dict(epochs=1, cpu_threads=1, train_images=1024, test_images=1000, batch_size=64,
                                   layers=1, init_channels=8)}
    final_datasets = tuple(final_protocols)
    text_prefix = "|"
    enumerable = True
    datasets = bench.NB201_DATASETS
    examples = ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|",
                "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|")

    def build_net(self, arch, num_classes: int = 10, C: int | None = None, N: int | None = None):
        return net.build_nb201_net(arch, num_classes=num_classes, C=self.proxy_C if C is None else C,
                                   N=self.proxy_N if N is None else N)

    def build_final_net(self, arch, dataset: str, num_classes: int, C: int, N: int, auxiliary: bool):
        return net.build_final_net(arch, dataset, num_classes, C, N, auxiliary)

    def cells(self, form: str = "full"):
        return bench.cell_graphs(form)

    def cell_ids(self):
        return bench.cell_ids()

    def labelled(self, form: str = "full", surrogate_samples: int = 0, seed: int = 0, task: str | None = None):
        return bench.labelled_cells(form, surrogate_samples, seed, dataset=self.check_task(task))

    def cells_size(self) -> np.ndarray:
        """Log sizes of :meth:`cells`, read through :meth:`cell_ids` (so the two always align)."""
        return self.log_size([self.parse(a) for a in self.cell_ids()["arch"]])

    def labelled_size(self, surrogate_samples: int = 0, seed: int = 0, task: str | None = None) -> np.ndarray:
        """Log parameters and log MACs of the CIFAR-10 benchmark network of all 15,625 cells (the
        size of one network: a task changes only the classifier's width)."""
        self.check_task(task)
        return self.cells_size()  # the labelled cells are the cells, in the same order

    def accuracy(self, archs: Sequence):
        return bench.nb201_accuracy(archs)

    def encoding(self):
        return search.NB201Encoding(self)

    def supernet(self):
        return search.NB201Supernet()

    def flops_of(self, arch) -> float:
        return float(cost.default_cost_model().flops_of(net.as_arch(arch)))

    def size(self, archs: Sequence) -> np.ndarray:
        return cost.nb201_params(archs)
