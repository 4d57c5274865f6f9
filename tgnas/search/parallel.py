"""Independent searches run side by side in forked worker processes.

Every search of a table (one algorithm, one seed, a fresh scorer cache) depends only on its
own seed, so running them in ``workers`` processes at once gives the same results, in the
same order, as running them one after the other (tested); only the wall times change, each
search's own time being measured inside its process.

Workers are *forked*: a job is a closure over the loaded predictor, rule and space, which
the child inherits from the parent's memory, so nothing but the job's index goes to a worker
and only its (picklable) result comes back. Each worker keeps the parent's torch thread
count; with the pipeline's one thread per process, ``workers`` processes use ``workers``
cores.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

#: The jobs of the running pool, inherited by its forked workers (never pickled).
_JOBS: Sequence[Callable[[], Any]] = ()


def _run(index: int) -> Any:
    return _JOBS[index]()


def check_workers(workers: object, name: str = "workers") -> int:
    """``workers`` if it is a positive integer; ``ValueError`` naming ``name`` otherwise, or when
    more than one worker is asked on a platform without the fork start method (Windows)."""
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"{name} must be a positive integer (processes running searches at once), got {workers!r}")
    if workers > 1 and "fork" not in multiprocessing.get_all_start_methods():
        raise ValueError(f"{name}={workers} needs the 'fork' start method, which this platform lacks; use {name}=1")
    return workers


def run_jobs(jobs: Sequence[Callable[[], T]], workers: int = 1, progress: bool = False,
             desc: str = "searches") -> list[T]:
    """``[job() for job in jobs]``, computed by ``workers`` forked processes when ``workers > 1``.

    Args:
        jobs: argument-free callables whose results can be pickled.
        workers: processes at once (1: in this process, no fork).
        progress: a bar over finished jobs.
    """
    global _JOBS
    workers = check_workers(workers)
    jobs = list(jobs)
    with tqdm(total=len(jobs), desc=desc, disable=not progress) as bar:
        if workers == 1 or len(jobs) < 2:
            return [_done(job(), bar) for job in jobs]
        _JOBS = jobs
        try:
            with multiprocessing.get_context("fork").Pool(min(workers, len(jobs))) as pool:
                # imap keeps the jobs' order
                return [_done(result, bar) for result in pool.imap(_run, range(len(jobs)))]
        finally:
            _JOBS = ()


def _done(result: T, bar: tqdm) -> T:
    bar.update()
    return result
