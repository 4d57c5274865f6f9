"""The shared file helpers: atomic writes never leave partial files or replace results unasked."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from tgnas.fileio import OutputExistsError, atomic_output, check_output, sha256_file, write_json


def test_atomic_output_removes_temp_and_keeps_old_file_on_failure(tmp_path):
    target = tmp_path / "result.txt"
    target.write_text("finished work")
    with pytest.raises(RuntimeError):
        with atomic_output(target, overwrite=True) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "finished work"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]


def test_refuses_to_overwrite_unless_asked(tmp_path):
    target = tmp_path / "r.json"
    write_json({"a": 1}, target)
    with pytest.raises(OutputExistsError, match="r.json already exists"):
        write_json({"a": 2}, target, overwrite=False)
    assert json.loads(target.read_text()) == {"a": 1}
    write_json({"a": 3}, target, overwrite=True)
    assert json.loads(target.read_text()) == {"a": 3}


def test_write_json_is_strict(tmp_path):
    p = write_json({"x": math.nan, "y": np.float32(1.5), "z": np.arange(3), "t": (1, 2)}, tmp_path / "s" / "m.json")
    assert json.loads(p.read_text()) == {"x": None, "y": 1.5, "z": [0, 1, 2], "t": [1, 2]}


def test_check_output_refuses_a_path_below_a_file(tmp_path):
    (tmp_path / "plain").write_text("x")
    with pytest.raises(OSError, match="plain"):
        check_output(tmp_path / "plain" / "x.pt")


def test_sha256_file(tmp_path):
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert sha256_file(p) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
