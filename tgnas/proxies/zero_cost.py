"""Training-free ("zero-cost") proxies computed on real, freshly initialised networks.

Definitions follow NAS-Bench-Suite-Zero (NASLib's ``predictors/utils/pruners``, itself
based on Abdelfattah et al.'s zero-cost-nas), reimplemented here:

========== ===================================================================== ==========
name       definition                                                            table col
========== ===================================================================== ==========
params     number of parameters / 1e6                                            params
flops      conv + linear multiply-accumulates for one 32x32 image / 1e6          flops
synflow    Σ |θ ⊙ ∂R/∂θ| over conv/linear weights, R = Σ f(1) with all           synflow
           parameters replaced by |θ|, BatchNorm removed, float64, input of ones
naswot     log|det K|, K = C Cᵀ + (1−C)(1−C)ᵀ summed over every ReLU, C the       nwot
           binary (input > 0) codes of the minibatch at that ReLU
grad_norm  Σ over conv/linear layers of ‖∂L/∂W‖₂ (cross-entropy on the batch)    grad_norm
snip       Σ |W ⊙ ∂L/∂W| over conv/linear weights (= |∂L/∂mask| at mask 1)       snip
jacob_cov  −Σ_i [log(λ_i + k) + 1/(λ_i + k)], λ the eigenvalues of the           jacov
           correlation matrix of the per-image input gradients of Σ logits,
           k = 1e-5
========== ===================================================================== ==========

Data-dependent proxies run the network in training mode (batch statistics in
BatchNorm), as NASLib does. ``flops`` differs from the precomputed table by convention
only: the table (tensorwatch) also counts 2 FLOPs per element for BatchNorm, 1 for ReLU
and 9 per output of a 3x3 average pool, which makes it a different linear function of the
op counts (see ``scripts/bench_proxies.py`` for the agreement).

Each proxy is a function ``(net, images, labels) -> float``; ``images`` ``(B, 3, H, W)``
float (normalised), ``labels`` ``(B,)`` int64. A proxy may leave gradients on ``net``
and, for ``jacob_cov``, on ``images``; ``synflow`` works on a copy.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from tgnas.datasets.cifar10 import load_cifar10
from tgnas.nets import count_flops, count_params
from tgnas.spaces.base import Space
from tgnas.proxies.az_nas import az_nas_expressivity, az_nas_progressivity, az_nas_trainability

__all__ = [
    "PROXIES", "TABLE_COLUMN", "DATA_FREE", "NEG_INF_OK", "CIFAR10_MEAN", "CIFAR10_STD",
    "get_proxy", "compute_proxy", "cifar10_minibatch", "random_minibatch",
    "params", "flops", "synflow", "naswot", "grad_norm", "snip", "jacob_cov",
    "build_net",
]

#: Per-channel statistics of the CIFAR-10 training set (RGB, on [0, 1] pixels).
CIFAR10_MEAN: tuple[float, float, float] = (0.4914, 0.4822, 0.4465)
CIFAR10_STD: tuple[float, float, float] = (0.2470, 0.2435, 0.2616)

ProxyFn = Callable[[nn.Module, torch.Tensor, torch.Tensor], float]


def _logits(net: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """Forward pass; DARTS networks return ``(logits, aux)``."""
    out = net(x)
    return out[0] if isinstance(out, tuple) else out


def _weighted_layers(net: nn.Module) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


# --------------------------------------------------------------------------- proxies


def params(net: nn.Module, images: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> float:
    """Parameters in millions (data-free; the auxiliary head of a DARTS net is excluded)."""
    return count_params(net) / 1e6


def flops(net: nn.Module, images: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> float:
    """Conv + linear MACs in millions for one image of ``images``' size (32x32 if ``None``)."""
    shape = (1, 3, 32, 32) if images is None else (1, *images.shape[1:])
    return count_flops(net, shape) / 1e6


def _strip_batchnorm(net: nn.Module) -> None:
    """Replace every BatchNorm by an identity, in place (synflow's linearised network)."""
    for name, child in net.named_children():
        if isinstance(child, nn.modules.batchnorm._BatchNorm):
            setattr(net, name, nn.Identity())
        else:
            _strip_batchnorm(child)


def synflow(net: nn.Module, images: torch.Tensor | None = None, labels: torch.Tensor | None = None) -> float:
    """Synaptic flow (data-free): Σ |θ ⊙ ∂R/∂θ| of the |θ|-network without BatchNorm.

    Only ``images``' spatial size is used (32x32 if ``None``). Computed in float64 on a
    deep copy, so ``net`` is unchanged. The value grows with depth and width (it is a
    product over layers); values around 1e30+ are normal for NB201 networks.
    """
    shape = (1, 3, 32, 32) if images is None else (1, *images.shape[1:])
    lin = copy.deepcopy(net).double()
    _strip_batchnorm(lin)
    with torch.no_grad():
        for p in lin.parameters():
            p.abs_()
    lin.zero_grad()
    device = next(lin.parameters()).device
    out = _logits(lin, torch.ones(shape, dtype=torch.float64, device=device))
    out.sum().backward()
    with torch.no_grad():
        total = sum(float((layer.weight * layer.weight.grad).abs().sum())
                    for layer in _weighted_layers(lin) if layer.weight.grad is not None)
    return float(total)


def naswot(net: nn.Module, images: torch.Tensor, labels: torch.Tensor | None = None) -> float:
    """NASWOT score: log|det K| of the summed ReLU-code kernel on one minibatch (B, 3, H, W).

    For every ``nn.ReLU`` with input codes ``c = (x > 0)`` flattened to (B, D), adds
    ``c cᵀ + (1−c)(1−c)ᵀ`` (the count of units where two images agree) to K (B, B).
    """
    b = images.shape[0]
    kernel = torch.zeros((b, b), dtype=torch.float64)

    def hook(module, inp, out) -> None:
        c = (inp[0].detach().reshape(b, -1) > 0).to(torch.float32)
        d = c.shape[1]
        # c cᵀ + (1−c)(1−c)ᵀ = 2 c cᵀ + D − n_i − n_j with n = row sums: one matmul.
        # Entries are integer counts ≤ D < 2^24, which float32 represents exactly.
        cc = (c @ c.T).to(torch.float64).cpu()
        n = c.sum(dim=1).to(torch.float64).cpu()
        kernel.add_(2.0 * cc + d - n[:, None] - n[None, :])

    handles = [m.register_forward_hook(hook) for m in net.modules() if isinstance(m, nn.ReLU)]
    if not handles:
        raise ValueError("naswot needs a network with nn.ReLU modules; found none")
    try:
        net.train()
        with torch.no_grad():
            _logits(net, images)
    finally:
        for h in handles:
            h.remove()
    _, logabsdet = torch.linalg.slogdet(kernel)
    return float(logabsdet)


def _loss_backward(net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> None:
    net.train()
    net.zero_grad()
    F.cross_entropy(_logits(net, images), labels).backward()


def grad_norm(net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """Σ over conv/linear layers of the L2 norm of the weight gradient of the CE loss."""
    _loss_backward(net, images, labels)
    with torch.no_grad():
        return float(sum(float(layer.weight.grad.norm()) for layer in _weighted_layers(net)
                         if layer.weight.grad is not None))


def snip(net: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """SNIP saliency: Σ |W ⊙ ∂L/∂W| over conv/linear weights (CE loss on the batch)."""
    _loss_backward(net, images, labels)
    with torch.no_grad():
        return float(sum(float((layer.weight * layer.weight.grad).abs().sum())
                         for layer in _weighted_layers(net) if layer.weight.grad is not None))


def jacob_cov(net: nn.Module, images: torch.Tensor, labels: torch.Tensor | None = None) -> float:
    """Jacobian covariance score of the input gradients (B, 3·H·W) of Σ logits.

    Raises:
        ValueError: an image's input gradient is constant (its correlation is undefined),
            e.g. a network whose output does not depend on the input.
    """
    net.train()
    net.zero_grad()
    x = images.detach().clone().requires_grad_(True)
    _logits(net, x).sum().backward()
    jac = x.grad.reshape(x.shape[0], -1).double()
    jac = jac - jac.mean(dim=1, keepdim=True)
    norms = jac.norm(dim=1)
    if bool((norms == 0).any()):
        raise ValueError("jacob_cov: an input gradient is constant; the correlation matrix is undefined")
    unit = jac / norms[:, None]
    corr = unit @ unit.T                                  # (B, B) Pearson correlations
    eig = torch.linalg.eigvalsh(corr)
    k = 1e-5
    return float(-(torch.log(eig + k) + 1.0 / (eig + k)).sum())


#: The registry: name -> ``(net, images, labels) -> float``.
PROXIES: dict[str, ProxyFn] = {
    "params": params,
    "flops": flops,
    "synflow": synflow,
    "naswot": naswot,
    "grad_norm": grad_norm,
    "snip": snip,
    "jacob_cov": jacob_cov,
    # AZ-NAS (tgnas.proxies.az_nas); its complexity component is "flops"
    "az_nas_expressivity": az_nas_expressivity,
    "az_nas_progressivity": az_nas_progressivity,
    "az_nas_trainability": az_nas_trainability,
}
#: Proxies that look at no image (only at the input size; AZ-NAS feeds noise of that shape).
DATA_FREE: frozenset[str] = frozenset({"params", "flops", "synflow", "az_nas_expressivity",
                                       "az_nas_progressivity", "az_nas_trainability"})
#: Proxies whose ``-inf`` is an honest lowest score (e.g. AZ-NAS expressivity of a cell whose
#: output is all zeros), which :func:`compute_proxy` returns rather than refuses.
NEG_INF_OK: frozenset[str] = frozenset({"az_nas_expressivity", "az_nas_progressivity", "az_nas_trainability"})
#: Column of the precomputed NB201 table (:func:`tgnas.spaces.nb201.benchmark.load_nb201_proxies`).
TABLE_COLUMN: dict[str, str] = {
    "params": "params", "flops": "flops", "synflow": "synflow", "naswot": "nwot",
    "grad_norm": "grad_norm", "snip": "snip", "jacob_cov": "jacov",
}


def get_proxy(name: str) -> ProxyFn:
    """The proxy function called ``name``; unknown names raise ``KeyError`` listing them."""
    try:
        return PROXIES[name]
    except KeyError:
        raise KeyError(f"unknown proxy {name!r}; expected one of {sorted(PROXIES)}") from None


# --------------------------------------------------------------------------- data


def _normalise(images_uint8: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    return (images_uint8.float() / 255.0 - mean) / std


def cifar10_minibatch(batch_size: int = 64, seed: int = 0, pool: int = 1000,
                      split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """A seeded random CIFAR-10 minibatch, normalised with :data:`CIFAR10_MEAN`/`STD`.

    Draws ``batch_size`` distinct images from the class-balanced first ``pool`` images of
    ``split`` (:func:`tgnas.datasets.cifar10.load_cifar10` with ``limit=pool``).

    Returns:
        images (B, 3, 32, 32) float32, labels (B,) int64.
    """
    if not 1 <= batch_size <= pool:
        raise ValueError(f"batch_size must be in 1..pool={pool}, got {batch_size}")
    data = load_cifar10(split, limit=pool)
    idx = torch.from_numpy(np.random.default_rng(seed).choice(len(data), batch_size, replace=False))
    return _normalise(data.images[idx]), data.labels[idx].clone()


def random_minibatch(batch_size: int = 8, num_classes: int = 10, side: int = 32,
                     seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian images (B, 3, side, side) and random labels (B,), seeded (for tests)."""
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(batch_size, 3, side, side, generator=g),
            torch.randint(0, num_classes, (batch_size,), generator=g))


# --------------------------------------------------------------------------- one architecture


def build_net(arch, space: Space, num_classes: int = 10, C: int | None = None, N: int | None = None) -> nn.Module:
    """A freshly initialised proxy network of ``arch`` in ``space`` (``C``/``N``: width and cells
    per stage; ``None`` = the space's proxy default). Seed torch before calling for a fixed init."""
    if not isinstance(space, Space):
        raise TypeError(f"space must be a space object (tgnas.spaces.catalog.get_space(name)), got {space!r}")
    return space.build_net(arch, num_classes=num_classes, C=C, N=N)


def compute_proxy(name: str, arch, space: Space,
                  batch: tuple[torch.Tensor, torch.Tensor] | None = None, seed: int = 0,
                  num_classes: int = 10, C: int | None = None, N: int | None = None,
                  device: str | torch.device = "cpu") -> tuple[float, float]:
    """Build ``arch``'s network with seed ``seed`` and compute proxy ``name`` on it.

    Args:
        name: a key of :data:`PROXIES`.
        arch: an architecture of ``space`` (object or text form).
        space: a space with a network builder (its proxy width and depth by default).
        batch: ``(images (B, 3, H, W) float, labels (B,))``; if ``None``, data-dependent
            proxies load :func:`cifar10_minibatch` (64 images, this ``seed``).
        seed: seeds the weight initialisation (``torch.manual_seed``).

    Returns:
        ``(value, seconds)``; seconds cover building the network and computing the proxy
        (not loading the data). ``value`` is finite, or ``-inf`` for :data:`NEG_INF_OK`.
    """
    fn = get_proxy(name)
    if batch is None and name not in DATA_FREE:
        batch = cifar10_minibatch(64, seed=seed)
    images, labels = batch if batch is not None else (None, None)
    dev = torch.device(device)
    if images is not None:
        images, labels = images.to(dev), labels.to(dev)
    start = time.perf_counter()
    torch.manual_seed(seed)
    net = build_net(arch, space, num_classes, C, N).to(dev)
    value = fn(net, images, labels)
    seconds = time.perf_counter() - start
    if not (np.isfinite(value) or (value == -np.inf and name in NEG_INF_OK)):
        raise ValueError(f"proxy {name!r} gave a non-finite value {value} for {arch}")
    return float(value), seconds
