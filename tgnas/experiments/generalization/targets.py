"""The evaluation targets of the leave-one-space-out benchmark: one per (space, task), each with
its architectures, labels and every baseline on exactly those architectures.

Which architectures each target holds (the largest set on which the data carries the
NAS-Bench-Suite-Zero proxies and this package has the lite proxies):

* ``nb101``: a seeded uniform sample of 2,000 NB101 cells (the TG-NAS+ study's NB101 sample,
  :func:`~tgnas.experiments.tgnas_plus.nb101_sample.nb101_sample_indices`); label: CIFAR-10 test
  accuracy, run 0. The data's proxies cover only 292 other NB101 cells, so none here;
* ``nb201:cifar10`` / ``nb201:cifar100`` / ``nb201:imagenet16-120``: the 9,445 cells that
  NAS-Bench-Suite-Zero scored; label: test accuracy (200 epochs). Proxies: its 13 on CIFAR-10
  and ImageNet16-120, and Zen on every dataset;
* ``darts``: the 500 labelled NB301 cells; label: CIFAR-10 validation accuracy; its 11 proxies;
* ``tnb101_macro:<task>``: the networks each of the 7 tasks labels (662 or 725); label: the
  task's ``val_accuracy``; its 11 proxies (computed on that task).

Baseline columns of every target: ``params`` and ``flops`` (this package's closed-form size of
the space's benchmark network, :meth:`~tgnas.spaces.base.Space.log_size`), the lite proxies
``naswot``, ``synflow`` and ``az_*`` (:mod:`tgnas.plus.signals`), and the data's proxies as
``zc_<name>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from tgnas.experiments.tgnas_plus.nb101_sample import nb101_lite_sample, nb101_sample_indices
from tgnas.experiments.tgnas_plus.signals import nb101_az_sample, nb301_az_table, nb301_lite_table
from tgnas.graphs import GraphSet
from tgnas.plus.signals import az_columns, az_config, lite_columns, lite_config
from tgnas.predictor.size import size_features
from tgnas.proxies.az_nas_lite import benchmark_az_lite_table
from tgnas.proxies.lite import benchmark_lite_table
from tgnas.spaces.catalog import get_space
from tgnas.spaces.darts.benchmark import NB301_PROXIES, load_nb301
from tgnas.spaces.nb101.benchmark import load_nb101
from tgnas.spaces.nb201.benchmark import NB201_DATASETS, load_nb201, load_nb201_proxies
from tgnas.spaces.tnb101_macro.benchmark import PROXIES as TNB101_PROXIES
from tgnas.spaces.tnb101_macro.benchmark import TASKS, benchmark_archs, load_task

#: Held-out units of the benchmark (catalog names), in report order.
HELD_OUT_SPACES: tuple[str, ...] = ("nb101", "nb201", "darts", "tnb101_macro")
#: The seeded NB101 sample (the TG-NAS+ study's).
NB101_SAMPLE, NB101_SEED = 2000, 0


@dataclass(eq=False)
class Target:
    """One (space, task) to evaluate on.

    Attributes:
        space: catalog name (the unit left out of training).
        task: the label's task or dataset.
        archs: M architecture objects of the space.
        labels: ``(M,)`` float64, higher is better.
        baselines: M rows, one column per baseline score (higher = predicted better).
    """

    space: str
    task: str
    archs: list
    labels: np.ndarray
    baselines: pd.DataFrame
    _graphs: dict = field(default_factory=dict, repr=False)
    _size: np.ndarray | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return f"{self.space}:{self.task}"

    def graphs(self, form: str) -> GraphSet:
        """The architectures as a GraphSet of ``form`` (built once)."""
        if form not in self._graphs:
            sp = get_space(self.space)
            self._graphs[form] = GraphSet.from_graphs([sp.to_graph_form(a, form) for a in self.archs])
        return self._graphs[form]

    def size(self) -> np.ndarray:
        """``(M, 2)`` normalised size features (:mod:`tgnas.predictor.size`)."""
        if self._size is None:
            self._size = size_features(get_space(self.space), self.archs)
        return self._size


def _size_columns(space: str, archs: list) -> dict[str, np.ndarray]:
    logs = get_space(space).log_size(archs)
    return {"params": np.exp(logs[:, 0]), "flops": np.exp(logs[:, 1])}


def _lite(lite: pd.DataFrame | None, az: pd.DataFrame | None) -> dict[str, np.ndarray]:
    return {} if lite is None else {**lite_columns(lite), **az_columns(az)}


def _frame(columns: dict[str, np.ndarray], proxies: pd.DataFrame | None) -> pd.DataFrame:
    out = pd.DataFrame({k: np.asarray(v, dtype=np.float64) for k, v in columns.items()})
    if proxies is not None:
        for c in proxies.columns:
            out[f"zc_{c}"] = proxies[c].to_numpy(dtype=np.float64)
    return out


def nb101_targets(lite: bool = True, progress: bool = False) -> list[Target]:
    idx = nb101_sample_indices(NB101_SAMPLE, NB101_SEED)
    table = load_nb101()
    archs = [table.cell(int(i)) for i in idx]
    az = None
    if lite:
        lite = nb101_lite_sample(NB101_SAMPLE, NB101_SEED, progress=progress)
        if not np.array_equal(lite["nb101_index"].to_numpy(), idx):
            raise ValueError("the cached NB101 lite sample is not the benchmark's NB101 sample")
        az = nb101_az_sample(NB101_SAMPLE, NB101_SEED, progress=progress)
    else:
        lite = None
    base = _frame({**_size_columns("nb101", archs), **_lite(lite, az)}, None)
    return [Target("nb101", "cifar10", archs, np.asarray(table.test_acc)[idx], base)]


def nb201_targets(lite: bool = True, progress: bool = False) -> list[Target]:
    sp = get_space("nb201")
    proxies = {d: load_nb201_proxies(d) for d in ("cifar10", "imagenet16-120")}
    idx = proxies["cifar10"].index.to_numpy()
    if not np.array_equal(proxies["imagenet16-120"].index.to_numpy(), idx):
        raise ValueError("the NB201 proxy files of CIFAR-10 and ImageNet16-120 cover different cells")
    df = load_nb201(validation=True).loc[idx]
    archs = [sp.parse(a) for a in df["arch"]]
    common = {**_size_columns("nb201", archs), **(_benchmark_lite(sp, idx, progress) if lite else {})}
    out = []
    for d in NB201_DATASETS:
        zc = proxies[d] if d in proxies else pd.DataFrame({"zen": df[f"zen_{d}"].to_numpy()})
        out.append(Target("nb201", d, archs, df[d].to_numpy(dtype=np.float64), _frame(common, zc)))
    return out


def darts_targets(lite: bool = True, progress: bool = False) -> list[Target]:
    df = load_nb301()
    archs = list(df["genotype"])
    lt = (nb301_lite_table(len(df), progress=progress), nb301_az_table(len(df), progress=progress)) if lite else (None, None)
    base = _frame({**_size_columns("darts", archs), **_lite(*lt)}, df[list(NB301_PROXIES)])
    return [Target("darts", "cifar10", archs, df["val_accuracy"].to_numpy(dtype=np.float64), base)]


def tnb101_targets(lite: bool = True, progress: bool = False) -> list[Target]:
    sp = get_space("tnb101_macro")
    every = list(benchmark_archs())
    out = []
    for task in TASKS:
        t = load_task(task)
        idx = t.index.to_numpy()  # tnb101_index = position in benchmark_archs()
        archs = [every[i] for i in idx]
        base = _frame({**_size_columns("tnb101_macro", archs), **(_benchmark_lite(sp, idx, progress) if lite else {})},
                      t[list(TNB101_PROXIES)])
        out.append(Target("tnb101_macro", task, archs, t["val_accuracy"].to_numpy(dtype=np.float64), base))
    return out


def _benchmark_lite(space, idx: np.ndarray, progress: bool) -> dict[str, np.ndarray]:
    """Lite signals of the benchmark cells ``idx`` of an enumerable space (cached whole-space tables)."""
    lite = benchmark_lite_table(space, lite_config(space), progress=progress).iloc[idx]
    az = benchmark_az_lite_table(space, az_config(space), progress=progress).iloc[idx]
    return _lite(lite, az)


def subsample(target: Target, n: int, seed: int = 0) -> Target:
    """A seeded subset of ``n`` of ``target``'s architectures (all of them when ``n`` is 0 or larger)."""
    if not n or n >= len(target.archs):
        return target
    idx = np.sort(np.random.default_rng([seed, len(target.archs)]).choice(len(target.archs), n, replace=False))
    return Target(target.space, target.task, [target.archs[i] for i in idx], target.labels[idx],
                  target.baselines.iloc[idx].reset_index(drop=True))


@lru_cache(maxsize=4)
def load_targets(lite: bool = True, max_cells: int = 0, progress: bool = False) -> tuple[Target, ...]:
    """Every target, in :data:`HELD_OUT_SPACES` order (built once per process).

    Args:
        lite: with the lite proxies (minutes when their caches are cold); else size and data proxies only.
        max_cells: a seeded subset of at most this many architectures per target (0: all).
    """
    every = (*nb101_targets(lite, progress), *nb201_targets(lite, progress), *darts_targets(lite, progress),
             *tnb101_targets(lite, progress))
    return tuple(subsample(t, max_cells) for t in every)


def paper_target(lite: bool = True, max_cells: int = 0) -> Target:
    """The paper's setting: all 15,625 NB201 cells, CIFAR-10 test accuracy (no data proxies)."""
    sp = get_space("nb201")
    df = load_nb201()
    archs = [sp.parse(a) for a in df["arch"]]
    extra = _benchmark_lite(sp, np.arange(len(df)), False) if lite else {}
    base = _frame({**_size_columns("nb201", archs), **extra}, None)
    return subsample(Target("nb201", "cifar10", archs, df["cifar10"].to_numpy(dtype=np.float64), base), max_cells)
