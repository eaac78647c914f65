"""Activation functions: each a value and its derivative, as pure functions.

Every activation is an :class:`Activation` pair ``forward(Z) -> A`` and
``backward(Z, A, dA) -> dZ``, the elementwise chain rule ``dZ = dA * f'(Z)``.
Derivatives reuse the output ``A`` where the maths allows (sigmoid's
``A * (1 - A)``, tanh's ``1 - A**2``), as the tutorial does. All functions keep
the input's dtype and never emit overflow warnings, even for inputs of +-1000.

Shapes: ``Z, A, dA, dZ`` are ``(n_samples, n_units)`` (any shape for the
elementwise ones; softmax works along the last axis).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from .validation import check_name

__all__ = [
    "Activation",
    "ACTIVATIONS",
    "get_activation",
    "sigmoid",
    "sigmoid_into",
    "sigmoid_derivative",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "identity",
    "softmax",
]

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0


class Activation(NamedTuple):
    """A named pair: ``forward(Z) -> A`` and ``backward(Z, A, dA) -> dZ``."""

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]


# --- sigmoid: the tutorial's activation -------------------------------------

def sigmoid(Z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-Z)), computed without overflow for any finite Z."""
    E = np.exp(-np.abs(Z))                    # in (0, 1]: never overflows
    return np.where(Z >= 0, 1.0 / (1.0 + E), E / (1.0 + E)).astype(Z.dtype, copy=False)


def sigmoid_into(Z: np.ndarray, out: np.ndarray, half: np.ndarray | float = 0.5,
                 scratch: np.ndarray | None = None) -> np.ndarray:
    """``out = sigmoid(Z)`` in place, as ``(1 + tanh(Z / 2)) / 2``; returns ``out``.

    The in-place form for tiny arrays, where each NumPy call costs more than
    its arithmetic: four calls, no branch, no overflow (``tanh`` saturates).
    It agrees with :func:`sigmoid` to one unit in the last place of 1.0
    (absolute difference at most 2.2e-16 in float64). ``Z`` is left as it is.

    For speed on arrays of a few values: ``half`` may be ``np.array(0.5,
    dtype=Z.dtype)``, which NumPy applies faster than a Python float, and a
    ``scratch`` array of ``out``'s shape avoids operating in place, which NumPy
    2 does slowly on one-element arrays.
    """
    tmp = out if scratch is None else scratch
    np.multiply(Z, half, tmp)
    np.tanh(tmp, out)
    np.multiply(out, half, tmp)
    return np.add(tmp, half, out)


def sigmoid_derivative(A: np.ndarray) -> np.ndarray:
    """The tutorial's ``y * (1 - y)``: sigmoid'(Z) written with its output A."""
    return A * (1.0 - A)


def _sigmoid_backward(Z, A, dA):
    return dA * sigmoid_derivative(A)


# --- the rest -----------------------------------------------------------------

def tanh(Z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent; derivative ``1 - A**2``."""
    return np.tanh(Z)


def _tanh_backward(Z, A, dA):
    return dA * (1.0 - A * A)


def relu(Z: np.ndarray) -> np.ndarray:
    """max(Z, 0); derivative 1 where Z > 0, else 0."""
    return np.maximum(Z, 0)


def _relu_backward(Z, A, dA):
    return dA * (Z > 0)


def leaky_relu(Z: np.ndarray) -> np.ndarray:
    """Z where Z > 0, else 0.01 Z; derivative 1 or 0.01."""
    return np.where(Z > 0, Z, LEAKY_SLOPE * Z)


def _leaky_relu_backward(Z, A, dA):
    return dA * np.where(Z > 0, 1.0, LEAKY_SLOPE).astype(Z.dtype, copy=False)


def elu(Z: np.ndarray) -> np.ndarray:
    """Z where Z > 0, else exp(Z) - 1; derivative 1 or exp(Z) = A + 1."""
    return np.where(Z > 0, Z, ELU_ALPHA * np.expm1(np.minimum(Z, 0)))


def _elu_backward(Z, A, dA):
    return dA * np.where(Z > 0, 1.0, A + ELU_ALPHA).astype(Z.dtype, copy=False)


def softplus(Z: np.ndarray) -> np.ndarray:
    """log(1 + exp(Z)), stable: max(Z, 0) + log1p(exp(-|Z|)); derivative sigmoid(Z)."""
    return np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z)))


def _softplus_backward(Z, A, dA):
    return dA * sigmoid(Z)


def identity(Z: np.ndarray) -> np.ndarray:
    """Z itself (a linear output for regression); derivative 1."""
    return Z


def _identity_backward(Z, A, dA):
    return dA


def softmax(Z: np.ndarray) -> np.ndarray:
    """exp(Z) / sum(exp(Z)) along the last axis, shifted by the max for stability."""
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def _softmax_backward(Z, A, dA):
    # Jacobian-vector product without the (n, k, k) Jacobian:
    # dZ_j = A_j * (dA_j - sum_k dA_k A_k)
    return A * (dA - (dA * A).sum(axis=-1, keepdims=True))


ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, _sigmoid_backward),
        Activation("tanh", tanh, _tanh_backward),
        Activation("relu", relu, _relu_backward),
        Activation("leaky_relu", leaky_relu, _leaky_relu_backward),
        Activation("elu", elu, _elu_backward),
        Activation("softplus", softplus, _softplus_backward),
        Activation("identity", identity, _identity_backward),
        Activation("softmax", softmax, _softmax_backward),
    )
}
_ALIASES = {"linear": "identity", "logistic": "sigmoid"}


def get_activation(name: str | Activation) -> Activation:
    """Look an activation up by name (``"linear"`` and ``"logistic"`` are aliases)."""
    if isinstance(name, Activation):
        return name
    return check_name(name, "activation", ACTIVATIONS, _ALIASES)
