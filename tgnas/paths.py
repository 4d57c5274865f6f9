"""Every path the project uses, resolved from this file (never from the working directory).

Papermill, nbval, Jupyter and the CLI all start in different folders, so nothing here
depends on ``os.getcwd()``.

Outputs (figures, metrics, checkpoints, generated data) go below :data:`OUTPUT_ROOT`: the
project for ``dvc repro`` stages, the CLI and scripts; ``scratch/`` for a notebook run by
hand; ``$TGNAS_OUTPUT_ROOT`` when set (the tests set it to a temporary folder). What another
stage wrote is read through :func:`input_path`: below the output root if it is there, else
the project's committed copy (a notebook run by hand on a fresh clone reads ``metrics/``).

The read-only benchmark data root is resolved, in order, from:

1. the environment variable ``TGNAS_DATA`` (a user's own download folder),
2. ``../shared/data``: a ``shared/data`` folder beside the project folder (one download used by
   several checkouts; ``docs/data.md``),
3. ``data/raw`` inside the project.

All of this holds in a source checkout (an editable install included). A plain
``pip install .`` puts the package in ``site-packages``, which is no place for caches, data
or results: there the project's folders live under the platform's user data folder
(``~/.local/share/tgnas`` on Linux; data root ``data/raw`` below it) and caches under the
user cache folder (``~/.cache/tgnas``), as :mod:`platformdirs` names them.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import platformdirs

#: Name of the environment variable that overrides the data root.
DATA_ENV_VAR = "TGNAS_DATA"

#: Name of the environment variable that redirects every *output* folder (figures, metrics,
#: models, generated data) below another root. The test suite sets it so that nbval runs
#: of the notebooks never overwrite the pipeline's committed results.
OUTPUT_ENV_VAR = "TGNAS_OUTPUT_ROOT"


@dataclass(frozen=True)
class Layout:
    """Where the project keeps its files, given where the ``tgnas`` package lies.

    Attributes:
        checkout: the package sits in a source checkout (its parent holds ``pyproject.toml``),
            not in ``site-packages``.
        project: the checkout (outside one: the package's parent, only ever read from).
        home: the default root of outputs and of ``data/raw``: the checkout, else the user
            data folder.
        cache: the cache folder: ``data/cache`` of the checkout, else the user cache folder.
    """

    checkout: bool
    project: Path
    home: Path
    cache: Path


def layout(package_dir: Path) -> Layout:
    """The :class:`Layout` for the ``tgnas`` package folder ``package_dir``."""
    project = Path(package_dir).resolve().parent
    if (project / "pyproject.toml").is_file():
        return Layout(True, project, project, project / "data" / "cache")
    return Layout(False, project, Path(platformdirs.user_data_dir("tgnas")),
                  Path(platformdirs.user_cache_dir("tgnas")))


LAYOUT: Layout = layout(Path(__file__).parent)
PROJECT_ROOT: Path = LAYOUT.project
NOTEBOOKS_DIR: Path = PROJECT_ROOT / "notebooks"
#: Caches are keyed by content (model + text, file checksum), so they are shared by the
#: pipeline and the tests and stay under the project whatever the output root.
CACHE_DIR: Path = LAYOUT.cache

#: Where notebooks run by hand (Jupyter, a bare papermill) write: never the pipeline's files.
SCRATCH_ROOT: Path = LAYOUT.home / "scratch"


def _output_root() -> Path:
    """``$TGNAS_OUTPUT_ROOT``; else the project inside a ``dvc repro`` stage (DVC sets
    ``DVC_STAGE`` for every stage command, and papermill's kernel inherits it) or outside a
    notebook kernel (CLI, scripts); else, in a notebook run by hand, :data:`SCRATCH_ROOT`, so
    that "Run all" never overwrites the pipeline's checkpoint and committed metrics."""
    env = os.environ.get(OUTPUT_ENV_VAR)
    if env:
        return Path(env).expanduser().resolve()
    if os.environ.get("DVC_STAGE") or "ipykernel" not in sys.modules:
        return LAYOUT.home
    return SCRATCH_ROOT


OUTPUT_ROOT: Path = _output_root()
FIGURES_DIR: Path = OUTPUT_ROOT / "figures"
METRICS_DIR: Path = OUTPUT_ROOT / "metrics"
#: Per-run detail and settings of every stage (DVC outputs, not metrics: ``dvc metrics show``
#: stays short); the headline numbers are ``METRICS_DIR/<stage>.json``.
METRIC_DETAILS_DIR: Path = METRICS_DIR / "details"
#: Data series that ``dvc plots`` draws with templates (learning curves, search progress, ...).
PLOT_DATA_DIR: Path = METRICS_DIR / "plots"
MODELS_DIR: Path = OUTPUT_ROOT / "models"
#: Generated data (git-ignored, DVC outputs): executed notebooks, score tables.
GENERATED_DIR: Path = OUTPUT_ROOT / "data" / "generated"
EXECUTED_NOTEBOOKS_DIR: Path = GENERATED_DIR / "notebooks"
#: Lite-proxy tables of TG-NAS+ (:mod:`tgnas.proxies.lite`), resumable and reused.
LITE_PROXY_DIR: Path = GENERATED_DIR / "plus"
#: Recorded lite-proxy tables (committed output of the frozen ``lite_proxies`` stage): a table
#: missing from :data:`LITE_PROXY_DIR` is first copied from here, so the default pipeline does
#: not recompute the 15,625 NB201 cells (about 7 minutes).
RECORDED_LITE_DIR: Path = PROJECT_ROOT / "data" / "recorded" / "lite_proxies"

# Named artifacts (one place for each file name that several modules, notebooks or the CLI use).
#: The pipeline's predictor, written by notebook 02 (``tgnas score`` / ``tgnas search`` default).
PREDICTOR_CHECKPOINT: Path = MODELS_DIR / "tgnas_nb101.pt"
#: The TG-NAS+ rule for :data:`PREDICTOR_CHECKPOINT`, written by notebook 06 (``tgnas score --plus``).
PLUS_RULE: Path = MODELS_DIR / "tgnas_plus_rule.json"
#: Full-size proxy timings recorded by ``scripts/bench_proxies.py`` (a committed measurement that
#: notebooks 03 and 06 read as an input): read from the project, whatever the output root.
PROXY_TIMING: Path = PROJECT_ROOT / "metrics" / "proxy_timing.json"


def _default_data_root() -> tuple[Path, str]:
    """The data root without ``$TGNAS_DATA``, and where it comes from (see the module doc)."""
    if not LAYOUT.checkout:
        return LAYOUT.home / "data" / "raw", "the user data folder (tgnas is not in a checkout)"
    shared = LAYOUT.project.parent / "shared" / "data"
    if shared.is_dir():
        return shared, "../shared/data next to the project"
    return LAYOUT.project / "data" / "raw", "data/raw inside the project"


def data_root() -> Path:
    """Return the folder holding the read-only benchmark files.

    ``TGNAS_DATA`` wins when set (even if the folder is empty, so that a user's choice is
    never silently replaced); otherwise, in a checkout, ``../shared/data`` beside the
    project if it exists, otherwise ``data/raw``; outside a checkout, ``data/raw`` below the
    user data folder.
    """
    env = os.environ.get(DATA_ENV_VAR)
    if env:
        return Path(env).expanduser().resolve()
    return _default_data_root()[0]


def data_root_source() -> str:
    """Say where :func:`data_root` came from (for ``tgnas data check``)."""
    if os.environ.get(DATA_ENV_VAR):
        return f"${DATA_ENV_VAR}"
    return _default_data_root()[1]


def data_root_order() -> str:
    """The order in which :func:`data_root` looks, in words (for ``--help``)."""
    if not LAYOUT.checkout:
        return f"${DATA_ENV_VAR}, then {LAYOUT.home / 'data' / 'raw'}"
    return f"${DATA_ENV_VAR}, then ../shared/data, then data/raw"


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and return it."""
    path.mkdir(parents=True, exist_ok=True)
    return path


def rel(path: Path) -> str:
    """``path`` for printing: relative to the project when below it (``figures/x.png`` from a
    ``dvc repro`` stage, ``scratch/figures/x.png`` from a notebook run by hand), else absolute
    (e.g. below a ``$TGNAS_OUTPUT_ROOT`` elsewhere), so that a message names the file written."""
    path = Path(path).expanduser().resolve()
    return str(path.relative_to(PROJECT_ROOT)) if path.is_relative_to(PROJECT_ROOT) else str(path)


def input_path(path: Path) -> Path:
    """Where to read ``path``, an output of another stage that lies below :data:`OUTPUT_ROOT`.

    ``path`` itself when it exists (e.g. a checkpoint that notebook 02, run by hand, wrote
    under ``scratch/``); otherwise, when outputs go elsewhere than the project, the same file
    below the project (the committed metrics, the last ``dvc repro``'s checkpoint), if that
    exists: a notebook run by hand reads the pipeline's results where they are and writes only
    below its own root. Otherwise ``path`` unchanged, for the caller's not-found message
    (:func:`input_candidates` lists where it looked).
    """
    candidates = input_candidates(path)
    return next((c for c in candidates if c.exists()), Path(path))


def input_candidates(path: Path) -> list[Path]:
    """The places :func:`input_path` looks, in order: ``path``, then (for a path below an
    output root other than the project) the same relative path below the project."""
    path = Path(path)
    out = [path]
    if OUTPUT_ROOT != PROJECT_ROOT and path.is_relative_to(OUTPUT_ROOT):
        out.append(PROJECT_ROOT / path.relative_to(OUTPUT_ROOT))
    return out
