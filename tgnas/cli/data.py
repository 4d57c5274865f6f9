"""``tgnas data check|fetch|build``: benchmark data on a fresh machine, and its checksums."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from tgnas import datafiles, paths


def _root(root: str | Path | None) -> Path:
    return Path(root).expanduser().resolve() if root else paths.data_root()


def _state(entry, root: Path) -> tuple[str, str]:
    """(status, reason): a file that cannot be read is ``unreadable`` with the reason, so that
    the check goes on with the next file."""
    try:
        return datafiles.status(entry, root), ""
    except OSError as err:  # e.g. PermissionError
        return "unreadable", f"{type(err).__name__}: {err.strerror or err}"


def _line(state: str, path: Path, what: str) -> str:
    try:
        size = f"{path.stat().st_size / 1e6:8.2f} MB" if path.is_file() else "       - "
    except OSError:
        size = "       - "
    return f"  {state:10s} {size}  {what}"


def check_data(verbose: bool = True, root: str | Path | None = None) -> bool:
    """Print the state of every file a loader reads, then of every original; True if all
    required files (or their alternatives) are ok. Unreadable files are reported, not fatal."""
    root = _root(root)
    src = "--root" if root != paths.data_root() else paths.data_root_source()
    print(f"data root: {root}  (from {src})")
    print("files the loaders read:")
    all_ok = True
    for entry in datafiles.FILES:
        state, reason = _state(entry, root)
        need = "required" if entry.required else "optional"
        kind = "built from " + ", ".join(entry.built_from) if entry.derived else "original"
        print(_line(state, root / entry.relpath, f"{entry.dataset:14s} {entry.relpath}  ({need}, {kind})"))
        alt_ok = bool(entry.alternative) and _state(datafiles.get(entry.alternative), root)[0] == "ok"
        if reason:
            print(f"           -> cannot read {root / entry.relpath} ({reason})")
        elif state != "ok" and alt_ok:
            print(f"           -> not needed: its alternative {entry.alternative} is ok")
        elif state != "ok" and verbose:
            how = "tgnas data build" if entry.derived else f"tgnas data fetch {entry.key}"
            print(f"           -> expected at {root / entry.relpath}; `{how}`")
        all_ok &= state == "ok" or not entry.required or alt_ok
    print("originals (what `tgnas data fetch` downloads; only needed to build derived files):")
    for orig in datafiles.ORIGINALS:
        if orig.key in {f.key for f in datafiles.FILES}:
            continue  # listed above
        state, reason = _state(orig, root)
        note = "" if orig.default else ", optional"
        print(_line(state, root / orig.relpath, f"{orig.relpath}  ({orig.licence}{note})"))
        if reason:
            print(f"           -> cannot read {root / orig.relpath} ({reason})")
    print("all required data present and intact" if all_ok else
          f"MISSING OR CORRUPT data: run `tgnas data fetch && tgnas data build`, or set "
          f"{paths.DATA_ENV_VAR} to the folder holding it")
    return all_ok


def _cmd_check(args: argparse.Namespace) -> int:
    return 0 if check_data(verbose=not args.quiet, root=args.root) else 1


def _cmd_fetch(args: argparse.Namespace) -> int:
    from tgnas.datafetch import exit_on_sigterm, fetch

    t0 = time.perf_counter()
    with exit_on_sigterm():  # a SIGTERM removes the partial download, as an error would
        paths_ = fetch(args.names, root=_root(args.root), mirror=args.mirror, progress=not args.quiet,
                       verbose=not args.quiet)
    print(f"{len(paths_)} file(s) verified in {time.perf_counter() - t0:.0f} s")
    return 0


def _cmd_build(args: argparse.Namespace) -> int:
    from tgnas.databuild import build

    t0 = time.perf_counter()
    built = build(_root(args.root), overwrite=args.overwrite, progress=not args.quiet)
    print(f"{len(built)} file(s) built in {time.perf_counter() - t0:.0f} s")
    return 0


def register(data: argparse.ArgumentParser) -> None:
    """Fill the ``tgnas data`` parser (:data:`tgnas.cli.app.COMMANDS` names the command)."""
    from tgnas.datafetch import MIRROR_ENV_VAR

    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_sub.required = True
    root_help = f"data root (default: {paths.data_root_order()})"
    check = data_sub.add_parser("check", help="verify every data file against its recorded hash")
    check.add_argument("--root", help=root_help)
    check.add_argument("--quiet", action="store_true", help="no hints below missing files")
    check.set_defaults(func=_cmd_check)
    fetch = data_sub.add_parser("fetch", help="download the public originals (verified, atomic)")
    fetch.add_argument("names", nargs="*", metavar="NAME",
                       help="originals or derived files to fetch (default: every default original "
                            "that `tgnas data check` needs; an accepted alternative counts)")
    fetch.add_argument("--root", help=root_help)
    fetch.add_argument("--mirror", metavar="URL",
                       help=f"base URL replacing every pinned URL; it serves each file at URL/<path "
                            f"below the data root> (default: ${MIRROR_ENV_VAR})")
    fetch.add_argument("--quiet", action="store_true", help="no progress bars, no line per file")
    fetch.set_defaults(func=_cmd_fetch)
    build = data_sub.add_parser("build", help="derive the tables loaders read from the originals")
    build.add_argument("--root", help=root_help)
    build.add_argument("--overwrite", action="store_true", help="rebuild files that are already ok")
    build.add_argument("--quiet", action="store_true", help="no progress bars")
    build.set_defaults(func=_cmd_build)
