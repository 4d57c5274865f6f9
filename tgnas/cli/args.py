"""Argument types shared by the command modules.

Each refuses a bad value with argparse's one-line error naming the flag and what is expected,
and quotes at most a short excerpt of what was given (a 5,000-digit number is not echoed).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable

from tgnas.errors import shorten

__all__ = ["MAX_THREADS", "int_at_least", "integer", "positive_int", "seed", "threads"]

#: Most digits an integer flag takes (Python refuses to convert more than 4,300 anyway).
_MAX_DIGITS = 30
#: tgnas.runtime.MAX_THREADS and MAX_SEED, here without importing torch to parse arguments
#: (a test keeps them equal).
MAX_THREADS = 4 * (os.cpu_count() or 1)
_MAX_SEED = 2**63 - 1


def integer(text: str, what: str = "an integer") -> int:
    """argparse type: an integer (decimal, at most 30 digits); ``what`` says what is expected."""
    digits = text.strip().removeprefix("-").removeprefix("+")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > _MAX_DIGITS:
        raise argparse.ArgumentTypeError(f"expected {what}, got {shorten(text, 40)}")
    return int(text)


def _at_least(text: str, minimum: int, what: str) -> int:
    value = integer(text, what)
    if value < minimum:
        raise argparse.ArgumentTypeError(f"expected {what}, got {value}")
    return value


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _at_least(text, 1, "a positive integer")


def int_at_least(minimum: int) -> Callable[[str], int]:
    """argparse type: an integer >= ``minimum``."""
    def parse(text: str) -> int:
        return _at_least(text, minimum, f"an integer >= {minimum}")

    return parse


def threads(text: str) -> int:
    """argparse type: CPU threads, 0 (torch's default) to :data:`MAX_THREADS`."""
    value = _at_least(text, 0, f"0 (torch's default) or a thread count 1..{MAX_THREADS}")
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"expected 0 (torch's default) or a thread count 1..{MAX_THREADS} "
                                         f"(4 per CPU core here), got {value}")
    return value


def seed(text: str) -> int:
    """argparse type: a random seed, an integer in 0..2**63-1 (what torch's generators take)."""
    value = _at_least(text, 0, "a seed in 0..2**63-1")
    if value > _MAX_SEED:
        raise argparse.ArgumentTypeError(f"expected a seed in 0..2**63-1, got {shorten(text, 40)}")
    return value
