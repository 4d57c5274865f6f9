"""Test-session set-up shared by unit tests and nbval runs of the notebooks."""

from __future__ import annotations

import os
import tempfile


def pytest_configure(config):
    # Outputs (figures, metrics, checkpoints) of notebooks and tests go to a throw-away
    # folder, so that `make test` never overwrites the pipeline's results. Set before any
    # kernel starts: nbval kernels inherit this process's environment.
    if not os.environ.get("TGNAS_OUTPUT_ROOT"):
        os.environ["TGNAS_OUTPUT_ROOT"] = tempfile.mkdtemp(prefix="tgnas-test-outputs-")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # Tiny networks run faster on one thread, and a second thread only waits for a core
    # that another test process or kernel holds (measured 10-20x slowdowns on 2 cores).
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
