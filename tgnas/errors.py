"""Which errors a user can fix, and how their messages quote user input.

The command line prints an *expected* error as one line, ``tgnas <command>: error: ...``,
with exit status 2 (argparse's convention); anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import unicodedata

#: Longest excerpt of a user's input quoted in an error message (a 10 MB string must not
#: become a 20 MB message).
MAX_SHOWN = 200


def check_text(text: object, what: str, limit: int) -> str:
    """Return ``text`` if it is a str of at most ``limit`` characters, else raise ``ValueError``
    (checked before any parsing, so a huge input costs nothing)."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be a str, got {type(text).__name__}: {shorten(text)}")
    if len(text) > limit:
        raise ValueError(f"{what} is {len(text):,} characters long; at most {limit:,} are accepted: "
                         f"{shorten(text)}")
    return text


class CommandError(Exception):
    """Base of the project's errors a user can fix (a missing data file, a failed download,
    a model that is not installed): the command line prints them as one line."""


class NamesOptions:
    """Mixin of errors whose message tells how to call again with a Python keyword option
    (``normalise='reference'``, ``overwrite=True``): the command line shows its flag instead
    (``--normalise reference``, ``--overwrite``), by :meth:`for_command_line`."""

    #: ``{Python spelling in the message: command-line spelling}``
    flags: dict[str, str] = {}

    def for_command_line(self) -> str:
        """The one-line message with every Python spelling of :attr:`flags` replaced by its flag."""
        msg = one_line(self)  # type: ignore[arg-type]
        for python, flag in self.flags.items():
            msg = msg.replace(python, flag)
        return msg


class SettingError(ValueError):
    """A setting (a field of a config) with a bad value. ``setting`` names it and ``problem``
    says what is expected; the command line names the flag that set it (``--lr``) instead."""

    def __init__(self, setting: str, problem: str) -> None:
        self.setting, self.problem = setting, problem
        super().__init__(f"{setting} {problem}")


class MissingResourceError(CommandError, RuntimeError):
    """A file or model the user must fetch is missing or corrupt (base of
    :class:`tgnas.datafiles.DataFileError` and :class:`tgnas.embeddings.ModelNotAvailableError`,
    defined here so that this module imports neither)."""


def shorten(value: object, limit: int = MAX_SHOWN) -> str:
    """``repr(value)``, cut to about ``limit`` characters with a note of the full length.

    Long strings are cut before ``repr`` (so quoting a huge input costs O(limit)) and after
    it (escapes such as ``\\U0002ebe1`` make a repr up to 10 times longer than the text).
    """
    if isinstance(value, str):
        text, n, cut = repr(value[:limit + 1]), len(value), len(value) > limit
    else:
        text = repr(value)
        n, cut = len(text), False
    if cut or len(text) > limit + 2:
        return f"{text[:limit]}... ({n:,} characters)"
    return text


def unusual_character(text: object) -> str:
    """Where a name holds a character a reader cannot see or cannot tell from a Latin one, as
    ``" (character 10 is U+0445 CYRILLIC SMALL LETTER HA)"``; ``""`` for plain printable ASCII.

    For messages about an unknown operator: ``'nor_conv_3х3'`` (a Cyrillic х) or a zero-width
    space look right in the message and wrong to the program.
    """
    if not isinstance(text, str):
        return ""
    for i, ch in enumerate(text[:MAX_SHOWN]):
        if not (ch.isascii() and ch.isprintable()):
            name = (", a lone surrogate: no character, so the text is not valid Unicode"
                    if 0xD800 <= ord(ch) <= 0xDFFF else " " + unicodedata.name(ch, "(unnamed)"))
            return f" (character {i + 1} is U+{ord(ch):04X}{name})"
    return ""


def expected_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean bad input, a missing or corrupt file, or a bad option.

    ``ValueError`` (bad values, malformed architecture strings, bad checkpoints), ``KeyError``
    (unknown names: presets, models, spaces), ``OSError`` subclasses a user causes
    (missing files, existing outputs, permissions, a file where a folder is expected), and
    :class:`CommandError`, the base of the project's own errors that a user can fix
    (``DataFileError``: benchmark file missing or corrupt; ``ModelNotAvailableError``:
    embedding model not installed; ``FetchError``, ``BuildError``: data set-up).
    """
    return (CommandError, ValueError, KeyError, FileNotFoundError, FileExistsError, PermissionError,
            NotADirectoryError, IsADirectoryError)


def one_line(err: BaseException) -> str:
    """The message of ``err`` on one line (a ``KeyError``'s without the quotes it adds)."""
    msg = err.args[0] if isinstance(err, KeyError) and len(err.args) == 1 else str(err)
    msg = " ".join(str(msg).split())
    return msg or type(err).__name__


__all__ = ["MAX_SHOWN", "CommandError", "MissingResourceError", "NamesOptions", "SettingError", "check_text", "expected_errors", "one_line", "shorten",
           "unusual_character"]
