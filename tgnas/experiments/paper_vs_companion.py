"""Notebook 07: every claim of the TG-NAS paper beside what this companion measured.

Published values come from :mod:`tgnas.published` only (each with its paper, version and
table or figure); everything else is read from the pipeline's metrics files, never typed in.
Each row puts side by side, on the architectures named in ``cells``:

* ``paper``: the published value (or range, or the claim's wording);
* ``released``: the authors' released NB201 predictions, recomputed
  (``metrics/details/released_predictions.json``);
* ``paper_method``: the paper's own method reproduced here at CPU scale, over seeds
  (``metrics/details/paper_method.json``);
* ``companion``: the companion's default (its ``pure`` predictor over seeds; its searches;
  TG-NAS+ in the rows beyond the paper);
* ``split``: whether each number is held-out or in-sample for the data that chose it;
* ``verdict``: one of :data:`VERDICTS`, decided by :data:`RULE` from the column ``decided_by``.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tgnas import paths
from tgnas.experiments.outputs import replace_readme_blocks
from tgnas.fileio import save_figure
from tgnas.published import PAPER, PUBLISHED, TABLE3_COLUMNS, TGNAS, Published, published

VERDICTS = ("reproduced", "not reproduced", "inconclusive", "exceeded")
#: Seeds a training result needs before it can decide a verdict.
MIN_SEEDS = 5
#: A single timing decides when it differs from the published one by at least this factor.
TIMING_FACTOR = 2.0

#: The decision rule, also written in notebook 07 (a test keeps the two the same).
RULE = (
    "The column that decides is the paper's method reproduced here when it has a value, otherwise the "
    "companion's (`decided_by` says which). A training result decides only with at least 5 seeds: its "
    "band is mean ± 2 std over the seeds (a value computed once on fixed cells, such as a baseline "
    "proxy, uses its 95 % bootstrap interval over cells instead). A numeric claim is *reproduced* when "
    "the band overlaps the published value or range, *exceeded* when the whole band lies on the better "
    "side, *not reproduced* when it lies on the worse side. A claim that something is larger than "
    "something else (ranks above the other proxies, still works with 1 % of the data) is *reproduced* "
    "when the whole band lies above the threshold and *not reproduced* when it lies below. A timing "
    "measured once decides when it differs from the published one by at least a factor 2 (exceeded or "
    "not reproduced), and is *reproduced* within that factor; a bound ('under 2 minutes') is "
    "*reproduced* when it holds with a factor 2 to spare. Everything else is *inconclusive*: fewer than "
    "5 seeds, nothing measured here (e.g. a GPU run that has not run), no published number recorded, "
    "or results on different architectures or scales.")

#: Detail files of this run's stages the comparison reads -> the DVC stage that writes each.
SOURCES = {"correlation": "correlations", "search": "search", "plus": "plus"}
#: Records of frozen stages (committed, read from the project whatever the output root) -> stage.
RECORDED = {"paper_method": "paper_method", "released_predictions": "released_predictions"}
#: Final-training records of the GPU profile (absent until it has run).
GPU_RUNS = {"cifar10": "final_training_paper_cifar10", "imagenet": "final_training_paper_imagenet"}
ALL_CELLS, ZC_CELLS = "NB201, all 15,625 cells", "NB201, the 9,445 NAS-Bench-Suite-Zero cells"
HELD_OUT_NB201 = "held-out"


# ---- values with their uncertainty -----------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    """A measured value; ``low``..``high`` is its band when it can decide a verdict."""

    value: float
    std: float | None = None
    n: int = 1
    how: str = "one run"
    low: float | None = None
    high: float | None = None

    @property
    def decisive(self) -> bool:
        return self.low is not None and self.high is not None

    @classmethod
    def over_seeds(cls, values, what: str = "seeds") -> Estimate:
        """Mean ± std (ddof=1) of per-seed ``values``; a band of ± 2 std from :data:`MIN_SEEDS` on."""
        x = np.asarray(list(values), dtype=np.float64)
        return cls.from_summary(float(x.mean()), float(x.std(ddof=1)) if len(x) > 1 else None, len(x), what)

    @classmethod
    def from_summary(cls, mean: float, std: float | None, n: int, what: str = "seeds") -> Estimate:
        band = n >= MIN_SEEDS and std is not None
        return cls(mean, std, n, f"mean ± std over {n} {what}" if n > 1 else f"one {what.rstrip('s')}",
                   mean - 2 * std if band else None, mean + 2 * std if band else None)

    @classmethod
    def bootstrap(cls, value: float, ci) -> Estimate:
        """A value computed once on fixed cells, with its 95 % bootstrap interval."""
        return cls(value, None, 1, "95 % bootstrap interval over cells", float(ci[0]), float(ci[1]))


# ---- verdicts ---------------------------------------------------------------------------------

def band_verdict(est: Estimate | None, bounds: tuple[float, float] | None,
                 higher_is_better: bool = True) -> tuple[str, str]:
    """Verdict of a numeric claim (``bounds``: the published value or range) and why."""
    if est is None:
        return "inconclusive", "nothing measured here"
    if bounds is None:
        return "inconclusive", "no published number recorded"
    if not est.decisive:
        return "inconclusive", f"{est.how}: the rule needs {MIN_SEEDS} seeds"
    low, high = bounds
    band = f"band [{est.low:.3g}, {est.high:.3g}] vs {low:g}" + (f"–{high:g}" if high != low else "")
    if est.low > high:
        return ("exceeded" if higher_is_better else "not reproduced"), band
    if est.high < low:
        return ("not reproduced" if higher_is_better else "exceeded"), band
    return "reproduced", band


def threshold_verdict(est: Estimate | None, threshold: float, what: str) -> tuple[str, str]:
    """Verdict of a claim that the value exceeds ``threshold`` (``what`` names the threshold)."""
    if est is None:
        return "inconclusive", "nothing measured here"
    if not est.decisive:
        return "inconclusive", f"{est.how}: the rule needs {MIN_SEEDS} seeds"
    band = f"band [{est.low:.3g}, {est.high:.3g}] vs {what} {threshold:.3g}"
    if est.low > threshold:
        return "reproduced", band
    if est.high < threshold:
        return "not reproduced", band
    return "inconclusive", band + " (overlaps)"


def timing_verdict(value: float | None, published_value: float, higher_is_better: bool) -> tuple[str, str]:
    """Verdict of a timing measured once against a published one (factor :data:`TIMING_FACTOR`)."""
    if value is None:
        return "inconclusive", "nothing measured here"
    better = value / published_value if higher_is_better else published_value / value
    why = f"{better:,.3g} times {'better' if better >= 1 else 'worse'} than published (factor {TIMING_FACTOR:g} decides)"
    if better >= TIMING_FACTOR:
        return "exceeded", why
    if better <= 1 / TIMING_FACTOR:
        return "not reproduced", why
    return "reproduced", why


def bound_verdict(value: float | None, bound: float) -> tuple[str, str]:
    """Verdict of an upper bound ('under 2 minutes') for a value measured once."""
    if value is None:
        return "inconclusive", "nothing measured here"
    why = f"{value:.3g} against the bound {bound:g}"
    if value * TIMING_FACTOR <= bound:
        return "reproduced", why + f" (holds with a factor {TIMING_FACTOR:g} to spare)"
    if value > bound * TIMING_FACTOR:
        return "not reproduced", why
    return "inconclusive", why + f" (within a factor {TIMING_FACTOR:g} of the bound)"


# ---- rows -------------------------------------------------------------------------------------

@dataclass
class Row:
    """One line of the comparison (see the module docstring for the columns)."""

    key: str
    kind: str                      # claim | baseline | beyond
    artifact: str
    quantity: str
    cells: str
    paper: Any                     # number, "low–high" range or the claim's wording
    paper_source: str
    verdict: str
    reason: str
    decided_by: str
    split: str = HELD_OUT_NB201
    released: Estimate | None = None
    paper_method: Estimate | None = None
    companion: Estimate | None = None
    measured: Estimate | None = None   # baseline rows: the baseline proxy itself
    paper_low: float | None = None
    paper_high: float | None = None
    unit: str = ""
    our_unit: str = ""
    protocol: str = ""
    metrics: list[str] = field(default_factory=list)


#: The dvc.yaml stage and the notebook that write each detail file of :data:`SOURCES`.
WRITERS = {"correlation": ("correlations", "03_correlations"), "search": ("search", "04_search"),
           "plus": ("plus", "06_tgnas_plus")}


def source_file(stage: str, metrics_dir: Path | None = None) -> Path:
    """The file ``metrics/details/<stage>.json`` that :func:`compare` reads: below
    ``metrics_dir`` when given; else where :func:`tgnas.paths.input_path` finds it (in a
    notebook run by hand: its own ``scratch/`` copy if that stage ran by hand, else the
    committed one)."""
    if metrics_dir is not None:
        return Path(metrics_dir) / "details" / f"{stage}.json"
    return paths.input_path(paths.METRIC_DETAILS_DIR / f"{stage}.json")


def _missing_message(stage: str, metrics_dir: Path | None) -> str:
    wanted = (Path(metrics_dir) / "details" / f"{stage}.json" if metrics_dir is not None
              else paths.METRIC_DETAILS_DIR / f"{stage}.json")
    looked = [wanted] if metrics_dir is not None else paths.input_candidates(wanted)
    dvc_stage, notebook = WRITERS[stage]
    return (f"metrics/details/{stage}.json not found (looked in {', '.join(paths.rel(p.parent) for p in looked)}): "
            f"run `dvc repro {dvc_stage}` or notebooks/{notebook}.ipynb first")


def _paper_value(p: Published) -> Any:
    if p.low is not None and p.high is not None and p.low != p.high:
        return f"{p.low:g}–{p.high:g} {p.unit}".strip()
    return p.value if p.value is not None else p.claim


def _row(p: Published, cells: str, verdict: tuple[str, str], decided_by: str, **kw) -> Row:
    bounds = p.bounds
    return Row(p.key, p.kind, p.artifact, p.quantity, cells, _paper_value(p), p.source.cite(), verdict[0],
               verdict[1], decided_by, paper_low=bounds[0] if bounds else None,
               paper_high=bounds[1] if bounds else None, unit=p.unit, our_unit=kw.pop("our_unit", p.unit), **kw)


@dataclass(frozen=True)
class Context:
    """The loaded detail files (:data:`SOURCES`) and GPU records of one metrics folder."""

    correlation: dict
    search: dict
    plus: dict
    paper_method: dict
    released_predictions: dict
    gpu: dict

    def runs(self, method: str, fraction: float | None = None) -> list[dict]:
        """Per-seed rows of the ``paper_method`` record (default: its main fraction)."""
        frac = self.paper_method["settings"]["fraction"] if fraction is None else fraction
        return [r for r in self.paper_method["runs"] if r["method"] == method and r["fraction"] == frac]

    def seeds(self, method: str, key: str, fraction: float | None = None) -> Estimate | None:
        runs = self.runs(method, fraction)
        return Estimate.over_seeds([r[key] for r in runs]) if runs else None

    def released(self, key: str) -> Estimate:
        return Estimate(float(self.released_predictions[key]), how="")  # the authors' released file


def recorded_files() -> dict[str, Path]:
    """The committed records of the frozen stages (:data:`RECORDED`) in this project."""
    return {name: paths.PROJECT_ROOT / "metrics" / "details" / f"{name}.json" for name in RECORDED}


def _read(path: Path, hint: str) -> dict:
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: {hint}")
    return json.loads(path.read_text())


def load_context(metrics_dir: Path | None = None, recorded: dict[str, Path] | None = None) -> Context:
    """Read every file the comparison needs: this run's stage details from ``metrics_dir``
    (default: the output root's) and the frozen stages' records (default: :func:`recorded_files`);
    ``FileNotFoundError`` names the stage to run."""
    files = {**recorded_files(), **{k: Path(v) for k, v in (recorded or {}).items()}}
    for name in SOURCES:
        if not source_file(name, metrics_dir).is_file():
            raise FileNotFoundError(_missing_message(name, metrics_dir))
    loaded = {name: json.loads(source_file(name, metrics_dir).read_text()) for name in SOURCES}
    loaded.update({name: _read(files[name], f"it is the record of the frozen stage `{stage}` "
                                            f"(`dvc repro --force {stage}` remakes it)")
                   for name, stage in RECORDED.items()})
    gpu = {ds: json.loads(path.read_text()) for ds, stem in GPU_RUNS.items()
           if (path := source_file(stem, metrics_dir)).is_file()}
    return Context(gpu=gpu, **loaded)


_PM = "metrics/details/paper_method.json"
_REL = "metrics/details/released_predictions.json"
_CORR = "metrics/details/correlation.json"


def _scale(ctx: Context) -> str:
    s = ctx.paper_method["settings"]
    return f"{s['fraction']:.0%} of NB101, {s['epochs']} epochs, one CPU thread"


def correlation_rows(ctx: Context) -> list[Row]:
    """Published TG-NAS τ and ρ on NB201 CIFAR-10, all cells."""
    rows = []
    for stat in ("kendall", "spearman"):
        p = published(f"corr_tgnas_{stat}")
        pm = ctx.seeds("paper", f"cifar10_all_{stat}")
        rows.append(_row(p, ALL_CELLS, band_verdict(pm, p.bounds), "paper_method",
                         released=ctx.released(f"cifar10_all_{stat}"), paper_method=pm,
                         companion=ctx.seeds("companion", f"cifar10_all_{stat}"),
                         protocol=f"paper's method and companion: {_scale(ctx)}; paper: all of NB101 on a GPU; "
                                  "released: the authors' checkpoint selection is not published (their script can "
                                  "select on NB201)",
                         metrics=[f"{_PM} runs[*].cifar10_all_{stat}", f"{_REL} cifar10_all_{stat}"]))
    return rows


def _best_table3_proxy(ctx: Context) -> tuple[str, float]:
    c10 = ctx.correlation["nb201"]["cifar10"]
    others = [n for n, col in TABLE3_COLUMNS.items() if n != "TG-NAS" and col in c10]
    name = max(others, key=lambda n: c10[TABLE3_COLUMNS[n]]["kendall"])
    return name, float(c10[TABLE3_COLUMNS[name]]["kendall"])


def table3_row(ctx: Context) -> Row:
    """TG-NAS above every other Table 3 proxy, on the cells where those proxies exist."""
    p = published("table3_ranking")
    name, best = _best_table3_proxy(ctx)
    pm = ctx.seeds("paper", "cifar10_zc_kendall")
    return _row(p, ZC_CELLS, threshold_verdict(pm, best, f"best other proxy ({name})"), "paper_method",
                released=ctx.released("cifar10_zc_kendall"), paper_method=pm,
                companion=ctx.seeds("companion", "cifar10_zc_kendall"), our_unit="τ",
                protocol=f"CIFAR-10 Kendall τ; Table 3's proxies are NAS-Bench-Suite-Zero's values on these cells; "
                         f"the best of them is {name} (τ {best:.3f})",
                metrics=[f"{_PM} runs[*].cifar10_zc_kendall", f"{_CORR} nb201.cifar10.{TABLE3_COLUMNS[name]}"])


def embedding_row(ctx: Context) -> Row:
    """Table 2: one seed of notebook 03's ablation -> inconclusive by the rule."""
    p = published("embedding_ablation")
    emb = {r["variant"]: r["cifar10_kendall"] for r in ctx.correlation["ablations"]["rows"] if r["group"] == "embedding"}
    s = ctx.correlation["ablations"]["settings"]
    best = max(emb, key=emb.get) if emb else None
    ours = None if best is None else Estimate(
        float(emb[best]), how=f"one seed; best: {best}; minilm/short {emb.get('minilm/short', float('nan')):.3f}")
    return _row(p, ALL_CELLS, ("inconclusive", f"one seed per variant (notebook 03); the rule needs {MIN_SEEDS}"),
                "companion",
                companion=ours, our_unit="τ",
                protocol=f"companion's predictor per variant, {s['ablation_fraction']:.0%} of NB101, {s['ablation_epochs']} "
                         f"epochs, models {s['ablation_models']}; mpnet runs only in the GPU profile",
                metrics=[f"{_CORR} ablations.rows (group embedding)"])


def data_ratio_row(ctx: Context) -> Row:
    """v1 Fig. 2 within NB101: the paper's method at 1 % against 90 % of its own value at 10 %."""
    p = published("data_ratio")
    s = ctx.paper_method["settings"]
    small = ctx.seeds("paper", "nb101_val", s["ratio_fraction"])
    full = ctx.seeds("paper", "nb101_val")
    threshold = 0.9 * full.value if full else float("nan")
    return _row(p, "NB101, the validation split of each run", threshold_verdict(
                    small, threshold, f"90 % of τ with {s['fraction']:.0%} ({full.value:.3f})" if full else "—"),
                "paper_method", paper_method=small, our_unit="τ", split="held-out (NB101 cells not trained on)",
                protocol=f"paper's method with {s['ratio_fraction']:.0%} of NB101 (validation: 10 % of that share), "
                         f"{s['epochs']} epochs; criterion: at least 90 % of its τ with {s['fraction']:.0%}",
                metrics=[f"{_PM} runs[fraction={s['ratio_fraction']}].nb101_val"])


def independence_row(ctx: Context) -> Row:
    """Fig. 10: drawn by notebook 03 (figures/03_independence.png), no number recorded."""
    p = published("independence")
    return _row(p, "NB201, 1,000 sampled cells", ("inconclusive", "no number recorded: notebook 03 draws "
                                                  "figures/03_independence.png only"), "companion", split="—")


def _search(ctx: Context, key: str) -> Estimate:
    s = ctx.search["nb201"]["summary"]["tgnas/hybrid"][key]
    return Estimate.from_summary(s["mean"], s["std"], ctx.search["settings"]["seeds"])


def search_rows(ctx: Context) -> list[Row]:
    """NB201 search (the paper's hybrid driven by the companion's predictor)."""
    proto = (f"paper's hybrid search (prune + evolution) with the companion's predictor, budget "
             f"{ctx.search['settings']['budget']}; accuracy looked up after the search; one CPU thread")
    rows = []
    for key, ds in (("search_nb201_cifar10", "cifar10"), ("search_nb201_cifar100", "cifar100"),
                    ("search_nb201_imagenet16", "imagenet16-120")):
        p, ours = published(key), _search(ctx, ds)
        rows.append(_row(p, "NB201 (the found cell)", band_verdict(ours, p.bounds), "companion", companion=ours,
                         protocol=proto, metrics=[f"metrics/details/search.json nb201.summary['tgnas/hybrid'].{ds}"]))
    p, cost = published("search_nb201_cost"), _search(ctx, "wall_time_s")
    rows.append(_row(p, "NB201", band_verdict(cost, p.bounds, higher_is_better=False), "companion", companion=cost,
                     split="—",
                     protocol=proto + "; predictor scores cached per run; paper: one GPU",
                     metrics=["metrics/details/search.json nb201.summary['tgnas/hybrid'].wall_time_s"]))
    return rows


def speedups(ctx: Context) -> dict[str, float]:
    """Seconds per architecture of synflow over TG-NAS's, without and with the graph building,
    both TG-NAS times from one timing run of notebook 03."""
    t = ctx.correlation["timing"]
    n = t["tgnas"]["n_cells"]
    syn = next(r for r in t["rows"] if r["method"] == "synflow")["seconds_per_arch"]
    return {"without_graphs": syn / (t["tgnas"]["all_cells_seconds"] / n),
            "with_graphs": syn / ((t["tgnas"]["all_cells_seconds"] + t["tgnas"]["graph_build_seconds"]) / n)}


def speedup_row(ctx: Context) -> Row:
    p = published("speedup")
    s = speedups(ctx)
    ours = Estimate(s["with_graphs"], how=f"one timing run; {s['without_graphs']:,.0f}× without the graph building")
    return _row(p, ALL_CELLS, timing_verdict(s["with_graphs"], p.value, True), "companion", companion=ours, split="—",
                protocol="synflow seconds per architecture (real NB201 network, one CPU thread) over the companion "
                         "predictor's seconds per architecture scoring all cells, graph building included (the "
                         "verdict) or not; paper: search time against other zero-cost searches on a GPU",
                metrics=[f"{_CORR} timing.tgnas (all_cells_seconds, graph_build_seconds)",
                         f"{_CORR} timing.rows[synflow].seconds_per_arch"])


def cost_rows(ctx: Context) -> list[Row]:
    """Training cost (not comparable: other hardware and scale) and the DARTS search cost."""
    p = published("training_cost")
    train = ctx.seeds("paper", "train_s")
    rows = [_row(p, "NB101", ("inconclusive", "different hardware and data scale"), "paper_method",
                 paper_method=train, companion=ctx.seeds("companion", "train_s"), our_unit="s",
                 split="—", protocol=f"summed epoch times, {_scale(ctx)}",
                 metrics=[f"{_PM} runs[*].train_s"])]
    p, darts = published("search_darts_cost"), ctx.search["darts"]
    rows.append(_row(p, "DARTS space", bound_verdict(darts["wall_time_s"], p.value), "companion",
                     companion=Estimate(float(darts["wall_time_s"]), how="one search"), split="—",
                     protocol=f"companion's {darts['algorithm']} search on one CPU thread; paper: one RTX 4090",
                     metrics=["metrics/details/search.json darts.wall_time_s"]))
    return rows


def imagenet_rows(ctx: Context) -> list[Row]:
    """ImageNet top-1 / top-5 of the DARTS cell: GPU profile only."""
    run = ctx.gpu.get("imagenet")
    rows = []
    for key, field_name in (("imagenet_top1", "test_acc"), ("imagenet_top5", "test_acc_top5")):
        p = published(key)
        ours = None if run is None or run.get("smoke") or field_name not in run else \
            Estimate(float(run[field_name]), how="one training run")
        verdict = band_verdict(ours, p.bounds) if ours else ("inconclusive", "needs the GPU profile's ImageNet run")
        rows.append(_row(p, "DARTS space (the found cell)", verdict, "companion", companion=ours, split="—",
                         protocol="14 cells × 48 channels; `tgnas train-final --dataset imagenet` on GPUs",
                         metrics=[f"metrics/details/{GPU_RUNS['imagenet']}.json {field_name}"]))
    return rows


def baseline_rows(ctx: Context) -> list[Row]:
    """Other papers' baselines, recomputed here, beside every TG-NAS column on the same cells."""
    c10 = ctx.correlation["nb201"]["cifar10"]
    rows = []
    for key, method in (("baseline_flops_kendall", "flops"), ("baseline_synflow_kendall", "synflow"),
                        ("baseline_naswot_kendall", "nwot")):
        p, r = published(key), c10[method]
        every = r.get("cells") == "all"
        cells, tag = (ALL_CELLS, "all") if every else (ZC_CELLS, "zc")
        measured = Estimate.bootstrap(r["kendall"], r["kendall_ci"])
        verdict = band_verdict(measured, p.bounds) if every else \
            ("inconclusive", "the published value is over all 15,625 cells; this proxy's values here cover 9,445")
        rows.append(_row(p, cells, verdict, "measured", measured=measured,
                         released=ctx.released(f"cifar10_{tag}_kendall"),
                         paper_method=ctx.seeds("paper", f"cifar10_{tag}_kendall"),
                         companion=ctx.seeds("companion", f"cifar10_{tag}_kendall"),
                         protocol="the proxy computed here (FLOPs: analytic model of the real network) or taken "
                                  "from NAS-Bench-Suite-Zero; the TG-NAS columns on the same cells",
                         metrics=[f"{_CORR} nb201.cifar10.{method}", f"{_PM} runs[*].cifar10_{tag}_kendall"]))
    return rows


def _plus_over_seeds(ctx: Context) -> dict | None:
    """The selected TG-NAS+ rule's row of notebook 06's rule study (``None`` without a study)."""
    rules = ctx.plus.get("rules")
    if not rules:
        return None
    sel = rules["selected"]
    return next(r for r in rules["summary"] if r["members"] == 1 and r["signals"] == sel["signals"]
                and r["weighting"] == sel["weighting"])


def beyond_rows(ctx: Context) -> list[Row]:
    """TG-NAS+ against the paper's TG-NAS τ, and the NB301 τ of every method, labelled
    in-sample or held-out."""
    plus = _plus_over_seeds(ctx)
    p = published("corr_tgnas_kendall")
    est = None if plus is None else \
        Estimate.from_summary(plus["cifar10_kendall_mean"], plus["cifar10_kendall_std"], plus["n_seeds"])
    rule = "—" if plus is None else f"{plus['signals']} / {plus['weighting']}"
    cv_mean, cv_std = (None, None) if plus is None else (plus.get("nb301_cv_kendall_mean"), plus.get("nb301_cv_kendall_std"))
    # a smoke run of notebook 06 may record no cross-validated tau (too few NB301 cells) or one seed (no std)
    cv = "—" if cv_mean is None else f"{cv_mean:.3f}" + ("" if cv_std is None else f" ± {cv_std:.3f}")
    rows = [Row("plus_kendall", "beyond", "beyond the paper", "TG-NAS+ Kendall τ, NB201 CIFAR-10 (vs TG-NAS's claim)",
                ALL_CELLS, p.value, p.source.cite(), *band_verdict(est, p.bounds), "companion", companion=est,
                split="held-out (its signals and weights: chosen and fitted on NB301)",
                paper_low=p.value, paper_high=p.value, our_unit="τ",
                protocol=f"TG-NAS+ rule {rule} over the seeds of notebook 06's rule study",
                metrics=["metrics/details/plus.json rules.summary (selected rule, 1 member)"])]
    pm, comp = ctx.seeds("paper", "nb301_kendall"), ctx.seeds("companion", "nb301_kendall")
    rows.append(Row("nb301_kendall", "beyond", "beyond the paper", "Kendall τ on NB301 (DARTS space)",
                    "NB301, 500 labelled cells", "no NB301 number in the paper", "—", "inconclusive",
                    "no published number", "—", paper_method=pm, companion=comp, our_unit="τ",
                    split="paper's method: held-out; companion: in-sample (its preset was selected on NB301 τ)",
                    protocol=f"TG-NAS+ (in-sample: fitted on NB301): cross-validated τ {cv} over seeds",
                    metrics=[f"{_PM} runs[*].nb301_kendall", "metrics/details/plus.json rules.summary"]))
    return rows


def compare(metrics_dir: Path | None = None, recorded: dict[str, Path] | None = None) -> list[Row]:
    """Every record of :data:`tgnas.published.PUBLISHED` as a row, then the rows beyond the paper
    (arguments: :func:`load_context`); raises ``FileNotFoundError`` naming the stage when a
    metrics file it needs is missing."""
    ctx = load_context(metrics_dir, recorded)
    rows = [*correlation_rows(ctx), table3_row(ctx), embedding_row(ctx), data_ratio_row(ctx),
            independence_row(ctx), *search_rows(ctx), speedup_row(ctx), *cost_rows(ctx), *imagenet_rows(ctx),
            *baseline_rows(ctx)]
    order = {p.key: i for i, p in enumerate(PUBLISHED)}
    return sorted(rows, key=lambda r: order[r.key]) + beyond_rows(ctx)


# ---- outputs ----------------------------------------------------------------------------------

def rows_json(rows: list[Row]) -> dict:
    """The full record of notebook 07 (``metrics/details/paper_vs_companion.json``)."""
    return {"paper": PAPER, "verdicts": list(VERDICTS), "rule": RULE, "min_seeds": MIN_SEEDS,
            "timing_factor": TIMING_FACTOR, "rows": [asdict(r) for r in rows], "n_published": len(PUBLISHED)}


def fmt(v: Any, unit: str = "") -> str:
    """A cell of the tables: estimates as ``mean ± std (n seeds)``, numbers with their unit."""
    if v is None:
        return "—"
    if isinstance(v, Estimate):
        return _fmt_estimate(v, unit)
    if isinstance(v, float):  # a published number: as printed in the paper
        return f"{v:g} {unit}".strip()
    return str(v)


def _fmt_number(x: float) -> str:
    if abs(x) >= 1000:
        return f"{x:,.0f}"
    if abs(x) >= 10:
        return f"{x:.2f}".rstrip("0").rstrip(".")
    return f"{x:.3f}" if abs(x) < 1 else f"{x:.3g}"


def _fmt_estimate(e: Estimate, unit: str) -> str:
    u = f" {unit}" if unit and unit not in ("τ", "ρ") else ""
    if e.std is not None and e.n > 1:
        std = _fmt_number(e.std) if e.std >= 5e-4 else "0"
        return f"{_fmt_number(e.value)} ± {std}{u} ({e.n} seeds)"
    if e.how.startswith("95 %"):
        return f"{_fmt_number(e.value)} [{_fmt_number(e.low)}, {_fmt_number(e.high)}]"
    return f"{_fmt_number(e.value)}{u}" + (f" ({e.how})" if e.how else "")


def markdown_table(rows: list[Row], kinds: tuple[str, ...] = ("claim", "beyond")) -> str:
    """The README's results table (generated; ``tests/test_paper_vs_companion.py`` checks it)."""
    lines = ["| claim | paper | released | paper's method here | companion | cells | split | verdict | source |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.kind in kinds:
            u = r.our_unit
            lines.append(f"| {r.quantity} | {fmt(r.paper, r.unit) if not isinstance(r.paper, str) else r.paper} "
                         f"| {fmt(r.released, u)} | {fmt(r.paper_method, u)} | {fmt(r.companion, u)} | {r.cells} "
                         f"| {r.split} | **{r.verdict}** | {r.paper_source.replace(TGNAS + ' ', '')} |")
    return "\n".join(lines) + "\n"


def baseline_table(rows: list[Row]) -> str:
    """Other papers' baselines beside every TG-NAS column on the same cells (README)."""
    lines = ["| baseline | published (other papers) | recomputed here | TG-NAS released | paper's method here "
             "| companion | cells | verdict |", "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        if r.kind == "baseline":
            lines.append(f"| {r.quantity} | {r.paper} | {fmt(r.measured)} | {fmt(r.released)} | "
                         f"{fmt(r.paper_method)} | {fmt(r.companion)} | {r.cells} | **{r.verdict}** |")
    return "\n".join(lines) + "\n"


def _relation(est: Estimate, value: float) -> str:
    """'above' / 'below' / 'within noise of' ``value``, by the band of ``est``."""
    if est.decisive and est.low > value:
        return "above"
    if est.decisive and est.high < value:
        return "below"
    return "within noise of" if est.decisive else "beside"


def headline(rows: list[Row]) -> str:
    """The README's first paragraph, every number read from the rows (generated)."""
    r = {x.key: x for x in rows}
    tau, plus, nw, found = r["corr_tgnas_kendall"], r["plus_kendall"], r["baseline_naswot_kendall"], \
        r["search_nb201_cifar10"]
    pm, comp, zc = tau.paper_method, tau.companion, nw.companion
    darts_imagenet = [x for x in rows if x.key.startswith("imagenet_")]
    scale = tau.protocol.split(";")[0].split(": ", 1)[-1]
    gpu = "need a GPU run" if all(x.companion is None for x in darts_imagenet) else "are in the table"
    return (
        f"**In short** (NB201 held out: no NB201 label trains or selects anything here). The paper reports "
        f"Kendall τ {fmt(tau.paper)} on NB201 CIFAR-10. Its own method, reproduced at CPU scale "
        f"({scale}), gives τ {fmt(pm)}: "
        f"*{tau.verdict}*; the authors' released predictions give {fmt(tau.released)}. The companion's default "
        f"predictor gives {fmt(comp)}, {_relation(comp, tau.paper)} the paper's {fmt(tau.paper)}, and TG-NAS+ "
        f"gives {fmt(plus.companion)}; TG-NAS+'s weights are fitted on NB301, the space that also chose the "
        f"companion's settings, so their NB301 numbers are in-sample. On the 9,445 cells where NASWOT is "
        f"available, NASWOT (τ {_fmt_number(nw.measured.value)}) ranks "
        f"{'above' if nw.measured.value > zc.value else 'below'} the companion's predictor, τ {fmt(zc)}. "
        f"The NB201 search finds {_fmt_number(found.companion.value)} % against the paper's "
        f"{fmt(found.paper)} % (*{found.verdict}*); the DARTS-to-ImageNet numbers {gpu}.\n")


README_BLOCKS = {
    "headline": ("<!-- headline: generated by notebooks/07_compare_paper.ipynb; do not edit -->",
                 "<!-- /headline -->"),
    "claims": ("<!-- paper-vs-companion: generated by notebooks/07_compare_paper.ipynb; do not edit -->",
               "<!-- /paper-vs-companion -->"),
    "baselines": ("<!-- baselines: generated by notebooks/07_compare_paper.ipynb; do not edit -->",
                  "<!-- /baselines -->"),
}


def _readme_bodies(rows: list[Row]) -> dict[str, str]:
    return {"headline": headline(rows), "claims": markdown_table(rows), "baselines": baseline_table(rows)}


def readme_blocks(rows: list[Row]) -> dict[str, str]:
    """Each generated README block, markers included."""
    body = _readme_bodies(rows)
    return {name: f"{begin}\n{body[name]}{end}" for name, (begin, end) in README_BLOCKS.items()}


def update_readme(rows: list[Row], readme: Path | None = None) -> bool:
    """Replace the generated blocks of the README; return whether it changed. ``ValueError``
    names a block whose markers are missing."""
    body = _readme_bodies(rows)
    return replace_readme_blocks({begin: (end, body[name]) for name, (begin, end) in README_BLOCKS.items()}, readme)


_COLOURS = {"reproduced": "#cfe8cf", "exceeded": "#b7dcf5", "not reproduced": "#f5c6c6", "inconclusive": "#eeeeee"}
#: Characters per line in each column of the comparison figure: longer text wraps, never cut.
TABLE_WRAP = (40, 30, 26, 26, 16)


def table_figure(rows: list[Row]):
    """The comparison as a colour-coded table filling its figure: every text in full (wrapped
    to :data:`TABLE_WRAP`), each row as tall as its longest cell, the figure sized to the
    table. Returns the figure."""
    import matplotlib.pyplot as plt

    header = ["claim", "paper", "paper's method here", "companion", "verdict"]
    texts = [[r.quantity + (f" (here: {fmt(r.measured)})" if r.measured else ""),
              fmt(r.paper, r.unit) if not isinstance(r.paper, str) else r.paper,
              fmt(r.paper_method, r.our_unit), fmt(r.companion, r.our_unit), r.verdict] for r in rows]
    cells = [["\n".join(textwrap.wrap(str(t), w)) or "" for t, w in zip(row, TABLE_WRAP)] for row in texts]
    lines = [1] + [max(c.count("\n") + 1 for c in row) for row in cells]  # the header is one line
    line_in, title_in = 0.2, 0.4  # inches per text line at font size 8 (padding included), title band
    fig = plt.figure(figsize=(0.068 * sum(TABLE_WRAP) + 0.9, line_in * sum(lines) + title_in))
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0 - title_in / fig.get_figheight()))
    ax.axis("off")
    table = ax.table(cellText=cells, colLabels=header, cellLoc="left", bbox=(0.0, 0.0, 1.0, 1.0))
    table.auto_set_font_size(False)
    table.set_fontsize(8)
    for (i, j), cell in table.get_celld().items():  # relative sizes; the bbox scales them to the axes
        cell.set_width(TABLE_WRAP[j] / sum(TABLE_WRAP))
        cell.set_height(lines[i] / sum(lines))
        if i == 0:
            cell.get_text().set_fontweight("bold")
    for i, r in enumerate(rows, start=1):
        table[i, 4].set_facecolor(_COLOURS[r.verdict])
    fig.suptitle(f"Paper ({PAPER}) vs. this companion", fontsize=10, y=1.0 - 0.1 / fig.get_figheight(), va="top")
    return fig


def plot_table(rows: list[Row], path: Path) -> Path:
    """Write :func:`table_figure` to ``path`` (PNG) and return the path."""
    import matplotlib.pyplot as plt

    fig = table_figure(rows)
    out = save_figure(fig, path, dpi=120)
    plt.close(fig)
    return out


__all__ = ["ALL_CELLS", "Context", "Estimate", "GPU_RUNS", "MIN_SEEDS", "README_BLOCKS", "RECORDED", "RULE", "Row",
           "SOURCES", "WRITERS", "recorded_files", "source_file",
           "TIMING_FACTOR", "VERDICTS", "ZC_CELLS", "band_verdict", "baseline_table", "bound_verdict", "compare",
           "fmt", "headline", "load_context", "markdown_table", "plot_table", "readme_blocks", "rows_json",
           "speedups", "table_figure", "threshold_verdict", "timing_verdict", "update_readme"]


if __name__ == "__main__":
    changed = update_readme(compare())
    print("README generated blocks", "updated" if changed else "already up to date")
