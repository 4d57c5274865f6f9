"""What each pipeline stage writes: the full record, its headline numbers, its data series.

A stage's notebook builds one JSON-ready dict with every number it measured (settings,
per-run rows, configs) and calls :func:`write_stage_outputs`. That writes

* ``metrics/details/<stage>.json``: the full record (a DVC output, not a metric);
* ``metrics/<stage>.json``: the headline numbers only (a DVC metric: ``dvc metrics show``
  stays short and ``dvc metrics diff`` readable);
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

from tgnas import paths
from tgnas.fileio import write_json

NB201_DATASETS = ("cifar10", "cifar100", "imagenet16-120")
#: Methods of the NB201 correlation table kept in the headline (every method stays in the details).
HEADLINE_METHODS = ("tgnas", "params", "flops", "synflow", "nwot", "jacov", "snip", "grad_norm", "fisher",
                    "grasp", "epe_nas", "l2_norm", "zen", "tgnas_zc_cells")
#: Search summaries kept in the headline (scorer/algorithm).
HEADLINE_SEARCHES = ("tgnas/hybrid", "tgnas/prune", "tgnas/evolve", "tgnas/random", "flops/hybrid",
                     "tgnas+/cascade", "tgnas+/evolve", "tgnas+/prune")


def _r(x: Any, nd: int = 4) -> Any:
    """``x`` rounded to ``nd`` decimals when it is a float; anything else unchanged."""
    return round(x, nd) if isinstance(x, float) else x


def embeddings_headline(full: dict) -> dict:
    """``{model: {length: {dim, relations_hold, relations_total, cos_input_0_input_1, mean_offdiag_cos}}}``."""
    keep = ("dim", "relations_hold", "relations_total", "cos_input_0_input_1", "mean_offdiag_cos")
    return {m: {L: {k: r[k] for k in keep if k in r} for L, r in by_len.items()} for m, by_len in full.items()}


def predictor_headline(full: dict) -> dict:
    keep = ("val_tau", "val_rho", "best_epoch", "epochs_run", "mean_epoch_time_s", "smoke")
    return {k: full[k] for k in keep if k in full}


def correlation_headline(full: dict) -> dict:
    """NB201 τ/ρ: every listed method on CIFAR-10, TG-NAS and #params on the other two datasets;
    TG-NAS seconds per architecture; the smoke flag."""
    nb201 = full["nb201"]
    out: dict[str, Any] = {"cifar10": {m: {"kendall": _r(nb201["cifar10"][m]["kendall"]),
                                          "spearman": _r(nb201["cifar10"][m]["spearman"])}
                                       for m in HEADLINE_METHODS if m in nb201["cifar10"]}}
    for ds in NB201_DATASETS[1:]:
        out[ds] = {m: {"kendall": _r(nb201[ds][m]["kendall"]), "spearman": _r(nb201[ds][m]["spearman"])}
                   for m in ("tgnas", "params") if m in nb201[ds]}
    timing = full.get("timing", {})
    if "tgnas" in timing:
        out["tgnas_seconds_per_arch"] = timing["tgnas"]["seconds_per_arch"]
    out["smoke"] = timing.get("settings", {}).get("smoke")
    return out


def search_headline(full: dict) -> dict:
    summ = full["nb201"]["summary"]
    nb201 = {}
    for key in HEADLINE_SEARCHES:
        if key in summ:
            s = summ[key]
            nb201[key] = {**{ds: _r(s[ds]["mean"], 3) for ds in NB201_DATASETS},
                          "wall_time_s": _r(s["wall_time_s"]["mean"], 3)}
            if key.startswith("tgnas+/"):  # the searches whose goal is every seed in the top 1 %
                nb201[key]["top1pct_seeds"] = s["top1pct_seeds"]
    d = full["darts"]
    darts = {k: _r(d[k], 3) for k in ("params", "surrogate_accuracy", "surrogate_percentile", "random_mean",
                                        "wall_time_s") if k in d}
    out = {"nb201": nb201, "darts": darts, "seeds": full["settings"]["seeds"]}
    if "darts_cascade" in full:
        c = full["darts_cascade"]
        out["darts_cascade"] = {"surrogate_percentile": _r(c["surrogate_percentile"]["mean"], 3),
                                "surrogate_accuracy": _r(c["surrogate_accuracy"]["mean"], 3),
                                "wall_time_s": _r(c["wall_time_s"]["mean"], 3),
                                "top_seeds": c["top_seeds"], "seeds": c["seeds"]}
    return out


def final_training_headline(full: dict) -> dict:
    keep = ("smoke", "epochs_done", "test_acc", "test_error", "num_params", "first_loss", "last_loss",
            "images_per_s", "seconds")
    return {k: _r(full[k]) for k in keep if k in full}


def plus_headline(full: dict) -> dict:
    """The selected pure variant and each TG-NAS+ weighting: NB201 τ/ρ mean ± std over seeds;
    the pipeline rule's NB201 τ/ρ; its variant in the rule study over seeds; the goals met."""
    out: dict[str, Any] = {}
    for row in full["plus_summary"]:
        name = row["scorer"].replace("single: ", "").replace("TG-NAS+ ", "plus").replace("(", "_").replace(")", "")
        out[name] = {"cifar10_kendall": _r(row["cifar10_kendall_mean"]),
                     "cifar10_kendall_std": _r(row.get("cifar10_kendall_std")),
                     "cifar10_spearman": _r(row["cifar10_spearman_mean"])}
    out["pipeline_rule"] = {k: _r(v) for k, v in full["pipeline_rule"]["nb201"].items()}
    rules = full.get("rules")
    if rules:
        sel = rules["selected"]
        row = next(r for r in rules["summary"] if r["members"] == 1 and r["signals"] == sel["signals"]
                   and r["weighting"] == sel["weighting"])
        out["rule_over_seeds"] = {"signals": sel["signals"], "weighting": sel["weighting"],
                                  "nb301_cv_kendall": _r(row["nb301_cv_kendall_mean"]),
                                  **{f"{ds}_{m}": _r(row[f"{ds}_{m}_mean"])
                                     for ds in ("cifar10", "cifar100", "imagenet16-120") for m in ("kendall", "spearman")},
                                  "cifar10_kendall_std": _r(row["cifar10_kendall_std"])}
    out["goals_met"] = sum(bool(g["met"]) for g in full["goals"])
    out["goals_total"] = len(full["goals"])
    out["smoke"] = full["settings"].get("smoke")
    return out


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
    """The chosen variant, the mean held-out tau of the predictor, TG-NAS+ and the best single
    proxy, the paper setting's taus, and how many targets meet each goal."""
    g = full["goals"]
    per = g["per_target"].values()
    paper = full["paper_setting"]["rows"]
    return {"chosen_variant": full["config"]["chosen"], "seeds": len(full["config"]["seeds"]),
            "mean_tau_predictor": _r(g["mean_tau_predictor"]), "mean_tau_plus": _r(g["mean_tau_plus"]),
            "best_single_mean": _r(g["best_single_mean"]), "best_single": g["best_single_mean_name"],
            "targets": len(g["per_target"]),
            "predictor_beats_size": sum(v["predictor_beats_size"] for v in per),
            "plus_beats_best_single": sum(v["plus_beats_best_single"] for v in per),
            "paper_setting_tau": {k: _r(v["tau_mean"]) for k, v in paper.items() if k.startswith("tgnas")}}


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


def write_stage_outputs(stage: str, full: dict, metrics_dir: Path | None = None) -> dict[str, Path]:
    """Write ``details/<stage>.json`` (``full``), ``<stage>.json`` (its headline) and every data
    series of the stage under ``plots/``; return the paths written by name."""
    metrics_dir = Path(metrics_dir) if metrics_dir is not None else paths.METRICS_DIR
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
    """The full record a stage wrote (``metrics/details/<stage>.json``)."""
    path = (Path(metrics_dir) if metrics_dir is not None else paths.METRICS_DIR) / "details" / f"{stage}.json"
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
        out += list(write_stage_outputs(detail.stem, json.loads(detail.read_text()), metrics_dir).values())
    return out


if __name__ == "__main__":
    for p in rederive():
        print("wrote", paths.rel(p))
