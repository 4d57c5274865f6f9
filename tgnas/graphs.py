"""Vectorised sets of cell graphs, padded batches, and the graph operations of the predictor.

A :class:`GraphSet` holds M node-op DAGs as three arrays built once (never one Python
object per cell in the hot path):

* ``ops``        ``(M, Nmax)`` int32, index of each node's operator into ``vocab``;
  :data:`PAD` (-1) beyond a graph's last node;
* ``adjacency``  ``(M, Nmax, Nmax)`` uint8, ``adjacency[m, i, j] = 1`` means data flows
  from node ``i`` to node ``j`` (the :class:`~tgnas.spaces.base.CellGraph` convention);
* ``num_nodes``  ``(M,)`` int32; node 0 is the input, node ``num_nodes - 1`` the output,
  padding is always at the end.

Node features are *not* stored: a batch carries operator indices and the model looks up an
embedding table ``(V, F)`` (one row per vocabulary entry) at batch time, so changing the
embedding model or description length never rebuilds the graphs. :class:`BatchMaker` pads each batch to the largest graph in
*that batch* (7 for NB101, 8 for NB201, 22 for DARTS, anything for user graphs).

The torch functions at the bottom turn a batch into what a graph convolution multiplies by:
the propagation matrix for a message-passing direction, an optional global node and self
loops, and masked mean/sum pooling. Conventions for the propagation matrix ``P``
``(B, N, N)``: ``(P @ H)[b, i] = sum_j P[b, i, j] H[b, j]``, i.e. row ``i`` lists the nodes
``i`` aggregates from (PyTorch Geometric's dense convention).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from tgnas import paths
from tgnas.cellgraph import CellGraph
from tgnas.graph_forms import check_form

#: Padding value of :attr:`GraphSet.ops`.
PAD = -1
#: Message-passing directions understood by :func:`propagation_matrix`.
DIRECTIONS: tuple[str, ...] = ("forward", "backward", "both")
#: Pooling readouts understood by :func:`masked_pool`.
POOLINGS: tuple[str, ...] = ("mean", "sum")
#: Bump when the layout of cached GraphSet files changes.
CACHE_VERSION = 1


@dataclass(frozen=True, eq=False)
class GraphSet:
    """M cell graphs as padded arrays (see the module docstring for the layout).

    Attributes:
        ops: ``(M, Nmax)`` int32 vocabulary indices, :data:`PAD` beyond ``num_nodes``.
        adjacency: ``(M, Nmax, Nmax)`` uint8, strictly upper-triangular, zero beyond
            ``num_nodes``.
        num_nodes: ``(M,)`` int32, each >= 2.
        vocab: the operator names that ``ops`` indexes.
    """

    ops: np.ndarray
    adjacency: np.ndarray
    num_nodes: np.ndarray
    vocab: tuple[str, ...]

    def __post_init__(self) -> None:
        ops = np.ascontiguousarray(self.ops, dtype=np.int32)
        adj = np.ascontiguousarray(self.adjacency, dtype=np.uint8)
        n = np.ascontiguousarray(self.num_nodes, dtype=np.int32)
        vocab = tuple(self.vocab)
        if ops.ndim != 2:
            raise ValueError(f"ops must be (M, Nmax), got shape {ops.shape}")
        m, nmax = ops.shape
        if adj.shape != (m, nmax, nmax):
            raise ValueError(f"adjacency has shape {adj.shape}, expected {(m, nmax, nmax)}")
        if n.shape != (m,):
            raise ValueError(f"num_nodes has shape {n.shape}, expected ({m},)")
        if len(set(vocab)) != len(vocab):
            raise ValueError(f"vocab has duplicates: {vocab}")
        if m:
            if n.min() < 2 or n.max() > nmax:
                raise ValueError(f"num_nodes must lie in [2, {nmax}], got [{n.min()}, {n.max()}]")
            real = np.arange(nmax)[None, :] < n[:, None]
            if np.any(ops[real] < 0) or np.any(ops[real] >= len(vocab)):
                raise ValueError(f"ops of real nodes must index vocab (size {len(vocab)})")
            if np.any(ops[~real] != PAD):
                raise ValueError(f"ops beyond num_nodes must be PAD ({PAD})")
            if np.any(np.tril(adj) != 0):
                raise ValueError("adjacency must be strictly upper-triangular")
            if np.any(adj[~(real[:, :, None] & real[:, None, :])] != 0):
                raise ValueError("adjacency must be zero beyond num_nodes")
        object.__setattr__(self, "ops", ops)
        object.__setattr__(self, "adjacency", adj)
        object.__setattr__(self, "num_nodes", n)
        object.__setattr__(self, "vocab", vocab)

    def __len__(self) -> int:
        return int(self.ops.shape[0])

    @property
    def max_nodes(self) -> int:
        """``Nmax``, the padded width of the arrays."""
        return int(self.ops.shape[1])

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_graphs(cls, graphs: Sequence[CellGraph], vocab: Sequence[str] | None = None) -> GraphSet:
        """Pack CellGraphs (any sizes) into a GraphSet.

        Args:
            graphs: M :class:`CellGraph` objects.
            vocab: operator vocabulary; default: the ops of ``graphs`` in order of first
                appearance. An op missing from a given vocabulary raises ``KeyError``.
        """
        graphs = list(graphs)
        for k, g in enumerate(graphs):
            if not isinstance(g, CellGraph):
                raise TypeError(f"graphs[{k}] is {type(g).__name__}, expected CellGraph")
        if vocab is None:
            vocab = tuple(dict.fromkeys(op for g in graphs for op in g.ops))
        vocab = tuple(vocab)
        index = {op: i for i, op in enumerate(vocab)}
        m = len(graphs)
        nmax = max((g.num_nodes for g in graphs), default=2)
        ops = np.full((m, nmax), PAD, dtype=np.int32)
        adj = np.zeros((m, nmax, nmax), dtype=np.uint8)
        num = np.zeros(m, dtype=np.int32)
        for k, g in enumerate(graphs):
            n = g.num_nodes
            try:
                ops[k, :n] = [index[op] for op in g.ops]
            except KeyError as e:
                raise KeyError(f"graphs[{k}] has op {str(e.args[0])!r}, not in vocab {list(vocab)}") from None
            adj[k, :n, :n] = g.adjacency
            num[k] = n
        return cls(ops, adj, num, vocab)

    @staticmethod
    def concat(sets: Sequence[GraphSet]) -> GraphSet:
        """Stack GraphSets; vocabularies are merged (first appearance order), widths padded."""
        sets = list(sets)
        if not sets:
            raise ValueError("concat needs at least one GraphSet")
        vocab = tuple(dict.fromkeys(op for s in sets for op in s.vocab))
        nmax = max(s.max_nodes for s in sets)
        return GraphSet(
            np.concatenate([s.with_vocab(vocab).padded_to(nmax).ops for s in sets]),
            np.concatenate([s.padded_to(nmax).adjacency for s in sets]),
            np.concatenate([s.num_nodes for s in sets]),
            vocab)

    # ------------------------------------------------------------------ views
    def subset(self, index: np.ndarray | Sequence[int]) -> GraphSet:
        """The graphs at ``index`` (int array or list), same vocab and width."""
        idx = np.asarray(index, dtype=np.int64)
        return GraphSet(self.ops[idx], self.adjacency[idx], self.num_nodes[idx], self.vocab)

    def with_vocab(self, vocab: Sequence[str]) -> GraphSet:
        """Re-index ``ops`` into a vocabulary that contains this one's (order may differ)."""
        vocab = tuple(vocab)
        if vocab == self.vocab:
            return self
        index = {op: i for i, op in enumerate(vocab)}
        missing = [op for op in self.vocab if op not in index]
        if missing:
            raise KeyError(f"ops {missing} are not in the new vocab {list(vocab)}")
        lut = np.array([index[op] for op in self.vocab] + [PAD], dtype=np.int32)
        return GraphSet(lut[self.ops], self.adjacency, self.num_nodes, vocab)  # PAD=-1 -> lut[-1]

    def padded_to(self, nmax: int) -> GraphSet:
        """The same graphs with arrays padded to width ``nmax`` (>= current width)."""
        if nmax == self.max_nodes:
            return self
        if nmax < self.max_nodes:
            raise ValueError(f"cannot pad width {self.max_nodes} down to {nmax}")
        m, w = len(self), self.max_nodes
        ops = np.full((m, nmax), PAD, dtype=np.int32)
        ops[:, :w] = self.ops
        adj = np.zeros((m, nmax, nmax), dtype=np.uint8)
        adj[:, :w, :w] = self.adjacency
        return GraphSet(ops, adj, self.num_nodes, self.vocab)

    def graph(self, i: int) -> CellGraph:
        """Graph ``i`` as a :class:`CellGraph`."""
        n = int(self.num_nodes[i])
        return CellGraph(self.adjacency[i, :n, :n].copy(), tuple(self.vocab[k] for k in self.ops[i, :n]))

    def content_hash(self) -> str:
        """SHA256 (hex) over vocab, ops, adjacency and node counts."""
        h = hashlib.sha256()
        h.update("\x1f".join(self.vocab).encode())
        for a in (self.ops, self.adjacency, self.num_nodes):
            h.update(str(a.shape).encode())
            h.update(a.tobytes())
        return h.hexdigest()

    # ------------------------------------------------------------------ files
    def save(self, path: Path) -> Path:
        """Write an uncompressed ``.npz`` (atomically: a partial file is never left behind)."""
        path = Path(path)
        paths.ensure_dir(path.parent)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, ops=self.ops, adjacency=self.adjacency, num_nodes=self.num_nodes,
                 vocab=np.array(self.vocab, dtype=str), version=np.array(CACHE_VERSION))
        tmp.replace(path)
        return path

    @classmethod
    def load(cls, path: Path) -> GraphSet:
        """Read a file written by :meth:`save`."""
        with np.load(Path(path), allow_pickle=False) as z:
            if int(z["version"]) != CACHE_VERSION:
                raise ValueError(f"{path}: GraphSet file version {int(z['version'])}, expected {CACHE_VERSION}")
            return cls(z["ops"], z["adjacency"], z["num_nodes"], tuple(str(v) for v in z["vocab"]))


#: The label of an operator that outputs zeros (an absent edge).
NONE_OP = "none"


def is_output_label(op: str) -> bool:
    """``output``, ``reduce_output``: the nodes a cell's result leaves from."""
    return op == "output" or op.endswith("_output")


def is_fed_input_label(op: str) -> bool:
    """``reduce_input_1``: an input of a later part of the graph, fed by an earlier part (unlike
    the graph's own inputs ``input``, ``input_0``)."""
    return "_input" in op and not op.startswith("input")


def computes_nothing(graphs: GraphSet) -> np.ndarray:
    """``(M,)`` bool: cells whose result does not depend on their input.

    A cell computes nothing when one of its output nodes (:func:`is_output_label`) cannot be
    reached from a source node (a node without inputs that is not an output) along nodes that
    are not :data:`NONE_OP`: every path is cut by ``none`` (NB201's all-``none`` cell, or one whose
    output edges are all ``none``), or the output has no inputs at all (the contracted form of
    such a cell). In a graph of several cells (DARTS: normal, then reduction), a later cell's
    input (:func:`is_fed_input_label`) left without a feed means an earlier cell's output was cut
    away (the contracted form drops a dead cell's output node). Such a cell outputs a constant.
    """
    m, n = graphs.ops.shape
    vocab = np.asarray(graphs.vocab + ("",), dtype=object)  # PAD (-1) indexes the ""
    labels = vocab[graphs.ops]
    real = np.arange(n)[None, :] < graphs.num_nodes[:, None]
    is_none = labels == NONE_OP
    is_out = np.vectorize(is_output_label, otypes=[bool])(labels) & real if m else np.zeros((m, n), bool)
    is_fed = np.vectorize(is_fed_input_label, otypes=[bool])(labels) & real if m else np.zeros((m, n), bool)
    adj = graphs.adjacency.astype(bool)
    has_input = adj.any(axis=1)
    reach = np.zeros((m, n), dtype=bool)
    for j in range(n):  # node order is topological (strictly upper-triangular adjacency)
        fed = (adj[:, :j, j] & reach[:, :j]).any(axis=1)
        source = ~has_input[:, j] & ~is_out[:, j] & ~is_fed[:, j]
        reach[:, j] = real[:, j] & ~is_none[:, j] & (fed | source)
    return (is_out & ~reach).any(axis=1) | (is_fed & ~has_input).any(axis=1)


def graphset(space, form: str = "full") -> GraphSet:
    """Every benchmark cell of ``space`` (a :class:`~tgnas.spaces.base.Space`) as graphs of
    ``form``, in the benchmark's table order (cached per process by the space)."""
    return space.cells(check_form(form))


# ============================================================================ batches

@dataclass
class GraphBatch:
    """A padded batch (N = the largest graph in the batch).

    Attributes:
        ops: ``(B, N)`` long vocabulary indices, :data:`PAD` (-1) on padding nodes.
        adj: ``(B, N, N)`` float32, ``adj[b, i, j] = 1`` if data flows ``i -> j``.
        mask: ``(B, N)`` bool, True on real nodes.
    """

    ops: torch.Tensor
    adj: torch.Tensor
    mask: torch.Tensor

    def features(self, table: torch.Tensor) -> torch.Tensor:
        """Node features ``(B, N, F)``: row ``ops`` of ``table`` ``(V, F)``, zeros on padding."""
        padded = torch.cat([table.new_zeros(1, table.shape[1]), table])
        return padded[self.ops + 1]

    def to(self, device: torch.device | str) -> GraphBatch:
        return GraphBatch(self.ops.to(device), self.adj.to(device), self.mask.to(device))


class BatchMaker:
    """Cut padded batches out of a GraphSet.

    The GraphSet's arrays are converted to torch tensors once (on ``device``); each batch
    is a gather plus a slice to the largest graph in the batch.
    """

    def __init__(self, graphs: GraphSet, device: torch.device | str = "cpu") -> None:
        self.graphs = graphs
        self.device = torch.device(device)
        self._ops = torch.from_numpy(graphs.ops.astype(np.int64)).to(self.device)
        self._adj = torch.from_numpy(graphs.adjacency).to(self.device)
        self._num = torch.from_numpy(graphs.num_nodes.astype(np.int64)).to(self.device)

    def __len__(self) -> int:
        return len(self.graphs)

    def batch(self, index: torch.Tensor | np.ndarray | Sequence[int]) -> GraphBatch:
        """Graphs ``index`` (B,) padded to the largest of them."""
        if not torch.is_tensor(index):
            index = torch.from_numpy(np.asarray(index, dtype=np.int64))
        idx = index.to(device=self.device, dtype=torch.long)
        n = int(self._num[idx].max())
        ops = self._ops[idx, :n]
        return GraphBatch(ops, self._adj[idx, :n, :n].float(), ops >= 0)

    def batches(self, batch_size: int, order: np.ndarray | None = None):
        """Yield consecutive batches (in ``order`` if given) of at most ``batch_size`` graphs."""
        order = np.arange(len(self)) if order is None else np.asarray(order)
        for start in range(0, len(order), batch_size):
            yield self.batch(order[start:start + batch_size])


# ============================================================================ graph ops

def propagation_matrix(adj: torch.Tensor, direction: str) -> torch.Tensor:
    """Which nodes each node aggregates from, for a message-passing direction.

    Args:
        adj: ``(B, N, N)`` data-flow adjacency (``adj[b, i, j] = 1``: ``i -> j``).
        direction: ``"forward"`` -- a node aggregates from its predecessors (messages
            follow the data flow; ``P = adj^T``); ``"backward"`` -- from its successors
            (``P = adj``); ``"both"`` -- from either (``P = adj + adj^T``, still 0/1 since
            the DAG has no 2-cycles).

    Returns:
        ``(B, N, N)`` P with ``P[b, i, j] = 1`` if node ``i`` aggregates from node ``j``.
    """
    if direction == "forward":
        return adj.transpose(1, 2)
    if direction == "backward":
        return adj
    if direction == "both":
        return adj + adj.transpose(1, 2)
    raise ValueError(f"unknown direction {direction!r}; expected one of {list(DIRECTIONS)}")


def append_global_node(x: torch.Tensor, prop: torch.Tensor, mask: torch.Tensor
                       ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Append one global node per graph, at index ``N`` (after any padding).

    The global node aggregates from every real node (whatever the direction of the cell's
    own links, so that a readout from it sees the whole graph) and sends nothing. Features
    get one extra indicator dimension: 0 on cell nodes, 1 on the global node, whose other
    features are 0 (the upstream design).

    Args:
        x: ``(B, N, F)``; prop: ``(B, N, N)`` propagation matrix; mask: ``(B, N)`` bool.

    Returns:
        ``x (B, N+1, F+1)``, ``prop (B, N+1, N+1)``, ``mask (B, N+1)``.
    """
    b, n, f = x.shape
    x2 = x.new_zeros(b, n + 1, f + 1)
    x2[:, :n, :f] = x
    x2[:, n, f] = 1.0
    p2 = prop.new_zeros(b, n + 1, n + 1)
    p2[:, :n, :n] = prop
    p2[:, n, :n] = mask.to(prop.dtype)
    m2 = torch.cat([mask, mask.new_ones(b, 1)], dim=1)
    return x2, p2, m2


def add_self_loops(prop: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``prop`` with ``P[b, i, i] = 1`` on real nodes (padding nodes stay isolated)."""
    n = prop.shape[-1]
    eye = torch.eye(n, dtype=prop.dtype, device=prop.device)
    return prop * (1 - eye) + eye * mask.to(prop.dtype).unsqueeze(-1)


def masked_pool(h: torch.Tensor, mask: torch.Tensor, how: str) -> torch.Tensor:
    """Pool node states over real nodes.

    Args:
        h: ``(B, N, C)``; mask: ``(B, N)`` bool; how: ``"mean"`` or ``"sum"``.

    Returns:
        ``(B, C)``; invariant to any permutation of a graph's nodes.
    """
    m = mask.to(h.dtype).unsqueeze(-1)
    s = (h * m).sum(dim=1)
    if how == "sum":
        return s
    if how == "mean":
        return s / m.sum(dim=1).clamp(min=1.0)
    raise ValueError(f"unknown pooling {how!r}; expected one of {list(POOLINGS)}")
