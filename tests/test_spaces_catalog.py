"""The space catalog and the contract every space fulfils."""

from __future__ import annotations

import numpy as np
import pytest

from tgnas.cellgraph import CellGraph
from tgnas.spaces import catalog
from tgnas.spaces.base import Space
from tgnas.spaces.catalog import get_space, space_names

#: The benchmark spaces that sample and mutate.
SPACE_NAMES = catalog.space_names(provides="sample")


def test_unknown_space_lists_valid_names():
    with pytest.raises(KeyError, match="nb101.*nb201.*darts"):
        get_space("nb999")


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_space_contract(name):
    space = get_space(name)
    assert isinstance(space, Space) and space.name == name
    rng = np.random.default_rng(0)
    for _ in range(20):
        arch = space.sample(rng)
        assert space.validate(arch) == arch
        text = space.format(arch)
        assert space.parse(text) == arch
        graph = space.to_graph(arch)
        assert isinstance(graph, CellGraph)
        assert set(graph.ops) <= set(space.graph_ops)
        child = space.mutate(arch, rng)
        assert child != arch and space.validate(child) == child


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_sampling_is_seeded(name):
    space = get_space(name)
    a = [space.format(space.sample(np.random.default_rng(7))) for _ in range(3)]
    assert len(set(a)) == 1


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_parse_rejects_garbage(name):
    with pytest.raises(ValueError):
        get_space(name).parse("not an architecture")


# ----------------------------------------------------------------------------- the catalog

def test_catalog_names_and_capabilities():
    assert catalog.space_names()[:3] == ("nb101", "nb201", "darts") and "cell" in catalog.space_names()
    assert SPACE_NAMES[:3] == ("nb101", "nb201", "darts")
    for name, space in catalog.SPACES.items():
        assert space.name == name and get_space(name) is space
    assert space_names(provides="encoding") == ("nb201", "darts") == space_names(provides="supernet")
    assert tuple(n for n, s in catalog.SPACES.items() if s.enumerable)[:2] == ("nb101", "nb201")
    assert space_names(provides="build_final_net") == ("nb201", "darts")
    assert not get_space("cell").provides("sample") and get_space("nb201").provides("flops_of")
    with pytest.raises(NotImplementedError, match="'nb101' has no 'encoding'"):
        get_space("nb101").encoding()
    with pytest.raises(KeyError, match="unknown capability 'colour'"):
        space_names(provides="colour")


def test_one_name_per_space_old_name_still_loads():
    from tgnas.predictor import TrainConfig
    from tgnas.spaces.catalog import canonical_name
    assert get_space("nb301") is get_space("darts") and canonical_name("nb301") == "darts"
    cfg = TrainConfig(train_spaces=("nb101", "nb301"))  # as stored in older configs and checkpoints
    assert cfg.train_spaces == ("nb101", "darts")
    assert TrainConfig.from_dict({**cfg.to_dict(), "train_spaces": ["nb301"]}).train_spaces == ("darts",)


def test_data_split_seed_of_darts_is_unchanged_by_the_rename():
    import zlib

    from tgnas.predictor.train import _space_seed
    assert _space_seed(3, "darts") == [3, zlib.crc32(b"nb301")]
    assert _space_seed(3, "nb201") == [3, zlib.crc32(b"nb201")]
    assert _space_seed(3, "synthetic") == [3, zlib.crc32(b"synthetic")]


def test_a_space_folder_imports_on_its_own():
    """The package module ``tgnas.spaces`` imports nothing, so one space's folder imports
    without the catalog (and without the other spaces)."""
    import subprocess
    import sys
    code = ("import sys, tgnas.spaces.nb201; "
            "print(sorted(m for m in sys.modules if m.startswith('tgnas.spaces.') and m.count('.') == 2))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['tgnas.spaces.base', 'tgnas.spaces.nb201']"


# Comparisons with a space's name that are a protocol, not a per-space fact: which
# benchmark is held out for evaluation, what a TG-NAS+ rule or a study is defined on.
_ALLOWED_NAME_TESTS = {
    ("tgnas/experiments/common.py", "'nb201' in config.train_spaces"),  # NB201 labels must not leak
    ("tgnas/experiments/tgnas_plus/signals.py", "'nb101' not in pred.config.train_spaces"),  # the rule's source fit
    ("tgnas/experiments/tgnas_plus/study.py", "cfg.train_spaces != ('nb101',)"),      # the study trains on NB101 only
}


def test_no_code_branches_on_a_space_name():
    """Per-space facts live in the space folders: no ``space == "nb201"`` nor ``isinstance(s, NB201Space)``."""
    import ast
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    names = {*SPACE_NAMES, "nb301"}
    classes = {"NB101Space", "NB201Space", "DartsSpace"}
    found = []
    for path in sorted((root / "tgnas").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                items = [e for s in sides for e in (s.elts if isinstance(s, (ast.Tuple, ast.List, ast.Set)) else [s])]
                if names & {e.value for e in items if isinstance(e, ast.Constant) and isinstance(e.value, str)}:
                    found.append((rel, ast.unparse(node)))
            elif isinstance(node, ast.Call) and getattr(node.func, "id", None) == "isinstance" and len(node.args) == 2:
                if classes & {getattr(n, "id", getattr(n, "attr", None)) for n in ast.walk(node.args[1])}:
                    found.append((rel, ast.unparse(node)))
    assert set(found) - _ALLOWED_NAME_TESTS == set()
    assert len(found) >= 1  # the scan sees the allowed ones, so it would see new ones


# ----------------------------------------------------------------------------- a new space: one module + one line

@pytest.fixture
def toy(monkeypatch):
    from toy_space import TOY
    monkeypatch.setitem(catalog.SPACES, "toy", TOY)  # the one line a new space needs; undone after the test
    return get_space("toy")


def test_toy_space_contract_and_graphs(toy):
    from tgnas.graphs import graphset
    from tgnas.predictor.data import load_space_data
    assert get_space("toy").name == "toy" and "toy" in str(pytest.raises(KeyError, get_space, "x").value)
    arch = toy.sample(np.random.default_rng(0))
    assert toy.parse(toy.format(arch)) == arch and toy.mutate(arch, np.random.default_rng(1)) != arch
    gs = graphset(toy, "pruned")
    assert len(gs) == 64 and gs.max_nodes == 5
    data = load_space_data("toy")
    assert data.space == "toy" and data.labels.shape == (64,) and data.labels.max() > data.labels.min()


def test_toy_space_trains_scores_and_searches(toy, tmp_path):
    from tgnas.predictor import Predictor, TrainConfig, gcn_preset, train
    from tgnas.search.pruning import PruneConfig
    from tgnas.search.runner import run_search
    from tgnas.search.scorers import flops_scorer, predictor_scorer
    from toy_space import all_archs, toy_accuracy
    cfg = TrainConfig(train_spaces=("toy",), epochs=1, batch_size=16, embedding_model="onehot",
                      gcn=gcn_preset("upstream", hidden=8), val_fraction=0.25)
    train(cfg, tmp_path / "toy.pt", progress=False)
    pred = Predictor.load(tmp_path / "toy.pt")
    archs = all_archs()
    scores = pred.score([toy.format(a) for a in archs[:5]], space=toy)
    assert scores.shape == (5,) and np.all(np.isfinite(scores))
    np.testing.assert_allclose(pred.score(archs[:5], space=toy), scores)
    scorer = predictor_scorer(pred, toy)
    for algorithm in ("random", "evolve", "aging", "prune", "hybrid"):
        res = run_search(algorithm, toy, scorer, budget=12, seed=0, progress=False,
                         prune_config=PruneConfig(n_samples=4))
        assert res.space == "toy" and toy.validate(res.arch) == res.arch
        assert res.arch_str == toy.format(res.arch) and np.isfinite(res.score)
    # pruning with the true label finds the best cell (exact enumeration in the last rounds)
    best = max(archs, key=toy_accuracy)
    res = run_search("prune", toy, lambda a: np.array([toy_accuracy(x) for x in a]), seed=0, progress=False)
    assert res.arch == best
    with pytest.raises(NotImplementedError, match="'toy' has no 'build_net'"):
        flops_scorer(toy)([best])


# ----------------------------------------------------------------------------- space names stay in the folders

#: Modules outside ``tgnas/spaces/`` and the paper's experiments that may spell a space's name
#: in code (not only in docstrings), each for a stated reason.
_NAME_ALLOWED = {
    "tgnas/datafiles.py": "the data manifest: files on the data root live in folders named after benchmarks",
    "tgnas/published.py": "published numbers, keyed by the paper's own table rows",
    "tgnas/profiles.py": "params.yaml keys of the pipeline profiles",
    "tgnas/paths.py": "the default checkpoint's file name (models/tgnas_nb101.pt)",
    "tgnas/predictor/presets.py": "named training presets train on NB101, as the paper does",
    "tgnas/predictor/train.py": "defaults: the paper's training space and its held-out NB201 monitor",
    "tgnas/pretrained/__init__.py": "the shipped checkpoint's file name",
    "tgnas/train/config.py": "the default final-training space (the paper trains DARTS cells)",
    "tgnas/cli/train.py": "the flag of TrainConfig's monitor_nb201 field (the paper's held-out monitor)",
}


def _code_strings(tree) -> list[str]:
    """String constants of a module, docstrings excluded."""
    import ast
    docs = {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}
    return [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
            and id(n) not in docs]


def test_generic_modules_do_not_spell_space_names():
    """Outside ``tgnas/spaces/`` (the folders and the catalog) and the paper's experiments,
    code never names a space: no string constant that is a name (no white space: prose such
    as help texts, messages, docstrings and comments may mention spaces) holds ``nb101``,
    ``nb201``, ``darts`` or ``tnb101``, except in the modules of ``_NAME_ALLOWED``."""
    import ast
    import re
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    pattern = re.compile(r"nb101|nb201|nb301|darts|tnb101")
    found = set()
    for path in sorted((root / "tgnas").rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(("tgnas/spaces/", "tgnas/experiments/")) or rel in _NAME_ALLOWED:
            continue
        if any(pattern.search(s) and not any(c.isspace() for c in s) for s in _code_strings(ast.parse(path.read_text()))):
            found.add(rel)
    assert not found, f"modules that spell a space name in code: {sorted(found)}"
    # the scan sees names where they are
    assert any(pattern.search(s) for s in _code_strings(ast.parse((root / "tgnas/published.py").read_text())))
