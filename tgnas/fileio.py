"""Small file helpers every module shares: checksums, atomic writes, strict JSON, figures.

Every output the project writes goes through :func:`atomic_output`: the bytes land in a
new temporary file beside the target (a random name created exclusively) and are renamed over
it only when complete, so a crash or a full disk never leaves half a file, and an existing
result is replaced only when the caller says so (``overwrite=True``); a folder, FIFO or device
is never replaced, and :func:`check_not_input` refuses an output that is one of the inputs.
Nothing here changes global state (no matplotlib backend, no thread counts, no working
directory, no signal handlers: the command line turns SIGTERM into an exception, so the
temporary file is removed on the way out).
"""

from __future__ import annotations

import errno
import hashlib
import json
import math
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from tgnas.errors import CommandError, NamesOptions

__all__ = ["OutputExistsError", "OutputTypeError", "OutputWriteError", "atomic_output", "check_output",
           "check_not_input", "read_json", "save_and_show", "save_figure", "md5_file", "sha256_file",
           "to_jsonable", "write_json", "write_text"]

# (path, size, mtime_ns) -> sha256: a file is hashed once per process unless it changes.
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


class OutputExistsError(NamesOptions, FileExistsError):
    """An output file exists and the caller did not ask to overwrite it (the command line
    names ``--overwrite`` / ``--resume`` where the message says ``overwrite=True`` / ``resume=True``)."""

    flags = {"overwrite=True": "--overwrite", "resume=True": "--resume"}


def sha256_file(path: Path | str, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file's bytes, cached per (path, size, mtime) for this process."""
    path = Path(path)
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(chunk), b""):
                h.update(block)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]


def md5_file(path: Path | str, chunk: int = 1 << 20) -> str:
    """Hex MD5 of a file (for sources that publish only an MD5), cached like :func:`sha256_file`."""
    path = Path(path)
    st = path.stat()
    key = ("md5:" + str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _HASH_CACHE:
        h = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(chunk), b""):
                h.update(block)
        _HASH_CACHE[key] = h.hexdigest()
    return _HASH_CACHE[key]


def check_output(path: Path | str, overwrite: bool = False, what: str = "output") -> Path:
    """Check before long work that ``path`` may be written; return it resolved.

    Raises:
        OutputExistsError: ``path`` exists and ``overwrite`` is false.
        IsADirectoryError, OutputTypeError: ``path`` is a folder, a FIFO, a device or a socket
            (never replaced by a regular file, even with ``overwrite``).
        PermissionError: its folder exists but is not writable.
        OutputWriteError: its name is longer than the file system allows.
    """
    path = Path(path).expanduser().resolve()
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if folder is not None and not folder.is_dir():
        raise NotADirectoryError(f"cannot write {what} {path}: {folder} is a file, not a folder")
    if folder is not None and len(os.fsencode(path.name)) > _name_max(folder):  # (before stat fails on it)
        raise OutputWriteError(f"cannot write {what} {path}: its name is {len(os.fsencode(path.name))} bytes long, "
                               f"the file system allows {_name_max(folder)}")
    _refuse_special(path, what)
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{what} {path} already exists; refusing to overwrite it "
                                f"(choose another path, or overwrite=True to replace it)")
    if folder is not None and not os.access(folder, os.W_OK):
        raise PermissionError(f"cannot write {what} {path}: folder {folder} is not writable")
    return path


def check_not_input(out: Path | str, inputs: Mapping[str, Path | str | None], what: str = "--out") -> None:
    """Refuse an output that is one of the inputs being read (the same file, a link to it).

    ``inputs`` maps how each input is named in the message (``"--archs file"``) to its path
    (``None``: not given). Writing the output would replace what the command reads, even when
    the user asked to overwrite an existing output.

    Raises:
        ValueError: ``out`` is (or resolves to) one of ``inputs``, naming it.
    """
    out_path = Path(out).expanduser()
    for name, given in inputs.items():
        if given is None or str(given) == "-":
            continue
        src = Path(given).expanduser()
        same = out_path.resolve() == src.resolve()
        if not same and out_path.exists() and src.exists():
            same = os.path.samefile(out_path, src)
        if same:
            raise ValueError(f"{what} {out_path} is the {name} being read; writing it would destroy that "
                             f"input: choose another file")


class OutputTypeError(FileExistsError):
    """An output path names a FIFO, a device or a socket: it is not replaced by a file."""


class OutputWriteError(CommandError, OSError):
    """An output could not be written for a reason the user can fix (a full disk, the file-size
    limit, a name too long); nothing was left behind."""


#: errno values of a write that failed for want of room (full disk, quota, file-size limit).
_NO_ROOM = {errno.ENOSPC, errno.EFBIG, errno.EDQUOT}


def _refuse_special(path: Path, what: str) -> None:
    """Raise if ``path`` exists and is not a regular file (replacing it would lose what it is)."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return  # absent (or unreadable: the write itself will say)
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(f"{what} {path} is a folder; give a file name")
    if not stat.S_ISREG(mode):
        kind = "a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode) else "a device"
        raise OutputTypeError(f"{what} {path} is {kind}, not a regular file; outputs are written as new files "
                              f"renamed into place, so give a file name (or leave out {what} to print)")


def _name_max(folder: Path) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no pathconf (Windows) or no answer: the common limit
        return 255


def _temp_file(path: Path) -> Path:
    """Create an empty temporary file beside ``path`` and return its path.

    Like :func:`tempfile.mkstemp`: a random name opened with ``O_CREAT | O_EXCL`` (a file or a
    symlink planted there is never followed or reused, and a leftover of a killed run never
    collides), in the target's folder (so the final rename stays on one file system). Unlike
    ``mkstemp`` its mode is ``0o666`` less the umask, as for any file the user creates (mkstemp's
    0600 would carry over to the output). Its name keeps a short head of the target's name
    (so a leftover says whose it is) and stays far below ``NAME_MAX``.
    """
    suffix = path.suffix if len(path.suffix) <= 16 else ""  # e.g. np.savez wants its ".npz"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        tmp = path.with_name(f".{path.stem[:40]}.{secrets.token_hex(6)}.tmp{suffix}")
        try:
            os.close(os.open(tmp, flags, 0o666))
            return tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name beside {path}")


@contextmanager
def atomic_output(path: Path | str, overwrite: bool = True, what: str = "output") -> Iterator[Path]:
    """Yield a new, empty temporary file beside ``path``; rename it onto ``path`` when the block succeeds.

    The parent folder is created. On any exception (or a ``BaseException`` such as the one the
    command line raises on SIGTERM) the temporary file is removed and the existing ``path`` (if
    any) is left untouched. A write that fails for want of room (full disk, file-size limit)
    becomes :class:`OutputWriteError`, a one-line error.
    """
    path = check_output(path, overwrite, what)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temp_file(path)
    try:
        try:
            yield tmp
        except OSError as e:
            if e.errno in _NO_ROOM:
                raise OutputWriteError(f"cannot write {what} {path}: {e.strerror}; nothing was written") from None
            raise
        if not overwrite and path.exists():  # appeared while we were writing
            raise OutputExistsError(f"{what} {path} appeared while it was being written; not replaced")
        _refuse_special(path, what)  # (a FIFO made while we were writing)
        os.replace(tmp, path)
    finally:
        with suppress(FileNotFoundError):
            os.unlink(tmp)


def write_text(path: Path | str, text: str, overwrite: bool = True) -> Path:
    """Write ``text`` to ``path`` atomically; return the resolved path."""
    with atomic_output(path, overwrite) as tmp:
        tmp.write_text(text)
    return Path(path).expanduser().resolve()


def to_jsonable(x: Any) -> Any:
    """Strict-JSON-ready copy: NaN/inf -> None, numpy scalars/arrays -> Python, DataFrames ->
    list of records, tuples -> lists, keys -> str."""
    if hasattr(x, "to_dict") and hasattr(x, "columns"):  # a DataFrame, without importing pandas
        return to_jsonable(x.to_dict(orient="records"))
    if isinstance(x, dict):
        return {str(k): to_jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_jsonable(v) for v in x]
    if hasattr(x, "tolist") and not isinstance(x, (str, bytes)):  # numpy scalar or array
        return to_jsonable(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def write_json(obj: Any, path: Path | str, overwrite: bool = True, indent: int | None = 1,
               sort_keys: bool = False) -> Path:
    """Write ``obj`` as strict JSON (see :func:`to_jsonable`), atomically; return the path."""
    text = json.dumps(to_jsonable(obj), indent=indent, sort_keys=sort_keys, allow_nan=False)
    return write_text(path, text + "\n", overwrite)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a JSON number (strict JSON has no NaN or Infinity)")


def read_json(path: Path | str, what: str = "JSON file", max_bytes: int = 64 << 20, allow_nan: bool = False) -> Any:
    """Read strict JSON (no ``NaN`` / ``Infinity``, unless ``allow_nan``: for a caller that checks
    every number itself and can name where a NaN is) from a file someone else may have written.

    Raises:
        FileNotFoundError: no file; ValueError: larger than ``max_bytes``, not UTF-8, not strict
            JSON (the message names the line), or nested too deeply to read.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"{what} {path} is {size:,} bytes; at most {max_bytes:,} are read")
    try:
        return json.loads(path.read_text(encoding="utf-8"), parse_constant=None if allow_nan else _refuse_constant)
    except UnicodeDecodeError as e:
        raise ValueError(f"{what} {path} is not UTF-8 text (byte {e.start})") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"{what} {path} is not JSON: {e.msg} (line {e.lineno}, column {e.colno})") from None
    except RecursionError:
        raise ValueError(f"{what} {path} is nested too deeply to read") from None
    except ValueError as e:
        raise ValueError(f"{what} {path}: {e}") from None


def save_figure(fig, path: Path | str, dpi: int = 130, overwrite: bool = True) -> Path:
    """Save a matplotlib figure atomically (format from the suffix); the backend is the
    caller's choice, and the figure stays open for display in a notebook."""
    path = Path(path)
    with atomic_output(path, overwrite, "figure") as tmp:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format=path.suffix.lstrip(".") or "png")
    return path.expanduser().resolve()


def save_and_show(fig, path: Path | str, dpi: int = 130) -> Path:
    """In a notebook: save ``fig`` (:func:`save_figure`), close it, and display the saved file,
    so that the image a reader sees is the committed figure itself (which :mod:`tgnas.nbrender`
    links), not a second rendering at another resolution."""
    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    out = save_figure(fig, path, dpi=dpi)
    plt.close(fig)
    display(Image(filename=str(out)))
    return out
