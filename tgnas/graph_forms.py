"""Graph forms: rewrite a cell graph into what its network actually computes.

The predictor is trained on NAS-Bench-101, whose cells are *pruned* (every vertex lies on
an input -> output path; the benchmark's ``ModelSpec`` removes the others) and have no
``none`` or identity operators: an identity is simply an edge (e.g. input -> output). NB201
and DARTS cells, converted node-for-edge (:meth:`tgnas.spaces.nb201.arch.NB201Form.to_graph`),
contain all three things NB101 never shows the predictor:

* ``none`` op-nodes (the edge outputs zeros: it does not exist in the network);
* dead op-nodes: computed but never reaching the output (their cell node only feeds
  ``none`` edges), or never fed (their cell input is all-``none``), which the network
  could drop without changing its function;
* ``skip_connect`` op-nodes (identity): in NB101 terms a plain edge.

A *form* says how much of this is rewritten before the graph is scored (and trained on, for
the training spaces that have such nodes):

==================  =========================================================================
``"full"``          unchanged
``"no_none"``       ``none`` nodes and their links dropped (the earlier ``remove_none``)
``"pruned"``        ``no_none``, then every node not on a path from an input to the output
                    dropped (as NB101's ModelSpec prunes)
``"contracted"``    ``pruned``, then every identity node replaced by links from each of its
                    predecessors to each of its successors
==================  =========================================================================

NB101 graphs are invariant under every form (pruned, no ``none``, no identity). A graph with
no input -> output path at all (an NB201 cell whose every path has a ``none``; exactly its
341 ten-percent cells) becomes ``input, output`` with no link in the pruned forms, the
form of an NB101 cell that computes nothing.

DARTS reduction cells: a ``skip_connect`` fed by a reduction cell's *input* is a strided
factorised-reduce convolution in the network, not an identity, so it is not contracted.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tgnas.cellgraph import CellGraph

#: Forms, from least to most rewritten.
GRAPH_FORMS: tuple[str, ...] = ("full", "no_none", "pruned", "contracted")
#: Operators that output zeros (the edge is absent in the network).
ZERO_OPS: frozenset[str] = frozenset({"none"})
#: Identity operators (contracted into links in the ``"contracted"`` form).
IDENTITY_OPS: frozenset[str] = frozenset({"skip_connect"})
#: Node labels of cell inputs (the sources a path must start from).
INPUT_ROLES: frozenset[str] = frozenset({"input", "input_0", "input_1", "reduce_input_0", "reduce_input_1"})
#: Inputs whose ``skip_connect`` successors are strided convolutions, not identities.
_REDUCE_INPUTS: frozenset[str] = frozenset({"reduce_input_0", "reduce_input_1"})


def check_form(form: str) -> str:
    """Return ``form`` or raise ``ValueError`` naming the known forms."""
    if form not in GRAPH_FORMS:
        raise ValueError(f"unknown graph form {form!r}; expected one of {list(GRAPH_FORMS)}")
    return form


def _keep(g: CellGraph, keep: Iterable[int]) -> CellGraph:
    keep = sorted(keep)
    return CellGraph(adjacency=g.adjacency[np.ix_(keep, keep)], ops=tuple(g.ops[i] for i in keep))


def _reach(adj: np.ndarray, starts: Iterable[int], forward: bool) -> set[int]:
    """Nodes reachable from ``starts`` along (``forward``) or against the links."""
    a = adj if forward else adj.T
    seen, stack = set(starts), list(starts)
    while stack:
        i = stack.pop()
        for j in np.flatnonzero(a[i]):
            if int(j) not in seen:
                seen.add(int(j))
                stack.append(int(j))
    return seen


def drop_zero_ops(g: CellGraph) -> CellGraph:
    """``g`` without its ``none`` nodes and their links (relative node order kept)."""
    return _keep(g, (i for i, op in enumerate(g.ops) if op not in ZERO_OPS))


def prune(g: CellGraph) -> CellGraph:
    """Keep the nodes on a path from an input node to the output node (the last node).

    Input nodes and the output are always kept; with no such path the result has only
    them, and no links between input and output.
    """
    n = g.num_nodes
    inputs = [i for i, op in enumerate(g.ops) if op in INPUT_ROLES] or [0]
    live = _reach(g.adjacency, inputs, True) & _reach(g.adjacency, [n - 1], False)
    out = _keep(g, set(live) | set(inputs) | {n - 1})
    if not live:  # no path at all: links between the kept role nodes mean nothing
        out = CellGraph(adjacency=np.zeros_like(out.adjacency), ops=out.ops)
    return out


def contract_identities(g: CellGraph) -> CellGraph:
    """Replace each identity node by links from its predecessors to its successors."""
    adj = g.adjacency.astype(bool).copy()
    drop = []
    for k, op in enumerate(g.ops):  # topological order: predecessors are final when k is reached
        if op not in IDENTITY_OPS:
            continue
        preds = np.flatnonzero(adj[:, k])
        if any(g.ops[p] in _REDUCE_INPUTS for p in preds):
            continue
        succs = np.flatnonzero(adj[k])
        adj[np.ix_(preds, succs)] = True
        adj[k, :] = False
        adj[:, k] = False
        drop.append(k)
    kept = [i for i in range(g.num_nodes) if i not in set(drop)]
    return CellGraph(adjacency=adj[np.ix_(kept, kept)].astype(np.uint8), ops=tuple(g.ops[i] for i in kept))


def _bits(m: int) -> list[int]:
    """Indices of the set bits of ``m >= 0``, ascending."""
    return [i for i, c in enumerate(bin(m)[:1:-1]) if c == "1"]


def to_form(g: CellGraph, form: str) -> CellGraph:
    """``g`` rewritten into ``form`` (one of :data:`GRAPH_FORMS`).

    The same result as composing :func:`drop_zero_ops`, :func:`prune` and
    :func:`contract_identities`, computed on bit masks with one :class:`CellGraph` at the end
    (scoring 100,000 DARTS cells from a file converts 100,000 graphs).
    """
    check_form(form)
    if form == "full":
        return g
    n = len(g.ops)
    adj = g.adjacency
    weights = 1 << np.arange(n, dtype=object) if n > 62 else (np.int64(1) << np.arange(n, dtype=np.int64))
    succ = (adj @ weights).tolist() if n <= 62 else [int(v) for v in (adj * weights[None, :]).sum(axis=1)]
    pred = (weights @ adj).tolist() if n <= 62 else [int(v) for v in (adj * weights[:, None]).sum(axis=0)]
    return masks_to_form(g.ops, succ, pred, form)


def masks_to_form(ops: tuple[str, ...], succ: list[int], pred: list[int], form: str) -> CellGraph:
    """:func:`to_form` of the graph whose node ``i`` has label ``ops[i]`` and links to the nodes
    of bit mask ``succ[i]`` (from those of ``pred[i]``); nodes in topological order. ``succ``
    and ``pred`` are changed in place. A space can build the masks directly from its own
    architecture (DARTS genotypes, :meth:`tgnas.spaces.darts.arch.DartsForm.to_graph_form`)."""
    check_form(form)
    n = len(ops)
    if form == "full":
        adj = np.zeros((n, n), dtype=np.uint8)
        for i in range(n):
            for j in _bits(succ[i]):
                adj[i, j] = 1
        return CellGraph(adjacency=adj, ops=tuple(ops))
    alive = 0
    for i, op in enumerate(ops):
        if op not in ZERO_OPS:
            alive |= 1 << i
    linked = True
    if form != "no_none":
        alive, linked = _prune_mask(ops, succ, pred, alive)
        if form == "contracted" and linked:
            for k in range(n):
                if not alive >> k & 1 or ops[k] not in IDENTITY_OPS:
                    continue
                preds, succs = pred[k] & alive, succ[k] & alive
                if any(ops[p] in _REDUCE_INPUTS for p in _bits(preds)):
                    continue
                for p in _bits(preds):
                    succ[p] |= succs
                for q in _bits(succs):
                    pred[q] |= preds
                alive &= ~(1 << k)
            alive, linked = _prune_mask(ops, succ, pred, alive)
    kept = _bits(alive)
    m = len(kept)
    if not linked:
        out = np.zeros((m, m), dtype=np.uint8)
    elif n <= 62:  # the kept nodes' successor masks, unpacked at the kept positions
        rows = np.array([succ[i] & alive for i in kept], dtype=np.int64)
        out = ((rows[:, None] >> np.array(kept, dtype=np.int64)[None, :]) & 1).astype(np.uint8)
    else:
        out = np.array([[(succ[i] & alive) >> j & 1 for j in kept] for i in kept], dtype=np.uint8).reshape(m, m)
    # valid by construction: a subgraph of a DAG in topological order, links only forward
    return CellGraph._trusted(out, tuple(ops[i] for i in kept))


def _prune_mask(ops: tuple[str, ...], succ: list[int], pred: list[int], alive: int) -> tuple[int, bool]:
    """:func:`prune` on the nodes of bit mask ``alive``: (the kept nodes' mask, whether any input
    reaches the output; if not, only inputs and output are kept, and unlinked)."""
    nodes = _bits(alive)
    out = nodes[-1]
    inputs = [i for i in nodes if ops[i] in INPUT_ROLES] or nodes[:1]
    fwd = 0
    for i in inputs:
        fwd |= 1 << i
    for j in nodes:  # topological order: a node is reached when a reached node feeds it
        if pred[j] & alive & fwd:
            fwd |= 1 << j
    bwd = 1 << out
    for i in reversed(nodes):
        if succ[i] & alive & bwd:
            bwd |= 1 << i
    live = fwd & bwd
    keep = live | (1 << out)
    for i in inputs:
        keep |= 1 << i
    return keep, bool(live)


__all__ = ["GRAPH_FORMS", "ZERO_OPS", "IDENTITY_OPS", "INPUT_ROLES", "check_form", "drop_zero_ops", "prune",
           "contract_identities", "to_form", "masks_to_form"]
