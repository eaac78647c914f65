"""The nodes of an exported model: its layers, its labels and its preprocessing.

Each function adds nodes to a :class:`~.builder.Builder` and returns the name
of what it computed, so that :func:`numnet.onnx.to_onnx_model` and the
skl2onnx converter build the same graph.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from onnx import TensorProto

from numnet import MLP

from .activations import ACTIVATIONS
from .builder import Builder, scalar


def check_exportable(net: MLP) -> None:
    """Raise ValueError when one of ``net``'s activations has no ONNX form."""
    unknown = sorted({a.name for a in net.activation_fns} - set(ACTIVATIONS))
    if unknown:
        raise ValueError(f"cannot export activation(s) {unknown} to ONNX: numnet.onnx knows "
                         f"{sorted(ACTIVATIONS)}; give yours its ONNX form first, "
                         f"numnet.onnx.ACTIVATIONS[{unknown[0]!r}] = build, with build(graph, Z, "
                         f"dtype, hint) returning the name of its output (see "
                         f"numnet.onnx.activations)")


def network(g: Builder, net: MLP, X: str, dtype: np.dtype, out: str | None = None) -> str:
    """Emit ``net``'s forward pass on input ``X``; returns the output's name."""
    check_exportable(net)
    A = X
    last = net.num_layers - 1
    for i, (W, act) in enumerate(zip(net.weights, net.activation_fns, strict=True)):
        W_name = g.const(W.astype(dtype), f"W{i}")
        if net.biases is not None:
            b_name = g.const(net.biases[i].astype(dtype), f"b{i}")
            Z = g.node("Gemm", [A, W_name, b_name], f"Z{i}")
        else:
            Z = g.node("MatMul", [A, W_name], f"Z{i}")
        A = ACTIVATIONS[act.name](g, Z, dtype, f"A{i}")
        if i == last and out is not None:
            A = g.node("Identity", [A], "output", out=out)
    return A


def labels(g: Builder, P: str, classes: Any, kind: str, dtype: np.dtype,
           label_out: str | None, proba_out: str | None) -> tuple[str, str]:
    """Labels and probabilities from the network's output ``P``.

    ``kind`` is ``"multiclass"`` (softmax: argmax), ``"binary"`` (one sigmoid
    unit ``p``: probabilities ``[1 - p, p]``, label ``p > 0.5``) or
    ``"multilabel"`` (sigmoids: 0/1 per label, ``p > 0.5``).
    """
    if kind == "multilabel":
        probabilities = g.node("Identity", [P], "probabilities", out=proba_out)
        half = scalar(g, 0.5, dtype, "half")
        label = g.node("Cast", [g.node("Greater", [P, half], "above")], "label",
                       out=label_out, to=TensorProto.INT64)
        return label, probabilities
    if kind == "binary":
        one_minus = g.node("Sub", [scalar(g, 1.0, dtype, "one"), P], "one_minus_p")
        probabilities = g.node("Concat", [one_minus, P], "probabilities", out=proba_out, axis=1)
        half = scalar(g, 0.5, dtype, "half")
        index = g.node("Cast", [g.node("Greater", [P, half], "above")], "index",
                       to=TensorProto.INT64)
        index = g.node("Reshape", [index, g.const(np.array([-1], np.int64), "flat")], "index")
    else:
        probabilities = g.node("Identity", [P], "probabilities", out=proba_out)
        index = g.node("ArgMax", [P], "index", axis=1, keepdims=0)
    label = g.node("Gather", [g.const(onnx_classes(classes), "classes"), index], "label",
                   out=label_out, axis=0)
    return label, probabilities


def onnx_classes(classes: Any) -> np.ndarray:
    """Class labels as an int64 or string array (what ONNX tensors can hold)."""
    classes = np.asarray(classes)
    if classes.dtype.kind in "iub":
        return classes.astype(np.int64)
    if classes.dtype.kind == "f" and np.all(classes == np.round(classes)):
        return classes.astype(np.int64)
    if classes.dtype.kind in "UO":
        return np.array([str(c) for c in classes], dtype=object)
    raise ValueError(f"cannot export class labels of dtype {classes.dtype} to ONNX; use "
                     f"ints or strings")


def standardise(g: Builder, X: str, scaling: dict[str, Any] | None, dtype: np.dtype) -> str:
    """``(X - mean) / scale`` (``X`` itself without scaling): raw features in."""
    if scaling is None:
        return X
    mean = g.const(np.asarray(scaling["mean"], dtype=dtype), "feature_mean")
    scale = g.const(np.asarray(scaling["scale"], dtype=dtype), "feature_scale")
    return g.node("Div", [g.node("Sub", [X, mean], "centred"), scale], "standardised")


def unstandardise(g: Builder, Y: str, scaling: dict[str, Any], dtype: np.dtype, out: str) -> str:
    """``Y * scale + mean``: standardised regression outputs back in the data's units."""
    scale = g.const(np.asarray(scaling["scale"], dtype=dtype), "target_scale")
    mean = g.const(np.asarray(scaling["mean"], dtype=dtype), "target_mean")
    return g.node("Add", [g.node("Mul", [Y, scale], "scaled"), mean], "output", out=out)
