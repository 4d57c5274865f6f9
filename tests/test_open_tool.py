"""TG-NAS for anyone's architectures: the shipped predictor, files of architectures, the generic
cell space, DARTS genotypes as DARTS writes them, TG-NAS+ outside NB201."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from tgnas.cli import main
from tgnas.spaces.catalog import get_space
from tgnas.spaces.darts.arch import DARTS_V2, Genotype, format_genotype, parse_genotype
from tgnas.spaces.darts.space import DartsSpace
from tgnas.spaces.catalog import SPACES

#: DARTS's own forms: a node fed twice from node 1, ``none`` ops, ``range(2, 6)`` concats.
DARTS_CODE = ("Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('none', 0), ('sep_conv_5x5', 1), "
              "('skip_connect', 0), ('dil_conv_3x3', 2), ('sep_conv_3x3', 0), ('skip_connect', 3)], "
              "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 0), ('skip_connect', 2), "
              "('max_pool_3x3', 1), ('avg_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('none', 1)], "
              "reduce_concat=range(2, 6))")

#: The example of docs/spaces.md (the generic `cell` space): a cell with depth-wise 5x5
#: convolutions and squeeze-excite, in English.
SE_CELL = {
    "nodes": ["input", "dwconv5x5-bn-relu", "squeeze-excite", "conv1x1-bn-relu", "output"],
    "edges": [[0, 1], [1, 2], [0, 3], [2, 4], [3, 4]],
    "descriptions": {
        "dwconv5x5-bn-relu": "depth-wise separable convolution with a 5x5 kernel, one filter per channel, "
                             "followed by batch normalization and ReLU",
        "squeeze-excite": "squeeze-and-excitation: global average pooling, two small fully connected layers "
                          "and a sigmoid that rescale each channel"},
}


def _shipped():
    from tgnas import pretrained
    if not pretrained.available():
        pytest.fail("the package ships no predictor (tgnas/pretrained/); run `tgnas models ship`")
    return pretrained


# ----------------------------------------------------------------------------- shipped


def test_shipped_weights_load_and_reproduce_their_recorded_scores():
    from tgnas.checkpoints import load_checkpoint_file
    from tgnas.plus.rule import PlusRule, check_rule_matches
    from tgnas.fileio import sha256_file
    from tgnas.predictor import Predictor
    pre = _shipped()
    prov = pre.provenance()
    assert pre.CHECKPOINT.stat().st_size < 400_000  # best-epoch weights only: a few hundred KB
    # the rule holds REFERENCE_QUANTILES numbers per (space, signal) reference (at most ~25
    # characters each in JSON), a few KB of info besides: nothing else may grow it
    from tgnas.plus.rule import REFERENCE_QUANTILES
    refs = sum(len(r) for r in PlusRule.load(pre.RULE).references.values())
    assert pre.RULE.stat().st_size < 25 * REFERENCE_QUANTILES * refs + 20_000
    assert sha256_file(pre.CHECKPOINT) == prov["shipped"]["checkpoint_sha256"]
    assert "digest" in load_checkpoint_file(pre.CHECKPOINT)  # the digest is present, and was verified
    check_rule_matches(PlusRule.load(pre.RULE), pre.CHECKPOINT, pre.RULE)
    pred = Predictor.load(pre.CHECKPOINT, device="cpu")
    for space, rec in prov["recorded_scores"].items():
        np.testing.assert_allclose(pred.score(rec["cells"], space=get_space(space)), rec["score"], rtol=1e-5, atol=1e-5)
    # provenance: config, training-space validation, data checksums, NB201/NB301 results, command
    # provenance: the spaces trained on, and per benchmark target whether a number is in-sample
    trained = {n.split(":")[0] for n in prov["config"]["train_spaces"]}
    # val_score: mean validation tau over every training task (the macro tasks fit worst)
    assert trained == set(prov["results"]["trained_on"]) and prov["training_validation"]["val_score"] > 0.15
    assert {"nb101_full", "nb201_test_acc", "nb301_zc"} <= set(prov["data"])
    targets = prov["results"]["targets"]
    assert targets["darts:cifar10"]["cells"] == 500 and targets["nb201:cifar10"]["cells"] == 9_445
    for name, r in targets.items():
        assert r["predictor_in_sample"] == (name.split(":")[0] in trained) and r["tgnas_plus_in_sample"]
    assert prov["command"].startswith("tgnas models ship")


def test_shipped_rule_reproduces_recorded_plus_scores():
    """The recorded TG-NAS+ scores come back, up to the float noise of the predictor's output.

    A reference population of NB201 holds every cell, and tied predictor scores make its
    normal-score map step at those values: a cell whose score sits on a tie (here the second
    recorded NB201 cell) moves by a step when the predictor's output moves by 1e-7 (torch's
    thread count changes the order of float sums). So each recorded score must lie between the
    rule's scores of the cell's signals with the predictor's output nudged by -1e-5 and +1e-5;
    every other signal and cell is checked as is."""
    import tgnas
    from tgnas.scoring import load_rule
    prov = _shipped().provenance()
    rule = load_rule(None, None)
    for space in ("darts", "nb201"):
        rec = prov["recorded_scores"][space]
        got = tgnas.score(rec["cells"], space=space, plus=True)
        np.testing.assert_allclose(got["tgnas"], rec["score"], rtol=1e-5, atol=1e-5)
        table = got[list(rule.signals)]
        low, high = (rule.score(table.assign(tgnas=table["tgnas"] + d), space) for d in (-1e-5, 1e-5))
        recorded = np.asarray(rec["plus_score"])
        assert np.all((recorded >= np.minimum(low, high) - 1e-6) & (recorded <= np.maximum(low, high) + 1e-6)), \
            (space, recorded, low, high)
        assert np.all(np.abs(high - low) < 0.05)  # a step, not a different ranking


def test_a_checkpoint_damaged_after_shipping_is_refused(tmp_path):
    from tgnas.checkpoints import CheckpointError
    from tgnas.scoring import load_predictor
    bad = tmp_path / "bad.pt"
    data = bytearray(_shipped().CHECKPOINT.read_bytes())
    data[-2000] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises((CheckpointError, ValueError)):
        load_predictor(bad)


def test_ship_refuses_to_overwrite_and_a_rule_of_another_checkpoint(tmp_path):
    from tgnas.plus.rule import PlusRule
    from tgnas.fileio import OutputExistsError
    from tgnas.shipping import ship
    pre = _shipped()
    dest = tmp_path / "ship"
    dest.mkdir()
    (dest / "provenance.json").write_text("{}")
    with pytest.raises(OutputExistsError):
        ship(pre.CHECKPOINT, pre.RULE, dest=dest)
    rule = PlusRule.load(pre.RULE)
    rule.info["predictor_sha256"] = "0" * 64
    other = rule.save(tmp_path / "other.json")
    with pytest.raises(ValueError, match="another predictor checkpoint"):
        ship(pre.CHECKPOINT, other, dest=tmp_path / "ship2")
    assert not (tmp_path / "ship2" / pre.CHECKPOINT.name).exists()


def test_ship_records_the_results_its_caller_measures(tmp_path, monkeypatch):
    """``ship`` records what the caller measured (the package never runs the paper's experiments):
    a callable gets the shipped predictor and the shipped rule, references added."""
    from tgnas import paths
    from tgnas.plus.rule import PlusRule
    from tgnas.shipping import ship
    monkeypatch.setattr(paths, "LITE_PROXY_DIR", tmp_path / "lite")  # the small reference samples' tables
    pre = _shipped()
    seen = {}

    def measure(pred, rule):
        seen["sha"], seen["refs"] = rule.info["predictor_sha256"], sorted(rule.references)
        seen["score"] = float(pred.score([get_space("nb201").examples[0]], space=get_space("nb201"))[0])
        return {"nb201": {"cells": 1}}

    rec = ship(pre.CHECKPOINT, pre.RULE, dest=tmp_path / "s", results=measure, reference_n=8, progress=False)
    assert rec["results"] == {"nb201": {"cells": 1}}
    prov = json.loads((tmp_path / "s" / "provenance.json").read_text())
    assert prov["results"] == rec["results"] and prov["shipped"]["checkpoint_sha256"] == seen["sha"]
    assert seen["refs"] == sorted(PlusRule.load(tmp_path / "s" / "tgnas_plus_rule.json").references)
    assert seen["score"] == pytest.approx(prov["recorded_scores"]["nb201"]["score"][0], abs=1e-6)
    rec = ship(pre.CHECKPOINT, pre.RULE, dest=tmp_path / "s", results={"x": 1}, reference_n=8, progress=False,
               overwrite=True)
    assert rec["results"] == {"x": 1}


# ----------------------------------------------------------------------------- input forms


def _cli(capsys, argv):
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_score_a_file_of_genotypes_without_a_checkpoint(tmp_path, capsys):
    import tgnas
    f = tmp_path / "g.txt"
    f.write_text(f"# genotypes\n{DARTS_V2}\n\n{DARTS_CODE}\n")
    out = tmp_path / "s.csv"
    rc, _, err = _cli(capsys, ["score", "--space", "darts", "--archs", str(f), "--out", str(out)])
    assert rc == 0 and "scored 2 darts architectures" in err
    df = pd.read_csv(out)
    assert list(df.columns) == ["line", "score"] and df["line"].tolist() == [2, 4]
    np.testing.assert_allclose(df["score"], tgnas.score([str(DARTS_V2), DARTS_CODE], space="darts")["score"],
                               rtol=1e-6)
    plus = tmp_path / "p.csv"
    assert main(["score", "--plus", "--space", "darts", "--archs", str(f), "--out", str(plus), "--quiet"]) == 0
    p = pd.read_csv(plus)
    from tgnas.plus.rule import PlusRule
    rule = PlusRule.load(_shipped().RULE)
    assert any(s.startswith("az_") for s in rule.signals)  # every signal the rule uses, AZ-NAS's too
    assert list(p.columns) == ["line", *rule.signals, "seconds", "plus_score"]
    assert np.all(np.isfinite(p["plus_score"])) and p["params"].gt(0).all()


def test_csv_jsonl_and_stdin_inputs_give_the_same_scores(tmp_path, capsys, monkeypatch):
    texts = [str(DARTS_V2), DARTS_CODE, format_genotype(DartsSpace().sample(np.random.default_rng(3)))]
    csv = tmp_path / "a.csv"
    pd.DataFrame({"name": ["v2", "code", "rand"], "genotype": texts, "acc": [1, 2, 3]}).to_csv(csv, index=False)
    jl = tmp_path / "a.jsonl"
    jl.write_text("".join(json.dumps({"key": k, "g": t}) + "\n" for k, t in zip("abc", texts)))
    outs = {}
    assert main(["score", "--space", "darts", "--archs", str(csv), "--column", "genotype", "--id-column", "name",
                 "--out", str(tmp_path / "c.out")]) == 0
    outs["csv"] = pd.read_csv(tmp_path / "c.out")
    assert outs["csv"]["name"].tolist() == ["v2", "code", "rand"]
    assert main(["score", "--space", "darts", "--archs", str(jl), "--column", "g", "--id-column", "key",
                 "--out", str(tmp_path / "j.out")]) == 0
    outs["jsonl"] = pd.read_csv(tmp_path / "j.out")
    assert outs["jsonl"]["key"].tolist() == ["a", "b", "c"]
    capsys.readouterr()
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(texts) + "\n"))
    rc, out, _ = _cli(capsys, ["score", "--space", "darts", "--archs", "-"])
    assert rc == 0
    outs["stdin"] = pd.read_csv(io.StringIO(out))
    assert outs["stdin"]["line"].tolist() == [1, 2, 3]
    for k in ("jsonl", "stdin"):
        np.testing.assert_allclose(outs[k]["score"], outs["csv"]["score"], rtol=1e-6)
    # a CSV with several columns needs --column; a missing column is named
    rc, _, err = _cli(capsys, ["score", "--space", "darts", "--archs", str(csv)])
    assert rc == 2 and "--column" in err
    rc, _, err = _cli(capsys, ["score", "--space", "darts", "--archs", str(csv), "--column", "arch"])
    assert rc == 2 and "no column 'arch'" in err and "genotype" in err


def test_bad_lines_are_named_or_skipped_and_nothing_is_written_half_way(tmp_path, capsys):
    good = str(DARTS_V2)
    lines = [good] * 3 + ["Genotype(normal=[('conv_9x9', 0)])"] + [good] * 5000  # bad line 4, then > 1 batch
    f = tmp_path / "g.txt"
    f.write_text("\n".join(lines) + "\n")
    out = tmp_path / "s.csv"
    rc, _, err = _cli(capsys, ["score", "--space", "darts", "--archs", str(f), "--out", str(out)])
    assert rc == 2 and f"{f} line 4: malformed DARTS genotype" in err and err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob("*.tmp*"))
    # a bad line after the first batch was written to the temporary file: still nothing at --out
    f.write_text("\n".join([good] * 5000 + ["nope"]) + "\n")
    rc, _, err = _cli(capsys, ["score", "--space", "darts", "--archs", str(f), "--out", str(out)])
    assert rc == 2 and "line 5001" in err and not out.exists()
    rc, _, err = _cli(capsys, ["score", "--space", "darts", "--archs", str(f), "--out", str(out), "--skip-bad"])
    assert rc == 0 and "skipped 1 bad architecture(s)" in err and "line 5001" in err
    assert len(pd.read_csv(out)) == 5000
    jl = tmp_path / "c.jsonl"
    jl.write_text('{"nodes": ["input", "output"], "edges": [[0, 1]]}\n{not json\n')
    rc, _, err = _cli(capsys, ["score", "--space", "cell", "--archs", str(jl)])
    assert rc == 2 and f"{jl} line 2: not JSON" in err


# ----------------------------------------------------------------------------- generic cells


def test_generic_cell_forms_and_errors():
    from tgnas.spaces.catalog import get_space
    sp = get_space("cell")
    a = sp.parse(json.dumps(SE_CELL))
    adj = np.zeros((5, 5), dtype=int)
    for i, j in SE_CELL["edges"]:
        adj[i, j] = 1
    b = sp.parse(json.dumps({k: v for k, v in SE_CELL.items() if k != "edges"} | {"adjacency": adj.tolist()}))
    assert a == b and sp.parse(sp.format(a)) == a and sp.to_graph(a).ops == tuple(SE_CELL["nodes"])
    for bad, msg in [({"nodes": ["input", "output"], "edges": [[1, 0]]}, "goes from node 1 to node 0"),
                     ({"nodes": ["input", "output"], "edges": [[0, 5]]}, "outside 0..1"),
                     ({"nodes": ["input", "output"]}, "exactly one of 'edges'"),
                     ({"nodes": [], "edges": []}, "non-empty list"),
                     ({"nodes": ["input", "output"], "edges": [], "descriptions": {"x": "y"}}, "names no node"),
                     ({"nodes": ["input", "output"], "adjacency": [[0, 1], [1, 0]]}, "strictly upper triangular"),
                     ({"nodes": ["input", "output"], "edges": [], "colour": 1}, "unknown key")]:
        with pytest.raises(ValueError, match=msg):
            sp.parse(json.dumps(bad))
    with pytest.raises(ValueError, match="not JSON"):
        sp.parse("{nodes")


def test_generic_cells_with_english_descriptions_score(tmp_path, capsys):
    import tgnas
    nb101_like = {"nodes": ["input", "conv3x3-bn-relu", "maxpool3x3", "output"],
                  "edges": [[0, 1], [1, 2], [2, 3], [0, 3]]}
    jl = tmp_path / "cells.jsonl"
    jl.write_text(json.dumps({"id": "se", **SE_CELL}) + "\n" + json.dumps({"id": "plain", **nb101_like}) + "\n")
    out = tmp_path / "s.csv"
    assert main(["score", "--space", "cell", "--archs", str(jl), "--out", str(out)]) == 0
    df = pd.read_csv(out)
    assert df["id"].tolist() == ["se", "plain"] and np.all(np.isfinite(df["score"]))
    # the description is what the predictor reads: another text gives another score
    other = {**SE_CELL, "descriptions": {**SE_CELL["descriptions"], "squeeze-excite": "does nothing at all"}}
    a, b = (tgnas.score([c], space="cell")["score"].iloc[0] for c in (SE_CELL, other))
    assert a != b
    with pytest.raises(ValueError, match="'squeeze-excite' is described twice with different texts"):
        tgnas.score([SE_CELL, other], space="cell")
    # an operator with no description anywhere is an error naming it
    with pytest.raises((ValueError, KeyError), match="mystery-op"):
        tgnas.score([{"nodes": ["input", "mystery-op", "output"], "edges": [[0, 1], [1, 2]]}], space="cell")
    # TG-NAS+ builds generic cells with NB101's operators (as NB101 cells), and says why not otherwise
    plus = tgnas.score([nb101_like], space="cell", plus=True)
    ref = tgnas.score(["0101.0010.0001.0000/input,conv3x3-bn-relu,maxpool3x3,output"], space="nb101", plus=True)
    np.testing.assert_allclose(plus["plus_score"], ref["plus_score"], rtol=1e-6)
    with pytest.raises(ValueError, match="no network builder for operators.*squeeze-excite"):
        tgnas.score([SE_CELL], space="cell", plus=True)


# ----------------------------------------------------------------------------- DARTS forms


def test_darts_code_genotypes_parse_build_and_score_but_the_surrogate_refuses_them():
    import tgnas
    from tgnas.spaces.darts.benchmark import genotype_to_config
    from tgnas.proxies import build_net
    from tgnas.spaces.darts.search import DartsEncoding
    g = parse_genotype(DARTS_CODE)
    assert g.normal[0][1] == g.normal[1][1] == 1 and ("none", 0) in g.normal and g.normal_concat == (2, 3, 4, 5)
    assert DartsSpace().parse(DARTS_CODE) == g == DartsSpace().parse(format_genotype(g))
    # the regex fast path and the syntax-tree path agree (extra spaces force the latter)
    assert parse_genotype(DARTS_CODE.replace("Genotype(", "Genotype (")) == g
    import torch
    net = build_net(g, SPACES["darts"], C=8, N=3)
    logits = net(torch.zeros(2, 3, 32, 32))
    assert (logits[0] if isinstance(logits, tuple) else logits).shape == (2, 10)
    assert np.isfinite(tgnas.score([DARTS_CODE], space="darts")["score"]).all()
    with pytest.raises(ValueError, match="NB301 surrogate.*the predictor still scores it"):
        genotype_to_config(g)
    same_only = Genotype(normal=[(op, 1 if k < 2 else inp) for k, (op, inp) in enumerate(DARTS_V2.normal)],
                         reduce=DARTS_V2.reduce)
    with pytest.raises(ValueError, match="both edges into node 2 of the normal cell come from node 1"):
        genotype_to_config(same_only)
    with pytest.raises(ValueError, match="search encoding"):
        DartsEncoding(DartsSpace()).encode(g)
    # the parser's bounds still hold on the fast path
    with pytest.raises(ValueError, match="range of"):
        parse_genotype(str(DARTS_V2).replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(0, 999)"))


# ----------------------------------------------------------------------------- TG-NAS+ normalisation


def test_plus_within_needs_a_large_set_and_reference_does_not():
    import tgnas
    sp = DartsSpace()
    rng = np.random.default_rng(0)
    few = [format_genotype(sp.sample(rng)) for _ in range(5)]
    with pytest.raises(ValueError, match="needs >= 100"):
        tgnas.score(few, space="darts", plus=True, normalise="within")
    alone = tgnas.score(few[:1], space="darts", plus=True)["plus_score"].iloc[0]
    together = tgnas.score(few, space="darts", plus=True)["plus_score"].iloc[0]
    assert alone == pytest.approx(together)  # reference normalisation: a score does not depend on the set


# ----------------------------------------------------------------------------- output root


@pytest.mark.parametrize("env, expected", [({}, "scratch"), ({"DVC_STAGE": "predictor"}, "project"),
                                           ({"TGNAS_OUTPUT_ROOT": "/tmp/x"}, "/tmp/x")])
def test_a_notebook_run_by_hand_writes_to_scratch(env, expected):
    from tgnas import paths
    code = ("import sys, types; sys.modules['ipykernel'] = types.ModuleType('ipykernel'); "
            "from tgnas import paths; print(paths.OUTPUT_ROOT)")
    clean = {k: v for k, v in os.environ.items() if k not in ("TGNAS_OUTPUT_ROOT", "DVC_STAGE")}
    out = subprocess.run([sys.executable, "-c", code], env={**clean, **env}, capture_output=True, text=True,
                         check=True).stdout.strip()
    want = {"scratch": str(paths.SCRATCH_ROOT), "project": str(paths.PROJECT_ROOT)}.get(expected, expected)
    assert out == want


def test_fast_graph_forms_equal_the_step_by_step_rewrites():
    from tgnas import graph_forms as gf
    from tgnas.spaces.catalog import get_space
    from tgnas.spaces.darts.arch import DARTS_OPS

    def steps(g, form):
        if form == "full":
            return g
        g = gf.drop_zero_ops(g)
        if form == "no_none":
            return g
        g = gf.prune(g)
        return g if form == "pruned" else gf.prune(gf.contract_identities(g))

    rng = np.random.default_rng(11)
    sp = DartsSpace()
    for k in range(400):  # DARTS-code genotypes: none, repeated inputs, partial concats
        cells = [[(DARTS_OPS[rng.integers(8)], int(rng.integers(e // 2 + 2))) for e in range(8)] for _ in range(2)]
        concats = [sorted(set(rng.choice([2, 3, 4, 5], size=rng.integers(1, 5)).tolist())) for _ in range(2)]
        g = Genotype(normal=cells[0], reduce=cells[1], normal_concat=concats[0], reduce_concat=concats[1])
        for form in gf.GRAPH_FORMS:
            want = steps(sp.to_graph(g), form)
            assert gf.to_form(sp.to_graph(g), form) == want and sp.to_graph_form(g, form) == want
    nb201 = get_space("nb201")
    for _ in range(200):
        g = nb201.to_graph(nb201.sample(rng))
        assert all(gf.to_form(g, f) == steps(g, f) for f in gf.GRAPH_FORMS)
