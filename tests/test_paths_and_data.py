"""Data root resolution, the checksum manifest and ``tgnas data check``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tgnas import datafiles, paths
from tgnas.cli import main


def test_env_var_overrides_data_root(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.DATA_ENV_VAR, str(tmp_path))
    assert paths.data_root() == tmp_path.resolve()
    assert paths.data_root_source() == f"${paths.DATA_ENV_VAR}"


def test_default_data_root_is_shared_or_raw(monkeypatch):
    monkeypatch.delenv(paths.DATA_ENV_VAR, raising=False)
    shared = paths.PROJECT_ROOT.parent / "shared" / "data"
    expected = shared if shared.is_dir() else paths.PROJECT_ROOT / "data" / "raw"
    assert paths.data_root() == expected


def test_this_checkout_is_detected():
    assert paths.LAYOUT.checkout and paths.LAYOUT.home == paths.PROJECT_ROOT
    assert paths.CACHE_DIR == paths.PROJECT_ROOT / "data" / "cache"


def test_a_checkout_keeps_caches_and_data_inside(tmp_path):
    (tmp_path / "repo" / "tgnas").mkdir(parents=True)
    (tmp_path / "repo" / "pyproject.toml").write_text("[project]\nname = 'tgnas'\n")
    lay = paths.layout(tmp_path / "repo" / "tgnas")
    assert lay == paths.Layout(True, tmp_path / "repo", tmp_path / "repo", tmp_path / "repo" / "data" / "cache")


def test_an_installed_package_uses_the_user_folders(monkeypatch, tmp_path):
    """A plain `pip install .` puts tgnas in site-packages: caches, data and outputs go to the
    platform's user folders, never below site-packages."""
    import platformdirs

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))  # platformdirs on Linux
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    site = tmp_path / "venv" / "lib" / "python3.11" / "site-packages"
    (site / "tgnas").mkdir(parents=True)
    lay = paths.layout(site / "tgnas")
    assert not lay.checkout
    assert lay.cache == Path(platformdirs.user_cache_dir("tgnas"))
    assert lay.home == Path(platformdirs.user_data_dir("tgnas"))
    assert not lay.cache.is_relative_to(site) and not lay.home.is_relative_to(site)
    monkeypatch.setattr(paths, "LAYOUT", lay)
    monkeypatch.delenv(paths.DATA_ENV_VAR, raising=False)
    assert paths.data_root() == lay.home / "data" / "raw"
    assert paths.data_root_source() == "the user data folder (tgnas is not in a checkout)"
    assert str(lay.home / "data" / "raw") in paths.data_root_order()
    monkeypatch.setenv(paths.DATA_ENV_VAR, str(tmp_path / "mine"))  # the variable still wins
    assert paths.data_root() == tmp_path / "mine"


def test_manifest_matches_shared_sha256sums(monkeypatch):
    monkeypatch.delenv(paths.DATA_ENV_VAR, raising=False)
    sums = paths.data_root() / "SHA256SUMS"
    if not sums.is_file():
        pytest.skip("no SHA256SUMS beside this data root")
    published = {}
    for line in sums.read_text().splitlines():
        digest, rel = line.split(maxsplit=1)
        published[rel.removeprefix("./")] = digest
    no_copy_here = set()
    for entry in (*datafiles.FILES, *datafiles.ORIGINALS):
        if entry.relpath not in published:  # hashes pinned from their publishers (docs/data.md)
            no_copy_here.add(entry.key)
            continue
        assert published[entry.relpath] == entry.sha256, entry.relpath
    assert no_copy_here == {"cifar10_python", "nb101_tfrecord"}


def test_missing_file_error_names_file_location_and_source(monkeypatch, tmp_path):
    monkeypatch.setenv(paths.DATA_ENV_VAR, str(tmp_path))
    with pytest.raises(datafiles.DataFileError) as err:
        datafiles.require("nb201_test_acc")
    msg = str(err.value)
    assert "nb201/nats_bench_test_acc.csv" in msg
    assert str(tmp_path) in msg
    assert re.search(r"raw\.githubusercontent\.com/v-tao/nats-bench-landscape/[0-9a-f]{40}/", msg)
    assert "tgnas data fetch nb201_test_acc" in msg
    assert paths.DATA_ENV_VAR in msg


def test_corrupt_file_is_detected(monkeypatch, tmp_path):
    target = tmp_path / "nb301" / "zc_nasbench301.json"
    target.parent.mkdir(parents=True)
    target.write_text("{}")
    monkeypatch.setenv(paths.DATA_ENV_VAR, str(tmp_path))
    assert datafiles.status(datafiles.get("nb301_zc")) == "corrupt"
    with pytest.raises(datafiles.DataFileError, match="corrupt"):
        datafiles.require("nb301_zc")


def test_unknown_key_lists_valid_keys():
    with pytest.raises(KeyError, match="nb201_test_acc"):
        datafiles.get("nope")


def test_data_check_passes_on_real_data(monkeypatch, capsys):
    monkeypatch.delenv(paths.DATA_ENV_VAR, raising=False)
    if not all(datafiles.satisfied(f) for f in datafiles.FILES):
        pytest.skip("benchmark data not available on this machine")
    assert main(["data", "check"]) == 0
    out = capsys.readouterr().out
    assert "all required data present and intact" in out
    assert out.count(" ok ") >= sum(datafiles.status(f) == "ok" for f in datafiles.FILES if f.required)
    assert "files the loaders read:" in out and "originals (what `tgnas data fetch` downloads" in out


def test_data_check_fails_on_empty_folder(tmp_path):
    # a real subprocess through `python -m tgnas`, as a user would call it
    env = {"TGNAS_DATA": str(tmp_path), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run([sys.executable, "-m", "tgnas", "data", "check"], capture_output=True,
                          text=True, env=env, cwd=Path(tmp_path))
    assert proc.returncode == 1
    assert "MISSING OR CORRUPT" in proc.stdout
    assert "missing" in proc.stdout and "`tgnas data fetch nb201_test_acc`" in proc.stdout


# ----------------------------------------------------------------------------- outputs run by hand


def test_rel_names_the_file_written_not_a_path_below_the_output_root(monkeypatch, tmp_path):
    # a notebook run by hand writes below scratch/: the message must say scratch/figures/..., not figures/...
    monkeypatch.setattr(paths, "OUTPUT_ROOT", paths.SCRATCH_ROOT)
    assert paths.rel(paths.SCRATCH_ROOT / "figures" / "x.png") == "scratch/figures/x.png"
    assert paths.rel(paths.PROJECT_ROOT / "metrics" / "plus.json") == "metrics/plus.json"
    # an output root outside the project (the tests' temporary folder): the absolute path
    monkeypatch.setattr(paths, "OUTPUT_ROOT", tmp_path)
    assert paths.rel(tmp_path / "metrics" / "a.json") == str((tmp_path / "metrics" / "a.json").resolve())


def test_a_run_by_hand_reads_its_own_output_else_the_pipelines(monkeypatch, tmp_path):
    root, scratch = tmp_path / "project", tmp_path / "project" / "scratch"
    monkeypatch.setattr(paths, "PROJECT_ROOT", root)
    monkeypatch.setattr(paths, "OUTPUT_ROOT", scratch)
    committed = root / "metrics" / "details" / "search.json"
    mine = scratch / "metrics" / "details" / "search.json"
    assert paths.input_candidates(mine) == [mine, committed]
    assert paths.input_path(mine) == mine  # neither exists: the caller's message names where it looked
    committed.parent.mkdir(parents=True)
    committed.write_text("{}")
    assert paths.input_path(mine) == committed  # the committed result, where it is
    mine.parent.mkdir(parents=True)
    mine.write_text("{}")
    assert paths.input_path(mine) == mine  # the notebook that ran by hand wins
    # in the pipeline (outputs = the project) there is one place only
    monkeypatch.setattr(paths, "OUTPUT_ROOT", root)
    assert paths.input_candidates(committed) == [committed]
