"""``tgnas`` command line: a thin wrapper over the functions the notebooks call.

Each command lives in its own module of ``tgnas/cli/`` exposing ``register(parser)``, which
fills the command's parser (description, arguments, sub-actions) and sets
``set_defaults(func=...)``; ``func(args) -> int`` is the exit status. :data:`COMMANDS` holds
each command's name and one-line help, and a function that imports its module: :func:`main`
imports only the module of the command being run, so ``tgnas --help`` and light commands such
as ``tgnas data check`` never load torch (seconds of start-up).

Errors a user can fix (:func:`tgnas.errors.expected_errors`) are reported by :func:`main` for
every sub-command alike: one line ``tgnas <command>: error: ...`` on stderr and exit status
2 (where the library's message says a Python option, ``overwrite=True``, the line says
the flag, ``--overwrite``: :class:`tgnas.errors.NamesOptions`); other exceptions are bugs
and keep their traceback. ``tgnas --debug ...`` shows the traceback of every error. SIGTERM
ends a command through its clean-up (no temporary file left, exit status 143;
:mod:`tgnas.cli.guard`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from types import ModuleType

from tgnas.cli.guard import Terminated, run_command
from tgnas.errors import NamesOptions, SettingError, expected_errors, one_line
from tgnas.version import __version__

# One loader per command module: the import runs only when that command is parsed.


def _data() -> ModuleType:
    import tgnas.cli.data as module
    return module


def _embed() -> ModuleType:
    import tgnas.cli.embed as module
    return module


def _models() -> ModuleType:
    import tgnas.cli.models as module
    return module


def _train() -> ModuleType:
    import tgnas.cli.train as module
    return module


def _score() -> ModuleType:
    import tgnas.cli.score as module
    return module


def _search() -> ModuleType:
    import tgnas.cli.search as module
    return module


def _train_final() -> ModuleType:
    import tgnas.cli.train_final as module
    return module


@dataclass(frozen=True)
class Command:
    """A sub-command: its one-line help (``tgnas --help``) and the loader of its module."""

    help: str
    load: Callable[[], ModuleType]


#: Every sub-command, in the order ``tgnas --help`` lists them.
COMMANDS: dict[str, Command] = {
    "data": Command("benchmark data: download, build, check files and checksums", _data),
    "embed": Command("embed the operators of a search space and show their neighbours", _embed),
    "models": Command("embedding models (list, fetch) and the shipped predictor (list, ship)", _models),
    "train": Command("train the TG-NAS predictor (checkpoint every epoch)", _train),
    "score": Command("score architectures with a trained predictor (default: the shipped one)", _score),
    "search": Command("search an architecture with the predictor or a baseline scorer", _search),
    "train-final": Command("train a found architecture (CIFAR-10 / ImageNet, CPU to N GPUs)", _train_final),
}


def build_parser(commands: Collection[str] | None = None) -> argparse.ArgumentParser:
    """The ``tgnas`` parser; ``commands``: the sub-commands whose modules are loaded and whose
    arguments are added (default: all). The others are listed with their help only."""
    parser = argparse.ArgumentParser(
        prog="tgnas", description="TG-NAS: zero-cost NAS proxies from operator descriptions and graph learning.")
    parser.add_argument("--version", action="version", version=f"tgnas {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of every error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name, command in COMMANDS.items():
        child = sub.add_parser(name, help=command.help)
        if commands is None or name in commands:
            command.load().register(child)
    _name_commands(parser)
    return parser


def command_of(argv: Sequence[str]) -> str | None:
    """The sub-command ``argv`` runs (the first word after the global options), or ``None``."""
    for word in argv:
        if word == "--debug":
            continue
        return word if word in COMMANDS else None
    return None


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
    argv = list(sys.argv[1:] if argv is None else argv)
    command = command_of(argv)
    parser = build_parser(() if command is None else (command,))
    args = parser.parse_args(argv)
    try:
        return run_command(args.func, args)  # SIGTERM cleans up; a full stdout is an error
    except Terminated as sig:
        print(f"tgnas {args.command_name}: terminated by {sig}", file=sys.stderr)
        return sig.status
    except expected_errors() as err:
        if args.debug:
            raise
        print(f"tgnas {args.command_name}: error: {_message(err, parser, args.command_name)}", file=sys.stderr)
        return 2


def _message(err: BaseException, parser: argparse.ArgumentParser, command_name: str) -> str:
    """One line for ``err``, naming the command line's flags where the library names an option
    (``overwrite=True`` -> ``--overwrite``) or a setting (``lr`` -> ``--lr``)."""
    if isinstance(err, NamesOptions):
        return err.for_command_line()
    if isinstance(err, SettingError):
        flag = _flag_of(parser, command_name, err.setting)
        if flag is not None:
            return one_line(ValueError(f"{flag} {err.problem}"))
    return one_line(err)


def _flag_of(parser: argparse.ArgumentParser, command_name: str, setting: str) -> str | None:
    """The flag of ``command_name`` that sets ``setting`` (its ``dest`` is the setting, or
    ``cfg_<setting>`` for the config flags), or ``None``."""
    for word in command_name.split():
        parser = parser._subparsers._group_actions[0].choices[word]
    for action in parser._actions:
        if action.option_strings and action.dest in (setting, f"cfg_{setting}"):
            return action.option_strings[0]
    return None
