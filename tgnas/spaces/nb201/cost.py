"""Params and FLOPs of NB201 networks from an exact additive cost model (no network is built
per cell): TG-NAS+'s size signal, the FLOPs scorer of search, and notebook 03's baselines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from tgnas import paths
from tgnas.fileio import write_json
from tgnas.nets import count_flops, count_params
from tgnas.spaces.nb201.arch import NB201_OPS, NB201Arch
from tgnas.spaces.nb201.benchmark import enumerate_archs
from tgnas.spaces.nb201.net import as_arch, build_nb201_net

__all__ = ["NB201CostModel", "nb201_cost_model", "params_and_flops_all", "nb201_params"]



@dataclass(frozen=True)
class NB201CostModel:
    """Params and FLOPs of an NB201 network as ``base + Σ_edges cost[op]``.

    Exact because the macro skeleton is fixed and every cell edge is a stride-1 op on
    the same channels: an op costs the same on each of the six edges. The costs are
    measured on real networks (all-``none`` cell for the base, all-``op`` cells for each
    op), not written by hand.
    """

    num_classes: int
    C: int
    N: int
    base_params: int
    base_flops: int
    op_params: dict[str, int]
    op_flops: dict[str, int]

    def params_of(self, arch) -> int:
        return self.base_params + sum(self.op_params[op] for op in arch.ops)

    def flops_of(self, arch) -> int:
        return self.base_flops + sum(self.op_flops[op] for op in arch.ops)


#: Bump when the networks or the counting change, so that stale caches are not read.
_COST_MODEL_VERSION = 1


def _cost_model_path(num_classes: int, C: int, N: int):
    return (paths.CACHE_DIR / "nb201_costs"
            / f"cost_model_v{_COST_MODEL_VERSION}_cls{num_classes}_C{C}_N{N}_32x32.json")


def nb201_cost_model(num_classes: int = 10, C: int = 16, N: int = 5, cache: bool = True) -> NB201CostModel:
    """Measure (or read from ``CACHE_DIR``) the per-op costs of NB201 networks (32x32 input)."""
    path = _cost_model_path(num_classes, C, N)
    if cache and path.is_file():
        return NB201CostModel(**json.loads(path.read_text()))
    measured = {}
    for op in NB201_OPS:
        net = build_nb201_net(NB201Arch((op,) * 6), num_classes=num_classes, C=C, N=N)
        measured[op] = (count_params(net), count_flops(net, (1, 3, 32, 32)))
    base_p, base_f = measured["none"]
    op_p, op_f = {}, {}
    for op, (p, f) in measured.items():
        if (p - base_p) % 6 or (f - base_f) % 6:
            raise RuntimeError(f"NB201 op {op!r} does not cost the same on each edge "
                               f"(params {p - base_p}, flops {f - base_f} not divisible by 6)")
        op_p[op], op_f[op] = (p - base_p) // 6, (f - base_f) // 6
    model = NB201CostModel(num_classes, C, N, base_p, base_f, op_p, op_f)
    if cache:
        write_json(model.__dict__, path)
    return model


@lru_cache(maxsize=1)
def default_cost_model() -> NB201CostModel:
    """The cost model of the benchmark's CIFAR-10 network (C=16, N=5), read once per process."""
    return nb201_cost_model()


def params_and_flops_all(archs: Sequence | None = None, num_classes: int = 10, C: int = 16,
                         N: int = 5, cache: bool = True) -> pd.DataFrame:
    """Params (M) and FLOPs (M MACs, 32x32 input) of NB201 networks, from the cost model.

    Args:
        archs: NB201 archs (objects or strings); ``None`` for all 15,625 in benchmark
            index order (:func:`tgnas.spaces.nb201.benchmark.enumerate_archs`).

    Returns:
        DataFrame with columns ``arch`` (string), ``params``, ``flops``, one row per arch
        in input order (index = position, which is the benchmark index when
        ``archs is None``).
    """
    model = nb201_cost_model(num_classes, C, N, cache=cache)
    items = enumerate_archs() if archs is None else [as_arch(a) for a in archs]
    df = pd.DataFrame({
        "arch": [str(a) for a in items],
        "params": [model.params_of(a) / 1e6 for a in items],
        "flops": [model.flops_of(a) / 1e6 for a in items],
    })
    if archs is None:
        df.index.name = "nb201_index"
    return df


def nb201_params(archs: Sequence) -> np.ndarray:
    """``(M,)`` float64 parameters (millions) of NB201's CIFAR-10 network (C=16, 5 cells per
    stage), from the cost model; archs are objects or arch strings."""
    return params_and_flops_all(list(archs), cache=True)["params"].to_numpy(dtype=np.float64)
