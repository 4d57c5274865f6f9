"""`tgnas data fetch` without internet: a local HTTP server plays the mirror."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tgnas import cli, datafetch, datafiles, paths
from tgnas.cli import data as cli_data
from tgnas.datafetch import (MIRROR_ENV_VAR, FetchError, Transfer, fetch_one, mirror_url,
                             remove_stale_parts, select)

#: No waiting between retries in tests.
FAST = Transfer(timeout=5, backoff=0.01)


class _Handler(SimpleHTTPRequestHandler):
    """Serves the fixture folder. ``drop``: the first request of these paths is cut short;
    ``special``: path -> a misbehaviour (a method name below)."""

    drop: set[str] = set()
    special: dict[str, str] = {}
    requests: list[str] = []
    stop: threading.Event = threading.Event()

    def log_message(self, *args) -> None:  # keep pytest output clean
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.requests.append(self.path)
        if self.path in self.special:
            getattr(self, self.special[self.path])()
        elif self.path in self.drop:
            self.drop.discard(self.path)
            self.truncated()
        else:
            super().do_GET()

    def _head(self, length: int | None, ctype: str = "application/octet-stream") -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def truncated(self) -> None:
        """Announce the whole file, send half, drop the connection."""
        body = Path(self.translate_path(self.path)).read_bytes()
        self._head(len(body))
        self.wfile.write(body[: len(body) // 2])
        self.wfile.flush()
        self.close_connection = True
        self.connection.shutdown(socket.SHUT_RDWR)

    def drip(self) -> None:
        """Announce 1,000 bytes, send one every 0.5 s."""
        self._head(1000)
        for _ in range(1000):
            if self.stop.wait(0.5):
                return
            try:
                self.wfile.write(b"x")
                self.wfile.flush()
            except OSError:
                return

    def silent(self) -> None:
        """Announce 1,000 bytes, send nothing."""
        self._head(1000)
        self.wfile.flush()
        self.stop.wait(10)

    def huge(self) -> None:
        """Announce 100 GB."""
        self._head(100_000_000_000)
        self.wfile.write(b"\0" * 65536)

    def endless(self) -> None:
        """No Content-Length, bytes until the client hangs up (at most 100 MB)."""
        self._head(None)
        for _ in range(1600):
            try:
                self.wfile.write(b"\0" * 65536)
            except OSError:
                return

    def portal(self) -> None:
        """A sign-in page instead of the file."""
        body = b"<html><body>Please sign in</body></html>"
        self._head(len(body), "text/html; charset=utf-8")
        self.wfile.write(body)

    def error500(self) -> None:
        self.send_error(500)


@pytest.fixture
def server(tmp_path):
    """``(folder, base URL, handler class)``: a localhost server over ``folder`` that stops
    when the test ends, or by itself after 120 s."""
    folder = tmp_path / "mirror"
    folder.mkdir()
    handler = type("Handler", (_Handler,), {"drop": set(), "special": {}, "requests": [],
                                            "stop": threading.Event()})

    def make(*args, **kwargs):
        return handler(*args, directory=str(folder), **kwargs)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), make)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    stopper = threading.Timer(120, httpd.shutdown)
    stopper.daemon = True
    stopper.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}", handler
    handler.stop.set()
    stopper.cancel()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
def manifest(monkeypatch):
    """``use(originals, files)``: replace the data manifest for one test."""
    def use(originals, files) -> None:
        monkeypatch.setattr(datafiles, "ORIGINALS", tuple(originals))
        monkeypatch.setattr(datafiles, "FILES", tuple(files))
        monkeypatch.setattr(datafiles, "_BY_ORIGINAL", {o.key: o for o in originals})
        monkeypatch.setattr(datafiles, "_BY_KEY", {f.key: f for f in files})
    return use


@pytest.fixture
def fast(monkeypatch):
    """The CLI's downloads retry without waiting."""
    monkeypatch.setattr(datafetch, "DEFAULT_TRANSFER", FAST)


def _original(relpath: str, data: bytes, **kw) -> datafiles.Original:
    fields = dict(key="toy", relpath=relpath, url=None, sha256=hashlib.sha256(data).hexdigest(),
                  size=len(data), licence="test")
    fields.update(kw)
    return datafiles.Original(**fields)


def _entry(orig: datafiles.Original, **kw) -> datafiles.DataFile:
    return datafiles.DataFile(orig.key, orig.relpath, orig.sha256, "toy", "a toy file", "test", **kw)


def _put(folder: Path, relpath: str, data: bytes) -> None:
    (folder / relpath).parent.mkdir(parents=True, exist_ok=True)
    (folder / relpath).write_bytes(data)


def _files(root: Path) -> list[str]:
    """Every file below ``root``, hidden ones included, as sorted relative paths."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _fetch_cli(*args: str) -> int:
    return cli.main(["data", "fetch", *args])


def _screen(text: str) -> list[str]:
    """The lines a terminal shows for ``text``: a progress bar redrawn with carriage returns
    and cleared at its end leaves nothing of itself."""
    return [line.split("\r")[-1] for line in text.split("\n") if line.split("\r")[-1].strip()]


# -- downloads, retries, verification -------------------------------------------------------

def test_download_from_mirror(server, tmp_path):
    folder, url, handler = server
    data = bytes(range(256)) * 400
    _put(folder, "a/b.bin", data)
    root = tmp_path / "root"
    got = fetch_one(_original("a/b.bin", data), root, mirror=url, progress=False, transfer=FAST)
    assert got == root / "a" / "b.bin" and got.read_bytes() == data
    assert _files(root) == ["a/b.bin"]  # no temporary file left
    # A verified copy is not downloaded again.
    fetch_one(_original("a/b.bin", data), root, mirror=url, progress=False, transfer=FAST)
    assert handler.requests == ["/a/b.bin"]


def test_dropped_connection_is_retried(server, tmp_path):
    folder, url, handler = server
    data = b"x" * 200_000
    _put(folder, "big.bin", data)
    handler.drop.add("/big.bin")
    got = fetch_one(_original("big.bin", data), tmp_path / "root", mirror=url, progress=False,
                    transfer=Transfer(retries=1, backoff=0.01))
    assert got.read_bytes() == data
    assert handler.requests == ["/big.bin", "/big.bin"]


def test_dropped_connection_without_retry_leaves_nothing(server, tmp_path):
    folder, url, handler = server
    data = b"y" * 200_000
    _put(folder, "big.bin", data)
    handler.drop.add("/big.bin")
    root = tmp_path / "root"
    with pytest.raises(FetchError, match="big.bin"):
        fetch_one(_original("big.bin", data), root, mirror=url, progress=False, transfer=Transfer(retries=0))
    assert _files(root) == []


def test_wrong_hash_is_refused_removed_and_not_retried(server, tmp_path):
    folder, url, handler = server
    good, bad = b"the real file!", b"a tampered one"
    _put(folder, "d/f.csv", bad)
    root = tmp_path / "root"
    with pytest.raises(FetchError) as info:
        fetch_one(_original("d/f.csv", good), root, mirror=url, progress=False, transfer=FAST)
    msg = str(info.value)
    assert "d/f.csv" in msg
    assert hashlib.sha256(good).hexdigest() in msg and hashlib.sha256(bad).hexdigest() in msg
    assert _files(root) == [] and handler.requests == ["/d/f.csv"]


def test_wrong_size_is_refused(server, tmp_path):
    folder, url, _ = server
    _put(folder, "s.bin", b"12345")
    root = tmp_path / "root"
    orig = _original("s.bin", b"12345", size=6)
    with pytest.raises(FetchError, match="announces 5 bytes, the pinned size is 6"):
        fetch_one(orig, root, mirror=url, progress=False, transfer=FAST)
    assert _files(root) == []


def test_404_names_file_and_url(server, tmp_path):
    _, url, _ = server
    with pytest.raises(FetchError, match=rf"nope\.bin from {url}/nope\.bin: HTTP 404"):
        fetch_one(_original("nope.bin", b"z"), tmp_path / "root", mirror=url, progress=False, transfer=FAST)


def test_corrupt_local_copy_is_replaced(server, tmp_path):
    folder, url, _ = server
    data = b"fresh bytes"
    _put(folder, "c.txt", data)
    root = tmp_path / "root"
    _put(root, "c.txt", b"stale bytes")
    got = fetch_one(_original("c.txt", data), root, mirror=url, progress=False, transfer=FAST)
    assert got.read_bytes() == data


def test_no_url_needs_a_mirror(tmp_path):
    with pytest.raises(FetchError, match="no public URL.*--mirror"):
        fetch_one(_original("x.bin", b"x"), tmp_path, mirror=None, progress=False)


def test_an_original_without_a_pinned_size_or_hash_is_not_downloaded(server, tmp_path):
    folder, url, handler = server
    _put(folder, "u.bin", b"u")
    for orig in (_original("u.bin", b"u", size=None), _original("u.bin", b"u", sha256=None)):
        with pytest.raises(FetchError, match="pins no SHA256 or size"):
            fetch_one(orig, tmp_path / "root", mirror=url, progress=False)
    assert handler.requests == []


def test_mirror_from_environment(monkeypatch):
    monkeypatch.setenv(MIRROR_ENV_VAR, "http://example.invalid/data/")
    assert mirror_url() == "http://example.invalid/data"
    assert mirror_url("http://other/") == "http://other"
    monkeypatch.setenv(MIRROR_ENV_VAR, "/srv/data")
    with pytest.raises(FetchError, match=rf"\${MIRROR_ENV_VAR} '/srv/data' is not an http\(s\) URL"):
        mirror_url()


def test_select_names():
    assert {o.key for o in select()} >= {"nb201_test_acc", "obfunas_test", "cifar10_python"}
    assert "nb101_tfrecord" not in {o.key for o in select()}  # 0.5 GB, opt-in
    assert [o.key for o in select(["nb101_full"])] == ["obfunas_test", "obfunas_flops"]
    with pytest.raises(KeyError, match="unknown data file 'nope'"):
        select(["nope"])


def test_manifest_pins_commits_sizes_and_hashes():
    for orig in datafiles.ORIGINALS:
        if orig.url and "githubusercontent" in orig.url:
            commit = orig.url.split("/")[5]
            assert len(commit) == 40 and all(c in "0123456789abcdef" for c in commit), orig.url
        # every download is held to a size and a SHA256 (an MD5 alone is not enough)
        assert isinstance(orig.size, int) and orig.size > 0, orig.key
        assert orig.sha256 and len(orig.sha256) == 64 and int(orig.sha256, 16) >= 0, orig.key
    for entry in datafiles.FILES:
        assert entry.sha256 and len(entry.sha256) == 64, entry.key
        if entry.derived:
            assert all(datafiles.original(k) for k in entry.built_from)
        else:
            assert datafiles.original(entry.key).relpath == entry.relpath


def test_a_file_with_no_recorded_hash_is_never_ok(tmp_path):
    _put(tmp_path, "x.bin", b"anything")
    assert datafiles.status(_original("x.bin", b"x", sha256=None), tmp_path) == "corrupt"


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
    assert _fetch_cli(*_REAL, "--root", str(root), "--mirror", url, "--quiet") == 0
    for key in _REAL:
        assert datafiles.status(datafiles.get(key), root) == "ok"
    assert _fetch_cli("nope", "--root", str(root), "--mirror", url) == 2
    assert "tgnas data fetch: error: " in capsys.readouterr().err


# -- only what `data check` needs; alternatives ----------------------------------------------

_MAIN, _ALT = b"the official tarball", b"the jpeg zip"


def _with_alternative(manifest):
    """A manifest whose required ``main`` may be replaced by the optional ``alt``."""
    main = _original("c/main.tgz", _MAIN, key="main")
    alt = _original("c/alt.zip", _ALT, key="alt", default=False)
    manifest([main, alt], [_entry(main, alternative="alt"), _entry(alt, required=False)])
    return main, alt


def test_a_mirror_with_only_the_alternative_is_enough(server, tmp_path, manifest, fast, capfd):
    folder, url, handler = server
    _with_alternative(manifest)
    _put(folder, "c/alt.zip", _ALT)
    root = tmp_path / "root"
    assert _fetch_cli("--root", str(root), "--mirror", url, "--quiet") == 0
    assert handler.requests == ["/c/main.tgz", "/c/alt.zip"]  # the 404 is not retried
    assert _files(root) == ["c/alt.zip"]
    assert capfd.readouterr().err == ""


def test_an_alternative_already_there_is_enough(server, tmp_path, manifest, fast, capsys):
    _, url, handler = server
    _with_alternative(manifest)
    root = tmp_path / "root"
    _put(root, "c/alt.zip", _ALT)
    assert _fetch_cli("--root", str(root), "--mirror", url) == 0
    assert handler.requests == []
    assert "skip     c/main.tgz (its alternative c/alt.zip is ok)" in capsys.readouterr().out


def test_the_error_names_the_alternative(server, tmp_path, manifest, fast, capsys):
    _, url, handler = server
    _with_alternative(manifest)
    root = tmp_path / "root"
    assert _fetch_cli("--root", str(root), "--mirror", url, "--quiet") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tgnas data fetch: error: c/main.tgz from ")
    assert "HTTP 404" in err and "its alternative c/alt.zip would do, but: c/alt.zip from" in err
    assert handler.requests == ["/c/main.tgz", "/c/alt.zip"]
    # Asked for by name, the original is fetched alone and the error says what would do.
    assert _fetch_cli("main", "--root", str(root), "--mirror", url, "--quiet") == 2
    assert "its alternative c/alt.zip would do (`tgnas data fetch alt`)" in capsys.readouterr().err
    assert handler.requests == ["/c/main.tgz", "/c/alt.zip", "/c/main.tgz"]


def test_originals_of_a_built_file_that_is_ok_are_not_fetched(server, tmp_path, manifest, fast):
    _, url, handler = server
    src = _original("s/src.npy", b"source", key="src")
    table = datafiles.DataFile("table", "t/table.npz", hashlib.sha256(b"table").hexdigest(), "toy",
                               "built", "test", built_from=("src",))
    manifest([src], [table])
    root = tmp_path / "root"
    _put(root, "t/table.npz", b"table")
    assert _fetch_cli("--root", str(root), "--mirror", url, "--quiet") == 0
    assert handler.requests == []
    assert _fetch_cli("table", "--root", str(root), "--mirror", url, "--quiet") == 2  # asked for
    assert handler.requests == ["/s/src.npy"]


# -- output and permissions ------------------------------------------------------------------

def test_fetch_prints_no_pooch_lines_and_quiet_prints_no_progress(server, tmp_path, manifest, capfd):
    folder, url, _ = server
    orig = _original("q/file.bin", b"q" * 100_000, key="q")
    manifest([orig], [_entry(orig)])
    _put(folder, "q/file.bin", b"q" * 100_000)
    assert _fetch_cli("--root", str(tmp_path / "loud"), "--mirror", url) == 0
    out, err = capfd.readouterr()
    assert "Downloading" not in out + err and "SHA256 hash of downloaded file" not in out + err
    assert out.splitlines()[0] == f"  fetch    q/file.bin from {url}"
    assert _fetch_cli("--root", str(tmp_path / "quiet"), "--mirror", url, "--quiet") == 0
    out, err = capfd.readouterr()
    assert err == "" and len(out.splitlines()) == 1 and out.startswith("1 file(s) verified in ")


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o002, 0o664)])
def test_downloaded_files_get_the_umask_permissions(server, tmp_path, umask, mode):
    folder, url, _ = server
    _put(folder, "p.bin", b"perm")
    old = os.umask(umask)
    try:
        got = fetch_one(_original("p.bin", b"perm"), tmp_path / "root", mirror=url, progress=False)
    finally:
        os.umask(old)
    assert got.stat().st_mode & 0o777 == mode


# -- junk, stalls and sizes ------------------------------------------------------------------

def test_junk_served_as_the_tfrecord_is_refused_and_never_ok(server, tmp_path, capsys):
    folder, url, _ = server
    orig = datafiles.original("nb101_tfrecord")
    junk = os.urandom(4096)
    _put(folder, orig.relpath, junk)
    root = tmp_path / "root"
    assert _fetch_cli("nb101_tfrecord", "--root", str(root), "--mirror", url, "--quiet") == 2
    out, err = capsys.readouterr()
    assert "verified" not in out and _files(root) == []
    assert f"{orig.relpath} from {url}/{orig.relpath}: the server announces 4,096 bytes" in err
    _put(root, orig.relpath, junk)  # placed by hand: `data check` does not call it ok
    assert datafiles.status(orig, root) == "corrupt"
    cli_data.check_data(root=root)
    line = next(ln for ln in capsys.readouterr().out.splitlines() if orig.relpath in ln)
    assert line.split()[0] == "corrupt"


def test_a_dripping_server_fails_in_bounded_time(server, tmp_path):
    _, url, handler = server
    handler.special["/drip.bin"] = "drip"
    root = tmp_path / "root"
    t0 = time.monotonic()
    with pytest.raises(FetchError, match=r"drip\.bin from .*: stalled: \d bytes in 1\.\d s"):
        fetch_one(_original("drip.bin", b"x" * 1000), root, mirror=url, progress=False,
                  transfer=Transfer(timeout=5, min_rate=100, window=1, retries=0))
    assert time.monotonic() - t0 < 2.5 and _files(root) == []


def test_a_silent_server_times_out(server, tmp_path):
    _, url, handler = server
    handler.special["/silent.bin"] = "silent"
    t0 = time.monotonic()
    with pytest.raises(FetchError, match=r"silent\.bin from .*: nothing arrived for 0\.3 s after 0 of 1,000 "
                                         r"bytes \(after 2 attempts\)"):
        fetch_one(_original("silent.bin", b"x" * 1000), tmp_path / "root", mirror=url, progress=False,
                  transfer=Transfer(timeout=0.3, retries=1, backoff=0.01))
    assert time.monotonic() - t0 < 2


def test_an_announced_size_beyond_the_pinned_one_is_refused(server, tmp_path):
    _, url, handler = server
    handler.special["/huge.bin"] = "huge"
    root = tmp_path / "root"
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="announces 100,000,000,000 bytes, the pinned size is 1,000"):
        fetch_one(_original("huge.bin", b"x" * 1000), root, mirror=url, progress=False, transfer=FAST)
    assert time.monotonic() - t0 < 1 and _files(root) == [] and handler.requests == ["/huge.bin"]


def test_an_endless_stream_is_stopped_at_the_pinned_size(server, tmp_path):
    _, url, handler = server
    handler.special["/endless.bin"] = "endless"
    root = tmp_path / "root"
    t0 = time.monotonic()
    with pytest.raises(FetchError, match="sent more than the pinned 100,000 bytes; stopped"):
        fetch_one(_original("endless.bin", b"x" * 100_000), root, mirror=url, progress=False, transfer=FAST)
    assert time.monotonic() - t0 < 1 and _files(root) == [] and handler.requests == ["/endless.bin"]


# -- one line per failure --------------------------------------------------------------------

def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


_FAILURES = {  # case -> (special, the mirror's content at f/x.bin, cause)
    "404": (None, None, "HTTP 404 File not found"),
    "500": ("error500", None, "HTTP 500 Internal Server Error (after 4 attempts)"),
    "html portal": ("portal", None, "the server sent an HTML page (text/html), not the file"),
    "wrong bytes": (None, b"y" * 64, "SHA256 "),
    "truncated": ("truncated", b"x" * 64, "32 of 64 bytes"),
    "refused": (None, None, "cannot connect (Connection refused) (after 4 attempts)"),
    "not a URL": (None, None, "is not an http(s) URL"),
}


@pytest.mark.parametrize("case", list(_FAILURES))
def test_every_failure_is_one_line_naming_file_url_and_cause(case, server, tmp_path, manifest, fast, capfd):
    folder, url, handler = server
    special, content, cause = _FAILURES[case]
    orig = _original("f/x.bin", b"x" * 64, key="x")
    manifest([orig], [_entry(orig)])
    if special:
        handler.special["/f/x.bin"] = special
    if content is not None:
        _put(folder, "f/x.bin", content)
    mirror = {"refused": _closed_port_url(), "not a URL": str(folder)}.get(case, url)
    assert _fetch_cli("--root", str(tmp_path / "root"), "--mirror", mirror) == 2
    out, err = capfd.readouterr()
    assert len(_screen(err)) == 1 and _screen(err)[0].startswith("tgnas data fetch: error: "), err
    assert cause in err
    if case != "not a URL":
        assert f"f/x.bin from {mirror}/f/x.bin: " in err
    else:
        assert f"mirror {str(folder)!r}" in err
    assert "Downloading" not in out + err and _files(tmp_path / "root") == []


# -- interruptions ---------------------------------------------------------------------------

_DRIP_FETCH = """
import sys
from pathlib import Path
from tgnas import datafetch, datafiles
orig = datafiles.Original("toy", "d/drip.bin", None, "0" * 64, 1000, "test")
with datafetch.exit_on_sigterm():
    datafetch.fetch_one(orig, Path(sys.argv[1]), sys.argv[2], progress=False)
"""


def _start_dripping_fetch(url: str, root: Path) -> tuple[subprocess.Popen, Path]:
    """A process fetching ``d/drip.bin`` from a dripping server, once its part file exists."""
    proc = subprocess.Popen([sys.executable, "-c", _DRIP_FETCH, str(root), url], cwd=paths.PROJECT_ROOT)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        parts = list((root / "d").glob(".drip.bin.*.part")) if (root / "d").is_dir() else []
        if parts:
            return proc, parts[0]
        time.sleep(0.02)
    proc.kill()
    raise AssertionError(f"no part file appeared (exit status {proc.wait()})")


def test_sigterm_removes_the_partial_download(server, tmp_path):
    _, url, handler = server
    handler.special["/d/drip.bin"] = "drip"
    root = tmp_path / "root"
    proc, _ = _start_dripping_fetch(url, root)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 128 + signal.SIGTERM
    assert _files(root) == []


def test_a_part_left_by_kill_9_is_removed_by_the_next_fetch(server, tmp_path):
    folder, url, handler = server
    handler.special["/d/drip.bin"] = "drip"
    root = tmp_path / "root"
    proc, part = _start_dripping_fetch(url, root)
    proc.kill()
    proc.wait(10)
    assert part.exists()  # what kill -9 leaves
    with subprocess.Popen(["sleep", "30"]) as alive:  # a download still running elsewhere
        other = part.with_name(f".drip.bin.{alive.pid}.0123abcd.part")
        other.write_bytes(b"busy")
        del handler.special["/d/drip.bin"]
        _put(folder, "d/drip.bin", b"x" * 1000)
        fetch_one(_original("d/drip.bin", b"x" * 1000), root, mirror=url, progress=False, transfer=FAST)
        alive.kill()
    assert _files(root) == sorted(["d/drip.bin", f"d/{other.name}"])
    assert remove_stale_parts(root / "d" / "drip.bin") == [other] and _files(root) == ["d/drip.bin"]


def test_the_cli_turns_sigterm_into_an_exit_while_fetching(monkeypatch, tmp_path):
    before = signal.getsignal(signal.SIGTERM)
    seen = []

    def fake_fetch(*args, **kwargs):
        seen.append(signal.getsignal(signal.SIGTERM))
        return []

    monkeypatch.setattr(datafetch, "fetch", fake_fetch)
    assert _fetch_cli("--root", str(tmp_path)) == 0
    assert seen and seen[0] not in (before, signal.SIG_DFL)
    with pytest.raises(SystemExit) as info:
        seen[0](signal.SIGTERM, None)
    assert info.value.code == 143
    assert signal.getsignal(signal.SIGTERM) is before
