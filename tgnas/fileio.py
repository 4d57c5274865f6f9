"""Small file helpers every module shares: checksums, atomic writes, strict JSON, figures.

Every output the project writes goes through :func:`atomic_output`: the bytes land in a
temporary file beside the target and are renamed over it only when complete, so a crash or
a full disk never leaves half a file, and an existing result is replaced only when the
caller says so (``overwrite=True``). Nothing here changes global state (no matplotlib
backend, no thread counts, no working directory).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["OutputExistsError", "atomic_output", "check_output", "save_and_show", "save_figure", "md5_file", "sha256_file",
           "to_jsonable", "write_json", "write_text"]

# (path, size, mtime_ns) -> sha256: a file is hashed once per process unless it changes.
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


class OutputExistsError(FileExistsError):
    """An output file exists and the caller did not ask to overwrite it."""


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
        PermissionError: its folder exists but is not writable.
    """
    path = Path(path).expanduser().resolve()
    if path.exists() and not overwrite:
        raise OutputExistsError(f"{what} {path} already exists; refusing to overwrite it "
                                f"(choose another path or ask to overwrite)")
    folder = next((p for p in (path.parent, *path.parent.parents) if p.exists()), None)
    if folder is not None and not folder.is_dir():
        raise NotADirectoryError(f"cannot write {what} {path}: {folder} is a file, not a folder")
    if folder is not None and not os.access(folder, os.W_OK):
        raise PermissionError(f"cannot write {what} {path}: folder {folder} is not writable")
    return path


@contextmanager
def atomic_output(path: Path | str, overwrite: bool = True, what: str = "output") -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it onto ``path`` when the block succeeds.

    The parent folder is created. On any exception the temporary file is removed and the
    existing ``path`` (if any) is left untouched.
    """
    path = check_output(path, overwrite, what)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield tmp
        if not overwrite and path.exists():  # appeared while we were writing
            raise OutputExistsError(f"{what} {path} appeared while it was being written; not replaced")
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


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
