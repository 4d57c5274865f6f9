"""AZ-NAS: four training-free proxies assembled by their ranks (Lee & Ham, CVPR 2024).

Reimplemented from the paper and the authors' public NB201 code (``cvlab-yonsei/AZ-NAS``,
``NB201/ZeroShotProxy/compute_az_nas_score.py``). One network, re-initialised with
Kaiming-normal (fan-in, ReLU gain; BatchNorm weight 1, bias 0), one forward pass in training
mode on a minibatch, and one backward probe per pair of consecutive features. The features
``f_0, ..., f_L`` are the outputs of the stem and of every block of the network body (NB201:
the stem, the 3N cells and the two reduction blocks, 3N + 3 features; see
:func:`feature_modules`).

================ ========================================================================
component        definition (``f_l``: (B, C_l, H_l, W_l), rows = the B·H_l·W_l positions)
================ ========================================================================
expressivity     Σ_l E_l, with E_l = −Σ_i p_i log(p_i + 1e-8), p = λ / Σλ, λ the
                 eigenvalues of the (C_l, C_l) covariance of f_l's rows: isotropy of the
                 feature space (maximal, log C_l, for isotropic features; 0 for rank 1)
progressivity    min_l (E_l − E_{l−1}): the smallest gain of expressivity with depth
trainability     mean over l of 2 − σ_l − 1/(σ_l + 1e-6), σ_l the largest singular value
                 of the (C_{l−1}·s², C_l) matrix E[g_in g_outᵀ] with g_out a Rademacher
                 probe on f_l and g_in = (∂f_l/∂f_{l−1})ᵀ g_out (space-to-depth by the
                 stride s when the resolution halves): 0 when σ = 1 (neither exploding nor
                 vanishing gradients), −inf when the block is the identity
complexity       FLOPs (:func:`tgnas.proxies.zero_cost.flops`, M MACs)
================ ========================================================================

The AZ-NAS score of a *set* of architectures is :func:`aggregate_log_ranks`: the sum over
components of ``log(rank / n)`` within the set (label-free; higher is better). Eigen- and
singular values are taken in float64; a NaN component (e.g. all-zero features) becomes
``-inf``, as in the reference code. Small-network ("lite") versions for TG-NAS+ are in
:mod:`tgnas.proxies.az_nas_lite`.

Inputs: the reference feeds standard-normal noise images on NB201 (``trainloader=None``), so
the registered proxies are data-free (:func:`noise_images` of the given images' shape; 64 of
32x32 by default). :func:`az_nas_components` takes any images (CIFAR-10 ranks NB201 worse:
see ``scripts/check_az_nas.py`` and ``metrics/az_nas_check*.json``).

Deviation from the reference, on purpose: tiny negative covariance eigenvalues (round-off of
a positive semi-definite matrix) are clamped to 0 instead of producing NaN entropies.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn

from tgnas.nets import count_flops

__all__ = [
    "AZ_COMPONENTS", "noise_images", "feature_modules", "capture_features", "kaiming_fanin_init",
    "expressivity_scores", "expressivity", "progressivity", "trainability", "az_nas_components",
    "az_nas_expressivity", "az_nas_progressivity", "az_nas_trainability", "aggregate_log_ranks",
]

#: The four components, in the order of the paper.
AZ_COMPONENTS: tuple[str, ...] = ("expressivity", "progressivity", "trainability", "complexity")


# --------------------------------------------------------------------------- inputs


def noise_images(batch_size: int = 64, side: int = 32, seed: int = 0) -> torch.Tensor:
    """AZ-NAS's NB201 input: standard-normal images (batch_size, 3, side, side) float32, seeded.

    Drawn with numpy's generator, a stream independent of the torch generator that
    :func:`az_nas_components` seeds with the same number for the weights."""
    if batch_size < 2 or side < 1:
        raise ValueError(f"noise_images needs batch_size >= 2 and side >= 1, got {batch_size}, {side}")
    x = np.random.default_rng([int(seed), 201]).standard_normal((batch_size, 3, side, side), dtype=np.float32)
    return torch.from_numpy(x)


# --------------------------------------------------------------------------- features


def feature_modules(net: nn.Module) -> list[nn.Module]:
    """The modules whose outputs are AZ-NAS's features, in forward order.

    A network may define ``az_feature_modules()``; otherwise the stem(s) (``stem``, or
    ``stem0``/``stem1``) followed by every child of the body (``cells`` or ``layers``) —
    which covers the NB201, NB101 and DARTS networks of :mod:`tgnas.nets` without editing them.

    Raises:
        ValueError: ``net`` has no stem or no body by those names.
    """
    custom = getattr(net, "az_feature_modules", None)
    if callable(custom):
        return list(custom())
    stems = [getattr(net, n) for n in ("stem", "stem0", "stem1") if isinstance(getattr(net, n, None), nn.Module)]
    body = next((getattr(net, n) for n in ("cells", "layers") if isinstance(getattr(net, n, None), nn.Module)), None)
    if not stems or body is None:
        raise ValueError(f"AZ-NAS needs per-block features of {type(net).__name__}: expected a 'stem' "
                         f"(or 'stem0'/'stem1') and a 'cells' (or 'layers') container, or an "
                         f"az_feature_modules() method")
    return [*stems, *body.children()]


@contextmanager
def capture_features(modules: Sequence[nn.Module]) -> Iterator[list[torch.Tensor]]:
    """Within the block, each forward pass appends every module's output (graph kept) to the
    yielded list, in call order; the hooks are removed on exit."""
    captured: list[torch.Tensor] = []

    def hook(module, inp, out) -> None:
        captured.append(out[0] if isinstance(out, tuple) else out)

    handles = [m.register_forward_hook(hook) for m in modules]
    try:
        yield captured
    finally:
        for h in handles:
            h.remove()


def kaiming_fanin_init(net: nn.Module, generator: torch.Generator) -> nn.Module:
    """AZ-NAS's initialisation, in place: conv/linear weights ~ N(0, 2 / fan_in), biases 0,
    affine norm weights 1 and biases 0. Draws on the CPU from ``generator`` (so the values do
    not depend on the device); returns ``net``."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                w = m.weight
                fan_in = w[0].numel()
                w.copy_(torch.randn(w.shape, generator=generator) * (2.0 / fan_in) ** 0.5)
                if m.bias is not None:
                    m.bias.zero_()
            elif isinstance(m, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)) and m.affine:
                m.weight.fill_(1.0)
                m.bias.zero_()
    return net


# --------------------------------------------------------------------------- components


def expressivity_scores(features: Sequence[torch.Tensor]) -> np.ndarray:
    """Per-feature isotropy E_l (L,): the entropy of the normalised eigenvalues of the channel
    covariance of ``f_l`` (B, C_l, H_l, W_l) over its B·H_l·W_l positions (float64).
    ``nan`` where a feature has zero variance."""
    out = np.empty(len(features))
    for i, f in enumerate(features):
        x = f.detach().permute(0, 2, 3, 1).reshape(-1, f.shape[1]).double()
        x = x - x.mean(dim=0, keepdim=True)
        sigma = x.T @ x / x.shape[0]
        eig = torch.linalg.eigvalsh(sigma).clamp_min(0.0)   # PSD: negatives are round-off
        total = eig.sum()
        if not total > 0:
            out[i] = np.nan
            continue
        p = eig / total
        out[i] = float(-(p * torch.log(p + 1e-8)).sum())
    return out


def expressivity(features: Sequence[torch.Tensor]) -> float:
    """Σ_l E_l of :func:`expressivity_scores`; ``-inf`` if any is undefined."""
    return _expressivity_of(expressivity_scores(features))


def progressivity(features: Sequence[torch.Tensor]) -> float:
    """min_l (E_l − E_{l−1}) over consecutive features (needs >= 2); ``-inf`` if undefined."""
    if len(features) < 2:
        raise ValueError(f"progressivity needs >= 2 features, got {len(features)}")
    return _progressivity_of(expressivity_scores(features))


def _expressivity_of(e: np.ndarray) -> float:
    return _finite_or_neg_inf(float(np.sum(e)))


def _progressivity_of(e: np.ndarray) -> float:
    return _finite_or_neg_inf(float(np.min(e[1:] - e[:-1])))


def _pair_trainability(f_in: torch.Tensor, f_out: torch.Tensor, generator: torch.Generator) -> float:
    """2 − σ − 1/(σ + 1e-6) for one block ``f_in`` (B, C_i, H_i, W_i) -> ``f_out`` (B, C_o, H_o, W_o)."""
    g_out = (torch.randint(0, 2, f_out.shape, generator=generator) * 2 - 1).to(f_out.device, f_out.dtype)
    (g_in,) = torch.autograd.grad(f_out, f_in, grad_outputs=g_out, retain_graph=True, allow_unused=True)
    if g_in is None:                        # the block ignores its input: no gradient at all
        g_in = torch.zeros_like(f_in)
    if g_in.shape == g_out.shape and torch.equal(g_in, g_out):
        return -np.inf                      # an identity block (the reference's special case)
    if g_in.shape[-2:] != g_out.shape[-2:]:
        stride = g_in.shape[-1] // g_out.shape[-1]
        g_in = F.pixel_unshuffle(g_in, stride)
    n = g_out.shape[0] * g_out.shape[2] * g_out.shape[3]
    gi = g_in.permute(0, 2, 3, 1).reshape(n, -1).double()
    go = g_out.permute(0, 2, 3, 1).reshape(n, -1).double()
    s_max = float(torch.linalg.matrix_norm(gi.T @ go / n, ord=2))
    return 2.0 - s_max - 1.0 / (s_max + 1e-6)


def trainability(features: Sequence[torch.Tensor], generator: torch.Generator) -> float:
    """Mean over consecutive pairs of :func:`_pair_trainability` (features must carry their
    autograd graph); the Rademacher probes come from ``generator`` (CPU), deepest pair first."""
    if len(features) < 2:
        raise ValueError(f"trainability needs >= 2 features, got {len(features)}")
    scores = [_pair_trainability(features[i - 1], features[i], generator)
              for i in reversed(range(1, len(features)))]
    return _finite_or_neg_inf(float(np.mean(scores)))


def _finite_or_neg_inf(v: float) -> float:
    return -np.inf if np.isnan(v) else v


def az_nas_components(net: nn.Module, images: torch.Tensor, seed: int | None = 0,
                      init: bool = True) -> dict[str, float]:
    """The four AZ-NAS components of ``net`` on ``images`` (B, 3, H, W) (on ``net``'s device).

    Args:
        seed: seeds the re-initialisation and the Rademacher probes (a CPU generator; the
            global torch RNG is not used). ``None``: draw the seed from torch's global RNG
            (what the registered proxies do, so that ``compute_proxy``'s seed governs them).
        init: re-initialise ``net`` in place with :func:`kaiming_fanin_init` (the paper's
            protocol); ``False`` keeps its weights.

    Returns:
        ``{"expressivity", "progressivity", "trainability", "complexity"}`` floats
        (``complexity`` in M MACs for one image of ``images``' size); any of the first three
        may be ``-inf`` (see the module docstring).

    Raises:
        ValueError: fewer than 2 features, or see :func:`feature_modules`.
    """
    if seed is None:
        seed = int(torch.randint(0, 2**62, (1,)))
    gen = torch.Generator().manual_seed(int(seed))
    if init:
        kaiming_fanin_init(net, gen)
    modules = feature_modules(net)
    net.train()
    with torch.enable_grad(), capture_features(modules) as feats:
        net(images)
        if len(feats) < 2:
            raise ValueError(f"AZ-NAS needs >= 2 features of {type(net).__name__}, got {len(feats)}")
        e = expressivity_scores(feats)
        out = {"expressivity": _expressivity_of(e), "progressivity": _progressivity_of(e),
               "trainability": trainability(feats, gen)}
    out["complexity"] = count_flops(net, (1, *images.shape[1:])) / 1e6
    return out


def _registered(net: nn.Module, images: torch.Tensor | None, component: str) -> float:
    seed = int(torch.randint(0, 2**62, (1,)))          # from the global RNG compute_proxy seeded
    shape = (64, 3, 32, 32) if images is None else tuple(images.shape)
    device = next(net.parameters()).device
    x = noise_images(shape[0], shape[-1], seed).to(device)
    return az_nas_components(net, x, seed=seed)[component]


def az_nas_expressivity(net: nn.Module, images: torch.Tensor | None = None,
                        labels: torch.Tensor | None = None) -> float:
    """AZ-NAS expressivity (data-free: noise of ``images``' shape, (64, 3, 32, 32) if ``None``);
    re-initialises ``net`` from a seed drawn from torch's global RNG (seeded by
    :func:`~tgnas.proxies.zero_cost.compute_proxy`), which also seeds the noise."""
    return _registered(net, images, "expressivity")


def az_nas_progressivity(net: nn.Module, images: torch.Tensor | None = None,
                         labels: torch.Tensor | None = None) -> float:
    """AZ-NAS progressivity; inputs and seeding as :func:`az_nas_expressivity`."""
    return _registered(net, images, "progressivity")


def az_nas_trainability(net: nn.Module, images: torch.Tensor | None = None,
                        labels: torch.Tensor | None = None) -> float:
    """AZ-NAS trainability; inputs and seeding as :func:`az_nas_expressivity`."""
    return _registered(net, images, "trainability")


# --------------------------------------------------------------------------- aggregation


def aggregate_log_ranks(table: pd.DataFrame | Mapping[str, Sequence[float]],
                        columns: Sequence[str] | None = None) -> np.ndarray:
    """AZ-NAS's label-free aggregate: Σ_k log(rank_k / n) over the columns (n,) of ``table``.

    Ranks are ascending (the largest value gets rank n, so higher is better) with ties
    sharing their average rank; ±inf values rank as extremes.

    Args:
        table: one column per component, n rows (architectures).
        columns: the columns to use (default: all).

    Returns:
        (n,) float64 scores, each <= 0 (0 for an architecture ranked first by every column).

    Raises:
        ValueError: no columns, no rows, unequal lengths, or a NaN value (naming the column).
    """
    data = pd.DataFrame(table)
    columns = list(data.columns if columns is None else columns)
    if not columns:
        raise ValueError("aggregate_log_ranks needs at least one column")
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise KeyError(f"aggregate_log_ranks: no column(s) {missing}; have {list(data.columns)}")
    n = len(data)
    if n == 0:
        raise ValueError("aggregate_log_ranks needs at least one row")
    total = np.zeros(n)
    for c in columns:
        v = data[c].to_numpy(dtype=np.float64)
        if np.isnan(v).any():
            raise ValueError(f"aggregate_log_ranks: column {c!r} has {int(np.isnan(v).sum())} NaN value(s)")
        total += np.log(stats.rankdata(v, method="average") / n)
    return total
