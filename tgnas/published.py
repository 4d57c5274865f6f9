"""Published numbers, one record each, with the paper, version and table/figure they come from.

This is the only place where a published value is typed in. Notebook 07
(:mod:`tgnas.experiments.paper_vs_companion`) puts each one beside the values the pipeline
measured. Two kinds of record:

* ``claim``: a claim of the TG-NAS paper (arXiv:2404.00271). Versions: v1 (March 2024) and
  v2 (2025); where only v1 is named, the value was read in v1's text. A claim the paper makes
  without a number (or whose number is not recorded here) has ``value=None`` and its wording
  in ``claim``.
* ``baseline``: a number about another method that the comparison shows for context, with
  the paper it really comes from (never the TG-NAS paper unless it says so).

The TG-NAS paper's correlation table (v1 Table 3) has the columns of :data:`TABLE3_COLUMNS`
(no NASWOT). Only its TG-NAS column is typed in (τ 0.57 / ρ 0.77, also quoted in the project's
paper summary): the copy of the v1 text at hand lost the table's other numbers, so a record
for one of them is added only with its value read from the PDF. No version of the paper has a
DARTS CIFAR-10 table (the DARTS cell is evaluated on ImageNet only), so there is no such row.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The TG-NAS paper.
TGNAS = "Qiao, Li, Xu & Huang, TG-NAS, arXiv:2404.00271"
#: Short name of the TG-NAS paper in tables.
PAPER = "Qiao et al., TG-NAS, arXiv:2404.00271"
AZ_NAS = "Lee & Ham, AZ-NAS: Assembling Zero-Cost Proxies for Network Architecture Search, CVPR 2024 (arXiv:2403.19232)"
VKDNW = ("Tybl & Neumann, Training-free Neural Architecture Search through Variance of Knowledge of "
         "Deep Network Weights (VKDNW), CVPR 2025")

#: Columns of the TG-NAS paper's correlation table (v1 Table 3), in its order, mapped to the
#: NAS-Bench-Suite-Zero proxy columns that measure them here (``tgnas`` is the predictor).
TABLE3_COLUMNS: dict[str, str] = {"Params": "params_zc", "FLOPs": "flops_zc", "SNIP": "snip", "Fisher": "fisher",
                                  "Synflow": "synflow", "Zen-score": "zen", "grad-norm": "grad_norm",
                                  "TG-NAS": "tgnas"}

KINDS: tuple[str, ...] = ("claim", "baseline")


@dataclass(frozen=True)
class Source:
    """Where a published number stands: ``paper``, arXiv ``version`` and ``location``."""

    paper: str
    version: str
    location: str

    def cite(self) -> str:
        """One line: ``"<paper> <version>, <location>"``."""
        return f"{self.paper} {self.version}, {self.location}".replace(" , ", ", ")


@dataclass(frozen=True)
class Published:
    """One published number (or range ``low``..``high``), or a claim without a number."""

    key: str                      # stable id, also the key in metrics/paper_vs_companion.json
    artifact: str                 # the paper's artifact it belongs to
    quantity: str                 # what is measured
    value: float | None           # the published number (None: a claim without a number)
    source: Source                # where it stands
    claim: str = ""               # the paper's wording
    unit: str = ""
    low: float | None = None      # a published range instead of one number
    high: float | None = None
    higher_is_better: bool = True
    kind: str = "claim"           # one of KINDS

    @property
    def bounds(self) -> tuple[float, float] | None:
        """``(low, high)`` of the published number or range; ``None`` for a claim without one."""
        low = self.low if self.low is not None else self.value
        high = self.high if self.high is not None else self.value
        return None if low is None or high is None else (low, high)


def _v1(location: str) -> Source:
    return Source(TGNAS, "v1", location)


_BOTH = "v1 and v2"
#: The range of the three baselines below spans AZ-NAS's and VKDNW's values as the project's
#: paper notes record them (which paper gives which end is not recorded there).
_BASELINE_SOURCE = Source(f"{AZ_NAS}; {VKDNW}", "",
                          "NAS-Bench-201 CIFAR-10 correlation tables (all 15,625 cells); range over the two "
                          "papers; not in the TG-NAS paper")

PUBLISHED: tuple[Published, ...] = (
    # correlation (NB201, CIFAR-10 test accuracy, zero NB201 labels)
    Published("corr_tgnas_kendall", "correlation table", "TG-NAS Kendall τ, NB201 CIFAR-10", 0.57,
              _v1("Table 3, TG-NAS column")),
    Published("corr_tgnas_spearman", "correlation table", "TG-NAS Spearman ρ, NB201 CIFAR-10", 0.77,
              _v1("Table 3, TG-NAS column")),
    Published("table3_ranking", "correlation table", "TG-NAS ranks above every other proxy of Table 3", None,
              _v1("Table 3 and the text beside it"),
              claim="'our TG proxy outperforms other zero-cost proxies' (Params, FLOPs, SNIP, Fisher, "
                    "Synflow, Zen-score, grad-norm)"),
    Published("embedding_ablation", "embedding × description-length table", "best embedding model / description",
              None, _v1("Table 2 and section 'Operator Embedding Generator'"),
              claim="short descriptions with all-MiniLM-L6-v2 are best of 3 models (mpnet, MiniLM, MiniLM-64) "
                    "× 3 lengths (the text names MiniLM-64 'with embedding length of 384')"),
    Published("data_ratio", "data-ratio figure", "NB101 validation τ with 1 % of NB101 for training", None,
              _v1("Fig. 2 and section 'Correlation' (within NB101: splits from 90 % to 1 %)"),
              claim="the predictor stays effective 'even when trained on only 1% of the architecture data'"),
    Published("independence", "proxy-independence heat map", "TG-NAS's correlation with the other proxies", None,
              _v1("Fig. 10 and section 'Independent Analysis' (1,000 NB201 cells, 14 proxies)"),
              claim="Zen-score and TG-NAS are the most independent of the 14 proxies"),
    # NB201 search
    Published("search_nb201_cifar10", "NB201 search table", "found cell's CIFAR-10 test accuracy", 93.75,
              Source(TGNAS, _BOTH, "abstract; v1 Table 4"), unit="%"),
    Published("search_nb201_cifar100", "NB201 search table", "found cell's CIFAR-100 test accuracy", None,
              _v1("Table 4"), claim="in Table 4; the value is not recorded here", unit="%"),
    Published("search_nb201_imagenet16", "NB201 search table", "found cell's ImageNet16-120 test accuracy", None,
              _v1("Table 4"), claim="in Table 4; the value is not recorded here", unit="%"),
    Published("search_nb201_cost", "NB201 search table", "search cost", 40.0,
              _v1("text beside Tables 3-4 ('completed the search in about 40 seconds')"), unit="s", higher_is_better=False),
    Published("speedup", "speed-up claim", "speed-up over zero-cost proxies", 300.0,
              Source(TGNAS, _BOTH, "abstract; v1 text beside Tables 3-4 ('up to a 300× speedup')"),
              unit="×", claim="up to 300×"),
    Published("training_cost", "predictor training", "predictor training cost", 1.5,
              _v1("text beside Tables 3-4 ('the model training required 1.5 GPU hours', all of NB101)"),
              unit="GPU h", higher_is_better=False),
    # DARTS search and ImageNet
    Published("search_darts_cost", "DARTS search", "search cost (one RTX 4090)", 120.0,
              _v1("DARTS paragraph before Table 5 ('less than 2 minutes of search time on one NVIDIA RTX 4090 GPU')"),
              unit="s", claim="under 2 minutes", higher_is_better=False),
    Published("imagenet_top1", "ImageNet table", "DARTS-space cell on ImageNet, top-1", 74.5,
              Source(TGNAS, _BOTH, "abstract and v1 Table 5 (74.5 %); v2 abstract (74.9 %)"),
              unit="%", low=74.5, high=74.9),
    Published("imagenet_top5", "ImageNet table", "DARTS-space cell on ImageNet, top-5", 91.9,
              _v1("Table 5 and the DARTS paragraph ('top-1/5 accuracy of 74.5% and 91.9%')"), unit="%"),
    # baselines from other papers (context for the correlation table)
    Published("baseline_flops_kendall", "baselines (other papers)", "FLOPs Kendall τ, NB201 CIFAR-10", None,
              _BASELINE_SOURCE, low=0.58, high=0.62, kind="baseline"),
    Published("baseline_synflow_kendall", "baselines (other papers)", "synflow Kendall τ, NB201 CIFAR-10", None,
              _BASELINE_SOURCE, low=0.56, high=0.57, kind="baseline"),
    Published("baseline_naswot_kendall", "baselines (other papers)", "NASWOT Kendall τ, NB201 CIFAR-10", None,
              _BASELINE_SOURCE, low=0.56, high=0.57, kind="baseline"),
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


__all__ = ["AZ_NAS", "KINDS", "NB201_OPTIMUM", "PAPER", "PUBLISHED", "Published", "SEARCH_ANCHORS", "Source",
           "TABLE3_COLUMNS", "TGNAS", "VKDNW", "published"]
