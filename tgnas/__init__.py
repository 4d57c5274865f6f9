"""tgnas: a reproducible, working companion to TG-NAS (arXiv 2404.00271).

``tgnas.score(archs, space=...)`` scores architectures with the predictor shipped with the
package (:func:`tgnas.scoring.score`). It is a lazy attribute (PEP 562): ``import tgnas``
imports nothing else, and :mod:`tgnas.scoring` (torch, the predictor) loads on first use.
"""

import importlib

__version__ = "0.1.0"

#: Public names resolved on first access: ``name -> (module, attribute)``.
_LAZY = {"score": ("tgnas.scoring", "score")}


def __getattr__(name: str):
    if name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module), attr)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tgnas' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])
