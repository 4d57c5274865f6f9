"""Closed-form size of the macro network (:mod:`tgnas.spaces.tnb101_macro.net`): parameters
and multiply-accumulates, equal to :func:`tgnas.nets.count_params` / :func:`tgnas.nets.count_flops`
on the built network (checked by the tests) without building it.

The *benchmark-size* network is the benchmark's: stem width 64, 256 x 256 input, and the
linear head of the default task ``class_scene`` (63 scene classes; ``class_object`` has 100).
With that head the parameter counts equal the ``params`` column of the benchmark file's
``class_scene`` records exactly; the file's ``flops`` are 0.1 to 1.2 % above these MACs
(it also counts operations that :func:`~tgnas.nets.count_flops` leaves out, such as batch
norm), with the same ranking.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from tgnas.spaces.tnb101_macro.arch import BASE_CHANNELS, DOWN_CODES, WIDEN_CODES, MacroArch, as_arch

#: Classes of the head of the benchmark-size network (``class_scene``'s).
SIZE_CLASSES: int = 63
#: Input side (pixels) at which the benchmark counts FLOPs.
INPUT_SIZE: int = 256

__all__ = ["SIZE_CLASSES", "INPUT_SIZE", "num_params", "num_macs", "params_millions"]


def _half(n: int) -> int:
    # Output side of a stride-2 convolution with k = 3, padding 1 (or k = 1, padding 0).
    return (n + 1) // 2


def _layers(arch: MacroArch, C: int) -> Iterable[tuple[int, int, int]]:
    """``(c_in, c_out, stride)`` of every basic block, in order."""
    c = C
    for code in arch.codes:
        c_out = 2 * c if code in WIDEN_CODES else c
        yield c, c_out, 2 if code in DOWN_CODES else 1
        yield c_out, c_out, 1
        c = c_out


def num_params(arch: MacroArch | str, num_classes: int = SIZE_CLASSES, C: int = BASE_CHANNELS) -> int:
    """Parameters (convolutions, batch norms, linear head) of ``MacroNet(arch, num_classes, C)``."""
    arch = as_arch(arch)
    h = C // 2
    total = 27 * h + 2 * h + 9 * h * C + 2 * C            # stem
    c_last = C
    for c_in, c_out, stride in _layers(arch, C):
        total += 9 * c_in * c_out + 9 * c_out * c_out + 4 * c_out
        if stride != 1 or c_in != c_out:
            total += c_in * c_out + 2 * c_out             # 1x1 shortcut + BN
        c_last = c_out
    return total + (c_last + 1) * num_classes


def num_macs(arch: MacroArch | str, num_classes: int = SIZE_CLASSES, C: int = BASE_CHANNELS,
             input_size: int | tuple[int, int] = INPUT_SIZE) -> int:
    """Multiply-accumulates of convolutions and the linear head for one ``input_size`` image:
    the convention of :func:`tgnas.nets.count_flops`."""
    arch = as_arch(arch)
    H, W = (input_size, input_size) if isinstance(input_size, int) else input_size
    h, w = _half(H), _half(W)
    total = h * w * (C // 2) * 27
    h, w = _half(h), _half(w)
    total += h * w * C * (C // 2) * 9
    c_last = C
    for c_in, c_out, stride in _layers(arch, C):
        if stride == 2:
            h, w = _half(h), _half(w)
        total += h * w * c_out * (9 * c_in + 9 * c_out)
        if stride != 1 or c_in != c_out:
            total += h * w * c_out * c_in
        c_last = c_out
    return total + c_last * num_classes


def params_millions(archs: Sequence[MacroArch | str]) -> np.ndarray:
    """``(M,)`` float64 parameters (millions) of the benchmark-size networks of ``archs``."""
    return np.fromiter((num_params(a) / 1e6 for a in archs), dtype=np.float64, count=len(archs))
