"""Notebook 07's comparison: published values with their sources, ours read from the metrics,
every row on one set of architectures, verdicts by the written rule."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace

import nbformat
import numpy as np
import pytest

from tgnas import paths
from tgnas.experiments import paper_method as pm
from tgnas.experiments import paper_vs_companion as pvc
from tgnas.experiments.paper_vs_companion import Estimate
from tgnas.predictor import gcn_preset
from tgnas.predictor.presets import train_preset
from tgnas.published import KINDS, PUBLISHED, TABLE3_COLUMNS, TGNAS, published

COMMITTED = paths.PROJECT_ROOT / "metrics"


def _copy_details(tmp_path):
    """This run's stage details and the frozen records, copied into ``tmp_path``; returns the
    ``(metrics_dir, recorded)`` arguments of :func:`pvc.compare`."""
    (tmp_path / "details").mkdir()
    for name in (*pvc.SOURCES, *pvc.RECORDED):
        shutil.copy(COMMITTED / "details" / f"{name}.json", tmp_path / "details" / f"{name}.json")
    return tmp_path, {name: tmp_path / "details" / f"{name}.json" for name in pvc.RECORDED}


def _rows(tmp_path=None):
    if tmp_path is None:
        return {r.key: r for r in pvc.compare(COMMITTED)}
    return {r.key: r for r in pvc.compare(*_copy_details(tmp_path))}


def test_every_published_record_carries_its_source():
    keys = [p.key for p in PUBLISHED]
    assert len(keys) == len(set(keys))
    for p in PUBLISHED:
        assert p.kind in KINDS and p.source.paper and p.source.location, p.key
        assert p.value is not None or p.claim or p.bounds, p.key
        if p.kind == "claim":  # the TG-NAS paper, with the arXiv version it was read in
            assert p.source.paper == TGNAS and p.source.version.startswith("v"), p.key
    with pytest.raises(KeyError, match="corr_tgnas_kendall"):
        published("nope")


def test_baselines_name_the_papers_they_come_from_and_table3_has_no_naswot():
    baselines = [p for p in PUBLISHED if p.kind == "baseline"]
    assert {p.key for p in baselines} == {"baseline_flops_kendall", "baseline_synflow_kendall",
                                          "baseline_naswot_kendall"}
    for p in baselines:
        assert "TG-NAS" not in p.source.paper and "AZ-NAS" in p.source.paper and "VKDNW" in p.source.paper
    assert list(TABLE3_COLUMNS) == ["Params", "FLOPs", "SNIP", "Fisher", "Synflow", "Zen-score", "grad-norm", "TG-NAS"]
    # no version of the paper has a DARTS CIFAR-10 table
    assert "darts_cifar10_error" not in {p.key for p in PUBLISHED}


def test_each_record_has_a_row_with_a_verdict_of_the_rule():
    rows = pvc.compare(COMMITTED)
    assert [r.key for r in rows if r.kind != "beyond"] == [p.key for p in PUBLISHED]
    assert all(r.verdict in pvc.VERDICTS for r in rows)
    by_key = {r.key: r for r in rows}
    assert by_key["imagenet_top1"].verdict == "inconclusive"          # the GPU run has not run here
    assert by_key["embedding_ablation"].verdict == "inconclusive"     # one seed per variant


def test_rows_compare_the_same_cells_and_seed_means(tmp_path):
    rows = _rows()
    rec = json.loads((COMMITTED / "details" / "paper_method.json").read_text())
    summary = {(s["method"], s["fraction"]): s for s in rec["summary"]}
    frac = rec["settings"]["fraction"]
    tau = rows["corr_tgnas_kendall"]
    assert tau.cells == pvc.ALL_CELLS
    assert tau.paper_method.value == pytest.approx(summary[("paper", frac)]["cifar10_all_kendall_mean"])
    assert tau.companion.n == len(rec["settings"]["seeds"]) == 5  # seed means, never a best seed
    for key in ("baseline_synflow_kendall", "baseline_naswot_kendall", "table3_ranking"):
        r = rows[key]
        assert r.cells == pvc.ZC_CELLS
        assert r.companion.value == pytest.approx(summary[("companion", frac)]["cifar10_zc_kendall_mean"])
    assert rows["baseline_naswot_kendall"].verdict == "inconclusive"  # published over all cells, ours over 9,445


def test_our_values_are_read_from_the_metrics_files(tmp_path):
    metrics_dir, recorded = _copy_details(tmp_path)
    rec = json.loads(recorded["paper_method"].read_text())
    for run, shift in zip((r for r in rec["runs"] if r["method"] == "paper" and r["fraction"] == 0.1),
                          (-0.01, -0.005, 0.0, 0.005, 0.01)):
        run["cifar10_all_kendall"] = 0.57 + shift
    recorded["paper_method"].write_text(json.dumps(rec))
    row = {r.key: r for r in pvc.compare(metrics_dir, recorded)}["corr_tgnas_kendall"]
    assert row.paper_method.value == pytest.approx(0.57) and row.verdict == "reproduced"


def test_a_missing_metrics_file_names_the_stage(tmp_path):
    metrics_dir, recorded = _copy_details(tmp_path)
    (metrics_dir / "details" / "search.json").unlink()
    with pytest.raises(FileNotFoundError, match="dvc repro search"):
        pvc.compare(metrics_dir, recorded)
    shutil.copy(COMMITTED / "details" / "search.json", metrics_dir / "details" / "search.json")
    recorded["paper_method"].unlink()
    with pytest.raises(FileNotFoundError, match="frozen stage `paper_method`"):
        pvc.compare(metrics_dir, recorded)


def test_a_single_gpu_run_is_shown_but_does_not_decide(tmp_path):
    metrics_dir, recorded = _copy_details(tmp_path)
    (metrics_dir / "details" / f"{pvc.GPU_RUNS['imagenet']}.json").write_text(
        json.dumps({"smoke": False, "test_acc": 74.6}))
    row = {r.key: r for r in pvc.compare(metrics_dir, recorded)}["imagenet_top1"]
    assert row.companion.value == 74.6 and row.verdict == "inconclusive"


def test_band_verdicts_need_five_seeds():
    claim = (0.57, 0.57)
    assert pvc.band_verdict(Estimate.over_seeds([0.70]), claim)[0] == "inconclusive"
    assert pvc.band_verdict(Estimate.over_seeds([0.70, 0.71, 0.69]), claim)[0] == "inconclusive"
    above, near, below = ([c + d for d in (-0.01, 0, 0.01, 0.005, -0.005)] for c in (0.70, 0.575, 0.30))
    assert pvc.band_verdict(Estimate.over_seeds(above), claim)[0] == "exceeded"
    assert pvc.band_verdict(Estimate.over_seeds(near), claim)[0] == "reproduced"
    assert pvc.band_verdict(Estimate.over_seeds(below), claim)[0] == "not reproduced"
    assert pvc.band_verdict(Estimate.over_seeds(below), claim, higher_is_better=False)[0] == "exceeded"
    assert pvc.band_verdict(None, claim)[0] == pvc.band_verdict(Estimate.over_seeds(near), None)[0] == "inconclusive"
    assert pvc.band_verdict(Estimate.bootstrap(0.60, (0.59, 0.61)), (0.56, 0.57))[0] == "exceeded"


def test_threshold_timing_and_bound_verdicts():
    five = Estimate.over_seeds([0.60, 0.61, 0.59, 0.605, 0.595])
    assert pvc.threshold_verdict(five, 0.5, "x")[0] == "reproduced"
    assert pvc.threshold_verdict(five, 0.7, "x")[0] == "not reproduced"
    assert pvc.threshold_verdict(five, 0.6, "x")[0] == "inconclusive"
    assert pvc.timing_verdict(1000.0, 300.0, True)[0] == "exceeded"
    assert pvc.timing_verdict(400.0, 300.0, True)[0] == "reproduced"
    assert pvc.timing_verdict(100.0, 300.0, True)[0] == "not reproduced"
    assert pvc.timing_verdict(10.0, 40.0, False)[0] == "exceeded"
    assert [pvc.bound_verdict(v, 120.0)[0] for v in (2.0, 100.0, 300.0)] == \
        ["reproduced", "inconclusive", "not reproduced"]


def test_speedup_is_stated_with_and_without_graph_building():
    ctx = pvc.load_context(COMMITTED)
    s = pvc.speedups(ctx)
    assert s["with_graphs"] < s["without_graphs"]
    row = _rows()["speedup"]
    assert row.companion.value == pytest.approx(s["with_graphs"]) and f"{s['without_graphs']:,.0f}" in row.companion.how


def test_the_notebook_writes_the_decision_rule():
    nb = nbformat.read(paths.NOTEBOOKS_DIR / "07_compare_paper.ipynb", as_version=4)
    assert any(c.cell_type == "markdown" and pvc.RULE in c.source for c in nb.cells)


def test_readme_blocks_are_the_generated_ones():
    readme = (paths.PROJECT_ROOT / "README.md").read_text()
    for name, block in pvc.readme_blocks(pvc.compare(COMMITTED)).items():
        assert block in readme, (f"README's generated block {name!r} differs from the committed metrics: run "
                                 "`python -m tgnas.experiments.paper_vs_companion` (or `dvc repro compare`)")
    assert readme.index(pvc.README_BLOCKS["headline"][0]) < readme.index("## Quick start")  # the first paragraph


def test_update_readme_rewrites_only_the_blocks(tmp_path):
    rows = pvc.compare(COMMITTED)
    f = tmp_path / "README.md"
    f.write_text("before\n" + "\nmiddle\n".join(f"{b}\nstale\n{e}" for b, e in pvc.README_BLOCKS.values()) + "\nafter\n")
    assert pvc.update_readme(rows, f)
    text = f.read_text()
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "stale" not in text
    assert not pvc.update_readme(rows, f)
    f.write_text("no block")
    with pytest.raises(ValueError, match="no block"):
        pvc.update_readme(rows, f)


def test_the_paper_method_is_the_papers_and_the_companion_the_default():
    cfg = pm.paper_config(0.1, 8)
    assert (cfg.gcn, cfg.graph_form, cfg.loss, cfg.embedding_model, cfg.length, cfg.train_spaces) == \
        (gcn_preset("paper"), "full", "mse", "minilm", "short", ("nb101",))
    assert pm.companion_config(0.1, 8, seed=3) == replace(train_preset("pure"), seed=3)


def test_released_predictions_are_checked_against_the_pinned_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="YeQiao/TG-NAS"):
        pm.load_released(tmp_path / "test.txt")
    (tmp_path / "test.txt").write_text("85.86 64.18\n")
    with pytest.raises(ValueError, match="not the pinned file"):
        pm.load_released(tmp_path / "test.txt")


def test_evaluate_scores_on_both_cell_sets():
    truth = np.asarray(pm.nb201_truth("cifar10"))
    out = pm.evaluate_scores(truth, pm.zc_cells())
    assert out["cifar10_all_kendall"] == pytest.approx(1.0) and out["cifar10_zc_kendall"] == pytest.approx(1.0)
    assert set(out) == {f"{ds}_{c}_{s}" for ds in pm.NB201_DATASETS for c in pm.CELL_SETS
                        for s in ("kendall", "spearman")}


def test_compare_runs_on_the_smoke_records_of_a_test_session(tmp_path):
    # nbval runs notebook 07 on the smoke outputs of 03, 04 and 06: one seed, no rule study
    metrics_dir, recorded = _copy_details(tmp_path)
    d = metrics_dir / "details"
    plus = json.loads((d / "plus.json").read_text())
    plus.pop("rules")
    (d / "plus.json").write_text(json.dumps(plus))
    search = json.loads((d / "search.json").read_text())
    search["settings"]["seeds"] = 1
    for s in search["nb201"]["summary"].values():
        for v in s.values():
            if isinstance(v, dict):
                v["std"] = None
    (d / "search.json").write_text(json.dumps(search))
    corr = json.loads((d / "correlation.json").read_text())
    corr["ablations"]["rows"] = [r for r in corr["ablations"]["rows"] if r["group"] != "embedding"]
    (d / "correlation.json").write_text(json.dumps(corr))
    rows = {r.key: r for r in pvc.compare(metrics_dir, recorded)}
    assert rows["plus_kendall"].companion is None and rows["embedding_ablation"].companion is None
    assert {rows[k].verdict for k in ("plus_kendall", "embedding_ablation", "search_nb201_cifar10")} == {"inconclusive"}
    assert pvc.headline(list(rows.values())) and pvc.rows_json(list(rows.values()))["rows"]
def test_a_notebook_run_by_hand_reads_the_committed_details(monkeypatch, tmp_path):
    """Notebook 07 in JupyterLab on a fresh clone: outputs go to scratch/, which holds no
    details yet; the comparison reads the committed ones, and a stage rerun by hand wins."""
    scratch = tmp_path / "scratch"
    monkeypatch.setattr(paths, "OUTPUT_ROOT", scratch)
    monkeypatch.setattr(paths, "METRIC_DETAILS_DIR", scratch / "metrics" / "details")
    assert pvc.rows_json(pvc.compare()) == pvc.rows_json(pvc.compare(COMMITTED))
    assert pvc.source_file("search") == COMMITTED / "details" / "search.json"
    search = json.loads((COMMITTED / "details" / "search.json").read_text())
    search["nb201"]["summary"]["tgnas/hybrid"]["cifar10"]["mean"] = 12.5
    (scratch / "metrics" / "details").mkdir(parents=True)
    (scratch / "metrics" / "details" / "search.json").write_text(json.dumps(search))
    assert {r.key: r for r in pvc.compare()}["search_nb201_cifar10"].companion.value == 12.5


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


def test_a_smoke_rule_study_without_cross_validation_still_compares(tmp_path):
    # a CPU smoke run of notebook 06 (100 NB301 cells, one seed) records no cross-validated tau
    metrics_dir, recorded = _copy_details(tmp_path)
    path = metrics_dir / "details" / "plus.json"
    plus = json.loads(path.read_text())
    for row in plus["rules"]["summary"]:
        row["nb301_cv_kendall_mean"] = row["nb301_cv_kendall_std"] = None
    path.write_text(json.dumps(plus))
    rows = {r.key: r for r in pvc.compare(metrics_dir, recorded)}
    assert "TG-NAS+ rule" in rows["plus_kendall"].protocol
