"""Unseen operators: train without any cell containing one operator, rank NB201 cells with
an operator the predictor never saw in any form.

Default: NB101 has no average pooling; its only pooling op is ``maxpool3x3``. Training on
the NB101 cells *without* ``maxpool3x3`` leaves a model that has seen no pooling at all;
it then ranks the 11,529 NB201 cells containing ``avg_pool_3x3``. The same config trained
on all NB101 cells (which saw max-pooling, a described neighbour of avg-pooling) is the
reference, trained on as many (train + validation) cells. Semantic embeddings give the unseen op a vector from its description; a
one-hot encoding cannot represent it: its ``avg_pool_3x3`` coordinate never fires during
training, so we report the one-hot model with that op mapped to a **zero vector**
(labelled as such) beside the stock one-hot coordinate (equally untrained). Note that a
one-hot model trained on NB101 has never seen *any* NB201 op (``none``, ``skip_connect``,
``nor_conv_*`` are other coordinates than NB101's ``conv*-bn-relu``), so its NB201 ranking
rests on untrained input weights throughout.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from tgnas.experiments.common import check_no_nb201_labels, nb201_truth, space_data, train_cached
from tgnas.graphs import GraphSet, graphset
from tgnas.metrics import rank_correlation
from tgnas.predictor import Predictor, TrainConfig
from tgnas.predictor.data import SpaceData
from tgnas.predictor.train import predict_graphs
from tgnas.spaces.catalog import SPACES

__all__ = ["contains_op", "without_op", "run_unseen"]


def contains_op(graphs: GraphSet, op: str) -> np.ndarray:
    """``(M,)`` bool: graph i has a (real) node labelled ``op``.

    Raises:
        KeyError: ``op`` is not in ``graphs.vocab``.
    """
    if op not in graphs.vocab:
        raise KeyError(f"op {op!r} is not in the graphs' vocabulary {list(graphs.vocab)}")
    return np.any(graphs.ops == graphs.vocab.index(op), axis=1)


def without_op(data: SpaceData, op: str) -> SpaceData:
    """The cells of ``data`` that contain no ``op`` node."""
    keep = np.flatnonzero(~contains_op(data.graphs, op))
    if keep.size == 0:
        raise ValueError(f"every {data.space} cell contains {op!r}; nothing left to train on")
    return data.subset(keep)


def _zero_op_scores(pred: Predictor, graphs: GraphSet, op: str) -> np.ndarray:
    """Scores with ``op`` embedded as a zero vector (other ops as the predictor embeds them)."""
    table = pred.table_for(graphs.vocab).clone()
    table[graphs.vocab.index(op)] = 0.0
    return predict_graphs(pred.net, graphs, table, device=pred.device)


def run_unseen(base: TrainConfig, *, held_out: str = "maxpool3x3", target: str = "avg_pool_3x3",
               models: tuple[str, ...] = ("minilm", "onehot"), fraction: float = 0.02, epochs: int = 2,
               seed: int = 0, device: str = "cpu") -> pd.DataFrame:
    """Train on NB101 with and without ``held_out`` for each embedding model and rank the
    NB201 cells containing ``target`` (CIFAR-10 test accuracy). Training on ``device``,
    scoring on CPU.

    Returns:
        rows ``model``, ``training`` (``"all ops"`` or ``"without <held_out>"``),
        ``encoding`` (how ``target`` is represented), ``kendall``, ``spearman``, ``n``
        (NB201 cells containing ``target``), ``kendall_all``/``spearman_all`` (all cells),
        ``train_cells``, ``checkpoint``.
    """
    nb101 = space_data("nb101")
    filtered = without_op(nb101, held_out)
    graphs = graphset(SPACES["nb201"], "full")
    mask = contains_op(graphs, target)
    truth = nb201_truth("cifar10")
    rows = []
    for model in models:
        cfg = replace(base.with_epochs(epochs), train_spaces=("nb101",), fraction=fraction, seed=seed,
                      embedding_model=model, length="short" if model == "onehot" else base.length,
                      monitor_nb201=False, patience=0)
        check_no_nb201_labels(cfg)
        # Same number of training cells in both runs (the filtered set is smaller), so that
        # the comparison isolates the missing op rather than the amount of data.
        n_train = max(2, int(round(fraction * len(filtered))))
        runs = (("all ops", nb101, "", n_train / len(nb101)),
                (f"without {held_out}", filtered, f"no-{held_out}", fraction))
        for training, data, tag, frac in runs:
            path: Path = train_cached(replace(cfg, fraction=min(1.0, frac)), f"unseen_{tag or 'all'}",
                                      data=[data], tag=tag, device=device)
            pred = Predictor.load(path, device="cpu")
            if target in pred.vocab:
                raise ValueError(f"{target!r} was in the training vocabulary {pred.vocab}")
            variants = [("description embedding" if model != "onehot" else "one-hot (untrained coordinate)",
                         pred.score(graphs))]
            if model == "onehot":
                variants.append((f"one-hot, {target} -> zero vector", _zero_op_scores(pred, graphs, target)))
            for enc, s in variants:
                sub = rank_correlation(s[mask], truth[mask], constant="nan")
                allc = rank_correlation(s, truth, constant="nan")
                rows.append({"model": model, "training": training, "encoding": enc, "kendall": sub["kendall"],
                             "spearman": sub["spearman"], "n": sub["n"], "kendall_all": allc["kendall"],
                             "spearman_all": allc["spearman"],
                             "train_cells": n_train,
                             "checkpoint": path.name})
    return pd.DataFrame(rows)


