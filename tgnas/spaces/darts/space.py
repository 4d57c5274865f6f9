"""The DARTS space as one :class:`~tgnas.spaces.base.Space`: genotypes (:mod:`.arch`), networks
(:mod:`.net`) and their closed-form size (:mod:`.cost`), the NB301 benchmark and surrogate
(:mod:`.benchmark`) and search moves (:mod:`.search`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

import tgnas.spaces.darts.benchmark as bench
import tgnas.spaces.darts.cost as cost
import tgnas.spaces.darts.net as net
import tgnas.spaces.darts.search as search
from tgnas.spaces.darts.arch import DARTS_V1, DARTS_V2, DartsForm, format_genotype, parse_genotype

__all__ = ["DartsSpace"]


class DartsSpace(DartsForm):
    """DARTS's normal + reduction cells; its labelled data are NB301's 500 cells (CIFAR-10
    validation accuracy) and NB301's surrogate."""

    benchmark = "NB301"
    # the space was called "nb301" in training configs: stored configs still load, and data
    # splits keep their seed (so trained predictors do not change)
    aliases = ("nb301",)
    split_key = "nb301"
    proxy_C, proxy_N = 16, 8  # the small net zero-cost studies of NB301 use
    lite_N = 3
    final_protocols = {
        "cifar10": {},  # FinalTrainConfig's defaults are DARTS' CIFAR-10 protocol
        # 14 cells of 48 channels as in TG-NAS; PC-DARTS's large-batch ImageNet setting
        "imagenet": dict(dataset="imagenet", epochs=250, batch_size=1024, lr=0.5, weight_decay=3e-5,
                         warmup_epochs=5, label_smoothing=0.1, init_channels=48, layers=14, drop_path_prob=0.0,
                         cutout=0, crop_padding=0),
    }
    final_smoke = {
        "cifar10": dict(epochs=1, cpu_threads=1, train_images=1024, test_images=1000, batch_size=64,
                        layers=8, init_channels=16),
        "imagenet": dict(epochs=1, cpu_threads=1, train_images=256, test_images=100, batch_size=32,
                         layers=8, init_channels=16, image_size=64, warmup_epochs=0,
                         auxiliary=False),  # the ImageNet auxiliary head needs >= 160 px inputs
    }
    final_datasets = tuple(final_protocols)
    text_prefix = "Genotype"
    subsample = False
    datasets = ("cifar10",)
    named_archs = {"DARTS_V1": DARTS_V1, "DARTS_V2": DARTS_V2}
    # DARTS_V1, DARTS_V2, and a DARTS-code genotype outside the search space (a same-input
    # pair and a none op)
    examples = (format_genotype(DARTS_V1), format_genotype(DARTS_V2), format_genotype(parse_genotype(
        "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('none', 0), ('sep_conv_5x5', 1), "
        "('skip_connect', 0), ('dil_conv_3x3', 2), ('sep_conv_3x3', 0), ('skip_connect', 3)], "
        "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), "
        "('max_pool_3x3', 1), ('avg_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('none', 1)], "
        "reduce_concat=range(2, 6))")))

    def build_net(self, arch, num_classes: int = 10, C: int | None = None, N: int | None = None):
        return net.build_darts_net(arch, num_classes=num_classes, C=self.proxy_C if C is None else C,
                                   N=self.proxy_N if N is None else N)

    def build_final_net(self, arch, dataset: str, num_classes: int, C: int, N: int, auxiliary: bool):
        return net.build_final_net(arch, dataset, num_classes, C, N, auxiliary)

    def cells(self, form: str = "full"):
        return bench.cell_graphs(form)

    def cell_ids(self):
        return bench.cell_ids()

    def labelled(self, form: str = "full", surrogate_samples: int = 0, seed: int = 0, task: str | None = None):
        self.check_task(task)
        return bench.labelled_cells(form, surrogate_samples, seed)

    def cells_size(self) -> np.ndarray:
        return self.labelled_size()

    def labelled_size(self, surrogate_samples: int = 0, seed: int = 0, task: str | None = None) -> np.ndarray:
        """Log parameters and log MACs (:meth:`size`, :meth:`flops_of`) of the labelled genotypes."""
        self.check_task(task)
        return self.log_size(bench.labelled_genotypes(surrogate_samples, seed))

    def encoding(self):
        return search.DartsEncoding(self)

    def supernet(self):
        return search.DartsSupernet()

    def _costs(self, archs: Sequence) -> np.ndarray:
        return cost.darts_cost_model(self.proxy_C, self.proxy_N).costs(archs)

    def size(self, archs: Sequence) -> np.ndarray:
        """``(M,)`` float64 parameters (millions) of the proxy network (``NetworkCIFAR``, C=16,
        8 cells, 10 classes, no auxiliary head), from the closed-form cost model (:mod:`.cost`;
        equal to counting the built network, in microseconds per genotype)."""
        return self._costs(archs)[:, 0] / 1e6

    def flops_of(self, arch) -> float:
        """Multiply-accumulates (conv + linear, :func:`tgnas.nets.count_flops`'s convention) of
        the network :meth:`size` counts, on one 32x32 image, from the cost model."""
        return float(self._costs([arch])[0, 1])

    def flops(self, archs: Sequence) -> np.ndarray:
        """``(M,)`` float64: :meth:`flops_of` of each architecture (MACs, not millions), vectorised."""
        return self._costs(archs)[:, 1].astype(np.float64)
