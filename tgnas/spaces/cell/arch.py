"""The generic cell space: any cell-based architecture, written as a node-op graph in JSON.

One architecture is one JSON object::

    {"nodes": ["input", "dwconv5x5-bn-relu", "squeeze-excite", "conv1x1-bn-relu", "output"],
     "edges": [[0, 1], [1, 2], [0, 3], [2, 4], [3, 4]],
     "descriptions": {"dwconv5x5-bn-relu": "depth-wise 5x5 convolution ...",
                      "squeeze-excite": "squeeze-and-excitation: global average pooling ..."}}

* ``nodes``: one operator label per node, in topological order (every edge goes from an
  earlier to a later node); node 0 is the input and the last node the output. Labels of the
  built-in spaces (``input``, ``output``, ``conv3x3-bn-relu``, ``sep_conv_3x3``, ...; see
  :mod:`tgnas.descriptions`) use their reviewed descriptions.
* ``edges`` (``[from, to]`` pairs) or ``adjacency`` (an ``N x N`` 0/1 matrix, strictly upper
  triangular): where data flows.
* ``descriptions`` (optional): free text for operators the description table does not know
  (or to override one); the predictor embeds it on the fly (the embedding is cached under
  the output root).
* ``params`` and ``flops`` (optional, together): the parameters (millions) and
  multiply-accumulates of the network built from the cell, as the user's own tool counts them.
  A size-aware predictor (:mod:`tgnas.predictor.size`) uses them; cells without them are
  ranked by their graph alone.

The predictor reads the graph as it is: ``to_graph`` returns it unchanged. The space has no
distribution to sample from (it is a file format, not a benchmark space). A cell whose
labels are all NAS-Bench-101 operators and whose shape NB101 allows is an NB101 cell
(:func:`as_known_space`), so TG-NAS+ can build its network.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tgnas.errors import check_text, shorten
from tgnas.spaces.base import CellGraph, Space

__all__ = ["Cell", "CellForm", "MAX_TEXT", "MAX_NODES"]

#: Longest JSON text of one cell accepted (characters).
MAX_TEXT = 200_000
#: Most nodes of one cell.
MAX_NODES = 256
#: Longest operator label and description (characters).
MAX_LABEL = 100
MAX_DESCRIPTION = 2_000


@dataclass(frozen=True, eq=False)
class Cell:
    """A generic cell: its graph and the free-text descriptions it carries.

    Attributes:
        graph: the node-op DAG (``adjacency`` ``(N, N)`` uint8, ``ops`` N labels).
        descriptions: ``((op, text), ...)`` sorted by op.
        size: ``(params in millions, multiply-accumulates)`` of the cell's network, or None.
    """

    graph: CellGraph
    descriptions: tuple[tuple[str, str], ...] = ()
    size: tuple[float, float] | None = None

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Cell) and self.graph == other.graph and self.descriptions == other.descriptions
                and self.size == other.size)

    def __hash__(self) -> int:
        return hash((self.graph, self.descriptions, self.size))


def _fail(msg: str) -> ValueError:
    return ValueError(f"bad cell: {msg}")


def _plain(value: Any, depth: int = 0) -> Any:
    """``value`` with NumPy arrays and scalars and tuples as the JSON types they stand for
    (lists, ``int``, ``float``, ``str``): a cell built in Python may hold ``np.int64`` indices
    or an adjacency array. Three levels deep at most (an adjacency is two)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)) and depth < 3:
        return [_plain(v, depth + 1) for v in value]
    return value


def cell_from_dict(d: Any) -> Cell:
    """Build a :class:`Cell` from the JSON object's value (see the module docstring), or from
    the same dict built in Python (NumPy integers, arrays and tuples accepted).

    Raises:
        ValueError: not an object, unknown keys, missing or malformed ``nodes``, both or
            neither of ``edges`` / ``adjacency``, an edge that goes backward or out of range,
            or descriptions that are not ``{op: text}`` strings.
    """
    if not isinstance(d, dict):
        raise _fail(f"expected a JSON object with 'nodes' and 'edges' or 'adjacency', got {type(d).__name__}")
    d = {k: _plain(v) if k in ("nodes", "edges", "adjacency") else v for k, v in d.items()}
    unknown = sorted(set(d) - {"nodes", "edges", "adjacency", "descriptions", "params", "flops", "id", "name"})
    if unknown:
        raise _fail(f"unknown key(s) {shorten(unknown)}; expected nodes, edges or adjacency, descriptions, "
                    f"params and flops")
    nodes = d.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        raise _fail(f"'nodes' must be a non-empty list of operator labels, got {shorten(nodes)}")
    if len(nodes) > MAX_NODES:
        raise _fail(f"{len(nodes)} nodes; at most {MAX_NODES} are accepted")
    for k, op in enumerate(nodes):
        if not isinstance(op, str) or not op.strip() or len(op) > MAX_LABEL or op != op.strip():
            raise _fail(f"nodes[{k}] must be an operator label (a non-empty string without surrounding "
                        f"spaces, at most {MAX_LABEL} characters), got {shorten(op)}")
    n = len(nodes)
    has_edges, has_adj = "edges" in d, "adjacency" in d
    if has_edges == has_adj:
        raise _fail("give exactly one of 'edges' ([[from, to], ...]) and 'adjacency' (an N x N 0/1 matrix)")
    adj = np.zeros((n, n), dtype=np.uint8)
    if has_edges:
        edges = d["edges"]
        if not isinstance(edges, list):
            raise _fail(f"'edges' must be a list of [from, to] pairs, got {shorten(edges)}")
        for k, e in enumerate(edges):
            if (not isinstance(e, list) or len(e) != 2
                    or not all(isinstance(v, int) and not isinstance(v, bool) for v in e)):
                raise _fail(f"edges[{k}] must be a [from, to] pair of node indices, got {shorten(e)}")
            i, j = e
            if not (0 <= i < n and 0 <= j < n):
                raise _fail(f"edges[{k}] = {e} names a node outside 0..{n - 1}")
            if i >= j:
                raise _fail(f"edges[{k}] = {e} goes from node {i} to node {j}; list the nodes in topological "
                            f"order so that every edge goes to a later node")
            adj[i, j] = 1
    else:
        rows = d["adjacency"]
        if (not isinstance(rows, list) or len(rows) != n
                or not all(isinstance(r, list) and len(r) == n for r in rows)):
            raise _fail(f"'adjacency' must be a {n} x {n} list of lists (one row per node)")
        for i, r in enumerate(rows):
            for j, v in enumerate(r):
                if v not in (0, 1) or isinstance(v, float):
                    raise _fail(f"adjacency[{i}][{j}] must be 0 or 1, got {shorten(v)}")
                if v and j <= i:
                    raise _fail(f"adjacency[{i}][{j}] = 1 links node {i} to node {j}; the matrix must be "
                                f"strictly upper triangular (nodes in topological order)")
                adj[i, j] = v
    desc = d.get("descriptions", {})
    if not isinstance(desc, dict):
        raise _fail(f"'descriptions' must be an object {{op: text}}, got {shorten(desc)}")
    for op, text in desc.items():
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_DESCRIPTION:
            raise _fail(f"description of {shorten(op)} must be non-empty text of at most {MAX_DESCRIPTION} "
                        f"characters, got {shorten(text)}")
        if op not in nodes:
            raise _fail(f"description of {shorten(op)} names no node of the cell (nodes: {shorten(nodes)})")
    return Cell(CellGraph(adjacency=adj, ops=tuple(nodes)), tuple(sorted(desc.items())), _size_of(d))


def _size_of(d: dict) -> tuple[float, float] | None:
    """The cell's ``(params, flops)``: both positive finite numbers, or neither given."""
    given = [k for k in ("params", "flops") if k in d]
    if not given:
        return None
    if len(given) == 1:
        raise _fail(f"give both 'params' (millions) and 'flops' (multiply-accumulates), or neither; got only {given[0]!r}")
    for k in given:
        v = d[k]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v <= 0:
            raise _fail(f"'{k}' must be a positive finite number, got {shorten(v)}")
    return float(d["params"]), float(d["flops"])


class CellForm(Space):
    """Generic cells in JSON (:class:`Cell`); an open vocabulary of operator labels."""

    name = "cell"
    ops: tuple[str, ...] = ()
    graph_ops: tuple[str, ...] = ()

    def parse(self, text: str) -> Cell:
        """Read one cell from its JSON text (at most :data:`MAX_TEXT` characters)."""
        check_text(text, "a cell's JSON text", MAX_TEXT)
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"bad cell: not JSON ({e.msg} at character {e.pos}): {shorten(text)}") from None
        except RecursionError:
            raise ValueError(f"bad cell: JSON nested too deeply: {shorten(text)}") from None
        return cell_from_dict(d)

    def format(self, arch: Cell) -> str:
        """Compact JSON with ``nodes``, ``edges`` and (if any) ``descriptions``."""
        self.validate(arch)
        rows, cols = np.nonzero(arch.graph.adjacency)
        d: dict[str, Any] = {"nodes": list(arch.graph.ops),
                             "edges": [[int(i), int(j)] for i, j in zip(rows, cols)]}
        if arch.descriptions:
            d["descriptions"] = dict(arch.descriptions)
        if arch.size is not None:
            d["params"], d["flops"] = arch.size
        return json.dumps(d, separators=(",", ":"))

    def validate(self, arch: Cell | dict) -> Cell:
        """``arch`` if it is a :class:`Cell`; a JSON-like dict is read as one (:func:`cell_from_dict`)."""
        if isinstance(arch, Mapping):
            return cell_from_dict(dict(arch))
        if not isinstance(arch, Cell):
            raise ValueError(f"expected a Cell, got {type(arch).__name__}: {shorten(arch)}")
        return arch

    def to_graph(self, arch: Cell) -> CellGraph:
        return self.validate(arch).graph

    def descriptions_of(self, arch: Cell) -> tuple[tuple[str, str], ...]:
        return self.validate(arch).descriptions
