"""The project's scorers, what a search optimises (each a plain ``scorer(archs) -> (M,)``
callable that search wraps in a :class:`~tgnas.search.counting.CountingScorer`): :func:`predictor_scorer` (TG-NAS),
:func:`plus_scorer` (TG-NAS+), :func:`flops_scorer`, :func:`synflow_scorer`; :func:`make_scorer`
picks one by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tgnas.search.counting import ScoreFn
from tgnas.spaces.base import Space
from tgnas.plus.signals import signal_table
from tgnas.proxies import compute_proxy
from tgnas import paths
from tgnas.plus.rule import load_rule
from tgnas.scoring import load_predictor

#: Names accepted by :func:`make_scorer`.
SCORER_NAMES: tuple[str, ...] = ("tgnas", "tgnas+", "flops", "synflow")
#: Scorers that need a predictor checkpoint.
PREDICTOR_SCORERS: tuple[str, ...] = ("tgnas", "tgnas+")


# ---------------------------------------------------------------------------- adapters

def predictor_scorer(predictor: Any, space: Space) -> ScoreFn:
    """TG-NAS: ``predictor.score(archs, space=space)`` (a :class:`tgnas.predictor.Predictor`).

    One sampled architecture is scored at once (where the space samples), so that the
    predictor's operator table for ``space`` (embeddings of operators it never saw, computed on
    first use) is built here, outside any search's wall time, and inherited by forked search
    workers (:mod:`tgnas.search.parallel`) instead of being recomputed by each.
    """
    def score(archs: Sequence[Any]) -> np.ndarray:
        return np.asarray(predictor.score(list(archs), space=space), dtype=np.float64)

    if space.provides("sample"):
        score([space.sample(np.random.default_rng(0))])
    score.name = "tgnas"  # type: ignore[attr-defined]
    return score


def plus_scorer(rule: Any, predictor: Any, space: Space, seed: int = 0,
                reference: str | None = None) -> ScoreFn:
    """TG-NAS+: ``rule.score(signal_table(predictor, archs, space, signals=rule.signals, seed=seed), reference)``
    (:func:`tgnas.plus.signals.signal_table`).

    Args:
        rule: a :class:`tgnas.plus.rule.PlusRule` made for ``predictor`` (see
            :func:`tgnas.plus.rule.load_rule`, which checks that).
        seed: seed of the lite networks' initialisation and minibatch.
        reference: the rule's reference population that normalises the signals (a key of
            ``rule.references``); ``None``: the space's own name. A rule without the space's
            own reference needs one named explicitly (DARTS cells with the pipeline rule:
            ``"nb301"``, its 500 DARTS cells computed with the same lite settings).

    Raises:
        KeyError: the rule has no such reference.

    The lite networks cost about 0.02 s (NB201) to 0.1 s (DARTS) per cell on one CPU thread.
    """

    name = space.name
    ref = name if reference is None else reference
    if ref not in rule.references:
        raise KeyError(f"the TG-NAS+ rule has no reference population {ref!r} for space {name!r}; it has "
                       f"{sorted(rule.references)} (name one with reference=...)")

    def score(archs: Sequence[Any]) -> np.ndarray:
        table = signal_table(predictor, list(archs), space, signals=rule.signals, seed=seed)
        return np.asarray(rule.score(table, ref), dtype=np.float64)

    score.name = "tgnas+"  # type: ignore[attr-defined]
    return score


def flops_scorer(space: Space) -> ScoreFn:
    """FLOPs of the architecture's network (higher = better, the usual FLOPs baseline).

    A space with an exact FLOPs model (``space.flops_of``: NB101, NB201, DARTS and the
    TransNAS-Bench-101 macro space, microseconds per cell) uses it; the others count
    :func:`tgnas.proxies.compute_proxy` ``"flops"`` on the space's proxy network.
    """
    if space.provides("flops_of"):
        def score(archs: Sequence[Any]) -> np.ndarray:
            return np.array([space.flops_of(a) / 1e6 for a in archs], dtype=np.float64)
    else:
        score = _proxy_fn("flops", space)
    score.name = "flops"  # type: ignore[attr-defined]
    return score


def synflow_scorer(space: Space, seed: int = 0) -> ScoreFn:
    """``log10(1 + synflow)`` (:func:`tgnas.proxies.compute_proxy`, data-free) of each cell's network.

    Synflow spans tens of orders of magnitude (1e17 to 1e43 on NB201), so a mean of raw
    values — what pruning's expected score takes — would be the largest value alone; the
    logarithm keeps the ranking and makes averages meaningful. Built per architecture
    (about 0.1-0.5 s each on one CPU thread), so use it with small budgets. The weight
    initialisation is seeded with ``seed``, so a cell always gets the same score.
    """
    raw = _proxy_fn("synflow", space, seed)

    def score(archs: Sequence[Any]) -> np.ndarray:
        return np.log10(1.0 + np.maximum(raw(archs), 0.0))

    score.name = "synflow"  # type: ignore[attr-defined]
    return score


def _proxy_fn(proxy: str, space: Space, seed: int = 0) -> ScoreFn:

    def score(archs: Sequence[Any]) -> np.ndarray:
        return np.array([compute_proxy(proxy, a, space=space, seed=seed)[0] for a in archs],
                        dtype=np.float64)
    return score


def _output_path(path: Path | str) -> Path:

    path = Path(path)
    return path if path.is_absolute() else paths.OUTPUT_ROOT / path


def make_scorer(name: str, space: Space, checkpoint: Path | str | None = None,
                device: str = "cpu", rule: Path | str | None = None, seed: int = 0,
                reference: str | None = None) -> ScoreFn:
    """A scorer by name: ``"tgnas"`` (needs ``checkpoint``), ``"tgnas+"`` (needs ``checkpoint``
    and its ``rule``; ``seed`` = lite seed, ``reference`` as in :func:`plus_scorer`),
    ``"flops"`` or ``"synflow"`` (``seed`` = weight initialisation). Relative paths are
    below ``tgnas.paths.OUTPUT_ROOT``.

    Raises:
        KeyError: unknown ``name``, or a rule without the ``reference`` population.
        ValueError: a predictor scorer without a checkpoint, ``"tgnas+"`` without a rule, or a
            rule made for another checkpoint.
        FileNotFoundError: the checkpoint or rule does not exist.
    """
    if name not in SCORER_NAMES:
        raise KeyError(f"unknown scorer {name!r}; expected one of {list(SCORER_NAMES)}")
    if name in PREDICTOR_SCORERS:
        if checkpoint is None or str(checkpoint) == "":
            raise ValueError(f"scorer {name!r} needs a predictor checkpoint (e.g. models/tgnas_nb101.pt)")
        path = _output_path(checkpoint)
        if not path.is_file():
            raise FileNotFoundError(f"predictor checkpoint {path} does not exist; train one with "
                                    f"notebooks/02_train_predictor.ipynb (dvc repro) or `tgnas train`")
        if name == "tgnas+" and (rule is None or str(rule) == ""):
            raise ValueError("scorer 'tgnas+' needs the TG-NAS+ rule of its checkpoint (e.g. "
                             "models/tgnas_plus_rule.json, written by notebooks/06_tgnas_plus.ipynb)")

        predictor = load_predictor(path, device=device)
        if name == "tgnas":
            return predictor_scorer(predictor, space)
        return plus_scorer(load_rule(_output_path(rule), path), predictor, space, seed=seed, reference=reference)
    if name == "flops":
        return flops_scorer(space)
    return synflow_scorer(space, seed=seed)
