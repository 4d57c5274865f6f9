"""Training/evaluation data of the predictor: graphs and accuracy labels per search space.

Each space gives a :class:`SpaceData` (a :class:`~tgnas.graphs.GraphSet` and one label per
graph). Graphs are built once per process and space: NB101 with array operations from the
benchmark table (and cached on disk, see :func:`tgnas.spaces.nb101.benchmark.table_graphset`), NB201 and
DARTS from their :class:`~tgnas.spaces.base.CellGraph` conversions; each space record names its loader.

Labels (units differ per space; training standardises them per space):

* ``nb101``: CIFAR-10 test accuracy after 108 epochs, run 0 (fraction), all 423,624 cells;
* ``darts``: CIFAR-10 validation accuracy (%) of the 500 labelled NB301 (NAS-Bench-Suite-Zero)
  cells, plus optionally N random DARTS cells labelled by the NB301 surrogate (%);
* ``nb201``: test accuracy (%) on CIFAR-10 (``nb201:cifar100``, ``nb201:imagenet16-120``: on
  those datasets), all 15,625 cells; never a selection criterion when NB201 is evaluated;
* ``tnb101_macro:<task>``: ``val_accuracy`` of one TransNAS-Bench-101 macro task (its own units).

A space with several labelled tasks is one training space per task (``"space:task"``): each is
standardised, batched and validated on its own, so labels of two tasks are never compared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tgnas.graph_forms import check_form
from tgnas.graphs import GraphSet
from tgnas.predictor.size import SIZE_FEATURES, normalise
from tgnas.spaces import catalog


@dataclass(frozen=True, eq=False)
class SpaceData:
    """Graphs and labels of one search space (or of one task of it).

    Attributes:
        space: a training-space name (:func:`split_name`: ``"nb101"``, ``"nb201:cifar100"``), or any
            name for synthetic data.
        graphs: M graphs.
        labels: ``(M,)`` float64 accuracies (space's own units), higher is better.
        size: ``(M, 2)`` float64 normalised size features (:mod:`tgnas.predictor.size`), or None.
    """

    space: str
    graphs: GraphSet
    labels: np.ndarray
    size: np.ndarray | None = None

    def __post_init__(self) -> None:
        labels = np.asarray(self.labels, dtype=np.float64)
        if labels.shape != (len(self.graphs),):
            raise ValueError(f"{self.space}: labels have shape {labels.shape}, expected ({len(self.graphs)},)")
        if not np.all(np.isfinite(labels)):
            raise ValueError(f"{self.space}: labels contain NaN or inf")
        object.__setattr__(self, "labels", labels)
        if self.size is not None:
            size = np.asarray(self.size, dtype=np.float64)
            if size.shape != (len(self.graphs), len(SIZE_FEATURES)) or not np.all(np.isfinite(size)):
                raise ValueError(f"{self.space}: size features must be finite, shape ({len(self.graphs)}, "
                                 f"{len(SIZE_FEATURES)}); got {size.shape}")
            object.__setattr__(self, "size", size)

    def __len__(self) -> int:
        return len(self.graphs)

    def subset(self, index: np.ndarray) -> SpaceData:
        index = np.asarray(index)
        return SpaceData(self.space, self.graphs.subset(index), self.labels[index],
                         None if self.size is None else self.size[index])


def split_name(name: str) -> tuple[str, str | None]:
    """``"nb201:cifar100"`` -> ``("nb201", "cifar100")``; ``"nb101"`` -> ``("nb101", None)``
    (old aliases resolved: ``"nb301"`` -> ``"darts"``). A task is one of the space's ``datasets``."""
    space, _, task = str(name).partition(":")
    return catalog.canonical_name(space), (task or None)


def canonical_train_name(name: str) -> str:
    """The one spelling of a training space: the default (first) task is left out
    (``"nb201:cifar10"`` -> ``"nb201"``), so configs written before tasks existed read the same.
    Unknown spaces (synthetic data) are returned as they are."""
    space, task = split_name(name)
    sp = catalog.SPACES.get(space)
    if sp is None or task is None:
        return space if task is None else f"{space}:{task}"
    task = sp.check_task(task)
    return space if task == sp.datasets[0] else f"{space}:{task}"


def load_space_data(space: str, *, graph_form: str = "full", nb301_surrogate_samples: int = 0,
                    seed: int = 0, size: bool = False) -> SpaceData:
    """Load one training space's graphs and labels (the space's ``labelled`` cells; see the
    module docstring).

    Args:
        space: a catalog space with labelled cells (:data:`TRAIN_SPACES`), optionally with a task
            (``"nb201:cifar100"``, ``"tnb101_macro:jigsaw"``); the old name ``"nb301"`` is read as ``"darts"``.
        graph_form: graph form of NB201 / DARTS cells (:data:`tgnas.graph_forms.GRAPH_FORMS`;
            NB101 cells are the same in every form).
        nb301_surrogate_samples: extra random DARTS cells labelled by the NB301 surrogate
            (drawn with ``numpy.random.default_rng([seed, 301])``); other spaces ignore it.
        seed: seed of the surrogate samples.
        size: also load the normalised size features (:mod:`tgnas.predictor.size`).
    """
    check_form(graph_form)
    name, task = split_name(space)
    sp = catalog.SPACES.get(name)
    if sp is None or not sp.provides("labelled"):
        raise KeyError(f"unknown training space {space!r}; expected one of {list(train_spaces())}")
    # the task only when one is named: a space with one labelled set need not take the argument
    by_task = {} if task is None else {"task": task}
    graphs, labels = sp.labelled(graph_form, surrogate_samples=nb301_surrogate_samples, seed=seed, **by_task)
    features = None
    if size:
        features = normalise(sp, sp.labelled_size(nb301_surrogate_samples, seed, **by_task))
    return SpaceData(canonical_train_name(space), graphs, labels, features)


def train_spaces() -> tuple[str, ...]:
    """Catalog spaces with labelled cells (spaces added to the catalog later included)."""
    return catalog.space_names(provides="labelled")


#: The built-in spaces :func:`load_space_data` knows.
TRAIN_SPACES: tuple[str, ...] = train_spaces()
