"""The NAS-Bench-101 CIFAR network for one cell (the benchmark's fixed macro skeleton).

Follows the benchmark's published model (google-research/nasbench ``model_builder.py``)
and its PyTorch port used by NASLib / NAS-Bench-Suite-Zero. Skeleton (``C = 128``,
``N = 3``)::

    stem: Conv3x3(3 -> C) + BN + ReLU                      (B, C, 32, 32)
    stack 1: N cells at C channels, 32x32
    MaxPool 2x2, stride 2; the first cell of the stack doubles the channels
    stack 2: N cells at 2C, 16x16
    MaxPool 2x2, stride 2
    stack 3: N cells at 4C, 8x8
    global average pool; Linear(4C -> num_classes)          (B, num_classes)

Inside a cell of ``V`` vertices (vertex 0 the input, ``V - 1`` the output), with
``C_in`` input and ``C_out`` output channels:

* vertex channels come from :func:`compute_vertex_channels` (the output's channels are
  split evenly over the interior vertices that feed it; other interior vertices take the
  largest channel count among their successors);
* every vertex ``t`` with an edge ``0 -> t`` receives a 1x1 *projection*
  (Conv1x1-BN-ReLU, ``C_in -> channels[t]``) of the cell input;
* an interior vertex sums its inputs (interior inputs truncated to its channel count,
  which drops at most one extra channel) and applies its op: ``conv3x3-bn-relu``,
  ``conv1x1-bn-relu`` or ``maxpool3x3`` (stride 1, padding 1);
* the output concatenates, in vertex order, the interior vertices that feed it, and adds
  the projected input when ``0 -> V-1`` is an edge (the 2-vertex cell is that projection).

All convolutions have no bias. BatchNorm uses the benchmark's epsilon 1e-5 and decay
0.997 (PyTorch momentum 0.003). Weights use PyTorch's default initialisation, like
:func:`tgnas.nets.build_nb201_net`; seed torch before building for a fixed init. Layers
are ``nn.Conv2d`` / ``nn.BatchNorm2d`` / ``nn.ReLU`` modules so proxies find them by hook.

With 10 classes the 2-vertex cell (input -> output) has 882,570 parameters, as in
NAS-Bench-Suite-Zero's table (0.882570 M).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from tgnas.spaces.nb101.arch import CONV1X1, CONV3X3, MAXPOOL3X3, NB101Cell, NB101Form

__all__ = ["ConvBnRelu", "NB101CellModule", "NB101Network", "build_nb101_net",
           "compute_vertex_channels", "as_cell", "NB101Cost", "nb101_cost",
           "BN_MOMENTUM", "BN_EPS"]

#: PyTorch momentum equivalent to the benchmark's TensorFlow BatchNorm decay 0.997.
BN_MOMENTUM = 0.003
BN_EPS = 1e-5


class ConvBnRelu(nn.Sequential):
    """Conv2d(no bias, stride 1, "same" padding) → BatchNorm2d → ReLU.

    ``(B, c_in, H, W) -> (B, c_out, H, W)``.
    """

    def __init__(self, c_in: int, c_out: int, kernel_size: int) -> None:
        super().__init__(
            nn.Conv2d(c_in, c_out, kernel_size, stride=1, padding=kernel_size // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM),
            nn.ReLU(inplace=False),  # not in place: NASWOT's hook reads the ReLU input
        )


def make_op(name: str, channels: int) -> nn.Module:
    """The module of one interior vertex op at ``channels`` channels (shape-preserving)."""
    if name == CONV3X3:
        return ConvBnRelu(channels, channels, 3)
    if name == CONV1X1:
        return ConvBnRelu(channels, channels, 1)
    if name == MAXPOOL3X3:
        return nn.MaxPool2d(3, stride=1, padding=1)
    raise KeyError(f"unknown NB101 op {name!r}; expected one of {[CONV3X3, CONV1X1, MAXPOOL3X3]}")


def compute_vertex_channels(c_in: int, c_out: int, adjacency: Sequence[Sequence[int]]) -> list[int]:
    """Channel count of every vertex of a (pruned) cell, by the benchmark's rule.

    The output's ``c_out`` channels are split evenly over the interior vertices with an
    edge to the output; when the split is uneven the first ``c_out % k`` of them (in
    vertex order) get one extra channel. Going backwards, every other interior vertex
    takes the largest channel count among its interior successors. Vertex 0 has ``c_in``.

    Args:
        c_in: channels of the cell input.
        c_out: channels of the cell output.
        adjacency: ``(V, V)`` 0/1, strictly upper-triangular, every vertex on an
            input->output path (a pruned cell).

    Returns:
        ``V`` ints, ``[c_in, ..., c_out]``.
    """
    n = len(adjacency)
    channels = [0] * n
    channels[0] = c_in
    channels[n - 1] = c_out
    if n == 2:
        return channels
    feeds_out = [v for v in range(1, n - 1) if adjacency[v][n - 1]]
    if not feeds_out:
        raise ValueError("no interior vertex feeds the output of a cell with interior vertices; "
                         "prune the cell first (NB101Form.prune)")
    base, extra = divmod(c_out, len(feeds_out))
    for k, v in enumerate(feeds_out):
        channels[v] = base + (1 if k < extra else 0)
    for v in range(n - 3, 0, -1):
        if not adjacency[v][n - 1]:
            channels[v] = max((channels[w] for w in range(v + 1, n - 1) if adjacency[v][w]), default=0)
    if any(c <= 0 for c in channels[1:-1]):
        raise ValueError(f"vertex channels {channels} of a cell with adjacency {adjacency}: "
                         "a vertex has no channels (is the cell pruned?)")
    return channels


def as_cell(arch: NB101Cell | str) -> NB101Cell:
    """Accept an :class:`NB101Cell` (pruned here, like the benchmark's ``ModelSpec``) or
    its text form (:meth:`NB101Form.parse`); return a valid cell of the space."""
    space = NB101Form()
    if isinstance(arch, NB101Cell):
        return space.validate(space.prune(arch))
    if isinstance(arch, str):
        return space.parse(arch)
    raise TypeError(f"expected an NB101Cell or an NB101 cell string, got {type(arch).__name__}")


def _check_sizes(**sizes) -> tuple[int, ...]:
    """The values of ``sizes`` as ints; ``ValueError`` naming the first that is not >= 1."""
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    return tuple(int(v) for v in sizes.values())


class NB101CellModule(nn.Module):
    """One NB101 cell (a "module" in the benchmark's words).

    ``(B, c_in, H, W) -> (B, c_out, H, W)``.
    """

    def __init__(self, cell: NB101Cell, c_in: int, c_out: int) -> None:
        super().__init__()
        adj = cell.adjacency
        n = cell.num_vertices
        self.num_vertices = n
        self.channels = compute_vertex_channels(c_in, c_out, adj)
        # (sources) per vertex: interior predecessors, in vertex order
        self.preds: list[list[int]] = [[s for s in range(1, t) if adj[s][t]] for t in range(n)]
        self.from_input: list[bool] = [bool(adj[0][t]) for t in range(n)]
        self.out_srcs: list[int] = [v for v in range(1, n - 1) if adj[v][n - 1]]
        # ModuleDicts keyed by vertex index (str): only vertices that have the module
        self.proj = nn.ModuleDict({str(t): ConvBnRelu(c_in, self.channels[t], 1)
                                   for t in range(1, n) if self.from_input[t]})
        self.ops = nn.ModuleDict({str(t): make_op(cell.ops[t], self.channels[t])
                                  for t in range(1, n - 1)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n = self.num_vertices
        tensors: list[torch.Tensor | None] = [x] + [None] * (n - 1)
        for t in range(1, n - 1):
            c = self.channels[t]
            # interior inputs have >= c channels (at most one more): keep the first c
            fan_in = [tensors[s][:, :c] for s in self.preds[t]]
            if self.from_input[t]:
                fan_in.append(self.proj[str(t)](x))
            total = fan_in[0]
            for y in fan_in[1:]:
                total = total + y
            tensors[t] = self.ops[str(t)](total)
        if not self.out_srcs:  # the 2-vertex cell: input -> output only
            return self.proj[str(n - 1)](x)
        parts = [tensors[v] for v in self.out_srcs]
        out = parts[0] if len(parts) == 1 else torch.cat(parts, dim=1)
        if self.from_input[n - 1]:
            out = out + self.proj[str(n - 1)](x)
        return out


class NB101Network(nn.Module):
    """The NB101 CIFAR network of one cell. ``(B, 3, H, W) -> (B, num_classes)`` logits.

    Attributes:
        cell: the (pruned, valid) :class:`NB101Cell` repeated in every stack.
        stem: Conv3x3-BN-ReLU, ``3 -> C``.
        layers: the ``3 * N`` cells and the two max-pools, in order.
        classifier: ``Linear(4C -> num_classes)`` on the globally averaged features.
    """

    def __init__(self, cell: NB101Cell, num_classes: int = 10, C: int = 128, N: int = 3) -> None:
        super().__init__()
        num_classes, C, N = _check_sizes(num_classes=num_classes, C=C, N=N)
        self.cell = cell
        self.stem = ConvBnRelu(3, C, 3)
        layers: list[nn.Module] = []
        c_in = c_out = C
        for stack in range(3):
            if stack > 0:
                layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
                c_out *= 2
            for _ in range(N):
                layers.append(NB101CellModule(cell, c_in, c_out))
                c_in = c_out
        self.layers = nn.Sequential(*layers)
        self.classifier = nn.Linear(c_out, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x: (B, 3, H, W)`` -> logits ``(B, num_classes)``."""
        h = self.layers(self.stem(x))
        return self.classifier(h.mean(dim=(2, 3)))


def build_nb101_net(arch: NB101Cell | str, num_classes: int = 10, C: int = 128, N: int = 3) -> NB101Network:
    """The NAS-Bench-101 network of ``arch`` (a freshly initialised :class:`NB101Network`).

    Args:
        arch: an :class:`NB101Cell` (an unpruned spec is pruned first, as the benchmark's
            ``ModelSpec`` does) or its text form.
        num_classes: classifier outputs (10 for CIFAR-10).
        C: stem channels (128 in the benchmark); the stacks have C, 2C and 4C channels.
        N: cells per stack (3 in the benchmark).

    Raises:
        ValueError: the cell is malformed or not in the space after pruning.
    """
    return NB101Network(as_cell(arch), num_classes=num_classes, C=C, N=N)


# --------------------------------------------------------------------------- size without building


@dataclass(frozen=True)
class NB101Cost:
    """Size of one NB101 network, counted from the cell (no network is built).

    Attributes:
        params: parameters (conv weights, BatchNorm scale and shift, linear weight and
            bias), equal to :func:`tgnas.nets.count_params` of :func:`build_nb101_net`.
        macs: multiply-accumulates of the convolutions and the classifier for one image,
            equal to :func:`tgnas.nets.count_flops` (no BatchNorm, ReLU, pooling, sums).
        bn_elements: output elements of all BatchNorm layers for one image.
        relu_elements: output elements of all ReLU layers (one after every BatchNorm).
        pool_elements: output elements of all max-pools (cells' 3x3 and the two 2x2).
        pool_window_ops: ``sum(kernel_area * output elements)`` over the max-pools.
    """

    params: int
    macs: int
    bn_elements: int
    relu_elements: int
    pool_elements: int
    pool_window_ops: int

    @property
    def thop_flops(self) -> int:
        """``macs + 2 * bn_elements``: the convention of ``thop`` (the full NB101 table's
        ``flops``)."""
        return self.macs + 2 * self.bn_elements

    @property
    def torchstat_flops(self) -> int:
        """``macs + 2 * bn_elements + relu_elements + pool_window_ops``: the convention of
        torchstat / tensorwatch (NAS-Bench-Suite-Zero's ``flops``)."""
        return self.macs + 2 * self.bn_elements + self.relu_elements + self.pool_window_ops


def nb101_cost(arch: NB101Cell | str, num_classes: int = 10, C: int = 128, N: int = 3,
               side: int = 32) -> NB101Cost:
    """Parameters and operation counts of :func:`build_nb101_net` for ``side x side`` images.

    Counted in closed form from the cell (microseconds, against ~30 ms to build the
    full-size network and ~0.3 s for a forward pass), so it scales to the whole space.
    """
    cell = as_cell(arch)
    num_classes, C, N, side = _check_sizes(num_classes=num_classes, C=C, N=N, side=side)
    if side % 4:
        raise ValueError(f"side must be a positive multiple of 4 (two 2x2 max-pools), got {side}")
    adj, n = cell.adjacency, cell.num_vertices
    params = 27 * C + 2 * C                     # stem conv + BN
    hw = side * side
    macs = hw * 27 * C
    bn = hw * C
    pool = pool_ops = 0
    c_in = c_out = C
    for stack in range(3):
        if stack > 0:
            hw //= 4                              # 2x2 max-pool, stride 2 (on c_in channels)
            c_out *= 2
            pool += hw * c_in
            pool_ops += 4 * hw * c_in
        for _ in range(N):
            ch = compute_vertex_channels(c_in, c_out, adj)
            for t in range(1, n):
                if adj[0][t]:                     # 1x1 projection of the cell input
                    params += c_in * ch[t] + 2 * ch[t]
                    macs += hw * c_in * ch[t]
                    bn += hw * ch[t]
            for t in range(1, n - 1):
                k2 = {CONV3X3: 9, CONV1X1: 1}.get(cell.ops[t])
                if k2 is None:                    # maxpool3x3
                    pool += hw * ch[t]
                    pool_ops += 9 * hw * ch[t]
                else:
                    params += k2 * ch[t] * ch[t] + 2 * ch[t]
                    macs += hw * k2 * ch[t] * ch[t]
                    bn += hw * ch[t]
            c_in = c_out
    params += c_out * num_classes + num_classes
    macs += c_out * num_classes
    return NB101Cost(params=params, macs=macs, bn_elements=bn, relu_elements=bn,
                     pool_elements=pool, pool_window_ops=pool_ops)

