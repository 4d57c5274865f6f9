"""Read files of architectures: one per line, a CSV column, or a JSONL field (or whole objects).

:func:`read_archs` yields ``(id, architecture, where)`` records lazily, so a file of any
length streams: ``id`` is the value of the id column when one is named, else the 1-based
line number; ``where`` (``"archs.csv line 7"``) is how an error names the record. A record
the reader cannot read (a CSV row without the column, a line that is not JSON) is yielded
with a ``ValueError`` in place of the architecture, so the scorer decides whether to stop or
skip it (``--skip-bad``).

The exact rules: a UTF-8 byte-order mark at the start is ignored; every record is one line (a
CSV quote left open at the end of its line is that line's error, never a field running on into
the next lines); a line longer than :data:`MAX_LINE` is a bad record, skipped without being held
in memory; JSON is strict (``NaN`` and ``Infinity`` are not numbers). An id given in the file
(a CSV ``--id-column``, a JSONL id field or a cell object's own ``"id"``) is a non-blank text or
an integer (``1.5``, ``true``, ``null`` are bad records, never converted) and differs, as
printed, from every other id of the file, including the line number that names a record
without an id.
"""

from __future__ import annotations

import bisect
import csv
import io
import json
import sys
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from tgnas.errors import shorten

__all__ = ["FORMATS", "read_archs", "guess_format", "MAX_LINE"]

#: Input forms: ``lines`` (one text per line; blank lines and ``#`` comments skipped),
#: ``csv`` (a header row; ``column`` names the architecture column), ``jsonl`` (one JSON value
#: per line; ``column`` names the field, or the whole object is the architecture).
FORMATS: tuple[str, ...] = ("lines", "csv", "jsonl")
#: Longest line read (characters); a longer line is a bad record, skipped in bounded pieces
#: (a 3 GB line without a newline costs no more memory than a short one).
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


#: Characters read at a time while skipping the rest of an over-long line.
_SKIP_CHUNK = 1 << 16


def _physical_lines(stream: IO[str]) -> Iterator[tuple[int, str | int]]:
    """``(line number, line)`` for each line of ``stream``, a UTF-8 byte-order mark removed from
    the first (Excel's "CSV UTF-8", Windows editors). A line longer than :data:`MAX_LINE` comes as
    its length (an int) instead: it is read in bounded pieces and dropped, never held whole."""
    n = 0
    while True:
        line = stream.readline(MAX_LINE + 1)
        if not line:
            return
        n += 1
        if n == 1 and line.startswith("\ufeff"):
            line = line[1:]
        if len(line) <= MAX_LINE or line.endswith(("\n", "\r")):
            yield n, line
            continue
        length = len(line)
        while True:  # the rest of the line, a piece at a time
            chunk = stream.readline(_SKIP_CHUNK)
            length += len(chunk.rstrip("\r\n"))
            if not chunk or chunk.endswith(("\n", "\r")):
                break
        yield n, length


def _too_long(length: int) -> ValueError:
    return ValueError(f"line of {length:,} characters; at most {MAX_LINE:,} are read")


def _bad_id(value: Any) -> str | None:
    """Why ``value`` cannot be an id (a text or an integer: an id is printed as it is given, so
    1.5, NaN, true or a list would come out changed), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return f"an id must be a text or an integer, got {type(value).__name__} {shorten(value)}"
    if isinstance(value, str) and not value.strip():
        return "empty id"
    return None


class _Ids:
    """The ids given so far, so that no two output rows share one (as printed: 2 and "2" are
    the same). An explicit id (a column's, a field's) must differ from every other explicit id
    and from the line number that names a record without one, before or after it."""

    def __init__(self) -> None:
        self.explicit: dict[str, int] = {}  # printed id -> its line
        self.numbered = array("q")  # lines of records named by their line number (increasing)

    def claim(self, ident: Any, line: int, explicit: bool) -> str | None:
        """Record ``ident`` for ``line``; return why it collides, else ``None``."""
        key = str(ident)
        if key in self.explicit:
            return f"id {shorten(ident)} is also the id of line {self.explicit[key]}"
        if not explicit:
            self.numbered.append(line)
            return None
        if key.isascii() and key.isdigit() and key == str(int(key)):
            k = bisect.bisect_left(self.numbered, int(key))
            if k < len(self.numbered) and self.numbered[k] == int(key):
                return f"id {shorten(ident)} is also the id of line {key} (its line number: that line has no id)"
        self.explicit[key] = line
        return None


def _lines(stream: IO[str], name: str, column, id_column) -> Iterator[tuple[Any, Any, str]]:
    for n, line in _physical_lines(stream):
        where = f"{name} line {n}"
        if isinstance(line, int):
            yield n, _too_long(line), where
            continue
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        yield n, text, where


def _csv_row(line: str) -> list[str]:
    """The fields of one CSV line (a record is one line: a quote left open at its end is an
    error, so it cannot swallow the lines after it)."""
    try:
        rows = list(csv.reader([line], strict=True))
    except csv.Error as e:
        if "unexpected end of data" in str(e):
            raise ValueError("bad CSV row: a quoted field is not closed on its line") from None
        raise ValueError(f"bad CSV row ({e})") from None
    return rows[0] if rows else []


def _csv(stream: IO[str], name: str, column, id_column) -> Iterator[tuple[Any, Any, str]]:
    # (fields longer than the csv module's limit, 131,072 characters by default, are bad rows:
    # raising the limit would change a process-wide setting of the csv module)
    lines = _physical_lines(stream)
    first = next(lines, None)
    if first is None:
        return
    if isinstance(first[1], int):
        raise ValueError(f"{name} line 1: CSV header of {first[1]:,} characters; at most {MAX_LINE:,} are read")
    try:
        header = _csv_row(first[1])
    except ValueError as e:
        raise ValueError(f"{name} line 1: bad CSV header ({e})") from None
    col, idc = _csv_columns(header, name, column, id_column)
    ids = _Ids() if idc is not None else None
    for n, line in lines:
        where = f"{name} line {n}"
        if isinstance(line, int):
            yield n, _too_long(line), where
            continue
        try:
            row = _csv_row(line)
        except ValueError as e:
            yield n, e, where
            continue
        if not row or all(not v.strip() for v in row):
            continue
        if len(row) != len(header):
            yield n, ValueError(f"{len(row)} fields, the header has {len(header)}"), where
            continue
        if ids is None:
            yield n, row[col].strip(), where
            continue
        bad = _bad_id(row[idc]) or ids.claim(row[idc], n, explicit=True)
        yield (n, ValueError(bad), where) if bad else (row[idc], row[col].strip(), where)


def _csv_columns(header: list[str], name: str, column: str | None, id_column: str | None) -> tuple[int, int | None]:
    """Indices of the architecture and id columns in ``header`` (raises naming the columns)."""
    if column is None:
        if len(header) != 1:
            raise ValueError(f"{name} has columns {header}; name the architecture column with --column")
        column = header[0]
    for c, what in ((column, "--column"), (id_column, "--id-column")):
        if c is not None and c not in header:
            raise ValueError(f"{name} has no column {c!r} ({what}); its columns are {header}")
    return header.index(column), (header.index(id_column) if id_column else None)


def _no_constant(word: str) -> None:
    raise ValueError(f"{word} is not a JSON number")


def _json(text: str) -> Any:
    """Strict JSON of one line (no NaN / Infinity); every failure is a ``ValueError``."""
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as e:
        raise ValueError(f"not JSON ({e.msg} at character {e.pos})") from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    except ValueError as e:  # NaN, Infinity, a number of more digits than Python converts
        raise ValueError(f"not JSON ({e})") from None


def _jsonl(stream: IO[str], name: str, column, id_column) -> Iterator[tuple[Any, Any, str]]:
    ids = _Ids()
    for n, line in _physical_lines(stream):
        where = f"{name} line {n}"
        if isinstance(line, int):
            yield n, _too_long(line), where
            continue
        text = line.strip()
        if not text:
            continue
        try:
            ident, value, explicit = _jsonl_record(_json(text), n, column, id_column)
        except ValueError as e:
            yield n, e, where
            continue
        bad = (_bad_id(ident) if explicit else None) or ids.claim(ident, n, explicit)
        yield (n, ValueError(bad), where) if bad else (ident, value, where)


def _jsonl_record(value: Any, n: int, column: str | None, id_column: str | None) -> tuple[Any, Any, bool]:
    """``(id, architecture, whether the id was given)`` of one parsed JSONL line ``n``."""
    ident: Any = n
    explicit = False
    if id_column is not None:
        if not isinstance(value, dict) or id_column not in value:
            raise ValueError(f"no field {id_column!r} (--id-column)")
        ident = value.pop(id_column) if column is None else value[id_column]
        explicit = True
    if column is not None:
        if not isinstance(value, dict) or column not in value:
            raise ValueError(f"no field {column!r} (--column)")
        value = value[column]
    if isinstance(value, dict):
        if id_column is None and column is None and "id" in value:
            ident, explicit = value["id"], True  # a cell object's own "id" (the cell space ignores the key)
        return ident, value, explicit
    if isinstance(value, str):
        return ident, value, explicit
    raise ValueError(f"expected a text or an object, got {type(value).__name__}")


def read_text(text: str, fmt: str = "lines", **kw) -> Iterator[tuple[Any, Any, str]]:
    """:func:`read_archs` of an in-memory text (tests, small inputs)."""
    return read_archs(io.StringIO(text), fmt, **kw)
