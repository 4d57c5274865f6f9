"""Training/evaluation data of the predictor: graphs and accuracy labels per search space.

Each space gives a :class:`SpaceData` (a :class:`~tgnas.graphs.GraphSet` and one label per
graph). Graphs are built once per process and space: NB101 with array operations from the
benchmark table (and cached on disk, see :func:`tgnas.spaces.nb101.benchmark.table_graphset`), NB201 and
DARTS from their :class:`~tgnas.spaces.base.CellGraph` conversions; each space record names its loader.

Labels (units differ per space; training standardises them per space):

* ``nb101``: CIFAR-10 test accuracy after 108 epochs, run 0 (fraction), all 423,624 cells;
* ``darts``: CIFAR-10 validation accuracy (%) of the 500 labelled NB301 (NAS-Bench-Suite-Zero)
  cells, plus optionally N random DARTS cells labelled by the NB301 surrogate (%);
* ``nb201``: CIFAR-10 test accuracy (%), all 15,625 cells -- for reverse-transfer
  experiments and as a *monitor*; never a selection criterion when NB201 is evaluated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tgnas.graph_forms import check_form
from tgnas.graphs import GraphSet
from tgnas.spaces import catalog


@dataclass(frozen=True, eq=False)
class SpaceData:
    """Graphs and labels of one search space.

    Attributes:
        space: ``"nb101"``, ``"darts"``, ``"nb201"`` (or any name for synthetic data).
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


def load_space_data(space: str, *, graph_form: str = "full", nb301_surrogate_samples: int = 0,
                    seed: int = 0) -> SpaceData:
    """Load one space's graphs and labels (the space's ``labelled`` cells; see the module docstring).

    Args:
        space: the name of a catalog space with labelled cells (:data:`TRAIN_SPACES`); the old name
            ``"nb301"`` is read as ``"darts"``.
        graph_form: graph form of NB201 / DARTS cells (:data:`tgnas.graph_forms.GRAPH_FORMS`;
            NB101 cells are the same in every form).
        nb301_surrogate_samples: extra random DARTS cells labelled by the NB301 surrogate
            (drawn with ``numpy.random.default_rng([seed, 301])``); other spaces ignore it.
        seed: seed of the surrogate samples.
    """
    check_form(graph_form)
    try:
        sp = catalog.get_space(space)
    except KeyError:
        sp = None
    if sp is None or not sp.provides("labelled"):
        raise KeyError(f"unknown training space {space!r}; expected one of {list(train_spaces())}")
    graphs, labels = sp.labelled(graph_form, surrogate_samples=nb301_surrogate_samples, seed=seed)
    return SpaceData(sp.name, graphs, labels)


def train_spaces() -> tuple[str, ...]:
    """Catalog spaces with labelled cells (spaces added to the catalog later included)."""
    return catalog.space_names(provides="labelled")


#: The built-in spaces :func:`load_space_data` knows.
TRAIN_SPACES: tuple[str, ...] = train_spaces()
