"""Download the public originals of the benchmark data (``tgnas data fetch``).

Each original of :data:`tgnas.datafiles.ORIGINALS` is downloaded from its pinned URL, or
from ``MIRROR/<relpath>`` when a mirror is given (``--mirror URL`` or
``$TGNAS_DATA_MIRROR``; a mirror has the layout of a data root, so a copy of a data root
served over HTTP is one).

Every original has a pinned size and SHA256, and a download is held to both while it
streams: a server announcing another size is refused before the body is read, one sending
more than the pinned size is cut off, and the hash is checked at the end. The bytes go to a
temporary file beside the target, ``.<name>.<pid>.<random>.part``, created exclusively and
with the permissions the umask gives any new file; it is renamed into place only when size
and hash match and removed otherwise, on any exception (a SIGTERM included, inside
:func:`exit_on_sigterm`, which the CLI uses). A part file left by a killed process
(``kill -9``) is removed by the next fetch of that file once that process is gone.

Failures that may pass (no connection, a timeout, HTTP 5xx, a truncated body) are retried;
the others (HTTP 4xx, an HTML page instead of the file, a wrong size or hash) are not. A
download also fails when nothing arrives for ``timeout`` seconds, or when fewer than
``min_rate`` bytes per second arrive over ``window`` seconds (a server that drips bytes).
This module uses requests directly rather than pooch: pooch creates its own temporary file
(mode 0600, not removed on SIGTERM), retries every HTTP error and sets no bound on the size
or the duration of a download.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import secrets
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from tqdm import tqdm

from tgnas import datafiles, paths
from tgnas.errors import CommandError, shorten

#: Environment variable holding a mirror's base URL (same relative layout as a data root).
MIRROR_ENV_VAR = "TGNAS_DATA_MIRROR"

#: Suffix of the temporary files downloads stream into.
PART_SUFFIX = ".part"

#: Bytes asked of the socket per read (a read returns as soon as any bytes arrived).
_CHUNK = 1 << 16


class FetchError(CommandError):
    """A download failed, or the downloaded file does not match its recorded hash or size."""


class _Failure(Exception):
    """One failed attempt; the message is the cause, ``retry`` says whether it may pass."""

    def __init__(self, cause: str, retry: bool) -> None:
        super().__init__(cause)
        self.retry = retry


@dataclass(frozen=True)
class Transfer:
    """How long a download may take and how often it is tried.

    Attributes:
        timeout: seconds to connect, and of silence while reading, before an attempt fails.
        min_rate: bytes per second below which a download has stalled, averaged over ``window``.
        window: seconds over which ``min_rate`` is measured.
        retries: further attempts after a failure that may pass.
        backoff: seconds before the first retry (doubled before each next one).
    """

    timeout: float = 30.0
    min_rate: float = 1024.0
    window: float = 60.0
    retries: int = 3
    backoff: float = 1.0


#: The limits a download runs under unless the caller passes others.
DEFAULT_TRANSFER = Transfer()


def mirror_url(mirror: str | None = None) -> str | None:
    """The mirror in effect: the argument, else ``$TGNAS_DATA_MIRROR``, else ``None``.

    Raises:
        FetchError: the mirror is not an ``http(s)://host/...`` URL.
    """
    value = mirror or os.environ.get(MIRROR_ENV_VAR) or ""
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        origin = "mirror" if mirror else f"${MIRROR_ENV_VAR}"
        raise FetchError(f"{origin} {shorten(value)} is not an http(s) URL; expected "
                         f"http://HOST[:PORT]/PATH (a folder is served by `python -m http.server -d FOLDER`)")
    return value.rstrip("/")


def select(names: Sequence[str] = ()) -> list[datafiles.Original]:
    """The originals named (all ``default`` ones when ``names`` is empty).

    A name may be an original's key or a derived file's key (meaning its originals).
    Unknown names raise ``KeyError`` listing the valid ones.
    """
    if not names:
        return [o for o in datafiles.ORIGINALS if o.default]
    keys: list[str] = []
    valid = {o.key for o in datafiles.ORIGINALS}
    derived = {f.key: f.built_from for f in datafiles.FILES if f.derived}
    for name in names:
        if name in valid:
            keys.append(name)
        elif name in derived:
            keys.extend(derived[name])
        else:
            raise KeyError(f"unknown data file {name!r}; expected one of {sorted(valid | set(derived))}")
    return [datafiles.original(k) for k in dict.fromkeys(keys)]


def not_needed(orig: datafiles.Original, root: Path) -> str | None:
    """Why ``tgnas data check`` does not need ``orig`` under ``root`` (``None``: it does).

    An original is not needed when the file it stands for has an accepted alternative that
    is ok (the JPEG CIFAR-10 for the tarball), or when it only serves to build derived
    files that are all ok already.
    """
    entry = next((f for f in datafiles.FILES if f.key == orig.key), None)
    if entry is not None and entry.alternative:
        alt = datafiles.get(entry.alternative)
        if datafiles.status(alt, root) == "ok":
            return f"its alternative {alt.relpath} is ok"
    users = [f for f in datafiles.FILES if orig.key in f.built_from]
    if entry is None and users and all(datafiles.status(f, root) == "ok" for f in users):
        return f"only needed to build {', '.join(f.relpath for f in users)}, which is ok"
    return None


def alternative(orig: datafiles.Original) -> datafiles.Original | None:
    """The original that serves the loaders instead of ``orig``, if there is one."""
    entry = next((f for f in datafiles.FILES if f.key == orig.key), None)
    if entry is None or entry.alternative is None:
        return None
    return datafiles.original(entry.alternative)


@contextmanager
def exit_on_sigterm() -> Iterator[None]:
    """Within the block, SIGTERM raises ``SystemExit(143)``, so that ``finally`` clauses (the
    removal of a partial download) run; the previous handler is restored afterwards.

    For callers that own the process (the CLI); in a thread other than the main one, where
    no handler can be set, the block runs unchanged.
    """
    def _exit(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, _exit)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def fetch_one(orig: datafiles.Original, root: Path, mirror: str | None = None,
              progress: bool = True, transfer: Transfer | None = None) -> Path:
    """Download ``orig`` below ``root`` unless a verified copy is there; return its path.

    ``transfer``: the limits (default :data:`DEFAULT_TRANSFER`).

    Raises:
        FetchError: no URL (and no mirror), no pinned size or hash, or a failed download;
            one line naming the file, the URL and the cause.
    """
    dest = root / orig.relpath
    transfer = transfer or DEFAULT_TRANSFER
    if datafiles.status(orig, root) == "ok":
        return dest
    url = f"{mirror}/{orig.relpath}" if mirror else orig.url
    if url is None:
        raise FetchError(f"{orig.relpath}: no public URL is pinned for it ({orig.note}); "
                         f"fetch it from a mirror (--mirror URL or ${MIRROR_ENV_VAR})")
    if orig.sha256 is None or orig.size is None:
        raise FetchError(f"{orig.relpath}: the manifest pins no SHA256 or size for it; refusing "
                         f"to download what cannot be verified")
    dest.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_parts(dest)
    if dest.is_file() or dest.is_symlink():
        dest.unlink()  # a corrupt copy: replaced by a verified one or by nothing
    for attempt in range(transfer.retries + 1):
        try:
            _download(url, dest, orig, progress, transfer)
            return dest
        except _Failure as err:
            if not err.retry or attempt == transfer.retries:
                tries = f" (after {attempt + 1} attempts)" if attempt else ""
                raise FetchError(f"{orig.relpath} from {url}: {err}{tries}") from None
            time.sleep(transfer.backoff * 2 ** attempt)
    raise AssertionError("unreachable")


def remove_stale_parts(dest: Path) -> list[Path]:
    """Remove the part files of ``dest`` whose downloading process is gone; return them.

    A part file names its process (``.<name>.<pid>.<random>.part``), so a concurrent
    download of the same file is left alone.
    """
    removed = []
    for part in dest.parent.glob(f".{glob.escape(dest.name)}.*{PART_SUFFIX}"):
        pid = part.name[len(dest.name) + 2:].split(".")[0]
        if pid.isdigit() and not _alive(int(pid)):
            part.unlink(missing_ok=True)
            removed.append(part)
    return removed


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists (on Windows, where signal 0 would kill it: assumed)."""
    if os.name == "nt" or pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, another user's
        return True
    return True


def _create_part(dest: Path) -> tuple[Path, int]:
    """A new, exclusively created part file beside ``dest`` and its descriptor.

    ``O_EXCL | O_NOFOLLOW``: a file or symlink planted at the name is never written through;
    mode 0o666 minus the umask, as for any file a program creates.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        part = dest.with_name(f".{dest.name}.{os.getpid()}.{secrets.token_hex(4)}{PART_SUFFIX}")
        try:
            return part, os.open(part, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file beside {dest}")


def _download(url: str, dest: Path, orig: datafiles.Original, progress: bool, transfer: Transfer) -> None:
    """One attempt: stream ``url`` into a part file, verify it, rename it onto ``dest``."""
    part, fd = _create_part(dest)
    try:
        with os.fdopen(fd, "wb") as fh:
            digest = _stream(url, fh, orig, progress, transfer)
        if digest != orig.sha256:
            raise _Failure(f"SHA256 {digest} differs from the pinned {orig.sha256}; refused", retry=False)
        os.replace(part, dest)
    finally:  # also on SystemExit and KeyboardInterrupt
        part.unlink(missing_ok=True)


def _stream(url: str, fh: BinaryIO, orig: datafiles.Original, progress: bool, transfer: Transfer) -> str:
    """GET ``url`` into ``fh``, held to the pinned size; return the SHA256 (hex) of the bytes."""
    import requests

    try:  # identity: the pinned size and hash are those of the bytes on the wire
        with requests.get(url, stream=True, timeout=transfer.timeout,
                          headers={"Accept-Encoding": "identity"}) as resp:
            _check_response(resp, orig)
            return _copy_body(resp.raw.read1, fh, orig, progress, transfer)
    except requests.exceptions.Timeout:
        raise _Failure(f"no response within {transfer.timeout:g} s", retry=True) from None
    except requests.exceptions.ConnectionError as err:
        raise _Failure(f"cannot connect ({_errno_text(err)})", retry=True) from None
    except requests.exceptions.RequestException as err:
        raise _Failure(f"request failed ({_errno_text(err)})", retry=False) from None


def _errno_text(err: BaseException) -> str:
    """The OS's words inside a requests error (``Connection refused``), else the error, short."""
    text = str(err)
    match = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    return match.group(1).strip() if match else shorten(text, 160)


def _check_response(resp, orig: datafiles.Original) -> None:
    """Refuse, before reading the body, an HTTP error, an HTML page or a wrong announced size."""
    if resp.status_code >= 400:
        retry = resp.status_code >= 500 or resp.status_code in (408, 429)
        raise _Failure(f"HTTP {resp.status_code} {resp.reason or ''}".rstrip(), retry=retry)
    ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype in ("text/html", "application/xhtml+xml") and not orig.relpath.endswith((".html", ".htm")):
        raise _Failure(f"the server sent an HTML page ({ctype}), not the file (a login or error page?)",
                       retry=False)
    length = resp.headers.get("Content-Length")
    encoded = resp.headers.get("Content-Encoding", "identity").lower() not in ("", "identity")
    if length is not None and not encoded and length.strip().isdigit() and int(length) != orig.size:
        raise _Failure(f"the server announces {int(length):,} bytes, the pinned size is {orig.size:,}; "
                       f"refused", retry=False)


def _copy_body(read1: Callable[[int], bytes], fh: BinaryIO, orig: datafiles.Original, progress: bool,
               transfer: Transfer) -> str:
    """Copy the body into ``fh``, hashing it; stop at more than the pinned size or a stall."""
    import urllib3

    digest, got = hashlib.sha256(), 0
    start, start_got = time.monotonic(), 0
    with tqdm(total=orig.size, unit="B", unit_scale=True, ncols=79, desc=Path(orig.relpath).name,
              disable=not progress, leave=False) as bar:
        while True:
            try:
                chunk = read1(_CHUNK)  # returns as soon as some bytes arrived
            except urllib3.exceptions.ReadTimeoutError:
                raise _Failure(f"nothing arrived for {transfer.timeout:g} s after {got:,} of "
                               f"{orig.size:,} bytes", retry=True) from None
            except (urllib3.exceptions.HTTPError, OSError) as err:
                raise _Failure(f"the connection broke after {got:,} of {orig.size:,} bytes "
                               f"({type(err).__name__})", retry=True) from None
            if not chunk:
                break
            got += len(chunk)
            if got > orig.size:
                raise _Failure(f"the server sent more than the pinned {orig.size:,} bytes; stopped",
                               retry=False)
            digest.update(chunk)
            fh.write(chunk)
            bar.update(len(chunk))
            now = time.monotonic()
            if now - start >= transfer.window:
                if got - start_got < transfer.min_rate * (now - start):
                    raise _Failure(f"stalled: {got - start_got:,} bytes in {now - start:.1f} s (less than "
                                   f"{transfer.min_rate:g} bytes/s)", retry=True)
                start, start_got = now, got
    if got < orig.size:
        raise _Failure(f"truncated: {got:,} of {orig.size:,} bytes arrived", retry=True)
    return digest.hexdigest()


def _fetch_needed(orig: datafiles.Original, root: Path, mirror: str | None, progress: bool,
                  transfer: Transfer | None, say: Callable[[str], None], fallback: bool) -> Path:
    """Fetch ``orig``; if that fails and it has an alternative, fetch that instead
    (``fallback``) or name it in the error."""
    try:
        return fetch_one(orig, root, mirror, progress, transfer)
    except FetchError as err:
        alt = alternative(orig)
        if alt is None:
            raise
        if not fallback:
            raise FetchError(f"{err}; its alternative {alt.relpath} would do "
                             f"(`tgnas data fetch {alt.key}`)") from None
        say(f"  failed   {err}")
        say(f"  fetch    {alt.relpath} (its alternative) from {mirror or alt.url or '(no public URL)'}")
        try:
            return fetch_one(alt, root, mirror, progress, transfer)
        except FetchError as alt_err:
            raise FetchError(f"{err}; its alternative {alt.relpath} would do, but: {alt_err}") from None


def fetch(names: Sequence[str] = (), root: Path | None = None, mirror: str | None = None,
          progress: bool = True, transfer: Transfer | None = None, verbose: bool = True) -> list[Path]:
    """Download the originals ``names`` (default: the default ones ``tgnas data check`` needs).

    With no names, an original is skipped when :func:`not_needed` says so, and one that
    cannot be fetched is replaced by its alternative when that can be.

    Args:
        names: original or derived-file keys (see :func:`select`).
        root: data root (default :func:`tgnas.paths.data_root`).
        mirror: base URL replacing every pinned URL (default ``$TGNAS_DATA_MIRROR``).
        progress: show a progress bar per download; verbose: print a line per file.
        transfer: the limits of each download (default :data:`DEFAULT_TRANSFER`).

    Returns:
        The paths of the verified files, in manifest order.

    Raises:
        FetchError: one line listing every file not fetched, with its URL and the cause.
    """
    root = Path(root).expanduser().resolve() if root is not None else paths.data_root()
    mirror = mirror_url(mirror)
    say = (lambda line: print(line, flush=True)) if verbose else (lambda line: None)
    out, failures = [], []
    for orig in select(names):
        if datafiles.status(orig, root) == "ok":
            say(f"  ok       {orig.relpath} (already there)")
            out.append(root / orig.relpath)
            continue
        reason = None if names else not_needed(orig, root)
        if reason:
            say(f"  skip     {orig.relpath} ({reason})")
            continue
        say(f"  fetch    {orig.relpath} from {mirror or orig.url or '(no public URL)'}")
        try:  # one failure does not stop the others; all are reported at the end
            out.append(_fetch_needed(orig, root, mirror, progress, transfer, say, fallback=not names))
        except FetchError as err:
            failures.append(str(err))
    if len(failures) == 1:
        raise FetchError(failures[0])
    if failures:
        raise FetchError(f"{len(failures)} files not fetched: " + " | ".join(failures))
    return out
