"""``tgnas embed``: the operator embeddings of a search space and their nearest neighbours."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from tgnas import embeddings as emb
from tgnas.descriptions import LENGTHS, SPACE_OPS, describe, parse_op_texts
from tgnas.fileio import atomic_output, check_output


def embed_table(model: str, length: str, space: str, extra: dict[str, str] | None = None,
                out: Path | None = None, overwrite: bool = False) -> list[dict[str, object]]:
    """Embed a space's ops (plus ``extra`` free-text ops), print op / norm / nearest other op.

    Writes ``ops`` (N,), ``texts`` (N,), ``embeddings`` (N, D), ``model``, ``length`` to the
    ``.npz`` file ``out`` when given (atomically; an existing file only with ``overwrite``).
    Returns the printed rows.
    """
    extra = extra or {}
    ops = [*emb.space_ops(space), *(op for op in extra if op not in emb.space_ops(space))]
    vectors = emb.embed_ops(ops, model=model, length=length, descriptions=extra)
    texts = [describe(op, length, extra) for op in ops]  # all describable once embed_ops succeeded
    sim = emb.similarity_matrix(vectors)
    rows = []
    print(f"model={model} (dim {vectors.shape[1]})  length={length}  space={space}  ops={len(ops)}")
    print(f"{'op':18s} {'norm':>6s}  {'nearest other op':18s} {'cosine':>6s}  description")
    for op, vec, (near, cos), text in zip(ops, vectors, emb.nearest_other(ops, sim), texts):
        norm = float(np.linalg.norm(vec))
        rows.append({"op": op, "norm": norm, "nearest": near, "cosine": cos, "text": text})
        print(f"{op:18s} {norm:6.3f}  {near:18s} {cos:6.3f}  {text[:60]}")
    if out is not None:
        out = Path(out)
        if out.suffix != ".npz":
            raise ValueError(f"--out must end in .npz, got {out}")
        with atomic_output(out, overwrite, "--out") as tmp, open(tmp, "wb") as fh:
            np.savez(fh, ops=np.array(ops, dtype=str), texts=np.array(texts, dtype=str),
                     embeddings=vectors, model=np.array(model), length=np.array(length))
        print(f"wrote {out}")
    return rows


def _cmd_embed(args: argparse.Namespace) -> int:
    if args.out is not None:
        check_output(args.out, args.overwrite, "--out")
    embed_table(args.model, args.length, args.space, parse_op_texts(args.describe, "--describe"), args.out,
                overwrite=args.overwrite)
    return 0


def register(p: argparse.ArgumentParser) -> None:
    """Fill the ``tgnas embed`` parser (:data:`tgnas.cli.app.COMMANDS` names the command)."""
    p.add_argument("--model", default="minilm", choices=list(emb.MODELS))
    p.add_argument("--length", default="short", choices=list(LENGTHS))
    p.add_argument("--space", default="all", choices=[*SPACE_OPS, "all"])
    p.add_argument("--describe", action="append", default=[], metavar="OP=TEXT",
                   help="add or override an operator with a free-text description (repeatable)")
    p.add_argument("--out", type=Path, help="write the embeddings to this .npz file")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=_cmd_embed)
