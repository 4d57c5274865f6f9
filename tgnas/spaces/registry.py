"""One record per search space: every per-space fact in one place.

A :class:`SpaceRecord` names the space's class (which owns the text form, validation, graph
conversion and graph-node labels, sampling and mutation), its network builders
and their proxy defaults, its benchmark (labelled cells, identifiers, datasets) and what
search needs (continuous encoding, pruning supernet, a fast FLOPs model). References to code
are ``"module:attr"`` strings resolved on first use (:meth:`SpaceRecord.resolve`), so
``import tgnas.spaces`` stays light: no torch, no data files, no benchmark modules.

Adding a space = its own module(s) + one :func:`register` call (see docs/spaces.md, "How to
add a search space"). Callers ask :func:`get_record` / :func:`get_space`; nothing else branches on
a space's name.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field, fields
from typing import Any

__all__ = ["SpaceRecord", "SPACE_NAMES", "register", "get_record", "get_space", "space_names", "canonical_name"]


@dataclass(frozen=True)
class SpaceRecord:
    """Everything the package knows about one search space.

    Attributes:
        name: the one name of the space (``"darts"``, never ``"nb301"``).
        space: ``"module:Class"`` of the :class:`~tgnas.spaces.base.SearchSpace` (built with no argument).
        benchmark: display name of the space's labelled data (``"NB301"``); ``""`` if none.
        aliases: old names still accepted when reading stored configs and checkpoints.
        seed_key: the text hashed into the seed of the predictor's train/validation split of
            the space's cells (default: ``name``).
        net: ``"module:func"`` ``(arch, num_classes, C, N) -> nn.Module``, the proxy network.
        proxy_C, proxy_N: the proxy network's default width and cells per stage.
        final_net: ``"module:func"`` ``(arch, dataset, num_classes, C, N, auxiliary) -> nn.Module``,
            the evaluation network ``tgnas train-final`` trains; ``None``: not trainable.
        final_datasets: datasets ``final_net`` builds networks for.
        text_prefix: how the space's text form starts (``tgnas train-final`` detects the space by it).
        cells: ``"module:func"`` ``(form) -> GraphSet``: the benchmark's cells in table order.
        cell_ids: ``"module:func"`` ``() -> DataFrame``: one row of identifiers per cell of ``cells``.
        labelled: ``"module:func"`` ``(form, surrogate_samples, seed) -> (GraphSet, (M,) labels)``,
            the predictor's training data of the space.
        enumerable: ``cells`` are every cell of the space (``tgnas score --all``).
        subsample: training on the space may use a fraction of its cells (else all of them).
        datasets: the benchmark's datasets with accuracy labels.
        accuracy: ``"module:func"`` ``(archs) -> DataFrame`` of benchmark accuracies, one column per dataset.
        encoding: ``"module:Class"`` ``(space)``: the continuous encoding of evolution.
        supernet: ``"module:Class"`` ``()``: the pruning supernet.
        flops_model: ``"module:func"`` ``() -> model`` with ``model.flops_of(arch)``, an exact
            FLOPs model (else FLOPs are counted on the proxy network).
        size: ``"module:func"`` ``(archs) -> (M,) float64``: parameters (millions) of the
            space's benchmark-size network, the ``params`` signal of TG-NAS+.
        lite_N: cells per stage of the lite-proxy network of TG-NAS+ (width and data are
            :data:`tgnas.proxies.lite.DEFAULT_LITE`'s).
        builds_as: ``"module:func"`` ``(arch) -> (space, arch)``: the space whose network
            builder builds ``arch`` (a generic cell whose operators are a built-in space's);
            ``ValueError`` when none does.
    """

    name: str
    space: str
    benchmark: str = ""
    aliases: tuple[str, ...] = ()
    seed_key: str = ""
    net: str | None = None
    proxy_C: int | None = None
    proxy_N: int | None = None
    final_net: str | None = None
    final_datasets: tuple[str, ...] = ()
    text_prefix: str = ""
    cells: str | None = None
    cell_ids: str | None = None
    labelled: str | None = None
    enumerable: bool = False
    subsample: bool = True
    datasets: tuple[str, ...] = ()
    accuracy: str | None = None
    encoding: str | None = None
    supernet: str | None = None
    flops_model: str | None = None
    size: str | None = None
    lite_N: int = 1
    builds_as: str | None = None
    _cache: dict = field(default_factory=dict, compare=False, repr=False)

    def resolve(self, attr: str) -> Any:
        """The object a ``"module:attr"`` field names (imported on first use).

        Raises:
            NotImplementedError: the space does not provide ``attr``.
        """
        ref = getattr(self, attr)
        if ref is None:
            raise NotImplementedError(f"search space {self.name!r} has no {attr!r}")
        if not isinstance(ref, str):  # a small factory or class given directly (test spaces)
            return ref
        if ref not in self._cache:
            module, _, name = ref.partition(":")
            self._cache[ref] = getattr(importlib.import_module(module), name)
        return self._cache[ref]

    def make_space(self):
        """A fresh :class:`~tgnas.spaces.base.SearchSpace` of this record."""
        return self.resolve("space")()


_RECORDS: dict[str, SpaceRecord] = {}
_ALIASES: dict[str, str] = {}


def register(record: SpaceRecord) -> SpaceRecord:
    """Add ``record`` to the registry (re-registering a name replaces its record)."""
    if not isinstance(record, SpaceRecord):
        raise TypeError(f"expected a SpaceRecord, got {type(record).__name__}")
    _RECORDS[record.name] = record
    for alias in record.aliases:
        _ALIASES[alias] = record.name
    return record


def space_names(has: str | None = None) -> tuple[str, ...]:
    """Names of the registered spaces, in registration order; with ``has``, only those whose
    record's field ``has`` is set (``space_names(has="labelled")``: the training spaces)."""
    if has is not None and has not in {f.name for f in fields(SpaceRecord)}:
        raise KeyError(f"SpaceRecord has no field {has!r}")
    return tuple(n for n, r in _RECORDS.items() if has is None or getattr(r, has))


def canonical_name(name: str) -> str:
    """``name``, or the space an old alias stands for (``"nb301"`` -> ``"darts"``)."""
    return _ALIASES.get(name, name)


def get_record(name: str) -> SpaceRecord:
    """The record of space ``name`` (aliases accepted); unknown names raise ``KeyError``."""
    try:
        return _RECORDS[canonical_name(name)]
    except (KeyError, TypeError):
        raise KeyError(f"unknown space {name!r}; expected one of {list(_RECORDS)}") from None


def get_space(name: str):
    """A fresh :class:`~tgnas.spaces.base.SearchSpace` called ``name``; unknown names raise ``KeyError``."""
    return get_record(name).make_space()


register(SpaceRecord(
    name="nb101", space="tgnas.spaces.nb101.arch:NB101Space", benchmark="NB101",
    net="tgnas.spaces.nb101.net:build_nb101_net", proxy_C=128, proxy_N=3,  # the benchmark's own network
    cells="tgnas.spaces.nb101.benchmark:cell_graphs", cell_ids="tgnas.spaces.nb101.benchmark:cell_ids",
    labelled="tgnas.spaces.nb101.benchmark:labelled_cells", enumerable=True, datasets=("cifar10",),
    size="tgnas.proxies.size:nb101_params"))
register(SpaceRecord(
    name="nb201", space="tgnas.spaces.nb201.arch:NB201Space", benchmark="NB201",
    net="tgnas.spaces.nb201.net:build_nb201_net", proxy_C=16, proxy_N=5,  # the benchmark's CIFAR-10 network
    final_net="tgnas.spaces.nb201.net:build_final_net", final_datasets=("cifar10",), text_prefix="|",
    cells="tgnas.spaces.nb201.benchmark:cell_graphs", cell_ids="tgnas.spaces.nb201.benchmark:cell_ids",
    labelled="tgnas.spaces.nb201.benchmark:labelled_cells", enumerable=True,
    datasets=("cifar10", "cifar100", "imagenet16-120"), accuracy="tgnas.search.evaluate:nb201_accuracy",
    encoding="tgnas.search.encoding:NB201Encoding", supernet="tgnas.search.pruning:NB201Supernet",
    flops_model="tgnas.proxies:nb201_cost_model", size="tgnas.proxies.size:nb201_params"))
register(SpaceRecord(
    name="darts", space="tgnas.spaces.darts.arch:DartsSpace", benchmark="NB301",
    # the DARTS space was called "nb301" in training configs: stored configs still load, and
    # data splits keep their seed (so trained predictors do not change)
    aliases=("nb301",), seed_key="nb301",
    net="tgnas.spaces.darts.net:build_darts_net", proxy_C=16, proxy_N=8,  # the small net zero-cost studies of NB301 use
    final_net="tgnas.spaces.darts.net:build_final_net", final_datasets=("cifar10", "imagenet"), text_prefix="Genotype",
    cells="tgnas.spaces.darts.benchmark:cell_graphs", cell_ids="tgnas.spaces.darts.benchmark:cell_ids",
    labelled="tgnas.spaces.darts.benchmark:labelled_cells", subsample=False, datasets=("cifar10",),
    encoding="tgnas.search.encoding:DartsEncoding", supernet="tgnas.search.pruning:DartsSupernet",
    size="tgnas.proxies.size:darts_params", lite_N=3))

#: The built-in benchmark spaces, each with its own text form, sampling and mutation (the
#: generic ``cell`` space and spaces registered later, e.g. by tests, are in :func:`space_names`).
SPACE_NAMES: tuple[str, ...] = space_names()

# Any cell-based architecture as a JSON node-op graph; a file format, so it samples nothing.
register(SpaceRecord(name="cell", space="tgnas.spaces.cell.arch:CellSpace", builds_as="tgnas.spaces.cell.arch:as_known_space"))
