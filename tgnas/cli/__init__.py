"""The ``tgnas`` command line: :func:`main` (the console script and ``python -m tgnas``), one
module per command, and the argument types they share (:mod:`tgnas.cli.args`)."""

from tgnas.cli.args import positive_int
from tgnas.cli.app import build_parser, main

__all__ = ["build_parser", "main", "positive_int"]
