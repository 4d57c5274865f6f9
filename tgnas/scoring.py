"""Score anyone's architectures: the Python API that ``tgnas score`` wraps.

    >>> import tgnas
    >>> tgnas.score(["Genotype(normal=[...], ...)"], space="darts")             # shipped predictor
    >>> tgnas.score(genotypes, space="darts", plus=True)                         # TG-NAS+

Architectures are texts of the space, names of its published architectures
(``space.named_archs``: ``DARTS_V1``, ``DARTS_V2``), its architecture objects, or, for the
generic ``cell`` space, JSON objects. With ``checkpoint=None`` the predictor shipped with the
package scores them (:mod:`tgnas.pretrained`), and TG-NAS+ uses the rule shipped with it.

TG-NAS+ (:mod:`tgnas.plus`) computes the signals its rule names (predictor score, #params,
lite NASWOT/synflow, lite AZ-NAS components; :func:`tgnas.plus.signals.signal_table`) and maps
each to a normal score before the rule's weighted sum, ``normalise=`` ``"reference"``
(default: against the space's reference population stored in the rule, so a cell's score
does not depend on what else is scored) or ``"within"`` (ranks within the scored set, >=
:data:`MIN_WITHIN` architectures; :mod:`tgnas.plus.combine`). Its result has, after the
identifiers, every signal of the rule (``rule.signals``, in order), ``seconds`` (lite cost per
architecture) and ``plus_score`` (:func:`tgnas.plus.combine.output_columns`), as ``tgnas score
--plus`` writes.

Long inputs stream: :func:`score_stream` parses and scores :data:`BATCH` architectures at a
time, caching each distinct text's graph (files of architectures repeat cells).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tgnas.cellgraph import CellGraph
from tgnas.descriptions import DESCRIPTIONS
from tgnas.errors import shorten, unusual_character
from tgnas.graph_forms import to_form
from tgnas.graphs import GraphSet
from tgnas.plus.combine import MIN_WITHIN, NORMALISATIONS, SCORE_COLUMN, check_normalise, combine
from tgnas.plus.signals import signal_table
from tgnas.spaces.base import Space
from tgnas.spaces.catalog import get_space
from tgnas.pretrained import default_checkpoint
from tgnas.predictor import Predictor
from tgnas import paths
from tgnas.plus.rule import load_rule as load_checked_rule
from tgnas import pretrained

__all__ = ["score", "score_stream", "load_predictor", "load_rule", "ScoreStats", "NORMALISATIONS", "MIN_WITHIN",
           "BATCH", "SCORE_COLUMN"]

#: Architectures parsed and scored together when streaming.
BATCH = 4096
#: Distinct texts whose graphs are kept per call (a file of repeated cells converts each once).
_GRAPH_CACHE = 20_000

_PREDICTORS: dict[tuple, Any] = {}


def _checkpoint_path(checkpoint: Path | str | None) -> Path:
    if checkpoint is None:
        return default_checkpoint()
    return Path(checkpoint).expanduser().resolve()


def load_predictor(checkpoint: Path | str | None = None, device: str = "cpu"):
    """The :class:`~tgnas.predictor.Predictor` of ``checkpoint`` (``None``: the shipped one),
    loaded once per process (digest checked at load)."""
    path = _checkpoint_path(checkpoint)
    key = (str(path), path.stat().st_mtime_ns if path.is_file() else 0, device)
    if key not in _PREDICTORS:
        _PREDICTORS[key] = Predictor.load(path, device=device)
    return _PREDICTORS[key]


def load_rule(rule: Path | str | None, checkpoint: Path | str | None):
    """The TG-NAS+ rule (``None``: the one shipped beside the shipped predictor, or, for another
    checkpoint, ``tgnas.paths.PLUS_RULE``), checked to belong to ``checkpoint``."""
    if rule is None:
        rule = pretrained.RULE if checkpoint is None else paths.PLUS_RULE
    return load_checked_rule(rule, _checkpoint_path(checkpoint))


# ------------------------------------------------------------------------- parsing

@dataclass
class _Converter:
    """Text or object -> (graph in the predictor's form, arch, descriptions), cached by text."""

    sp: Space
    form: str
    described: frozenset = frozenset()  # operators the predictor can embed without a text from the input
    cache: dict = field(default_factory=dict)

    def __call__(self, item: Any):
        if isinstance(item, CellGraph):
            return to_form(item, self.form), item, ()
        key = item if isinstance(item, str) else None
        if key is not None and key in self.cache:
            return self.cache[key]
        named = self.sp.named_archs.get(item.strip().upper()) if isinstance(item, str) else None
        if named is not None:  # a published architecture by name (DARTS_V2), as train-final takes it
            arch = self.sp.validate(named)
        else:
            arch = self.sp.parse(item) if isinstance(item, str) else self.sp.validate(item)
        out = (self.sp.to_graph_form(arch, self.form), arch, self.sp.descriptions_of(arch))
        if self.described:
            self._check_described(out[0], out[2])
        if key is not None and len(self.cache) < _GRAPH_CACHE:
            self.cache[key] = out
        return out

    def _check_described(self, graph: CellGraph, own: tuple[tuple[str, str], ...]) -> None:
        """An operator nobody describes is this architecture's error (so ``skip_bad`` skips it),
        found before its batch is embedded."""
        missing = sorted(set(graph.ops) - self.described - {op for op, _ in own})
        if missing:
            odd = "".join(unusual_character(op) for op in missing)
            raise ValueError(f"no description for operator(s) {missing}{odd}: describe each (--describe OP=TEXT, "
                             f"descriptions={{op: text}} in Python, or a cell's \"descriptions\" field)")


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


def _check_id(ident: Any) -> None:
    """An id is written to the output CSV (UTF-8): a lone surrogate (JSON's ``"\\ud800"``, or
    bytes that are not UTF-8 in a command-line argument) cannot be, so it is named here."""
    if isinstance(ident, str) and not ident.isascii():
        try:
            ident.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"its id {shorten(ident)} cannot be written as UTF-8 text"
                             f"{unusual_character(ident)}") from None


# ------------------------------------------------------------------------- scoring

@dataclass
class ScoreStats:
    """What :func:`score_stream` did: ``scored``, ``skipped`` (bad inputs skipped) and the
    first few skipped ones as ``(id, message)``."""

    scored: int = 0
    skipped: int = 0
    examples: list = field(default_factory=list)


def score_stream(items: Iterable[tuple[Any, Any]], space: str | Space, checkpoint: Path | str | None = None,
                 plus: bool = False, rule: Path | str | None = None, normalise: str = "reference",
                 descriptions: Mapping[str, str] | None = None, skip_bad: bool = False,
                 batch: int = BATCH, batch_size: int = 1024, device: str = "cpu",
                 stats: ScoreStats | None = None, progress: bool = False) -> Iterator[pd.DataFrame]:
    """Score ``(id, architecture[, where])`` records in batches; yields one DataFrame per batch.

    ``where`` (e.g. ``"archs.txt line 7"``) is how errors name the record; an architecture
    that is a ``ValueError`` instance is a record the reader could not read (bad JSON line).

    Each frame has ``id``, then ``score``; with ``plus``, ``id`` then the rule's signals,
    ``seconds`` and ``plus_score`` (:func:`tgnas.plus.combine.output_columns`). A bad
    architecture raises ``ValueError`` naming its id (a line number for files) and the
    problem, unless ``skip_bad`` (then it is counted in ``stats``). ``normalise="within"``
    needs every score first, so it yields one frame at the end.

    Raises:
        ValueError: bad input (see above), an unknown space or normalisation, a described
            operator that occurs in no scored architecture, a rule for another checkpoint.
    """
    check_normalise(normalise)
    space = get_space(space) if isinstance(space, str) else space
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    stats = stats if stats is not None else ScoreStats()
    pred = load_predictor(checkpoint, device)
    plus_rule = load_rule(rule, checkpoint) if plus else None
    given = dict(descriptions or {})
    seen_ops: set[str] = set()
    convert = _Converter(space, pred.config.graph_form, frozenset((*pred.vocab, *given, *DESCRIPTIONS)))
    held: list[pd.DataFrame] = []

    def run(ids: list, graphs: list, archs: list, descs: list) -> pd.DataFrame:
        gs = GraphSet.from_graphs(graphs)
        seen_ops.update(gs.vocab)
        desc = _descriptions_of(descs, given)
        desc = {op: t for op, t in desc.items() if op in gs.vocab}
        scores = pred.score(gs, batch_size=batch_size, descriptions=desc or None, size=pred.size_of(archs, space))
        frame = pd.DataFrame({"id": ids})
        if plus_rule is not None:
            table = signal_table(pred, archs, space, tgnas_scores=scores, progress=progress,
                                 signals=plus_rule.signals)
            for c in (*plus_rule.signals, "seconds"):
                frame[c] = table[c].to_numpy()
            frame[SCORE_COLUMN] = combine(plus_rule, table, space) if normalise == "reference" else np.nan
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
            _check_id(ident)
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
        allf[SCORE_COLUMN] = combine(plus_rule, allf, space, "within")
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
        plus: TG-NAS+ (the predictor and the cheap signals the rule names, under its weights).
        rule: the TG-NAS+ rule file (``None``: the one belonging to the default checkpoint).
        normalise: ``"reference"`` or ``"within"`` (see the module docstring).
        descriptions: ``{op: text}`` for operators without a built-in description.

    Returns:
        DataFrame, one row per architecture in input order (index: position in ``archs``):
        ``score`` (higher = predicted better); with ``plus``, every signal of the rule
        (``rule.signals``, in order), ``seconds`` (lite cost) and ``plus_score`` instead
        (:func:`tgnas.plus.combine.output_columns`; the columns of ``tgnas score --plus``).
    """
    if isinstance(archs, str):
        archs = [archs]
    frames = list(score_stream(((i, a, f"archs[{i}]") for i, a in enumerate(archs)), space, checkpoint=checkpoint, plus=plus, rule=rule,
                               normalise=normalise, descriptions=descriptions, batch_size=batch_size,
                               device=device))
    out = pd.concat(frames, ignore_index=True).set_index("id")
    out.index.name = None
    return out
