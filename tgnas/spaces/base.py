"""The space protocol: :class:`Space`, everything a search space provides and all that generic
code may ask of one.

Every space is a folder ``tgnas/spaces/<name>/`` whose ``SPACE`` is an instance of a
:class:`Space` subclass; :mod:`tgnas.spaces.catalog` names them. Architectures become
:class:`~tgnas.cellgraph.CellGraph` s (node-op DAGs) for the predictor, which never sees a
space's own text form.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tgnas.cellgraph import CellGraph
from tgnas.graph_forms import to_form


class Space(ABC):
    """A search space and every fact about it: the protocol each ``tgnas/spaces/<name>/`` folder
    implements, and all that generic code (graphs, embeddings, predictor, proxies, search,
    final training) may ask of a space.

    ``Arch`` is the space's own immutable architecture type (documented by each space).

    Every space provides its text form, validation and graph conversion (the abstract
    methods). The optional capabilities below raise :class:`NotImplementedError` unless the
    space overrides them; :meth:`provides` tells which it does (``space.provides("supernet")``).
    The catalog (:mod:`tgnas.spaces.catalog`) holds one instance per space; instances hold
    no mutable state, so they are shared.
    """

    #: catalog name (``"nb201"``); one name per space everywhere.
    name: str
    #: the operator choices of the space (what sampling and mutation draw from).
    ops: tuple[str, ...] = ()
    #: every node label :meth:`to_graph` can produce, operator choices and roles.
    graph_ops: tuple[str, ...] = ()
    #: English text of the labels of :attr:`graph_ops` that the reviewed operator table of
    #: :mod:`tgnas.descriptions` lacks: ``{label: {"short", "medium", "long"}}`` (the "T" of
    #: TG-NAS; :mod:`tgnas.descriptions` collects them).
    descriptions: Mapping[str, Mapping[str, str]] = {}
    #: display name of the space's labelled data (``"NB301"``); ``""`` if none.
    benchmark: str = ""
    #: old names still accepted when reading stored configs and checkpoints.
    aliases: tuple[str, ...] = ()
    #: the text hashed into the seed of the predictor's train/validation split (default: :attr:`name`).
    split_key: str = ""
    #: the proxy network's default width and cells per stage (:meth:`build_net`).
    proxy_C: int | None = None
    proxy_N: int | None = None
    #: cells per stage of the lite-proxy network of TG-NAS+.
    lite_N: int = 1
    #: datasets :meth:`build_final_net` builds networks for.
    final_datasets: tuple[str, ...] = ()
    #: the published final-training protocol per dataset: overrides of
    #: :class:`tgnas.train.config.FinalTrainConfig`'s defaults (DARTS's CIFAR-10 protocol).
    final_protocols: Mapping[str, Mapping[str, Any]] = {}
    #: per dataset, what turns the protocol into a CPU smoke run of a minute or two.
    final_smoke: Mapping[str, Mapping[str, Any]] = {}
    #: how the space's text form starts (``tgnas train-final`` detects the space by it).
    text_prefix: str = ""
    #: :meth:`cells` are every cell of the space (``tgnas score --all``).
    enumerable: bool = False
    #: training on the space may use a fraction of its cells (else all of them).
    subsample: bool = True
    #: a few texts of the space whose shipped scores the provenance records (and a test reproduces).
    examples: tuple[str, ...] = ()
    #: published architectures by name (``"DARTS_V2"``), accepted where a text of the space is.
    named_archs: Mapping[str, Any] = {}
    #: how many distinct architectures the space holds, where known (random search stops there).
    n_archs: int | None = None
    #: the benchmark's datasets (or tasks) with accuracy labels, the default first.
    datasets: tuple[str, ...] = ()

    # -- what every space provides ------------------------------------------------------------

    @abstractmethod
    def parse(self, text: str) -> Any:
        """Parse the space's textual form into a validated architecture; ``ValueError`` if bad."""

    @abstractmethod
    def format(self, arch: Any) -> str:
        """The space's textual form of ``arch`` (``parse(format(a)) == a``)."""

    @abstractmethod
    def validate(self, arch: Any) -> Any:
        """Return ``arch`` if valid, else raise ``ValueError`` saying what is wrong."""

    @abstractmethod
    def to_graph(self, arch: Any) -> CellGraph:
        """Convert to the node-op DAG the predictor consumes."""

    def to_graph_form(self, arch: Any, form: str) -> CellGraph:
        """``arch`` as a graph of ``form`` (:mod:`tgnas.graph_forms`); a space may override this
        with a direct route that gives the same graph faster."""
        return to_form(self.to_graph(arch), form)

    def sample(self, rng: np.random.Generator) -> Any:
        """Draw one valid architecture uniformly (as the space defines uniform)."""
        raise self._lacks("sample")

    def mutate(self, arch: Any, rng: np.random.Generator) -> Any:
        """Return a valid architecture differing from ``arch`` by one elementary change."""
        raise self._lacks("mutate")

    # -- optional capabilities ----------------------------------------------------------------

    def build_net(self, arch: Any, num_classes: int = 10, C: int | None = None, N: int | None = None):
        """The proxy network (``nn.Module``) of ``arch``; ``C``/``N`` default to :attr:`proxy_C`/:attr:`proxy_N`."""
        raise self._lacks("build_net")

    def build_final_net(self, arch: Any, dataset: str, num_classes: int, C: int, N: int, auxiliary: bool):
        """The evaluation network ``tgnas train-final`` trains."""
        raise self._lacks("build_final_net")

    def cells(self, form: str = "full"):
        """The benchmark's cells in table order, as a :class:`~tgnas.graphs.GraphSet` of ``form``."""
        raise self._lacks("cells")

    def cell_ids(self):
        """``DataFrame``: one row of identifiers per cell of :meth:`cells`."""
        raise self._lacks("cell_ids")

    def labelled(self, form: str = "full", surrogate_samples: int = 0, seed: int = 0, task: str | None = None):
        """The predictor's training data of the space: ``(GraphSet, (M,) labels)``; ``task``: one
        of :attr:`datasets` (None: the first)."""
        raise self._lacks("labelled")

    def labelled_size(self, surrogate_samples: int = 0, seed: int = 0, task: str | None = None) -> np.ndarray:
        """``(M, 2)`` float64 ``[log params, log FLOPs]`` (:meth:`log_size`) of the cells of
        :meth:`labelled` with the same arguments, in the same order."""
        raise self._lacks("labelled_size")

    def accuracy(self, archs: Sequence[Any]):
        """``DataFrame`` of benchmark accuracies of ``archs``, one column per dataset."""
        raise self._lacks("accuracy")

    def encoding(self):
        """The continuous encoding evolution searches in (``tgnas.search.encoding``)."""
        raise self._lacks("encoding")

    def supernet(self):
        """A fresh pruning supernet (``tgnas.search.pruning.Supernet``)."""
        raise self._lacks("supernet")

    def flops_of(self, arch: Any) -> float:
        """Exact FLOPs of ``arch``'s benchmark network from a closed-form model (else search
        counts FLOPs on :meth:`build_net`)."""
        raise self._lacks("flops_of")

    def size(self, archs: Sequence[Any]) -> np.ndarray:
        """``(M,)`` float64 parameters (millions) of the space's benchmark-size network: the
        ``params`` signal of TG-NAS+. Archs may be objects or text forms."""
        raise self._lacks("size")

    def cells_size(self) -> np.ndarray:
        """``(M, 2)`` log sizes (:meth:`log_size`) of :meth:`cells`, in its order."""
        raise self._lacks("cells_size")

    def log_size(self, archs: Sequence[Any]) -> np.ndarray:
        """``(M, 2)`` float64: natural logs of :meth:`size` (parameters, millions) and of
        :meth:`flops_of` (multiply-accumulates) of each arch's benchmark-size network -- the size
        inputs of a size-aware predictor (:mod:`tgnas.predictor.size`). Needs both capabilities."""
        archs = list(archs)
        if not (self.provides("size") and self.provides("flops_of")):
            raise NotImplementedError(f"search space {self.name!r} has no size model (it needs 'size' and "
                                      f"'flops_of')")
        params = np.asarray(self.size(archs), dtype=np.float64)
        flops = np.array([self.flops_of(a) for a in archs], dtype=np.float64)
        return np.column_stack([np.log(params), np.log(flops)]) if archs else np.zeros((0, 2))

    def build_data(self, root: Path, overwrite: bool = False, progress: bool = True) -> list[Path]:
        """Build the derived data files the space reads (from originals below the data root
        ``root``); return their paths (default: the space reads originals only)."""
        return []

    def builds_as(self, arch: Any) -> tuple[Space, Any]:
        """The space whose network builder builds ``arch``, and ``arch`` in it (a generic cell
        whose operators are a built-in space's); ``ValueError`` when none does."""
        return self, arch

    def reference_space(self) -> Space:
        """The space whose TG-NAS+ reference population ranks this space's cells (itself, or the
        space that :meth:`builds_as` builds its cells in)."""
        return self

    def descriptions_of(self, arch: Any) -> tuple[tuple[str, str], ...]:
        """Free-text descriptions ``((op, text), ...)`` that ``arch`` itself carries (generic cells)."""
        return ()

    # -- helpers ------------------------------------------------------------------------------

    def provides(self, capability: str) -> bool:
        """Whether the space overrides the method ``capability`` (``"supernet"``, ``"size"``, ...)."""
        mine = getattr(type(self), capability, None)
        if mine is None or not callable(mine):
            raise KeyError(f"unknown capability {capability!r}; expected one of {list(CAPABILITIES)}")
        return mine is not getattr(Space, capability)

    @property
    def seed_key(self) -> str:
        """The text hashed into the seed of the predictor's split of this space's cells."""
        return self.split_key or self.name

    def check_task(self, task: str | None) -> str:
        """``task`` (None: the first of :attr:`datasets`); ``KeyError`` listing the tasks otherwise."""
        if task is None and self.datasets:
            return self.datasets[0]
        if task not in self.datasets:
            raise KeyError(f"space {self.name!r} has no labelled task {task!r}; expected one of {list(self.datasets)}")
        return task

    def _lacks(self, capability: str) -> NotImplementedError:
        return NotImplementedError(f"search space {self.name!r} has no {capability!r}")

    def __repr__(self) -> str:
        return f"<space {self.name}>"


#: Optional capabilities a space may provide (:meth:`Space.provides`).
CAPABILITIES: tuple[str, ...] = ("sample", "mutate", "build_net", "build_final_net", "cells", "cell_ids",
                                 "labelled", "labelled_size", "cells_size", "accuracy", "encoding", "supernet", "flops_of",
                                 "size")
