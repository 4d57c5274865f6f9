"""Training/evaluation data of the predictor: graphs and accuracy labels per search space.

Each space gives a :class:`SpaceData` (a :class:`~tgnas.graphs.GraphSet` and one label per
graph). Graphs are built once per process and space: NB101 with array operations from the
benchmark table (and cached on disk, see :func:`tgnas.graphs.nb101_graphset`), NB201 and
DARTS from their :class:`~tgnas.spaces.base.CellGraph` conversions.

Labels (units differ per space; training standardises them per space):

* ``nb101``: CIFAR-10 test accuracy after 108 epochs, run 0 (fraction), all 423,624 cells;
* ``nb301``: CIFAR-10 validation accuracy (%) of the 500 labelled NAS-Bench-Suite-Zero
  cells, plus optionally N random DARTS cells labelled by the NB301 surrogate (%);
* ``nb201``: CIFAR-10 test accuracy (%), all 15,625 cells -- for reverse-transfer
  experiments and as a *monitor*; never a selection criterion when NB201 is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tgnas.graph_forms import check_form, to_form
from tgnas.graphs import GraphSet, nb101_graphset

#: Spaces that :func:`load_space_data` knows.
TRAIN_SPACES: tuple[str, ...] = ("nb101", "nb301", "nb201")


@dataclass(frozen=True, eq=False)
class SpaceData:
    """Graphs and labels of one search space.

    Attributes:
        space: ``"nb101"``, ``"nb301"``, ``"nb201"`` (or any name for synthetic data).
        graphs: M graphs.
        labels: ``(M,)`` float64 accuracies (space's own units), higher is better.
    """

    space: str
    graphs: GraphSet
    labels: np.ndarray

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels, dtype=np.float64)
        if labels.shape != (len(self.graphs),):
            raise ValueError(f"{self.space}: labels have shape {labels.shape}, expected ({len(self.graphs)},)")
        if not np.all(np.isfinite(labels)):
            raise ValueError(f"{self.space}: labels contain NaN or inf")
        object.__setattr__(self, "labels", labels)

    def __len__(self) -> int:
        return len(self.graphs)

    def subset(self, index: np.ndarray) -> SpaceData:
        return SpaceData(self.space, self.graphs.subset(index), self.labels[np.asarray(index)])


@lru_cache(maxsize=4)
def nb201_graphset(form: str = "full") -> GraphSet:
    """All 15,625 NB201 cells as graphs in ``form`` (:mod:`tgnas.graph_forms`), in benchmark
    index order (8 nodes in the full form, fewer otherwise)."""
    from tgnas.spaces.nb201 import NB201Space, enumerate_archs
    check_form(form)
    space = NB201Space()
    return GraphSet.from_graphs([to_form(space.to_graph(a), form) for a in enumerate_archs()])


def load_space_data(space: str, *, graph_form: str = "full", nb301_surrogate_samples: int = 0,
                    seed: int = 0) -> SpaceData:
    """Load one space's graphs and labels (see the module docstring).

    Args:
        space: one of :data:`TRAIN_SPACES`.
        graph_form: graph form of NB201 / DARTS cells (:data:`tgnas.graph_forms.GRAPH_FORMS`;
            NB101 cells are the same in every form).
        nb301_surrogate_samples: extra random DARTS cells labelled by the NB301 surrogate
            (drawn with ``numpy.random.default_rng([seed, 301])``).
        seed: seed of the surrogate samples.
    """
    check_form(graph_form)
    if space == "nb101":
        from tgnas.benchmarks.nb101 import load_nb101
        table = load_nb101()
        return SpaceData("nb101", nb101_graphset(table), np.asarray(table.test_acc))
    if space == "nb201":
        from tgnas.benchmarks.nb201 import load_nb201
        df = load_nb201()
        if not np.array_equal(df.index.to_numpy(), np.arange(len(df))):
            raise ValueError("load_nb201() is not in benchmark index order 0..15624")
        return SpaceData("nb201", nb201_graphset(graph_form), df["cifar10"].to_numpy())
    if space == "nb301":
        from tgnas.benchmarks.nb301 import NB301Surrogate, load_nb301
        from tgnas.spaces.darts import DartsSpace
        darts = DartsSpace()
        df = load_nb301()
        genotypes = list(df["genotype"])
        labels = df["val_accuracy"].to_numpy(dtype=np.float64)
        if nb301_surrogate_samples < 0:
            raise ValueError(f"nb301_surrogate_samples must be >= 0, got {nb301_surrogate_samples}")
        if nb301_surrogate_samples:
            rng = np.random.default_rng([seed, 301])
            extra = [darts.sample(rng) for _ in range(nb301_surrogate_samples)]
            genotypes += extra
            labels = np.concatenate([labels, NB301Surrogate().predict(extra)])
        return SpaceData("nb301", GraphSet.from_graphs([to_form(darts.to_graph(g), graph_form) for g in genotypes]), labels)
    raise KeyError(f"unknown training space {space!r}; expected one of {list(TRAIN_SPACES)}")
