"""Published numbers of the TG-NAS paper (arXiv:2404.00271), one record each, with its source.

This is the only place where a published value is typed in. Notebook 07
(:mod:`tgnas.experiments.paper_vs_companion`) puts each one beside the value the pipeline
measured. ``source`` names where in the paper (arXiv:2404.00271, v1 unless it says otherwise)
the number stands.
A claim the paper makes without a number has ``value=None`` and its wording in ``claim``.
"""

from __future__ import annotations

from dataclasses import dataclass

PAPER = "Qiao et al., TG-NAS, arXiv:2404.00271"


@dataclass(frozen=True)
class Published:
    """One published number (or range ``low``..``high``) or a claim without a number."""

    key: str                      # stable id, also the key in metrics/paper_vs_companion.json
    artifact: str                 # the paper's headline artifact it belongs to
    quantity: str                 # what is measured
    value: float | None           # the published number (None: a claim without a number)
    source: str                   # where it stands in the paper
    claim: str = ""               # the paper's wording
    unit: str = ""
    low: float | None = None      # a published range instead of one number
    high: float | None = None
    higher_is_better: bool = True


PUBLISHED: tuple[Published, ...] = (
    # correlation table (NB201, CIFAR-10 test accuracy, zero NB201 labels)
    Published("corr_tgnas_kendall", "correlation table", "TG-NAS Kendall τ, NB201 CIFAR-10", 0.57,
              "abstract and NB201 correlation table"),
    Published("corr_tgnas_spearman", "correlation table", "TG-NAS Spearman ρ, NB201 CIFAR-10", 0.77,
              "abstract and NB201 correlation table"),
    Published("corr_flops_kendall", "correlation table", "FLOPs Kendall τ, NB201 CIFAR-10", None,
              "baseline row of the NB201 correlation table",
              low=0.58, high=0.62),
    Published("corr_synflow_kendall", "correlation table", "synflow Kendall τ, NB201 CIFAR-10", None,
              "baseline row of the NB201 correlation table",
              low=0.56, high=0.57),
    Published("corr_naswot_kendall", "correlation table", "NASWOT Kendall τ, NB201 CIFAR-10", None,
              "baseline row of the NB201 correlation table",
              low=0.56, high=0.57),
    # embedding model x description length
    Published("ablation_best_embedding", "embedding × description-length ablation",
              "best embedding model / description length", None,
              "embedding model x description length ablation",
              claim="short descriptions with MiniLM are best"),
    # data-ratio study
    Published("data_ratio", "data-ratio study", "NB201 CIFAR-10 τ against fraction of NB101 used", None,
              "abstract ('strong data efficiency')",
              claim="strong data efficiency: a small fraction of NB101 suffices"),
    # NB201 search
    Published("search_nb201_cifar10", "NB201 search table", "found cell's CIFAR-10 test accuracy", 93.75,
              "abstract; NB201 search table", unit="%"),
    Published("search_nb201_cost", "NB201 search table", "search cost", 40.0,
              "NB201 search table and text ('about 40 seconds')", unit="s",
              higher_is_better=False),
    # DARTS search
    Published("search_darts_cost", "DARTS search", "search cost (one RTX 4090)", 120.0,
              "DARTS search text ('under 2 minutes')", unit="s",
              claim="under 2 minutes", higher_is_better=False),
    Published("darts_cifar10_error", "DARTS search", "CIFAR-10 test error of the found cell (600 epochs)", None,
              "DARTS CIFAR-10 table (compared as a claim: no number typed in here)",
              claim="competitive CIFAR-10 error (DARTS protocol: 600 epochs, 20 cells, 36 channels)",
              unit="%", higher_is_better=False),
    # ImageNet
    Published("imagenet_top1", "ImageNet result", "DARTS-space cell on ImageNet, top-1", 74.5,
              "abstract v1 (74.5 %); v2 reports 74.9 %",
              unit="%", low=74.5, high=74.9),
    # speed-up
    Published("speedup", "speed-up claim", "search speed-up over zero-cost proxies", 300.0,
              "abstract ('up to 300x faster')", unit="x", claim="up to 300x"),
)

#: NAS-Bench-201 optimum (test accuracy, %), a property of the benchmark quoted as context.
NB201_OPTIMUM = {"cifar10": 94.37, "cifar100": 73.51, "imagenet16-120": 47.31}


#: NB201 search results of other training-free NAS methods (test accuracy, %, mean over their
#: runs), the anchors beside which notebook 04 shows its searches; not TG-NAS's claims, so not
#: in :data:`PUBLISHED`. ``source`` says where each stands.
SEARCH_ANCHORS: dict[str, dict] = {
    "TE-NAS": {"cifar10": 93.9, "cifar100": 71.24, "imagenet16-120": 42.38,
               "source": "Chen, Gong & Wang, Neural Architecture Search on ImageNet in Four GPU Hours "
                         "(TE-NAS), ICLR 2021, NAS-Bench-201 search table; also quoted by AZ-NAS (CVPR 2024)"},
    "AZ-NAS": {"cifar10": 93.53, "cifar100": 70.75, "imagenet16-120": 45.43,
               "source": "Lee & Ham, AZ-NAS: Assembling Zero-Cost Proxies for Network Architecture Search, "
                         "CVPR 2024, NAS-Bench-201 search table"},
}


def published(key: str) -> Published:
    """The record ``key``; ``KeyError`` listing the valid keys otherwise."""
    for p in PUBLISHED:
        if p.key == key:
            return p
    raise KeyError(f"no published value {key!r}; expected one of {[p.key for p in PUBLISHED]}")


__all__ = ["NB201_OPTIMUM", "PAPER", "PUBLISHED", "Published", "SEARCH_ANCHORS", "published"]
