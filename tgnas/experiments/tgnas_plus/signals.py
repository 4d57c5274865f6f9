"""TG-NAS+ end to end: the paper's signal tables per space, the source-fitted rule, NB201 evaluation.

What a signal is -- its name, lite setting, AZ-NAS columns and floors -- is
:mod:`tgnas.plus.signals`; the tables below are its columns for the paper's benchmark cells,
from cached tables (``params``: NB201's analytic cost model, NB101's closed-form count, the
DARTS proxy network's count). The AZ-NAS signals (:data:`AZ_SIGNALS`) are added when asked
for (``az=True``).

Fitting tables (labelled, never NB201):

* ``nb101``: cells of a seeded uniform NB101 sample (:func:`tgnas.experiments.tgnas_plus.nb101_sample.
  nb101_lite_sample`) that the predictor did NOT train or validate on
  (:func:`tgnas.predictor.train.used_cells`), with their test accuracy. The predictor is
  *in-domain* there (held-out NB101 tau about 0.8 against about 0.2 on NB301), so a fit on
  NB101 learns "trust the predictor" and puts almost all weight on it -- a source-space
  shortcut that does not transfer;
* ``nb301``: the 500 labelled NAS-Bench-301 cells (DARTS space, validation accuracy): a
  space the predictor never trained on, so the fitted weights reflect how well each
  signal *transfers*. Lite proxies there use DARTS networks of ``DEFAULT_LITE``'s width (``C=8``) with 3 cells.

Target: all 15,625 NB201 cells (unlabelled reference population); their labels are read
only by :func:`evaluate_rule`.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import pandas as pd

from tgnas import paths
from tgnas.experiments.common import NB201_DATASETS, nb201_truth, score_nb201
from tgnas.metrics import rank_correlation
from tgnas.plus.rule import PlusRule, equal_rule, fit_rule
from tgnas.plus.signals import AZ_SIGNALS, DEFAULT_SIGNALS, az_columns, az_config, lite_columns, lite_config
from tgnas.predictor import Predictor
from tgnas.predictor.train import used_cells
from tgnas.spaces.catalog import SPACES
from tgnas.spaces.nb201.cost import params_and_flops_all
from tgnas.spaces.nb201.benchmark import enumerate_archs
from tgnas.proxies.lite import arch_list_hash, benchmark_lite_table, lite_table
from tgnas.proxies.az_nas_lite import az_nas_lite_table, benchmark_az_lite_table
from tgnas.graphs import graphset
from tgnas.experiments.tgnas_plus.nb101_sample import nb101_lite_sample
from tgnas.spaces.nb101.benchmark import load_nb101
from tgnas.experiments.tgnas_plus.nb101_sample import nb101_sample_indices
from tgnas.spaces.darts.benchmark import load_nb301
from tgnas.predictor.data import load_space_data
from tgnas.proxies import build_net, params

__all__ = ["SIGNALS", "AZ_SIGNALS", "ALL_SIGNALS", "METHODS", "nb201_signal_table", "nb101_signal_table", "nb301_signal_table",
           "plus_rule", "evaluate_rule", "evaluate_signals"]

#: The first TG-NAS+ signals, in this order (:data:`tgnas.plus.signals.DEFAULT_SIGNALS`).
SIGNALS: tuple[str, ...] = DEFAULT_SIGNALS
#: Every signal the tables below can hold (``az=True`` adds :data:`AZ_SIGNALS`).
ALL_SIGNALS: tuple[str, ...] = (*SIGNALS, *AZ_SIGNALS)


def _az_columns(table: pd.DataFrame) -> dict[str, np.ndarray]:
    """:func:`tgnas.plus.signals.az_columns` of an AZ-NAS lite table and its ``az_seconds``."""
    return {**az_columns(table), "az_seconds": table["seconds"].to_numpy()}


def nb201_signal_table(pred: Predictor, cells: np.ndarray | None = None, progress: bool = True,
                       az: bool = False) -> pd.DataFrame:
    """Signals of NB201 cells: columns ``nb201_index``, :data:`SIGNALS`, ``seconds`` (lite cost)
    and, with ``az``, :data:`AZ_SIGNALS` and ``az_seconds``.

    Args:
        cells: benchmark indices (default: all 15,625, lite values from the full cached
            table, computed there on first use); a subset is computed and cached on its own.
        az: add the lite AZ-NAS components (all cells: about 4 minutes on one thread the
            first time, then cached).
    """
    nb201 = SPACES["nb201"]
    cfg = lite_config(nb201)
    size = params_and_flops_all()
    scores = score_nb201(pred)
    if cells is None:
        idx = np.arange(len(scores))
        lite = benchmark_lite_table(nb201, cfg, progress=progress)
    else:
        idx = np.asarray(cells, dtype=np.int64)
        if idx.ndim != 1 or len(idx) < 10 or idx.min() < 0 or idx.max() >= len(scores):
            raise ValueError(f"cells must be >= 10 NB201 indices in 0..{len(scores) - 1}")
        archs = [str(a) for a in np.asarray(enumerate_archs(), dtype=object)[idx]]
        out = paths.LITE_PROXY_DIR / f"nb201_lite_{cfg.key()}_sub{arch_list_hash(archs)}.npz"
        lite = lite_table(archs, nb201, cfg, out=out, progress=progress)
    table = pd.DataFrame({"nb201_index": idx, "tgnas": scores[idx], "params": size["params"].to_numpy()[idx],
                          "flops": size["flops"].to_numpy()[idx] * 1e6, **lite_columns(lite),  # MACs, as flops_of
                          "seconds": lite["seconds"].to_numpy()})
    if az:
        az_cfg = az_config(nb201)
        if cells is None:
            az_table = benchmark_az_lite_table(nb201, az_cfg, progress=progress)
        else:
            out = paths.LITE_PROXY_DIR / f"nb201_az_nas_noise_{az_cfg.key()}_sub{arch_list_hash(archs)}.npz"
            az_table = az_nas_lite_table(archs, nb201, az_cfg, out=out, progress=progress)
        table = table.assign(**_az_columns(az_table))
    return table


def nb101_signal_table(pred: Predictor, n: int = 2000, seed: int = 0, progress: bool = True,
                       az: bool = False) -> pd.DataFrame:
    """Held-out NB101 source cells: signals, ``accuracy`` (test, run 0) and ``nb101_index``;
    with ``az`` also :data:`AZ_SIGNALS` and ``az_seconds``.

    Raises:
        ValueError: the predictor was not trained on NB101, or fewer than 100 sample cells
            are unseen by it.
    """
    if "nb101" not in pred.config.train_spaces:
        raise ValueError(f"the source fit needs a predictor trained on nb101, got {pred.config.train_spaces}")
    df = nb101_lite_sample(n=n, seed=seed, progress=progress)
    if az:
        df = df.assign(**_az_columns(nb101_az_sample(n=n, seed=seed, progress=progress)))
    graphs = graphset(SPACES["nb101"])
    seen = np.zeros(len(graphs), dtype=bool)
    seen[used_cells(pred.config, "nb101", len(graphs))] = True
    df = df[~seen[df["nb101_index"].to_numpy()]].reset_index(drop=True)
    if len(df) < 100:
        raise ValueError(f"only {len(df)} of the {n} sampled NB101 cells are unseen by the predictor "
                         f"(fraction={pred.config.fraction}); sample more cells")
    idx = df["nb101_index"].to_numpy()
    size = pred.cells_size(SPACES["nb101"])
    scores = pred.score(graphs.subset(idx), size=None if size is None else size[idx])
    table = pd.DataFrame({"nb101_index": df["nb101_index"], "tgnas": scores, "params": df["params"],
                          **lite_columns(df), "accuracy": df["test_acc"]})
    if az:
        table = table.assign(**{c: df[c].to_numpy() for c in (*AZ_SIGNALS, "az_seconds")})
    return table


def nb101_az_sample(n: int = 2000, seed: int = 0, progress: bool = True) -> pd.DataFrame:
    """Lite AZ-NAS components (:data:`tgnas.proxies.az_nas_lite.AZ_LITE_COLUMNS`) of the NB101 sample
    of :func:`tgnas.experiments.tgnas_plus.nb101_sample.nb101_lite_sample` (same cells, same order), cached as
    ``nb101_az_nas_noise_<config>_n<n>_seed<seed>.npz`` under ``tgnas.paths.LITE_PROXY_DIR``."""
    table, space = load_nb101(), SPACES["nb101"]
    cfg = az_config(space)
    archs = [space.format(table.cell(int(i))) for i in nb101_sample_indices(n, seed)]
    return az_nas_lite_table(archs, space, cfg, progress=progress,
                             out=paths.LITE_PROXY_DIR / f"nb101_az_nas_noise_{cfg.key()}_n{n}_seed{seed}.npz")


#: DARTS lite networks: ``DEFAULT_LITE``'s width and data, 3 cells (normal, reduce, reduce): the
#: DARTS space's ``lite_N`` (:func:`tgnas.plus.signals.lite_config`).
NB301_LITE_CELLS = SPACES["darts"].lite_N
#: Ways to set the weights (:func:`plus_rule`).
METHODS: tuple[str, ...] = ("nb301", "nb101", "equal")


def nb301_lite_table(n: int, progress: bool = True) -> pd.DataFrame:
    """Lite NASWOT/synflow of the first ``n`` labelled NB301 cells (DARTS lite networks of
    :data:`NB301_LITE_CELLS` cells), cached as ``nb301_lite_<config>_n<n>.npz`` under
    ``tgnas.paths.LITE_PROXY_DIR``."""
    cfg = lite_config(SPACES["darts"])
    genotypes = [str(g) for g in load_nb301()["genotype_str"][:n]]
    return lite_table(genotypes, SPACES["darts"], cfg, progress=progress,
                      out=paths.LITE_PROXY_DIR / f"nb301_lite_{cfg.key()}_n{n}.npz")


def nb301_signal_table(pred: Predictor, n: int | None = None, progress: bool = True,
                       az: bool = False) -> pd.DataFrame:
    """The first ``n`` (default all 500) labelled NB301 cells: signals and ``accuracy``; with
    ``az`` also :data:`AZ_SIGNALS` and ``az_seconds`` (DARTS lite networks of
    :data:`NB301_LITE_CELLS` cells).

    ``params`` is the parameter count (M) of the DARTS CIFAR network with C=16 and 8 cells
    (the proxy network of :func:`tgnas.proxies.build_net`); lite proxies are cached under
    ``tgnas.paths.LITE_PROXY_DIR``.
    """
    df = load_nb301()
    n = len(df) if n is None else int(n)
    if not 10 <= n <= len(df):
        raise ValueError(f"n must lie in 10..{len(df)} NB301 cells, got {n}")
    lite = nb301_lite_table(n, progress=progress)
    d = load_space_data("darts", graph_form=pred.config.graph_form)
    graphs, y = d.graphs, d.labels
    idx = np.arange(n)
    size = pred.cells_size(SPACES["darts"])
    genotypes = list(load_nb301()["genotype"][:n])
    table = pd.DataFrame({"tgnas": pred.score(graphs.subset(idx), size=None if size is None else size[idx]),
                          "params": _nb301_params(n), "flops": SPACES["darts"].flops(genotypes),
                          **lite_columns(lite), "accuracy": y[:n]})
    if az:
        table = table.assign(**_az_columns(nb301_az_table(n, progress=progress)))
    return table


def nb301_az_table(n: int, progress: bool = True) -> pd.DataFrame:
    """Lite AZ-NAS components of the first ``n`` labelled NB301 cells (DARTS lite networks of
    :data:`NB301_LITE_CELLS` cells, noise input), cached as ``nb301_az_nas_noise_<config>_n<n>.npz``
    under ``tgnas.paths.LITE_PROXY_DIR``."""
    cfg = az_config(SPACES["darts"])
    genotypes = [str(g) for g in load_nb301()["genotype_str"][:n]]
    return az_nas_lite_table(genotypes, SPACES["darts"], cfg, progress=progress,
                             out=paths.LITE_PROXY_DIR / f"nb301_az_nas_noise_{cfg.key()}_n{n}.npz")


@lru_cache(maxsize=2)
def _nb301_params(n: int) -> np.ndarray:
    """``(n,)`` parameter counts (M) of the first ``n`` NB301 cells' proxy networks (built
    once per process: about 30 ms a network)."""
    genotypes = load_nb301()["genotype"][:n]
    return np.array([params(build_net(g, SPACES["darts"])) for g in genotypes])


def plus_rule(method: str, target: pd.DataFrame, *, nb101: pd.DataFrame | None = None,
              nb301: pd.DataFrame | None = None, signals: Sequence[str] = SIGNALS,
              target_space: str = "nb201") -> PlusRule:
    """A TG-NAS+ rule, with the unlabelled ``target`` population as ``target_space``'s reference.

    Args:
        method: ``"nb301"`` / ``"nb101"``: non-negative weights fitted on that labelled table
            (:func:`tgnas.plus.rule.fit_rule`); ``"equal"``: equal weights, nothing fitted.
        target: the target space's signal table (its ``accuracy`` column, if any, is ignored).
        nb101, nb301: labelled fitting tables (:func:`nb101_signal_table`,
            :func:`nb301_signal_table`); the one ``method`` names is required, and every
            one given is stored as a reference too.
    """
    tables = {"nb101": nb101, "nb301": nb301}
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {list(METHODS)}")
    if method == "equal":
        rule = equal_rule(signals)
    else:
        if tables[method] is None:
            raise ValueError(f"method {method!r} needs the labelled {method} table")
        rule = fit_rule(tables[method], signals, target="accuracy", space=method)
    for space, table in tables.items():
        if table is not None and space not in rule.references:
            rule.add_reference(space, table)
    rule.add_reference(target_space, target.drop(columns=[c for c in ("accuracy",) if c in target]))
    rule.info["weights_from"] = method
    return rule


def evaluate_signals(scores: np.ndarray, cells: np.ndarray | None = None,
                     datasets: Sequence[str] = NB201_DATASETS) -> dict[str, float]:
    """Kendall tau / Spearman rho of NB201 scores on each dataset (flat dict).

    ``scores`` ``(M,)`` belong to the benchmark indices ``cells`` (default: all, in order)."""
    row = {}
    for ds in datasets:
        truth = nb201_truth(ds)
        r = rank_correlation(scores, truth if cells is None else truth[np.asarray(cells)], constant="nan")
        row[f"{ds}_kendall"], row[f"{ds}_spearman"] = r["kendall"], r["spearman"]
    return row


def evaluate_rule(rule: PlusRule, target: pd.DataFrame) -> dict[str, float]:
    """The rule's NB201 tau / rho on the three datasets for the cells of ``target``
    (:func:`nb201_signal_table`); with :func:`evaluate_signals`, the only place NB201 labels
    are read."""
    return evaluate_signals(rule.score(target, "nb201"), target["nb201_index"].to_numpy())
