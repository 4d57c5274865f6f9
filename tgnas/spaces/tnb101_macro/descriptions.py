"""English descriptions of the macro space's layer labels, in the three lengths of
:mod:`tgnas.descriptions` (``short``, ``medium``, ``long``).

Each label is one whole layer: two ResNet basic blocks, each ``ReLU, Conv 3x3, BN`` twice
plus a residual shortcut (a 1 by 1 convolution and batch norm when the block changes the
resolution or the width). The shared labels ``input`` and ``output`` are described
centrally and keep their meaning (here: the stem's output, and what the head pools).
"""

from __future__ import annotations


def _layer(resolution: str, channels: str, res_long: str, ch_long: str, projected: bool) -> dict[str, str]:
    shortcut_medium = ("projection shortcut 1 by 1 convolution and Batchnorm" if projected
                       else "identity shortcut")
    shortcut_long = ("in the first block a 1 by 1 convolution with batch normalization on the shortcut "
                     "matches the shape of the input to the output" if projected
                     else "both shortcuts are identity mappings of the input")
    return {
        "short": f"Residual block, {resolution}, {channels}",
        "medium": (f"Two ResNet basic blocks, {resolution}, {channels}: ReLU, Convolution 3 by 3 kernel, "
                   f"Batchnorm, twice, plus {shortcut_medium}"),
        "long": (f"A residual layer of two ResNet basic blocks that {res_long} and {ch_long}; each block "
                 "applies a rectified linear unit, a two-dimensional convolution with a kernel size of 3 by 3 "
                 "and a batch normalization layer twice in a row, and adds its input through a residual "
                 f"connection; {shortcut_long}"),
    }


#: label -> {"short", "medium", "long"} for every layer label of the space.
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "tnb_block": _layer("same resolution", "same channels",
                        "keeps the spatial resolution", "keeps the number of channels", projected=False),
    "tnb_block_widen": _layer("same resolution", "double channels",
                              "keeps the spatial resolution", "doubles the number of channels", projected=True),
    "tnb_block_down": _layer("half resolution", "same channels",
                             "halves the spatial resolution with a stride of 2",
                             "keeps the number of channels", projected=True),
    "tnb_block_down_widen": _layer("half resolution", "double channels",
                                   "halves the spatial resolution with a stride of 2",
                                   "doubles the number of channels", projected=True),
}
