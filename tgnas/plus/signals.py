"""TG-NAS+ signals: their names (defined here once), their lite settings, and tables of them.

Every signal is "higher is better":

* ``tgnas``: the pure predictor's score;
* ``params``: parameters (M) of the space's benchmark-size network (``space.size``);
* ``flops``: multiply-accumulates of that network (``space.flops_of``);
* ``naswot``, ``synflow`` (:data:`LITE_SIGNALS`): lite proxies (:mod:`tgnas.proxies.lite`,
  ``DEFAULT_LITE`` with the space's ``lite_N`` cells per stage), one reduced network per cell;
* ``az_expressivity``, ``az_progressivity``, ``az_trainability``, ``az_complexity``
  (:data:`AZ_SIGNALS`): the lite AZ-NAS components (:mod:`tgnas.proxies.az_nas_lite`,
  ``AZ_DEFAULT_LITE``: the same network size on noise images), another reduced network per cell.

Tables: :func:`signal_table` (any architectures of a space, computed live),
:func:`benchmark_signal_table` (every benchmark cell of an enumerable space, lite values from the
cached benchmark tables) and :func:`reference_table` (a seeded sample of a space: its reference
population). All take space objects.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from tgnas.cellgraph import CellGraph
from tgnas.plus.rule import floor_neg_inf
from tgnas.proxies.az_nas import AZ_COMPONENTS
from tgnas.spaces.base import Space
from tgnas.proxies.lite import DEFAULT_LITE
from tgnas.proxies.az_nas_lite import AZ_DEFAULT_LITE
from tgnas.proxies.az_nas_lite import az_lite_images, az_nas_lite_signals
from tgnas.proxies.lite import lite_batch, lite_signals
from tqdm.auto import tqdm
from tgnas.graphs import graphset
from tgnas.proxies.lite import benchmark_archs
from tgnas.proxies.lite import benchmark_lite_table
from tgnas.proxies.az_nas_lite import benchmark_az_lite_table
from tgnas import paths
from tgnas.proxies.az_nas_lite import az_nas_lite_table
from tgnas.proxies.lite import lite_table

__all__ = ["LITE_SIGNALS", "AZ_SIGNALS", "KNOWN_SIGNALS", "DEFAULT_SIGNALS", "check_signals", "lite_config",
           "az_config", "lite_columns", "az_columns", "signal_table", "benchmark_signal_table", "reference_table",
           "has_signals"]

#: Lite NASWOT and synflow (:mod:`tgnas.proxies.lite`), computed on one network.
LITE_SIGNALS: tuple[str, ...] = ("naswot", "synflow")
#: The lite AZ-NAS components as signals (``az_<component>``, in :data:`tgnas.proxies.az_nas.AZ_COMPONENTS` order).
AZ_SIGNALS: tuple[str, ...] = tuple(f"az_{c}" for c in AZ_COMPONENTS)
#: Every signal a TG-NAS+ rule may combine.
KNOWN_SIGNALS: tuple[str, ...] = ("tgnas", "params", "flops", *LITE_SIGNALS, *AZ_SIGNALS)
#: The signals of the first TG-NAS+ rules (what :func:`signal_table` computes by default).
DEFAULT_SIGNALS: tuple[str, ...] = ("tgnas", "params", *LITE_SIGNALS)


def check_signals(signals: Sequence[str]) -> tuple[str, ...]:
    """``signals`` as a tuple; ``ValueError`` naming any that is not in :data:`KNOWN_SIGNALS`."""
    signals = tuple(signals)
    unknown = [s for s in signals if s not in KNOWN_SIGNALS]
    if unknown or not signals:
        raise ValueError(f"unknown TG-NAS+ signal(s) {unknown or '(none given)'}; expected some of {list(KNOWN_SIGNALS)}")
    return signals


def lite_config(space: Space, seed: int = 0):
    """The lite NASWOT/synflow setting of ``space``: ``DEFAULT_LITE`` with ``space.lite_N`` cells."""
    return replace(DEFAULT_LITE, N=space.lite_N, seed=seed)


def az_config(space: Space, seed: int = 0):
    """The lite AZ-NAS setting of ``space``: ``AZ_DEFAULT_LITE`` with ``space.lite_N`` cells."""
    return replace(AZ_DEFAULT_LITE, N=space.lite_N, seed=seed)


def lite_columns(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """``{naswot, synflow: (M,)}`` of a lite table (:data:`tgnas.proxies.lite.LITE_COLUMNS`), for a
    whole population: NASWOT's ``-inf`` (singular kernel) floored below the rest
    (:func:`~tgnas.plus.rule.floor_neg_inf`)."""
    return {"naswot": floor_neg_inf(table["naswot"].to_numpy()), "synflow": table["synflow"].to_numpy()}


def az_columns(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """``{az_<component>: (M,)}`` of a lite AZ-NAS table (:data:`tgnas.proxies.az_nas_lite.AZ_LITE_COLUMNS`),
    for a whole population: ``-inf`` (a degenerate component) floored below the rest, as a
    reference needs finite quantiles."""
    return {s: floor_neg_inf(table[c].to_numpy()) for s, c in zip(AZ_SIGNALS, AZ_COMPONENTS)}


def _built(space: Space, archs: Sequence) -> tuple[Space, list]:
    """(the space whose network builds ``archs``, the archs as that space's objects)."""
    built = [space.builds_as(a) for a in archs]
    target = {s.name: s for s, _ in built} or {space.name: space}
    if len(target) != 1:
        raise ValueError(f"TG-NAS+ scores one kind of network per call; these cells build as {sorted(target)}")
    (built_space,) = target.values()
    _check_buildable(built_space)
    return built_space, [a for _, a in built]


def _flops(space: Space, archs: Sequence) -> np.ndarray:
    """``(M,)`` float64 multiply-accumulates of ``archs``' benchmark-size networks."""
    if not space.provides("flops_of"):
        raise ValueError(f"the TG-NAS+ signal 'flops' needs a FLOPs count; space {space.name!r} has none")
    return np.array([space.flops_of(a) for a in archs], dtype=np.float64)


def _check_buildable(space: Space) -> None:
    if not (space.provides("build_net") and space.provides("size")):
        raise ValueError(f"TG-NAS+ needs a network builder and a size count; space {space.name!r} has "
                         f"{'neither' if not space.provides('size') and not space.provides('build_net') else 'not both'}")


def signal_table(pred, archs: Sequence, space: Space, tgnas_scores: np.ndarray | None = None,
                 progress: bool = False, signals: Sequence[str] = DEFAULT_SIGNALS, seed: int = 0) -> pd.DataFrame:
    """TG-NAS+ signals of ``archs`` (objects of ``space``): the columns ``signals`` and ``seconds``.

    Values are each architecture's own (nothing floored: a score must not depend on the set).

    Args:
        pred: the predictor (for ``tgnas``, unless ``tgnas_scores`` ``(M,)`` are given).
        space: a space with a network builder and ``size``, or one whose ``builds_as`` maps
            its cells to such a space (generic NB101-shaped cells).
        signals: names of :data:`KNOWN_SIGNALS` to compute (a rule's ``signals``); the lite
            networks are built only for the groups asked for.
        seed: seed of the lite networks' initialisation and minibatch (``LiteConfig.seed``).

    Returns:
        DataFrame (M rows): the ``signals`` columns in order, then ``seconds`` (lite cost of
        each architecture: building the networks and computing its proxies).
    """
    signals = check_signals(signals)
    archs = list(archs)
    if any(isinstance(a, CellGraph) for a in archs):
        raise ValueError("TG-NAS+ needs architectures of a space (a network is built for each), not bare CellGraphs")
    out: dict[str, Any] = {}
    if "tgnas" in signals:
        out["tgnas"] = np.asarray(pred.score(archs, space=space) if tgnas_scores is None else tgnas_scores,
                                  dtype=np.float64)
    built_space, built = _built(space, archs)
    seconds = np.zeros(len(archs))
    if "params" in signals:
        out["params"] = np.asarray(built_space.size(built), dtype=np.float64)
    if "flops" in signals:
        out["flops"] = _flops(built_space, built)
    it = built
    if progress:
        it = tqdm(built, desc=f"lite proxies ({built_space.name})", unit="arch")
    want_lite = any(s in signals for s in LITE_SIGNALS)
    want_az = any(s in signals for s in AZ_SIGNALS)
    cfg, az_cfg = lite_config(built_space, seed), az_config(built_space, seed)
    batch = lite_batch(cfg) if want_lite else None
    images = az_lite_images(az_cfg) if want_az else None
    rows = []
    for i, a in enumerate(it):
        r: dict[str, float] = {}
        if want_lite:
            lite = lite_signals(a, built_space, cfg, batch)
            r.update({s: lite[s] for s in LITE_SIGNALS})
            seconds[i] += lite["seconds"]
        if want_az:
            az = az_nas_lite_signals(a, built_space, az_cfg, images)
            r.update({s: az[c] for s, c in zip(AZ_SIGNALS, AZ_COMPONENTS)})
            seconds[i] += az["seconds"]
        rows.append(r)
    for s in signals:
        if s not in out:
            out[s] = np.array([r[s] for r in rows], dtype=np.float64)
    frame = pd.DataFrame({s: out[s] for s in signals})
    frame["seconds"] = seconds
    return frame


def benchmark_signal_table(pred, space: Space, signals: Sequence[str] = DEFAULT_SIGNALS,
                           progress: bool = True) -> pd.DataFrame:
    """TG-NAS+ signals of every benchmark cell of an enumerable ``space``, in ``space.cell_ids()`` order.

    The lite values come from the space's cached benchmark tables
    (:func:`tgnas.proxies.lite.benchmark_lite_table`,
    :func:`tgnas.proxies.az_nas_lite.benchmark_az_lite_table`; computed and cached on first
    use), with :func:`lite_columns` / :func:`az_columns` flooring, as for a reference population.

    Returns:
        DataFrame (cells rows): the ``signals`` columns in order, then ``seconds`` (the lite
        cost of each cell, summed over the lite networks the signals need).

    Raises:
        ValueError: ``space`` is not enumerable or cannot build networks; an unknown signal.
    """
    signals = check_signals(signals)
    if not space.enumerable:
        raise ValueError(f"space {space.name!r} is not enumerable: its benchmark cells are not the whole space")
    _check_buildable(space)
    out: dict[str, Any] = {}
    archs, _ = benchmark_archs(space)
    seconds = np.zeros(len(archs))
    if "tgnas" in signals:
        out["tgnas"] = np.asarray(pred.score(graphset(space, pred.config.graph_form), size=pred.cells_size(space)),
                                  dtype=np.float64)
    if "params" in signals:
        out["params"] = np.asarray(space.size(archs), dtype=np.float64)
    if "flops" in signals:
        out["flops"] = _flops(space, archs)
    if any(s in signals for s in LITE_SIGNALS):
        lite = benchmark_lite_table(space, lite_config(space), progress=progress)
        out.update(lite_columns(lite))
        seconds += lite["seconds"].to_numpy()
    if any(s in signals for s in AZ_SIGNALS):
        az = benchmark_az_lite_table(space, az_config(space), progress=progress)
        out.update(az_columns(az))
        seconds += az["seconds"].to_numpy()
    lengths = {s: len(out[s]) for s in signals}
    if set(lengths.values()) != {len(archs)}:
        raise ValueError(f"{space.name}: signal columns of unequal length {lengths} for {len(archs)} cells")
    frame = pd.DataFrame({s: out[s] for s in signals})
    frame["seconds"] = seconds
    return frame


def reference_table(pred, space: Space, n: int = 500, seed: int = 0, progress: bool = True,
                    signals: Sequence[str] = DEFAULT_SIGNALS) -> pd.DataFrame:
    """Signals of a seeded uniform sample of ``n`` cells of ``space`` (its ``sample``), the
    space's reference population for a rule; lite values cached under
    ``tgnas.paths.LITE_PROXY_DIR``."""
    signals = check_signals(signals)
    sp = space
    rng = np.random.default_rng(seed)
    archs = [sp.sample(rng) for _ in range(n)]
    texts = [sp.format(a) for a in archs]
    out: dict[str, Any] = {}
    if "tgnas" in signals:
        out["tgnas"] = pred.score(archs, space=space)
    if "params" in signals:
        out["params"] = sp.size(archs)
    if "flops" in signals:
        out["flops"] = _flops(sp, archs)
    if any(s in signals for s in LITE_SIGNALS):
        cfg = lite_config(sp)
        lite = lite_table(texts, space, cfg, progress=progress,
                          out=paths.LITE_PROXY_DIR / f"{sp.name}_reference_{cfg.key()}_n{n}_seed{seed}.npz")
        out.update(lite_columns(lite))  # a population: NASWOT's -inf (singular kernel) floored below the rest
    if any(s in signals for s in AZ_SIGNALS):
        cfg = az_config(sp)
        az = az_nas_lite_table(texts, space, cfg, progress=progress,
                               out=paths.LITE_PROXY_DIR / f"{sp.name}_reference_az_nas_{cfg.key()}_n{n}_seed{seed}.npz")
        out.update(az_columns(az))
    return pd.DataFrame({s: out[s] for s in signals})


def has_signals(table: pd.DataFrame | Mapping) -> tuple[str, ...]:
    """The :data:`KNOWN_SIGNALS` that ``table`` holds, in that order."""
    return tuple(s for s in KNOWN_SIGNALS if s in table)
