"""``tgnas`` command line: a thin wrapper over the functions the notebooks call.

Each command lives in its own module of ``tgnas/cli/`` exposing ``register(subparsers)``,
which adds its sub-commands with ``set_defaults(func=...)``; ``func(args) -> int`` is the
exit status. A command module imports only what its parser needs at the top; its command
function imports the heavy modules it runs (so ``tgnas --help`` stays fast).

Errors a user can fix (:func:`tgnas.errors.expected_errors`) are reported by :func:`main` for
every sub-command alike: one line ``tgnas <command>: error: ...`` on stderr and exit status
2; other exceptions are bugs and keep their traceback. ``tgnas --debug ...`` shows the
traceback of every error. SIGTERM ends a command through its clean-up (no temporary file left,
exit status 143; :mod:`tgnas.cli.guard`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import tgnas.cli.data as data
import tgnas.cli.embed as embed
import tgnas.cli.models as models
import tgnas.cli.score as score
import tgnas.cli.search as search
import tgnas.cli.train as train
import tgnas.cli.train_final as train_final
from tgnas.cli.guard import Terminated, run_command
from tgnas.errors import expected_errors, one_line
from tgnas.version import __version__

#: modules that add sub-commands; each has ``register(subparsers)``.
COMMAND_MODULES = (data, embed, models, train, score, search, train_final)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tgnas", description="TG-NAS: zero-cost NAS proxies from operator descriptions and graph learning.")
    parser.add_argument("--version", action="version", version=f"tgnas {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of every error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for module in COMMAND_MODULES:
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
        return run_command(args.func, args)  # SIGTERM cleans up; a full stdout is an error
    except Terminated as sig:
        print(f"tgnas {args.command_name}: terminated by {sig}", file=sys.stderr)
        return sig.status
    except expected_errors() as err:
        if args.debug:
            raise
        print(f"tgnas {args.command_name}: error: {one_line(err)}", file=sys.stderr)
        return 2
