"""The operator description table and :func:`tgnas.descriptions.describe` (no model needed)."""

from __future__ import annotations

import re

import pytest

from tgnas.descriptions import ALL_OPS, PAPER_OPS, DESCRIPTIONS, LENGTHS, SPACE_OPS, describe, describe_all

# Upstream's short sets (authors' code), which the table keeps for NB101/NB201.
UPSTREAM_SHORT = {
    "input": "Input", "conv3x3-bn-relu": "Convolution 3 by 3", "conv1x1-bn-relu": "Convolution 1 by 1",
    "maxpool3x3": "Max pooling 3 by 3", "output": "Output", "none": "None",
    "skip_connect": "Residual connection", "nor_conv_3x3": "Convolution 3 by 3",
    "nor_conv_1x1": "Convolution 1 by 1", "avg_pool_3x3": "Average pooling 3 by 3",
}


def test_space_ops_are_the_fixed_vocabulary():
    assert SPACE_OPS["nb101"] == ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output")
    assert set(SPACE_OPS["nb201"]) == {"input", "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3",
                                       "avg_pool_3x3", "output"}
    assert set(SPACE_OPS["darts"]) == {
        "input_0", "input_1", "output", "reduce_input_0", "reduce_input_1", "reduce_output", "none",
        "max_pool_3x3", "avg_pool_3x3", "skip_connect", "sep_conv_3x3", "sep_conv_5x5",
        "dil_conv_3x3", "dil_conv_5x5"}
    # 5 + 5 new in NB201 + 10 new in DARTS; shared labels counted once.
    assert len(PAPER_OPS) == len(set(PAPER_OPS)) == 20
    assert PAPER_OPS[:5] == SPACE_OPS["nb101"]


@pytest.mark.parametrize("space", ["nb101", "nb201", "darts"])
def test_space_ops_match_the_space_graph_labels(space):
    from tgnas.spaces.catalog import get_space

    graph_ops = getattr(get_space(space), "graph_ops", None)
    if graph_ops is None:
        pytest.skip(f"{space} space does not expose graph_ops")
    assert set(graph_ops) == set(SPACE_OPS[space])


def test_every_op_has_three_clean_descriptions():
    assert set(DESCRIPTIONS) == set(ALL_OPS) > set(PAPER_OPS)
    for op, d in DESCRIPTIONS.items():
        assert tuple(d) == LENGTHS, op
        for length, text in d.items():
            assert text == text.strip() and text, (op, length)
            assert "  " not in text and "\n" not in text, (op, length)
            # upstream typos must not come back
            assert not re.search(r"kernal|\bA average\b|that adding|kernel size \d", text), (op, length)
        # lengths grow (in words) from short to long
        words = [len(d[k].split()) for k in LENGTHS]
        assert words[0] <= words[1] <= words[2], (op, words)


def test_short_set_matches_upstream_where_upstream_is_right():
    for op, text in UPSTREAM_SHORT.items():
        assert DESCRIPTIONS[op]["short"] == text, op
    # DARTS short: upstream's words, with "3x3" written "3 by 3" like the other spaces
    assert DESCRIPTIONS["sep_conv_5x5"]["short"] == "Depth-wise separable convolution 5 by 5"
    assert DESCRIPTIONS["dil_conv_3x3"]["short"] == "Dilated convolution 3 by 3"
    assert DESCRIPTIONS["max_pool_3x3"]["short"] == "Max pooling 3 by 3"


def test_upstream_mistakes_are_corrected():
    # avg-pool was described as max-pool in upstream's medium NB201 set
    for length in LENGTHS:
        assert "average pooling" in DESCRIPTIONS["avg_pool_3x3"][length].lower()
        assert "max" not in DESCRIPTIONS["avg_pool_3x3"][length].lower()
    # NB201 convs are ReLU -> Conv -> BN, NB101 convs Conv -> BN -> ReLU
    assert DESCRIPTIONS["nor_conv_3x3"]["medium"].startswith("ReLU, Convolution 3 by 3")
    assert DESCRIPTIONS["conv3x3-bn-relu"]["medium"] == "Convolution 3 by 3 kernel, Batchnorm, ReLU"
    assert DESCRIPTIONS["nor_conv_1x1"]["long"].startswith("A rectified linear unit is applied")


def test_darts_ops_are_described_as_darts_implements_them():
    for k in (3, 5):
        sep, dil = DESCRIPTIONS[f"sep_conv_{k}x{k}"], DESCRIPTIONS[f"dil_conv_{k}x{k}"]
        assert "twice" in sep["medium"] and "twice" in sep["long"]
        assert f"depth-wise convolution {k} by {k}" in sep["medium"]
        assert "point-wise" in sep["long"] and "batch normalization" in sep["long"]
        assert "dilation 2" in dil["medium"] and "dilation rate of 2" in dil["long"]
        assert "twice" not in dil["long"]


def test_cell_roles_are_distinguishable():
    roles = ["input", "output", "input_0", "input_1", "reduce_input_0", "reduce_input_1", "reduce_output"]
    for length in LENGTHS:
        texts = [DESCRIPTIONS[r][length] for r in roles]
        assert len(set(texts)) == len(roles), length
    assert "Reduction cell" in DESCRIPTIONS["reduce_input_1"]["short"]
    # the same operator in two spaces has the same text
    assert DESCRIPTIONS["maxpool3x3"] == DESCRIPTIONS["max_pool_3x3"]


def test_describe_table_and_free_text():
    assert describe("nor_conv_3x3") == "Convolution 3 by 3"
    assert describe("avg_pool_3x3", "medium") == "Average pooling 3 by 3 kernel"
    extra = {"my_op": "  Depth-wise convolution 7 by 7 followed by layer normalisation "}
    assert describe("my_op", "long", extra) == "Depth-wise convolution 7 by 7 followed by layer normalisation"
    # user text wins over the table
    assert describe("none", "short", {"none": "Zero"}) == "Zero"
    assert describe_all(["input", "my_op"], "short", extra) == [
        "Input", "Depth-wise convolution 7 by 7 followed by layer normalisation"]


def test_describe_errors():
    with pytest.raises(KeyError, match=r"no description for operator 'conv7x7'.*descriptions=\{'conv7x7'"):
        describe("conv7x7")
    with pytest.raises(KeyError, match="sep_conv_3x3"):  # lists the known ops
        describe("conv7x7")
    with pytest.raises(ValueError, match="unknown description length 'tiny'"):
        describe("input", "tiny")
    with pytest.raises(ValueError, match="operator 'my_op'.*empty"):
        describe("my_op", extra={"my_op": "   "})
    with pytest.raises(ValueError, match="empty or not a string"):
        describe("my_op", extra={"my_op": None})
