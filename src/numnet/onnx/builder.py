"""Where graph code adds nodes: the :class:`Builder` interface and a plain ONNX graph.

The graph code (:mod:`.activations`, :mod:`.graph`) writes to a
:class:`Builder`: a :class:`Graph` for :func:`numnet.onnx.export`, or
skl2onnx's scope and container (:mod:`.converter`) inside a pipeline.
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np
import onnx
from onnx import helper, numpy_helper

OPSET = 17


class Builder(Protocol):
    """Adds constants and nodes to a graph under unique names."""

    def unique(self, hint: str) -> str: ...

    def const(self, value: np.ndarray, hint: str) -> str: ...

    def node(self, op: str, inputs: list[str], hint: str, out: str | None = None,
             **attrs: Any) -> str: ...


class Graph:
    """Nodes and initializers of one ONNX graph, with unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._names: set[str] = set()

    def unique(self, hint: str) -> str:
        name, i = hint, 1
        while name in self._names:
            name, i = f"{hint}_{i}", i + 1
        self._names.add(name)
        return name

    def const(self, value: np.ndarray, hint: str) -> str:
        name = self.unique(hint)
        value = np.asarray(value)
        if value.dtype.kind == "U":
            value = value.astype(object)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], hint: str, out: str | None = None,
             **attrs: Any) -> str:
        out = out if out is not None else self.unique(hint)
        self.nodes.append(helper.make_node(op, inputs, [out], name=self.unique(f"{hint}_{op}"),
                                           **attrs))
        return out


def scalar(g: Builder, value: float, dtype: np.dtype, hint: str) -> str:
    """A 0-d constant of ``dtype``, so that arithmetic stays in the graph's dtype."""
    return g.const(np.array(value, dtype=dtype), hint)
