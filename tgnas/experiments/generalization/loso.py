"""Leave-one-space-out: train on every space but one, evaluate on the one left out.

For each held-out space H (:data:`~.targets.HELD_OUT_SPACES`) and each predictor variant, a
predictor is trained on every labelled task of the other spaces (:func:`training_names`) and
scores every target of H; 5 seeds. Nothing about H -- labels, hyperparameters, weights -- enters
what scores H: the variants are fixed in advance (:func:`variants`), and TG-NAS+ weights for H are
fitted on the other spaces' targets with predictor scores from models that saw neither H nor
the fitted space (:mod:`.plus_loso`).

Results are appended, one JSON line per finished (variant, held-out space, seed), to a progress
file, so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from tgnas.experiments.generalization.targets import HELD_OUT_SPACES, Target
from tgnas.metrics import kendall_tau, precision_at_top, spearman_rho
from tgnas.predictor import TrainConfig
from tgnas.predictor.data import SpaceData, canonical_train_name, load_space_data
from tgnas.predictor.predictor import Predictor
from tgnas.predictor.presets import train_preset
from tgnas.predictor.train import train
from tgnas.spaces.catalog import get_space

#: Share of the top architectures whose precision is reported.
TOP_FRACTION = 0.10


def training_names(exclude: Sequence[str]) -> tuple[str, ...]:
    """Every labelled task of the held-out spaces other than ``exclude``, as training names."""
    names = []
    for space in HELD_OUT_SPACES:
        if space in exclude:
            continue
        names += [canonical_train_name(f"{space}:{task}") for task in get_space(space).datasets]
    return tuple(names)


def variants(fraction: float, epochs: int) -> dict[str, TrainConfig]:
    """The predictor variants, written down before any result (``train_spaces`` is set per
    held-out space). Each changes one thing against ``graph+size``:

    * ``graph``: the ``pure`` preset (the pipeline's predictor) at this scale;
    * ``graph+size``: the same with the learnt size term (:mod:`tgnas.predictor.size`);
    * ``graph+size balanced``: every training space weighs the same in the loss (``balance_spaces``);
    * ``graph+size full``: NB201/DARTS graphs in the ``full`` form (``none`` edges kept as nodes);
    * ``graph+size mse``: regression on standardised labels instead of the pairwise loss;
    * ``graph+size without nb201``: NB201 is never a training space (:data:`SKIPS`). Added after
      the first screen and the two-spaces-out runs, where every model trained with NB201 ranked
      each other held-out space worse than the same model without it;
    * ``graph without nb201``: the same without the size term (what size adds there);
    * ``graph+size balanced without nb201``: the two changes that helped the first screen
      together (added after it, with the shipped ranker's in-sample fit of the macro tasks).

    Which one is shipped is chosen by the mean held-out tau over all targets (one seed, a screen),
    never by one space.
    """
    pure = replace(train_preset("pure"), fraction=fraction).with_epochs(epochs)
    sized = replace(pure, size_features=True)
    return {"graph": pure, "graph+size": sized, "graph+size balanced": replace(sized, balance_spaces=True),
            "graph+size full": replace(sized, graph_form="full"), "graph+size mse": replace(sized, loss="mse"),
            "graph+size without nb201": sized, "graph without nb201": pure,
            "graph+size balanced without nb201": replace(sized, balance_spaces=True)}


#: Spaces a variant never trains on (on top of the held-out ones).
SKIPS: dict[str, tuple[str, ...]] = {"graph+size without nb201": ("nb201",), "graph without nb201": ("nb201",),
                                     "graph+size balanced without nb201": ("nb201",)}


@lru_cache(maxsize=32)
def _data(name: str, form: str, size: bool) -> SpaceData:
    return load_space_data(name, graph_form=form, size=size)


def train_excluding(config: TrainConfig, exclude: Sequence[str], seed: int, workdir: Path) -> Predictor:
    """Train ``config`` (seed ``seed``) on :func:`training_names` ``(exclude)``; the loaded predictor."""
    names = training_names(exclude)
    cfg = replace(config, train_spaces=names, seed=seed)
    data = [_data(n, cfg.graph_form, cfg.size_features) for n in names]
    out = workdir / f"{'-'.join(sorted(exclude)) or 'none'}_{seed}.pt"
    train(cfg, out, data=data, progress=False, overwrite=True)
    return Predictor.load(out, device="cpu")


def score_target(pred: Predictor, target: Target) -> np.ndarray:
    """``(M,)`` predictor scores of ``target``'s architectures."""
    graphs = target.graphs(pred.config.graph_form)
    return pred.score(graphs, size=target.size() if pred.size_aware else None)


def finite(scores: np.ndarray) -> np.ndarray:
    """``scores`` with NaN and -inf (a proxy that failed on a cell) set below every finite value,
    +inf above; all-non-finite gives zeros (a constant score)."""
    s = np.asarray(scores, dtype=np.float64)
    ok = np.isfinite(s)
    if not ok.any():
        return np.zeros_like(s)
    lo, hi = s[ok].min(), s[ok].max()
    return np.where(ok, s, np.where(s == np.inf, hi + 1.0, lo - 1.0))


def evaluate(scores: np.ndarray, labels: np.ndarray) -> dict[str, float]:
    """Kendall tau, Spearman rho (NaN for a constant score) and precision of the top :data:`TOP_FRACTION`."""
    s = finite(scores)
    if np.all(s == s[0]):  # a proxy that failed on every cell ranks nothing
        return {"tau": float("nan"), "rho": float("nan"), "p_top10": float("nan")}
    policy = {"constant": "nan"}
    return {"tau": kendall_tau(s, labels, **policy), "rho": spearman_rho(s, labels, **policy),
            "p_top10": precision_at_top(s, labels, TOP_FRACTION)}


@dataclass(frozen=True)
class Job:
    """One training run: ``variant`` trained without the spaces ``exclude`` (seed ``seed``),
    evaluated on the targets of ``evaluate`` (a subset of ``exclude``)."""

    variant: str
    exclude: tuple[str, ...]
    seed: int
    evaluate: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.variant}|{'+'.join(self.exclude)}|{self.seed}"


def outer_jobs(names: Sequence[str], seeds: Sequence[int]) -> list[Job]:
    """Leave one space out: each variant, held-out space and seed."""
    return [Job(v, (h,), int(s), (h,)) for v in names for h in HELD_OUT_SPACES for s in seeds]


def inner_jobs(variant: str, seed: int) -> list[Job]:
    """Leave two spaces out (H and T), evaluated on T: the predictor scores that TG-NAS+ fits its
    weights for H on, from models that saw neither H nor T."""
    return [Job(variant, (h, t), int(seed), (t,)) for h in HELD_OUT_SPACES for t in HELD_OUT_SPACES if t != h]


def _done(progress_file: Path) -> dict[str, dict]:
    if not progress_file.is_file():
        return {}
    rows = [json.loads(line) for line in progress_file.read_text().splitlines() if line.strip()]
    return {r["key"]: r for r in rows}


def run_jobs(jobs: Sequence[Job], targets: Sequence[Target], configs: dict[str, TrainConfig],
             progress_file: Path, log: Callable[[str], None] = print) -> dict[str, dict]:
    """Run every job not yet in ``progress_file`` (resume), appending one JSON line each:
    ``key``, ``variant``, ``exclude``, ``seed``, ``train_spaces``, ``metrics`` ``{target: {tau,
    rho, p_top10}}`` and ``scores`` ``{target: [...]}``. Returns every job's record by key."""
    done = _done(progress_file)
    with tempfile.TemporaryDirectory() as tmp:
        for job in jobs:
            if job.key in done:
                continue
            skip = tuple(s for s in SKIPS.get(job.variant, ()) if s not in job.exclude)
            pred = train_excluding(configs[job.variant], job.exclude + skip, job.seed, Path(tmp))
            mine = [t for t in targets if t.space in job.evaluate]
            scores = {t.name: score_target(pred, t) for t in mine}
            rec = {"key": job.key, "variant": job.variant, "exclude": list(job.exclude), "seed": job.seed,
                   "train_spaces": list(training_names(job.exclude + skip)),
                   "metrics": {t.name: evaluate(scores[t.name], t.labels) for t in mine},
                   "scores": {k: [float(x) for x in v] for k, v in scores.items()}}
            with open(progress_file, "a") as fh:
                fh.write(json.dumps(rec) + "\n")
            done[job.key] = rec
            log(f"{job.key}: " + ", ".join(f"{k} {v['tau']:.3f}" for k, v in rec["metrics"].items()))
    return done
