"""English descriptions of every operator (graph-node label) of NB101, NB201 and DARTS.

This is the "T" of TG-NAS: an operator becomes a vector by embedding one of these sentences
(:mod:`tgnas.embeddings`), so an operator the predictor never saw still gets a meaningful
feature vector -- and a user can describe a brand-new operator in free text.

Three lengths, as in the paper: ``short`` (a few words), ``medium`` (the layers in order,
terse) and ``long`` (a full sentence).

Review against the description sets of the authors' code:

* ``short``: identical to upstream for NB101 and NB201. The DARTS short set is upstream's
  except that "3x3"/"5x5" are written "3 by 3"/"5 by 5" like the NB101/NB201 sets (the
  sentence model tokenises the two notations differently, and the same label -- e.g.
  ``avg_pool_3x3``, "Average pooling 3 by 3" in upstream's NB201 set but "Average pooling
  3x3" in its DARTS set -- must get one description), and the first letter is capitalised
  (MiniLM/MPNet tokenisers lower-case their input, so case changes nothing).
* ``medium``: upstream's NB201 set described ``avg_pool_3x3`` as "Max pooling"; fixed.
  Upstream used "Convolution ... kernel, Batchnorm, ReLU" for NB201's convolutions too,
  but NB201's ``nor_conv`` ops are ReLU -> Conv -> BN; the order is fixed here. "kernal"
  typos fixed. Upstream's "Doing nothing" for ``none`` reads like an identity; the op
  outputs zeros (the edge is cut), which is what the medium and long texts now say.
* ``long``: typos fixed ("A average", "that adding", "a kernel size 3 by 3",
  "rectified linear layer" -> "rectified linear unit"); NB201's conv order fixed as above.
* Upstream has no medium/long DARTS sets and gives both DARTS cell inputs the same
  "Input" embedding; here each cell role has its own text (cell k-2 vs. k-1 input, normal
  vs. reduction cell), while the shared labels ``input``/``output`` keep one description
  across NB101 and NB201.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tgnas.errors import shorten, unusual_character

from tgnas.spaces.catalog import PAPER_SPACES, SPACES

#: The three description lengths, shortest first.
LENGTHS: tuple[str, ...] = ("short", "medium", "long")

#: Graph-node labels of each catalog space with a fixed vocabulary (inputs/outputs included),
#: as its graphs emit them (each space's ``graph_ops``).
SPACE_OPS: dict[str, tuple[str, ...]] = {name: tuple(sp.graph_ops) for name, sp in SPACES.items() if sp.graph_ops}

#: Every label of every catalog space, once, in catalog order.
ALL_OPS: tuple[str, ...] = tuple(dict.fromkeys(op for ops in SPACE_OPS.values() for op in ops))

#: The labels of the spaces the paper studies (NB101, NB201, DARTS), once, in that order: the
#: one-hot vocabulary and the PCA fit set (:mod:`tgnas.embeddings`), and notebook 01's table.
PAPER_OPS: tuple[str, ...] = tuple(dict.fromkeys(op for name in PAPER_SPACES for op in SPACE_OPS[name]))


def _conv_bn_relu(k: int) -> dict[str, str]:
    # NAS-Bench-101 convolutions: Conv -> BN -> ReLU.
    return {
        "short": f"Convolution {k} by {k}",
        "medium": f"Convolution {k} by {k} kernel, Batchnorm, ReLU",
        "long": (f"A two-dimensional convolutional operator with a kernel size of {k} by {k} is "
                 "applied, succeeded by a batch normalization layer, and followed by a rectified "
                 "linear unit"),
    }


def _relu_conv_bn(k: int) -> dict[str, str]:
    # NAS-Bench-201 "nor_conv": ReLU -> Conv -> BN (short text as upstream).
    return {
        "short": f"Convolution {k} by {k}",
        "medium": f"ReLU, Convolution {k} by {k} kernel, Batchnorm",
        "long": (f"A rectified linear unit is applied, followed by a two-dimensional convolutional "
                 f"operator with a kernel size of {k} by {k} and a batch normalization layer"),
    }


def _sep_conv(k: int) -> dict[str, str]:
    # DARTS SepConv: (ReLU -> depth-wise kxk -> point-wise 1x1 -> BN) applied twice.
    return {
        "short": f"Depth-wise separable convolution {k} by {k}",
        "medium": (f"ReLU, depth-wise convolution {k} by {k}, point-wise convolution 1 by 1, "
                   "Batchnorm, applied twice"),
        "long": (f"A depth-wise separable convolution block applied twice in a row: each time a "
                 f"rectified linear unit, a depth-wise convolution with a kernel size of {k} by "
                 f"{k}, a point-wise convolution with a kernel size of 1 by 1, and a batch "
                 "normalization layer"),
    }


def _dil_conv(k: int) -> dict[str, str]:
    # DARTS DilConv: ReLU -> depth-wise kxk with dilation 2 -> point-wise 1x1 -> BN, once.
    return {
        "short": f"Dilated convolution {k} by {k}",
        "medium": (f"ReLU, dilated depth-wise convolution {k} by {k} with dilation 2, point-wise "
                   "convolution 1 by 1, Batchnorm"),
        "long": (f"A dilated depth-wise separable convolution: a rectified linear unit, a "
                 f"depth-wise convolution with a kernel size of {k} by {k} and a dilation rate of "
                 "2, a point-wise convolution with a kernel size of 1 by 1, and a batch "
                 "normalization layer"),
    }


def _max_pool() -> dict[str, str]:
    # NB101 "maxpool3x3" and DARTS "max_pool_3x3" are the same operator (stride 1 in a cell).
    return {
        "short": "Max pooling 3 by 3",
        "medium": "Max pooling 3 by 3 kernel",
        "long": "A max pooling operator with a kernel size of 3 by 3",
    }


def _cell_input(cell: str, prev: str, source: str) -> dict[str, str]:
    # DARTS cell inputs: node 0 gets the output of cell k-2, node 1 that of cell k-1.
    long_cell = ("a reduction cell, which halves the spatial resolution"
                 if cell == "Reduction cell" else "a normal cell")
    return {
        "short": f"{cell} input from {prev}",
        "medium": f"{cell} input, output of {source}",
        "long": (f"An input node of {long_cell}, receiving the feature map produced by {source} "
                 "in the network"),
    }


#: op label -> {"short", "medium", "long"} description.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    # --- shared cell roles (NB101 and NB201; "output" also DARTS's normal cell) ---
    "input": {
        "short": "Input",
        "medium": "Input of the cell",
        "long": "The input node of the cell, which receives the feature map produced by the "
                "previous cell",
    },
    "output": {
        "short": "Output",
        "medium": "Output of the cell",
        "long": "The output node of the cell, which combines the feature maps of its incoming "
                "nodes and passes the result to the next cell",
    },
    # --- NAS-Bench-101 ---
    "conv3x3-bn-relu": _conv_bn_relu(3),
    "conv1x1-bn-relu": _conv_bn_relu(1),
    "maxpool3x3": _max_pool(),
    # --- NAS-Bench-201 (none, skip_connect, avg_pool_3x3 are shared with DARTS) ---
    "none": {
        "short": "None",
        "medium": "Zero operation, no connection",
        "long": "A zero operator that outputs zeros, so the edge carries no information and the "
                "connection is removed",
    },
    "skip_connect": {
        # In a DARTS reduction cell the same label is a stride-2 factorized reduction; the
        # text stays the identity one so that the label keeps one description across spaces.
        "short": "Residual connection",
        "medium": "Identity mapping to the next layer",
        "long": "A residual connection operator that adds an identity mapping of its input to "
                "the next layer, without any parameters",
    },
    "nor_conv_1x1": _relu_conv_bn(1),
    "nor_conv_3x3": _relu_conv_bn(3),
    "avg_pool_3x3": {
        "short": "Average pooling 3 by 3",
        "medium": "Average pooling 3 by 3 kernel",
        "long": "An average pooling operator with a kernel size of 3 by 3",
    },
    # --- DARTS ---
    "input_0": _cell_input("Cell", "two cells back", "the cell two positions earlier"),
    "input_1": _cell_input("Cell", "the previous cell", "the immediately preceding cell"),
    "reduce_input_0": _cell_input("Reduction cell", "two cells back",
                                  "the cell two positions earlier"),
    "reduce_input_1": _cell_input("Reduction cell", "the previous cell",
                                  "the immediately preceding cell"),
    "reduce_output": {
        "short": "Reduction cell output",
        "medium": "Output of the reduction cell, concatenation of its intermediate nodes",
        "long": "The output node of a reduction cell, concatenating the feature maps of its "
                "intermediate nodes along the channel dimension at half the spatial resolution",
    },
    "max_pool_3x3": _max_pool(),
    "sep_conv_3x3": _sep_conv(3),
    "sep_conv_5x5": _sep_conv(5),
    "dil_conv_3x3": _dil_conv(3),
    "dil_conv_5x5": _dil_conv(5),
}


def _add_space_descriptions(table: dict[str, dict[str, str]]) -> None:
    """Add the labels each space describes itself (``space.descriptions``); a label that two
    places describe differently is a bug (a label has one meaning across spaces)."""
    for name, sp in SPACES.items():
        for op, texts in sp.descriptions.items():
            if op in table and dict(table[op]) != dict(texts):
                raise ValueError(f"space {name!r} describes operator {op!r} differently from the table")
            if set(texts) != set(LENGTHS):
                raise ValueError(f"space {name!r} describes operator {op!r} in {sorted(texts)}; expected {list(LENGTHS)}")
            table[op] = dict(texts)


def _check_complete(table: dict[str, dict[str, str]]) -> None:
    missing = sorted(set(ALL_OPS) - set(table))
    if missing:
        raise ValueError(f"operators of the catalog's spaces without a description: {missing}")


_add_space_descriptions(DESCRIPTIONS)
_check_complete(DESCRIPTIONS)


def describe(op: str, length: str = "short", extra: Mapping[str, str] | None = None) -> str:
    """Return the description of operator ``op`` at ``length``.

    Args:
        op: a graph-node label (a key of :data:`DESCRIPTIONS`), or any name given in ``extra``.
        length: one of :data:`LENGTHS`; ignored for ops described by ``extra``.
        extra: user descriptions ``{op: free text}``; they win over the table, so a new
            operator needs only a sentence, e.g.
            ``{"my_op": "Depth-wise convolution 7 by 7 followed by layer normalisation"}``.

    Returns:
        The text, stripped of surrounding whitespace.

    Raises:
        ValueError: unknown ``length``, or an empty/blank/non-string description.
        KeyError: ``op`` is neither in the table nor in ``extra``.
    """
    if length not in LENGTHS:
        raise ValueError(f"unknown description length {length!r}; expected one of {list(LENGTHS)}")
    if extra is not None and op in extra:
        text = extra[op]
        source = "the description given"
    elif op in DESCRIPTIONS:
        text = DESCRIPTIONS[op][length]
        source = "the built-in table"
    else:
        raise KeyError(
            f"no description for operator {op!r}{unusual_character(op)}; known operators: {sorted(DESCRIPTIONS)}. "
            f"For a new operator pass a free-text description, e.g. "
            f"descriptions={{{op!r}: 'Depth-wise convolution 7 by 7 followed by layer normalisation'}} "
            f"(on the command line: --describe {op}=TEXT)")
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"description of operator {op!r} from {source} is empty or not a string "
                         f"({text!r}); expected a non-blank English sentence")
    return text.strip()


def parse_op_texts(items: Sequence[str] | None, what: str = "--describe") -> dict[str, str]:
    """``["op=free text", ...]`` -> ``{"op": "free text"}`` (the ``--describe OP=TEXT`` form).

    The operator name is taken as written: one with spaces around it (``' nor_conv_3x3 =...'``)
    is an error rather than silently normalised, as is an empty name or text or a name given
    twice.
    """
    out: dict[str, str] = {}
    for item in items or ():
        op, sep, text = item.partition("=")
        shown = shorten(item)
        if not sep or not op or not text.strip():
            raise ValueError(f"{what} expects OP=TEXT with a non-empty operator name and text, got {shown}")
        if op != op.strip() or any(c.isspace() for c in op):
            raise ValueError(f"{what}: operator name {shorten(op)} contains spaces; write it as the "
                             f"operator is named, e.g. 'nor_conv_3x3=TEXT'")
        if op in out:
            raise ValueError(f"{what}: operator {op!r} described twice")
        out[op] = text
    return out


def describe_all(ops: tuple[str, ...] | list[str], length: str = "short",
                 extra: Mapping[str, str] | None = None) -> list[str]:
    """:func:`describe` for each op, in order."""
    return [describe(op, length, extra) for op in ops]
