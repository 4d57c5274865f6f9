"""A table of TG-NAS+ signals to scores under a rule and a normalisation.

Two normalisations turn each signal into a normal score before the rule's weighted sum:

* ``"reference"``: against the space's reference population stored in the rule (a seeded
  sample of the space, or its whole benchmark, computed with the same lite-proxy settings),
  so a cell's score does not depend on what else is scored;
* ``"within"``: ranks within the scored set (needs :data:`MIN_WITHIN` architectures or more);
  no reference needed, but a score is only comparable within one call.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tgnas.errors import NamesOptions
from tgnas.plus.rule import PlusRule, floor_neg_inf, normal_scores
from tgnas.spaces.base import Space

__all__ = ["NORMALISATIONS", "MIN_WITHIN", "SCORE_COLUMN", "NormaliseError", "check_normalise", "combine",
           "output_columns"]

#: TG-NAS+ normalisations (see the module docstring).
NORMALISATIONS: tuple[str, ...] = ("reference", "within")
#: Fewest architectures ``normalise="within"`` ranks.
MIN_WITHIN = 100
#: The TG-NAS+ score's column in every output (``tgnas score --plus`` and ``tgnas.score(..., plus=True)``).
SCORE_COLUMN = "plus_score"


class NormaliseError(NamesOptions, ValueError):
    """A normalisation that cannot be used here (the command line names ``--normalise``)."""

    flags = {f"normalise={n!r}": f"--normalise {n}" for n in NORMALISATIONS}


def check_normalise(normalise: str) -> None:
    """``ValueError`` unless ``normalise`` is one of :data:`NORMALISATIONS`."""
    if normalise not in NORMALISATIONS:
        raise NormaliseError(f"unknown normalise {normalise!r}; expected one of {list(NORMALISATIONS)}")


def combine(rule: PlusRule, table: pd.DataFrame, space: Space, normalise: str = "reference") -> np.ndarray:
    """``(M,)`` TG-NAS+ scores of a signal table (columns: at least ``rule.signals``).

    ``"reference"`` normalises against the rule's population of ``space.reference_space()``
    (generic cells are scored against the population of the space that builds them);
    ``"within"`` ranks within ``table`` (``-inf`` floored below the rest).
    """
    check_normalise(normalise)
    if normalise == "reference":
        return rule.score(table, space.reference_space().name)
    if len(table) < MIN_WITHIN:
        raise NormaliseError(f"normalise='within' ranks within the scored set and needs >= {MIN_WITHIN} "
                         f"architectures, got {len(table)}; use normalise='reference'")
    rule.check_columns(table)
    z = np.column_stack([normal_scores(floor_neg_inf(table[s].to_numpy())) for s in rule.signals])
    return z @ rule.weights


def output_columns(rule: PlusRule) -> tuple[str, ...]:
    """The columns of a TG-NAS+ result after its identifiers: every signal of ``rule`` (in its
    order), ``seconds`` (the lite cost per architecture), then :data:`SCORE_COLUMN`."""
    return (*rule.signals, "seconds", SCORE_COLUMN)
