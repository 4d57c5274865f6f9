"""Every number the README quotes from a result is held, as printed, by a committed metrics file.

Checked: every decimal and every thousands-grouped number in the README's generated blocks and
its results section, and every number with three decimals (a τ, a ρ, seconds) anywhere in its
prose. A number is found when some numeric value in ``metrics/*.json`` or
``metrics/details/*.json``, rounded to the printed decimals, prints the same.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tgnas import paths

_FENCE = re.compile(r"^```.*?^```", re.S | re.M)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_LINK_TARGET = re.compile(r"\]\([^)]*\)")
#: a decimal (0.612, 93.75) or a thousands-grouped integer (15,625; 22,309), not part of a
#: version or a longer token (v2.13.0, arXiv:2404.00271)
_NUMBER = re.compile(r"(?<![\w.,:/-])(\d{1,3}(?:,\d{3})+|\d+\.\d+)(?![\w.]*\d)")
_THREE_DECIMALS = re.compile(r"(?<![\w.,:/-])(\d+\.\d{3})(?![\w.]*\d)")
_RESULTS = re.compile(r"^## Results.*?(?=^## )", re.S | re.M)
_BLOCK = re.compile(r"<!-- (\w[\w-]*): generated .*?-->(.*?)<!-- /\1 -->", re.S)


def _prose(text: str) -> str:
    return _LINK_TARGET.sub("]", _CODE_SPAN.sub("", _FENCE.sub("", text)))


def quoted_numbers(readme: str) -> list[str]:
    """The numbers of ``readme`` that must come from a metrics file (see the module docstring)."""
    text = _prose(readme)
    scoped = [m.group(2) for m in _BLOCK.finditer(text)] + _RESULTS.findall(text)
    found = [n for part in scoped for n in _NUMBER.findall(part)]
    return list(dict.fromkeys(found + _THREE_DECIMALS.findall(text)))


def _leaves(obj) -> list[float]:
    if isinstance(obj, bool):
        return []
    if isinstance(obj, (int, float)):
        return [float(obj)]
    if isinstance(obj, dict):
        return [x for v in obj.values() for x in _leaves(v)]
    if isinstance(obj, list):
        return [x for v in obj for x in _leaves(v)]
    return []


def metric_values(metrics_dir: Path) -> list[float]:
    """Every numeric value of the metrics files (headline and details) under ``metrics_dir``."""
    files = [*metrics_dir.glob("*.json"), *(metrics_dir / "details").glob("*.json")]
    return [x for f in files for x in _leaves(json.loads(f.read_text()))]


def printed_forms(values: list[float], number: str) -> bool:
    """Whether some value prints as ``number`` at its precision (grouped integers: rounded)."""
    if "," in number:
        return any(f"{v:,.0f}" == number for v in values)
    decimals = len(number.split(".")[1])
    return any(f"{v:.{decimals}f}" == number or f"{abs(v):.{decimals}f}" == number for v in values)


def missing_numbers(readme: str, metrics_dir: Path) -> list[str]:
    values = metric_values(metrics_dir)
    return [n for n in quoted_numbers(readme) if not printed_forms(values, n)]


def test_every_number_the_readme_quotes_is_in_a_metrics_file():
    readme = (paths.PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert quoted_numbers(readme), "no number found: the README's results section moved?"
    missing = missing_numbers(readme, paths.PROJECT_ROOT / "metrics")
    assert not missing, (f"README.md quotes {missing}, which no committed metrics file holds: generate the "
                         "number from a stage (notebook 07 writes the README's results) or remove it")


def test_the_check_fails_on_a_number_no_metrics_file_holds(tmp_path):
    (tmp_path / "details").mkdir()
    (tmp_path / "a.json").write_text(json.dumps({"tau": 0.61234, "n": 15625}))
    (tmp_path / "details" / "a.json").write_text(json.dumps({"rows": [{"std": 0.0213, "flag": True}]}))
    readme = ("# t\n\nProse 0.612 and `0.999` in code.\n\n## Results: x\n\nτ 0.612 ± 0.021 on 15,625 cells; "
              "stale 0.419 and 909.5 s; version 2.13.0.\n\n## Next\n\nalso 0.586 here.\n")
    assert quoted_numbers(readme) == ["0.612", "0.021", "15,625", "0.419", "909.5", "0.586"]
    assert missing_numbers(readme, tmp_path) == ["0.419", "909.5", "0.586"]
