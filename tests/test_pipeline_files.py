"""dvc.yaml, params.yaml, the GPU profile and the notebooks' parameter cells agree."""

from __future__ import annotations

import ast
import re
import subprocess
import sys

import nbformat
import yaml

from tgnas import paths

ROOT = paths.PROJECT_ROOT


def _load(name):
    return yaml.safe_load((ROOT / name).read_text())


def _notebook_parameters(nb_path) -> set[str]:
    nb = nbformat.read(nb_path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    return {t.id for node in ast.parse(cell.source).body if isinstance(node, ast.Assign) for t in node.targets}


def test_every_stage_runs_a_numbered_notebook_with_known_parameters():
    stages = _load("dvc.yaml")["stages"]
    params = _load("params.yaml")
    assert stages, "dvc.yaml has no stages"
    for name, stage in stages.items():
        cmd = stage["cmd"]
        nb = re.search(r"(notebooks/\d\d_\w+\.ipynb)", cmd).group(1)
        assert nb in stage["deps"], f"stage {name}: its notebook is not a dependency"
        known = _notebook_parameters(ROOT / nb)
        # -p for strings and numbers, -y "key: value" for booleans (papermill's -p would
        # pass YAML's true/false as the *strings* "true"/"false")
        passed = set(re.findall(r"-p (\w+) ", cmd)) | set(re.findall(r'-y "(\w+): ', cmd))
        for key, value in params.get(name, {}).items():
            if isinstance(value, bool):
                assert f'-y "{key}: ' in cmd, f"stage {name}: boolean {key} must be passed with -y"
        assert passed <= known, f"stage {name} passes unknown notebook parameters {passed - known}"
        # each passed value comes from this stage's params.yaml section
        section = name
        assert section in params, f"params.yaml has no section {section!r}"
        for key in passed:
            assert f"${{{section}.{key}}}" in cmd, f"stage {name}: -p {key} is not read from params.yaml"
            assert key in params[section], f"params.yaml {section}.{key} missing"
        assert set(params[section]) <= passed, f"params.yaml {section} has keys no stage passes"


def test_every_numbered_notebook_is_a_stage():
    stages = _load("dvc.yaml")["stages"]
    cmds = " ".join(s["cmd"] for s in stages.values())
    for nb in sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")):
        assert f"notebooks/{nb.name}" in cmds, f"{nb.name} is not run by any dvc stage"


def test_gpu_profile_overrides_only_known_keys():
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "profile_overrides.py"),
                           str(ROOT / "params-gpu.yaml")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "-S final_training.epochs=600" in proc.stdout
    assert "-S predictor.fraction=1.0" in proc.stdout


def test_dvc_config_disables_analytics_and_update_checks():
    text = (ROOT / ".dvc" / "config").read_text()
    assert re.search(r"analytics\s*=\s*false", text)
    assert re.search(r"check_update\s*=\s*false", text)
