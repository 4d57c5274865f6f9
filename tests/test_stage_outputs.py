"""Declared metrics are headlines of the committed details; the metrics stay short."""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from tgnas import paths
from tgnas.experiments import outputs

ROOT = paths.PROJECT_ROOT
METRICS = ROOT / "metrics"


def _leaves(d) -> int:
    if isinstance(d, dict):
        return sum(_leaves(v) for v in d.values())
    if isinstance(d, list):
        return sum(_leaves(v) for v in d)
    return 1


def _declared_metrics() -> list[str]:
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    out = []
    for st in stages.values():
        for m in st.get("metrics", []):
            out.append(m if isinstance(m, str) else next(iter(m)))
    return out


@pytest.mark.parametrize("stage", ["embeddings", "predictor", "correlation", "search", "plus",
                                   "final_training_cpu_smoke", "paper_vs_companion"])
def test_committed_headline_is_derived_from_committed_details(stage):
    full = json.loads((METRICS / "details" / f"{stage}.json").read_text())
    head = json.loads((METRICS / f"{stage}.json").read_text())
    assert head == json.loads(json.dumps(outputs.headline(stage, full))), \
        f"metrics/{stage}.json is stale: run `python -m tgnas.experiments.outputs`"


def test_declared_metrics_hold_a_few_dozen_numbers_each():
    files = [f for f in _declared_metrics() if "${" not in f]
    assert files
    for f in files:
        n = _leaves(json.loads((ROOT / f).read_text()))
        assert n <= 80, f"{f} declares {n} metric values; move detail to metrics/details/"


def test_write_stage_outputs_writes_details_headline_and_series(tmp_path):
    full = json.loads((METRICS / "details" / "plus.json").read_text())
    written = outputs.write_stage_outputs("plus", full, tmp_path)
    assert json.loads((tmp_path / "details" / "plus.json").read_text()) == json.loads(json.dumps(full))
    assert set(written) == {"details", "metrics", "plus_variants"}
    rows = json.loads(written["plus_variants"].read_text())
    assert [r["variant"] for r in rows] == [r["variant"] for r in full["study_summary"]]
    with pytest.raises(KeyError, match="no headline rule"):
        outputs.headline("nope", {})


def test_search_progress_keeps_the_points_where_the_best_changes():
    class R:
        scorer, algorithm, seed = "tgnas", "evolve", 0
        history = [(1, 0.1), (2, 0.1), (3, 0.5), (4, 0.5), (5, 0.5)]
    (p,) = outputs.search_progress([R()])
    assert p["history"] == [[1, 0.1], [3, 0.5], [5, 0.5]]


def test_every_committed_metric_and_figure_is_a_stage_output():
    from tgnas.pipeline import declared_outputs, undeclared

    tracked = subprocess.run(["git", "ls-files", "metrics", "figures"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    assert "metrics/open_tool.json" in tracked and "figures/06_plus.png" in tracked
    outputs = declared_outputs()
    assert "metrics/final_training_cpu_smoke.json" in outputs  # ${final_training.run_tag} resolved
    orphans = undeclared(tracked, outputs)
    assert not orphans, f"committed but no dvc.yaml stage writes them (make them stage outputs): {orphans}"
    # the check can fail: drop one stage's output and it is reported
    assert undeclared(tracked, outputs - {"metrics/bench_predictor.json"}) == ["metrics/bench_predictor.json"]
    assert undeclared(["data/recorded/lite_proxies/x.npz"], outputs) == []
