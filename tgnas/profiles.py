"""Run a pipeline stage's notebook outside DVC with a parameter profile (CPU, GPU, toy).

``dvc repro`` passes each stage's ``params.yaml`` section to its notebook with papermill;
:func:`stage_parameters` reads the same mapping from ``dvc.yaml``, so a run here takes the
same code path as the pipeline. Used by the GPU check (``scripts/gpu_check.py``) and by the
test suite's CPU dry run of the GPU profile at toy scale (:data:`TOY_OVERRIDES`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from tgnas import paths

ROOT = paths.PROJECT_ROOT

#: The GPU profile at toy scale on a CPU: the same keys and code paths (all study variants,
#: proxies computed, several seeds, paper-scale final-training network, weight averaging),
#: tiny fractions, epochs and samples.
TOY_OVERRIDES: dict[str, dict[str, Any]] = {
    "predictor": {"fraction": 0.002, "epochs": 3, "average_from": 2, "device": "cpu"},
    "correlations": {"n_boot": 20, "transfer_fraction": 0.002, "transfer_epochs": 1, "nb101_eval_cells": 200,
                     "ablation_fraction": 0.002, "ablation_epochs": 1, "ablation_lengths": "short,long",
                     "data_ratios": "0.001,0.002", "independence_cells": 100, "proxy_sample": 2, "n_seeds": 2,
                     "device": "cpu"},
    "search": {"seeds": 2, "budget": 50, "prune_samples": 4, "darts_prune_samples": 4, "darts_budget": 50,
               "darts_random": 50, "darts_seeds": 1, "darts_pool": 200},
    "final_training": {"epochs": 1, "train_images": 64, "test_images": 64, "run_tag": "toy_gpu_profile"},
    "plus": {"study_fraction": 0.002, "study_epochs": 1, "study_seeds": "0", "nb101_sample": 150,
             "nb301_cells": 40, "nb201_cells": 100, "device": "cpu"},
}


def merge(base: Mapping, *overrides: Mapping | None) -> dict:
    """``base`` with each override's ``{section: {key: value}}`` applied; every key must exist."""
    out = copy.deepcopy(dict(base))
    for ov in overrides:
        for section, values in (ov or {}).items():
            if section not in out:
                raise KeyError(f"unknown params section {section!r}; expected one of {sorted(out)}")
            for key, value in values.items():
                if key not in out[section]:
                    raise KeyError(f"unknown parameter {section}.{key}; expected one of {sorted(out[section])}")
                out[section][key] = value
    return out


def load_params(gpu: bool = False, overrides: Mapping | None = None) -> dict:
    """``params.yaml``, with ``params-gpu.yaml`` over it when ``gpu``, then ``overrides``."""
    base = yaml.safe_load((ROOT / "params.yaml").read_text())
    gpu_ov = yaml.safe_load((ROOT / "params-gpu.yaml").read_text()) if gpu else None
    return merge(base, gpu_ov, overrides)


def stage_parameters(stage: str, params: Mapping) -> tuple[Path, dict[str, Any]]:
    """The notebook a ``dvc.yaml`` stage runs and the papermill parameters it passes, with
    their values taken from ``params`` (a merged profile)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    if stage not in stages:
        raise KeyError(f"unknown stage {stage!r}; expected one of {sorted(stages)}")
    cmd = stages[stage]["cmd"]
    nb = re.search(r"(notebooks/\d\d_\w+\.ipynb)", cmd)
    if nb is None:
        raise ValueError(f"stage {stage!r} runs no notebook: {cmd}")
    found = re.findall(r'-p (\w+) "?\$\{(\w+)\.(\w+)\}"?', cmd) + re.findall(r'-y "(\w+): \$\{(\w+)\.(\w+)\}"', cmd)
    return ROOT / nb.group(1), {name: params[sec][key] for name, sec, key in found}


def run_stage(stage: str, params: Mapping, out_dir: Path, cell_timeout_s: float | None = None,
              **extra: Any) -> Path:
    """Execute ``stage``'s notebook with its parameters from ``params`` (plus ``extra``, e.g.
    ``torch_threads``); the executed copy goes to ``out_dir``; a cell running longer than
    ``cell_timeout_s`` fails the run. Outputs land under ``tgnas.paths.OUTPUT_ROOT`` (set
    ``TGNAS_OUTPUT_ROOT`` to keep the pipeline's files)."""
    import papermill

    nb, parameters = stage_parameters(stage, params)
    out = Path(out_dir) / nb.name
    out.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(nb), str(out), parameters={**parameters, **extra}, kernel_name="python3",
                               progress_bar=False, cwd=str(ROOT), execution_timeout=cell_timeout_s)
    return out


#: The pipeline's parameter profiles: the default (CPU) one and the GPU / paper-scale one.
PROFILES: tuple[str, ...] = ("cpu", "gpu")


def profile_of(stage: str, values: Mapping[str, Any]) -> str:
    """Name the profile a run of ``stage``'s notebook used: ``"cpu"`` when every parameter the
    stage passes has its ``params.yaml`` value in ``values`` (the notebook's parameters, e.g.
    its ``globals()``), ``"gpu"`` when they have the GPU profile's values, else ``"custom"``
    (the notebook's own smoke defaults, or any other setting)."""
    for name in PROFILES:
        _, wanted = stage_parameters(stage, load_params(gpu=name == "gpu"))
        if all(k in values and values[k] == v for k, v in wanted.items()):
            return name
    return "custom"


__all__ = ["PROFILES", "TOY_OVERRIDES", "load_params", "merge", "profile_of", "run_stage", "stage_parameters"]
