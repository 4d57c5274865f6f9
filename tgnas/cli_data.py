"""``tgnas data check``: is every benchmark file present and intact?"""

from __future__ import annotations

import argparse

from tgnas import datafiles, paths


def check_data(verbose: bool = True) -> bool:
    """Print one line per data file (dataset, size, status) and return True if all required are ok.

    A file that cannot be read (permissions, I/O error) is reported as ``unreadable`` with
    the reason, and the check goes on with the next file.
    """
    root = paths.data_root()
    print(f"data root: {root}  (from {paths.data_root_source()})")
    all_ok = True
    for entry in datafiles.FILES:
        reason = ""
        try:
            state = datafiles.status(entry)
            size = f"{entry.path.stat().st_size / 1e6:8.2f} MB" if entry.path.is_file() else "       - "
        except OSError as err:  # e.g. PermissionError: report it and check the other files
            state, size, reason = "unreadable", "       - ", f"{type(err).__name__}: {err.strerror or err}"
        need = "required" if entry.required else "optional"
        print(f"  {state:8s} {size}  {entry.dataset:14s} {entry.relpath}  ({need})")
        if reason:
            print(f"           -> cannot read {entry.path} ({reason})")
        elif state != "ok" and verbose:
            print(f"           -> expected at {entry.path}; download from {entry.source}")
        if state != "ok" and entry.required:
            all_ok = False
    print("all required data present and intact" if all_ok else
          f"MISSING OR CORRUPT data (set {paths.DATA_ENV_VAR} to the folder holding it)")
    return all_ok


def _cmd_check(args: argparse.Namespace) -> int:
    return 0 if check_data() else 1


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="benchmark data: check files and checksums")
    data_sub = data.add_subparsers(dest="data_command", metavar="ACTION")
    data_sub.required = True
    check = data_sub.add_parser("check", help="verify every data file against its SHA256")
    check.set_defaults(func=_cmd_check)
