"""A test-only search space: proof that a space is one module plus one catalog line.

A toy cell is a chain ``input -> a -> b -> c -> output`` with one op per position out of four
(4^3 = 64 cells). Its "benchmark" labels are synthetic (convolutions are good, pooling is
bad). Everything the package needs from a space is here; ``TOY`` is the object a test adds to
the catalog (``SPACES["toy"] = TOY``).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tgnas.graph_forms import check_form, to_form
from tgnas.graphs import GraphSet
from tgnas.search.encoding import EdgeOpEncoding
from tgnas.search.pruning import EdgeOpSupernet
from tgnas.cellgraph import CellGraph
from tgnas.spaces.base import Space

#: Op choices (labels the operator description table knows, so every embedding works).
TOY_OPS: tuple[str, ...] = ("nor_conv_3x3", "nor_conv_1x1", "avg_pool_3x3", "skip_connect")
POSITIONS = 3


@dataclass(frozen=True)
class ToyArch:
    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.ops) != POSITIONS or any(op not in TOY_OPS for op in self.ops):
            raise ValueError(f"a toy cell is {POSITIONS} ops out of {TOY_OPS}, got {self.ops!r}")


class ToyForm(Space):
    name = "toy"
    ops = TOY_OPS
    graph_ops = ("input", *TOY_OPS, "output")

    def parse(self, text: str) -> ToyArch:
        return ToyArch(tuple(text.split("-")))

    def format(self, arch: ToyArch) -> str:
        return "-".join(self.validate(arch).ops)

    def validate(self, arch: ToyArch) -> ToyArch:
        if not isinstance(arch, ToyArch):
            raise ValueError(f"expected a ToyArch, got {arch!r}")
        return arch

    def to_graph(self, arch: ToyArch) -> CellGraph:
        n = POSITIONS + 2
        return CellGraph(np.eye(n, k=1, dtype=np.uint8), ("input", *self.validate(arch).ops, "output"))

    def sample(self, rng: np.random.Generator) -> ToyArch:
        return ToyArch(tuple(TOY_OPS[i] for i in rng.integers(len(TOY_OPS), size=POSITIONS)))

    def mutate(self, arch: ToyArch, rng: np.random.Generator) -> ToyArch:
        k = int(rng.integers(POSITIONS))
        others = [op for op in TOY_OPS if op != arch.ops[k]]
        ops = list(arch.ops)
        ops[k] = others[int(rng.integers(len(others)))]
        return ToyArch(tuple(ops))


def all_archs() -> list[ToyArch]:
    return [ToyArch(ops) for ops in itertools.product(TOY_OPS, repeat=POSITIONS)]


def toy_accuracy(arch: ToyArch) -> float:
    """Synthetic label: 3x3 convs best, then 1x1, pooling worst (ties broken by position)."""
    value = {"nor_conv_3x3": 3.0, "nor_conv_1x1": 2.0, "skip_connect": 1.0, "avg_pool_3x3": 0.0}
    return sum(value[op] * (1.0 + 0.1 * k) for k, op in enumerate(arch.ops))


def cell_graphs(form: str = "full") -> GraphSet:
    space = ToyForm()
    return GraphSet.from_graphs([to_form(space.to_graph(a), check_form(form)) for a in all_archs()])


def cell_ids() -> pd.DataFrame:
    return pd.DataFrame({"toy_index": range(len(all_archs())), "arch": [ToyForm().format(a) for a in all_archs()]})


def labelled_cells(form: str = "full", surrogate_samples: int = 0, seed: int = 0):
    return cell_graphs(form), np.array([toy_accuracy(a) for a in all_archs()])


class ToyEncoding(EdgeOpEncoding):
    dim = POSITIONS
    ops = TOY_OPS

    def make(self, ops: tuple[str, ...]) -> ToyArch:
        return ToyArch(ops)


class ToySupernet(EdgeOpSupernet):
    def __init__(self) -> None:
        super().__init__([f"position {k}" for k in range(POSITIONS)], TOY_OPS, ToyArch)


class ToySpace(ToyForm):
    """The toy space with its benchmark and search moves (no network: no FLOPs, no TG-NAS+)."""

    enumerable = True

    def cells(self, form: str = "full") -> GraphSet:
        return cell_graphs(form)

    def cell_ids(self) -> pd.DataFrame:
        return cell_ids()

    def labelled(self, form: str = "full", surrogate_samples: int = 0, seed: int = 0):
        return labelled_cells(form, surrogate_samples, seed)

    def encoding(self) -> ToyEncoding:
        return ToyEncoding(self)

    def supernet(self) -> ToySupernet:
        return ToySupernet()


TOY = ToySpace()
