"""Download the public originals of the benchmark data (``tgnas data fetch``), with pooch.

Each original of :data:`tgnas.datafiles.ORIGINALS` is downloaded from its pinned URL, or
from ``MIRROR/<relpath>`` when a mirror is given (``--mirror URL`` or
``$TGNAS_DATA_MIRROR``; a mirror has the layout of a data root, so a copy of a data root
served over HTTP is one). pooch streams into a temporary file beside the target, checks
the recorded hash, retries failed or corrupted downloads, and renames the file into place
only when it matches; a file of the wrong size is removed as well. So a truncated or
corrupted download never reaches the data root.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from tgnas import datafiles, paths
from tgnas.errors import CommandError

#: Environment variable holding a mirror's base URL (same relative layout as a data root).
MIRROR_ENV_VAR = "TGNAS_DATA_MIRROR"


class FetchError(CommandError):
    """A download failed, or the downloaded file does not match its recorded hash or size."""


def mirror_url(mirror: str | None = None) -> str | None:
    """The mirror in effect: the argument, else ``$TGNAS_DATA_MIRROR``, else ``None``."""
    return (mirror or os.environ.get(MIRROR_ENV_VAR) or "").rstrip("/") or None


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


def fetch_one(orig: datafiles.Original, root: Path, mirror: str | None = None,
              retries: int = 3, progress: bool = True, timeout: float = 60.0) -> Path:
    """Download ``orig`` below ``root`` unless a verified copy is there; return its path.

    Raises:
        FetchError: no URL (and no mirror), an HTTP or network error after ``retries``
            retries, or a hash/size mismatch; the message names the file, the URL and, for
            a mismatch, the expected and the actual hash.
    """
    import pooch
    import requests

    dest = root / orig.relpath
    if dest.is_file() and datafiles.status(orig, root) == "ok" and (orig.size is None or
                                                                   dest.stat().st_size == orig.size):
        return dest
    url = f"{mirror}/{orig.relpath}" if mirror else orig.url
    if url is None:
        raise FetchError(f"{orig.relpath}: no public URL is pinned for it ({orig.note}); "
                         f"fetch it from a mirror (--mirror URL or ${MIRROR_ENV_VAR})")
    if dest.exists():
        dest.unlink()  # a corrupt copy: replaced by a verified one or by nothing
    registry = pooch.create(path=dest.parent, base_url="", registry={dest.name: orig.known_hash},
                            urls={dest.name: url}, retry_if_failed=retries)
    downloader = pooch.HTTPDownloader(progressbar=progress, timeout=timeout)
    try:
        registry.fetch(dest.name, downloader=downloader)
    except ValueError as err:  # pooch's hash mismatch (after its retries)
        raise FetchError(f"{orig.relpath}: refused the download from {url}: {_mismatch(err)}") from None
    except requests.exceptions.RequestException as err:
        raise FetchError(f"{orig.relpath}: download from {url} failed: {err}") from None
    if orig.size is not None and dest.stat().st_size != orig.size:
        got = dest.stat().st_size
        dest.unlink()
        raise FetchError(f"{orig.relpath}: refused the download from {url}: {got} bytes, "
                         f"expected {orig.size}; removed")
    return dest


def _mismatch(err: ValueError) -> str:
    """pooch's hash message without its temporary file name."""
    text = str(err)
    start = text.find("expected")
    return ("hash mismatch, " + text[start:].split(". The file")[0] if start >= 0 else text) + "; removed"


def fetch(names: Sequence[str] = (), root: Path | None = None, mirror: str | None = None,
          retries: int = 3, progress: bool = True) -> list[Path]:
    """Download the originals ``names`` (default: all default ones) below ``root``.

    Args:
        names: original or derived-file keys (see :func:`select`).
        root: data root (default :func:`tgnas.paths.data_root`).
        mirror: base URL replacing every pinned URL (default ``$TGNAS_DATA_MIRROR``).

    Returns:
        The paths of the verified files, in manifest order.
    """
    root = Path(root).expanduser().resolve() if root is not None else paths.data_root()
    mirror = mirror_url(mirror)
    out, failures = [], []
    for orig in select(names):
        if datafiles.status(orig, root) == "ok":
            print(f"  ok       {orig.relpath} (already there)", flush=True)
            out.append(root / orig.relpath)
            continue
        print(f"  fetch    {orig.relpath} from {mirror or orig.url or '(no public URL)'}", flush=True)
        try:  # one failure does not stop the others; all are reported at the end
            out.append(fetch_one(orig, root, mirror, retries=retries, progress=progress))
        except FetchError as err:
            failures.append(str(err))
    if failures:
        raise FetchError(f"{len(failures)} file(s) not fetched: " + " | ".join(failures))
    return out
