"""DARTS evaluation networks for a :class:`~tgnas.spaces.darts.arch.Genotype`.

Follows the DARTS evaluation protocol (Liu et al., 2019): ``NetworkCIFAR`` (3-channel-fold
stem, ``layers`` cells with reductions at ``layers // 3`` and ``2 * layers // 3``, an
auxiliary head after the second reduction) and ``NetworkImageNet`` (two stride-2 stems).
Operations are used without a trailing BatchNorm on pools, as in DARTS' evaluation
networks (the search supernet adds an affine-free BN after pools; the derived network does
not). Both networks return ``(logits, logits_aux)``; ``logits_aux`` is ``None`` unless
the network is in training mode and built with ``auxiliary=True``. Drop-path is applied
when ``net.drop_path_prob > 0`` in training mode (the training loop sets it per epoch).
"""

from __future__ import annotations

import torch
from torch import nn

from tgnas.nets import count_params
from tgnas.nets.ops import FactorizedReduce, ReLUConvBN, Zero, drop_path
from tgnas.spaces.darts.arch import Genotype, check_genotype, parse_genotype

__all__ = ["SepConv", "DilConv", "make_darts_op", "DartsCell", "AuxiliaryHeadCIFAR",
           "AuxiliaryHeadImageNet", "NetworkCIFAR", "NetworkImageNet"]


class DilConv(nn.Sequential):
    """ReLU → depthwise dilated Conv(k) → pointwise Conv1x1 → BN."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, padding: int,
                 dilation: int, affine: bool = True) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel_size, stride=stride, padding=padding,
                      dilation=dilation, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )


class SepConv(nn.Sequential):
    """Two stacked (ReLU → depthwise Conv(k) → pointwise Conv1x1 → BN); stride on the first."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True) -> None:
        super().__init__(
            DilConv(c_in, c_in, kernel_size, stride, padding, 1, affine),
            DilConv(c_in, c_out, kernel_size, 1, padding, 1, affine),
        )


def make_darts_op(name: str, C: int, stride: int, affine: bool = True) -> nn.Module:
    """The module of DARTS operation ``name`` at ``C`` channels and ``stride`` (1 or 2)."""
    if name == "none":
        return Zero(stride)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if name == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(C, C, affine=affine)
    if name == "sep_conv_3x3":
        return SepConv(C, C, 3, stride, 1, affine)
    if name == "sep_conv_5x5":
        return SepConv(C, C, 5, stride, 2, affine)
    if name == "dil_conv_3x3":
        return DilConv(C, C, 3, stride, 2, 2, affine)
    if name == "dil_conv_5x5":
        return DilConv(C, C, 5, stride, 4, 2, affine)
    raise KeyError(f"unknown DARTS op {name!r}; expected one of ['none', 'max_pool_3x3', "
                   "'avg_pool_3x3', 'skip_connect', 'sep_conv_3x3', 'sep_conv_5x5', "
                   "'dil_conv_3x3', 'dil_conv_5x5']")


class DartsCell(nn.Module):
    """One DARTS cell. Inputs ``s0`` (B, C_pp, H', W') and ``s1`` (B, C_p, H, W);
    output (B, len(concat)·C, H/r, W/r) with r = 2 for a reduction cell, else 1.

    When the previous cell reduced, ``s0`` has twice the resolution of ``s1`` and is
    brought down with a :class:`FactorizedReduce`.
    """

    def __init__(self, genotype: Genotype, C_pp: int, C_p: int, C: int, reduction: bool,
                 reduction_prev: bool) -> None:
        super().__init__()
        self.reduction = reduction
        self.preprocess0 = FactorizedReduce(C_pp, C) if reduction_prev else ReLUConvBN(C_pp, C, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(C_p, C, 1, 1, 0)
        kind = "reduce" if reduction else "normal"
        pairs = genotype.cell(kind)
        self.concat = tuple(genotype.concat(kind))
        self.multiplier = len(self.concat)
        self.inputs = tuple(node for _, node in pairs)
        self.ops = nn.ModuleList(
            make_darts_op(op, C, 2 if reduction and node < 2 else 1) for op, node in pairs
        )

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: float = 0.0) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for k in range(0, len(self.ops), 2):
            h = []
            for op, node in ((self.ops[k], self.inputs[k]), (self.ops[k + 1], self.inputs[k + 1])):
                y = op(states[node])
                # an identity branch is never dropped (as in DARTS)
                if self.training and drop_prob > 0.0 and not isinstance(op, nn.Identity):
                    y = drop_path(y, drop_prob)
                h.append(y)
            states.append(h[0] + h[1])
        return torch.cat([states[i] for i in self.concat], dim=1)


class AuxiliaryHeadCIFAR(nn.Module):
    """Auxiliary classifier on the 8x8 maps after the second reduction. ``(B, C, 8, 8) -> (B, classes)``."""

    def __init__(self, C: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),   # 8x8 -> 2x2
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class AuxiliaryHeadImageNet(nn.Module):
    """Auxiliary classifier on the 7x7 maps after the second reduction. ``(B, C, 7, 7) -> (B, classes)``.

    DARTS' ImageNet head has no BatchNorm after its 2x2 convolution (its paper runs
    omitted it); kept so for comparability.
    """

    def __init__(self, C: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(5, stride=2, padding=0, count_include_pad=False),   # 7x7 -> 2x2
            nn.Conv2d(C, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x).flatten(1))


class _DartsNetwork(nn.Module):
    """Shared cell stack of the CIFAR and ImageNet networks."""

    def _build_cells(self, genotype: Genotype, C: int, layers: int, C_stem: int,
                     reduction_prev: bool, num_classes: int, auxiliary: bool,
                     aux_cls: type[nn.Module]) -> None:
        if layers < 3:
            raise ValueError(f"layers must be >= 3 (two reduction cells), got {layers}")
        C_pp, C_p, C_curr = C_stem, C_stem, C
        self.cells = nn.ModuleList()
        self._aux_pos = 2 * layers // 3
        self.auxiliary_head = None
        for i in range(layers):
            reduction = i in (layers // 3, 2 * layers // 3)
            if reduction:
                C_curr *= 2
            cell = DartsCell(genotype, C_pp, C_p, C_curr, reduction, reduction_prev)
            reduction_prev = reduction
            self.cells.append(cell)
            C_pp, C_p = C_p, cell.multiplier * C_curr
            if i == self._aux_pos and auxiliary:
                self.auxiliary_head = aux_cls(C_p, num_classes)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(C_p, num_classes)

    def _run_cells(self, s0: torch.Tensor, s1: torch.Tensor):
        logits_aux = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, self.drop_path_prob)
            if i == self._aux_pos and self.auxiliary_head is not None and self.training:
                logits_aux = self.auxiliary_head(s1)
        logits = self.classifier(self.global_pooling(s1).flatten(1))
        return logits, logits_aux


class NetworkCIFAR(_DartsNetwork):
    """DARTS network for 32x32 inputs. ``(B, 3, 32, 32) -> (logits (B, classes), aux or None)``."""

    def __init__(self, C: int, num_classes: int, layers: int, auxiliary: bool,
                 genotype: Genotype, drop_path_prob: float = 0.0) -> None:
        super().__init__()
        genotype = check_genotype(genotype)
        self.drop_path_prob = drop_path_prob
        stem_multiplier = 3
        C_stem = stem_multiplier * C
        self.stem = nn.Sequential(nn.Conv2d(3, C_stem, 3, padding=1, bias=False), nn.BatchNorm2d(C_stem))
        self._build_cells(genotype, C, layers, C_stem, False, num_classes, auxiliary, AuxiliaryHeadCIFAR)

    def forward(self, x: torch.Tensor):
        s = self.stem(x)
        return self._run_cells(s, s)


class NetworkImageNet(_DartsNetwork):
    """DARTS network for 224x224 inputs. ``(B, 3, 224, 224) -> (logits, aux or None)``."""

    def __init__(self, C: int, num_classes: int, layers: int, auxiliary: bool,
                 genotype: Genotype, drop_path_prob: float = 0.0) -> None:
        super().__init__()
        genotype = check_genotype(genotype)
        self.drop_path_prob = drop_path_prob
        self.stem0 = nn.Sequential(
            nn.Conv2d(3, C // 2, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C // 2),
            nn.ReLU(inplace=False),
            nn.Conv2d(C // 2, C, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C),
        )
        self.stem1 = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(C, C, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(C),
        )
        self._build_cells(genotype, C, layers, C, True, num_classes, auxiliary, AuxiliaryHeadImageNet)

    def forward(self, x: torch.Tensor):
        s0 = self.stem0(x)
        s1 = self.stem1(s0)
        return self._run_cells(s0, s1)



def build_darts_net(arch: Genotype | str, num_classes: int = 10, C: int = 16, N: int = 8) -> NetworkCIFAR:
    """A freshly initialised CIFAR network of ``arch`` (a :class:`Genotype` or its string) with
    ``C`` initial channels and ``N`` cells, no auxiliary head (the defaults are the small
    evaluation network zero-cost studies of NB301 use)."""
    g = arch if isinstance(arch, Genotype) else parse_genotype(arch)
    return NetworkCIFAR(C, num_classes, N, auxiliary=False, genotype=g)


def build_final_net(arch: Genotype, dataset: str, num_classes: int, C: int, N: int,
                    auxiliary: bool) -> nn.Module:
    """The evaluation network of ``tgnas train-final``: :class:`NetworkCIFAR` (``"cifar10"``)
    or :class:`NetworkImageNet` (``"imagenet"``) with ``C`` initial channels and ``N`` cells."""
    cls = NetworkCIFAR if dataset == "cifar10" else NetworkImageNet
    return cls(C, num_classes, N, auxiliary, arch)


def darts_params(genotype: Genotype | str, C: int = 36, layers: int = 20) -> int:
    """Parameters of the CIFAR-10 network :class:`NetworkCIFAR` with ``C`` initial channels and
    ``layers`` cells, no auxiliary head (default: the evaluation network, 36 channels, 20 cells)."""
    return int(count_params(build_darts_net(genotype, 10, C, layers)))
