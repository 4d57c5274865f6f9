"""The NAS-Bench-101 cell space: cells, their textual form, validation, pruning, sampling.

A cell is a DAG of at most 7 vertices and 9 edges; vertex 0 is the input, the last vertex
the output and every other vertex one of three ops. Vertices are in topological order, so
the adjacency matrix is strictly upper-triangular. Like the benchmark's ``ModelSpec``, a
*valid* cell here is a pruned one: every vertex lies on a path from input to output
(:meth:`NB101Form.prune` removes the others).

Textual form (:meth:`NB101Form.format` / :meth:`NB101Form.parse`)::

    "<row 0>.<row 1>...<row V-1>/<op 0>,<op 1>,...,<op V-1>"

Each row is the ``V`` digits (``0``/``1``) of one row of the full ``V x V`` adjacency
matrix, so the vertex count is explicit and nothing depends on an ordering convention; ops
are the full op names. Example (input -> conv3x3 -> output, plus input -> output)::

    "011.001.000/input,conv3x3-bn-relu,output"
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from tgnas.errors import check_text, shorten, unusual_character
from tgnas.spaces.base import CellGraph, Space
from tgnas.spaces.nb101.hashing import hash_cell

INPUT = "input"
OUTPUT = "output"
CONV3X3 = "conv3x3-bn-relu"
CONV1X1 = "conv1x1-bn-relu"
MAXPOOL3X3 = "maxpool3x3"
#: Maximum vertices (input and output included) and edges of a benchmark cell.
MAX_VERTICES = 7
MAX_EDGES = 9

_TEXT_RE = re.compile(r"^[01]+(?:\.[01]+)*/[^/]+$")


@dataclass(frozen=True)
class NB101Cell:
    """One NAS-Bench-101 cell (immutable, hashable, compared by value).

    Only the structure is checked here (square 0/1 matrix, one op per vertex), so that
    unpruned or out-of-space cells can be represented; :meth:`NB101Form.validate` checks
    membership of the space.

    Attributes:
        adjacency: ``V`` rows of ``V`` ints (0/1); ``adjacency[i][j] == 1`` is an edge
            ``i -> j``. Lists and numpy arrays are converted to tuples.
        ops: ``V`` op names, ``ops[0] == "input"`` and ``ops[-1] == "output"`` when valid.
    """

    adjacency: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        # Plain Python on purpose: cells have at most a few dozen entries and numpy's
        # per-call overhead dominated loading the 10,250-cell files.
        adj = self.adjacency.tolist() if isinstance(self.adjacency, np.ndarray) else self.adjacency
        rows = tuple(tuple(row.tolist() if isinstance(row, np.ndarray) else row) for row in adj)
        ops = tuple(str(op) for op in self.ops)
        n = len(ops)
        if len(rows) != n or any(len(row) != n for row in rows):
            shape = (len(rows), *sorted({len(row) for row in rows}))
            raise ValueError(f"adjacency has shape {shape}, expected ({n}, {n}) for {n} ops")
        values = {x for row in rows for x in row}
        if not values <= {0, 1}:
            raise ValueError(f"adjacency entries must be 0 or 1, got values {sorted(values, key=repr)}")
        object.__setattr__(self, "adjacency", tuple(tuple(int(x) for x in row) for row in rows))
        object.__setattr__(self, "ops", ops)

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return sum(map(sum, self.adjacency))

    def matrix(self) -> np.ndarray:
        """A fresh ``(V, V)`` int8 copy of the adjacency matrix."""
        return np.array(self.adjacency, dtype=np.int8).reshape(self.num_vertices, self.num_vertices)


def _reachable(adjacency: tuple[tuple[int, ...], ...], start: int, forward: bool) -> set[int]:
    """Vertices reachable from ``start`` along (forward) or against (backward) the edges."""
    n = len(adjacency)
    if forward:
        nbrs = [[w for w in range(n) if adjacency[v][w]] for v in range(n)]
    else:
        nbrs = [[w for w in range(n) if adjacency[w][v]] for v in range(n)]
    seen = {start}
    frontier = [start]
    while frontier:
        for w in nbrs[frontier.pop()]:
            if w not in seen:
                seen.add(w)
                frontier.append(w)
    return seen


@lru_cache(maxsize=None)
def _vertex_perms(n: int) -> np.ndarray:
    """``(k, n)`` every permutation of the intermediate vertices (0 and ``n-1`` fixed)."""
    mids = list(itertools.permutations(range(1, n - 1)))
    return np.array([(0, *m, n - 1) for m in mids], dtype=np.intp).reshape(len(mids), n)


def _representations(adj: np.ndarray, codes: np.ndarray) -> int:
    """Number of distinct upper-triangular (matrix, ops) specs isomorphic to this one.

    Orbit-stabiliser: the relabellings of the intermediate vertices that keep the matrix
    upper-triangular hit each distinct spec ``|automorphisms|`` times.
    """
    n = len(codes)
    perm = _vertex_perms(n)
    permuted = adj[perm[:, :, None], perm[:, None, :]]  # (k, n, n): new i <- old perm[i]
    upper = ~np.tril(np.ones((n, n), dtype=bool))
    n_upper = int((~(permuted & ~upper).any(axis=(1, 2))).sum())
    n_auto = int(((permuted == adj).all(axis=(1, 2)) & (codes[perm] == codes).all(axis=1)).sum())
    return n_upper // n_auto


def num_representations(cell: NB101Cell) -> int:
    """How many distinct upper-triangular specs (matrix + ops) describe ``cell``'s graph.

    E.g. 1 for a chain, 2 for two parallel branches with different ops, 1 if their ops agree.
    """
    codes = np.array([-1, *(NB101Form.ops.index(op) for op in cell.ops[1:-1]), -2])
    return _representations(cell.matrix().astype(bool), codes)


def _valid_specs(rng: np.random.Generator, n: int, count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Draw ``count`` uniform ``n``-vertex specs; keep those in the space without pruning.

    Returns:
        ``(m, n, n)`` bool adjacency, ``(m, n)`` int op codes (``-1``/``-2`` input/output,
        else an index into :attr:`NB101Form.ops`) and ``(m,)`` positions among the
        ``count`` draws, of the ``m`` valid draws in draw order.
    """
    iu = np.triu_indices(n, k=1)
    adj = np.zeros((count, n, n), dtype=bool)
    adj[:, iu[0], iu[1]] = rng.integers(0, 2, size=(count, len(iu[0])), dtype=np.int8).astype(bool)
    codes = np.empty((count, n), dtype=np.int64)
    codes[:, 0], codes[:, -1] = -1, -2
    codes[:, 1:-1] = rng.integers(0, len(NB101Form.ops), size=(count, n - 2))
    kept = np.flatnonzero(adj.sum(axis=(1, 2)) <= MAX_EDGES)
    adj, codes = adj[kept], codes[kept]
    # Transitive closure: after k steps paths of up to k + 1 edges (a DAG's are < n).
    reach = adj.copy()
    a8 = adj.astype(np.uint8)
    for _ in range(n - 2):
        reach |= (reach.astype(np.uint8) @ a8) > 0
    from_input = reach[:, 0, :].copy()
    from_input[:, 0] = True
    to_output = reach[:, :, n - 1].copy()
    to_output[:, n - 1] = True
    ok = (from_input & to_output).all(axis=1)
    return adj[ok], codes[ok], kept[ok]


class NB101Form(Space):
    """NAS-Bench-101: architectures are :class:`NB101Cell` (pruned, at most 7 vertices, 9 edges)."""

    name = "nb101"
    ops = (CONV3X3, CONV1X1, MAXPOOL3X3)
    graph_ops = (INPUT, CONV3X3, CONV1X1, MAXPOOL3X3, OUTPUT)
    max_vertices = MAX_VERTICES
    max_edges = MAX_EDGES

    # ---------------------------------------------------------------- textual form
    def format(self, arch: NB101Cell) -> str:
        """``"0110.0001.0001.0000/input,conv3x3-bn-relu,maxpool3x3,output"`` (see module doc)."""
        rows = ".".join("".join(str(x) for x in row) for row in arch.adjacency)
        return f"{rows}/{','.join(arch.ops)}"

    def parse(self, text: str) -> NB101Cell:
        """Parse :meth:`format`'s string into a validated cell; ``ValueError`` if malformed."""
        check_text(text, "an NB101 cell string", 1_000)  # a 7-vertex cell string has ~160 characters
        if not _TEXT_RE.match(text.strip()):
            raise ValueError(f"not an NB101 cell string: {shorten(text)}; expected "
                             "'<0/1 rows joined by .>/<ops joined by ,>', e.g. "
                             "'01.00/input,output'")
        rows_txt, ops_txt = text.strip().split("/")
        rows = rows_txt.split(".")
        ops = ops_txt.split(",")
        n = len(rows)
        if any(len(r) != n for r in rows):
            raise ValueError(f"{shorten(text)}: adjacency rows {shorten(rows)} must each have {n} digits (one per row)")
        if len(ops) != n:
            raise ValueError(f"{shorten(text)}: {n} adjacency rows but {len(ops)} ops")
        cell = NB101Cell(tuple(tuple(int(c) for c in r) for r in rows), tuple(ops))
        return self.validate(cell)

    # ---------------------------------------------------------------- validation
    def _check_structure(self, arch: Any, check_size: bool) -> None:
        """Checks shared by :meth:`validate` and :meth:`prune` (all but edge count and paths).

        ``prune`` skips the vertex limit: like the benchmark, it prunes first and the result
        is what must fit.
        """
        if not isinstance(arch, NB101Cell):
            raise ValueError(f"expected an NB101Cell, got {type(arch).__name__}")
        n = arch.num_vertices
        if n < 2:
            raise ValueError(f"empty graph: a cell needs at least an input and an output vertex, got {n} vertices")
        if check_size and n > MAX_VERTICES:
            raise ValueError(f"too many vertices: {n} (at most {MAX_VERTICES})")
        adj = arch.adjacency
        for i in range(n):
            for j in range(i + 1):
                if adj[i][j]:
                    raise ValueError(f"adjacency must be strictly upper-triangular (a DAG with vertices "
                                     f"in topological order): found edge {i} -> {j}")
        if arch.ops[0] != INPUT:
            raise ValueError(f"first op must be {INPUT!r}, got {arch.ops[0]!r}")
        if arch.ops[-1] != OUTPUT:
            raise ValueError(f"last op must be {OUTPUT!r}, got {arch.ops[-1]!r}")
        for v, op in enumerate(arch.ops[1:-1], start=1):
            if op not in self.ops:
                raise ValueError(f"unknown op {shorten(op)}{unusual_character(op)} at vertex {v}; "
                                 f"expected one of {list(self.ops)}")
        if arch.num_edges == 0:
            raise ValueError("empty graph: the cell has no edges")

    def validate(self, arch: NB101Cell) -> NB101Cell:
        """Return ``arch`` if it is a (pruned) cell of the benchmark, else raise ``ValueError``."""
        self._check_structure(arch, check_size=True)
        n = arch.num_vertices
        n_edges = arch.num_edges
        if n_edges > MAX_EDGES:
            raise ValueError(f"too many edges: {n_edges} (at most {MAX_EDGES})")
        on_path = _reachable(arch.adjacency, 0, True) & _reachable(arch.adjacency, n - 1, False)
        if n - 1 not in on_path:
            raise ValueError("disconnected: no path from the input to the output")
        off = sorted(set(range(n)) - on_path)
        if off:
            raise ValueError(f"disconnected: vertices {off} are not on an input->output path "
                             f"(NB101Form.prune removes them)")
        return arch

    def prune(self, arch: NB101Cell) -> NB101Cell:
        """Drop the vertices not on an input->output path (as the benchmark's ``ModelSpec``).

        The vertex and edge limits are not checked (the pruned cell may still exceed them);
        :meth:`validate` the result to know whether it is in the space.

        Raises:
            ValueError: the cell is malformed or its input does not reach its output.
        """
        self._check_structure(arch, check_size=False)
        n = arch.num_vertices
        adj = arch.adjacency
        keep = sorted(_reachable(adj, 0, True) & _reachable(adj, n - 1, False))
        if n - 1 not in keep:
            raise ValueError("disconnected: no path from the input to the output, nothing to keep")
        if len(keep) == n:
            return arch
        sub = tuple(tuple(adj[i][j] for j in keep) for i in keep)
        return NB101Cell(sub, tuple(arch.ops[v] for v in keep))

    def module_hash(self, arch: NB101Cell) -> str:
        """The benchmark's module hash of a valid cell (index into :class:`NB101Table`)."""
        self.validate(arch)
        return hash_cell(arch.adjacency, arch.ops)

    # ---------------------------------------------------------------- conversion
    def to_graph(self, arch: NB101Cell) -> CellGraph:
        """The cell's own DAG: nodes are the cell's vertices labelled with their op names."""
        self.validate(arch)
        return CellGraph(adjacency=arch.matrix().astype(np.uint8), ops=arch.ops)

    def from_table(self, table: Any, i: int) -> NB101Cell:
        """Row ``i`` of an :class:`tgnas.spaces.nb101.benchmark.NB101Table` as a validated cell."""
        return self.validate(table.cell(i))

    # ---------------------------------------------------------------- sampling
    def sample(self, rng: np.random.Generator, batch: int = 1024) -> NB101Cell:
        """Draw a cell uniformly from the 423,624 unique cells of the space (no table needed).

        Rejection sampling over labelled specs: a vertex count ``n`` and an ``n``-vertex
        upper-triangular matrix with ops are drawn uniformly from all such specs (so ``n`` with
        probability proportional to their number, ``2**(n(n-1)/2) * 3**(n-2)``); specs outside
        the space or needing pruning are rejected, and a valid one is accepted with probability
        ``1 / r`` where ``r`` is the number of distinct upper-triangular specs isomorphic to it
        (:func:`num_representations`). Each unique cell thus comes out with the same
        probability. About 1 in 1,200 draws is accepted; draws are vectorised in ``batch``es.
        """
        sizes = np.arange(2, MAX_VERTICES + 1)
        weights = np.array([2.0 ** (n * (n - 1) // 2) * 3.0 ** (n - 2) for n in sizes])
        while True:
            ns = rng.choice(sizes, size=batch, p=weights / weights.sum())
            # Decide every valid draw of the batch, then return the earliest accepted one:
            # stopping at the first acceptance *per vertex count* would favour small cells.
            best: tuple[int, np.ndarray, np.ndarray] | None = None
            for n in sorted(set(ns.tolist())):
                draw_idx = np.flatnonzero(ns == n)
                adj, codes, kept = _valid_specs(rng, n, len(draw_idx))
                for k in range(len(codes)):
                    if rng.random() * _representations(adj[k], codes[k]) < 1.0:
                        if best is None or draw_idx[kept[k]] < best[0]:
                            best = (int(draw_idx[kept[k]]), adj[k], codes[k])
                        break  # later draws of this size cannot be earlier
            if best is not None:
                _, adj_k, codes_k = best
                ops = (INPUT, *(self.ops[c] for c in codes_k[1:-1].tolist()), OUTPUT)
                return self.validate(NB101Cell(adj_k.astype(np.int8), ops))

    def sample_spec(self, rng: np.random.Generator) -> NB101Cell:
        """Draw a cell the way the benchmark's own examples do (not uniform over cells).

        A 7-vertex spec is drawn uniformly (each of the 21 upper-triangular edges present with
        probability 1/2, each of the 5 intermediate ops uniform), pruned, and rejected unless
        the pruned cell is in the space. Pruning makes small cells far more likely than in
        the space (under 1 % of the draws keep 7 vertices, against 85 % of the cells).
        """
        iu = np.triu_indices(MAX_VERTICES, k=1)
        while True:
            adj = np.zeros((MAX_VERTICES, MAX_VERTICES), dtype=np.int8)
            adj[iu] = rng.integers(0, 2, size=len(iu[0]))
            mid = rng.integers(0, len(self.ops), size=MAX_VERTICES - 2)
            ops = (INPUT, *(self.ops[k] for k in mid.tolist()), OUTPUT)
            try:
                cell = self.prune(NB101Cell(adj, ops))
                return self.validate(cell)
            except ValueError:
                continue

    def mutate(self, arch: NB101Cell, rng: np.random.Generator) -> NB101Cell:
        """A valid cell differing from ``arch`` by one edge flip or one op change.

        All single changes are tried in random order and the first valid one is returned;
        every such change gives a non-isomorphic cell (the edge count or the op multiset
        changes). The one cell with no valid single change (input -> output, 2 vertices) is
        mutated by inserting a random op on its edge.
        """
        self.validate(arch)
        n = arch.num_vertices
        adj = arch.matrix()
        moves: list[tuple[str, int, int]] = [("edge", i, j) for i in range(n) for j in range(i + 1, n)]
        moves += [("op", v, k) for v in range(1, n - 1) for k, op in enumerate(self.ops) if op != arch.ops[v]]
        for m in rng.permutation(len(moves)).tolist():
            kind, a, b = moves[m]
            new_adj, new_ops = adj.copy(), list(arch.ops)
            if kind == "edge":
                new_adj[a, b] ^= 1
            else:
                new_ops[a] = self.ops[b]
            cand = NB101Cell(new_adj, tuple(new_ops))
            try:
                return self.validate(cand)
            except ValueError:
                continue
        op = self.ops[int(rng.integers(len(self.ops)))]
        return self.validate(NB101Cell(((0, 1, 0), (0, 0, 1), (0, 0, 0)), (INPUT, op, OUTPUT)))
