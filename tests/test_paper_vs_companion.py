"""Notebook 07's comparison: published values from one table, ours read from the metrics."""

from __future__ import annotations

import json
import shutil

import pytest

from tgnas import paths
from tgnas.experiments import paper_vs_companion as pvc
from tgnas.published import PUBLISHED, Published, published

COMMITTED = paths.PROJECT_ROOT / "metrics"


def _copy_details(tmp_path):
    (tmp_path / "details").mkdir()
    for stage in pvc.SOURCES:
        shutil.copy(COMMITTED / "details" / f"{stage}.json", tmp_path / "details" / f"{stage}.json")
    return tmp_path


def test_every_published_record_cites_a_source_and_keys_are_unique():
    keys = [p.key for p in PUBLISHED]
    assert len(keys) == len(set(keys))
    for p in PUBLISHED:
        assert p.source.strip(), p.key
        assert p.value is not None or p.claim or (p.low is not None and p.high is not None), p.key
    with pytest.raises(KeyError, match="corr_tgnas_kendall"):
        published("nope")


def test_each_artifact_of_the_issue_has_a_row_with_a_known_status():
    rows = pvc.compare(COMMITTED)
    assert [r.key for r in rows] == [p.key for p in PUBLISHED]
    assert {r.artifact for r in rows} == {"correlation table", "embedding × description-length ablation",
                                          "data-ratio study", "NB201 search table", "DARTS search",
                                          "ImageNet result", "speed-up claim"}
    assert all(r.status in pvc.STATUSES for r in rows)
    # the paper-scale training has not run on this machine
    assert {r.key: r.status for r in rows}["imagenet_top1"] == "needs a GPU run"


def test_our_values_are_read_from_the_metrics_files(tmp_path):
    d = _copy_details(tmp_path)
    corr = json.loads((d / "details" / "correlation.json").read_text())
    corr["nb201"]["cifar10"]["tgnas"].update(kendall=0.123, kendall_ci=[0.12, 0.126])
    (d / "details" / "correlation.json").write_text(json.dumps(corr))
    row = {r.key: r for r in pvc.compare(d)}["corr_tgnas_kendall"]
    assert row.our_value == 0.123 and row.status == "worse"


def test_a_missing_metrics_file_names_the_stage(tmp_path):
    d = _copy_details(tmp_path)
    (d / "details" / "search.json").unlink()
    with pytest.raises(FileNotFoundError, match="dvc repro search"):
        pvc.compare(d)


def test_a_gpu_run_when_present_replaces_needs_a_gpu_run(tmp_path):
    d = _copy_details(tmp_path)
    (d / "details" / f"{pvc.GPU_RUNS['imagenet']}.json").write_text(json.dumps({"smoke": False, "test_acc": 74.6}))
    row = {r.key: r for r in pvc.compare(d)}["imagenet_top1"]
    assert row.our_value == 74.6 and row.status == "reproduced within noise"


@pytest.mark.parametrize("ours,expected", [(0.57, "reproduced within noise"), (0.60, "better"), (0.50, "worse")])
def test_numeric_status(ours, expected):
    p = Published("x", "a", "q", 0.57, "s")
    assert pvc.numeric_status(p, ours, noise=0.02) == expected
    low = Published("y", "a", "q", 40.0, "s", higher_is_better=False)
    assert pvc.numeric_status(low, 1.0, noise=0.0) == "better"


def test_readme_results_table_is_the_generated_one():
    readme = (paths.PROJECT_ROOT / "README.md").read_text()
    block = pvc.readme_block(pvc.compare(COMMITTED))
    assert block in readme, ("README's paper-vs-companion table differs from the committed metrics: run "
                             "`python -m tgnas.experiments.paper_vs_companion` (or `dvc repro compare`)")


def test_update_readme_rewrites_only_the_block(tmp_path):
    rows = pvc.compare(COMMITTED)
    f = tmp_path / "README.md"
    f.write_text(f"before\n{pvc.README_BEGIN}\nstale\n{pvc.README_END}\nafter\n")
    assert pvc.update_readme(rows, f)
    text = f.read_text()
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "stale" not in text
    assert not pvc.update_readme(rows, f)
    f.write_text("no block")
    with pytest.raises(ValueError, match="no block"):
        pvc.update_readme(rows, f)


def test_a_notebook_run_by_hand_reads_the_committed_details(monkeypatch, tmp_path):
    """Notebook 07 in JupyterLab on a fresh clone: outputs go to scratch/, which holds no
    details yet; the comparison reads the committed ones, and a stage rerun by hand wins."""
    scratch = tmp_path / "scratch"
    monkeypatch.setattr(paths, "OUTPUT_ROOT", scratch)
    monkeypatch.setattr(paths, "METRIC_DETAILS_DIR", scratch / "metrics" / "details")
    assert [r.our_value for r in pvc.compare()] == [r.our_value for r in pvc.compare(COMMITTED)]
    assert pvc.source_file("search") == COMMITTED / "details" / "search.json"
    corr = json.loads((COMMITTED / "details" / "correlation.json").read_text())
    corr["nb201"]["cifar10"]["tgnas"].update(kendall=0.321, kendall_ci=[0.32, 0.322])
    (scratch / "metrics" / "details").mkdir(parents=True)
    (scratch / "metrics" / "details" / "correlation.json").write_text(json.dumps(corr))
    assert {r.key: r for r in pvc.compare()}["corr_tgnas_kendall"].our_value == 0.321


def test_a_missing_detail_file_says_where_it_looked_and_what_writes_it(monkeypatch, tmp_path):
    project, scratch = tmp_path / "project", tmp_path / "project" / "scratch"
    monkeypatch.setattr(paths, "PROJECT_ROOT", project)
    monkeypatch.setattr(paths, "OUTPUT_ROOT", scratch)
    monkeypatch.setattr(paths, "METRIC_DETAILS_DIR", scratch / "metrics" / "details")
    with pytest.raises(FileNotFoundError) as err:
        pvc.compare()
    msg = str(err.value)
    assert "scratch/metrics/details, metrics/details" in msg
    assert "`dvc repro correlations`" in msg and "notebooks/03_correlations.ipynb" in msg
