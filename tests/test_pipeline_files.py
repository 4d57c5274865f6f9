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
        found = re.search(r"(notebooks/\d\d_\w+\.ipynb)", cmd)
        if found is None:
            # a recorded measurement (timings, studies, checks; see the benchmarks in dvc.yaml): a
            # script, frozen so that the default `dvc repro` reads its committed output
            assert stage.get("frozen") is True and re.match(r"python scripts/\w+\.py ", cmd), \
                f"stage {name}: not a notebook stage, so it must be a frozen `python scripts/...` stage"
            continue
        nb = found.group(1)
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


def _paths(entries) -> list[str]:
    return [e if isinstance(e, str) else e["path"] if "path" in e else next(iter(e)) for e in entries or []]


def test_stage_deps_cover_the_import_closure_of_each_notebook():
    from tgnas.pipeline import missing_deps

    gaps = missing_deps()
    assert not gaps, f"stages miss modules they import (run `python -m tgnas.pipeline --write`): {gaps}"


def test_the_deps_check_fails_when_a_stage_misses_a_module(tmp_path):
    from tgnas.pipeline import missing_deps

    text = (ROOT / "dvc.yaml").read_text()
    assert "      - tgnas/paths.py\n" in text
    broken = tmp_path / "dvc.yaml"
    broken.write_text(text.replace("      - tgnas/paths.py\n", ""))
    gaps = missing_deps(broken)
    assert gaps and all("tgnas/paths.py" in g for g in gaps.values()), gaps


def test_dvc_lock_names_no_file_that_git_ignores():
    import subprocess

    lock = _load("dvc.lock")["stages"]
    # deps a stage produces (cached outputs such as the checkpoint) are DVC's to restore
    produced = {o["path"] for st in lock.values() for o in st.get("outs", [])}
    named = sorted({p for st in lock.values() for p in _paths(st.get("deps"))} - produced)
    named += sorted({o["path"] for st in lock.values() for o in st.get("outs", [])
                     if o["path"].startswith(("metrics/", "figures/"))})
    assert named
    assert not [p for p in named if "__pycache__" in p or p.endswith(".pyc")]
    proc = subprocess.run(["git", "check-ignore", "--no-index", *named], cwd=ROOT, capture_output=True, text=True)
    ignored = proc.stdout.split()
    assert not ignored, f"dvc.lock names git-ignored files (a fresh clone never has them): {ignored}"
    dvcignore = (ROOT / ".dvcignore").read_text().split()
    assert "__pycache__/" in dvcignore and "*.pyc" in dvcignore


def test_data_series_plots_have_templates_and_axes():
    stages = _load("dvc.yaml")["stages"]
    series = {}
    for st in stages.values():
        for p in st.get("plots", []):
            if isinstance(p, dict):
                (path, props), = p.items()
                if path.endswith(".json"):
                    series[path] = props
    assert {"metrics/plots/predictor_learning_curve.json", "metrics/plots/search_progress.json",
            "metrics/plots/transfer_matrix.json", "metrics/plots/plus_variants.json"} <= set(series)
    for path, props in series.items():
        assert {"x", "y", "template"} <= set(props), path


def test_graph_is_closed_every_metrics_dep_is_produced_by_a_stage():
    stages = _load("dvc.yaml")["stages"]
    produced = set()
    for st in stages.values():
        for key in ("outs", "metrics", "plots"):
            produced |= set(_paths(st.get(key)))
    for name, st in stages.items():
        for dep in _paths(st.get("deps")):
            if dep.startswith(("metrics/", "models/")):
                assert dep in produced, f"stage {name} depends on {dep}, which no stage produces"


def test_scripts_no_stage_runs_use_only_the_public_api():
    # probes and GPU checks run by hand; the experiments package is the notebooks' and the
    # stages' code, free to change with them
    from tgnas.pipeline import import_closure

    cmds = " ".join(s["cmd"] for s in _load("dvc.yaml")["stages"].values())
    by_hand = [f for f in sorted((ROOT / "scripts").glob("*.py")) if f"scripts/{f.name}" not in cmds]
    assert by_hand and "scripts/open_tool_metrics.py" in cmds
    for f in by_hand:
        private = [m for m in import_closure(f) if m.startswith("tgnas/experiments/")]
        assert not private, f"scripts/{f.name} (run by no stage) imports {private}"


def test_a_module_a_stage_runs_with_python_m_is_among_its_deps():
    import pytest

    from tgnas.pipeline import stage_closure

    files = stage_closure("python -m papermill notebooks/07_compare_paper.ipynb out.ipynb "
                          "&& python -m tgnas.nbrender out.ipynb out.md")
    assert "tgnas/nbrender.py" in files and "tgnas/experiments/paper_vs_companion.py" in files
    assert "tgnas/nbrender.py" not in stage_closure("python -m papermill notebooks/07_compare_paper.ipynb out.ipynb")
    with pytest.raises(ValueError, match="not a module of the project"):
        stage_closure("python -m tgnas.nope x")


def test_the_pipeline_runs_the_notebooks_on_the_kernel_the_docs_name():
    stages = _load("dvc.yaml")["stages"]
    kernels = {k for st in stages.values() for k in re.findall(r"--kernel (\S+)", st["cmd"])}
    assert len(kernels) == 1, f"stages use several kernels: {kernels}"
    (kernel,) = kernels
    # python3 is the kernel of the interpreter that runs papermill: no registration needed on a
    # fresh clone, in CI or in any venv with ipykernel
    assert kernel == "python3"
    for doc in ("README.md", "docs/notebooks.md", "docs/pipeline.md"):
        assert f"`{kernel}` kernel" in (ROOT / doc).read_text(), f"{doc} does not name the pipeline's kernel"
    assert f'kernel_name="{kernel}"' in (ROOT / "tgnas" / "profiles.py").read_text()


def _parameter_values(nb_path) -> dict:
    nb = nbformat.read(nb_path, as_version=4)
    cell = next(c for c in nb.cells if "parameters" in c.metadata.get("tags", []))
    env: dict = {}
    exec(compile(cell.source, str(nb_path), "exec"), {}, env)  # the notebook's own literal defaults
    return env


def test_a_predictor_run_is_labelled_with_the_profile_whose_parameters_it_used():
    from tgnas.profiles import load_params, profile_of, stage_parameters

    _, cpu = stage_parameters("predictor", load_params())
    _, gpu = stage_parameters("predictor", load_params(gpu=True))
    defaults = _parameter_values(ROOT / "notebooks" / "02_train_predictor.ipynb")
    assert profile_of("predictor", {**defaults, **cpu}) == "cpu"
    assert profile_of("predictor", {**defaults, **gpu}) == "gpu"
    assert profile_of("predictor", defaults) == "custom"  # the notebook's smoke defaults
    assert profile_of("predictor", {**defaults, **cpu, "epochs": cpu["epochs"] + 1}) == "custom"


def test_notebook_02s_banner_states_the_pipelines_real_settings():
    from tgnas.experiments.predictor_training import scale_note
    from tgnas.profiles import load_params

    cpu, gpu = load_params()["predictor"], load_params(gpu=True)["predictor"]
    smoke = scale_note("custom", "nb101", 0.01, 3)
    assert smoke.startswith("*** SMOKE MODE: 1 % of nb101, 3 epochs")
    assert f"the pipeline passes fraction={cpu['fraction']:g}, epochs={cpu['epochs']} (params.yaml)" in smoke
    assert f"the GPU profile fraction={gpu['fraction']:g}, epochs={gpu['epochs']}" in smoke
    assert "fraction=1," not in smoke.split("GPU profile")[0]  # the CPU pipeline does not pass fraction=1
    assert scale_note("cpu", "nb101", cpu["fraction"], cpu["epochs"]).startswith(
        f"cpu profile: {100 * cpu['fraction']:g} % of nb101, {cpu['epochs']} epochs")


def test_notebook_05_names_the_dataset_file_it_reads_by_default():
    from tgnas import datafiles

    cell = next(c for c in nbformat.read(ROOT / "notebooks" / "05_final_training.ipynb", as_version=4).cells
                if "parameters" in c.metadata.get("tags", []))
    line = next(x for x in cell.source.splitlines() if x.startswith("data_source"))
    comment = line.split("#", 1)[1]
    default, fallback = datafiles.get("cifar10_python").relpath, datafiles.get("cifar10_jpg").relpath
    # tgnas.datasets.cifar10.default_source: the official tarball, the JPEG zip only when it is absent
    assert f'"": the data root\'s {default}' in comment and "JPEG zip if absent" in comment, comment
    assert comment.index(str(default)) < comment.index("JPEG"), comment
    assert str(fallback) != str(default)


def test_every_output_of_a_frozen_stage_is_committed():
    # `dvc repro` verifies a frozen stage's outputs instead of running it; a fresh clone has no
    # DVC cache, so an output kept only there fails `make reproduce` ("missing data 'sources'")
    stages = _load("dvc.yaml")["stages"]
    tracked = set(subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                                 check=True).stdout.splitlines())
    frozen = {n: s for n, s in stages.items() if s.get("frozen")}
    assert len(frozen) >= 10
    for name, stage in frozen.items():
        for kind in ("outs", "metrics", "plots"):
            for out in stage.get(kind) or []:
                path, opts = (out, {}) if isinstance(out, str) else next(iter(out.items()))
                assert (opts or {}).get("cache", True) is False, f"stage {name}: {path} is kept in the DVC cache"
                assert path in tracked or any(t.startswith(path.rstrip("/") + "/") for t in tracked), \
                    f"stage {name}: {path} is not committed"
