"""Test-session set-up shared by unit tests and nbval runs of the notebooks."""

from __future__ import annotations

import os
import tempfile

import pytest


def pytest_configure(config):
    # Outputs (figures, metrics, checkpoints) of notebooks and tests go to a throw-away
    # folder, so that `make test` never overwrites the pipeline's results. Set before any
    # kernel starts: nbval kernels inherit this process's environment.
    if not os.environ.get("TGNAS_OUTPUT_ROOT"):
        os.environ["TGNAS_OUTPUT_ROOT"] = tempfile.mkdtemp(prefix="tgnas-test-outputs-")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # The pipeline's pinned numerics (one thread, AVX2 kernels, MKL's reproducible mode), read
    # when torch starts: the notebooks' kept outputs and the tests' numbers are the pipeline's
    # on any x86-64 machine. One thread is also faster for tiny networks: a second thread only
    # waits for a core that another test process or kernel holds (10-20x slowdowns measured).
    from tgnas.numerics import PINNED_ENV  # torch-free module

    for name, value in PINNED_ENV.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """Tiny tensors gain nothing from intra-op threads, and on a shared 2-core machine
    spinning OpenMP threads make each step up to 20x slower; restored after each test
    because some tests (CLI ``--threads``) change it."""
    import torch  # imported here, after pytest_configure has set OMP_NUM_THREADS

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
