"""The space registry and the contract every space fulfils."""

from __future__ import annotations

import numpy as np
import pytest

from tgnas.spaces import SPACE_NAMES, CellGraph, SearchSpace, get_space


def test_unknown_space_lists_valid_names():
    with pytest.raises(KeyError, match="nb101.*nb201.*darts"):
        get_space("nb999")


@pytest.mark.parametrize("name", SPACE_NAMES)
def test_space_contract(name):
    space = get_space(name)
    assert isinstance(space, SearchSpace) and space.name == name
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
