# Two commands on a fresh clone (see README):
#   make test       set up .venv, get the benchmark data if needed, run the test suite (what CI runs)
#   make reproduce  the same set-up, then regenerate every table and figure (dvc repro)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# torch is pinned in the same pip command as everything else: an unpinned resolve would
# pull a multi-GB CUDA build where only the CPU wheel is wanted.
TORCH_PIN := torch==2.13.0

.PHONY: setup nbfilter data test test-all reproduce reproduce-gpu data-check kernel lab clean-venv

setup: $(STAMP) nbfilter

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_PIN)" -e ".[dev]"
	$(PY) -m ipykernel install --sys-prefix --name tgnas --display-name "Python (tgnas)" > /dev/null
	touch $(STAMP)

# Git stores the notebooks without outputs (scripts/nbclean.py: nbstripout, keeping the cells
# tagged keep_output), so a save in JupyterLab never dirties them; .gitattributes applies the
# filter to notebooks/*.ipynb, this registers its command (nothing to do outside a git checkout).
nbfilter:
	@if [ "$$(git rev-parse --show-toplevel 2> /dev/null)" = "$(CURDIR)" ]; then \
		git config filter.nbclean.clean "'$(abspath $(PY))' scripts/nbclean.py" && \
		git config filter.nbclean.smudge cat; \
	fi

# Benchmark data: nothing to do when `tgnas data check` passes (e.g. a staged data root);
# otherwise download the public originals and build the derived tables (docs/data.md).
# $TGNAS_DATA chooses the data root, $TGNAS_DATA_MIRROR a mirror of the originals.
data: setup
	@$(PY) -m tgnas data check --quiet > /dev/null || \
		{ $(PY) -m tgnas data fetch && $(PY) -m tgnas data build && $(PY) -m tgnas data check; }

test: setup data
	$(PY) -m pytest

test-all: setup data
	$(PY) -m pytest -m "slow or not slow"

data-check: setup
	$(PY) -m tgnas data check

reproduce: setup data
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(VENV)/bin/dvc repro

# The notebooks name the kernel "tgnas". Set-up registers it inside .venv (papermill, nbval
# and `make lab` find it there); `make kernel` registers it for a Jupyter installed elsewhere.
kernel: setup
	$(PY) -m ipykernel install --user --name tgnas --display-name "Python (tgnas)"

# JupyterLab rooted at the project (README, figures/, metrics/ and notebooks/ all reachable);
# --allow-root only when running as root (e.g. in a container).
LAB_ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
# Its kernels run under the pipeline's pinned numerics (tgnas/numerics.py), so a notebook run by
# hand computes the same floats as `dvc repro`.
lab: setup
	$(PY) -m pip install --quiet "$(TORCH_PIN)" -e ".[dev,lab]"
	env $$($(PY) -c "from tgnas.numerics import pinned_env_line; print(pinned_env_line())") \
		$(VENV)/bin/jupyter lab --ServerApp.root_dir="$(CURDIR)" $(LAB_ROOT_FLAG)

clean-venv:
	rm -rf $(VENV)

# GPU / paper-scale profile (params-gpu.yaml over params.yaml) as a DVC experiment.
reproduce-gpu: setup data
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" $(PY) scripts/profile_overrides.py params-gpu.yaml --run
