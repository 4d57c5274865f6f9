"""Building blocks shared by the NAS-Bench-201 and DARTS networks.

All blocks use ``nn.ReLU`` / ``nn.BatchNorm2d`` / ``nn.Conv2d`` modules (never the
functional forms) so that proxies can find them with module hooks (NASWOT hooks every
``nn.ReLU``; synflow disables every ``nn.BatchNorm2d``; snip/grad_norm read every
``nn.Conv2d`` / ``nn.Linear``).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["ReLUConvBN", "Zero", "FactorizedReduce", "drop_path"]


class ReLUConvBN(nn.Sequential):
    """ReLU → Conv2d(no bias) → BatchNorm2d. ``(B, C_in, H, W) -> (B, C_out, H/stride, W/stride)``."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, padding: int,
                 dilation: int = 1, affine: bool = True, track_running_stats: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding,
                      dilation=dilation, bias=False),
            nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats),
        )


class Zero(nn.Module):
    """The ``none`` operation: zeros of the (strided) input's shape.

    Multiplying by 0 rather than allocating keeps the output on the input's device and in
    its dtype, and keeps the autograd graph connected (as the benchmarks' own code does).
    """

    def __init__(self, stride: int = 1) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)


class FactorizedReduce(nn.Module):
    """Halve the resolution with two offset stride-2 1x1 convolutions, concatenated.

    ``(B, C_in, H, W) -> (B, C_out, H/2, W/2)``; ``C_out`` must be even. Used by DARTS
    where a skip connection crosses a reduction.
    """

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even C_out, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        # the second path sees the input shifted by one pixel, so the two halves sample
        # complementary positions
        out = torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1)
        return self.bn(out)


def drop_path(x: torch.Tensor, drop_prob: float, training: bool = True) -> torch.Tensor:
    """Zero whole samples of a branch with probability ``drop_prob`` and rescale the rest.

    x: (B, ...) branch output. Identity when not training or ``drop_prob == 0``. The mask
    is drawn on ``x``'s device (no ``.cuda()``), so this runs anywhere.
    """
    if not training or drop_prob <= 0.0:
        return x
    if not 0.0 <= drop_prob < 1.0:
        raise ValueError(f"drop_prob must be in [0, 1), got {drop_prob}")
    keep = 1.0 - drop_prob
    mask = torch.empty((x.shape[0],) + (1,) * (x.dim() - 1), dtype=x.dtype, device=x.device)
    mask.bernoulli_(keep)
    return x * mask / keep
