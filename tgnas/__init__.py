"""tgnas: a reproducible, working companion to TG-NAS (arXiv 2404.00271).

``tgnas.score(archs, space=...)`` scores architectures with the predictor shipped with the
package (:func:`tgnas.scoring.score`). It is a lazy attribute (PEP 562): ``import tgnas``
imports only :mod:`tgnas.version`, and :mod:`tgnas.scoring` (torch, the predictor) loads on
first use.
"""

from tgnas.version import __version__

__all__ = ["__version__", "score"]


def __getattr__(name: str):
    if name == "score":
        # Here, not at the top: every `import tgnas.<module>` runs this file first, so it stays light.
        from tgnas.scoring import score

        globals()["score"] = score
        return score
    raise AttributeError(f"module 'tgnas' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), "score"])
