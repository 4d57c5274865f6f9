"""Declared metrics are headlines of the committed details; the metrics stay short."""

from __future__ import annotations

import json
import re
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
                                   "final_training_cpu_smoke", "paper_vs_companion", "generalization"])
def test_committed_headline_is_derived_from_committed_details(stage):
    full = json.loads((METRICS / "details" / f"{stage}.json").read_text())
    head = json.loads((METRICS / f"{stage}.json").read_text())
    assert head == json.loads(json.dumps(outputs.headline(stage, full))), \
        f"metrics/{stage}.json is stale: run `python -m tgnas.experiments.outputs`"


def _columns(d, prefix: str = "") -> set[str]:
    """The column names ``dvc metrics show`` makes of a metrics file: its flattened keys."""
    if isinstance(d, dict):
        return set().union(*(_columns(v, f"{prefix}{k}.") for k, v in d.items())) if d else set()
    return {prefix.rstrip(".")}


def test_dvc_metrics_show_is_one_readable_table():
    # `dvc metrics show` prints every declared file as a row of one table whose columns are the
    # union of their keys (169 columns, 4,807 characters a line, before headlines were cut)
    files = [f for f in _declared_metrics() if "${" not in f]
    assert files and "metrics/predictor.json" in files
    columns = set()
    for f in files:
        cols = _columns(json.loads((ROOT / f).read_text()))
        assert 1 <= len(cols) <= 4, f"{f} declares {sorted(cols)}; keep two to four headline values (rest: details/)"
        columns |= cols
    width = len("metrics/final_training_cpu_smoke.json") + sum(max(len(c), 7) + 2 for c in columns)
    assert len(columns) <= 16 and width <= 400, (len(columns), width, sorted(columns))
    # the comparison's one status per paper row stays a stage output, not a metric
    assert "metrics/paper_vs_companion.json" not in _declared_metrics()


def test_the_pipeline_predictor_is_labelled_with_its_profile_not_smoke():
    head = json.loads((METRICS / "predictor.json").read_text())
    full = json.loads((METRICS / "details" / "predictor.json").read_text())
    assert "smoke" not in head and "smoke" not in full
    # the committed run used params.yaml's predictor section (dvc.lock records it)
    lock = yaml.safe_load((ROOT / "dvc.lock").read_text())["stages"]["predictor"]["params"]["params.yaml"]
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    assert lock["predictor"] == params["predictor"] and head["profile"] == full["profile"] == "cpu"


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


def _stage_entries(stage: dict, key: str) -> list[str]:
    return [e if isinstance(e, str) else next(iter(e)) for e in stage.get(key) or []]


def test_every_notebook_stage_renders_its_executed_notebook_for_readers():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    notebook_stages = {n: st for n, st in stages.items() if "papermill" in st["cmd"]}
    assert len(notebook_stages) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    for name, st in notebook_stages.items():
        # the executed copy is the papermill output (a frozen stage does not declare it: a fresh
        # clone could not have it, tests/test_pipeline_files.py)
        executed = re.search(r"\.ipynb (data/generated/notebooks/\S+\.ipynb)", st["cmd"]).group(1)
        if not st.get("frozen"):
            assert executed in _stage_entries(st, "outs"), name
        md = "docs/executed/" + executed.rsplit("/", 1)[1].replace(".ipynb", ".md")
        assert f"python -m tgnas.nbrender {executed} {md}" in st["cmd"], name
        entry = next(e for e in st["outs"] if isinstance(e, dict) and md in e)
        assert entry[md] == {"cache": False}, f"{name}: {md} must be committed (cache: false)"
    committed = subprocess.run(["git", "ls-files", "docs/executed"], cwd=ROOT, capture_output=True, text=True,
                               check=True).stdout.split()
    from tgnas.pipeline import declared_outputs, undeclared
    assert not undeclared(committed, declared_outputs())


def test_dvc_plots_show_includes_the_embedding_heatmap():
    st = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["embeddings"]
    heatmap = "figures/01_op_similarity_${embeddings.model}_${embeddings.length}.png"
    assert heatmap in _stage_entries(st, "plots") and heatmap not in _stage_entries(st, "outs")
