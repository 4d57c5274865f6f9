"""The DARTS cell space (the NAS-Bench-301 space): a normal and a reduction cell.

Each cell has two input nodes (0 = output of cell k-2, 1 = output of cell k-1) and four
intermediate nodes 2..5. Intermediate node k has exactly two incoming edges from earlier
nodes, each carrying one operator; the cell output concatenates the intermediate nodes
listed in ``*_concat`` (always 2..5 in DARTS and NAS-Bench-301).

Two sets of genotypes meet here. :class:`Genotype` and DartsForm.parse` accept every
cell DARTS's own ``NetworkCIFAR`` builds: both edges of a node from the same input (DARTS
derives each edge's input independently, so published genotypes have them), the ``"none"``
op, any increasing concat. The *search space* (NAS-Bench-301's: two distinct inputs per
node, no ``"none"``) is what sampling, mutation, search encodings and the NB301 surrogate
take; DartsForm.check_search_space` says why a genotype is outside it.

Three forms meet in this project:

* the DARTS genotype string (DARTS' ``genotypes.py``), one ``(op, input_node)`` pair per
  edge, pairs 2k and 2k+1 feeding intermediate node k+2::

      Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ...], normal_concat=[2, 3, 4, 5],
               reduce=[('max_pool_3x3', 0), ...], reduce_concat=[2, 3, 4, 5])

  :class:`Genotype` holds exactly this; DartsForm.parse` reads it without ``eval``
  (``range(2, 6)`` is accepted as a concat).
* NASLib's "compact" form (keys of the NAS-Bench-Suite-Zero file): ``(normal, reduce)``,
  each 8 ``(input_node, op_index)`` pairs in the same order, op indices into
  :data:`NASLIB_DARTS_OPS` (:func:`from_compact`, :func:`to_compact`).
* the node-op graph the predictor reads (DartsForm.to_graph`).

The operator ``"none"`` is one of DARTS' primitives (the supernet's zero op, a zero tensor in
the network); like NAS-Bench-301 the search space excludes it (:attr:`DartsForm.ops`), but
published genotypes of some methods hold it, so it parses, scores and builds.
"""

from __future__ import annotations

import ast
import itertools
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tgnas.errors import check_text, shorten, unusual_character
from tgnas.graph_forms import masks_to_form
from tgnas.spaces.base import CellGraph, Space

#: DARTS' ``PRIMITIVES``, in its order.
DARTS_OPS: tuple[str, ...] = ("none", "max_pool_3x3", "avg_pool_3x3", "skip_connect",
                              "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")
#: The operator choices of the search space (NAS-Bench-301): DARTS' primitives without none.
SEARCH_OPS: tuple[str, ...] = DARTS_OPS[1:]
#: Op order of NASLib's compact form (the index is the op code); equal to :data:`SEARCH_OPS`.
NASLIB_DARTS_OPS: tuple[str, ...] = ("max_pool_3x3", "avg_pool_3x3", "skip_connect",
                                     "sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5")

NUM_INPUTS: int = 2
#: Intermediate nodes 2..5.
INTERMEDIATE_NODES: tuple[int, ...] = (2, 3, 4, 5)
#: ``(op, input)`` pairs per cell: two per intermediate node.
EDGES_PER_CELL: int = 2 * len(INTERMEDIATE_NODES)
DEFAULT_CONCAT: tuple[int, ...] = INTERMEDIATE_NODES
CELL_TYPES: tuple[str, ...] = ("normal", "reduce")

#: Node labels DartsForm.to_graph` gives the cell inputs and outputs.
NORMAL_ROLES: tuple[str, str, str] = ("input_0", "input_1", "output")
REDUCE_ROLES: tuple[str, str, str] = ("reduce_input_0", "reduce_input_1", "reduce_output")

Pair = tuple[str, int]


def node_of_edge(e: int) -> int:
    """The intermediate node (2..5) that pair ``e`` (0..7) of a cell feeds."""
    return e // 2 + NUM_INPUTS


@dataclass(frozen=True)
class Genotype:
    """One DARTS architecture: a normal and a reduction cell.

    Attributes:
        normal, reduce: 8 ``(op, input_node)`` pairs each; pairs ``2k`` and ``2k + 1`` feed
            intermediate node ``k + 2`` from ``input_node`` (0 and 1 are the cells k-2 and
            k-1, 2..5 the intermediate nodes).
        normal_concat, reduce_concat: the intermediate nodes the cell output concatenates.

    Construction checks the structure and raises ``ValueError`` for an unknown op (not in
    :data:`DARTS_OPS`), a wrong number of pairs, an input node that is not earlier than the
    node it feeds, or a concat that is not a non-empty increasing subset of 2..5. Both
    edges of a node may come from the same input (DARTS builds that cell). Lists are stored as tuples: instances are frozen,
    hashable and compare equal when their pairs are equal in order.

    Note the positional order (normal, reduce, normal_concat, reduce_concat) differs from
    DARTS' namedtuple (normal, normal_concat, reduce, reduce_concat); pass keywords.
    """

    normal: tuple[Pair, ...]
    reduce: tuple[Pair, ...]
    normal_concat: tuple[int, ...] = DEFAULT_CONCAT
    reduce_concat: tuple[int, ...] = DEFAULT_CONCAT

    def __post_init__(self) -> None:
        for cell in CELL_TYPES:
            object.__setattr__(self, cell, _check_cell(getattr(self, cell), cell))
            name = f"{cell}_concat"
            object.__setattr__(self, name, _check_concat(getattr(self, name), name))

    def cell(self, cell: str) -> tuple[Pair, ...]:
        """The pairs of ``"normal"`` or ``"reduce"``."""
        return getattr(self, _check_cell_type(cell))

    def concat(self, cell: str) -> tuple[int, ...]:
        """The concat of ``"normal"`` or ``"reduce"``."""
        return getattr(self, f"{_check_cell_type(cell)}_concat")

    def canonical(self) -> Genotype:
        """The same architecture with each node's two pairs sorted by (input, op).

        The order of a node's two edges does not change the network; use this to
        de-duplicate (NAS-Bench-301's config encoding is order-free in the same way).
        """
        def sort_cell(pairs: tuple[Pair, ...]) -> tuple[Pair, ...]:
            out: list[Pair] = []
            for k in range(0, EDGES_PER_CELL, 2):
                out.extend(sorted(pairs[k:k + 2], key=lambda p: (p[1], p[0])))
            return tuple(out)

        return Genotype(sort_cell(self.normal), sort_cell(self.reduce),
                        self.normal_concat, self.reduce_concat)

    def __str__(self) -> str:
        return format_genotype(self)


def _check_cell_type(cell: str) -> str:
    if cell not in CELL_TYPES:
        raise ValueError(f"unknown cell {cell!r}; expected one of {list(CELL_TYPES)}")
    return cell


def _shown(value: object) -> str:
    return shorten(value)


_OP_SET = frozenset(DARTS_OPS)


def _check_cell(pairs: object, cell: str) -> tuple[Pair, ...]:
    # the common case (a list or tuple of (str op, int input) tuples, as parsing gives) is
    # checked without the abstract-class tests below, which cost most of a 100,000-line file
    if type(pairs) in (list, tuple) and len(pairs) == EDGES_PER_CELL and all(
            type(p) is tuple and len(p) == 2 and type(p[0]) is str and p[0] in _OP_SET and type(p[1]) is int
            and 0 <= p[1] < node_of_edge(e) for e, p in enumerate(pairs)):
        return tuple(pairs)
    if isinstance(pairs, str) or not isinstance(pairs, Sequence):
        raise ValueError(f"Genotype.{cell} must be a sequence of {EDGES_PER_CELL} (op, input) pairs, "
                         f"got {_shown(pairs)}")
    if len(pairs) != EDGES_PER_CELL:
        raise ValueError(f"Genotype.{cell} must have {EDGES_PER_CELL} (op, input) pairs (two per "
                         f"intermediate node 2..5), got {len(pairs)}: {_shown(pairs)}")
    out: list[Pair] = []
    for e, pair in enumerate(pairs):
        node = node_of_edge(e)
        if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise ValueError(f"Genotype.{cell}[{e}] must be an (op, input_node) pair, got {_shown(pair)}")
        op, inp = pair
        if op not in DARTS_OPS:
            raise ValueError(f"unknown DARTS op {_shown(op)}{unusual_character(op)} in Genotype.{cell}[{e}]; "
                             f"expected one of {list(DARTS_OPS)}")
        if isinstance(inp, bool):
            raise ValueError(f"input node of Genotype.{cell}[{e}] must be an int, got {_shown(inp)}")
        try:
            inp = operator.index(inp)
        except TypeError:
            raise ValueError(f"input node of Genotype.{cell}[{e}] must be an int, got {_shown(inp)}") from None
        if not 0 <= inp < node:
            raise ValueError(f"Genotype.{cell}[{e}] = {_shown(pair)} feeds node {node} from node {inp}; "
                             f"inputs of node {node} must be in 0..{node - 1} (earlier nodes only, "
                             f"else the cell has a cycle)")
        out.append((str(op), inp))
    return tuple(out)


def _check_concat(concat: object, name: str) -> tuple[int, ...]:
    if isinstance(concat, range):
        concat = list(concat)
    if isinstance(concat, str) or not isinstance(concat, Sequence):
        raise ValueError(f"Genotype.{name} must be a sequence of node indices, got {_shown(concat)}")
    try:
        nodes = tuple(operator.index(c) for c in concat if not isinstance(c, bool))
    except TypeError:
        nodes = ()
    if (len(nodes) != len(concat) or not nodes or any(c not in INTERMEDIATE_NODES for c in nodes)
            or list(nodes) != sorted(set(nodes))):
        raise ValueError(f"bad Genotype.{name} {_shown(concat)}: expected a non-empty increasing subset "
                         f"of the intermediate nodes {list(INTERMEDIATE_NODES)}")
    return nodes


def check_genotype(g: object) -> Genotype:
    """Return ``g`` if it is a :class:`Genotype` (whose structure is checked at construction)."""
    if not isinstance(g, Genotype):
        raise ValueError(f"expected a DARTS Genotype, got {type(g).__name__}: {_shown(g)}")
    return g


# --------------------------------------------------------------------------- text form

def format_genotype(g: Genotype) -> str:
    """The DARTS genotype string of ``g`` (lists, as DARTS' ``genotypes.py`` writes them)."""
    check_genotype(g)
    return (f"Genotype(normal={list(g.normal)!r}, normal_concat={list(g.normal_concat)!r}, "
            f"reduce={list(g.reduce)!r}, reduce_concat={list(g.reduce_concat)!r})")


_FIELDS: tuple[str, ...] = ("normal", "normal_concat", "reduce", "reduce_concat")  # namedtuple order
#: Longest genotype (or compact) string accepted: a DARTS genotype string has about 420
#: characters; the bound keeps parsing cheap and its errors short.
MAX_TEXT = 4_000
#: Longest ``range(...)`` accepted in a concat (a cell has 4 intermediate nodes).
MAX_RANGE = 16


def _range_literal(node: ast.Call, field: str, text: str) -> list[int] | None:
    """``range(a[, b[, c]])`` with int literals and at most :data:`MAX_RANGE` items, else None
    (its size is checked before any list is made)."""
    try:
        args = [ast.literal_eval(a) for a in node.args]
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None
    if not all(isinstance(a, int) and not isinstance(a, bool) for a in args):
        return None
    try:
        r = range(*args)
    except (ValueError, TypeError):  # range(0, 5, 0)
        return None
    if len(r) > MAX_RANGE:
        raise ValueError(f"malformed DARTS genotype string {shorten(text)}: {field} = range of {len(r):,} "
                         f"items; a concat lists at most {len(INTERMEDIATE_NODES)} nodes")
    return list(r)


def _source(node: ast.expr, text: str) -> str:
    """The text of ``node`` (no ``ast.unparse``: it recurses, and long chains overflow it)."""
    return shorten(ast.get_source_segment(text.strip(), node) or type(node).__name__)


def _literal(node: ast.expr, field: str, text: str) -> object:
    # ``range(a, b)`` is the one call allowed (DARTS writes concats that way); everything else
    # must be a Python literal. Nothing is executed.
    if isinstance(node, ast.Call):
        if (isinstance(node.func, ast.Name) and node.func.id == "range" and not node.keywords
                and 1 <= len(node.args) <= 3):
            value = _range_literal(node, field, text)
            if value is not None:
                return value
        raise ValueError(f"malformed DARTS genotype string {shorten(text)}: {field} = "
                         f"{_source(node, text)} is not a literal or range(a, b)")
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        raise ValueError(f"malformed DARTS genotype string {shorten(text)}: {field} = "
                         f"{_source(node, text)} is not a literal") from None


def _parse_call(text: str) -> ast.Call:
    """The ``Genotype(...)`` call of ``text`` (parsed, never executed)."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ValueError(f"malformed DARTS genotype string {shorten(text)}: {err.msg}") from None
    except (MemoryError, RecursionError):  # nesting too deep for Python's parser
        raise ValueError(f"malformed DARTS genotype string {shorten(text)}: nested too deeply") from None
    call = tree.body
    if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == "Genotype"):
        raise ValueError(f"malformed DARTS genotype string {shorten(text)}: expected 'Genotype(normal=[...], "
                         f"normal_concat=[...], reduce=[...], reduce_concat=[...])'")
    if len(call.args) > len(_FIELDS):
        raise ValueError(f"malformed DARTS genotype string {shorten(text)}: at most {len(_FIELDS)} fields")
    return call


_INT = r"(?:0|[1-9][0-9]{0,2})"
_OP = r"""(?:'[a-z0-9_]{1,40}'|"[a-z0-9_]{1,40}")"""
_PAIR = rf"\(\s*{_OP}\s*,\s*{_INT}\s*\)"
_PAIRS = rf"\[\s*(?:{_PAIR}\s*,\s*){{{EDGES_PER_CELL - 1}}}{_PAIR}\s*,?\s*\]"
_CONCAT = rf"(?:\[\s*(?:{_INT}(?:\s*,\s*{_INT})*\s*,?\s*)?\]|range\(\s*{_INT}\s*,\s*{_INT}\s*\))"
#: The common text forms (keywords in namedtuple order, list cells, list or ``range(a, b)``
#: concats), read with one regular expression instead of a syntax tree (10x faster); every
#: text it accepts is a Python literal :mod:`ast` reads alike, and anything else takes :mod:`ast`.
_FAST_FORM = re.compile(rf"\s*Genotype\(\s*normal\s*=\s*(?P<normal>{_PAIRS})\s*,\s*normal_concat\s*=\s*"
                        rf"(?P<normal_concat>{_CONCAT})\s*,\s*reduce\s*=\s*(?P<reduce>{_PAIRS})\s*,\s*"
                        rf"reduce_concat\s*=\s*(?P<reduce_concat>{_CONCAT})\s*,?\s*\)\s*", re.ASCII)
_PAIR_RE = re.compile(r"""\(\s*['"]([a-z0-9_]+)['"]\s*,\s*([0-9]+)\s*\)""", re.ASCII)
_INT_RE = re.compile(r"[0-9]+", re.ASCII)


def _fast_parse(text: str) -> Genotype | None:
    """The genotype of ``text`` when it has one of the common forms, else ``None``."""
    m = _FAST_FORM.fullmatch(text)
    if m is None:
        return None
    values: dict[str, object] = {}
    for cell in CELL_TYPES:
        values[cell] = [(op, int(i)) for op, i in _PAIR_RE.findall(m[cell])]
        concat = m[f"{cell}_concat"]
        nums = [int(v) for v in _INT_RE.findall(concat)]
        if concat.startswith("range"):
            if len(range(*nums)) > MAX_RANGE:
                return None  # the syntax-tree path says why
            nums = list(range(*nums))
        values[f"{cell}_concat"] = nums
    return Genotype(**values)  # type: ignore[arg-type]


def parse_genotype(text: str) -> Genotype:
    """Parse a DARTS genotype string ``Genotype(normal=[...], normal_concat=[...], ...)``.

    Keyword or positional arguments (positional in the namedtuple order normal,
    normal_concat, reduce, reduce_concat); concats may be lists, tuples or ``range(2, 6)``;
    missing concats default to 2..5. Parsed with :mod:`ast` (no ``eval``); at most
    :data:`MAX_TEXT` characters.

    Raises:
        ValueError: too long, not a ``Genotype(...)`` call, unknown or repeated fields,
            non-literal values, or a structurally invalid cell (see :class:`Genotype`).
            Messages quote at most ~200 characters of the input.
    """
    check_text(text, "a DARTS genotype string", MAX_TEXT)
    fast = _fast_parse(text)
    if fast is not None:
        return fast
    call = _parse_call(text)
    values: dict[str, object] = {}
    for field, node in zip(_FIELDS, call.args):
        values[field] = _literal(node, field, text)
    for kw in call.keywords:
        if kw.arg not in _FIELDS:
            raise ValueError(f"malformed DARTS genotype string {shorten(text)}: unknown field "
                             f"{shorten(kw.arg)}; expected {list(_FIELDS)}")
        if kw.arg in values:
            raise ValueError(f"malformed DARTS genotype string {shorten(text)}: field {kw.arg!r} given twice")
        values[kw.arg] = _literal(kw.value, kw.arg, text)
    for cell in CELL_TYPES:
        if cell not in values:
            raise ValueError(f"malformed DARTS genotype string {shorten(text)}: field {cell!r} is missing")
    return Genotype(**values)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ compact form

Compact = tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]


def from_compact(compact: Sequence | str) -> Genotype:
    """Convert NASLib's compact form (or its string, as in the zero-cost JSON keys).

    ``compact`` is ``(normal, reduce)``, each 8 ``(input_node, op_index)`` pairs, op indices
    into :data:`NASLIB_DARTS_OPS`. Concats are 2..5 (NASLib's DARTS cells always use all four).
    """
    text = compact if isinstance(compact, str) else None
    if isinstance(compact, str):
        check_text(compact, "a NASLib DARTS compact string", MAX_TEXT)
        try:
            compact = ast.literal_eval(compact.strip())
        except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
            raise ValueError(f"malformed NASLib DARTS compact string {shorten(text)}; expected like "
                             f"'[[(0, 4), (1, 3), ...], [(0, 3), ...]]'") from None
    shown = shorten(text if text is not None else compact)
    if isinstance(compact, str) or not isinstance(compact, Sequence) or len(compact) != 2:
        raise ValueError(f"a NASLib DARTS compact form is (normal, reduce), got {shown}")
    cells = []
    for cell, pairs in zip(CELL_TYPES, compact):
        if isinstance(pairs, str) or not isinstance(pairs, Sequence):
            raise ValueError(f"the {cell} cell of compact {shown} must be a sequence of "
                             f"(input_node, op_index) pairs")
        out = []
        for pair in pairs:
            if isinstance(pair, str) or not isinstance(pair, Sequence) or len(pair) != 2:
                raise ValueError(f"bad (input_node, op_index) pair {shorten(pair)} in compact {shown}")
            inp, code = pair
            if isinstance(code, bool) or not isinstance(code, (int, np.integer)) \
                    or not 0 <= code < len(NASLIB_DARTS_OPS):
                raise ValueError(f"unknown NASLib DARTS op index {shorten(code)} in compact {shown}; expected "
                                 f"0..{len(NASLIB_DARTS_OPS) - 1} for {list(NASLIB_DARTS_OPS)}")
            out.append((NASLIB_DARTS_OPS[int(code)], inp))
        cells.append(out)
    return Genotype(normal=cells[0], reduce=cells[1])


def to_compact(g: Genotype) -> Compact:
    """NASLib's compact form of ``g`` (inverse of :func:`from_compact`).

    Raises:
        ValueError: ``g`` uses ``"none"`` or a concat other than 2..5, which the compact form
            cannot express.
    """
    check_genotype(g)
    cells = []
    for cell in CELL_TYPES:
        if g.concat(cell) != DEFAULT_CONCAT:
            raise ValueError(f"the compact form assumes {cell}_concat = {list(DEFAULT_CONCAT)}, "
                             f"got {list(g.concat(cell))}")
        pairs = []
        for op, inp in g.cell(cell):
            if op not in NASLIB_DARTS_OPS:
                raise ValueError(f"op {op!r} has no NASLib compact code; expected one of "
                                 f"{list(NASLIB_DARTS_OPS)}")
            pairs.append((inp, NASLIB_DARTS_OPS.index(op)))
        cells.append(tuple(pairs))
    return (cells[0], cells[1])


def to_compact_key(g: Genotype) -> str:
    """The string the NAS-Bench-Suite-Zero JSON uses as key for ``g``: ``'[[(0, 4), ...], [...]]'``."""
    normal, reduce = to_compact(g)
    return str([list(normal), list(reduce)])


# ----------------------------------------------------------------------------- graph

def _cell_graph(g: Genotype, cell: str, roles: tuple[str, str, str]) -> tuple[np.ndarray, list[str]]:
    """One cell as node-op DAG: 2 inputs, 8 op-nodes (pair order), output; ``(11, 11)``."""
    pairs, concat = g.cell(cell), g.concat(cell)
    n = NUM_INPUTS + EDGES_PER_CELL + 1
    out = n - 1
    adj = np.zeros((n, n), dtype=np.uint8)
    for e, (_op, inp) in enumerate(pairs):
        me = NUM_INPUTS + e
        if inp < NUM_INPUTS:
            adj[inp, me] = 1
        else:
            # the op-nodes of both edges into intermediate node ``inp`` (pairs 2(inp-2), +1)
            first = 2 * (inp - NUM_INPUTS)
            adj[NUM_INPUTS + first, me] = 1
            adj[NUM_INPUTS + first + 1, me] = 1
        if node_of_edge(e) in concat:
            adj[me, out] = 1
    ops = [roles[0], roles[1], *(op for op, _ in pairs), roles[2]]
    return adj, ops


# --------------------------------------------------------------------------- the space

#: For each intermediate node, its possible input pairs ``(i, j)``, ``i < j < node``.
_INPUT_PAIRS: dict[int, tuple[tuple[int, int], ...]] = {
    node: tuple(itertools.combinations(range(node), 2)) for node in INTERMEDIATE_NODES}
_NUM_INPUT_PAIRS: np.ndarray = np.array([len(_INPUT_PAIRS[n]) for n in INTERMEDIATE_NODES])


class DartsForm(Space):
    """The DARTS / NAS-Bench-301 space; architectures are :class:`Genotype`."""

    name = "darts"
    ops = SEARCH_OPS
    graph_ops = (*NORMAL_ROLES, *REDUCE_ROLES, *DARTS_OPS)

    def parse(self, text: str) -> Genotype:
        """Parse a DARTS genotype string (see :func:`parse_genotype`) and :meth:`validate` it."""
        return self.validate(parse_genotype(text))

    def format(self, arch: Genotype) -> str:
        """The DARTS genotype string of ``arch`` (``parse(format(g)) == g``)."""
        return format_genotype(arch)

    def validate(self, arch: Genotype) -> Genotype:
        """Return ``arch`` if it is a :class:`Genotype` (a cell DARTS's network builds: ``"none"``
        ops and same-input pairs included; see :meth:`check_search_space` for the search space)."""
        return check_genotype(arch)

    def check_search_space(self, arch: Genotype, user: str = "the DARTS search space") -> Genotype:
        """Return ``arch`` if it lies in the search space of sampling, mutation, search and the
        NB301 surrogate (no ``"none"`` op, two distinct inputs per node), else ``ValueError``
        naming ``user`` (the part that cannot take the cell) and the first offending edge."""
        check_genotype(arch)
        for cell in CELL_TYPES:
            pairs = arch.cell(cell)
            for e, (op, _inp) in enumerate(pairs):
                if op not in SEARCH_OPS:
                    raise ValueError(f"op {op!r} in Genotype.{cell}[{e}] is not in the DARTS search space, "
                                     f"so {user} cannot take this cell; expected one of {list(SEARCH_OPS)} "
                                     f"(the predictor still scores it)")
            for k in range(0, EDGES_PER_CELL, 2):
                if pairs[k][1] == pairs[k + 1][1]:
                    raise ValueError(f"both edges into node {node_of_edge(k)} of the {cell} cell come from node "
                                     f"{pairs[k][1]} ({pairs[k]!r}, {pairs[k + 1]!r}): outside the DARTS search "
                                     f"space (two distinct inputs per node), so {user} cannot take this cell "
                                     f"(the predictor still scores it)")
        return arch

    def from_compact(self, compact: Sequence | str) -> Genotype:
        """See :func:`from_compact`."""
        return from_compact(compact)

    def to_compact(self, arch: Genotype) -> Compact:
        """See :func:`to_compact`."""
        return to_compact(arch)

    def to_graph(self, arch: Genotype, cell: str = "both") -> CellGraph:
        """Convert to the node-op DAG the predictor reads.

        Per cell, 11 nodes: the two inputs, one op-node per pair in genotype order (label =
        op name), the output. The op-node of a pair ``(op, i)`` receives from input node
        ``i`` when ``i < 2``, else from the op-nodes of both pairs into intermediate node
        ``i``; the op-nodes of pairs into the concatenated nodes feed the output. Pairs are
        grouped by target node, so every link goes forward (strictly upper-triangular).

        Args:
            arch: the genotype (``"none"`` ops are kept as nodes).
            cell: ``"normal"`` (labels ``input_0``, ``input_1``, ops, ``output``),
                ``"reduce"`` (``reduce_input_0``, ``reduce_input_1``, ops,
                ``reduce_output``) or ``"both"``: the normal cell's 11 nodes, then the
                reduction cell's 11, linked as in the network where a reduction cell follows
                a normal cell: ``input_1`` -> ``reduce_input_0`` (both are cell k-1's
                output) and ``output`` -> ``reduce_input_1``.

        Returns:
            CellGraph with ``adjacency`` ``(N, N)`` uint8, N = 11 (one cell) or 22 (both).
        """
        check_genotype(arch)
        if cell == "normal":
            adj, ops = _cell_graph(arch, "normal", NORMAL_ROLES)
            return CellGraph(adjacency=adj, ops=tuple(ops))
        if cell == "reduce":
            adj, ops = _cell_graph(arch, "reduce", REDUCE_ROLES)
            return CellGraph(adjacency=adj, ops=tuple(ops))
        if cell != "both":
            raise ValueError(f"unknown cell {cell!r}; expected 'normal', 'reduce' or 'both'")
        adj_n, ops_n = _cell_graph(arch, "normal", NORMAL_ROLES)
        adj_r, ops_r = _cell_graph(arch, "reduce", REDUCE_ROLES)
        m = len(ops_n)
        adj = np.zeros((2 * m, 2 * m), dtype=np.uint8)
        adj[:m, :m] = adj_n
        adj[m:, m:] = adj_r
        adj[1, m + 0] = 1      # normal input_1 (cell k-1) -> reduce_input_0
        adj[m - 1, m + 1] = 1  # normal output (cell k)    -> reduce_input_1
        return CellGraph._trusted(adj, (*ops_n, *ops_r))  # forward links only, by construction

    def to_graph_form(self, arch: Genotype, form: str) -> CellGraph:
        """``tgnas.graph_forms.to_form(self.to_graph(arch), form)``, built from the genotype's
        pairs as bit masks without the intermediate full graph (scoring a file of genotypes
        spends most of its time here)."""
        check_genotype(arch)
        m = NUM_INPUTS + EDGES_PER_CELL + 1
        succ = [0] * (2 * m)
        pred = [0] * (2 * m)
        ops: list[str] = []
        for c, (cell, roles) in enumerate((("normal", NORMAL_ROLES), ("reduce", REDUCE_ROLES))):
            base = c * m
            out = base + m - 1
            concat = arch.concat(cell)
            pairs = arch.cell(cell)
            for e, (_op, inp) in enumerate(pairs):
                me = base + NUM_INPUTS + e
                sources = (inp,) if inp < NUM_INPUTS else (NUM_INPUTS + 2 * (inp - NUM_INPUTS),
                                                           NUM_INPUTS + 2 * (inp - NUM_INPUTS) + 1)
                for src in sources:
                    succ[base + src] |= 1 << me
                    pred[me] |= 1 << (base + src)
                if node_of_edge(e) in concat:
                    succ[me] |= 1 << out
                    pred[out] |= 1 << me
            ops.extend((roles[0], roles[1], *(op for op, _ in pairs), roles[2]))
        for a, b in ((1, m), (m - 1, m + 1)):  # as in to_graph(cell="both")
            succ[a] |= 1 << b
            pred[b] |= 1 << a
        return masks_to_form(tuple(ops), succ, pred, form)

    def sample(self, rng: np.random.Generator) -> Genotype:
        """Draw one genotype as NAS-Bench-301 / DARTS random search does.

        For each cell and each intermediate node k = 2..5: two distinct inputs drawn
        uniformly from the pairs of nodes 0..k-1, and an op for each edge drawn uniformly from
        :data:`SEARCH_OPS`. The two pairs of a node are listed with the smaller input first
        (NAS-Bench-301's order).
        """
        _check_rng(rng)
        # one draw per cell and node among its C(k, 2) input pairs, one op code per edge
        which = rng.integers(0, _NUM_INPUT_PAIRS, size=(len(CELL_TYPES), len(INTERMEDIATE_NODES)))
        codes = rng.integers(0, len(SEARCH_OPS), size=(len(CELL_TYPES), EDGES_PER_CELL))
        cells = []
        for c in range(len(CELL_TYPES)):
            pairs: list[Pair] = []
            for k, node in enumerate(INTERMEDIATE_NODES):
                inputs = _INPUT_PAIRS[node][which[c, k]]
                pairs.extend((SEARCH_OPS[codes[c, 2 * k + j]], inputs[j]) for j in range(2))
            cells.append(pairs)
        return Genotype(normal=cells[0], reduce=cells[1])

    def mutate(self, arch: Genotype, rng: np.random.Generator) -> Genotype:
        """Change one op or one input of one uniformly drawn edge (of either cell).

        With probability 1/2 (and always for the edges of node 2, whose inputs are fixed to
        0 and 1) the edge's op becomes a different op from :data:`SEARCH_OPS`; otherwise its
        input becomes a different earlier node that is not the input of the node's other
        edge. The result is valid and differs from ``arch``. ``arch`` must lie in the search
        space (:meth:`check_search_space`).
        """
        self.check_search_space(arch, "mutation")
        _check_rng(rng)
        cell = CELL_TYPES[int(rng.integers(len(CELL_TYPES)))]
        e = int(rng.integers(EDGES_PER_CELL))
        pairs = list(arch.cell(cell))
        op, inp = pairs[e]
        node = node_of_edge(e)
        sibling_inp = pairs[e ^ 1][1]
        free_inputs = [i for i in range(node) if i not in (inp, sibling_inp)]
        if free_inputs and rng.random() < 0.5:
            pairs[e] = (op, free_inputs[int(rng.integers(len(free_inputs)))])
        else:
            others = [o for o in SEARCH_OPS if o != op]
            pairs[e] = (others[int(rng.integers(len(others)))], inp)
        cells = {c: arch.cell(c) for c in CELL_TYPES}
        cells[cell] = tuple(pairs)
        return Genotype(normal=cells["normal"], reduce=cells["reduce"],
                        normal_concat=arch.normal_concat, reduce_concat=arch.reduce_concat)


def _check_rng(rng: object) -> None:
    if not isinstance(rng, np.random.Generator):
        raise ValueError(f"expected a numpy.random.Generator (np.random.default_rng(seed)), "
                         f"got {type(rng).__name__}")


# ------------------------------------------------------------------ known genotypes
# From DARTS' genotypes.py (Liu et al., 2019; github.com/quark0/darts): first- and
# second-order DARTS on CIFAR-10.

DARTS_V1: Genotype = Genotype(
    normal=(("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 0), ("sep_conv_3x3", 1),
            ("skip_connect", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("skip_connect", 2)),
    reduce=(("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 0),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("avg_pool_3x3", 0)),
)

DARTS_V2: Genotype = Genotype(
    normal=(("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_3x3", 1),
            ("sep_conv_3x3", 1), ("skip_connect", 0), ("skip_connect", 0), ("dil_conv_3x3", 2)),
    reduce=(("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2), ("max_pool_3x3", 1),
            ("max_pool_3x3", 0), ("skip_connect", 2), ("skip_connect", 2), ("max_pool_3x3", 1)),
)
