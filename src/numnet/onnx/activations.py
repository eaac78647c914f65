"""One ONNX form per numnet activation (:data:`ACTIVATIONS`).

ONNX Runtime's own operator where it has an exact kernel for the dtype, else
the formula from basic operators (float64 ``LeakyRelu``, ``Elu`` and
``Softplus``, which ONNX Runtime lacks or computes with a float32 constant).

An activation of your own (:func:`numnet.activations.register`) exports once
its form is here, under its name: ``ACTIVATIONS["swish"] = build``, where
``build(graph, Z, dtype, hint) -> name`` adds the nodes that compute it from
``Z`` with ``graph.node(op_type, inputs, hint, **attributes)`` and returns the
name of the result (see the builders below). Without one, export refuses it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from numnet import activations

from .builder import Builder, scalar


def _leaky_relu(g: Builder, Z: str, dtype: np.dtype, hint: str) -> str:
    if dtype == np.float32:      # ONNX Runtime's alpha is a float32 attribute: exact here only
        return g.node("LeakyRelu", [Z], hint, alpha=activations.LEAKY_SLOPE)
    positive = g.node("Greater", [Z, scalar(g, 0.0, dtype, "zero")], f"{hint}_pos")
    scaled = g.node("Mul", [Z, scalar(g, activations.LEAKY_SLOPE, dtype, "slope")],
                    f"{hint}_scaled")
    return g.node("Where", [positive, Z, scaled], hint)


def _elu(g: Builder, Z: str, dtype: np.dtype, hint: str) -> str:
    if dtype == np.float32:
        return g.node("Elu", [Z], hint, alpha=activations.ELU_ALPHA)
    zero = scalar(g, 0.0, dtype, "zero")
    positive = g.node("Greater", [Z, zero], f"{hint}_pos")
    exp = g.node("Exp", [g.node("Min", [Z, zero], f"{hint}_neg")], f"{hint}_exp")
    expm1 = g.node("Sub", [exp, scalar(g, 1.0, dtype, "one")], f"{hint}_expm1")
    negative = g.node("Mul", [expm1, scalar(g, activations.ELU_ALPHA, dtype, "alpha")],
                      f"{hint}_scaled")
    return g.node("Where", [positive, Z, negative], hint)


def _softplus(g: Builder, Z: str, dtype: np.dtype, hint: str) -> str:
    # max(Z, 0) + log(1 + exp(-|Z|)), numnet's stable form, in every dtype: ONNX Runtime's
    # float32 Softplus loses accuracy for large |Z| and has no float64 kernel
    zero, one = scalar(g, 0.0, dtype, "zero"), scalar(g, 1.0, dtype, "one")
    exp = g.node("Exp", [g.node("Neg", [g.node("Abs", [Z], f"{hint}_abs")], f"{hint}_neg")],
                 f"{hint}_exp")
    log1p = g.node("Log", [g.node("Add", [one, exp], f"{hint}_1p")], f"{hint}_log1p")
    return g.node("Add", [g.node("Max", [Z, zero], f"{hint}_relu"), log1p], hint)


def _unary(op: str, **attrs: Any) -> Callable[..., str]:
    def build(g: Builder, Z: str, dtype: np.dtype, hint: str) -> str:
        return g.node(op, [Z], hint, **attrs)
    return build


def _identity(g: Builder, Z: str, dtype: np.dtype, hint: str) -> str:
    return Z


#: numnet activation name -> ``build(graph, Z, dtype, hint) -> name of A``.
ACTIVATIONS: dict[str, Callable[..., str]] = {
    "identity": _identity,
    "sigmoid": _unary("Sigmoid"),
    "tanh": _unary("Tanh"),
    "relu": _unary("Relu"),
    "leaky_relu": _leaky_relu,
    "elu": _elu,
    "softplus": _softplus,
    "softmax": _unary("Softmax", axis=-1),
    "exp": _unary("Exp"),
}
