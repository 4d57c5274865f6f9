"""Read files of architectures: one per line, a CSV column, or a JSONL field (or whole objects).

:func:`read_archs` yields ``(id, architecture, where)`` records lazily, so a file of any
length streams: ``id`` is the value of the id column when one is named, else the 1-based
line number; ``where`` (``"archs.csv line 7"``) is how an error names the record. A record
the reader cannot read (a CSV row without the column, a line that is not JSON) is yielded
with a ``ValueError`` in place of the architecture, so the scorer decides whether to stop or
skip it (``--skip-bad``).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["FORMATS", "read_archs", "guess_format", "MAX_LINE"]

#: Input forms: ``lines`` (one text per line; blank lines and ``#`` comments skipped),
#: ``csv`` (a header row; ``column`` names the architecture column), ``jsonl`` (one JSON value
#: per line; ``column`` names the field, or the whole object is the architecture).
FORMATS: tuple[str, ...] = ("lines", "csv", "jsonl")
#: Longest line read (characters); longer lines are bad records, never parsed.
MAX_LINE = 1_000_000


def guess_format(name: str) -> str:
    """``csv`` for ``*.csv``, ``jsonl`` for ``*.jsonl`` / ``*.ndjson``, else ``lines``."""
    low = name.lower()
    if low.endswith(".csv"):
        return "csv"
    if low.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    return "lines"


def _open(source: str | Path) -> tuple[IO[str], str, bool]:
    if str(source) == "-":
        return sys.stdin, "<stdin>", False
    path = Path(source).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no architecture file {path}")
    return open(path, encoding="utf-8", newline=""), str(source), True


def read_archs(source: str | Path | IO[str], fmt: str | None = None, column: str | None = None,
               id_column: str | None = None) -> Iterator[tuple[Any, Any, str]]:
    """Yield ``(id, architecture, where)`` for each record of ``source``.

    Args:
        source: a path, ``"-"`` (stdin) or an open text stream.
        fmt: one of :data:`FORMATS` (``None``: from the file name, :func:`guess_format`).
        column: CSV: the architecture column (required when there are several columns);
            JSONL: the field (``None``: each line's whole value is the architecture, as the
            generic ``cell`` space reads it; an object's own ``"id"`` is then its id).
        id_column: CSV column / JSONL field holding the identifier (else the line number).

    Raises:
        FileNotFoundError: no such file. ValueError: unknown format, a CSV header without the
            named column(s) (raised before any record).
    """
    if isinstance(source, (str, Path)):
        stream, name, close = _open(source)
    else:
        stream, name, close = source, getattr(source, "name", "<stream>"), False
    fmt = fmt or guess_format(name)
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {list(FORMATS)}")
    if fmt == "lines" and (column or id_column):
        raise ValueError("--column / --id-column need a CSV or JSONL input (--format csv|jsonl)")
    try:
        reader = {"lines": _lines, "csv": _csv, "jsonl": _jsonl}[fmt]
        yield from reader(stream, name, column, id_column)
    finally:
        if close:
            stream.close()


def _long(line: str) -> bool:
    return len(line) > MAX_LINE


def _lines(stream: IO[str], name: str, column, id_column) -> Iterator[tuple[Any, Any, str]]:
    for n, line in enumerate(stream, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        where = f"{name} line {n}"
        if _long(text):
            yield n, ValueError(f"line of {len(text):,} characters; at most {MAX_LINE:,} are read"), where
            continue
        yield n, text, where


def _csv(stream: IO[str], name: str, column, id_column) -> Iterator[tuple[Any, Any, str]]:
    # (fields longer than the csv module's limit, 131,072 characters by default, are bad rows:
    # raising the limit would change a process-wide setting of the csv module)
    reader = csv.reader(stream)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as e:
        raise ValueError(f"{name} line 1: bad CSV header ({e})") from None
    if column is None:
        if len(header) != 1:
            raise ValueError(f"{name} has columns {header}; name the architecture column with --column")
        column = header[0]
    for c, what in ((column, "--column"), (id_column, "--id-column")):
        if c is not None and c not in header:
            raise ValueError(f"{name} has no column {c!r} ({what}); its columns are {header}")
    col = header.index(column)
    idc = header.index(id_column) if id_column else None
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            n = reader.line_num
            yield n, ValueError(f"bad CSV row ({e})"), f"{name} line {n}"
            continue
        n = reader.line_num  # the row's last physical line (quoted fields may span lines)
        if not row or all(not v.strip() for v in row):
            continue
        where = f"{name} line {n}"
        if len(row) != len(header):
            yield n, ValueError(f"{len(row)} fields, the header has {len(header)}"), where
            continue
        ident = row[idc] if idc is not None else n
        yield ident, row[col].strip(), where


def _jsonl(stream: IO[str], name: str, column, id_column) -> Iterator[tuple[Any, Any, str]]:
    for n, line in enumerate(stream, 1):
        text = line.strip()
        if not text:
            continue
        where = f"{name} line {n}"
        if _long(text):
            yield n, ValueError(f"line of {len(text):,} characters; at most {MAX_LINE:,} are read"), where
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as e:
            yield n, ValueError(f"not JSON ({e.msg} at character {e.pos})"), where
            continue
        except RecursionError:
            yield n, ValueError("JSON nested too deeply"), where
            continue
        ident: Any = n
        if id_column is not None:
            if not isinstance(value, dict) or id_column not in value:
                yield n, ValueError(f"no field {id_column!r} (--id-column)"), where
                continue
            ident = value.pop(id_column) if column is None else value[id_column]
        if column is not None:
            if not isinstance(value, dict) or column not in value:
                yield ident, ValueError(f"no field {column!r} (--column)"), where
                continue
            value = value[column]
        if isinstance(value, dict):
            if id_column is None and column is None and isinstance(value.get("id"), (str, int)):
                ident = value["id"]  # a cell object's own "id" (the cell space ignores the key)
            yield ident, value, where
        elif isinstance(value, str):
            yield ident, value, where
        else:
            yield ident, ValueError(f"expected a text or an object, got {type(value).__name__}"), where


def read_text(text: str, fmt: str = "lines", **kw) -> Iterator[tuple[Any, Any, str]]:
    """:func:`read_archs` of an in-memory text (tests, small inputs)."""
    return read_archs(io.StringIO(text), fmt, **kw)
