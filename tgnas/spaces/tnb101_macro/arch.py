"""The TransNAS-Bench-101 macro space: 4 to 6 layers of ResNet basic blocks, each layer
keeping or doubling the channels and keeping or halving the resolution (3,256 networks).

An architecture is a sequence of layer codes (TransNAS-Bench-101, Duan et al., CVPR 2021):

====  =========================  ============================
code  what the layer does        graph label (:data:`LABELS`)
====  =========================  ============================
1     keeps resolution, channels ``tnb_block``
2     doubles the channels       ``tnb_block_widen``
3     halves the resolution      ``tnb_block_down``
4     both                       ``tnb_block_down_widen``
====  =========================  ============================

Every layer is two ResNet basic blocks; a stem takes the input down by 4 to 64 channels
(:mod:`tgnas.spaces.tnb101_macro.net`). The space's rules (TransNAS-Bench-101's, checked
against the published total and the benchmark file by ``tests/test_tnb101_space.py``):
4 to 6 layers, 1 to 4 of them halve the resolution (code 3 or 4), 1 to 3 of them double the
channels (code 2 or 4). Enumerating them gives 210 + 750 + 2,296 = 3,256 networks (4, 5, 6
layers), the published size of the macro space.

Two text forms meet in this project; :func:`parse_arch` reads both:

* TransNAS-Bench-101's net code ``"64-1242-basic"``: base width, the layer codes, the cell
  ("basic": ResNet basic blocks). **This is the canonical form** (:func:`format_arch`): it is
  what the benchmark itself names its networks by, and it has no padding.
* NASLib's padded 6-tuple ``"(1, 2, 4, 2, 0, 0)"`` (the keys of NAS-Bench-Suite-Zero's
  file): the codes, then zeros up to six entries (:func:`to_naslib_tuple`).

This module reads no data.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tgnas.cellgraph import CellGraph
from tgnas.errors import check_text, shorten

#: Layer codes, in the benchmark's numbering.
CODES: tuple[int, ...] = (1, 2, 3, 4)
#: Graph-node label of each layer code.
LABELS: dict[int, str] = {1: "tnb_block", 2: "tnb_block_widen", 3: "tnb_block_down", 4: "tnb_block_down_widen"}
_CODE_OF: dict[str, int] = {label: code for code, label in LABELS.items()}
#: Codes whose layer halves the resolution (stride 2) / doubles the channels.
DOWN_CODES: frozenset[int] = frozenset({3, 4})
WIDEN_CODES: frozenset[int] = frozenset({2, 4})
#: Layers per network.
MIN_LAYERS, MAX_LAYERS = 4, 6
#: How many layers may halve the resolution / double the channels.
MIN_DOWN, MAX_DOWN = 1, 4
MIN_WIDEN, MAX_WIDEN = 1, 3
#: Width of the stem's output (the ``64`` of ``"64-1242-basic"``); the space fixes it.
BASE_CHANNELS: int = 64
#: The published size of the macro space.
NUM_ARCHS: int = 3256
#: The benchmark's tasks, the default (``class_scene``) first (here so that importing the
#: space needs no pandas; :mod:`.benchmark` reads them).
TASKS: tuple[str, ...] = ("class_scene", "class_object", "jigsaw", "room_layout", "segmentsemantic",
                          "normal", "autoencoder")

#: Longest text accepted by :func:`parse_arch` (a valid one has at most 18 characters).
MAX_TEXT = 200
_NET_CODE = re.compile(r"^(\d+)-(\d+)-(\w+)$")
_NASLIB = re.compile(r"^\(\s*\d+\s*(,\s*\d+\s*)*\)$")


@dataclass(frozen=True)
class MacroArch:
    """One network of the macro space: its layer codes, first layer first.

    ``codes`` holds 4 to 6 ints in 1..4 (see the module docstring) with 1 to 4 downsampling
    and 1 to 3 widening layers. Construction validates, so every instance is a valid
    network; frozen and hashable.
    """

    codes: tuple[int, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "codes", _check_codes(self.codes))

    @property
    def n_layers(self) -> int:
        return len(self.codes)

    @property
    def n_down(self) -> int:
        """Layers that halve the resolution."""
        return sum(c in DOWN_CODES for c in self.codes)

    @property
    def n_widen(self) -> int:
        """Layers that double the channels."""
        return sum(c in WIDEN_CODES for c in self.codes)

    @property
    def labels(self) -> tuple[str, ...]:
        """The graph-node label of each layer."""
        return tuple(LABELS[c] for c in self.codes)

    def __str__(self) -> str:
        return format_arch(self)


def _check_codes(codes: object) -> tuple[int, ...]:
    if isinstance(codes, (str, bytes)) or not isinstance(codes, (Sequence, np.ndarray)):
        raise ValueError(f"MacroArch.codes must be a sequence of {MIN_LAYERS} to {MAX_LAYERS} layer codes "
                         f"in {list(CODES)}, got {codes!r}")
    try:
        out = tuple(operator.index(c) for c in codes)
    except TypeError:
        raise ValueError(f"TNB101 macro layer codes must be ints in {list(CODES)}, got {codes!r}") from None
    if not MIN_LAYERS <= len(out) <= MAX_LAYERS:
        raise ValueError(f"a TNB101 macro network has {MIN_LAYERS} to {MAX_LAYERS} layers, "
                         f"got {len(out)}: {out!r}")
    bad = [c for c in out if c not in CODES]
    if bad:
        raise ValueError(f"unknown TNB101 macro layer code {bad[0]!r} in {out!r}; expected one of {list(CODES)} "
                         "(1 keep, 2 widen, 3 downsample, 4 both)")
    down = sum(c in DOWN_CODES for c in out)
    if not MIN_DOWN <= down <= MAX_DOWN:
        raise ValueError(f"TNB101 macro network {out!r} halves the resolution {down} times (codes 3, 4); "
                         f"expected {MIN_DOWN} to {MAX_DOWN}")
    widen = sum(c in WIDEN_CODES for c in out)
    if not MIN_WIDEN <= widen <= MAX_WIDEN:
        raise ValueError(f"TNB101 macro network {out!r} doubles the channels {widen} times (codes 2, 4); "
                         f"expected {MIN_WIDEN} to {MAX_WIDEN}")
    return out


def format_arch(arch: MacroArch) -> str:
    """The canonical text of ``arch``: TransNAS-Bench-101's net code, ``"64-1242-basic"``."""
    check_arch(arch)
    return f"{BASE_CHANNELS}-{''.join(map(str, arch.codes))}-basic"


def parse_arch(text: str) -> MacroArch:
    """Parse either text form (module docstring): ``"64-1242-basic"`` or ``"(1, 2, 4, 2, 0, 0)"``.

    Raises:
        ValueError: not a string, neither form, a base width other than 64, a cell other than
            ``basic``, NASLib padding other than trailing zeros up to six entries, or codes
            that break the space's rules.
    """
    check_text(text, "a TNB101 macro arch string", MAX_TEXT)
    s = text.strip()
    if s.startswith("("):
        return from_naslib_tuple(s)
    m = _NET_CODE.match(s)
    if not m:
        raise ValueError(f"malformed TNB101 macro arch string {shorten(text)}; expected a net code like "
                         "'64-1242-basic' or a NASLib tuple like '(1, 2, 4, 2, 0, 0)'")
    base, codes, cell = m.groups()
    if int(base) != BASE_CHANNELS:
        raise ValueError(f"TNB101 macro arch string {shorten(text)} has base width {base}; the macro space "
                         f"fixes it to {BASE_CHANNELS}")
    if cell != "basic":
        raise ValueError(f"TNB101 macro arch string {shorten(text)} has cell {cell!r}; the macro space uses "
                         "'basic' (ResNet basic blocks)")
    return MacroArch(tuple(int(c) for c in codes))


def from_naslib_tuple(t: Sequence[int] | str) -> MacroArch:
    """Read NASLib's padded 6-tuple (or its string ``"(1, 2, 4, 2, 0, 0)"``): the layer codes,
    then zeros up to six entries."""
    if isinstance(t, str):
        if not _NASLIB.match(t.strip()):
            raise ValueError(f"malformed NASLib TNB101 macro tuple {t!r}; expected like '(1, 2, 4, 2, 0, 0)'")
        codes = [int(c) for c in t.strip()[1:-1].split(",")]
    else:
        if isinstance(t, (bytes, bytearray)) or not isinstance(t, (Sequence, np.ndarray)):
            raise ValueError(f"a NASLib TNB101 macro tuple must be a sequence of {MAX_LAYERS} ints, got {t!r}")
        try:
            codes = [operator.index(c) for c in t]
        except TypeError:
            raise ValueError(f"a NASLib TNB101 macro tuple must hold ints, got {t!r}") from None
    if len(codes) != MAX_LAYERS:
        raise ValueError(f"a NASLib TNB101 macro tuple has {MAX_LAYERS} entries (codes padded with zeros), "
                         f"got {len(codes)}: {t!r}")
    n = len(codes)
    while n and codes[n - 1] == 0:
        n -= 1
    if 0 in codes[:n]:
        raise ValueError(f"NASLib TNB101 macro tuple {t!r} has a 0 before a layer; zeros pad the end only")
    return MacroArch(tuple(codes[:n]))


def to_naslib_tuple(arch: MacroArch) -> tuple[int, ...]:
    """NASLib's padded 6-tuple of ``arch`` (inverse of :func:`from_naslib_tuple`)."""
    check_arch(arch)
    return arch.codes + (0,) * (MAX_LAYERS - arch.n_layers)


def to_naslib_string(arch: MacroArch) -> str:
    """The NASLib key of ``arch``, ``"(1, 2, 4, 2, 0, 0)"`` (the keys of the benchmark file)."""
    return str(to_naslib_tuple(arch))


def check_arch(arch: object) -> MacroArch:
    """Return ``arch`` if it is a :class:`MacroArch` (valid by construction), else ``ValueError``."""
    if not isinstance(arch, MacroArch):
        raise ValueError(f"expected a MacroArch, got {type(arch).__name__}: {arch!r}")
    return arch


def as_arch(arch: MacroArch | str) -> MacroArch:
    """Accept a :class:`MacroArch` or either text form."""
    if isinstance(arch, MacroArch):
        return arch
    if isinstance(arch, str):
        return parse_arch(arch)
    raise ValueError(f"expected a MacroArch or a TNB101 macro arch string, got {type(arch).__name__}: {arch!r}")


def is_valid(codes: Sequence[int]) -> bool:
    """Whether ``codes`` obey the space's rules (without raising)."""
    try:
        _check_codes(codes)
    except ValueError:
        return False
    return True


@lru_cache(maxsize=1)
def enumerate_archs() -> tuple[MacroArch, ...]:
    """All 3,256 networks: by number of layers (4, 5, 6), then codes in product order (the last
    layer varying fastest). Needs no data."""
    return tuple(MacroArch(t) for n in range(MIN_LAYERS, MAX_LAYERS + 1)
                 for t in itertools.product(CODES, repeat=n) if is_valid(t))


def neighbours(arch: MacroArch) -> tuple[MacroArch, ...]:
    """Every valid network one elementary change away from ``arch``: one layer's code changed,
    one layer (any code) inserted at any position, or one layer removed. Distinct, without
    ``arch`` itself, in a fixed order."""
    check_arch(arch)
    codes = arch.codes
    out: dict[tuple[int, ...], None] = {}
    for i, c in enumerate(codes):
        for new in CODES:
            if new != c:
                out[codes[:i] + (new,) + codes[i + 1:]] = None
    for i in range(len(codes) + 1):
        for new in CODES:
            out[codes[:i] + (new,) + codes[i:]] = None
    for i in range(len(codes)):
        out[codes[:i] + codes[i + 1:]] = None
    out.pop(codes, None)
    return tuple(MacroArch(t) for t in out if is_valid(t))


def to_graph(arch: MacroArch) -> CellGraph:
    """The network as a chain ``input -> one node per layer -> output``.

    Node 0 is ``"input"`` (the stem's output), node ``k + 1`` is layer ``k`` labelled
    :data:`LABELS`\\ ``[code]``, the last node is ``"output"`` (what the head pools).

    Returns:
        CellGraph with ``adjacency`` ``(L + 2, L + 2)`` uint8 (ones on the first superdiagonal).
    """
    check_arch(arch)
    n = arch.n_layers + 2
    adj = np.eye(n, k=1, dtype=np.uint8)
    return CellGraph(adjacency=adj, ops=("input", *arch.labels, "output"))


def from_labels(labels: Sequence[str]) -> MacroArch:
    """The network whose layers carry ``labels`` (inverse of :attr:`MacroArch.labels`)."""
    try:
        return MacroArch(tuple(_CODE_OF[label] for label in labels))
    except KeyError as err:
        raise ValueError(f"unknown TNB101 macro layer label {err.args[0]!r}; expected one of "
                         f"{list(_CODE_OF)}") from None
