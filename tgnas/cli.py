"""``tgnas`` command line: a thin wrapper over the functions the notebooks call.

Each command group lives in its own ``tgnas/cli_<group>.py`` module exposing
``register(subparsers)``, which adds its sub-commands with ``set_defaults(func=...)``;
``func(args) -> int`` is the exit status.

Errors a user can fix (:func:`tgnas.errors.expected_errors`) are reported by :func:`main` for
every sub-command alike: one line ``tgnas <command>: error: ...`` on stderr and exit status
2; other exceptions are bugs and keep their traceback. ``tgnas --debug ...`` shows the
traceback of every error.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from tgnas import cli_data, cli_embed, cli_search, cli_train_final
from tgnas.argtypes import positive_int  # kept here for tgnas.cli_predictor (pending, see below)
from tgnas.errors import expected_errors, one_line
from tgnas.version import __version__

def _command_modules() -> tuple:
    """The modules that add sub-commands, in ``tgnas --help`` order; each has ``register(subparsers)``."""
    # Pending (tests/test_import_cycles.py, _PENDING): tgnas.cli_predictor still imports
    # positive_int from this module, so a plain import of it here would close the loop
    # cli -> cli_predictor -> cli. Once it imports tgnas.argtypes, it joins the import above
    # and importlib goes.
    cli_predictor = importlib.import_module("tgnas.cli_predictor")
    return (cli_data, cli_embed, cli_predictor, cli_search, cli_train_final)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tgnas", description="TG-NAS: zero-cost NAS proxies from operator descriptions and graph learning.")
    parser.add_argument("--version", action="version", version=f"tgnas {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of every error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in _command_modules():
        module.register(sub)
    _name_commands(parser)
    return parser


def _name_commands(parser: argparse.ArgumentParser) -> None:
    """Store each (sub-)command's name (``"data check"``) as ``args.command_name``."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                child.set_defaults(command_name=child.prog.removeprefix(f"{parser.prog.split()[0]} "))
                _name_commands(child)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``tgnas`` console script and ``python -m tgnas``.

    Returns the exit status: the command's, or 2 after an expected error (printed as one line).
    """
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except expected_errors() as err:
        if args.debug:
            raise
        print(f"tgnas {args.command_name}: error: {one_line(err)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
