"""The CPU numeric setting the pipeline computes under, and a fingerprint of the current one.

The same code, seed and data give bit-identical floats only under the same *kernels*. On an
x86-64 CPU three things choose them, none of which the code sees:

* ATen's vectorised kernels (layer norm, softmax, GELU, reductions) follow the CPU's widest
  instruction set: AVX-512 and AVX2 machines sum in different orders.
* MKL's BLAS (every ``nn.Linear``, the sentence-transformer included) picks its code path
  by CPU model *and* splits products over threads differently for each thread count.
* oneDNN's JIT convolutions follow the instruction set too.
* Intra-op threads split every other reduction.

Measured on this project's machine (AMD EPYC, AVX-512): the operator embeddings differ in the
last bits between 1 and 2 threads and between AVX-512 and AVX2 kernels, and those last bits
moved a trained predictor's NB101 validation tau from 0.8055 to 0.8067 and NB201 tau from
0.624 to 0.632 (a fresh clone's ``dvc repro`` on a machine whose default was 2 threads).

:data:`PINNED_ENV` fixes them to what every x86-64 CPU since 2013 has (AVX2), and MKL to
its Conditional Numerical Reproducibility mode ``COMPATIBLE``. The variables must be set
before torch starts, so the pipeline's commands set them (``dvc.yaml``, the ``numerics``
var; a test keeps it equal to this dict), and so does the test session. Under them a
result does not depend on the core count, and ATen and MKL take the same path on every x86-64
CPU with AVX2; oneDNN documents no such promise across CPU models (its blockings may follow
cache sizes), and ARM or another BLAS differ anyway. Where floats differ, they differ in the last
bits; ``docs/pipeline.md`` states what that does to the pipeline's numbers (measured).
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping

# No torch here: conftest.py reads PINNED_ENV before torch loads, and torch reads the kernel
# and thread settings from the environment when it loads.

#: Environment under which the pipeline's numbers are computed (read when torch starts).
PINNED_ENV: Mapping[str, str] = {
    "ATEN_CPU_CAPABILITY": "avx2",  # ATen's kernels: the AVX2 versions, also on AVX-512 CPUs
    # MKL: its one code path documented to give the same results on Intel and other x86 CPUs
    # (the AVX2 branch is Intel-only: elsewhere MKL falls back to its automatic choice)
    "MKL_CBWR": "COMPATIBLE",
    "ONEDNN_MAX_CPU_ISA": "AVX2",  # oneDNN (convolutions): its AVX2 kernels, also on AVX-512 CPUs
    "OMP_NUM_THREADS": "1",  # one intra-op thread: no thread-count-dependent reduction order
    "MKL_NUM_THREADS": "1",
}


def pinned_env_line() -> str:
    """:data:`PINNED_ENV` as ``NAME=value`` words, the form of ``dvc.yaml``'s ``numerics`` var."""
    return " ".join(f"{k}={v}" for k, v in PINNED_ENV.items())


def fingerprint() -> dict[str, str | int | bool]:
    """What chooses this process's float kernels: ``machine``, ATen's ``cpu_capability``
    (e.g. ``"AVX2"``), ``mkl_cbwr`` (``"auto"`` when unset), torch's ``threads``, the
    ``torch`` version and ``pinned``: whether :data:`PINNED_ENV` is in force."""
    import torch  # lazy: the CLI's light commands never load torch

    pinned = all(os.environ.get(k) == v for k, v in PINNED_ENV.items()) and torch.get_num_threads() == 1
    return {"machine": platform.machine(), "cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "mkl_cbwr": os.environ.get("MKL_CBWR", "auto"), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "pinned": pinned}


def key() -> str:
    """Short tag of the current kernels for cache keys, e.g. ``"AVX2-mklAVX2-t1"``: a value
    computed under other kernels is never read back as if it were this setting's."""
    f = fingerprint()
    return f"{f['cpu_capability']}-mkl{f['mkl_cbwr']}-t{f['threads']}"


def describe() -> str:
    """One line for a notebook's output: the kernels in use and whether they are the pipeline's."""
    f = fingerprint()
    where = ("the pipeline's pinned setting: numbers are bit-identical on any x86-64 machine with AVX2"
             if f["pinned"] else
             f"not the pipeline's setting ({pinned_env_line()}): numbers may differ from the committed "
             f"ones in the last bits, and one-seed results by more")
    return (f"numerics: {f['machine']}, ATen {f['cpu_capability']}, MKL_CBWR={f['mkl_cbwr']}, "
            f"{f['threads']} thread(s), torch {f['torch']} ({where})")
