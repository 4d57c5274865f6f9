"""What each pipeline stage writes: the full record, its headline numbers, its data series.

A stage's notebook builds one JSON-ready dict with every number it measured (settings,
per-run rows, configs) and calls :func:`write_stage_outputs`. That writes

* ``metrics/details/<stage>.json``: the full record (a DVC output, not a metric);
* ``metrics/<stage>.json``: two to four headline values (a DVC metric: ``dvc metrics show``
  prints them all as one readable table, ``dvc metrics diff`` compares them); the compare
  stage's ``paper_vs_companion.json`` (one status per paper row) is a plain output;
* ``metrics/plots/<series>.json``: data series for ``dvc plots`` templates (learning
  curves, search progress, transfer matrix, TG-NAS+ variants), so that ``dvc plots diff``
  compares two experiments.

The headline and series are pure functions of the full record, so the committed files can
be re-derived from the details at any time (``python -m tgnas.experiments.outputs``).
"""

from __future__ import annotations

from collections.abc import Mapping

import json
from pathlib import Path
from typing import Any, Callable

from tgnas import numerics, paths
from tgnas.fileio import write_json

NB201_DATASETS = ("cifar10", "cifar100", "imagenet16-120")
#: The NB201 search whose found cell is the paper's search result (paper vs. companion row).
HEADLINE_SEARCH = "tgnas/hybrid"

# A headline holds two to four values: ``dvc metrics show`` prints every declared metric file
# as one row of one table whose columns are the union of their keys, so each key added here
# widens that table for every stage. Everything else stays in the details.


def _r(x: Any, nd: int = 4) -> Any:
    """``x`` rounded to ``nd`` decimals when it is a float; anything else unchanged."""
    return round(x, nd) if isinstance(x, float) else x


def embeddings_headline(full: dict) -> dict:
    """``{relations_hold: {"<model>/<length>": n}, relations_total: n}``: the sanity relations
    that hold for each embedding the run made, out of how many (``numerics``, the kernels'
    record beside the models, is not a model)."""
    runs = [(f"{m}/{L}", r) for m, by_len in full.items() if m != "numerics" for L, r in by_len.items()]
    return {"relations_hold": {name: r["relations_hold"] for name, r in runs},
            "relations_total": max((r["relations_total"] for _, r in runs), default=0)}


def predictor_headline(full: dict) -> dict:
    """Validation τ per training space, the selected epoch, and the run's profile label."""
    keep = ("val_tau", "best_epoch", "profile")
    return {k: full[k] for k in keep if k in full}


def correlation_headline(full: dict) -> dict:
    """TG-NAS τ/ρ on all NB201 cells, CIFAR-10 (the paper's headline); the smoke flag."""
    tg = full["nb201"]["cifar10"]["tgnas"]
    return {"cifar10": {"tgnas": {"kendall": _r(tg["kendall"]), "spearman": _r(tg["spearman"])}},
            "smoke": full.get("timing", {}).get("settings", {}).get("smoke")}


def search_headline(full: dict) -> dict:
    """CIFAR-10 test accuracy of the cell the paper's search finds on NB201 (mean over seeds),
    and the DARTS cell's NB301-surrogate percentile among random genotypes."""
    out: dict[str, Any] = {}
    summ = full["nb201"]["summary"]
    if HEADLINE_SEARCH in summ:
        out["nb201"] = {HEADLINE_SEARCH: {"cifar10": _r(summ[HEADLINE_SEARCH]["cifar10"]["mean"], 3)}}
    if "surrogate_percentile" in full["darts"]:
        out["darts"] = {"surrogate_percentile": _r(full["darts"]["surrogate_percentile"], 3)}
    return out


def final_training_headline(full: dict) -> dict:
    keep = ("test_acc", "epochs_done", "smoke")
    return {k: _r(full[k]) for k in keep if k in full}


def plus_headline(full: dict) -> dict:
    """The pipeline rule's NB201 CIFAR-10 τ, the goals met out of all, the smoke flag."""
    return {"pipeline_rule": {"cifar10_kendall": _r(full["pipeline_rule"]["nb201"]["cifar10_kendall"])},
            "goals_met": sum(bool(g["met"]) for g in full["goals"]), "goals_total": len(full["goals"]),
            "smoke": full["settings"].get("smoke")}


def paper_vs_companion_headline(full: dict) -> dict:
    """Per row: the verdict, the published number (``None`` for a range or a claim) and the
    value of the column that decided it; the other columns, spreads and reasons stay in the details."""
    def ours(row):
        est = row.get(row["decided_by"]) if row["decided_by"] in ("paper_method", "companion", "measured") else None
        return _r(est["value"]) if isinstance(est, dict) else None

    return {r["key"]: {"verdict": r["verdict"],
                       "paper": r["paper_low"] if r["paper_low"] == r["paper_high"] else None, "ours": ours(r)}
            for r in full["rows"]}


def generalization_headline(full: dict) -> dict:
    """Mean held-out Kendall tau over every leave-one-space-out target: the chosen predictor,
    TG-NAS+ and the best single proxy (the rest, per target, in the details)."""
    g = full["goals"]
    return {"loso_mean_tau": {"predictor": _r(g["mean_tau_predictor"]), "tgnas_plus": _r(g["mean_tau_plus"]),
                              "best_single": _r(g["best_single_mean"])}}


# ---- data series for dvc plots -------------------------------------------------------------

def predictor_series(full: dict) -> dict[str, list[dict]]:
    rows = []
    for h in full.get("history", []):
        row = {"epoch": h["epoch"], "train_loss": _r(h["train_loss"], 6)}
        row.update({f"val_tau_{k}": _r(v) for k, v in h["val_tau"].items()})
        row.update({f"monitor_{k}": _r(v) for k, v in h.get("monitor", {}).items()})
        rows.append(row)
    return {"predictor_learning_curve": rows} if rows else {}


def search_progress(results) -> list[dict]:
    """Best-so-far trace of each search run, kept at the points where the best score changes
    (and the last point): ``[{scorer, algorithm, seed, history: [[evaluated, best], ...]}]``."""
    out = []
    for r in results:
        hist, kept = list(r.history), []
        for i, (n, best) in enumerate(hist):
            if not kept or best != kept[-1][1] or i == len(hist) - 1:
                kept.append([int(n), float(best)])
        out.append({"scorer": r.scorer, "algorithm": r.algorithm, "seed": int(r.seed), "history": kept})
    return out


def search_series(full: dict) -> dict[str, list[dict]]:
    rows = [{"run": f"{p['scorer']}/{p['algorithm']}/seed{p['seed']}", "evaluated": n, "best_score": _r(b, 6)}
            for p in full["nb201"].get("progress", []) for n, b in p["history"]]
    return {"search_progress": rows} if rows else {}


def correlation_series(full: dict) -> dict[str, list[dict]]:
    transfer = [{"pair": f"{r['config']}: {r['train']} -> {r['eval']}", "kendall": _r(r["kendall"])}
                for r in full["transfer"]["rows"] if r.get("seed", 0) == full["transfer"]["settings"].get("seed", 0)]
    ablation = [{"variant": f"{r['group']}: {r['variant']}", "cifar10_kendall": _r(r["cifar10_kendall"])}
                for r in full["ablations"]["rows"]]
    return {"transfer_matrix": transfer, "ablations": ablation}


def plus_series(full: dict) -> dict[str, list[dict]]:
    variants = [{"variant": r["variant"], "cifar10_kendall": _r(r["cifar10_kendall_mean"]),
                 "nb301_kendall": _r(r["nb301_kendall_mean"])} for r in full["study_summary"]]
    return {"plus_variants": variants}


HEADLINES: dict[str, Callable[[dict], dict]] = {
    "embeddings": embeddings_headline, "predictor": predictor_headline, "correlation": correlation_headline,
    "search": search_headline, "plus": plus_headline, "paper_vs_companion": paper_vs_companion_headline,
    "generalization": generalization_headline,
}
SERIES: dict[str, Callable[[dict], dict[str, list[dict]]]] = {
    "predictor": predictor_series, "search": search_series, "correlation": correlation_series, "plus": plus_series,
}


def headline(stage: str, full: dict) -> dict:
    """The headline numbers of ``stage``'s full record (``final_training*`` share one rule)."""
    if stage.startswith("final_training"):
        return final_training_headline(full)
    if stage not in HEADLINES:
        raise KeyError(f"no headline rule for stage {stage!r}; expected one of {sorted(HEADLINES)} or final_training_*")
    return HEADLINES[stage](full)


def write_stage_outputs(stage: str, full: dict, metrics_dir: Path | None = None,
                        computed_here: bool = True) -> dict[str, Path]:
    """Write ``details/<stage>.json`` (``full``; when ``computed_here``, with this process's
    float kernels as ``numerics``: :func:`tgnas.numerics.fingerprint`), ``<stage>.json`` (its
    headline) and every data series of the stage under ``plots/``; return the paths written by
    name."""
    metrics_dir = Path(metrics_dir) if metrics_dir is not None else paths.METRICS_DIR
    if computed_here and "numerics" not in full:
        full = {**full, "numerics": numerics.fingerprint()}
    written = {"details": write_json(full, metrics_dir / "details" / f"{stage}.json"),
               "metrics": write_json(headline(stage, full), metrics_dir / f"{stage}.json", indent=2)}
    for name, rows in SERIES.get(stage, lambda _: {})(full).items():
        written[name] = write_json(rows, metrics_dir / "plots" / f"{name}.json")
    return written


def replace_readme_blocks(blocks: Mapping[str, tuple[str, str]], readme: Path | None = None) -> bool:
    """Replace generated README blocks, ``{begin marker: (end marker, body)}``, markers kept;
    return whether the file changed. ``ValueError`` names a block whose markers are missing."""
    readme = readme or paths.PROJECT_ROOT / "README.md"
    text = readme.read_text()
    new = text
    for begin, (end, body) in blocks.items():
        start, stop = new.find(begin), new.find(end)
        if start < 0 or stop < start:
            raise ValueError(f"{readme} has no block {begin!r} ... {end!r}")
        new = new[:start] + f"{begin}\n{body}{end}" + new[stop + len(end):]
    if new != text:
        readme.write_text(new)
    return new != text


def read_details(stage: str, metrics_dir: Path | None = None) -> dict:
    """The full record a stage wrote (``metrics/details/<stage>.json``; by default where
    :func:`tgnas.paths.input_path` finds it)."""
    path = (Path(metrics_dir) / "details" / f"{stage}.json" if metrics_dir is not None
            else paths.input_path(paths.METRIC_DETAILS_DIR / f"{stage}.json"))
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run the stage that writes it (`dvc repro`)")
    return json.loads(path.read_text())


def rederive(metrics_dir: Path | None = None) -> list[Path]:
    """Rewrite every headline and series from the details already on disk."""
    metrics_dir = Path(metrics_dir) if metrics_dir is not None else paths.METRICS_DIR
    out = []
    for detail in sorted((metrics_dir / "details").glob("*.json")):
        if detail.stem not in HEADLINES and not detail.stem.startswith("final_training"):
            continue  # a recorded input (e.g. plus_study.json), not a stage's metrics
        out += list(write_stage_outputs(detail.stem, json.loads(detail.read_text()), metrics_dir,
                                        computed_here=False).values())
    return out


if __name__ == "__main__":
    for p in rederive():
        print("wrote", paths.rel(p))
