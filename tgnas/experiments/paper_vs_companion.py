"""Notebook 07: each published number of the paper beside the value this pipeline measured.

Published values come from :mod:`tgnas.published` only; our values are read from the
pipeline's metrics files (``metrics/details/<stage>.json``), never typed in. Each row gets a
status from :data:`STATUSES`:

* ``reproduced within noise``: our value lies within the published value (or range) ± our
  noise (the larger of the bootstrap CI half-width, the seed std and a floor per quantity);
* ``better`` / ``worse``: outside that band, in the paper's favourable / unfavourable direction;
* ``needs a GPU run``: our side needs the paper-scale GPU profile, which has not run;
* ``claim holds`` / ``claim does not hold``: a claim without a number, with the criterion
  stated in the row;
* ``no published number recorded``: the paper's number is not in the recorded sources.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tgnas import paths
from tgnas.fileio import save_figure
from tgnas.published import PAPER, PUBLISHED, Published, published

STATUSES = ("reproduced within noise", "better", "worse", "needs a GPU run", "claim holds",
            "claim does not hold", "no published number recorded")

#: Detail files the comparison reads (stage name -> file under metrics/details).
SOURCES = ("correlation", "search", "plus")
#: Final-training records of the GPU profile (absent until it has run).
GPU_RUNS = {"cifar10": "final_training_paper_cifar10", "imagenet": "final_training_paper_imagenet"}


@dataclass
class Row:
    key: str
    artifact: str
    quantity: str
    paper_value: Any
    paper_source: str
    our_value: Any
    our_source: str
    protocol: str
    status: str
    criterion: str = ""
    noise: float | None = None
    unit: str = ""


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


def _load(metrics_dir: Path | None, stage: str) -> dict | None:
    path = source_file(stage, metrics_dir)
    return json.loads(path.read_text()) if path.is_file() else None


def _missing_message(stage: str, metrics_dir: Path | None) -> str:
    wanted = (Path(metrics_dir) / "details" / f"{stage}.json" if metrics_dir is not None
              else paths.METRIC_DETAILS_DIR / f"{stage}.json")
    looked = [wanted] if metrics_dir is not None else paths.input_candidates(wanted)
    dvc_stage, notebook = WRITERS[stage]
    return (f"metrics/details/{stage}.json not found (looked in {', '.join(paths.rel(p.parent) for p in looked)}): "
            f"run `dvc repro {dvc_stage}` or notebooks/{notebook}.ipynb first")


def numeric_status(p: Published, ours: float, noise: float) -> str:
    """Compare ``ours`` with ``p.value`` (or ``p.low``..``p.high``) widened by ``noise``."""
    low = p.low if p.low is not None else p.value
    high = p.high if p.high is not None else p.value
    if low is None or high is None:
        return "no published number recorded"
    if low - noise <= ours <= high + noise:
        return "reproduced within noise"
    above = ours > high + noise
    return "better" if above == p.higher_is_better else "worse"


def _paper(p: Published) -> Any:
    if p.low is not None and p.high is not None and p.low != p.high:
        return f"{p.low:g}–{p.high:g} {p.unit}".strip()
    if p.value is not None:
        return p.value
    return p.claim or None


def _num(p: Published, ours: float | None, noise: float, our_source: str, protocol: str,
         digits: int = 3) -> Row:
    status = "needs a GPU run" if ours is None else numeric_status(p, ours, noise)
    return Row(p.key, p.artifact, p.quantity, _paper(p), p.source,
               None if ours is None else round(ours, digits), our_source, protocol, status,
               noise=round(noise, 4), unit=p.unit)


def compare(metrics_dir: Path | None = None) -> list[Row]:
    """Every :data:`tgnas.published.PUBLISHED` record beside our value, from the detail files
    of :func:`source_file`; raises ``FileNotFoundError`` naming the file, where it looked and
    the stage that writes it when one is missing."""
    src = {s: _load(metrics_dir, s) for s in SOURCES}
    missing = [s for s, d in src.items() if d is None]
    if missing:
        raise FileNotFoundError(_missing_message(missing[0], metrics_dir))
    corr, search, plus = src["correlation"], src["search"], src["plus"]
    c10 = corr["nb201"]["cifar10"]
    settings = corr["timing"]["settings"]
    seed_rows = {r["scorer"]: r for r in plus["plus_summary"]}
    pure = seed_rows.get("single: tgnas", {})
    pred = "our predictor: the `pure` preset (NB101 only, contracted graphs, MiniLM/short, pairwise loss)"
    rows: list[Row] = []

    # correlation table
    for stat in ("kendall", "spearman"):
        r = c10["tgnas"]
        ci = r.get(f"{stat}_ci") or [r[stat], r[stat]]
        noise = max((ci[1] - ci[0]) / 2, pure.get(f"cifar10_{stat}_std") or 0.0, 0.01)
        rows.append(_num(published(f"corr_tgnas_{stat}"), r[stat], noise,
                         f"metrics/details/correlation.json nb201.cifar10.tgnas.{stat}",
                         f"{pred}, seed 0 on the CPU profile's NB101 fraction; all 15,625 NB201 cells; "
                         "noise = max(bootstrap CI half-width, std over 5 seeds from notebook 06)"))
    for key, method, cells in (("corr_flops_kendall", "flops", "computed here for all 15,625 cells"),
                               ("corr_synflow_kendall", "synflow", "NAS-Bench-Suite-Zero values, 9,445 cells"),
                               ("corr_naswot_kendall", "nwot", "NAS-Bench-Suite-Zero values, 9,445 cells")):
        r = c10[method]
        ci = r.get("kendall_ci") or [r["kendall"], r["kendall"]]
        rows.append(_num(published(key), r["kendall"], max((ci[1] - ci[0]) / 2, 0.01),
                         f"metrics/details/correlation.json nb201.cifar10.{method}.kendall",
                         f"recomputed under one protocol ({cells}); the paper's values come from each proxy's own protocol"))

    # embedding model x description length
    p = published("ablation_best_embedding")
    emb = [r for r in corr["ablations"]["rows"] if r["group"] == "embedding"]
    if emb:
        best = max(emb, key=lambda r: r["cifar10_kendall"])
        short = next((r for r in emb if r["variant"] == "minilm/short"), None)
        ours = f"{best['variant']} (τ {best['cifar10_kendall']:.3f}" + (
            f"; minilm/short {short['cifar10_kendall']:.3f})" if short else ")")
        holds = best["variant"] == "minilm/short"
        rows.append(Row(p.key, p.artifact, p.quantity, _paper(p), p.source, ours,
                        "metrics/details/correlation.json ablations.rows (group embedding)",
                        f"models {settings.get('ablation_models')}, lengths {settings.get('ablation_lengths')}, "
                        f"{settings.get('ablation_fraction'):.0%} of NB101, {settings.get('ablation_epochs')} epochs, "
                        f"{settings.get('n_seeds')} seed(s); mpnet only in the GPU profile",
                        "claim holds" if holds else "claim does not hold",
                        criterion="the variant with the highest NB201 CIFAR-10 τ is minilm/short"))

    # data-ratio study
    p = published("data_ratio")
    data = [r for r in corr["ablations"]["rows"] if r["group"] == "data" and r["variant"].endswith("nb101")]
    if data:
        by_cells = sorted(data, key=lambda r: r["train_cells"])
        best_tau = max(r["cifar10_kendall"] for r in data)
        one_pct = min((r for r in data if r["train_cells"] >= 0.01 * 423_624 * 0.99), key=lambda r: r["train_cells"])
        ours = "; ".join(f"{r['variant'].split()[0]}: {r['cifar10_kendall']:.3f}" for r in by_cells)
        holds = one_pct["cifar10_kendall"] >= 0.9 * best_tau
        rows.append(Row(p.key, p.artifact, p.quantity, _paper(p), p.source, ours,
                        "metrics/details/correlation.json ablations.rows (group data)",
                        f"{settings.get('ablation_epochs')} epochs per run on the CPU profile, "
                        f"{settings.get('n_seeds')} seed(s)",
                        "claim holds" if holds else "claim does not hold",
                        criterion="τ with 1 % of NB101 is at least 90 % of the best τ over all ratios"))

    # NB201 search
    summ = search["nb201"]["summary"]
    hyb = summ["tgnas/hybrid"]
    n_seeds = search["settings"]["seeds"]
    proto = (f"our hybrid (prune + evolution, the better by predictor score), {n_seeds} seeds, "
             f"budget {search['settings']['budget']}; accuracy looked up after the search; CPU")
    rows.append(_num(published("search_nb201_cifar10"), hyb["cifar10"]["mean"], max(hyb["cifar10"]["std"], 0.05),
                     "metrics/details/search.json nb201.summary['tgnas/hybrid'].cifar10.mean",
                     proto + f"; CIFAR-100 {hyb['cifar100']['mean']:.2f}, ImageNet16-120 "
                     f"{hyb['imagenet16-120']['mean']:.2f}; pruning alone {summ['tgnas/prune']['cifar10']['mean']:.2f}",
                     digits=2))
    cost = hyb["wall_time_s"]["mean"]
    rows.append(_num(published("search_nb201_cost"), cost, 0.5 * 40.0,
                     "metrics/details/search.json nb201.summary['tgnas/hybrid'].wall_time_s.mean",
                     "ours: one CPU thread, predictor scores cached per run; paper: one GPU; "
                     "noise = half the published time", digits=2))

    # DARTS search
    darts = search["darts"]
    p = published("search_darts_cost")
    rows.append(Row(p.key, p.artifact, p.quantity, p.claim, p.source, round(darts["wall_time_s"], 1),
                    "metrics/details/search.json darts.wall_time_s",
                    f"ours: {darts['algorithm']} on one CPU thread; paper: one RTX 4090",
                    "claim holds" if darts["wall_time_s"] <= p.value else "claim does not hold",
                    criterion=f"our search takes at most {p.value:g} s", unit=p.unit))
    p = published("darts_cifar10_error")
    gpu = _load(metrics_dir, GPU_RUNS["cifar10"])
    ours = None if gpu is None or gpu.get("smoke") else gpu["test_error"]
    rows.append(Row(p.key, p.artifact, p.quantity, _paper(p), p.source, ours,
                    f"metrics/details/{GPU_RUNS['cifar10']}.json test_error",
                    f"600-epoch training runs only in the GPU profile; until then: {darts['params'] / 1e6:.2f} M "
                    f"parameters, NB301 surrogate {darts['surrogate_accuracy']:.2f} % (better than "
                    f"{darts['surrogate_percentile']:.1f} % of {darts['n_random']} random genotypes)",
                    "needs a GPU run" if ours is None else "no published number recorded", unit="%"))

    # ImageNet
    p = published("imagenet_top1")
    gpu = _load(metrics_dir, GPU_RUNS["imagenet"])
    ours = None if gpu is None or gpu.get("smoke") else gpu["test_acc"]
    row = _num(p, ours, 0.3, f"metrics/details/{GPU_RUNS['imagenet']}.json test_acc",
               "ImageNet training (14 cells × 48 channels, 250 epochs) needs GPUs: `tgnas train-final --dataset imagenet`",
               digits=2)
    rows.append(row)

    # speed-up
    p = published("speedup")
    timing = {r["method"]: r for r in corr["timing"]["rows"]}
    ratios = {m: r["ratio_vs_tgnas"] for m, r in timing.items() if m != "tgnas"}
    syn = ratios.get("synflow")
    rows.append(_num(p, syn, 0.0, "metrics/details/correlation.json timing.rows[synflow].ratio_vs_tgnas",
                     "ours: seconds per architecture of synflow on a real NB201 network against the predictor "
                     f"scoring all cells, one CPU thread (largest over the proxies: {max(ratios.values()):,.0f}x); "
                     "paper: search time against zero-cost-proxy search on a GPU", digits=0))
    if rows[-1].status == "better":  # 'up to 300x': a larger factor shows the claim holds
        rows[-1].status = "claim holds"
    return rows


def rows_json(rows: list[Row]) -> dict:
    """The full record of notebook 07 (``metrics/details/paper_vs_companion.json``)."""
    return {"paper": PAPER, "statuses": list(STATUSES), "rows": [asdict(r) for r in rows],
            "n_published": len(PUBLISHED)}


def _fmt(v: Any, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        s = f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3g}" if abs(v) < 1 else f"{v:.2f}".rstrip("0").rstrip(".")
    else:
        s = str(v)
    return f"{s} {unit}".strip() if unit and not isinstance(v, str) else s


def markdown_table(rows: list[Row]) -> str:
    """The README's results table (generated; ``tests/test_paper_vs_companion.py`` checks it)."""
    lines = ["| paper artifact | quantity | paper | ours | status | paper source |",
             "|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.artifact} | {r.quantity} | {_fmt(r.paper_value, r.unit)} | {_fmt(r.our_value, r.unit)} "
                     f"| {r.status} | {r.paper_source} |")
    return "\n".join(lines) + "\n"


README_BEGIN = "<!-- paper-vs-companion: generated by notebooks/07_compare_paper.ipynb; do not edit -->"
README_END = "<!-- /paper-vs-companion -->"


def readme_block(rows: list[Row]) -> str:
    return f"{README_BEGIN}\n{markdown_table(rows)}{README_END}"


def update_readme(rows: list[Row], readme: Path | None = None) -> bool:
    """Replace the generated block of the README; return whether it changed."""
    readme = readme or paths.PROJECT_ROOT / "README.md"
    text = readme.read_text()
    start, end = text.find(README_BEGIN), text.find(README_END)
    if start < 0 or end < 0:
        raise ValueError(f"{readme} has no block {README_BEGIN!r} ... {README_END!r}")
    new = text[:start] + readme_block(rows) + text[end + len(README_END):]
    if new != text:
        readme.write_text(new)
    return new != text


#: Characters per line in each column of the comparison figure: longer text wraps, never cut.
TABLE_WRAP = (26, 34, 44, 44, 24)
_STATUS_COLOURS = {"reproduced within noise": "#cfe8cf", "better": "#b7dcf5", "worse": "#f5c6c6",
                   "needs a GPU run": "#eeeeee", "claim holds": "#cfe8cf", "claim does not hold": "#f5c6c6",
                   "no published number recorded": "#fff3c4"}


def table_figure(rows: list[Row]):
    """The comparison as a colour-coded table filling its figure: every text in full (wrapped
    to :data:`TABLE_WRAP`), each row as tall as its longest cell, the figure sized to the
    table. Returns the figure."""
    import matplotlib.pyplot as plt

    header = ["artifact", "quantity", "paper", "ours", "status"]
    texts = [[r.artifact, r.quantity, _fmt(r.paper_value, r.unit), _fmt(r.our_value, r.unit), r.status] for r in rows]
    cells = [["\n".join(textwrap.wrap(t, w)) for t, w in zip(row, TABLE_WRAP)] for row in texts]
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
        table[i, 4].set_facecolor(_STATUS_COLOURS.get(r.status, "white"))
    fig.suptitle(f"Paper ({PAPER}) vs. this companion", fontsize=10, y=1.0 - 0.1 / fig.get_figheight(), va="top")
    return fig


def plot_table(rows: list[Row], path: Path) -> Path:
    """Write :func:`table_figure` to ``path`` (PNG) and return the path."""
    import matplotlib.pyplot as plt

    fig = table_figure(rows)
    out = save_figure(fig, path, dpi=120)
    plt.close(fig)
    return out


__all__ = ["GPU_RUNS", "README_BEGIN", "README_END", "Row", "SOURCES", "STATUSES", "WRITERS", "compare",
           "markdown_table", "source_file", "table_figure",
           "numeric_status", "plot_table", "readme_block", "rows_json", "update_readme"]


if __name__ == "__main__":
    changed = update_readme(compare())
    print("README results block", "updated" if changed else "already up to date")
