"""Files of architectures: every record is one line, ids are given exactly or refused, a line
too long is skipped in bounded memory, and a byte-order mark is no part of the first line."""

from __future__ import annotations

import io
import json
import tracemalloc

import pytest

from tgnas.archfiles import MAX_LINE, read_archs, read_text


def _records(text: str, fmt: str, **kw) -> list[tuple]:
    """``(id, architecture or the error's message, line number)`` of each record."""
    return [(i, str(a) if isinstance(a, ValueError) else a, int(w.rsplit(" ", 1)[1]))
            for i, a, w in read_text(text, fmt, **kw)]


def test_an_open_csv_quote_spoils_only_its_own_line():
    text = 'arch,run\n"aa,1\nbb,2\n"cc\ndd,4\n'
    unclosed = "bad CSV row: a quoted field is not closed on its line"
    assert _records(text, "csv", column="arch", id_column="run") == [
        (2, unclosed, 2), ("2", "bb", 3), (4, unclosed, 4), ("4", "dd", 5)]
    assert _records('arch\n"a"b\nc\n', "csv") == [(2, "bad CSV row (',' expected after '\"')", 2), (3, "c", 3)]
    # a quoted field within its line keeps its comma and quotes
    assert _records('arch\n"a, ""b"""\n', "csv") == [(2, 'a, "b"', 2)]


def test_a_huge_csv_field_is_its_line_error_and_the_next_row_is_kept():
    text = "arch\n" + "x" * 200_000 + "\ngood\n" + '"' + "y" * 100_000 + "\nkept\n" + "z" * 40_000 + "\nlast\n"
    got = _records(text, "csv")
    assert [(r[0], r[2]) for r in got] == [(2, 2), (3, 3), (4, 4), (5, 5), (6, 6), (7, 7)]
    assert got[0][1] == "bad CSV row (field larger than field limit (131072))" and got[1][1] == "good"
    # (an open quote used to run on until the field limit, taking "kept" with it)
    assert "not closed" in got[2][1] and got[3][1] == "kept" and got[4][1] == "z" * 40_000 and got[5][1] == "last"


@pytest.mark.parametrize("fmt, text, arch", [
    ("lines", "\ufeff|nor_conv_3x3~0|\n", "|nor_conv_3x3~0|"),
    ("csv", "\ufeffarch,run\n|a~0|,r\n", "|a~0|"),
    ("jsonl", '\ufeff{"arch": "|a~0|"}\n', "|a~0|"),
])
def test_a_byte_order_mark_is_ignored(tmp_path, fmt, text, arch):
    f = tmp_path / f"a.{'txt' if fmt == 'lines' else fmt}"
    f.write_bytes(text.encode("utf-8"))  # the mark as Excel's "CSV UTF-8" writes it: EF BB BF
    assert f.read_bytes().startswith(b"\xef\xbb\xbf")
    kw = {"column": "arch"} if fmt != "lines" else {}
    assert [a for _, a, _ in read_archs(f, fmt, **kw)] == [arch]


@pytest.mark.parametrize("fmt, head", [("lines", ""), ("csv", "arch\n"), ("jsonl", "")])
def test_a_line_too_long_is_named_and_never_held_whole(tmp_path, fmt, head):
    good = '{"arch": "ok"}' if fmt == "jsonl" else "ok"
    f = tmp_path / "big"
    with open(f, "w") as fh:  # 20 MB on one line, then a good line
        fh.write(head + "z" * 20_000_000 + "\n" + good + "\n")
    tracemalloc.start()
    try:
        got = list(read_archs(f, fmt, column="arch" if fmt == "jsonl" else None))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    n = 2 if head else 1
    assert str(got[0][1]) == f"line of 20,000,000 characters; at most {MAX_LINE:,} are read"
    assert got[0][2].endswith(f"line {n}") and got[1][1] == "ok" and got[1][2].endswith(f"line {n + 1}")
    assert peak < 4 * MAX_LINE * 4 + (1 << 20), peak  # a few lines' worth, not 20 MB


@pytest.mark.parametrize("bad, why", [
    ("1.5", "got float 1.5"), ("true", "got bool True"), ("null", "got NoneType None"), ("[1]", "got list"),
    ('""', "empty id"), ("NaN", "NaN is not a JSON number"), ("Infinity", "Infinity is not a JSON number"),
    ("-Infinity", "-Infinity is not a JSON number"), ("1" * 5000, "not JSON"),
])
def test_jsonl_ids_are_texts_or_integers_never_coerced(bad, why):
    text = '{"id": "a", "nodes": []}\n{"id": ' + bad + ', "nodes": []}\n{"id": "c", "nodes": []}\n'
    got = _records(text, "jsonl")
    assert [r[0] for r in got] == ["a", 2, "c"] and why in got[1][1] and got[1][2] == 2
    text = '{"run": "a", "arch": "x"}\n{"run": ' + bad + ', "arch": "y"}\n'
    got = _records(text, "jsonl", column="arch", id_column="run")
    assert got[0] == ("a", "x", 1) and why in got[1][1]


def test_ids_never_collide_as_printed():
    # an explicit id 2 on line 1 and the line number of line 2 (which has no id)
    got = _records('{"id": 2, "nodes": []}\n{"nodes": []}\n', "jsonl")
    assert got[0][0] == 2 and got[1][1] == "id 2 is also the id of line 1"
    # the other way round: line 1 has no id, a later record says 1
    got = _records('{"nodes": []}\n{"id": 1, "nodes": []}\n', "jsonl")
    assert got[0][0] == 1 and "id 1 is also the id of line 1 (its line number" in got[1][1]
    # 7 and "7" print alike; "07" does not clash with line 7's number
    got = _records('{"id": 7, "nodes": []}\n{"id": "7", "nodes": []}\n{"id": "07", "nodes": []}\n', "jsonl")
    assert [r[0] for r in got] == [7, 2, "07"] and "also the id of line 1" in got[1][1]
    got = _records("arch,run\nx,r1\ny,r1\nz, \n", "csv", column="arch", id_column="run")
    assert got[0] == ("r1", "x", 2) and got[1][1] == "id 'r1' is also the id of line 2" and got[2][1] == "empty id"


def test_line_numbers_are_ids_without_tracking_in_plain_files():
    assert [r[0] for r in _records("a\n\n# note\nb\n", "lines")] == [1, 4]
    assert [r[0] for r in _records("arch\na\nb\n", "csv")] == [2, 3]


def test_stdin_like_streams_lose_the_mark_too():
    stream = io.StringIO("\ufeff" + json.dumps({"arch": "a"}) + "\n")
    assert [a for _, a, _ in read_archs(stream, "jsonl", column="arch")] == ["a"]
