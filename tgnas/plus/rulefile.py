"""Tie a TG-NAS+ rule file to the predictor checkpoint it was made for.

A rule stores the reference population of the predictor's *own* scores, so it is only valid
with that checkpoint; the checkpoint's SHA-256 is kept in ``rule.info`` and checked on use.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from tgnas.plus.combine import PlusRule

__all__ = ["file_sha256", "stamp_rule", "check_rule_matches"]


def file_sha256(path: Path | str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stamp_rule(rule: PlusRule, checkpoint: Path | str) -> PlusRule:
    """Record ``checkpoint``'s SHA-256 in ``rule.info["predictor_sha256"]`` (returns ``rule``)."""
    rule.info["predictor_sha256"] = file_sha256(checkpoint)
    return rule


def check_rule_matches(rule: PlusRule, checkpoint: Path | str, rule_path: Path | str = "rule") -> None:
    """Raise ``ValueError`` unless ``rule`` was made for ``checkpoint``."""
    want = rule.info.get("predictor_sha256")
    if want is None:
        raise ValueError(f"{rule_path} does not name the predictor checkpoint it was made for "
                         "(no info.predictor_sha256)")
    have = file_sha256(checkpoint)
    if have != want:
        raise ValueError(f"{rule_path} was made for another predictor checkpoint (sha256 {want[:12]}...), "
                         f"not {checkpoint} ({have[:12]}...): its reference population of predictor scores "
                         "would not fit; rerun notebook 06 for this checkpoint")
