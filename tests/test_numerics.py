"""The pipeline's numbers are bit-identical under its pinned numerics (tgnas/numerics.py).

The two reproduction tests recompute, in a fresh process under the pinned environment, what
the committed pipeline run recorded: the operator embeddings of notebook 01 and the weights
of notebook 02's predictor (its exact configuration, read from the committed record). On a
machine whose kernels differ they fail, which is what they are for: the README's claim that
`dvc repro` changes no non-timing value is then false there.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys

import pytest
import yaml

from tgnas import numerics, paths
from tgnas.search.parallel import check_workers, run_jobs

X86 = platform.machine().lower() in {"x86_64", "amd64"}
needs_x86 = pytest.mark.skipif(not X86, reason="bit-identity is claimed for x86-64 CPUs with AVX2 only "
                                                "(docs/pipeline.md, 'Reproducibility')")
COMMITTED = paths.PROJECT_ROOT / "metrics" / "details"


def _pinned(code: str, tmp_path) -> dict:
    """Run ``code`` (which prints one JSON line last) in a fresh interpreter under the pinned
    environment, whatever this process's, with outputs and caches under ``tmp_path``."""
    env = {**os.environ, **numerics.PINNED_ENV, "TGNAS_OUTPUT_ROOT": str(tmp_path), "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600,
                         cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_every_notebook_stage_runs_under_the_pinned_numerics():
    dvc = yaml.safe_load((paths.PROJECT_ROOT / "dvc.yaml").read_text())
    declared = [v["numerics"] for v in dvc.get("vars", []) if isinstance(v, dict) and "numerics" in v]
    assert declared == [numerics.pinned_env_line()]
    notebook_stages = [n for n, s in dvc["stages"].items() if "papermill" in s["cmd"] and not s.get("frozen")]
    assert len(notebook_stages) == 7
    for name in notebook_stages:
        assert "env ${numerics} python -m papermill" in dvc["stages"][name]["cmd"], name


def test_the_test_session_runs_under_the_pinned_numerics():
    # conftest.py sets the environment before torch starts; nbval kernels inherit it
    f = numerics.fingerprint()
    assert f["pinned"] and f["threads"] == 1, f
    if X86:
        assert f["cpu_capability"] == "AVX2", f
    assert numerics.key() == f"{f['cpu_capability']}-mkl{f['mkl_cbwr']}-t1"
    assert "pipeline's pinned setting" in numerics.describe()


def test_weight_digest_sees_the_last_bit_and_names():
    # the digest behind weights_sha256 (tgnas.checkpoints.state_digest)
    import torch

    from tgnas.checkpoints import state_digest

    a = torch.linspace(0, 1, 7, dtype=torch.float32)
    b = a.clone()
    b[3] = torch.nextafter(b[3], torch.tensor(2.0))
    assert state_digest({"x": a}) == state_digest({"x": a.clone()})
    assert state_digest({"x": a}) != state_digest({"x": b})
    assert state_digest({"x": a}) != state_digest({"y": a})
    assert state_digest({"x": a}) != state_digest({"x": a.double()})


@needs_x86
def test_operator_embeddings_reproduce_the_committed_run_bit_for_bit(tmp_path):
    recorded = json.loads((COMMITTED / "embeddings.json").read_text())["minilm"]["short"]["vectors_sha256"]
    got = _pinned("import json; from tgnas import embeddings as e; "
                  "r = e.similarity_report('minilm', 'short', cache_dir='fresh-cache'); "
                  "print(json.dumps(r.metrics()['vectors_sha256']))", tmp_path)
    assert got == recorded


@needs_x86
def test_pipeline_predictor_reproduces_the_committed_weights_bit_for_bit(tmp_path):
    record = json.loads((COMMITTED / "predictor.json").read_text())
    assert record["profile"] == "cpu"  # the committed run is the pipeline's, not a smoke run
    code = f"""
import json
from tgnas.experiments.predictor_training import weights_digest
from tgnas.predictor import TrainConfig, train
config = TrainConfig.from_dict(json.loads({json.dumps(json.dumps(record["config"]))}))
result = train(config, "predictor.pt", device="cpu", progress=False)
print(json.dumps({{"weights": weights_digest(result.path), "val_tau": result.history[result.best_epoch - 1]["val_tau"]}}))
"""
    got = _pinned(code, tmp_path)
    assert got["val_tau"] == record["val_tau"]
    assert got["weights"] == record["weights_sha256"]


def _square(x):
    return x * x


def _fail():
    raise ValueError("job failed")


def test_run_jobs_keeps_order_and_errors_for_any_worker_count():
    jobs = [lambda i=i: _square(i) for i in range(7)]
    assert run_jobs(jobs, workers=1) == run_jobs(jobs, workers=3) == [i * i for i in range(7)]
    with pytest.raises(ValueError, match="job failed"):
        run_jobs([jobs[0], _fail], workers=2)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="workers must be a positive integer"):
            check_workers(bad)
