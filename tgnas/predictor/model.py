"""The TG-NAS graph convolutional predictor: operator embeddings on a cell DAG -> one score.

Two named configurations (:data:`GCN_PRESETS`):

``upstream`` -- what the authors' code (GitHub YeQiao/TG-NAS, ``GNN_proxy_tool/models.py``)
    does: 4 graph-convolution layers of width 64, each ``H' = P (H W) + b`` with the raw,
    unnormalised 0/1 propagation matrix P (self loops and a global node included), then
    BatchNorm and ReLU; the score is ``Linear(64 -> 1)`` of the global node's final state.
``paper`` -- the paper's text: a 2-layer GCN with symmetric normalisation
    ``D^-1/2 (P + I) D^-1/2`` (Kipf & Welling), here PyTorch Geometric's
    :class:`~torch_geometric.nn.DenseGCNConv`, same readout.

Direction of message passing. Upstream builds its matrix with ``add_global_node`` (from
BONAS/NASLib): it appends a column of ones (every node -> global node), fills the diagonal
and then *transposes* the data-flow adjacency (``A[i, j] = 1`` for ``i -> j``) before
computing ``adj @ (X W)``. Row ``i`` of the transposed matrix lists the predecessors of
``i``, so upstream is ``direction="forward"``: each node aggregates from the nodes that
feed it and the global node from every node. (Without the transpose, ``A @ XW`` would be
``"backward"``: each node aggregating from its successors, and the global node from
nobody.) ``direction`` is a config field; ``"both"`` aggregates from either side.

Math of the layer kinds (``conv``), all with ``P`` from :func:`tgnas.graphs.propagation_matrix`
plus the global node (:func:`tgnas.graphs.append_global_node`):

* ``"raw"``       ``H' = P~ (H W) + b``, ``P~ = P + I`` on real nodes when ``self_loops``.
  PyG has no dense layer with this math (its dense layers normalise or add a separate root
  weight), so it is own code (:class:`RawGraphConv`).
* ``"gcn"``       ``H' = D^-1/2 P~ D^-1/2 (H W) + b`` with ``D = diag(rowsum P~)``: exactly
  :class:`torch_geometric.nn.DenseGCNConv` (its ``add_loop`` sets the diagonal to 1; its
  degree is the row sum, i.e. the in-degree in aggregation terms, as in sparse GCNConv).
* ``"graphconv"`` ``H' = (P H) W_rel + b + H W_root``: :class:`torch_geometric.nn.DenseGraphConv`
  (``aggr="add"``), a variant with a separate weight for the node itself.

Padding and BatchNorm. Batches are padded to the largest graph in the batch. Padding nodes
have zero input features and no links; their columns of the propagation matrix are zero, so
whatever values they take in later layers never reach a real node (they are not zeroed, to
save two elementwise passes per layer). BatchNorm is computed over *real* nodes only
(global node included): :class:`MaskedBatchNorm1d` takes means and variances over the
positions where the mask is True (as ``nn.BatchNorm1d`` on the packed rows ``h[mask]``
would, checked in the tests), so statistics and running averages never see padding; pooling
readouts mask padding too. (Upstream pads every NB101 graph to 7 nodes and its BatchNorm1d
over ``(B, C, 8)`` also averages over the padding nodes, which -- unintentionally -- have
self loops and a link to the global node.)

Deviations from the paper (and from upstream), all configurable:

* the paper describes a 2-layer GCN with symmetric normalisation; the ``upstream`` preset
  (4 layers, raw adjacency) is what the released code trains and is the default because the
  released results come from it; ``paper`` is available;
* the paper does not say how the prediction is read out; both presets use upstream's global
  node; ``readout="mean"|"sum"`` pools over real nodes instead;
* BatchNorm masked to real nodes (above); graphs padded per batch instead of to 7;
* weights: ``raw`` layers use upstream's U(-0.05, 0.05) weight init; PyG layers their own
  (Glorot / Kaiming-uniform) init;
* no bias in graph convolutions followed by BatchNorm (upstream has one; BatchNorm's mean
  subtraction cancels it exactly, so it gets zero gradient and only weight decay moves it).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields, replace

import torch
from torch import nn
from torch_geometric.nn import DenseGCNConv, DenseGraphConv

from tgnas.graphs import DIRECTIONS, POOLINGS, add_self_loops, append_global_node, masked_pool, propagation_matrix

#: Layer kinds (see the module docstring).
CONV_KINDS: tuple[str, ...] = ("raw", "gcn", "graphconv")
#: Readouts: the global node's state, or a pooling over real nodes.
READOUTS: tuple[str, ...] = ("global", *POOLINGS)


def check_fields(cls: type, d: dict) -> None:
    """Raise ``KeyError`` naming the keys of ``d`` that are not fields of dataclass ``cls``."""
    known = {f.name for f in fields(cls)}
    unknown = set(d) - known
    if unknown:
        raise KeyError(f"unknown {cls.__name__} fields {sorted(unknown)}; expected {sorted(known)}")


@dataclass(frozen=True)
class GCNConfig:
    """Architecture of the predictor (saved in every checkpoint).

    Attributes:
        num_layers: graph-convolution layers.
        hidden: width of every layer.
        conv: layer kind, one of :data:`CONV_KINDS`.
        direction: message-passing direction, one of :data:`tgnas.graphs.DIRECTIONS`.
        global_node: append a global node (aggregating from every node; indicator feature).
        self_loops: each node also aggregates from itself.
        readout: ``"global"`` (needs ``global_node``), ``"mean"`` or ``"sum"``.
        batch_norm: masked BatchNorm after every layer (before the ReLU).
        dropout: dropout on the input node features (0 = off).
    """

    num_layers: int = 4
    hidden: int = 64
    conv: str = "raw"
    direction: str = "forward"
    global_node: bool = True
    self_loops: bool = True
    readout: str = "global"
    batch_norm: bool = True
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.num_layers < 1 or self.hidden < 1:
            raise ValueError(f"num_layers and hidden must be >= 1, got {self.num_layers}, {self.hidden}")
        for name, value, allowed in (("conv", self.conv, CONV_KINDS), ("direction", self.direction, DIRECTIONS),
                                     ("readout", self.readout, READOUTS)):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; expected one of {list(allowed)}")
        if self.readout == "global" and not self.global_node:
            raise ValueError("readout='global' needs global_node=True")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1), got {self.dropout}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> GCNConfig:
        check_fields(cls, d)
        return cls(**d)


#: Named configurations.
GCN_PRESETS: dict[str, GCNConfig] = {
    "upstream": GCNConfig(num_layers=4, hidden=64, conv="raw"),
    "paper": GCNConfig(num_layers=2, hidden=64, conv="gcn"),
}


def gcn_preset(name: str, **overrides) -> GCNConfig:
    """The preset ``name`` (``"upstream"`` or ``"paper"``), with fields overridden."""
    try:
        base = GCN_PRESETS[name]
    except KeyError:
        raise KeyError(f"unknown GCN preset {name!r}; expected one of {sorted(GCN_PRESETS)}") from None
    return replace(base, **overrides)


class RawGraphConv(nn.Module):
    """``H' = P (H W) + b`` with the given (unnormalised) propagation matrix P.

    Args:
        in_channels, out_channels: feature widths.
        bias: add ``b`` (False when BatchNorm follows, which cancels it).
    """

    def __init__(self, in_channels: int, out_channels: int, bias: bool = True) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_channels, out_channels))
        self.bias = nn.Parameter(torch.empty(out_channels)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Upstream's init: U(-0.05, 0.05) weights; bias U(+-1/sqrt(out)) as its GraphConvolution.
        nn.init.uniform_(self.weight, -0.05, 0.05)
        if self.bias is not None:
            bound = 1.0 / math.sqrt(self.weight.shape[1])
            nn.init.uniform_(self.bias, -bound, bound)

    def propagate(self, xw: torch.Tensor, prop: torch.Tensor) -> torch.Tensor:
        """``P (XW) + b`` for already-projected ``xw`` ``(B, N, Cout)``."""
        if self.bias is None:
            return torch.matmul(prop, xw)
        return torch.baddbmm(self.bias, prop, xw)  # bias add fused

    def forward(self, h: torch.Tensor, prop: torch.Tensor) -> torch.Tensor:
        """h: ``(B, N, Cin)``, prop: ``(B, N, N)`` -> ``(B, N, Cout)``."""
        return self.propagate(torch.matmul(h, self.weight), prop)


def gcn_normalise(prop: torch.Tensor, add_loop: bool) -> torch.Tensor:
    """``D^-1/2 P~ D^-1/2`` exactly as :class:`torch_geometric.nn.DenseGCNConv` computes it.

    ``P~`` is ``prop`` with its diagonal set to 1 when ``add_loop``; ``D`` the row sums of
    ``P~`` clamped to >= 1. Used by the first layer's fast path (the test suite checks it
    against DenseGCNConv).
    """
    if add_loop:
        n = prop.shape[-1]
        eye = torch.eye(n, dtype=prop.dtype, device=prop.device)
        prop = prop * (1 - eye) + eye
    d = prop.sum(dim=-1).clamp(min=1).pow(-0.5)
    return d.unsqueeze(-1) * prop * d.unsqueeze(-2)


class MaskedBatchNorm1d(nn.BatchNorm1d):
    """BatchNorm over the real nodes of a padded batch.

    Exactly :class:`torch.nn.BatchNorm1d` applied to the packed real-node rows ``h[mask]``
    (statistics, running averages, gradients): the rows are gathered with ``index_select``
    (indices computed once per batch), normalised by the native kernel and written back
    with ``index_copy``; padding rows pass through unchanged. Without padding the native
    kernel runs on the whole batch directly.
    """

    def forward(self, h: torch.Tensor, rows: torch.Tensor | None = None) -> torch.Tensor:  # type: ignore[override]
        """h: ``(B, N, C)``; rows: flat indices ``(K,)`` of real nodes in ``h.reshape(-1, C)``
        (None = every node is real) -> ``(B, N, C)``."""
        c = h.shape[-1]
        flat = h.reshape(-1, c)
        if rows is None:
            return super().forward(flat).reshape(h.shape)
        return flat.index_copy(0, rows, super().forward(flat.index_select(0, rows))).reshape(h.shape)


def real_rows(mask: torch.Tensor) -> torch.Tensor | None:
    """Flat indices ``(K,)`` of True entries of ``mask`` ``(B, N)``, or None if all are True."""
    flat = mask.reshape(-1)
    if bool(flat.all()):
        return None
    return flat.nonzero().squeeze(1)


class TGNASPredictorNet(nn.Module):
    """GCN over embedded cell graphs -> one scalar per graph.

    Two entry points compute the same function:

    * :meth:`forward` ``(x, adj, mask)`` takes node features;
    * :meth:`forward_indexed` ``(ops, table, adj, mask)`` takes operator indices and the
      embedding table and applies the first layer's weight to the ``(V, F)`` table before
      the gather (the first layer is linear in its input). Node features are one of V
      rows, so this avoids a ``(B*N, F) @ (F, C)`` product per batch -- the dominant cost
      with 384/768-d embeddings. Training and scoring use it.

    Args:
        in_dim: node-feature (embedding) width F, *without* the global-node indicator.
        config: the architecture.
        size_dim: width S of per-graph size features (:mod:`tgnas.predictor.size`) whose learnt
            linear term (no bias) is added to the score; 0 = none.
    """

    def __init__(self, in_dim: int, config: GCNConfig, size_dim: int = 0) -> None:
        super().__init__()
        self.in_dim = in_dim
        self.config = config
        self.size_dim = int(size_dim)
        # initialised at zero: training starts from the pure graph model and learns how much size adds
        self.size_head = nn.Linear(self.size_dim, 1, bias=False) if self.size_dim else None
        if self.size_head is not None:
            nn.init.zeros_(self.size_head.weight)
        width = in_dim + (1 if config.global_node else 0)
        self.convs = nn.ModuleList()
        self.norms = nn.ModuleList()
        for _ in range(config.num_layers):
            # A bias before BatchNorm is cancelled by its mean subtraction (zero gradient; only
            # weight decay would move it), so graph convolutions followed by BN have none.
            bias = not config.batch_norm
            if config.conv == "raw":
                conv: nn.Module = RawGraphConv(width, config.hidden, bias=bias)
            elif config.conv == "gcn":
                conv = DenseGCNConv(width, config.hidden, bias=bias)
            else:
                conv = DenseGraphConv(width, config.hidden, aggr="add", bias=bias)
            self.convs.append(conv)
            self.norms.append(MaskedBatchNorm1d(config.hidden) if config.batch_norm else nn.Identity())
            width = config.hidden
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(config.hidden, 1)

    # ----------------------------------------------------------------- graph structure
    def _structure(self, adj: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Propagation matrix ``(B, N', N')`` (direction, global node, self loops for the
        ``raw``/``graphconv`` kinds) and mask ``(B, N')``; N' = N + 1 with a global node."""
        cfg = self.config
        prop = propagation_matrix(adj, cfg.direction)
        if cfg.global_node:
            b, n, _ = prop.shape
            p2 = prop.new_zeros(b, n + 1, n + 1)
            p2[:, :n, :n] = prop
            p2[:, n, :n] = mask.to(prop.dtype)
            prop, mask = p2, torch.cat([mask, mask.new_ones(b, 1)], dim=1)
        if cfg.conv != "gcn" and cfg.self_loops:  # DenseGCNConv adds its own (add_loop)
            prop = add_self_loops(prop, mask)
        return prop, mask

    def _layer(self, i: int, h: torch.Tensor, prop: torch.Tensor) -> torch.Tensor:
        conv = self.convs[i]
        if self.config.conv == "gcn":
            return conv(h, prop, mask=None, add_loop=self.config.self_loops)
        return conv(h, prop)

    def _add_size(self, scores: torch.Tensor, size: torch.Tensor | None) -> torch.Tensor:
        if self.size_head is None:
            if size is not None:
                raise ValueError("this predictor takes no size features (it was trained without them)")
            return scores
        if size is None or size.shape != (scores.shape[0], self.size_dim):
            raise ValueError(f"this predictor needs ({scores.shape[0]}, {self.size_dim}) size features, got "
                             f"{None if size is None else tuple(size.shape)}")
        return scores + self.size_head(size.to(scores.dtype)).squeeze(-1)

    def _finish(self, h: torch.Tensor, prop: torch.Tensor, mask: torch.Tensor, first: int) -> torch.Tensor:
        """Apply norm+ReLU to the output of layer ``first - 1`` and run layers ``first..``."""
        # Padding nodes carry arbitrary finite values from here on; they never reach a real
        # node (their columns of ``prop`` are 0), BatchNorm statistics and pooling mask them.
        rows = real_rows(mask) if self.config.batch_norm else None
        for i in range(first - 1, self.config.num_layers):
            if i >= first:
                h = self._layer(i, h, prop)
            if self.config.batch_norm:
                h = self.norms[i](h, rows)
            # In-place when no graph is recorded (scoring): one pass less over (B, N, C).
            h = torch.relu_(h) if not torch.is_grad_enabled() else torch.relu(h)
        if self.config.readout == "global":
            g = h[:, -1]
        else:
            g = masked_pool(h, mask, self.config.readout)
        return self.head(g).squeeze(-1)

    # ----------------------------------------------------------------- entry points
    def forward(self, x: torch.Tensor, adj: torch.Tensor, mask: torch.Tensor,
                size: torch.Tensor | None = None) -> torch.Tensor:
        """Score a padded batch.

        Args:
            x: ``(B, N, F)`` node features (F = ``in_dim``), zeros on padding nodes.
            adj: ``(B, N, N)`` float data-flow adjacency (``adj[b, i, j] = 1``: ``i -> j``).
            mask: ``(B, N)`` bool, True on real nodes.
            size: ``(B, S)`` size features when ``size_dim`` is S > 0, else None.

        Returns:
            ``(B,)`` scores.
        """
        if x.shape[-1] != self.in_dim:
            raise ValueError(f"node features have width {x.shape[-1]}, the model expects {self.in_dim}")
        if self.config.global_node:
            x, _, _ = append_global_node(x, adj, mask)
        prop, mask2 = self._structure(adj, mask)
        h = self._layer(0, self.dropout(x), prop)
        return self._add_size(self._finish(h, prop, mask2, first=1), size)

    def forward_indexed(self, ops: torch.Tensor, table: torch.Tensor, adj: torch.Tensor,
                        mask: torch.Tensor, size: torch.Tensor | None = None) -> torch.Tensor:
        """Same as :meth:`forward` with ``x = table[ops]`` (zeros where ``ops == -1``).

        Args:
            ops: ``(B, N)`` long operator indices into ``table``, -1 on padding nodes.
            table: ``(V, F)`` embeddings.
            adj, mask, size: as in :meth:`forward`.
        """
        cfg = self.config
        if table.shape[-1] != self.in_dim:
            raise ValueError(f"embedding table has width {table.shape[-1]}, the model expects {self.in_dim}")
        if self.training and cfg.dropout > 0:
            # Dropout acts per node, so the table trick does not apply: materialise features.
            x = torch.cat([table.new_zeros(1, table.shape[1]), table])[ops + 1]
            return self.forward(x, adj, mask, size)
        v, f = table.shape
        # Extended table: row 0 padding (zeros), rows 1..V the ops, row V+1 the global node.
        tab = table.new_zeros(v + 2, f + (1 if cfg.global_node else 0))
        tab[1:v + 1, :f] = table
        idx = ops + 1
        if cfg.global_node:
            tab[v + 1, f] = 1.0
            idx = torch.cat([idx, idx.new_full((idx.shape[0], 1), v + 1)], dim=1)
        prop, mask2 = self._structure(adj, mask)
        conv = self.convs[0]
        if cfg.conv == "raw":
            h = conv.propagate((tab @ conv.weight)[idx], prop)
        elif cfg.conv == "gcn":
            h = torch.matmul(gcn_normalise(prop, cfg.self_loops), conv.lin(tab)[idx])
            if conv.bias is not None:
                h = h + conv.bias
        else:
            rel = conv.lin_rel(tab)
            if conv.lin_rel.bias is None:
                h = torch.matmul(prop, rel[idx]) + conv.lin_root(tab)[idx]
            else:
                b = conv.lin_rel.bias
                h = torch.matmul(prop, (rel - b)[idx]) + b + conv.lin_root(tab)[idx]
        return self._add_size(self._finish(h, prop, mask2, first=1), size)
