"""The GPU profile takes the pipeline's code path; a CPU dry run of it at toy scale."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest

from tgnas import paths
from tgnas.embeddings import available_models
from tgnas.profiles import TOY_OVERRIDES, load_params, merge, run_stage, stage_parameters

ROOT = paths.PROJECT_ROOT
NOTEBOOK_STAGES = ("embeddings", "predictor", "correlations", "search", "final_training", "plus", "compare")


def _parameter_names(nb_path) -> set[str]:
    import ast

    nb = nbformat.read(nb_path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign) for t in node.targets}


@pytest.mark.parametrize("stage", NOTEBOOK_STAGES)
def test_gpu_profile_passes_known_parameters_with_gpu_values(stage):
    params = load_params(gpu=True)
    nb, passed = stage_parameters(stage, params)
    assert set(passed) <= _parameter_names(nb), stage
    if stage in ("predictor", "correlations", "plus"):
        assert passed["device"] == "cuda"
    if stage == "predictor":
        assert passed["fraction"] == 1.0
    if stage == "final_training":
        assert passed["smoke"] is False and passed["epochs"] == 600


def test_toy_overrides_change_scale_and_device_only():
    gpu, toy = load_params(gpu=True), load_params(gpu=True, overrides=TOY_OVERRIDES)
    changed = {(s, k) for s in gpu for k in gpu[s] if gpu[s][k] != toy[s][k]}
    assert changed == {(s, k) for s, v in TOY_OVERRIDES.items() for k in v if gpu[s][k] != v[k]}
    # the GPU profile's code paths stay on: all variants, computed proxies, several seeds, paper network
    assert toy["plus"]["study_variants"] == "all" and toy["plus"]["study_file"] == ""
    assert toy["correlations"]["proxy_sample"] > 0 and toy["correlations"]["n_seeds"] > 1
    assert toy["final_training"]["smoke"] is False
    with pytest.raises(KeyError, match="predictor.nope"):
        merge(gpu, {"predictor": {"nope": 1}})


@pytest.mark.slow
def test_gpu_check_script_dry_run_on_cpu(tmp_path):
    env = {**os.environ, "OUT": str(tmp_path), "TGNAS_OUTPUT_ROOT": str(tmp_path / "outputs")}
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "gpu_check.py"), "--device", "cpu", "--toy"],
                          env=env, capture_output=True, text=True, timeout=900)
    result = json.loads((tmp_path / "gpu_check.json").read_text())
    assert proc.returncode == 0, (proc.stdout[-2000:], proc.stderr[-2000:], result)
    assert {s: r["status"] for s, r in result["steps"].items()} == {
        "predictor": "ok", "search": "ok", "final_training": "ok"}
    assert result["steps"]["predictor"]["metrics"]["val_tau"]["nb101"] > 0
    assert (tmp_path / "gpu_check.log").is_file()


@pytest.mark.slow
@pytest.mark.parametrize("stage", ["correlations", "plus"])
def test_gpu_profile_stage_at_toy_scale_on_cpu(stage, tmp_path):
    """The GPU profile's heavier paths (proxies computed on real networks, several seeds,
    every study variant trained inside the stage) on a CPU; needs notebook 02's checkpoint
    under the test output root, so the predictor runs first."""
    params = load_params(gpu=True, overrides=TOY_OVERRIDES)
    models = ",".join(m for m in params["correlations"]["ablation_models"].split(",") if m in available_models())
    params = merge(params, {"correlations": {"ablation_models": models}})
    run_stage("predictor", params, tmp_path)
    run_stage(stage, params, tmp_path)
    name = {"correlations": "correlation", "plus": "plus"}[stage]
    assert json.loads((paths.METRICS_DIR / f"{name}.json").read_text())
