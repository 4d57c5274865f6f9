"""The TransNAS-Bench-101 macro space (Duan et al., CVPR 2021): networks of 4 to 6 residual
layers (two ResNet basic blocks each) that keep or double the channels and keep or halve the
resolution, 3,256 in all, of which NAS-Bench-Suite-Zero's file labels 725 on seven tasks
(``class_scene`` first; labels rank within one task only). Everything about the space lives
in this folder: the architecture type and both text forms (:mod:`.arch`), the operator
descriptions (:mod:`.descriptions`), the PyTorch network (:mod:`.net`) and its closed-form
size (:mod:`.size`), the benchmark loader (:mod:`.benchmark`), and :data:`SPACE`, the
:class:`~tgnas.spaces.base.Space` that exposes them.
"""

from tgnas.spaces.tnb101_macro.space import TNB101MacroSpace

SPACE = TNB101MacroSpace()

__all__ = ["SPACE", "TNB101MacroSpace"]
