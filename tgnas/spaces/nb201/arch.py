"""The NAS-Bench-201 cell space: 4 nodes, 6 edges, one of 5 operators per edge (5^6 = 15,625).

Three textual forms meet in this project:

* the benchmark's arch string, edges grouped by target node::

      |nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|

  i.e. ``|e(1<-0)|+|e(2<-0)|e(2<-1)|+|e(3<-0)|e(3<-1)|e(3<-2)|``. :class:`NB201Arch` keeps
  its six ops in exactly this order (:data:`NB201_EDGES`).
* NASLib's 6-tuple of op codes (:data:`NASLIB_NB201_CODES`), which lists the edges in the
  order (1<-0), (2<-0), (3<-0), (2<-1), (3<-1), (3<-2) (:data:`NASLIB_EDGE_ORDER`).
* the node-op graph the predictor reads (:meth:`NB201Form.to_graph`).

The benchmark's own index order (0..15624) is not the product order of the ops; it is
taken from the test-accuracy table (:func:`tgnas.spaces.nb201.benchmark.enumerate_archs`); this module
reads no data.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tgnas.errors import check_text, shorten, unusual_character
from tgnas.spaces.base import CellGraph, Space

#: The operator choices, in the benchmark's order.
NB201_OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")

#: NASLib's integer codes for the ops (NAS-Bench-Suite-Zero files use them).
NASLIB_NB201_CODES: dict[int, str] = {
    0: "skip_connect",
    1: "none",
    2: "nor_conv_3x3",
    3: "nor_conv_1x1",
    4: "avg_pool_3x3",
}
_NASLIB_CODE_OF: dict[str, int] = {op: code for code, op in NASLIB_NB201_CODES.items()}

#: The six edges as ``(target, source)`` node pairs, in arch-string order.
NB201_EDGES: tuple[tuple[int, int], ...] = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
_EDGE_POS: dict[tuple[int, int], int] = {e: k for k, e in enumerate(NB201_EDGES)}

#: ``NASLIB_EDGE_ORDER[k]`` is the arch-string position of the k-th entry of a NASLib tuple.
NASLIB_EDGE_ORDER: tuple[int, ...] = tuple(
    _EDGE_POS[e] for e in ((1, 0), (2, 0), (3, 0), (2, 1), (3, 1), (3, 2))
)  # == (0, 1, 3, 2, 4, 5)

NUM_ARCHS: int = len(NB201_OPS) ** len(NB201_EDGES)  # 15,625

_NASLIB_STR = re.compile(r"^\(\s*\d+\s*(,\s*\d+\s*){5}\)$")


@dataclass(frozen=True)
class NB201Arch:
    """One NB201 cell: the op on each of the six edges, in arch-string order.

    ``ops[k]`` is the op on edge :data:`NB201_EDGES`\\ ``[k]``, i.e. on
    (1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2). Construction validates the ops, so
    every instance is a valid cell. Frozen and hashable (usable as a dict key).
    """

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        if isinstance(self.ops, str) or not isinstance(self.ops, Sequence):
            raise ValueError(f"NB201Arch.ops must be a sequence of {len(NB201_EDGES)} op names, "
                             f"got {self.ops!r}")
        ops = tuple(self.ops)
        if len(ops) != len(NB201_EDGES):
            raise ValueError(f"an NB201 cell has {len(NB201_EDGES)} edges, got {len(ops)} ops: {ops!r}")
        for k, op in enumerate(ops):
            if op not in NB201_OPS:
                raise ValueError(f"unknown NB201 op {shorten(op)}{unusual_character(op)} on edge {_edge_name(k)}; "
                                 f"expected one of {list(NB201_OPS)}")
        object.__setattr__(self, "ops", ops)

    def edge(self, target: int, source: int) -> str:
        """The op on the edge from node ``source`` into node ``target`` (0 <= source < target <= 3)."""
        try:
            return self.ops[_EDGE_POS[(target, source)]]
        except (KeyError, TypeError):
            raise ValueError(f"no NB201 edge from node {source!r} into node {target!r}; expected "
                             f"0 <= source < target <= 3, edges {list(NB201_EDGES)} as (target, source)"
                             ) from None

    def __str__(self) -> str:
        return _format(self)


def _edge_name(k: int) -> str:
    target, source = NB201_EDGES[k]
    return f"({target}<-{source})"


def _format(arch: NB201Arch) -> str:
    groups = []
    for target in (1, 2, 3):
        tokens = [f"{arch.edge(target, source)}~{source}" for source in range(target)]
        groups.append("|" + "|".join(tokens) + "|")
    return "+".join(groups)


#: Longest NB201 arch string accepted (a valid one has about 90 characters).
MAX_TEXT = 1_000


def parse_arch(text: str) -> NB201Arch:
    """Parse a benchmark arch string (see the module docstring) strictly.

    Raises:
        ValueError: not a string, wrong number of node groups or edges, a token that is not
            ``op~node``, a node index out of order, or an unknown op.
    """
    check_text(text, "an NB201 arch string", MAX_TEXT)
    groups = text.split("+")
    if len(groups) != 3:
        raise ValueError(f"malformed NB201 arch string {shorten(text)}: expected 3 '+'-separated node groups "
                         f"(nodes 1, 2, 3), got {len(groups)}")
    ops: list[str] = []
    for target, group in enumerate(groups, start=1):
        if len(group) < 2 or not (group.startswith("|") and group.endswith("|")):
            raise ValueError(f"malformed NB201 arch string {shorten(text)}: node group {shorten(group)} must be "
                             f"enclosed in '|'")
        tokens = group[1:-1].split("|")
        if len(tokens) != target:
            raise ValueError(f"malformed NB201 arch string {shorten(text)}: node {target} must have {target} "
                             f"incoming edge(s), got {len(tokens)} in {shorten(group)}")
        for source, token in enumerate(tokens):
            op, sep, node = token.partition("~")
            if not sep or not op:
                raise ValueError(f"malformed NB201 arch string {shorten(text)}: token {shorten(token)} is not 'op~node'")
            if node != str(source):
                raise ValueError(f"wrong node index in NB201 arch string {shorten(text)}: token {shorten(token)} "
                                 f"is edge {source} into node {target}, expected '~{source}'")
            if op not in NB201_OPS:
                raise ValueError(f"unknown NB201 op {shorten(op)}{unusual_character(op)} in arch string {shorten(text)}; "
                                 f"expected one of {list(NB201_OPS)}")
            ops.append(op)
    return NB201Arch(tuple(ops))


def from_naslib_tuple(t: Sequence[int] | str) -> NB201Arch:
    """Convert a NASLib 6-tuple of op codes (or its string form ``"(4, 0, 3, 1, 4, 3)"``).

    The tuple lists edges (1<-0), (2<-0), (3<-0), (2<-1), (3<-1), (3<-2) with codes
    :data:`NASLIB_NB201_CODES`.
    """
    if isinstance(t, str):
        if not _NASLIB_STR.match(t.strip()):
            raise ValueError(f"malformed NASLib NB201 tuple string {t!r}; expected like '(4, 0, 3, 1, 4, 3)'")
        codes = [int(c) for c in t.strip()[1:-1].split(",")]
    else:
        if not isinstance(t, Sequence) and not isinstance(t, np.ndarray):
            raise ValueError(f"a NASLib NB201 tuple must be a sequence of 6 ints, got {t!r}")
        try:
            codes = [operator.index(c) for c in t]
        except TypeError:
            raise ValueError(f"a NASLib NB201 tuple must hold ints, got {t!r}") from None
    if len(codes) != len(NB201_EDGES):
        raise ValueError(f"a NASLib NB201 tuple has {len(NB201_EDGES)} codes, got {len(codes)}: {t!r}")
    ops: list[str | None] = [None] * len(NB201_EDGES)
    for k, code in enumerate(codes):
        if code not in NASLIB_NB201_CODES:
            raise ValueError(f"unknown NASLib NB201 op code {code!r} in {t!r}; "
                             f"expected one of {NASLIB_NB201_CODES}")
        ops[NASLIB_EDGE_ORDER[k]] = NASLIB_NB201_CODES[code]
    return NB201Arch(tuple(ops))  # type: ignore[arg-type]


def to_naslib_tuple(arch: NB201Arch) -> tuple[int, ...]:
    """The NASLib 6-tuple of op codes of ``arch`` (inverse of :func:`from_naslib_tuple`)."""
    _check_arch(arch)
    return tuple(_NASLIB_CODE_OF[arch.ops[pos]] for pos in NASLIB_EDGE_ORDER)


def _check_arch(arch: object) -> NB201Arch:
    if not isinstance(arch, NB201Arch):
        raise ValueError(f"expected an NB201Arch, got {type(arch).__name__}: {arch!r}")
    return arch


@lru_cache(maxsize=1)
def product_archs() -> tuple[NB201Arch, ...]:
    """All 15,625 cells in product order: :data:`NB201_OPS` per edge in arch-string order, the
    last edge varying fastest (needs no data; the benchmark's index order is
    :func:`tgnas.spaces.nb201.benchmark.enumerate_archs`)."""
    return tuple(NB201Arch(ops) for ops in itertools.product(NB201_OPS, repeat=len(NB201_EDGES)))


class NB201Form(Space):
    """NAS-Bench-201's cells as text, graphs, samples and mutations; architectures are
    :class:`NB201Arch` (the whole space, with its benchmark and networks, is
    :class:`tgnas.spaces.nb201.space.NB201Space`)."""

    name = "nb201"
    ops = NB201_OPS
    n_archs = NUM_ARCHS
    graph_ops = ("input", *NB201_OPS, "output")

    def parse(self, text: str) -> NB201Arch:
        """Parse a benchmark arch string; ``ValueError`` if malformed (see :func:`parse_arch`)."""
        return parse_arch(text)

    def format(self, arch: NB201Arch) -> str:
        """The benchmark arch string of ``arch``."""
        return _format(_check_arch(arch))

    def validate(self, arch: NB201Arch) -> NB201Arch:
        """Return ``arch`` if it is an :class:`NB201Arch` (whose ops are checked at construction)."""
        return _check_arch(arch)

    def from_naslib_tuple(self, t: Sequence[int] | str) -> NB201Arch:
        """See :func:`from_naslib_tuple`."""
        return from_naslib_tuple(t)

    def to_naslib_tuple(self, arch: NB201Arch) -> tuple[int, ...]:
        """See :func:`to_naslib_tuple`."""
        return to_naslib_tuple(arch)

    def to_graph(self, arch: NB201Arch, remove_none: bool = False) -> CellGraph:
        """Convert the edge-op cell into an 8-node node-op DAG.

        Node 0 is ``"input"``, nodes 1..6 are the six edge ops in arch-string order (node
        ``k + 1`` is edge :data:`NB201_EDGES`\\ ``[k]``), node 7 is ``"output"``. The op-node of
        edge (j<-i) receives from the op-nodes of the edges into cell node i (from the input
        node when i = 0); the op-nodes of the edges into cell node 3 feed the output. Because
        edges are grouped by target node, every link goes from a lower to a higher node
        number, so the adjacency is strictly upper-triangular.

        With ``remove_none=True`` the ``none`` op-nodes and all their links are dropped and the
        remaining nodes keep their relative order (so the adjacency stays upper-triangular;
        ``N = 8 - #none``). Nothing else is pruned or rewired: an op-node left without
        predecessors (its cell input is all-``none``) or without a path to the output is
        kept, and if every path from input to output went through ``none`` ops the graph is
        still returned, with input and output but no path between them.

        Returns:
            CellGraph with ``adjacency`` ``(N, N)`` uint8 and ``ops`` of length ``N``.
        """
        _check_arch(arch)
        n = len(NB201_EDGES) + 2
        out = n - 1
        adj = np.zeros((n, n), dtype=np.uint8)
        for k, (_target, source) in enumerate(NB201_EDGES):
            if source == 0:
                adj[0, k + 1] = 1
            else:
                for m, (target_m, _source_m) in enumerate(NB201_EDGES):
                    if target_m == source:
                        adj[m + 1, k + 1] = 1
            if _target == 3:
                adj[k + 1, out] = 1
        ops = ("input", *arch.ops, "output")
        if remove_none:
            keep = [i for i, op in enumerate(ops) if op != "none"]
            adj = adj[np.ix_(keep, keep)]
            ops = tuple(ops[i] for i in keep)
        return CellGraph(adjacency=adj, ops=ops)

    def sample(self, rng: np.random.Generator) -> NB201Arch:
        """Draw one cell uniformly over the 5^6 cells (each edge's op uniform and independent)."""
        _check_rng(rng)
        codes = rng.integers(0, len(NB201_OPS), size=len(NB201_EDGES))
        return NB201Arch(tuple(NB201_OPS[c] for c in codes))

    def mutate(self, arch: NB201Arch, rng: np.random.Generator) -> NB201Arch:
        """Change the op of exactly one uniformly drawn edge to a different, uniformly drawn op."""
        _check_arch(arch)
        _check_rng(rng)
        k = int(rng.integers(len(NB201_EDGES)))
        others = [op for op in NB201_OPS if op != arch.ops[k]]
        ops = list(arch.ops)
        ops[k] = others[int(rng.integers(len(others)))]
        return NB201Arch(tuple(ops))


def _check_rng(rng: object) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"expected a numpy.random.Generator (np.random.default_rng(seed)), "
                         f"got {type(rng).__name__}")
