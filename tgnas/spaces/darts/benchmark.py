"""NAS-Bench-301 (DARTS space): the 500 labelled cells and the surrogate model.

Labelled cells (:func:`load_nb301`): NAS-Bench-Suite-Zero's ``zc_nasbench301.json``, 500
DARTS genotypes (NASLib compact keys, see :mod:`tgnas.spaces.darts.arch`) with CIFAR-10
validation accuracy (%) and 11 zero-cost proxies.

Surrogate (:class:`NB301Surrogate`): YAHPO Gym's ONNX export of a NAS-Bench-301 surrogate
(a neural network fitted to the NB301 training data), queried with onnxruntime.

Surrogate encoding
------------------
The model takes NAS-Bench-301's ConfigSpace configuration of a genotype, integer-coded:

* ``x_cat``: ``(N, 34)`` int32, one slot per categorical parameter, in YAHPO's ``cat_names``
  order (:data:`CAT_NAMES`): ``edge_normal_0..13``, ``edge_reduce_0..13``,
  ``inputs_node_normal_3..5``, ``inputs_node_reduce_3..5``. (Names carry the prefix
  ``NetworkSelectorDatasetInfo_COLON_darts_COLON_``; NB301 itself writes ``:`` for
  ``_COLON_``.)
* ``x_cont``: ``(N, 1)`` float32, the training epoch, an integer 1..98.

A cell has 14 possible edges: edge ``start(k) + i`` carries the op of the edge from node
``i`` into intermediate node ``k``, with ``start(k) = 0, 2, 5, 9`` for ``k = 2, 3, 4, 5``
(edges 0-1 feed node 2, 2-4 node 3, 5-8 node 4, 9-13 node 5). Only the 8 edges of the
genotype are active; the other 6 get ``"#na#"``. ``inputs_node_<cell>_k`` (k = 3, 4, 5)
names the two inputs of node k as ``"i_j"`` with ``i < j`` (node 2's inputs are always
``0_1`` and have no slot). The integer of each value is read from ``encoding_v2.json``
(``"#na#"`` -> 0, ops alphabetical from 1; input pairs in order from 1). This is the mapping
of NB301's ``convert_genotype_to_config`` followed by YAHPO's integer encoding.

Output: ``(N, 4)`` float32; column 0 is the validation accuracy as a fraction (YAHPO's
``y_names`` are ``val_accuracy, runtime``; the remaining columns are not used).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tgnas import datafiles
from tgnas.graph_forms import check_form, to_form
from tgnas.graphs import GraphSet
from tgnas.spaces.darts.arch import (
    CELL_TYPES,
    DEFAULT_CONCAT,
    INTERMEDIATE_NODES,
    NUM_INPUTS,
    DartsForm,
    Genotype,
    format_genotype,
    from_compact,
    node_of_edge,
)

#: The 11 zero-cost proxies of the labelled file, in column order.
NB301_PROXIES: tuple[str, ...] = ("epe_nas", "fisher", "flops", "grad_norm", "grasp", "jacov",
                                  "l2_norm", "params", "plain", "snip", "synflow")

_PREFIX = "NetworkSelectorDatasetInfo_COLON_darts_COLON_"
#: Number of possible edges per cell (2 + 3 + 4 + 5).
EDGES_PER_CELL_CONFIG: int = 14
#: The surrogate's categorical input slots, in ``x_cat`` column order (YAHPO's cat_names).
CAT_NAMES: tuple[str, ...] = (
    *(f"{_PREFIX}edge_normal_{e}" for e in range(EDGES_PER_CELL_CONFIG)),
    *(f"{_PREFIX}edge_reduce_{e}" for e in range(EDGES_PER_CELL_CONFIG)),
    *(f"{_PREFIX}inputs_node_normal_{k}" for k in (3, 4, 5)),
    *(f"{_PREFIX}inputs_node_reduce_{k}" for k in (3, 4, 5)),
)
NA = "#na#"
MIN_EPOCH, MAX_EPOCH = 1, 98
_BATCH = 4096


def edge_start(node: int) -> int:
    """Index of the config edge from node 0 into intermediate ``node`` (0, 2, 5, 9 for 2..5)."""
    if node not in INTERMEDIATE_NODES:
        raise ValueError(f"intermediate nodes are {list(INTERMEDIATE_NODES)}, got {node!r}")
    return (node - NUM_INPUTS) * (node + 1) // 2


def genotype_to_config(g: Genotype) -> dict[str, str]:
    """NAS-Bench-301's configuration of ``g`` (YAHPO parameter names, all 34 keys).

    Inactive edges and parameters are ``"#na#"``. Raises ``ValueError`` if ``g`` is not in
    the surrogate's space (an op ``"none"``, both edges of a node from one input, or a
    concat other than 2..5).
    """
    DartsForm().check_search_space(g, "the NB301 surrogate (its encoding has no 'none' and two distinct inputs per node)")
    config = {name: NA for name in CAT_NAMES}
    for cell in CELL_TYPES:
        if g.concat(cell) != DEFAULT_CONCAT:
            raise ValueError(f"the NB301 surrogate assumes {cell}_concat = {list(DEFAULT_CONCAT)}, "
                             f"got {list(g.concat(cell))}")
        pairs = g.cell(cell)
        for e, (op, inp) in enumerate(pairs):
            config[f"{_PREFIX}edge_{cell}_{edge_start(node_of_edge(e)) + inp}"] = op
        for node in INTERMEDIATE_NODES[1:]:
            a, b = sorted(p[1] for p in pairs[2 * (node - NUM_INPUTS): 2 * (node - NUM_INPUTS) + 2])
            config[f"{_PREFIX}inputs_node_{cell}_{node}"] = f"{a}_{b}"
    return config


# ------------------------------------------------------------------------ labelled cells

def load_nb301() -> pd.DataFrame:
    """The 500 labelled NB301 cells of NAS-Bench-Suite-Zero (CIFAR-10), in file order.

    Returns:
        DataFrame with 500 rows and columns ``genotype`` (:class:`Genotype`),
        ``genotype_str`` (DARTS genotype string), ``compact`` (the NASLib key),
        ``val_accuracy`` (CIFAR-10 validation accuracy, %), and the proxies
        :data:`NB301_PROXIES`.
    """
    path = datafiles.require("nb301_zc")
    with open(path) as fh:
        table = json.load(fh)["nasbench301"]["cifar10"]
    rows = []
    for key, rec in table.items():
        g = from_compact(key)
        missing = [c for c in ("val_accuracy", *NB301_PROXIES) if c not in rec]
        if missing:
            raise ValueError(f"{path}: record {key!r} lacks {missing}")
        rows.append({"genotype": g, "genotype_str": format_genotype(g), "compact": key,
                     "val_accuracy": float(rec["val_accuracy"]),
                     **{p: float(rec[p]) for p in NB301_PROXIES}})
    return pd.DataFrame(rows, columns=["genotype", "genotype_str", "compact", "val_accuracy",
                                       *NB301_PROXIES])


# ----------------------------------------------------------------------------- surrogate

@lru_cache(maxsize=4)
def _session(model_path: str, num_threads: int | None):
    # One InferenceSession per (file, threads) per process: creating it costs ~0.1 s.
    import onnxruntime as ort

    options = ort.SessionOptions()
    if num_threads is not None:
        options.intra_op_num_threads = num_threads
        options.inter_op_num_threads = num_threads
    return ort.InferenceSession(model_path, sess_options=options, providers=["CPUExecutionProvider"])


def _load_encoding(path: Path) -> dict[str, dict[str, int]]:
    with open(path) as fh:
        encoding = json.load(fh)
    if set(encoding) != set(CAT_NAMES):
        raise ValueError(f"{path}: parameters {sorted(set(encoding) ^ set(CAT_NAMES))} differ from the "
                         f"{len(CAT_NAMES)} expected NB301 slots")
    return encoding


class NB301Surrogate:
    """NAS-Bench-301 surrogate of CIFAR-10 validation accuracy (YAHPO's ONNX model).

    Args:
        num_threads: onnxruntime intra/inter-op threads; ``None`` keeps onnxruntime's
            default (all cores).

    The InferenceSession is created on first use and shared by all instances with the same
    ``num_threads``. Predictions are deterministic (CPU execution provider).
    """

    def __init__(self, num_threads: int | None = 1) -> None:
        if num_threads is not None and (not isinstance(num_threads, int) or num_threads < 1):
            raise ValueError(f"num_threads must be a positive int or None, got {num_threads!r}")
        self.num_threads = num_threads
        self._space = DartsForm()
        self._encoding: dict[str, dict[str, int]] | None = None

    @property
    def encoding(self) -> dict[str, dict[str, int]]:
        """Value -> integer code for every slot of :data:`CAT_NAMES` (from ``encoding_v2.json``)."""
        if self._encoding is None:
            self._encoding = _load_encoding(datafiles.require("nb301_surrogate_encoding"))
        return self._encoding

    @property
    def session(self):
        """The (cached) ``onnxruntime.InferenceSession``."""
        return _session(str(datafiles.require("nb301_surrogate_model")), self.num_threads)

    def encode(self, genotypes: Sequence[Genotype]) -> np.ndarray:
        """Integer-code genotypes for the model: ``x_cat`` ``(N, 34)`` int32 (columns :data:`CAT_NAMES`).

        Raises:
            ValueError: a genotype outside the surrogate's space (see :func:`genotype_to_config`).
        """
        enc = self.encoding
        x = np.zeros((len(genotypes), len(CAT_NAMES)), dtype=np.int32)
        for r, g in enumerate(genotypes):
            config = genotype_to_config(g)
            for c, name in enumerate(CAT_NAMES):
                x[r, c] = enc[name][config[name]]
        return x

    def predict(self, genotypes: Genotype | Iterable[Genotype], epoch: int = MAX_EPOCH) -> np.ndarray:
        """Predicted CIFAR-10 validation accuracy (%) after ``epoch`` epochs.

        Args:
            genotypes: one :class:`Genotype` or an iterable of N of them.
            epoch: training epoch 1..98 (98 = end of NB301's training).

        Returns:
            ``(N,)`` float64 accuracies in percent (``(1,)`` for a single genotype).

        Raises:
            ValueError: ``epoch`` not an int in 1..98, or a genotype outside the space.
        """
        if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) \
                or not MIN_EPOCH <= epoch <= MAX_EPOCH:
            raise ValueError(f"epoch must be an int in {MIN_EPOCH}..{MAX_EPOCH}, got {epoch!r}")
        gs = [genotypes] if isinstance(genotypes, Genotype) else list(genotypes)
        if not gs:
            return np.zeros(0, dtype=np.float64)
        x_cat = self.encode(gs)
        sess = self.session
        out = np.empty(len(gs), dtype=np.float64)
        for lo in range(0, len(gs), _BATCH):
            xc = x_cat[lo:lo + _BATCH]
            x_cont = np.full((len(xc), 1), float(epoch), dtype=np.float32)
            y = sess.run(None, {"x_cat": xc, "x_cont": x_cont})[0]
            out[lo:lo + len(xc)] = y[:, 0]
        return out * 100.0


# ------------------------------------------------------------- the space record's cells

@lru_cache(maxsize=4)
def cell_graphs(form: str = "full"):
    """The 500 labelled cells (:func:`load_nb301`, file order) as a GraphSet in ``form``
    (built once per process)."""
    check_form(form)
    space = DartsForm()
    return GraphSet.from_graphs([to_form(space.to_graph(g), form) for g in load_nb301()["genotype"]])


def cell_ids() -> pd.DataFrame:
    """``genotype`` (DARTS genotype string) and ``compact`` (NASLib key) of the 500 labelled cells."""
    df = load_nb301()
    return pd.DataFrame({"genotype": df["genotype_str"], "compact": df["compact"]})


def labelled_cells(form: str = "full", surrogate_samples: int = 0, seed: int = 0):
    """(GraphSet, labels (%)) of the 500 labelled cells (CIFAR-10 validation accuracy) plus
    ``surrogate_samples`` random DARTS cells labelled by :class:`NB301Surrogate` (drawn with
    ``numpy.random.default_rng([seed, 301])``)."""
    check_form(form)
    df = load_nb301()
    labels = df["val_accuracy"].to_numpy(dtype=np.float64)
    genotypes = labelled_genotypes(surrogate_samples, seed)
    if not surrogate_samples:
        return cell_graphs(form), labels
    labels = np.concatenate([labels, NB301Surrogate().predict(genotypes[len(df):])])
    darts = DartsForm()
    return GraphSet.from_graphs([to_form(darts.to_graph(g), form) for g in genotypes]), labels


def labelled_genotypes(surrogate_samples: int = 0, seed: int = 0) -> list[Genotype]:
    """The genotypes of :func:`labelled_cells` with the same arguments, in its order."""
    if surrogate_samples < 0:
        raise ValueError(f"nb301_surrogate_samples must be >= 0, got {surrogate_samples}")
    genotypes = list(load_nb301()["genotype"])
    rng = np.random.default_rng([seed, 301])
    darts = DartsForm()
    return genotypes + [darts.sample(rng) for _ in range(surrogate_samples)]


# ------------------------------------------------- judging found genotypes (never during search)

def _surrogate_and_randoms(n_random: int, seed: int):
    """The NB301 surrogate and its ``(n_random,)`` accuracies of uniformly sampled genotypes."""
    space = DartsForm()
    rng = np.random.default_rng(seed)
    randoms = [space.sample(rng) for _ in range(n_random)]
    sur = NB301Surrogate()
    return sur, np.asarray(sur.predict(randoms), dtype=np.float64)


def _rank_row(acc: float, ref: np.ndarray) -> dict[str, Any]:
    """``acc`` against the random accuracies ``ref``: rank (1 = better than all), percentile, ..."""
    return {"accuracy": float(acc), "rank": int(1 + np.sum(ref > acc)),
            "percentile": float(100.0 * np.mean(ref < acc)), "random_mean": float(ref.mean()),
            "random_max": float(ref.max()), "n_random": len(ref)}


def surrogate_rank(genotype: Any, n_random: int = 1000, seed: int = 0) -> dict[str, Any]:
    """NB301-surrogate accuracy of ``genotype`` against ``n_random`` uniformly sampled genotypes.

    Returns:
        dict with ``accuracy`` (%, the surrogate's CIFAR-10 validation accuracy at epoch 98),
        ``random_accuracies`` (``(n_random,)``), ``rank`` (1 = better than every random
        genotype), ``percentile`` (share of random genotypes strictly below, %),
        ``random_mean`` / ``random_max``.
    """
    sur, ref = _surrogate_and_randoms(n_random, seed)
    return {**_rank_row(float(sur.predict([genotype])[0]), ref), "random_accuracies": ref}


def surrogate_ranks(genotypes: Sequence[Any], n_random: int = 1000, seed: int = 0) -> pd.DataFrame:
    """:func:`surrogate_rank` of several genotypes against one set of ``n_random`` random
    genotypes (the surrogate scores the random set once).

    Returns:
        DataFrame, one row per genotype: ``accuracy``, ``rank``, ``percentile``, ``random_mean``,
        ``random_max``, ``n_random`` (as :func:`surrogate_rank`).
    """
    genotypes = list(genotypes)
    if not genotypes:
        raise ValueError("surrogate_ranks needs at least one genotype")
    sur, ref = _surrogate_and_randoms(n_random, seed)
    return pd.DataFrame([_rank_row(a, ref) for a in np.asarray(sur.predict(genotypes), dtype=np.float64)])
