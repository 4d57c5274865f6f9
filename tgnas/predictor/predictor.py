"""A trained predictor as an object: load a checkpoint, score architectures.

    >>> p = Predictor.load(paths.PREDICTOR_CHECKPOINT)
    >>> p.score(["|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"],
    ...         space=get_space("nb201"))         # tgnas.spaces.catalog.get_space
    array([...])

Scores are the network's output in the training label scale (standardised accuracy, higher
is better); only their order is meaningful across spaces.

A cell that computes nothing (:func:`tgnas.graphs.computes_nothing`: its output is cut off from
its input, e.g. NB201's all-``none`` cell) scores :data:`DEAD_SCORE`, below any other cell: its
network outputs a constant, whatever the GCN would make of its graph.

A size-aware predictor (``config.size_features``) adds a learnt term of the network's size
(:mod:`tgnas.predictor.size`); it scores architectures of a space (their size is computed) or
graphs with their ``size`` features given. For a space with no size model (generic cells) the
term is left out -- the same for every cell of the space, so they are ranked by the graph alone
-- and a warning says so.

Operators never seen in training are embedded on the fly with the checkpoint's embedding
model and description length; pass ``descriptions={"op": "free text"}`` for operators that
have no built-in description (or to override one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tgnas import paths
from tgnas.graph_forms import to_form
import warnings

from tgnas.graphs import GraphSet, computes_nothing
from tgnas.predictor.size import carries_size, cells_size_features, size_features
from tgnas.predictor.model import TGNASPredictorNet
from tgnas.predictor.train import (EmbedFn, TrainConfig, _table_for, default_embed_fn, load_checkpoint,
                                   predict_graphs, resolve_device, size_dim)
from tgnas.checkpoints import check_finite
from tgnas.errors import shorten
from tgnas.cellgraph import CellGraph
from tgnas.spaces.base import Space


#: The score of a cell that computes nothing (below every score a trained net gives here, |s| < 100).
DEAD_SCORE = -1000.0


class Predictor:
    """A trained TG-NAS predictor.

    Args:
        net: the network (moved to ``device``, put in eval mode).
        config: the training config (embedding model, description length, GCN, ...).
        vocab: operators seen in training; table: ``(V, F)`` their embeddings.
        device: where inference runs.
        meta: anything else from the checkpoint (epoch, history, label_stats, best epoch).
    """

    def __init__(self, net: TGNASPredictorNet, config: TrainConfig, vocab: Sequence[str],
                 table: torch.Tensor, device: torch.device, meta: Mapping[str, Any] | None = None) -> None:
        self.net = net.to(device).eval()
        self.config = config
        self.vocab = tuple(vocab)
        self.table = torch.as_tensor(table, dtype=torch.float32)
        self.device = device
        self.meta = dict(meta or {})
        self._tables: dict[tuple, torch.Tensor] = {}

    @classmethod
    def load(cls, path: Path | str, device: str | torch.device = "auto", which: str = "best") -> Predictor:
        """Load a checkpoint written by :func:`tgnas.predictor.train.train`.

        Args:
            path: the checkpoint (absolute, or relative to ``tgnas.paths.OUTPUT_ROOT``).
            device: ``"auto"`` (CUDA if available), ``"cpu"``, ``"cuda"``...
            which: ``"best"`` (the epoch with the best training-space validation score) or
                ``"last"`` (the latest epoch).

        Raises:
            FileNotFoundError, ValueError: see :func:`~tgnas.predictor.train.load_checkpoint`.
        """
        path = Path(path)
        if not path.is_absolute():
            path = paths.OUTPUT_ROOT / path
        if which not in ("best", "last"):
            raise ValueError(f"which must be 'best' or 'last', got {which!r}")
        ckpt = load_checkpoint(path)
        config = TrainConfig.from_dict(ckpt["config"])
        state = ckpt["best"]["model_state"] if which == "best" else ckpt["model_state"]
        if state is None:
            raise ValueError(f"{path} has no trained weights ({which!r})")
        check_finite(state, f"predictor checkpoint {path}")
        net = _net_fitting(ckpt, config, state, path)
        try:
            net.load_state_dict(state)
        except RuntimeError as e:
            raise ValueError(f"{path}: weights do not fit the stored GCN config: {e}") from None
        meta = {k: ckpt[k] for k in ("epoch", "history", "label_stats", "stopped_early") if k in ckpt}
        meta["best_epoch"] = ckpt["best"]["epoch"]
        meta["path"] = path
        return cls(net, config, ckpt["vocab"], ckpt["embedding_table"], resolve_device(device), meta)

    def table_for(self, vocab: Sequence[str], descriptions: Mapping[str, str] | None = None) -> torch.Tensor:
        """``(V, F)`` embeddings for ``vocab``: stored rows for operators seen in training,
        fresh embeddings (``descriptions`` first, then built-in descriptions) for the rest and
        for every operator named in ``descriptions``."""
        descriptions = dict(descriptions or {})
        key = (tuple(vocab), tuple(sorted(descriptions.items())))
        if key not in self._tables:
            known = [op for op in self.vocab if op not in descriptions]
            known_table = self.table[[self.vocab.index(op) for op in known]] if known else self.table[:0]
            embed: EmbedFn = default_embed_fn(self.config, descriptions or None)
            self._tables[key] = _table_for(vocab, known, known_table, embed)
        return self._tables[key]

    @property
    def size_aware(self) -> bool:
        """Whether the score has a size term (``config.size_features``)."""
        return bool(self.config.size_features)

    def size_of(self, items: Any, space: Space | None) -> np.ndarray | None:
        """``(M, 2)`` size features of ``items`` for a size-aware predictor (None otherwise);
        zeros (and a warning) when the space, or every one of its generic cells, gives no size."""
        if not self.size_aware:
            return None
        if isinstance(items, (str, CellGraph)):
            items = [items]
        if isinstance(items, GraphSet) or space is None or any(isinstance(it, CellGraph) for it in items):
            raise ValueError("this predictor is size-aware: score architectures with space=..., or graphs with "
                             "size=... features (tgnas.predictor.size.size_features)")
        archs = [space.parse(it) if isinstance(it, str) else it for it in items]
        if carries_size(space, archs):
            return size_features(space, archs)
        built = _built_sizes(space, archs)
        if built is not None:
            return built
        warnings.warn(f"no network sizes for these {space.name!r} architectures: they are ranked by the graph "
                      f"term alone", stacklevel=3)
        return np.zeros((len(archs), 2))

    def cells_size(self, space: Space) -> np.ndarray | None:
        """Size features of ``space.cells()`` in its order (None for a predictor without size)."""
        return cells_size_features(space) if self.size_aware else None

    def to_graphset(self, items: GraphSet | Sequence[Any], space: Space | None = None) -> GraphSet:
        """Convert ``items`` (GraphSet, CellGraphs, space archs or their textual forms) to a GraphSet."""
        if isinstance(items, GraphSet):
            return items
        if isinstance(items, (str, CellGraph)):
            items = [items]
        items = list(items)
        if isinstance(space, str):
            raise TypeError(f"space must be a space object, not its name {space!r}: "
                            f"tgnas.spaces.catalog.get_space({space!r})")
        sp = space
        graphs = []
        for k, it in enumerate(items):
            if isinstance(it, CellGraph):
                graphs.append(to_form(it, self.config.graph_form))
                continue
            if sp is None:
                raise TypeError(f"items[{k}] is a {type(it).__name__}, not a CellGraph: pass space= "
                                f"(a space object) to convert architectures or their text")
            arch = sp.parse(it) if isinstance(it, str) else it
            graphs.append(to_form(sp.to_graph(arch), self.config.graph_form))
        if not graphs:
            raise ValueError("nothing to score: items is empty")
        return GraphSet.from_graphs(graphs)

    def score(self, items: GraphSet | Sequence[Any], space: Space | None = None, batch_size: int = 1024,
              descriptions: Mapping[str, str] | None = None, size: np.ndarray | None = None) -> np.ndarray:
        """Score architectures (higher = predicted better).

        Args:
            items: a GraphSet, CellGraphs, or (with ``space``) architectures of that space or
                their textual forms.
            space: the space object (``tgnas.spaces.catalog.get_space(name)``) when ``items``
                are not graphs.
            batch_size: graphs per forward pass (1,024 keeps a layer's activations,
                about 2 MB for NB201, in the CPU cache; larger is slower on CPU).
            descriptions: free-text descriptions of operators (needed for operators with no
                built-in description that were not in training); each must name an
                operator of the scored architectures (a typo is an error, not ignored).
            size: ``(M, 2)`` size features of ``items`` (size-aware predictor; default: computed
                from the architectures of ``space``).

        Raises:
            ValueError: ``batch_size < 1``, empty ``items``, bad architecture text, or a
                described operator absent from ``items``.

        Returns:
            ``(M,)`` float64 scores, in the order of ``items``.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        graphs = self.to_graphset(items, space)
        unused = sorted(set(descriptions or ()) - set(graphs.vocab))
        if unused:
            raise ValueError(f"described operator(s) {unused} do not occur in the scored architectures, whose "
                             f"operators are {sorted(graphs.vocab)}; check the spelling")
        if size is None:
            size = self.size_of(items, space)
        elif not self.size_aware:
            raise ValueError("size features given, but this predictor was trained without them")
        scores = predict_graphs(self.net, graphs, self.table_for(graphs.vocab, descriptions), batch_size,
                                self.device, size)
        scores[computes_nothing(graphs)] = DEAD_SCORE
        return scores


def _built_sizes(space: Space, archs: Sequence[Any]) -> np.ndarray | None:
    """Size features of generic cells that all build as one space with a size model (NB101-shaped
    cells: as NB101 cells, so they score as NB101 cells do); None otherwise."""
    try:
        built = [space.builds_as(a) for a in archs]
    except (ValueError, NotImplementedError):
        return None
    spaces = {sp.name: sp for sp, _ in built}
    if len(spaces) != 1:
        return None
    (target,) = spaces.values()
    if target is space or not carries_size(target, [a for _, a in built]):
        return None
    return size_features(target, [a for _, a in built])


def _net_fitting(ckpt: Mapping[str, Any], config: TrainConfig, state: Mapping[str, Any],
                 path: Path) -> TGNASPredictorNet:
    """The network of ``ckpt``, built only once its sizes are known to match the stored weights.

    The sizes (``in_dim``, the GCN config) are checked against the embedding table and the
    weights in the file first, on PyTorch's ``meta`` device (shapes without memory): a damaged
    or hostile checkpoint with ``in_dim`` 10**13 is refused instead of allocating terabytes, and
    the network built is never larger than the weights already loaded.

    Raises:
        ValueError: ``in_dim`` is not the embedding table's width, or a layer's shape differs
            from the stored weight's (naming both).
    """
    in_dim, table = ckpt["in_dim"], ckpt["embedding_table"]
    width = table.shape[1] if isinstance(table, torch.Tensor) and table.dim() == 2 else None
    if isinstance(in_dim, bool) or not isinstance(in_dim, int) or in_dim != width:
        raise ValueError(f"{path}: in_dim {shorten(in_dim)} is not the width of the stored embedding table "
                         f"({'shape ' + str(tuple(table.shape)) if isinstance(table, torch.Tensor) else type(table).__name__})")
    with torch.device("meta"):
        net = TGNASPredictorNet(in_dim, config.gcn, size_dim(config))
        shapes = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    stored = {k: tuple(v.shape) for k, v in state.items() if isinstance(v, torch.Tensor)}
    for k, shape in shapes.items():
        if stored.get(k) != shape:
            raise ValueError(f"{path}: weights do not fit the stored config (in_dim {in_dim}, GCN {config.gcn}): "
                             f"layer {k} needs shape {shape}, the file holds {stored.get(k, 'none')}")
    return TGNASPredictorNet(in_dim, config.gcn, size_dim(config))
