"""Notebook 02's report: the training history as a table, learning curves, the run's metrics."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from tgnas.checkpoints import state_digest
from tgnas.fileio import save_figure
from tgnas.predictor import Predictor
from tgnas.profiles import load_params


def history_frame(history: list[dict]) -> pd.DataFrame:
    """One row per epoch: ``epoch``, ``train_loss``, ``lr``, ``val_tau_<space>``,
    ``val_rho_<space>``, ``val_score``, ``time_s`` and any ``monitor_*`` columns."""
    rows = []
    for h in history:
        row = {"epoch": h["epoch"], "train_loss": h["train_loss"], "lr": h["lr"]}
        row.update({f"val_tau_{k}": v for k, v in h["val_tau"].items()})
        row.update({f"val_rho_{k}": v for k, v in h["val_rho"].items()})
        row["val_score"] = h["val_score"]
        row["time_s"] = h["time_s"]
        row.update({f"monitor_{k}": v for k, v in h.get("monitor", {}).items()})
        rows.append(row)
    return pd.DataFrame(rows)


def plot_learning_curves(history: list[dict], path: Path, title: str = "") -> Path:
    """Training loss (left) and Kendall tau per epoch (right): validation tau of every
    training space (solid) and, if recorded, the NB201 monitor (dashed, labelled as never
    used for selection). Writes ``path`` (PNG) and returns it."""
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    df = history_frame(history)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax1.plot(df["epoch"], df["train_loss"], marker="o")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("training loss")
    ax1.set_title("loss")
    for col in (c for c in df.columns if c.startswith("val_tau_")):
        ax2.plot(df["epoch"], df[col], marker="o", label=f"{col[8:]} validation (selection)")
    for col in (c for c in df.columns if c.startswith("monitor_") and c.endswith("_tau")):
        ax2.plot(df["epoch"], df[col], ls="--", marker="x", color="grey",
                 label=f"{col[8:-4]} (monitor only, not used)")
    ax2.set_xlabel("epoch")
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax2.set_ylabel("Kendall tau")
    ax2.set_title("rank correlation")
    ax2.legend(fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = save_figure(fig, path, dpi=120)
    plt.close(fig)
    return path


def run_metrics(result, config) -> dict:
    """Small JSON-ready summary: selected epoch, its training-space validation tau/rho per
    space, the last epoch's, and the config."""
    best = next(h for h in result.history if h["epoch"] == result.best_epoch)
    last = result.history[-1]
    return {
        "train_spaces": list(config.train_spaces),
        "epochs_run": len(result.history),
        "best_epoch": result.best_epoch,
        "val_tau": best["val_tau"], "val_rho": best["val_rho"],
        "last_epoch_val_tau": last["val_tau"], "last_epoch_val_rho": last["val_rho"],
        "mean_epoch_time_s": sum(h["time_s"] for h in result.history) / len(result.history),
        "stopped_early": result.stopped_early,
        # bit-level identity of the kept weights (tests/test_numerics.py retrains and compares)
        "weights_sha256": weights_digest(result.path),
        "config": config.to_dict(),
    }


def weights_digest(checkpoint) -> str:
    """:func:`tgnas.checkpoints.state_digest` of what a predictor checkpoint computes with: the
    network's weights and the operator-embedding table (its node features)."""
    p = Predictor.load(checkpoint, device="cpu")
    return state_digest({**p.net.state_dict(), "operator_table": p.table})


def scale_note(profile: str, train_space: str, fraction: float, epochs: int) -> str:
    """Notebook 02's banner: the scale of this run (``profile`` from
    :func:`tgnas.profiles.profile_of`) beside the pipeline's, read from ``params.yaml`` and
    ``params-gpu.yaml`` (never typed in)."""
    cpu, gpu = load_params()["predictor"], load_params(gpu=True)["predictor"]
    pipeline = (f"the pipeline passes fraction={cpu['fraction']:g}, epochs={cpu['epochs']} (params.yaml); "
                f"the GPU profile fraction={gpu['fraction']:g}, epochs={gpu['epochs']} (params-gpu.yaml)")
    run = f"{100 * fraction:g} % of {train_space}, {epochs} epochs"
    if profile == "custom":
        return f"*** SMOKE MODE: {run} -- not a pipeline setting; {pipeline} ***"
    return f"{profile} profile: {run}; {pipeline}"
