"""Training-free proxies: full-size zero-cost proxies (:mod:`tgnas.proxies.zero_cost`; AZ-NAS's
components and rank aggregation in :mod:`tgnas.proxies.az_nas`) and their reduced-cost "lite"
versions (:mod:`tgnas.proxies.lite`, :mod:`tgnas.proxies.az_nas_lite`).

The full-size public API is re-exported here, so ``from tgnas.proxies import compute_proxy``
works; lite proxies are imported from their module.
"""

from tgnas.proxies.zero_cost import (CIFAR10_MEAN, CIFAR10_STD, DATA_FREE, NEG_INF_OK, PROXIES, TABLE_COLUMN,
                                     build_net, cifar10_minibatch, compute_proxy, flops, get_proxy,
                                     grad_norm, jacob_cov, naswot, params,
                                     random_minibatch, snip, synflow)

__all__ = [
    "PROXIES", "TABLE_COLUMN", "DATA_FREE", "NEG_INF_OK", "CIFAR10_MEAN", "CIFAR10_STD",
    "get_proxy", "compute_proxy", "cifar10_minibatch", "random_minibatch",
    "params", "flops", "synflow", "naswot", "grad_norm", "snip", "jacob_cov",
    "build_net",
]
