"""The shared file helpers: atomic writes never leave partial files or replace results unasked."""

from __future__ import annotations

import json
import math
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tgnas import paths
from tgnas.fileio import (OutputExistsError, OutputTypeError, OutputWriteError, atomic_output, check_not_input,
                          check_output, sha256_file, write_json, write_text)


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


# ------------------------------------------------------------------ the temporary file

def test_the_temporary_file_is_new_and_never_follows_a_planted_link(tmp_path):
    """Every name an earlier version would have used (``.NAME.PID.tmp.SUFFIX``) holds a link to a
    victim; the write goes to a fresh, randomly named regular file, with the mode open() gives."""
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    target = tmp_path / "result.txt"
    for name in (f".result.txt.{os.getpid()}.tmp.txt", f".result.{os.getpid()}.tmp.txt"):
        (tmp_path / name).symlink_to(victim)
    seen = []
    with atomic_output(target) as tmp:
        assert tmp.parent == tmp_path and not tmp.is_symlink() and tmp.stat().st_size == 0
        seen.append(tmp)
        tmp.write_text("new result")
    with atomic_output(target) as tmp:
        seen.append(tmp)
        tmp.write_text("newer result")
    assert victim.read_text() == "precious" and target.read_text() == "newer result"
    assert seen[0].name != seen[1].name and not seen[0].exists() and not seen[1].exists()
    (tmp_path / "plain").write_text("")
    assert stat.S_IMODE(target.stat().st_mode) == stat.S_IMODE((tmp_path / "plain").stat().st_mode)


def test_a_long_name_keeps_the_temporary_name_short(tmp_path):
    target = tmp_path / ("a" * 240 + ".csv")  # 244 characters: NAME.PID.tmp.csv would pass 255
    write_text(target, "x,y\n")
    assert target.read_text() == "x,y\n" and sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    with pytest.raises(OutputWriteError, match="300 bytes long"):
        write_text(tmp_path / ("b" * 296 + ".csv"), "x")


def test_a_folder_a_fifo_or_a_device_is_never_replaced(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    for path, kind in ((fifo, OutputTypeError), (Path(os.devnull), OutputTypeError), (folder, IsADirectoryError)):
        with pytest.raises(kind, match="not a regular file|is a folder"):
            check_output(path, overwrite=True)
        with pytest.raises(kind):
            with atomic_output(path, overwrite=True) as tmp:
                tmp.write_text("x")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and stat.S_ISCHR(os.stat(os.devnull).st_mode) and folder.is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder", "pipe"]


def test_outputs_that_are_inputs_are_refused(tmp_path):
    src = tmp_path / "archs.csv"
    src.write_text("arch\n")
    (tmp_path / "link.csv").symlink_to(src)
    os.link(src, tmp_path / "hard.csv")
    for out in (src, tmp_path / "link.csv", tmp_path / "hard.csv", tmp_path / "sub" / ".." / "archs.csv"):
        with pytest.raises(ValueError, match=r"is the --archs file being read"):
            check_not_input(out, {"checkpoint": tmp_path / "m.pt", "--archs file": src})
    check_not_input(tmp_path / "other.csv", {"--archs file": src, "rule": None, "stdin": "-"})


_FSIZE_WRITER = """
import resource, sys
from tgnas.fileio import OutputWriteError, write_text
resource.setrlimit(resource.RLIMIT_FSIZE, (65536, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
try:
    write_text(sys.argv[1], "x" * 1_000_000)
except OutputWriteError as e:
    print(e)
"""


@pytest.mark.skipif(not hasattr(os, "fork") or sys.platform == "darwin", reason="RLIMIT_FSIZE: Linux")
def test_a_write_past_the_file_size_limit_is_one_error_and_leaves_nothing(tmp_path):
    target = tmp_path / "big.txt"
    target.write_text("finished work")
    out = subprocess.run([sys.executable, "-c", _FSIZE_WRITER, str(target)], capture_output=True, text=True,
                         cwd=paths.PROJECT_ROOT, timeout=60)
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert out.stdout.startswith(f"cannot write output {target}: File too large; nothing was written")
    assert target.read_text() == "finished work" and [p.name for p in tmp_path.iterdir()] == ["big.txt"]


_SLOW_WRITER = """
import sys, time
from tgnas.fileio import atomic_output
with atomic_output(sys.argv[1]) as tmp:
    tmp.write_text("half")
    print("writing", flush=True)
    time.sleep(60)
"""


def test_leftovers_of_a_killed_writer_do_not_disturb_later_runs(tmp_path):
    target = tmp_path / "r.txt"
    for _ in range(2):  # killed twice: two leftovers, neither in the way
        proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITER, str(target)], stdout=subprocess.PIPE,
                                text=True, cwd=paths.PROJECT_ROOT)
        assert proc.stdout.readline() == "writing\n"
        proc.kill()
        proc.wait(timeout=30)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert len(left) == 2 and all(n.startswith(".r.") and ".tmp" in n for n in left) and not target.exists()
    write_text(target, "done")
    assert target.read_text() == "done" and sorted(p.name for p in tmp_path.iterdir())[:2] == left
