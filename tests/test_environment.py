"""The conda environment and the pip requirements list the same packages."""

from __future__ import annotations

import re
import tomllib

import yaml

from tgnas import paths


def _name(req: str) -> str:
    return re.split(r"[<>=!~\[ ;]", req.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pip_requirements() -> dict[str, str]:
    data = tomllib.loads((paths.PROJECT_ROOT / "pyproject.toml").read_text())
    reqs = list(data["project"]["dependencies"]) + list(data["project"]["optional-dependencies"]["dev"])
    return {_name(r): r.replace(" ", "") for r in reqs}


def _conda_pip_section() -> dict[str, str]:
    env = yaml.safe_load((paths.PROJECT_ROOT / "environment.yml").read_text())
    pip_lists = [d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert len(pip_lists) == 1, "environment.yml must have exactly one pip: section"
    return {_name(r): r.replace(" ", "") for r in pip_lists[0] if not r.startswith("-e")}


def test_environment_yml_mirrors_pyproject():
    pip_reqs = _pip_requirements()
    conda_reqs = _conda_pip_section()
    # torch is pinned exactly in both install routes (Makefile and environment.yml).
    assert conda_reqs.pop("torch") == "torch==2.13.0"
    assert pip_reqs.pop("torch").startswith("torch")
    assert conda_reqs == pip_reqs


def test_makefile_pins_torch_in_the_same_pip_command():
    makefile = (paths.PROJECT_ROOT / "Makefile").read_text()
    assert "TORCH_PIN := torch==2.13.0" in makefile
    install_lines = [ln for ln in makefile.splitlines() if "pip install" in ln and "-e" in ln]
    assert install_lines and all("$(TORCH_PIN)" in ln for ln in install_lines)


def test_no_torchvision_or_tensorflow():
    text = (paths.PROJECT_ROOT / "pyproject.toml").read_text() + (paths.PROJECT_ROOT / "environment.yml").read_text()
    assert "torchvision" not in text and "tensorflow" not in text


def test_package_metadata_builds_without_deprecation_warnings():
    """setuptools reads pyproject.toml as `pip install .` / `pip wheel .` do, without the
    deprecation of `project.license` as a TOML table (an SPDX string instead; setuptools >= 77)."""
    import warnings

    from setuptools.config.pyprojecttoml import apply_configuration
    from setuptools.dist import Distribution

    pyproject = paths.PROJECT_ROOT / "pyproject.toml"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dist = apply_configuration(Distribution(), str(pyproject))
    assert [str(w.message).splitlines()[0] for w in caught] == []
    assert dist.metadata.license_expression == "MIT"
    requires = tomllib.loads(pyproject.read_text())["build-system"]["requires"]
    assert "setuptools>=77" in requires  # the first release that reads an SPDX `license`
