"""What the command line does for a whole process, and the library never does: signals that
end a command, and a standard output that cannot be written.

:func:`run_command` runs one command with SIGTERM (and SIGHUP, where it exists) turned into
:class:`Terminated`, an exception, so that every ``finally`` and context manager on the way out
runs (:func:`tgnas.fileio.atomic_output` removes its temporary file) instead of the process
dying mid-write; the previous handlers come back afterwards. Standard output is flushed before
the command counts as done, so a full device (``> /dev/full``) is one error line, not a
traceback at interpreter exit.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator

from tgnas.errors import CommandError

__all__ = ["Terminated", "StdoutError", "run_command"]

#: Signals a command ends on, cleaning up (SIGHUP: the terminal went away).
SIGNALS = tuple(s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None)


class Terminated(BaseException):
    """The process was asked to end (SIGTERM, SIGHUP). A ``BaseException``, like
    ``KeyboardInterrupt``, so that no ``except Exception`` swallows it on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.status = 128 + signum  # the shell's exit status of a process ended by this signal


class StdoutError(CommandError, OSError):
    """Standard output could not be written (a full device, a file-size limit)."""


def _raise_terminated(signum: int, frame) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """Turn :data:`SIGNALS` into :class:`Terminated` for the block (main thread only: Python
    allows handlers nowhere else); restore the previous handlers afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, _raise_terminated) for s in SIGNALS}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


#: errno values of a stream write that failed: a full device, the file-size limit, a closed pipe.
_STREAM_ERRORS = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT, errno.EPIPE}


def _flush_stdout() -> None:
    """Flush standard output; a failure becomes :class:`StdoutError`."""
    try:
        sys.stdout.flush()
    except OSError as e:
        _stdout_failed(e)


def _stdout_failed(err: OSError) -> None:
    """Raise :class:`StdoutError` for ``err``, after pointing stdout at the null device, so that
    Python's own flush at exit does not fail a second time with a traceback."""
    _silence_stdout()
    raise StdoutError(f"cannot write to standard output: {err.strerror or err}") from None


def _silence_stdout() -> None:
    with contextlib.suppress(OSError, ValueError, AttributeError):  # (a test's capture has no fileno)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)


def run_command(func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """``func(args)``'s exit status, with signals ending it cleanly and stdout flushed.

    Raises:
        Terminated: SIGTERM / SIGHUP arrived (after the command's clean-up ran).
        StdoutError: standard output could not be written.
    """
    with _signals_raise():
        try:
            status = int(func(args) or 0)
        except OSError as e:
            # a write without a file name is a stream's: every file goes through
            # tgnas.fileio.atomic_output, which names its own errors
            if e.filename is None and e.errno in _STREAM_ERRORS:
                _stdout_failed(e)
            raise
        _flush_stdout()
    return status
