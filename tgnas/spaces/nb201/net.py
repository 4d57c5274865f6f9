"""The NAS-Bench-201 network for one cell (the benchmark's fixed macro skeleton).

Skeleton (CIFAR, ``C = 16``, ``N = 5``)::

    stem: Conv3x3(3 -> C) + BN
    stage 1: N cells at C channels, 32x32
    residual reduction block: C -> 2C, stride 2
    stage 2: N cells at 2C, 16x16
    residual reduction block: 2C -> 4C, stride 2
    stage 3: N cells at 4C, 8x8
    lastact: BN + ReLU; global average pool; Linear(4C -> num_classes)

A cell has nodes 0..3; node 0 is the cell input, node ``j`` is the sum over ``i < j`` of
``op_(j<-i)(node i)``, node 3 is the cell output. Operations: ``nor_conv_kxk`` =
ReLU-Conv-BN, ``avg_pool_3x3`` (stride 1, padding 1, ``count_include_pad=False``),
``skip_connect`` = identity, ``none`` = zeros. The reduction block is a ResNet basic
block: ReLU-Conv3x3(stride 2)-BN, ReLU-Conv3x3-BN, plus a shortcut AvgPool(2, 2) +
Conv1x1. With 10 classes the all-``none`` cell has 73,306 parameters and the
all-``nor_conv_3x3`` cell 1,531,546 — the benchmark's smallest and largest (0.073306 and
1.531546 MB).
"""

from __future__ import annotations

import torch
from torch import nn

from tgnas.nets.ops import ReLUConvBN, Zero
from tgnas.spaces.nb201.arch import NB201_EDGES, NB201Arch, parse_arch

__all__ = ["NB201Cell", "ResNetBasicBlock", "NB201Network", "build_nb201_net", "make_op", "as_arch"]


def make_op(name: str, channels: int) -> nn.Module:
    """The module for one NB201 edge operation at ``channels`` channels (stride 1)."""
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return nn.Identity()
    if name == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1, 1, 0)
    if name == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3, 1, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)
    raise KeyError(f"unknown NB201 op {name!r}; expected one of "
                   "['none', 'skip_connect', 'nor_conv_1x1', 'nor_conv_3x3', 'avg_pool_3x3']")


def as_arch(arch: NB201Arch | str) -> NB201Arch:
    """Accept an :class:`NB201Arch` or a benchmark arch string."""
    if isinstance(arch, NB201Arch):
        return arch
    if isinstance(arch, str):
        return parse_arch(arch)
    raise TypeError(f"expected an NB201Arch or an NB201 arch string, got {type(arch).__name__}")


class NB201Cell(nn.Module):
    """One NB201 cell. ``(B, C, H, W) -> (B, C, H, W)``."""

    def __init__(self, arch: NB201Arch, channels: int) -> None:
        super().__init__()
        self.edges = tuple(NB201_EDGES)                      # (target, source) per op
        self.ops = nn.ModuleList(make_op(op, channels) for op in arch.ops)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        for target in (1, 2, 3):
            total = None
            for (t, s), op in zip(self.edges, self.ops):
                if t == target:
                    y = op(nodes[s])
                    total = y if total is None else total + y
            nodes.append(total)
        return nodes[3]


class ResNetBasicBlock(nn.Module):
    """NB201's reduction block. ``(B, C_in, H, W) -> (B, C_out, H/2, W/2)``."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.downsample(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """The full NB201 network for one cell. ``(B, 3, H, W) -> (B, num_classes)`` logits."""

    def __init__(self, arch: NB201Arch, num_classes: int = 10, C: int = 16, N: int = 5) -> None:
        super().__init__()
        if C < 1 or N < 1 or num_classes < 1:
            raise ValueError(f"C, N and num_classes must be >= 1, got C={C}, N={N}, "
                             f"num_classes={num_classes}")
        self.arch = arch
        self.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        layers: list[nn.Module] = []
        c = C
        for stage in range(3):
            if stage > 0:
                layers.append(ResNetBasicBlock(c, 2 * c))
                c *= 2
            layers.extend(NB201Cell(arch, c) for _ in range(N))
        self.cells = nn.Sequential(*layers)
        self.lastact = nn.Sequential(nn.BatchNorm2d(c), nn.ReLU(inplace=False))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.lastact(self.cells(self.stem(x)))
        return self.classifier(self.global_pooling(out).flatten(1))


def build_nb201_net(arch: NB201Arch | str, num_classes: int = 10, C: int = 16, N: int = 5) -> NB201Network:
    """Build the NB201 network of ``arch`` (an :class:`NB201Arch` or arch string).

    Defaults are the benchmark's CIFAR-10 network (``C=16``, ``N=5``); use
    ``num_classes=100`` for CIFAR-100 and 120 for ImageNet16-120. Parameters are in
    PyTorch's default initialisation.
    """
    return NB201Network(as_arch(arch), num_classes=num_classes, C=C, N=N)


def build_final_net(arch: NB201Arch, dataset: str, num_classes: int, C: int, N: int,
                    auxiliary: bool) -> NB201Network:
    """The evaluation network of ``tgnas train-final``: the benchmark skeleton with ``C``
    channels and ``N`` cells per stage (``dataset`` is CIFAR-10; no auxiliary head)."""
    return build_nb201_net(arch, num_classes=num_classes, C=C, N=N)
