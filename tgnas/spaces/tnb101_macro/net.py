"""The TransNAS-Bench-101 macro network of an architecture (its classification form).

Skeleton (``C = 64`` in the benchmark; ``H, W`` the input size)::

    stem:   Conv3x3(3 -> C/2, stride 2) + BN, then ReLU-Conv3x3(C/2 -> C, stride 2)-BN    (H/4, W/4)
    layer k (one per code, first to last): two ResNet basic blocks
            block 1: in -> out channels, stride 2 when the layer halves the resolution
            block 2: out -> out, stride 1
            out = 2 * in when the layer doubles the channels, else in
    head:   global average pool, Linear(C * 2**n_widen -> num_classes)

A basic block is ``ReLU-Conv3x3(stride)-BN, ReLU-Conv3x3-BN`` plus a shortcut: identity, or
``Conv1x1(stride) + BN`` when the stride or the width changes. Convolutions have no bias.
This is the layout of TransNAS-Bench-101's ``MacroNet`` with the ``basic`` cell and a linear
classification head; the benchmark's other tasks put their own decoders on the same encoder.
"""

from __future__ import annotations

import torch
from torch import nn

from tgnas.nets.ops import ReLUConvBN
from tgnas.spaces.tnb101_macro.arch import BASE_CHANNELS, DOWN_CODES, WIDEN_CODES, MacroArch, as_arch

__all__ = ["BasicBlock", "MacroNet", "build_net"]


class BasicBlock(nn.Module):
    """Pre-activation ResNet basic block. ``(B, C_in, H, W) -> (B, C_out, H/stride, W/stride)``."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False),
                                          nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class MacroNet(nn.Module):
    """The macro network of ``arch`` (module docstring).

    Args:
        arch: the network's layer codes.
        num_classes: outputs of the linear head.
        C: stem width (the benchmark's is 64).

    ``forward``: ``x: (B, 3, H, W)`` images -> ``(B, num_classes)`` logits. The feature map
    entering the head is ``(B, C * 2**n_widen, H / 2**(2 + n_down), W / 2**(2 + n_down))``
    (each division rounded up; a map of side 1 stays 1).
    """

    def __init__(self, arch: MacroArch, num_classes: int = 10, C: int = BASE_CHANNELS) -> None:
        super().__init__()
        if isinstance(C, bool) or not isinstance(C, int) or C < 2 or C % 2:
            raise ValueError(f"the stem width C must be an even int >= 2, got {C!r}")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
        self.arch = arch
        self.stem = nn.Sequential(
            nn.Conv2d(3, C // 2, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C // 2),
            ReLUConvBN(C // 2, C, 3, 2, 1),
        )
        layers = []
        c = C
        for code in arch.codes:
            c_out = 2 * c if code in WIDEN_CODES else c
            stride = 2 if code in DOWN_CODES else 1
            layers.append(nn.Sequential(BasicBlock(c, c_out, stride), BasicBlock(c_out, c_out, 1)))
            c = c_out
        self.layers = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c, num_classes)
        self.out_channels = c

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.layers(self.stem(x))
        return self.classifier(torch.flatten(self.pool(x), 1))


def build_net(arch: MacroArch | str, num_classes: int = 10, C: int | None = None,
              N: int | None = None) -> MacroNet:
    """The :class:`MacroNet` of ``arch`` (object or either text form).

    Args:
        C: stem width; ``None``: the benchmark's 64.
        N: unused (accepted for the common ``build_net`` signature): every layer is two blocks.
    """
    return MacroNet(as_arch(arch), num_classes, BASE_CHANNELS if C is None else C)
