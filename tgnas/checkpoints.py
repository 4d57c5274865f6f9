"""Reading and writing checkpoints safely: no pickled code, a digest of the tensors, atomic files.

Every checkpoint the project reads is loaded with ``torch.load(..., weights_only=True)``: a
run folder may come from someone else, and a pickled payload must never run. So checkpoints
hold only tensors and plain types (configs as dicts, RNG states as lists and tensors).

:func:`save_checkpoint` stores a SHA-256 digest of everything in the checkpoint (tensors by
dtype, shape and bytes; plain values by ``repr``) under :data:`DIGEST_KEY`;
:func:`load_checkpoint_file` recomputes it, so one flipped bit is a clear error instead of
silently different scores. A checkpoint without a digest is refused too: every checkpoint the
project writes has one, so its absence means the file was made or altered elsewhere (edited
weights re-saved with plain ``torch.save``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from tgnas.fileio import atomic_output

#: Key of the digest in a checkpoint dict.
DIGEST_KEY = "digest"


class CheckpointError(ValueError):
    """A checkpoint cannot be used: unreadable, not allowed to load safely, damaged or non-finite."""


def _update(h: "hashlib._Hash", obj: Any) -> None:
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)}".encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, Mapping):
        h.update(b"{")
        for k in sorted(obj, key=repr):
            h.update(repr(k).encode())
            _update(h, obj[k])
        h.update(b"}")
    elif isinstance(obj, (list, tuple)):
        h.update(b"[" if isinstance(obj, list) else b"(")
        for v in obj:
            _update(h, v)
        h.update(b"]")
    else:
        h.update(repr(obj).encode())


def state_digest(obj: Mapping[str, Any]) -> str:
    """Hex SHA-256 of a checkpoint's content (every key but :data:`DIGEST_KEY`)."""
    h = hashlib.sha256()
    _update(h, {k: v for k, v in obj.items() if k != DIGEST_KEY})
    return h.hexdigest()


def save_checkpoint(obj: Mapping[str, Any], path: Path | str, overwrite: bool = True) -> Path:
    """``torch.save`` ``obj`` plus its digest, atomically (a temp file beside ``path``, renamed)."""
    data = dict(obj)
    data[DIGEST_KEY] = state_digest(data)
    with atomic_output(path, overwrite, "checkpoint") as tmp:
        torch.save(data, tmp)
    return Path(path).expanduser().resolve()


def load_checkpoint_file(path: Path | str, what: str = "checkpoint") -> dict[str, Any]:
    """Load a checkpoint dict safely (``weights_only=True``) and verify its digest if it has one.

    Raises:
        FileNotFoundError: no file at ``path``.
        CheckpointError: not a torch file, holds objects other than tensors and plain types
            (refused without running them), not a dict, has no digest or its digest does not match.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no {what} at {path}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises several types for foreign, pickled or damaged files
        msg = " ".join(str(e).split())
        kind = ("holds objects other than tensors and plain values; refused without loading them"
                if "weights_only" in msg or "Unsupported global" in msg else "is not a readable torch checkpoint")
        raise CheckpointError(f"{what} {path} {kind} ({type(e).__name__}: {msg[:200]})") from None
    if not isinstance(obj, dict):
        raise CheckpointError(f"{what} {path} holds a {type(obj).__name__}, expected a dict")
    stored = obj.get(DIGEST_KEY)
    if stored is None:
        raise CheckpointError(f"{what} {path} has no digest: tgnas writes one into every checkpoint, so this "
                              f"file was written or altered elsewhere; refused (save it with "
                              f"tgnas.checkpoints.save_checkpoint if you trust it)")
    if stored != state_digest(obj):
        raise CheckpointError(f"{what} {path} is damaged: its content does not match the digest "
                              f"stored when it was saved")
    return obj


def check_finite(state: Mapping[str, torch.Tensor], where: str) -> None:
    """Raise :class:`CheckpointError` naming the first tensor of ``state`` holding NaN or inf."""
    for name, t in state.items():
        if isinstance(t, torch.Tensor) and t.is_floating_point() and not bool(torch.isfinite(t).all()):
            bad = int((~torch.isfinite(t)).sum())
            raise CheckpointError(f"{where}: weights {name!r} hold {bad} non-finite value(s) (NaN or inf); "
                                  f"the run diverged or the file was altered, so it cannot be used")


__all__ = ["CheckpointError", "DIGEST_KEY", "check_finite", "load_checkpoint_file", "save_checkpoint",
           "state_digest"]
