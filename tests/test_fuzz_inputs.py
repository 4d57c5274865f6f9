"""Fuzzing the three architecture text forms and the CLI with mutated inputs (Hypothesis).

Every input either parses or raises ``ValueError`` (the documented error), quickly, with a
short message and bounded memory. The default run tries a few thousand inputs in seconds;
``-m slow`` tries many more.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tgnas.spaces.catalog import get_space

SPACES = ("nb101", "nb201", "darts")
#: Pieces a careless or hostile user might type into an architecture string.
PIECES = ("(", ")", "[", "]", ",", "'", '"', "+", "|", "~", "=", ".", "/", " ", "0", "1", "2", "9", "-1",
          "range(0, 10**12)", "range(2, 6)", "1+" * 50, "[" * 40, "10**9", "None", "Genotype(", "normal=",
          "reduce_concat=", "nor_conv_3x3", "sep_conv_3x3", "input", "output", "conv3x3-bn-relu", "\x00", "é")


def _seeds(space: str) -> list[str]:
    sp = get_space(space)
    rng = np.random.default_rng(0)
    return [sp.format(sp.sample(rng)) for _ in range(5)]


SEEDS = {s: _seeds(s) for s in SPACES}


@st.composite
def mutated(draw, space: str) -> str:
    """A valid text of ``space`` with a few random edits (insert, delete, duplicate, replace)."""
    text = draw(st.sampled_from(SEEDS[space]))
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(text)))
        j = draw(st.integers(i, min(len(text), i + 40)))
        kind = draw(st.sampled_from(("insert", "delete", "duplicate", "replace", "text")))
        if kind == "insert":
            text = text[:i] + draw(st.sampled_from(PIECES)) + text[i:]
        elif kind == "delete":
            text = text[:i] + text[j:]
        elif kind == "duplicate":
            text = text[:j] + text[i:j] * draw(st.integers(1, 50)) + text[j:]
        elif kind == "replace":
            text = text[:i] + draw(st.sampled_from(PIECES)) + text[j:]
        else:
            text = text[:i] + draw(st.text(max_size=20)) + text[j:]
    return text


def _check_parse(space: str, text: str) -> None:
    """Parse ``text``: a result, or ValueError; within 1 s, a 1,000-character message, 50 MB."""
    sp = get_space(space)
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        arch = sp.parse(text)
    except ValueError as err:
        assert len(str(err)) < 1_000, (space, text[:100], len(str(err)))
    else:
        assert sp.parse(sp.format(arch)) == arch  # what parses is valid and round-trips
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert time.perf_counter() - t0 < 1.0, (space, text[:100])
    assert peak < 50e6, (space, text[:100], peak)


def _fuzz_settings(n: int):
    return settings(max_examples=n, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.mark.parametrize("space", SPACES)
def test_mutated_texts_parse_or_raise_valueerror(space):
    @_fuzz_settings(600)
    @given(mutated(space))
    def run(text):
        _check_parse(space, text)

    run()


@pytest.mark.parametrize("space", SPACES)
def test_arbitrary_text_parses_or_raises_valueerror(space):
    @_fuzz_settings(200)
    @given(st.text(max_size=300))
    def run(text):
        _check_parse(space, text)

    run()


@pytest.mark.slow
@pytest.mark.parametrize("space", SPACES)
def test_mutated_texts_many(space):
    @_fuzz_settings(30_000)
    @given(st.one_of(mutated(space), st.text(max_size=5_000)))
    def run(text):
        _check_parse(space, text)

    run()


# --------------------------------------------------------------------------- the CLI

@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A one-epoch predictor trained on random NB201 cells with built-in one-hot features."""
    from tgnas.graphs import GraphSet
    from tgnas.predictor import TrainConfig, gcn_preset, train
    from tgnas.predictor.data import SpaceData

    sp = get_space("nb201")
    rng = np.random.default_rng(1)
    graphs = [sp.to_graph(sp.sample(rng)) for _ in range(60)]
    y = rng.normal(size=60)
    cfg = TrainConfig(train_spaces=("nb201",), epochs=1, batch_size=32, embedding_model="onehot",
                      gcn=gcn_preset("upstream", hidden=8))
    out = tmp_path_factory.mktemp("fuzz") / "m.pt"
    train(cfg, out, data=[SpaceData("nb201", GraphSet.from_graphs(graphs), y)], progress=False)
    return out


def _cli_case(checkpoint, capsys, space: str, text: str) -> None:
    from tgnas.cli import main

    t0 = time.perf_counter()
    try:
        rc = main(["score", "--checkpoint", str(checkpoint), "--space", space, "--arch", text, "--device", "cpu"])
    except SystemExit as ex:  # argparse's usage error (e.g. an --arch value starting with '-')
        err = capsys.readouterr().err
        assert ex.code == 2 and err.strip().splitlines()[-1].startswith("tgnas score: error: "), err[-300:]
        return
    err = capsys.readouterr().err
    assert time.perf_counter() - t0 < 5.0
    if rc == 2:
        assert err.startswith("tgnas score: error: ") and err.count("\n") == 1 and len(err) < 1_000, err[:300]
    else:
        assert rc == 0 and err == "", (rc, err[:300])


def _cli_cases(checkpoint, capsys, space: str, examples: int) -> None:
    """``examples`` mutated architecture texts of ``space`` through ``tgnas score`` (derandomised)."""
    @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(mutated(space))
    def run(text):
        _cli_case(checkpoint, capsys, space, text)

    run()


@pytest.mark.parametrize("space", SPACES)
def test_cli_score_with_mutated_archs(checkpoint, capsys, space):
    _cli_cases(checkpoint, capsys, space, 40)


@pytest.mark.slow
@pytest.mark.parametrize("space", SPACES)
def test_cli_score_with_mutated_archs_many(checkpoint, capsys, space):
    _cli_cases(checkpoint, capsys, space, 1_000)
