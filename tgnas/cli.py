"""``tgnas`` command line: a thin wrapper over the functions the notebooks call.

Each command group lives in its own ``tgnas/cli_<group>.py`` module exposing
``register(subparsers)``, which adds its sub-commands with ``set_defaults(func=...)``;
``func(args) -> int`` is the exit status.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tgnas import __version__

#: modules that add sub-commands; each has ``register(subparsers)``.
COMMAND_MODULES: tuple[str, ...] = (
    "tgnas.cli_data",
    "tgnas.cli_embed",
    "tgnas.cli_predictor",
    "tgnas.cli_search",
    "tgnas.cli_train_final",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tgnas", description="TG-NAS: zero-cost NAS proxies from operator descriptions and graph learning.")
    parser.add_argument("--version", action="version", version=f"tgnas {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tgnas`` console script and ``python -m tgnas``."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
