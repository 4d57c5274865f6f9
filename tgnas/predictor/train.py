"""Training the predictor: config, data splits, losses, the epoch loop, checkpoints, resume.

Protocol (deliberately different from the authors' code where that code selects on the
evaluation space):

* each training space is (optionally) subsampled to ``fraction`` of its cells, then split
  into train / validation (``val_fraction``), both seeded; labels are standardised per
  space with the mean and std of that space's *training* split, so spaces with different
  units can be mixed;
* loss: MSE on standardised labels, or a pairwise ranking loss (logistic or hinge) over all
  ordered pairs of the same space inside a batch;
* AdamW, with a cosine, step or constant learning-rate schedule stepped once per epoch;
* after every epoch: Kendall tau / Spearman rho on each training space's validation split;
  the *selection score* is the mean tau over training spaces; the best epoch's weights are
  kept and early stopping (``patience``) watches that score. Optionally the NB201 CIFAR-10
  tau is recorded as a *monitor* (``monitor_nb201``) -- it is stored in the history under
  ``"monitor"`` and never read by selection or stopping;
* a checkpoint (model, optimizer, scheduler, RNG state, epoch, history, best weights,
  config, vocabulary and embedding table) is written atomically after every epoch;
  ``resume=True`` continues from it. Batch order depends only on ``(seed, epoch)`` and all
  other state is restored, so on CPU a resumed run equals an uninterrupted one bit for bit.

Differences from the authors' training script (``TG_NAS_GCN_TRAIN.py``), all configurable:

* selection: upstream keeps the epoch with the best Kendall tau on NB201 -- the space it
  then reports on (test-set selection); here only training-space validation data select;
* labels: upstream regresses raw accuracy (a fraction for NB101, percent for NB201); here
  labels are standardised per space (needed to mix spaces; MSE then weighs spaces alike);
* defaults: upstream trains 100 epochs, batch 128, AdamW lr 1e-3, StepLR(40, 0.1), on 90 %
  of NB101 (published weight decay 0.01; one code version uses 6e-6). The defaults here
  (20 epochs, batch 256, cosine schedule, weight decay 0.01, 10 % validation) fit a CPU
  budget; ``schedule="step"`` with ``epochs=100, batch_size=128`` is upstream's setting;
* optional: pairwise ranking losses, mixed training spaces, early stopping.
"""

from __future__ import annotations

import math
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.swa_utils import AveragedModel
from tqdm import tqdm

from tgnas import paths
from tgnas.embeddings import embed_ops
from tgnas.checkpoints import CheckpointError, check_finite, load_checkpoint_file, save_checkpoint
from tgnas.errors import SettingError, shorten
from tgnas.fileio import check_output
from tgnas.graph_forms import check_form
from tgnas.graphs import BatchMaker, GraphSet
from tgnas.metrics import kendall_tau, spearman_rho
from tgnas.runtime import check_number, check_seed, resolve_device, set_seed
from tgnas.spaces import catalog
from tgnas.version import __version__
from tgnas.predictor.data import SpaceData, canonical_train_name, load_space_data, split_name
from tgnas.predictor.size import SIZE_FEATURES
from tgnas.predictor.model import GCN_PRESETS, GCNConfig, TGNASPredictorNet, check_fields, gcn_preset

#: ``format`` field of every checkpoint this module writes.
CHECKPOINT_FORMAT = "tgnas-predictor"
CHECKPOINT_VERSION = 1
LOSSES: tuple[str, ...] = ("mse", "pairwise")
PAIRWISE_KINDS: tuple[str, ...] = ("logistic", "hinge")
SCHEDULES: tuple[str, ...] = ("cosine", "step", "constant")
#: Graphs per forward pass when evaluating (small enough to stay in a CPU cache).
EVAL_BATCH = 2048

#: ``embed_fn(vocab) -> (V, D)`` array: node features for each vocabulary entry.
EmbedFn = Callable[[Sequence[str]], np.ndarray]


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run (stored in the checkpoint).

    Attributes:
        train_spaces: spaces to train on (``"nb101"``, ``"darts"``, ``"nb201"``; ``"nb301"``,
            the old name of ``"darts"``, is read as ``"darts"``).
        fraction: seeded fraction of each training space's cells used (train + val);
            not applied to spaces whose record says ``subsample=False`` (``darts``: 500
            labelled NB301 cells).
        nb301_surrogate_samples: extra surrogate-labelled DARTS cells when training on darts.
        graph_form: form of NB201 / DARTS graphs in training and scoring
            (:data:`tgnas.graph_forms.GRAPH_FORMS`; NB101 graphs are alike in every form).
        seed: seeds model init, subsampling, splits and batch order.
        epochs, batch_size, lr, weight_decay: AdamW training.
        schedule: ``"cosine"`` (to 0 over ``epochs``), ``"step"`` (x ``gamma`` every
            ``step_size`` epochs, upstream: 40 / 0.1) or ``"constant"``.
        loss: ``"mse"`` or ``"pairwise"``; ``pairwise``: ``"logistic"`` or ``"hinge"``
            (with ``margin``, in standardised-label units of score difference).
        embedding_model, length: operator embeddings (:func:`tgnas.embeddings.embed_ops`).
        gcn: predictor architecture.
        val_fraction: validation share of each training space.
        patience: stop after this many epochs without a better validation score (0 = never).
        average_from: from this epoch (1-based) on, keep a uniform running average of the
            weights and BatchNorm statistics after each epoch (stochastic weight averaging,
            :class:`torch.optim.swa_utils.AveragedModel`); the average is then the result: the
            history's validation and monitor values are the averaged model's and the "best"
            weights are the average after the last epoch (no selection). 0 = off.
        monitor_nb201: record NB201 CIFAR-10 tau/rho each epoch (monitor only).
        balance_spaces: weigh each batch's loss so that every search space (a space's tasks
            together: ``nb201``, ``nb201:cifar100``... are one) contributes the same total per epoch,
            however many cells and tasks it has (else every training cell weighs the same).
        size_features: add a learnt linear term of the network's normalised log parameters and
            log FLOPs (:mod:`tgnas.predictor.size`) to the GCN's score; scoring then needs
            architectures of a space with a size model, not bare graphs.
    """

    train_spaces: tuple[str, ...] = ("nb101",)
    fraction: float = 1.0
    nb301_surrogate_samples: int = 0
    graph_form: str = "full"
    seed: int = 0
    epochs: int = 20
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 1e-2
    schedule: str = "cosine"
    step_size: int = 40
    gamma: float = 0.1
    loss: str = "mse"
    pairwise: str = "logistic"
    margin: float = 0.1
    embedding_model: str = "minilm"
    length: str = "short"
    gcn: GCNConfig = field(default_factory=lambda: GCN_PRESETS["upstream"])
    val_fraction: float = 0.1
    patience: int = 0
    monitor_nb201: bool = False
    average_from: int = 0
    size_features: bool = False
    balance_spaces: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "train_spaces", tuple(canonical_train_name(s) for s in self.train_spaces))
        if isinstance(self.gcn, str):  # a preset name
            object.__setattr__(self, "gcn", gcn_preset(self.gcn))
        if not self.train_spaces or len(set(self.train_spaces)) != len(self.train_spaces):
            raise SettingError("train_spaces", f"must be non-empty and distinct, got {self.train_spaces}")
        self._check_numbers()
        if not self.fraction <= 1.0:
            raise SettingError("fraction", f"must lie in (0, 1], got {self.fraction}")
        if not self.val_fraction < 1.0:
            raise SettingError("val_fraction", f"must lie in (0, 1), got {self.val_fraction}")
        if not 0 <= self.average_from <= self.epochs:
            raise SettingError("average_from", f"must lie in 0..epochs={self.epochs}, got {self.average_from}")
        if self.average_from and self.patience:
            raise ValueError("average_from and patience exclude each other: an average has no best epoch "
                             "to stop at")
        check_form(self.graph_form)
        for name, value, allowed in (("loss", self.loss, LOSSES), ("pairwise", self.pairwise, PAIRWISE_KINDS),
                                     ("schedule", self.schedule, SCHEDULES)):
            if value not in allowed:
                raise ValueError(f"unknown {name} {value!r}; expected one of {list(allowed)}")

    def _check_numbers(self) -> None:
        """Every number is finite and in range (NaN compares false with everything, so a
        ``--margin nan`` used to train on); :class:`SettingError` names the field."""
        for name in ("fraction", "val_fraction", "lr", "gamma"):
            check_number(getattr(self, name), name, 0.0, above=True)
        for name in ("weight_decay", "margin"):
            check_number(getattr(self, name), name)
        for name, minimum in (("epochs", 1), ("batch_size", 1), ("step_size", 1), ("patience", 0),
                              ("average_from", 0), ("nb301_surrogate_samples", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
                raise SettingError(name, f"must be an integer >= {minimum}, got {shorten(value, 40)}")
        check_seed(self.seed)

    def with_epochs(self, epochs: int) -> TrainConfig:
        """The same run with ``epochs`` epochs; weight averaging keeps covering the same share
        of the epochs (e.g. the second half: 5 of 8 -> 3 of 4)."""
        if not self.average_from:
            return replace(self, epochs=epochs)
        share = (self.epochs - self.average_from + 1) / self.epochs
        start = epochs - max(1, round(share * epochs)) + 1
        return replace(self, epochs=epochs, average_from=min(max(start, 1), epochs))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["train_spaces"] = list(self.train_spaces)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        d = dict(d)
        check_fields(cls, d)
        if "gcn" in d and isinstance(d["gcn"], dict):
            d["gcn"] = GCNConfig.from_dict(d["gcn"])
        if "train_spaces" in d:
            d["train_spaces"] = tuple(d["train_spaces"])
        return cls(**d)


@dataclass
class TrainResult:
    """What :func:`train` returns (the checkpoint holds the same and more).

    Attributes:
        path: the checkpoint file.
        history: one dict per completed epoch (``epoch``, ``train_loss``, ``lr``,
            ``val_tau``/``val_rho`` per space, ``val_score``, ``time_s``, ``monitor``).
        best_epoch: epoch (1-based) whose weights are kept as "best".
        best_val_score: its selection score (mean validation tau).
        stopped_early: patience ran out.
    """

    path: Path
    history: list[dict]
    best_epoch: int
    best_val_score: float
    stopped_early: bool


def size_dim(config: TrainConfig) -> int:
    """Width of the size features a net of ``config`` takes (0: none)."""
    return len(SIZE_FEATURES) if config.size_features else 0


def default_embed_fn(config: TrainConfig, descriptions: dict[str, str] | None = None) -> EmbedFn:
    """``vocab -> embed_ops(vocab, model=config.embedding_model, length=config.length)``."""
    def embed(vocab: Sequence[str]) -> np.ndarray:
        return embed_ops(list(vocab), model=config.embedding_model, length=config.length,
                         descriptions=descriptions)
    return embed


# ============================================================================ data

@dataclass
class _Split:
    """Train/val data of all training spaces, concatenated (one vocabulary)."""

    train: GraphSet
    train_y: np.ndarray          # (M_train,) standardised labels
    train_space: np.ndarray      # (M_train,) int space id
    train_size: np.ndarray | None  # (M_train, 2) size features, or None
    val: dict[str, tuple[GraphSet, np.ndarray, np.ndarray | None]]  # space -> (graphs, raw labels, size)
    label_stats: dict[str, tuple[float, float]]  # space -> (mean, std) of train labels


def _space_seed(seed: int, space: str) -> list[int]:
    # a catalog space may keep an older key (its split_key); other names (synthetic data) as they are
    sp = catalog.SPACES.get(space)
    return [seed, zlib.crc32((sp.seed_key if sp is not None else space).encode())]


def _subsampled(space: str) -> bool:
    sp = catalog.SPACES.get(split_name(space)[0])
    return sp.subsample if sp is not None else True


def used_cells(config: TrainConfig, space: str, m: int) -> np.ndarray:
    """Indices of the ``m`` cells of ``space`` that a run of ``config`` trains or validates
    on (its seeded ``fraction``), in the order :func:`train` splits them (validation first).
    The other cells are unseen by that run (used e.g. to fit TG-NAS+ on held-out cells)."""
    rng = np.random.default_rng(_space_seed(config.seed, space))
    keep = rng.permutation(m)
    if config.fraction < 1.0 and _subsampled(space):
        keep = keep[:max(2, int(round(config.fraction * m)))]
    return keep


def _split(data: Sequence[SpaceData], config: TrainConfig) -> _Split:
    parts, ys, sids, sizes, val, stats = [], [], [], [], {}, {}
    for sid, d in enumerate(data):
        keep = used_cells(config, d.space, len(d))
        n_val = int(round(config.val_fraction * len(keep)))
        if n_val < 3 or len(keep) - n_val < 1:
            raise ValueError(f"{d.space}: {len(keep)} cells after fraction={config.fraction} are too few "
                             f"for val_fraction={config.val_fraction} (need >= 3 validation cells)")
        val_idx, tr_idx = np.sort(keep[:n_val]), np.sort(keep[n_val:])
        y = d.labels[tr_idx]
        mean, std = float(y.mean()), float(y.std())
        if not std > 0:
            raise ValueError(f"{d.space}: training labels are constant ({mean}); cannot standardise")
        stats[d.space] = (mean, std)
        parts.append(d.graphs.subset(tr_idx))
        ys.append((y - mean) / std)
        sids.append(np.full(len(tr_idx), sid, dtype=np.int64))
        if config.size_features and d.size is None:
            raise ValueError(f"{d.space}: size_features=True needs size features in the data (load_space_data(..., "
                             f"size=True))")
        sizes.append(d.size[tr_idx] if config.size_features else None)
        val[d.space] = (d.graphs.subset(val_idx), d.labels[val_idx],
                        d.size[val_idx] if config.size_features else None)
    train = GraphSet.concat(parts)
    train_size = np.concatenate(sizes) if config.size_features else None
    return _Split(train, np.concatenate(ys), np.concatenate(sids), train_size, val, stats)


def epoch_batches(space_id: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """Index batches of one epoch; depends only on ``(seed, epoch)`` (so resuming needs no
    generator state).

    One space: a random permutation cut into batches. Several spaces: batches never mix
    spaces (as upstream's batch sampler), each space's cells are permuted and cut
    separately and the batches are then shuffled -- a batch of 7-node NB101 cells is then
    never padded to a 22-node DARTS graph, and BatchNorm statistics and pairwise losses are
    per space.
    """
    rng = np.random.default_rng([seed, epoch])
    spaces = np.unique(space_id)
    if len(spaces) == 1:
        order = rng.permutation(len(space_id))
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    chunks = []
    for s in spaces:
        order = rng.permutation(np.flatnonzero(space_id == s))
        chunks += [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    return [chunks[i] for i in rng.permutation(len(chunks))]


# ============================================================================ losses

def batch_loss(scores: torch.Tensor, y: torch.Tensor, space_id: torch.Tensor, config: TrainConfig) -> torch.Tensor:
    """Loss of one batch.

    Args:
        scores: ``(B,)`` predictions; y: ``(B,)`` standardised labels; space_id: ``(B,)``.

    Returns:
        scalar: MSE, or the mean pairwise loss over ordered pairs ``(i, j)`` of the same
        space with ``y_i > y_j`` (logistic ``log(1 + exp(-(s_i - s_j)))`` or hinge
        ``max(0, margin - (s_i - s_j))``); 0 (with a gradient) if the batch has no pair.
    """
    if config.loss == "mse":
        return F.mse_loss(scores, y)
    ds = scores[:, None] - scores[None, :]
    valid = (y[:, None] > y[None, :]) & (space_id[:, None] == space_id[None, :])
    if not bool(valid.any()):
        return scores.sum() * 0.0
    ds = ds[valid]
    if config.pairwise == "logistic":
        return F.softplus(-ds).mean()
    return F.relu(config.margin - ds).mean()


# ============================================================================ evaluation

@torch.inference_mode()
def predict_graphs(net: TGNASPredictorNet, graphs: GraphSet, table: torch.Tensor,
                   batch_size: int = EVAL_BATCH, device: torch.device | str = "cpu",
                   size: np.ndarray | None = None) -> np.ndarray:
    """Scores ``(M,)`` float64 of a GraphSet; ``table`` ``(V, F)`` rows for ``graphs.vocab``;
    ``size`` ``(M, S)`` size features for a size-aware net."""
    was_training = net.training
    net.eval()
    maker = BatchMaker(graphs, device)
    table = table.to(device)
    sz = None if size is None else torch.as_tensor(np.asarray(size), dtype=torch.float32, device=device)
    out = [net.forward_indexed(b.ops, table, b.adj, b.mask,
                               None if sz is None else sz[start:start + batch_size])
           for start, b in zip(range(0, len(graphs), batch_size), maker.batches(batch_size))]
    net.train(was_training)
    return torch.cat(out).double().cpu().numpy() if out else np.zeros(0)


def _table_for(vocab: Sequence[str], known_vocab: Sequence[str], known_table: torch.Tensor,
               embed_fn: EmbedFn) -> torch.Tensor:
    index = {op: i for i, op in enumerate(known_vocab)}
    missing = [op for op in vocab if op not in index]
    extra = torch.as_tensor(np.asarray(embed_fn(missing)), dtype=torch.float32) if missing else None
    rows = []
    for op in vocab:
        rows.append(known_table[index[op]] if op in index else extra[missing.index(op)])
    return torch.stack(rows)


# ============================================================================ checkpoint

def load_checkpoint(path: Path | str) -> dict:
    """Read and check a predictor checkpoint (``weights_only=True``, digest verified).

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError (:class:`~tgnas.checkpoints.CheckpointError`): the file is not a torch file,
            holds pickled objects, is damaged (digest), is not a tgnas predictor checkpoint, or
            lacks required keys (the message names them).
    """
    path = Path(path)
    ckpt = load_checkpoint_file(path, "predictor checkpoint")
    if ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a tgnas predictor checkpoint (expected format "
                              f"{CHECKPOINT_FORMAT!r}, found {shorten(ckpt.get('format'))})")
    if ckpt.get("format_version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path}: checkpoint format version {shorten(ckpt.get('format_version'))}, "
                              f"this tgnas reads {CHECKPOINT_VERSION}")
    required = ("config", "vocab", "embedding_table", "in_dim", "label_stats", "epoch", "history",
                "model_state", "optimizer_state", "scheduler_state", "rng_state", "best")
    missing = [k for k in required if k not in ckpt]
    if missing:
        raise CheckpointError(f"{path}: predictor checkpoint lacks keys {missing}")
    _check_vocab_and_table(ckpt, path)
    return ckpt


def _check_vocab_and_table(ckpt: dict, path: Path) -> None:
    """The operator vocabulary, its ``(V, in_dim)`` embedding table (finite: a NaN row gives
    NaN scores), and the configs and weights are of the types the predictor reads."""
    vocab, table, in_dim = ckpt["vocab"], ckpt["embedding_table"], ckpt["in_dim"]
    if not isinstance(vocab, (list, tuple)) or not all(isinstance(op, str) for op in vocab) \
            or len(set(vocab)) != len(vocab):
        raise CheckpointError(f"{path}: vocab must be a list of distinct operator names, got "
                              f"{shorten(vocab, 80)}")
    if isinstance(in_dim, bool) or not isinstance(in_dim, int) or in_dim < 1:
        raise CheckpointError(f"{path}: in_dim must be a positive integer, got {shorten(in_dim, 40)}")
    if not isinstance(table, torch.Tensor) or not table.is_floating_point() \
            or tuple(table.shape) != (len(vocab), in_dim):
        got = tuple(table.shape) if isinstance(table, torch.Tensor) else type(table).__name__
        raise CheckpointError(f"{path}: embedding_table must be a float tensor of shape (len(vocab), in_dim) = "
                              f"({len(vocab)}, {in_dim}), got {got}")
    check_finite({"embedding_table": table}, f"predictor checkpoint {path}")
    for key in ("config", "best"):
        if not isinstance(ckpt[key], dict):
            raise CheckpointError(f"{path}: {key} must be a dict, got {type(ckpt[key]).__name__}")
    lacking = [k for k in ("epoch", "val_score", "model_state") if k not in ckpt["best"]]
    if lacking:
        raise CheckpointError(f"{path}: best lacks keys {lacking}")
    for where, state in (("model_state", ckpt["model_state"]), ("best.model_state", ckpt["best"].get("model_state"))):
        if state is not None and not (isinstance(state, dict) and all(isinstance(v, torch.Tensor)
                                                                      for v in state.values())):
            raise CheckpointError(f"{path}: {where} must be a dict of tensors, got {type(state).__name__}")


# ============================================================================ training

def _make_scheduler(opt: torch.optim.Optimizer, config: TrainConfig):
    if config.schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    if config.schedule == "step":
        return torch.optim.lr_scheduler.StepLR(opt, step_size=config.step_size, gamma=config.gamma)
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda epoch: 1.0)


def _validate(net, split: _Split, table_fn, device, batch_size: int) -> tuple[dict, dict]:
    taus, rhos = {}, {}
    for space, (graphs, y, size) in split.val.items():
        s = predict_graphs(net, graphs, table_fn(graphs.vocab), batch_size, device, size)
        taus[space], rhos[space] = kendall_tau(s, y), spearman_rho(s, y)
    return taus, rhos


@dataclass
class _Inputs:
    """What a run trains and validates on."""

    split: _Split
    table: torch.Tensor          # (V, D) embeddings of split.train.vocab
    embed_fn: EmbedFn
    monitor: tuple[GraphSet, torch.Tensor, np.ndarray, np.ndarray | None] | None  # NB201 graphs, table, labels, size

    @property
    def vocab(self) -> tuple[str, ...]:
        return tuple(self.split.train.vocab)

    def table_for(self, vocab: Sequence[str]) -> torch.Tensor:
        return _table_for(vocab, self.vocab, self.table, self.embed_fn)


@dataclass
class _State:
    """Everything a checkpoint restores: the model, its optimiser and the run's progress."""

    net: TGNASPredictorNet
    opt: torch.optim.Optimizer
    sched: torch.optim.lr_scheduler.LRScheduler
    averaged: AveragedModel | None
    history: list[dict] = field(default_factory=list)
    best: dict = field(default_factory=lambda: {"epoch": 0, "val_score": -math.inf, "model_state": None})
    epoch: int = 0
    stopped_early: bool = False


def _prepare_inputs(config: TrainConfig, data: Sequence[SpaceData] | None, embed_fn: EmbedFn | None) -> _Inputs:
    if data is None:
        data = [load_space_data(s, graph_form=config.graph_form,
                                nb301_surrogate_samples=config.nb301_surrogate_samples, seed=config.seed,
                                size=config.size_features)
                for s in config.train_spaces]
    names = tuple(d.space for d in data)
    if names != config.train_spaces:
        raise ValueError(f"data is for spaces {names}, config.train_spaces is {config.train_spaces}")
    embed_fn = embed_fn or default_embed_fn(config)
    split = _split(data, config)
    vocab = split.train.vocab
    table = torch.as_tensor(np.asarray(embed_fn(vocab)), dtype=torch.float32)
    if table.ndim != 2 or table.shape[0] != len(vocab):
        raise ValueError(f"embed_fn returned shape {tuple(table.shape)}, expected ({len(vocab)}, D)")
    inputs = _Inputs(split, table, embed_fn, None)
    if config.monitor_nb201:
        nb201 = load_space_data("nb201", graph_form=config.graph_form, size=config.size_features)
        inputs.monitor = (nb201.graphs, inputs.table_for(nb201.graphs.vocab), nb201.labels, nb201.size)
    return inputs


def _new_state(config: TrainConfig, in_dim: int, device: torch.device) -> _State:
    set_seed(config.seed)
    net = TGNASPredictorNet(in_dim, config.gcn, size_dim(config)).to(device)
    # fused: one kernel for all parameters (CPU and CUDA); ~15 % faster steps with this small net
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                            fused=device.type in ("cpu", "cuda"))
    # use_buffers: BatchNorm running statistics are averaged too (no extra pass over the data)
    averaged = AveragedModel(net, use_buffers=True) if config.average_from else None
    return _State(net, opt, _make_scheduler(opt, config), averaged)


def _restore(state: _State, out: Path, config: TrainConfig, vocab: Sequence[str]) -> None:
    """Load the checkpoint at ``out`` into ``state`` (after checking it is this run's)."""
    ckpt = load_checkpoint(out)
    stored = TrainConfig.from_dict(ckpt["config"])
    if stored != config:
        diff = {k: (getattr(stored, k), getattr(config, k)) for k in (f.name for f in fields(TrainConfig))
                if getattr(stored, k) != getattr(config, k)}
        raise ValueError(f"cannot resume {out}: config differs (stored, given): {diff}")
    if list(ckpt["vocab"]) != list(vocab):
        raise ValueError(f"cannot resume {out}: vocabulary {ckpt['vocab']} differs from {list(vocab)}")
    state.net.load_state_dict(ckpt["model_state"])
    state.opt.load_state_dict(ckpt["optimizer_state"])
    state.sched.load_state_dict(ckpt["scheduler_state"])
    torch.set_rng_state(ckpt["rng_state"]["torch"])
    state.history = list(ckpt["history"])
    state.best = dict(ckpt["best"])
    state.epoch = int(ckpt["epoch"])
    state.stopped_early = bool(ckpt.get("stopped_early", False))
    if state.averaged is not None and ckpt.get("average") is not None:
        state.averaged.module.load_state_dict(ckpt["average"]["state"])
        state.averaged.n_averaged.fill_(int(ckpt["average"]["n"]))


@dataclass
class _OnDevice:
    """The training split on the device, built once per run."""

    maker: BatchMaker
    table: torch.Tensor  # (V, D)
    y: torch.Tensor      # (M_train,) standardised labels
    space_id: torch.Tensor  # (M_train,)
    size: torch.Tensor | None  # (M_train, S) size features

    @classmethod
    def of(cls, inputs: _Inputs, device: torch.device) -> _OnDevice:
        split = inputs.split
        size = None if split.train_size is None else torch.as_tensor(split.train_size, dtype=torch.float32,
                                                                      device=device)
        return cls(BatchMaker(split.train, device), inputs.table.to(device),
                   torch.as_tensor(split.train_y, dtype=torch.float32, device=device),
                   torch.as_tensor(split.train_space, device=device), size)


def _batch_weights(batches: Sequence[np.ndarray], train_space: np.ndarray, config: TrainConfig) -> list[float]:
    """Loss weight of each batch: 1, or with ``balance_spaces`` ``B / (S * B_s)`` for a batch of
    search space s (``B`` batches in all, ``S`` spaces, ``B_s`` batches of s)."""
    if not config.balance_spaces:
        return [1.0] * len(batches)
    group_of = [split_name(n)[0] for n in config.train_spaces]
    groups = [group_of[int(train_space[b[0]])] for b in batches]
    counts = {g: groups.count(g) for g in set(groups)}
    return [len(batches) / (len(counts) * counts[g]) for g in groups]


def _train_epoch(state: _State, inputs: _Inputs, dev: _OnDevice, config: TrainConfig, device: torch.device,
                 progress: bool) -> float:
    """One pass over the training split; returns the mean training loss."""
    state.net.train()
    batches = epoch_batches(inputs.split.train_space, config.batch_size, config.seed, state.epoch)
    weights = _batch_weights(batches, inputs.split.train_space, config)
    total, count = 0.0, 0
    bar = tqdm(batches, desc=f"epoch {state.epoch + 1}/{config.epochs}", disable=not progress, leave=False,
               mininterval=1.0)
    for k, chunk in enumerate(bar):
        idx = torch.from_numpy(chunk).to(device)
        b = dev.maker.batch(idx)
        scores = state.net.forward_indexed(b.ops, dev.table, b.adj, b.mask,
                                           None if dev.size is None else dev.size[idx])
        loss = batch_loss(scores, dev.y[idx], dev.space_id[idx], config) * weights[k]
        state.opt.zero_grad(set_to_none=True)
        loss.backward()
        state.opt.step()
        total += float(loss.detach()) * len(idx)
        count += len(idx)
        bar.set_postfix(loss=f"{total / count:.4f}", refresh=False)
    bar.close()
    state.sched.step()
    return total / max(count, 1)


def _epoch_record(state: _State, inputs: _Inputs, config: TrainConfig, device: torch.device,
                  train_loss: float, lr: float, t0: float, train_time: float) -> tuple[dict, nn.Module]:
    """Validate after an epoch (the running average once it started); the record and the net used."""
    eval_net = state.net
    if state.averaged is not None and state.epoch + 1 >= config.average_from:
        state.averaged.update_parameters(state.net)
        eval_net = state.averaged.module
    taus, rhos = _validate(eval_net, inputs.split, inputs.table_for, device, EVAL_BATCH)
    rec = {"epoch": state.epoch + 1, "train_loss": train_loss, "lr": lr,
           "val_tau": taus, "val_rho": rhos, "val_score": float(np.mean(list(taus.values()))),
           "train_time_s": train_time, "time_s": time.perf_counter() - t0, "monitor": {},
           "averaged": eval_net is not state.net}
    if inputs.monitor is not None:
        graphs, table, labels, size = inputs.monitor
        s = predict_graphs(eval_net, graphs, table, EVAL_BATCH, device, size)
        # Monitor only: recorded for curves, never read by selection or stopping.
        rec["monitor"] = {"nb201_cifar10_tau": kendall_tau(s, labels),
                          "nb201_cifar10_rho": spearman_rho(s, labels)}
    return rec, eval_net


def _checkpoint(state: _State, inputs: _Inputs, config: TrainConfig) -> dict:
    """The checkpoint dict: tensors and plain values only (loadable with ``weights_only=True``)."""
    return {
        "format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION, "tgnas_version": __version__,
        "config": config.to_dict(), "vocab": list(inputs.vocab), "embedding_table": inputs.table.clone(),
        "in_dim": int(inputs.table.shape[1]),
        "label_stats": {k: [float(m), float(s)] for k, (m, s) in inputs.split.label_stats.items()},
        "epoch": state.epoch, "history": state.history, "stopped_early": state.stopped_early,
        "model_state": {k: v.detach().cpu() for k, v in state.net.state_dict().items()},
        "optimizer_state": state.opt.state_dict(), "scheduler_state": state.sched.state_dict(),
        "rng_state": {"torch": torch.get_rng_state()}, "best": state.best,
        "average": None if state.averaged is None else {
            "state": {k: v.detach().cpu() for k, v in state.averaged.module.state_dict().items()},
            "n": int(state.averaged.n_averaged)},
    }


def train(config: TrainConfig, out: Path | str, *, resume: bool = False, device: str | torch.device = "cpu",
          data: Sequence[SpaceData] | None = None, embed_fn: EmbedFn | None = None,
          progress: bool = True, max_epochs_this_run: int | None = None, overwrite: bool = True) -> TrainResult:
    """Train (or resume training) a predictor and checkpoint it to ``out`` after every epoch.

    Args:
        config: the run.
        out: checkpoint file (absolute, or relative to ``tgnas.paths.OUTPUT_ROOT``).
        resume: continue from the checkpoint at ``out``; its config must equal ``config``.
        device: ``"cpu"``, ``"cuda"``, ``"auto"``...; bit-for-bit resume holds on CPU.
        data: preloaded :class:`SpaceData` per training space (default: load
            ``config.train_spaces`` with :func:`load_space_data`); names must match.
        embed_fn: ``vocab -> (V, D)`` node features (default :func:`default_embed_fn`).
        progress: tqdm bar per epoch.
        max_epochs_this_run: stop after this many epochs *in this call* (the checkpoint can
            be resumed later); None = until ``config.epochs`` or early stopping.
        overwrite: without ``resume``, may an existing file at ``out`` be replaced? (checked
            before any data is loaded; ``tgnas train`` passes False unless ``--overwrite``).

    Returns:
        :class:`TrainResult`.
    """
    out = Path(out)
    if not out.is_absolute():
        out = paths.OUTPUT_ROOT / out
    check_output(out, overwrite=resume or overwrite, what="predictor checkpoint")
    device = resolve_device(device)
    inputs = _prepare_inputs(config, data, embed_fn)
    state = _new_state(config, inputs.table.shape[1], device)
    if resume:
        _restore(state, out, config, inputs.vocab)
    on_device = _OnDevice.of(inputs, device)
    epochs_run = 0
    while state.epoch < config.epochs and not state.stopped_early:
        if max_epochs_this_run is not None and epochs_run >= max_epochs_this_run:
            break
        t0 = time.perf_counter()
        lr = state.opt.param_groups[0]["lr"]
        train_loss = _train_epoch(state, inputs, on_device, config, device, progress)
        rec, eval_net = _epoch_record(state, inputs, config, device, train_loss, lr, t0,
                                      time.perf_counter() - t0)
        state.history.append(rec)
        if eval_net is not state.net or rec["val_score"] > state.best["val_score"]:  # an average replaces the best
            state.best = {"epoch": state.epoch + 1, "val_score": rec["val_score"],
                          "model_state": {k: v.detach().cpu().clone() for k, v in eval_net.state_dict().items()}}
        state.epoch += 1
        epochs_run += 1
        if config.patience and state.epoch - state.best["epoch"] >= config.patience:
            state.stopped_early = True
        if progress:
            mon = "".join(f" {k}={v:.4f}" for k, v in rec["monitor"].items())
            tqdm.write(f"epoch {state.epoch}/{config.epochs}: loss {rec['train_loss']:.4f} val tau "
                       + " ".join(f"{k}={v:.4f}" for k, v in rec["val_tau"].items())
                       + f" ({rec['time_s']:.1f} s){mon}" + ("  [early stop]" if state.stopped_early else ""))
        save_checkpoint(_checkpoint(state, inputs, config), out)
    return TrainResult(out, state.history, int(state.best["epoch"]), float(state.best["val_score"]),
                       state.stopped_early)


def parse_candidates(text: str, base: TrainConfig) -> list[TrainConfig]:
    """``"minilm:short:upstream; onehot:short:paper"`` -> one TrainConfig per candidate.

    Each candidate is ``embedding_model:length:gcn_preset``; every other field comes from
    ``base``. An empty string gives ``[base]``.
    """
    out = []
    for item in (t.strip() for t in text.split(";")):
        if not item:
            continue
        parts = item.split(":")
        if len(parts) != 3:
            raise ValueError(f"candidate {item!r} must be 'model:length:gcn', e.g. 'minilm:short:upstream'")
        model, length, gcn = parts
        out.append(replace(base, embedding_model=model, length=length, gcn=gcn_preset(gcn)))
    return out or [base]


def select_by_validation(configs: Sequence[TrainConfig], out_dir: Path | str, **train_kwargs
                         ) -> tuple[int, list[TrainResult]]:
    """Train every config and pick the one with the best training-space validation score.

    All configs must share the data split (``train_spaces``, ``fraction``, ``val_fraction``,
    ``seed``), so that they are compared on the same validation cells. Checkpoints go to
    ``out_dir/candidate_<i>.pt``.

    Returns:
        (index of the best config, the TrainResult of every config).
    """
    configs = list(configs)
    if not configs:
        raise ValueError("select_by_validation needs at least one config")
    keys = ("train_spaces", "fraction", "val_fraction", "seed")
    for c in configs[1:]:
        diff = [k for k in keys if getattr(c, k) != getattr(configs[0], k)]
        if diff:
            raise ValueError(f"candidates must share the data split; they differ in {diff}")
    out_dir = Path(out_dir)
    results = [train(c, out_dir / f"candidate_{i}.pt", **train_kwargs) for i, c in enumerate(configs)]
    best = max(range(len(results)), key=lambda i: results[i].best_val_score)
    return best, results


__all__ = ["TrainConfig", "TrainResult", "train", "batch_loss", "predict_graphs", "load_checkpoint",
           "set_seed", "resolve_device", "default_embed_fn", "parse_candidates",
           "select_by_validation", "used_cells"]
