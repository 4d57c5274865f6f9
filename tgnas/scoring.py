"""Score anyone's architectures: the Python API that ``tgnas score`` wraps.

    >>> import tgnas
    >>> tgnas.score(["Genotype(normal=[...], ...)"], space="darts")             # shipped predictor
    >>> tgnas.score(genotypes, space="darts", plus=True)                         # TG-NAS+

Architectures are texts of the space (or its architecture objects, or, for the generic
``cell`` space, JSON objects). With ``checkpoint=None`` the predictor shipped with the
package scores them (:mod:`tgnas.pretrained`), and TG-NAS+ uses the rule shipped with it.

TG-NAS+ maps each signal (predictor score, #params, lite NASWOT, lite synflow) to a normal
score before the rule's weighted sum. Two normalisations (``normalise=``):

* ``"reference"`` (default): against the space's reference population stored in the rule
  (a seeded sample of the space, or its whole benchmark, computed with the same lite-proxy
  settings), so a cell's score does not depend on what else is scored;
* ``"within"``: ranks within the scored set (needs :data:`MIN_WITHIN` architectures or more);
  no reference needed, but a score is only comparable within one call.

Long inputs stream: :func:`score_stream` parses and scores :data:`BATCH` architectures at a
time, caching each distinct text's graph (files of architectures repeat cells).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tgnas.cellgraph import CellGraph
from tgnas.graph_forms import to_form
from tgnas.graphs import GraphSet
from tgnas.proxies.az_nas import AZ_COMPONENTS
from tgnas.proxies.az_nas_lite import AZ_SIGNALS
from tgnas.spaces.base import Space
from tgnas.spaces.catalog import SPACES, get_space

__all__ = ["score", "score_stream", "load_predictor", "load_rule", "plus_signals", "reference_table",
           "ScoreStats", "NORMALISATIONS", "MIN_WITHIN", "BATCH", "SIGNAL_COLUMNS", "DEFAULT_SIGNALS",
           "KNOWN_SIGNALS", "LITE_SIGNALS", "AZ_SIGNALS"]

#: TG-NAS+ normalisations (see the module docstring).
NORMALISATIONS: tuple[str, ...] = ("reference", "within")
#: Fewest architectures ``normalise="within"`` ranks.
MIN_WITHIN = 100
#: Architectures parsed and scored together when streaming.
BATCH = 4096
#: Lite NASWOT and synflow (:mod:`tgnas.proxies.lite`), computed on one network.
LITE_SIGNALS: tuple[str, ...] = ("naswot", "synflow")
#: Every signal a TG-NAS+ rule may combine.
KNOWN_SIGNALS: tuple[str, ...] = ("tgnas", "params", *LITE_SIGNALS, *AZ_SIGNALS)
#: The signals of the first TG-NAS+ rules (what :func:`plus_signals` computes by default).
DEFAULT_SIGNALS: tuple[str, ...] = ("tgnas", "params", *LITE_SIGNALS)
#: Signal columns of TG-NAS+ results with the default signals (before ``score``); a rule with
#: other signals gives its own ``signals`` and ``seconds``.
SIGNAL_COLUMNS: tuple[str, ...] = (*DEFAULT_SIGNALS, "seconds")
#: Distinct texts whose graphs are kept per call (a file of repeated cells converts each once).
_GRAPH_CACHE = 20_000

_PREDICTORS: dict[tuple, Any] = {}


def _checkpoint_path(checkpoint: Path | str | None) -> Path:
    if checkpoint is None:
        from tgnas.pretrained import default_checkpoint
        return default_checkpoint()
    return Path(checkpoint).expanduser().resolve()


def load_predictor(checkpoint: Path | str | None = None, device: str = "cpu"):
    """The :class:`~tgnas.predictor.Predictor` of ``checkpoint`` (``None``: the shipped one),
    loaded once per process (digest checked at load)."""
    from tgnas.predictor import Predictor
    path = _checkpoint_path(checkpoint)
    key = (str(path), path.stat().st_mtime_ns if path.is_file() else 0, device)
    if key not in _PREDICTORS:
        _PREDICTORS[key] = Predictor.load(path, device=device)
    return _PREDICTORS[key]


def load_rule(rule: Path | str | None, checkpoint: Path | str | None):
    """The TG-NAS+ rule (``None``: the one shipped beside the shipped predictor, or, for another
    checkpoint, ``tgnas.paths.PLUS_RULE``), checked to belong to ``checkpoint``."""
    from tgnas import paths
    from tgnas.plus.rule import PlusRule, check_rule_matches
    ckpt = _checkpoint_path(checkpoint)
    if rule is None:
        from tgnas import pretrained
        rule = pretrained.RULE if checkpoint is None else paths.PLUS_RULE
    rule_path = Path(rule).expanduser().resolve()
    r = PlusRule.load(rule_path)
    check_rule_matches(r, ckpt, rule_path)
    return r


# ------------------------------------------------------------------------- parsing

@dataclass
class _Converter:
    """Text or object -> (graph in the predictor's form, arch, descriptions), cached by text."""

    sp: Space
    form: str
    cache: dict = field(default_factory=dict)

    def __call__(self, item: Any):
        if isinstance(item, CellGraph):
            return to_form(item, self.form), item, ()
        key = item if isinstance(item, str) else None
        if key is not None and key in self.cache:
            return self.cache[key]
        arch = self.sp.parse(item) if isinstance(item, str) else self.sp.validate(item)
        out = (self.sp.to_graph_form(arch, self.form), arch, self.sp.descriptions_of(arch))
        if key is not None and len(self.cache) < _GRAPH_CACHE:
            self.cache[key] = out
        return out


def _descriptions_of(batch_desc: Iterable[tuple[tuple[str, str], ...]], given: Mapping[str, str]) -> dict[str, str]:
    """Union of per-architecture descriptions and ``given`` (given wins); two different
    texts for one operator within the scored architectures is an error."""
    out: dict[str, str] = {}
    for pairs in batch_desc:
        for op, text in pairs:
            if op in given:
                continue
            if out.setdefault(op, text) != text:
                raise ValueError(f"operator {op!r} is described twice with different texts; give one "
                                 f"description per operator (or --describe {op}=TEXT for all)")
    out.update(given)
    return out


# ------------------------------------------------------------------------- TG-NAS+

def _built(space: Space, archs: Sequence) -> tuple[Space, list]:
    """(the space whose network builds ``archs``, the archs as that space's objects)."""
    built = [space.builds_as(a) for a in archs]
    target = {s.name: s for s, _ in built} or {space.name: space}
    if len(target) != 1:
        raise ValueError(f"TG-NAS+ scores one kind of network per call; these cells build as {sorted(target)}")
    (built_space,) = target.values()
    if not (built_space.provides("build_net") and built_space.provides("size")):
        raise ValueError(f"TG-NAS+ needs a network builder and a size count; space {built_space.name!r} has "
                         f"none (spaces with both: {_plus_spaces()})")
    return built_space, [a for _, a in built]


def _plus_spaces() -> list[str]:
    return [n for n, sp in SPACES.items() if sp.provides("build_net") and sp.provides("size")]


def plus_signals(pred, archs: Sequence, space: Space, tgnas_scores: np.ndarray | None = None,
                 progress: bool = False, signals: Sequence[str] = DEFAULT_SIGNALS, seed: int = 0) -> pd.DataFrame:
    """TG-NAS+ signals of ``archs`` (objects of ``space``): the columns ``signals`` and ``seconds``.

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
    from tgnas.proxies.az_nas_lite import AZ_DEFAULT_LITE, az_lite_images, az_nas_lite_signals
    from tgnas.proxies.lite import DEFAULT_LITE, lite_batch, lite_signals
    signals = _check_signals(signals)
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
    it = built
    if progress:
        from tqdm.auto import tqdm
        it = tqdm(built, desc=f"lite proxies ({built_space.name})", unit="arch")
    want_lite = any(s in signals for s in LITE_SIGNALS)
    want_az = any(s in signals for s in AZ_SIGNALS)
    cfg = replace(DEFAULT_LITE, N=built_space.lite_N, seed=seed)
    az_cfg = replace(AZ_DEFAULT_LITE, N=built_space.lite_N, seed=seed)
    batch = lite_batch(cfg) if want_lite else None
    images = az_lite_images(az_cfg) if want_az else None
    rows = []
    for i, a in enumerate(it):
        r: dict[str, float] = {}
        if want_lite:
            lite = lite_signals(a, built_space, cfg, batch)
            r.update(naswot=lite["naswot"], synflow=lite["synflow"])
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


def reference_table(pred, space: Space, n: int = 500, seed: int = 0, progress: bool = True,
                    signals: Sequence[str] = DEFAULT_SIGNALS) -> pd.DataFrame:
    """Signals of a seeded uniform sample of ``n`` cells of ``space`` (its ``sample``), the
    space's reference population for a rule; lite values cached under
    ``tgnas.paths.LITE_PROXY_DIR``."""
    from tgnas import paths
    from tgnas.proxies.az_nas_lite import AZ_DEFAULT_LITE, az_nas_lite_table
    from tgnas.proxies.lite import DEFAULT_LITE, lite_table
    signals = _check_signals(signals)
    sp = space
    rng = np.random.default_rng(seed)
    archs = [sp.sample(rng) for _ in range(n)]
    texts = [sp.format(a) for a in archs]
    out: dict[str, Any] = {}
    if "tgnas" in signals:
        out["tgnas"] = pred.score(archs, space=space)
    if "params" in signals:
        out["params"] = sp.size(archs)
    if any(s in signals for s in LITE_SIGNALS):
        cfg = replace(DEFAULT_LITE, N=sp.lite_N)
        lite = lite_table(texts, space, cfg, progress=progress,
                          out=paths.LITE_PROXY_DIR / f"{sp.name}_reference_{cfg.key()}_n{n}_seed{seed}.npz")
        out.update({s: lite[s].to_numpy() for s in LITE_SIGNALS})
    if any(s in signals for s in AZ_SIGNALS):
        cfg = replace(AZ_DEFAULT_LITE, N=sp.lite_N)
        az = az_nas_lite_table(texts, space, cfg, progress=progress,
                               out=paths.LITE_PROXY_DIR / f"{sp.name}_reference_az_nas_{cfg.key()}_n{n}_seed{seed}.npz")
        # -inf (a degenerate component) is the lowest value; a reference needs finite quantiles
        from tgnas.plus.rule import floor_neg_inf
        out.update({s: floor_neg_inf(az[c].to_numpy()) for s, c in zip(AZ_SIGNALS, AZ_COMPONENTS)})
    return pd.DataFrame({s: out[s] for s in signals})


def _check_signals(signals: Sequence[str]) -> tuple[str, ...]:
    signals = tuple(signals)
    unknown = [s for s in signals if s not in KNOWN_SIGNALS]
    if unknown or not signals:
        raise ValueError(f"unknown TG-NAS+ signal(s) {unknown or '(none given)'}; expected some of {list(KNOWN_SIGNALS)}")
    return signals


def _combine(rule, table: pd.DataFrame, space: Space, normalise: str) -> np.ndarray:
    """``(M,)`` TG-NAS+ scores of a signal table."""
    from tgnas.plus.rule import normal_scores
    from tgnas.plus.rule import floor_neg_inf
    if normalise == "reference":
        # generic cells are scored against the population of the space that builds them
        return rule.score(table, space.reference_space().name)
    if len(table) < MIN_WITHIN:
        raise ValueError(f"normalise='within' ranks within the scored set and needs >= {MIN_WITHIN} "
                         f"architectures, got {len(table)}; use normalise='reference'")
    z = np.column_stack([normal_scores(floor_neg_inf(table[s].to_numpy())) for s in rule.signals])
    return z @ rule.weights


# ------------------------------------------------------------------------- scoring

@dataclass
class ScoreStats:
    """What :func:`score_stream` did: ``scored``, ``skipped`` (bad inputs skipped) and the
    first few skipped ones as ``(id, message)``."""

    scored: int = 0
    skipped: int = 0
    examples: list = field(default_factory=list)


def _check_normalise(normalise: str) -> None:
    if normalise not in NORMALISATIONS:
        raise ValueError(f"unknown normalise {normalise!r}; expected one of {list(NORMALISATIONS)}")


def score_stream(items: Iterable[tuple[Any, Any]], space: str | Space, checkpoint: Path | str | None = None,
                 plus: bool = False, rule: Path | str | None = None, normalise: str = "reference",
                 descriptions: Mapping[str, str] | None = None, skip_bad: bool = False,
                 batch: int = BATCH, batch_size: int = 1024, device: str = "cpu",
                 stats: ScoreStats | None = None, progress: bool = False) -> Iterator[pd.DataFrame]:
    """Score ``(id, architecture[, where])`` records in batches; yields one DataFrame per batch.

    ``where`` (e.g. ``"archs.txt line 7"``) is how errors name the record; an architecture
    that is a ``ValueError`` instance is a record the reader could not read (bad JSON line).

    Each frame has ``id``, then (TG-NAS+) :data:`SIGNAL_COLUMNS`, then ``score``. A bad
    architecture raises ``ValueError`` naming its id (a line number for files) and the
    problem, unless ``skip_bad`` (then it is counted in ``stats``). ``normalise="within"``
    needs every score first, so it yields one frame at the end.

    Raises:
        ValueError: bad input (see above), an unknown space or normalisation, a described
            operator that occurs in no scored architecture, a rule for another checkpoint.
    """
    _check_normalise(normalise)
    space = get_space(space) if isinstance(space, str) else space
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    stats = stats if stats is not None else ScoreStats()
    pred = load_predictor(checkpoint, device)
    plus_rule = load_rule(rule, checkpoint) if plus else None
    given = dict(descriptions or {})
    seen_ops: set[str] = set()
    convert = _Converter(space, pred.config.graph_form)
    held: list[pd.DataFrame] = []

    def run(ids: list, graphs: list, archs: list, descs: list) -> pd.DataFrame:
        gs = GraphSet.from_graphs(graphs)
        seen_ops.update(gs.vocab)
        desc = _descriptions_of(descs, given)
        desc = {op: t for op, t in desc.items() if op in gs.vocab}
        scores = pred.score(gs, batch_size=batch_size, descriptions=desc or None)
        frame = pd.DataFrame({"id": ids})
        if plus_rule is not None:
            table = plus_signals(pred, archs, space, tgnas_scores=scores, progress=progress,
                                 signals=plus_rule.signals)
            for c in (*plus_rule.signals, "seconds"):
                frame[c] = table[c].to_numpy()
            if normalise == "reference":
                frame["score"] = _combine(plus_rule, table, space, normalise)
        else:
            frame["score"] = scores
        stats.scored += len(frame)
        return frame

    ids: list = []
    graphs: list = []
    archs: list = []
    descs: list = []
    for record in items:
        ident, item = record[0], record[1]
        try:
            if isinstance(item, BaseException):  # the reader's own error (bad CSV row, bad JSON line)
                raise item
            g, arch, d = convert(item)
        except ValueError as e:
            where = record[2] if len(record) > 2 else f"architecture {ident!r}"
            if not skip_bad:
                raise ValueError(f"{where}: {e}") from None
            stats.skipped += 1
            if len(stats.examples) < 5:
                stats.examples.append((where, str(e)))
            continue
        ids.append(ident)
        graphs.append(g)
        archs.append(arch)
        descs.append(d)
        if len(ids) >= batch:
            frame = run(ids, graphs, archs, descs)
            ids, graphs, archs, descs = [], [], [], []
            if normalise == "within" and plus:
                held.append(frame)
            else:
                yield frame
    if ids:
        frame = run(ids, graphs, archs, descs)
        if normalise == "within" and plus:
            held.append(frame)
        else:
            yield frame
    if stats.scored == 0:
        raise ValueError("nothing to score: no architecture in the input"
                         + (f" ({stats.skipped} bad ones skipped)" if stats.skipped else ""))
    unused = sorted(set(given) - seen_ops)
    if unused:
        raise ValueError(f"described operator(s) {unused} occur in no scored architecture, whose operators are "
                         f"{sorted(seen_ops)}; check the spelling")
    if held:
        allf = pd.concat(held, ignore_index=True)
        allf["score"] = _combine(plus_rule, allf, space, "within")
        yield allf


def score(archs: Iterable[Any] | str, space: str | Space, checkpoint: Path | str | None = None, plus: bool = False,
          rule: Path | str | None = None, normalise: str = "reference",
          descriptions: Mapping[str, str] | None = None, batch_size: int = 1024, device: str = "cpu") -> pd.DataFrame:
    """Score architectures of ``space`` with a trained predictor (or TG-NAS+).

    Args:
        archs: texts of the space (DARTS genotype strings, NB201 strings, NB101 strings,
            JSON cells), the space's objects, :class:`~tgnas.spaces.base.CellGraph` s, or
            (``space="cell"``) dicts.
        space: a catalog space's name (``"nb101"``, ``"nb201"``, ``"darts"``, ``"cell"``, ...) or object.
        checkpoint: a predictor checkpoint; ``None``: the predictor shipped with tgnas.
        plus: TG-NAS+ (predictor + #params + lite NASWOT/synflow under the rule's weights).
        rule: the TG-NAS+ rule file (``None``: the one belonging to the default checkpoint).
        normalise: ``"reference"`` or ``"within"`` (see the module docstring).
        descriptions: ``{op: text}`` for operators without a built-in description.

    Returns:
        DataFrame, one row per architecture in input order: ``score`` (higher = predicted
        better) and, with ``plus``, the signals :data:`SIGNAL_COLUMNS` before it.
    """
    if isinstance(archs, str):
        archs = [archs]
    frames = list(score_stream(((i, a, f"archs[{i}]") for i, a in enumerate(archs)), space, checkpoint=checkpoint, plus=plus, rule=rule,
                               normalise=normalise, descriptions=descriptions, batch_size=batch_size,
                               device=device))
    out = pd.concat(frames, ignore_index=True).set_index("id")
    out.index.name = None
    return out
