"""Building blocks shared by the spaces' networks (:mod:`tgnas.nets.ops`), and the size of any
network: :func:`count_params`, :func:`count_flops`. Each space's own network lives in its
folder (``tgnas/spaces/<name>/net.py``, built through ``space.build_net``).
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["count_params", "count_flops"]


def count_params(net: nn.Module, exclude_auxiliary: bool = True) -> int:
    """Number of parameters (trainable or not); by default without ``auxiliary_head.*``."""
    return sum(p.numel() for name, p in net.named_parameters()
               if not (exclude_auxiliary and name.startswith("auxiliary_head")))


def count_flops(net: nn.Module, input_shape: tuple[int, ...] = (1, 3, 32, 32)) -> int:
    """Multiply-accumulates of ``nn.Conv2d`` and ``nn.Linear`` layers for one input.

    This is the convention of NAS-Bench-201's published FLOPs (conv and fully connected
    MACs; BatchNorm, ReLU, pooling and additions are not counted). Bias additions are not
    counted either. Runs one forward pass in eval mode on zeros of ``input_shape``
    (batch of 1 expected) on the network's device, and restores the training flag.

    Returns:
        MACs per input image (an int).
    """
    if input_shape[0] != 1:
        raise ValueError(f"count_flops expects a batch of 1, got input_shape={input_shape}")
    total = 0

    def conv_hook(mod: nn.Conv2d, inp, out) -> None:
        nonlocal total
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        total += out.numel() * k

    def linear_hook(mod: nn.Linear, inp, out) -> None:
        nonlocal total
        total += out.numel() * mod.in_features

    handles = []
    for m in net.modules():
        if isinstance(m, nn.Conv2d):
            handles.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Linear):
            handles.append(m.register_forward_hook(linear_hook))
    was_training = net.training
    try:
        param = next(net.parameters(), None)
        device = param.device if param is not None else torch.device("cpu")
        dtype = param.dtype if param is not None else torch.float32
        net.eval()
        with torch.no_grad():
            net(torch.zeros(input_shape, device=device, dtype=dtype))
    finally:
        for h in handles:
            h.remove()
        net.train(was_training)
    return int(total)
