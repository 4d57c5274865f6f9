"""`tgnas data fetch` without internet: a local HTTP server plays the mirror."""

from __future__ import annotations

import hashlib
import shutil
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tgnas import cli, datafiles
from tgnas.datafetch import MIRROR_ENV_VAR, FetchError, fetch, fetch_one, mirror_url, select

pytest.importorskip("pooch")


class _Handler(SimpleHTTPRequestHandler):
    """Serves the fixture folder; the first request of a path in ``drop`` is cut short."""

    drop: set[str] = set()
    requests: list[str] = []

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.requests.append(self.path)
        if self.path in self.drop:
            self.drop.discard(self.path)
            body = Path(self.translate_path(self.path)).read_bytes()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])  # then the connection drops
            self.wfile.flush()
            self.close_connection = True
            self.connection.shutdown(2)
            return
        super().do_GET()


@pytest.fixture
def server(tmp_path):
    """``(folder, base URL, handler class)``: a localhost server over ``folder`` that stops
    when the test ends, or by itself after 120 s."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    handler = type("Handler", (_Handler,), {"drop": set(), "requests": []})

    def make(*args, **kwargs):
        return handler(*args, directory=str(folder), **kwargs)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    stopper = threading.Timer(120, httpd.shutdown)
    stopper.daemon = True
    stopper.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}", handler
    stopper.cancel()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def _original(relpath: str, data: bytes, **kw) -> datafiles.Original:
    fields = dict(key="toy", relpath=relpath, url=None, sha256=hashlib.sha256(data).hexdigest(),
                  size=len(data), licence="test")
    fields.update(kw)
    return datafiles.Original(**fields)


def _put(folder: Path, relpath: str, data: bytes) -> None:
    (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
    (folder / relpath).write_bytes(data)


def test_download_from_mirror(server, tmp_path):
    folder, url, handler = server
    data = bytes(range(256)) * 400
    _put(folder, "a/b.bin", data)
    root = tmp_path / "root"
    got = fetch_one(_original("a/b.bin", data), root, mirror=url, retries=0, progress=False)
    assert got == root / "a" / "b.bin" and got.read_bytes() == data
    assert sorted(p.name for p in got.parent.iterdir()) == ["b.bin"]  # no temp file left
    # A verified copy is not downloaded again.
    fetch_one(_original("a/b.bin", data), root, mirror=url, retries=0, progress=False)
    assert handler.requests == ["/a/b.bin"]


def test_dropped_connection_is_retried(server, tmp_path):
    folder, url, handler = server
    data = b"x" * 200_000
    _put(folder, "big.bin", data)
    handler.drop.add("/big.bin")
    got = fetch_one(_original("big.bin", data), tmp_path / "root", mirror=url, retries=1, progress=False)
    assert got.read_bytes() == data
    assert handler.requests == ["/big.bin", "/big.bin"]


def test_dropped_connection_without_retry_leaves_nothing(server, tmp_path):
    folder, url, handler = server
    data = b"y" * 200_000
    _put(folder, "big.bin", data)
    handler.drop.add("/big.bin")
    root = tmp_path / "root"
    with pytest.raises(FetchError, match="big.bin"):
        fetch_one(_original("big.bin", data), root, mirror=url, retries=0, progress=False)
    assert not any(p.is_file() for p in root.rglob("*"))


def test_wrong_hash_is_refused_and_removed(server, tmp_path):
    folder, url, _ = server
    good, bad = b"the real file", b"a tampered file"
    _put(folder, "d/f.csv", bad)
    root = tmp_path / "root"
    with pytest.raises(FetchError) as info:
        fetch_one(_original("d/f.csv", good), root, mirror=url, retries=0, progress=False)
    msg = str(info.value)
    assert "d/f.csv" in msg
    assert hashlib.sha256(good).hexdigest() in msg and hashlib.sha256(bad).hexdigest() in msg
    assert not any(p.is_file() for p in root.rglob("*"))


def test_wrong_size_is_refused(server, tmp_path):
    folder, url, _ = server
    _put(folder, "s.bin", b"12345")
    root = tmp_path / "root"
    orig = _original("s.bin", b"12345", sha256=None, size=6)
    with pytest.raises(FetchError, match="5 bytes, expected 6"):
        fetch_one(orig, root, mirror=url, retries=0, progress=False)
    assert not (root / "s.bin").exists()


def test_404_names_file_and_url(server, tmp_path):
    _, url, _ = server
    with pytest.raises(FetchError, match=r"nope\.bin.*404"):
        fetch_one(_original("nope.bin", b"z"), tmp_path / "root", mirror=url, retries=0, progress=False)


def test_corrupt_local_copy_is_replaced(server, tmp_path):
    folder, url, _ = server
    data = b"fresh bytes"
    _put(folder, "c.txt", data)
    root = tmp_path / "root"
    _put(root, "c.txt", b"stale bytes")
    assert fetch_one(_original("c.txt", data), root, mirror=url, retries=0, progress=False).read_bytes() == data


def test_no_url_needs_a_mirror(tmp_path):
    with pytest.raises(FetchError, match="no public URL.*--mirror"):
        fetch_one(_original("x.bin", b"x"), tmp_path, mirror=None, progress=False)


def test_mirror_from_environment(monkeypatch):
    monkeypatch.setenv(MIRROR_ENV_VAR, "http://example.invalid/data/")
    assert mirror_url() == "http://example.invalid/data"
    assert mirror_url("http://other/") == "http://other"


def test_select_names():
    assert {o.key for o in select()} >= {"nb201_test_acc", "obfunas_test", "cifar10_python"}
    assert "nb101_tfrecord" not in {o.key for o in select()}  # 0.5 GB, opt-in
    assert [o.key for o in select(["nb101_full"])] == ["obfunas_test", "obfunas_flops"]
    with pytest.raises(KeyError, match="unknown data file 'nope'"):
        select(["nope"])


def test_manifest_pins_commits():
    for orig in datafiles.ORIGINALS:
        if orig.url and "githubusercontent" in orig.url:
            commit = orig.url.split("/")[5]
            assert len(commit) == 40 and all(c in "0123456789abcdef" for c in commit), orig.url
        assert orig.sha256 or orig.md5 or orig.key == "nb101_tfrecord", orig.key
    for entry in datafiles.FILES:
        if entry.derived:
            assert all(datafiles.original(k) for k in entry.built_from)
        else:
            assert datafiles.original(entry.key).relpath == entry.relpath


_REAL = ("nb101_zc", "nb301_zc")


@pytest.mark.skipif(any(datafiles.status(datafiles.get(k)) != "ok" for k in _REAL),
                    reason="shared data not available")
def test_cli_fetch_real_files_from_mirror(server, tmp_path, capsys):
    """The manifest's recorded hashes accept the real files, served by a mirror."""
    folder, url, _ = server
    for key in _REAL:
        _put(folder, datafiles.get(key).relpath, b"")
        shutil.copyfile(datafiles.require(key), folder / datafiles.get(key).relpath)
    root = tmp_path / "root"
    assert cli.main(["data", "fetch", *_REAL, "--root", str(root), "--mirror", url, "--quiet"]) == 0
    for key in _REAL:
        assert datafiles.status(datafiles.get(key), root) == "ok"
    assert cli.main(["data", "fetch", "nope", "--root", str(root), "--mirror", url]) == 2
    assert "tgnas data fetch: error: " in capsys.readouterr().err
