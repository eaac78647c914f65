"""Activation functions: each a value and its derivative, as pure functions.

Every activation is an :class:`Activation` pair ``forward(Z) -> A`` and
``backward(Z, A, dA) -> dZ``, the elementwise chain rule ``dZ = dA * f'(Z)``.
Derivatives reuse the output ``A`` where the maths allows (sigmoid's
``A * (1 - A)``, tanh's ``1 - A**2``), as the tutorial does. All functions keep
the input's dtype and never emit overflow warnings, even for inputs of +-1000.

Beside each pair sit its other forms, so that an activation is written in
one place:

* the in-place form, used by the buffered runner of :mod:`numnet.engine` on
  buffers allocated once: ``forward_into(Z, A, work)`` writes ``f(Z)`` into
  ``A``, and ``backward_into(Z, A, D, work)`` turns ``D = dL/dA`` into
  ``dL/dZ`` in place, with the same arithmetic as the pair (``work`` is a
  :class:`Workspace` of scratch arrays shaped like ``Z``);
* the scalar form, ``scalar(z, cast)`` and ``scalar_derivative(z, a, cast)``
  for one element: plain Python that numba compiles into the engine's
  kernels (:mod:`numnet.engine.kernels.formulas`). ``cast`` is the
  parameters' scalar type (``numpy.float32`` or ``numpy.float64``), so that
  constants stay in the network's dtype. Softmax, which is not elementwise,
  has none; the kernels treat it as the one row-wise activation.

Shapes: ``Z, A, dA, dZ`` are ``(n_samples, n_units)`` (any shape for the
elementwise ones; softmax works along the last axis).

Softmax and exp are *output-only* (``Activation.output_only``): softmax
because it normalises a layer, exp because it grows without bound (inf
beyond ``Z > 709`` in float64), which only the output layer's checks catch.
A network refuses them in a hidden layer (:func:`check_hidden`).

**Your own activation.** :func:`register` adds one to :data:`ACTIVATIONS` by name, after checking
its derivative against central differences; ``MLP(..., activation=name)``
then uses it like a built-in, and an :class:`Activation` object is taken as
``output_activation`` too. The compiled runners of :mod:`numnet.engine`
know the built-ins only, so a network with a registered activation trains on
the reference runner (``History.runner == "reference"``). A model file
stores the activation's name, never its code: it loads in a process that
has registered the same name first, and numnet refuses it otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .validation import (
    central_differences,
    check_callable,
    check_plain_name,
    relative_error,
)

__all__ = [
    "Activation",
    "Workspace",
    "ACTIVATIONS",
    "BUILTIN",
    "get_activation",
    "register",
    "check_hidden",
    "check_activation_name",
    "sigmoid",
    "sigmoid_derivative",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "identity",
    "softmax",
    "exp",
    "EXP",
]

LEAKY_SLOPE = 0.01
ELU_ALPHA = 1.0


class Workspace(NamedTuple):
    """Scratch arrays for the in-place forms: views of buffers the buffered runner allocates once.

    Other Parameters
    ----------------
    T, T2 : ndarray of shape (n_samples, n_units)
        Float scratch, of ``Z``'s shape and dtype.
    M : ndarray of shape (n_samples, n_units)
        Boolean scratch, for masks such as ``Z > 0``.
    col : ndarray of shape (n_samples, 1)
        Float scratch for one value per row (softmax's maximum and sum).
    """

    T: np.ndarray
    T2: np.ndarray
    M: np.ndarray
    col: np.ndarray


class Activation(NamedTuple):
    """A named pair ``forward(Z) -> A``, ``backward(Z, A, dA) -> dZ``, and its in-place form.

    ``forward_into(Z, A, work)`` and ``backward_into(Z, A, D, work)`` compute the
    same in place (None for an activation without one: the buffered runner
    then leaves it to the reference path); ``scalar(z, cast) -> a`` and
    ``scalar_derivative(z, a, cast) -> f'(z)`` for one element, for compiled
    code (None without: the compiled runners then leave it to the others).
    ``output_only``: usable as the output layer's activation only (softmax, exp).

    Other Parameters
    ----------------
    name : str
        The name networks and model files use.
    forward : callable
        ``forward(Z) -> A``, ``A`` of ``Z``'s shape ``(n_samples, n_units)``.
    backward : callable
        ``backward(Z, A, dA) -> dZ``, the chain rule; every array of shape
        ``(n_samples, n_units)``.
    forward_into : callable or None, default None
        ``forward_into(Z, A, work)``: writes ``f(Z)`` into ``A`` (both of shape
        ``(n_samples, n_units)``), ``work`` a :class:`Workspace`.
    backward_into : callable or None, default None
        ``backward_into(Z, A, D, work)``: turns ``D = dL/dA`` into ``dL/dZ`` in
        place, all of shape ``(n_samples, n_units)``.
    scalar : callable or None, default None
        ``scalar(z, cast) -> a`` for one element, plain Python for numba.
    scalar_derivative : callable or None, default None
        ``scalar_derivative(z, a, cast) -> f'(z)`` for one element.
    output_only : bool, default False
        Usable as the output layer's activation only.
    """

    name: str
    forward: Callable[[np.ndarray], np.ndarray]
    backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
    forward_into: Callable[[np.ndarray, np.ndarray, Workspace], None] | None = None
    backward_into: Callable[[np.ndarray, np.ndarray, np.ndarray, Workspace], None] | None = None
    scalar: Callable[[Any, Any], Any] | None = None
    scalar_derivative: Callable[[Any, Any, Any], Any] | None = None
    output_only: bool = False


# --- sigmoid: the tutorial's activation -------------------------------------

def sigmoid(Z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-Z)), computed without overflow for any finite Z.

    Parameters
    ----------
    Z : ndarray
        Pre-activations of any shape, ``(n_samples, n_units)`` in a network.

    Returns
    -------
    ndarray
        The activations, of ``Z``'s shape.
    """
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
    """The tutorial's ``y * (1 - y)``: sigmoid'(Z) written with its output A.

    Parameters
    ----------
    A : ndarray
        The sigmoid's outputs ``A = sigmoid(Z)``, of any shape; not ``Z`` itself.

    Returns
    -------
    ndarray
        ``A * (1 - A)``, of ``A``'s shape.
    """
    return A * (1.0 - A)


def _sigmoid_backward(Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
    return dA * sigmoid_derivative(A)


def _sigmoid_into(Z: np.ndarray, A: np.ndarray, w: Workspace) -> None:
    np.abs(Z, out=A)
    np.negative(A, out=A)
    np.exp(A, out=A)                           # E = exp(-|Z|)
    np.add(A, 1.0, out=w.T)                    # 1 + E
    np.divide(A, w.T, out=A)                   # E / (1 + E) ...
    np.greater_equal(Z, 0, out=w.M)
    np.divide(1.0, w.T, out=A, where=w.M)      # ... and 1 / (1 + E) where Z >= 0


def _sigmoid_scalar(z: Any, cast: Any) -> Any:
    e = np.exp(-abs(z))                        # 1 / (1 + E) or E / (1 + E), E = exp(-|z|)
    return (cast(1.0) if z >= 0 else e) / (cast(1.0) + e)


def _sigmoid_scalar_derivative(z: Any, a: Any, cast: Any) -> Any:
    return a * (cast(1.0) - a)


def _sigmoid_backward_into(Z: np.ndarray, A: np.ndarray, D: np.ndarray, w: Workspace) -> None:
    np.subtract(1.0, A, out=w.T)
    np.multiply(w.T, A, out=w.T)
    D *= w.T


# --- the rest -----------------------------------------------------------------

def tanh(Z: np.ndarray) -> np.ndarray:
    """Hyperbolic tangent; derivative ``1 - A**2``.

    Parameters
    ----------
    Z : ndarray
        Pre-activations of any shape, ``(n_samples, n_units)`` in a network.

    Returns
    -------
    ndarray
        The activations, of ``Z``'s shape.
    """
    return np.tanh(Z)


def _tanh_backward(Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
    return dA * (1.0 - A * A)


def _tanh_into(Z: np.ndarray, A: np.ndarray, w: Workspace) -> None:
    np.tanh(Z, out=A)


def _tanh_scalar(z: Any, cast: Any) -> Any:
    return np.tanh(z)


def _tanh_scalar_derivative(z: Any, a: Any, cast: Any) -> Any:
    return cast(1.0) - a * a


def _tanh_backward_into(Z: np.ndarray, A: np.ndarray, D: np.ndarray, w: Workspace) -> None:
    np.multiply(A, A, out=w.T)
    np.subtract(1.0, w.T, out=w.T)
    D *= w.T


def relu(Z: np.ndarray) -> np.ndarray:
    """max(Z, 0); derivative 1 where Z > 0, else 0.

    Parameters
    ----------
    Z : ndarray
        Pre-activations of any shape, ``(n_samples, n_units)`` in a network.

    Returns
    -------
    ndarray
        The activations, of ``Z``'s shape.
    """
    return np.maximum(Z, 0)


def _relu_backward(Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
    return dA * (Z > 0)


def _relu_into(Z: np.ndarray, A: np.ndarray, w: Workspace) -> None:
    np.maximum(Z, 0, out=A)


def _relu_scalar(z: Any, cast: Any) -> Any:
    return z if (z >= 0 or z != z) else cast(0.0)      # np.maximum(z, 0): NaN kept


def _relu_scalar_derivative(z: Any, a: Any, cast: Any) -> Any:
    return cast(1.0) if z > 0 else cast(0.0)


def _relu_backward_into(Z: np.ndarray, A: np.ndarray, D: np.ndarray, w: Workspace) -> None:
    np.greater(Z, 0, out=w.M)
    D *= w.M


def leaky_relu(Z: np.ndarray) -> np.ndarray:
    """Z where Z > 0, else 0.01 Z; derivative 1 or 0.01.

    Parameters
    ----------
    Z : ndarray
        Pre-activations of any shape, ``(n_samples, n_units)`` in a network.

    Returns
    -------
    ndarray
        The activations, of ``Z``'s shape.
    """
    return np.where(Z > 0, Z, LEAKY_SLOPE * Z)


def _leaky_relu_backward(Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
    return dA * np.where(Z > 0, 1.0, LEAKY_SLOPE).astype(Z.dtype, copy=False)


def _leaky_relu_into(Z: np.ndarray, A: np.ndarray, w: Workspace) -> None:
    np.multiply(Z, LEAKY_SLOPE, out=A)
    np.greater(Z, 0, out=w.M)
    np.copyto(A, Z, where=w.M)


def _leaky_relu_scalar(z: Any, cast: Any) -> Any:
    return z if z > 0 else cast(LEAKY_SLOPE) * z


def _leaky_relu_scalar_derivative(z: Any, a: Any, cast: Any) -> Any:
    return cast(1.0) if z > 0 else cast(LEAKY_SLOPE)


def _leaky_relu_backward_into(Z: np.ndarray, A: np.ndarray, D: np.ndarray, w: Workspace) -> None:
    w.T[...] = LEAKY_SLOPE
    np.greater(Z, 0, out=w.M)
    np.copyto(w.T, 1.0, where=w.M)
    D *= w.T


def elu(Z: np.ndarray) -> np.ndarray:
    """Z where Z > 0, else exp(Z) - 1; derivative 1 or exp(Z) = A + 1.

    Parameters
    ----------
    Z : ndarray
        Pre-activations of any shape, ``(n_samples, n_units)`` in a network.

    Returns
    -------
    ndarray
        The activations, of ``Z``'s shape.
    """
    return np.where(Z > 0, Z, ELU_ALPHA * np.expm1(np.minimum(Z, 0)))


def _elu_backward(Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
    return dA * np.where(Z > 0, 1.0, A + ELU_ALPHA).astype(Z.dtype, copy=False)


def _elu_into(Z: np.ndarray, A: np.ndarray, w: Workspace) -> None:
    np.minimum(Z, 0, out=A)
    np.expm1(A, out=A)
    A *= ELU_ALPHA
    np.greater(Z, 0, out=w.M)
    np.copyto(A, Z, where=w.M)


def _elu_scalar(z: Any, cast: Any) -> Any:
    return z if z > 0 else cast(ELU_ALPHA) * np.expm1(min(z, cast(0.0)))


def _elu_scalar_derivative(z: Any, a: Any, cast: Any) -> Any:
    return cast(1.0) if z > 0 else a + cast(ELU_ALPHA)


def _elu_backward_into(Z: np.ndarray, A: np.ndarray, D: np.ndarray, w: Workspace) -> None:
    np.add(A, ELU_ALPHA, out=w.T)
    np.greater(Z, 0, out=w.M)
    np.copyto(w.T, 1.0, where=w.M)
    D *= w.T


def softplus(Z: np.ndarray) -> np.ndarray:
    """log(1 + exp(Z)), stable: max(Z, 0) + log1p(exp(-|Z|)); derivative sigmoid(Z).

    Parameters
    ----------
    Z : ndarray
        Pre-activations of any shape, ``(n_samples, n_units)`` in a network.

    Returns
    -------
    ndarray
        The activations, of ``Z``'s shape.
    """
    return np.maximum(Z, 0) + np.log1p(np.exp(-np.abs(Z)))


def _softplus_backward(Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
    return dA * sigmoid(Z)


def _softplus_into(Z: np.ndarray, A: np.ndarray, w: Workspace) -> None:
    np.maximum(Z, 0, out=A)
    np.abs(Z, out=w.T)
    np.negative(w.T, out=w.T)
    np.exp(w.T, out=w.T)
    np.log1p(w.T, out=w.T)
    A += w.T


def _softplus_scalar(z: Any, cast: Any) -> Any:
    return max(z, cast(0.0)) + np.log1p(np.exp(-abs(z)))


def _softplus_scalar_derivative(z: Any, a: Any, cast: Any) -> Any:
    return _sigmoid_scalar(z, cast)


def _softplus_backward_into(Z: np.ndarray, A: np.ndarray, D: np.ndarray, w: Workspace) -> None:
    _sigmoid_into(Z, w.T, Workspace(w.T2, w.T2, w.M, w.col))
    D *= w.T


def identity(Z: np.ndarray) -> np.ndarray:
    """Z itself (a linear output for regression); derivative 1.

    Parameters
    ----------
    Z : ndarray
        Pre-activations of any shape, ``(n_samples, n_units)`` in a network.

    Returns
    -------
    ndarray
        The activations, of ``Z``'s shape.
    """
    return Z


def _identity_backward(Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
    return dA


def _identity_into(Z: np.ndarray, A: np.ndarray, w: Workspace) -> None:
    if A is not Z:
        np.copyto(A, Z)


def _identity_scalar(z: Any, cast: Any) -> Any:
    return z


def _identity_scalar_derivative(z: Any, a: Any, cast: Any) -> Any:
    return cast(1.0)


def _identity_backward_into(Z: np.ndarray, A: np.ndarray, D: np.ndarray, w: Workspace) -> None:
    pass


def exp(Z: np.ndarray) -> np.ndarray:
    """exp(Z), the inverse of the log link (Poisson regression's output); derivative ``A``.

    Beyond the float range (Z > 709 in float64, 88 in float32) the value is
    inf, without a warning: the caller checks its outputs, as the network's
    forward pass does.

    Parameters
    ----------
    Z : ndarray
        Pre-activations of any shape, ``(n_samples, n_units)`` in a network.

    Returns
    -------
    ndarray
        The activations, of ``Z``'s shape.
    """
    with np.errstate(over="ignore"):
        return np.exp(Z)


def _exp_backward(Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
    return dA * A


def _exp_into(Z: np.ndarray, A: np.ndarray, w: Workspace) -> None:
    with np.errstate(over="ignore"):
        np.exp(Z, out=A)


# exp's scalar form, for the kernels; not given to them yet (see EXP below).
def _exp_scalar(z: Any, cast: Any) -> Any:
    return np.exp(z)


def _exp_scalar_derivative(z: Any, a: Any, cast: Any) -> Any:
    return a


def _exp_backward_into(Z: np.ndarray, A: np.ndarray, D: np.ndarray, w: Workspace) -> None:
    D *= A


def softmax(Z: np.ndarray) -> np.ndarray:
    """exp(Z) / sum(exp(Z)) along the last axis, shifted by the max for stability.

    Parameters
    ----------
    Z : ndarray of shape (n_samples, n_classes)
        Pre-activations (logits); any shape, normalised along the last axis.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Probabilities: each row sums to 1.
    """
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def _softmax_backward(Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
    # Jacobian-vector product without the (n, k, k) Jacobian:
    # dZ_j = A_j * (dA_j - sum_k dA_k A_k)
    return A * (dA - (dA * A).sum(axis=-1, keepdims=True))


def _softmax_into(Z: np.ndarray, A: np.ndarray, w: Workspace) -> None:
    np.max(Z, axis=-1, keepdims=True, out=w.col)
    np.subtract(Z, w.col, out=A)
    np.exp(A, out=A)
    np.sum(A, axis=-1, keepdims=True, out=w.col)
    A /= w.col


def _softmax_backward_into(Z: np.ndarray, A: np.ndarray, D: np.ndarray, w: Workspace) -> None:
    np.multiply(D, A, out=w.T)
    np.sum(w.T, axis=-1, keepdims=True, out=w.col)
    D -= w.col
    D *= A


#: The output of a log-link model (``numnet.estimators.MLPRegressor(loss="poisson")``,
#: with the fused ``"poisson"`` loss); registered as ``"exp"``, output-only. Its scalar
#: form (``_exp_scalar``) is left out on purpose: the compiled inference kernel checks
#: the weighted sums for inf, not the outputs, and exp of a finite sum can be inf; the
#: NumPy paths check the outputs and raise the network's overflow error.
EXP = Activation("exp", exp, _exp_backward, _exp_into, _exp_backward_into, output_only=True)

#: Every activation by name: the built-ins (:data:`BUILTIN`) and those added by
#: :func:`register`. Model files name their activations from it.
ACTIVATIONS: dict[str, Activation] = {
    a.name: a
    for a in (
        Activation("sigmoid", sigmoid, _sigmoid_backward, _sigmoid_into, _sigmoid_backward_into,
                   _sigmoid_scalar, _sigmoid_scalar_derivative),
        Activation("tanh", tanh, _tanh_backward, _tanh_into, _tanh_backward_into,
                   _tanh_scalar, _tanh_scalar_derivative),
        Activation("relu", relu, _relu_backward, _relu_into, _relu_backward_into,
                   _relu_scalar, _relu_scalar_derivative),
        Activation("leaky_relu", leaky_relu, _leaky_relu_backward, _leaky_relu_into,
                   _leaky_relu_backward_into, _leaky_relu_scalar, _leaky_relu_scalar_derivative),
        Activation("elu", elu, _elu_backward, _elu_into, _elu_backward_into,
                   _elu_scalar, _elu_scalar_derivative),
        Activation("softplus", softplus, _softplus_backward, _softplus_into,
                   _softplus_backward_into, _softplus_scalar, _softplus_scalar_derivative),
        Activation("identity", identity, _identity_backward, _identity_into,
                   _identity_backward_into, _identity_scalar, _identity_scalar_derivative),
        Activation("softmax", softmax, _softmax_backward,
                   _softmax_into, _softmax_backward_into, output_only=True),
        EXP,
    )
}
_ALIASES = {"linear": "identity", "logistic": "sigmoid"}
#: The names numnet defines, which :func:`register` never replaces (aliases included).
BUILTIN = frozenset(ACTIVATIONS) | frozenset(_ALIASES)
def check_activation_name(name: Any) -> str:
    """``name`` if it can name an activation: lowercase ASCII letters, digits and ``_``.

    A letter first, 64 characters at most; what :func:`register` accepts and
    what a model file may hold, so that a name is safe to store and to print.

    Parameters
    ----------
    name : object
        The name to check.

    Returns
    -------
    str
        ``name``; a TypeError or ValueError that says what is wrong otherwise.
    """
    return check_plain_name(name, "activation", "swish")


def get_activation(name: str | Activation) -> Activation:
    """Look an activation up by name (``"linear"`` and ``"logistic"`` are aliases).

    Parameters
    ----------
    name : str or Activation
        A name in :data:`ACTIVATIONS` (any case), or an :class:`Activation`,
        taken as it is if its name is a plain one (:func:`check_activation_name`)
        that no other registered activation holds.

    Returns
    -------
    Activation
        The activation; a ValueError naming the known ones for an unknown name.
    """
    if isinstance(name, Activation):
        check_activation_name(name.name)
        known = ACTIVATIONS.get(name.name)
        if known is not None and known != name:
            raise ValueError(f"this Activation is named {name.name!r} but is not the "
                             f"activation registered under that name; give yours a name of its "
                             f"own, e.g. with numnet.activations.register")
        return name
    if not isinstance(name, str):
        raise TypeError(f"activation must be a name (str), got {type(name).__name__}: "
                        f"{name!r:.80}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r:.80}; choose one of {sorted(ACTIVATIONS)}, "
                         f"or register your own with numnet.activations.register(name, "
                         f"forward, derivative)")
    return ACTIVATIONS[key]


def check_hidden(act: Activation) -> Activation:
    """``act`` if a hidden layer may use it, else a ValueError (softmax, exp: outputs only).

    Parameters
    ----------
    act : Activation
        The activation to check.

    Returns
    -------
    Activation
        ``act`` itself.
    """
    if act.output_only:
        raise ValueError(f"{act.name} is an output activation; use it as output_activation "
                         f"and pick e.g. 'relu' or 'sigmoid' for activation")
    return act


def register(name: str | Activation,
             forward: Callable[[np.ndarray], np.ndarray] | None = None,
             derivative: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None, *,
             backward: Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray] | None = None,
             output_only: bool = False, check: bool = True) -> Activation:
    """Add your own activation to :data:`ACTIVATIONS`, so that networks and files name it.

    Parameters
    ----------
    name : str or Activation
        A plain name (lowercase letters, digits, ``_``), not a built-in's; or
        an :class:`Activation` to register as it is (then give nothing else).
        Registering a name again replaces your earlier registration.
    forward : callable
        ``forward(Z) -> A``, elementwise, ``A`` of ``Z``'s shape (any shape).
    derivative : callable
        ``derivative(Z, A) -> f'(Z)``, elementwise, of ``Z``'s shape, with
        ``A = forward(Z)`` given so that it can be reused (sigmoid's ``A * (1 - A)``).
    backward : callable, optional
        Instead of ``derivative``, the whole chain rule ``backward(Z, A, dA)
        -> dZ``, every array of shape ``(n_samples, n_units)``, for an
        activation that is not elementwise (softmax's kind).
    output_only : bool, default False
        Refused in hidden layers, usable as ``output_activation`` only.
    check : bool, default True
        Compare the derivative with central differences of ``forward`` at 24
        points in [-3, 3] and refuse a wrong one; pass False for a function
        not defined there.

    Returns
    -------
    Activation
        What was registered: also accepted by ``output_activation=``.

    Notes
    -----
    The compiled runners know the built-ins only (a registered
    :class:`Activation`'s ``scalar`` forms are dropped, so that no process
    compiles your code into the kernels): a network with your activation
    trains on the reference runner, or on the buffered one, in NumPy, when
    your :class:`Activation` has in-place forms (``History.runner`` and
    ``MLP.summary()`` say which). Its model files name it: load them after
    registering the same name, in any process. ONNX export needs its ONNX
    form in :data:`numnet.onnx.ACTIVATIONS`.

    Examples
    --------
    >>> import numpy as np
    >>> swish = register("swish", lambda Z: Z * sigmoid(Z),
    ...                  lambda Z, A: sigmoid(Z) * (1 + Z * (1 - sigmoid(Z))))
    >>> ACTIVATIONS["swish"] is swish
    True
    """
    if isinstance(name, Activation):
        if forward is not None or derivative is not None or backward is not None:
            raise TypeError("register(Activation) takes the activation alone; give forward "
                            "and derivative only with a name")
        act = name._replace(scalar=None, scalar_derivative=None)
    else:
        act = Activation(check_activation_name(name), check_callable(forward, "forward"),
                         _backward_from(derivative, backward), output_only=bool(output_only))
    check_activation_name(act.name)
    if act.name in BUILTIN:
        raise ValueError(f"{act.name!r} is a built-in activation; give yours another name")
    if check:
        _check_derivative(act)
    ACTIVATIONS[act.name] = act
    return act


def _backward_from(derivative: Any, backward: Any
                   ) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    """``backward(Z, A, dA)``: the one given, or ``dA * derivative(Z, A)`` in ``Z``'s dtype."""
    if (derivative is None) == (backward is None):
        raise TypeError("register needs derivative(Z, A) -> f'(Z), or backward(Z, A, dA) -> "
                        "dZ for an activation that is not elementwise (one of the two)")
    if backward is not None:
        return check_callable(backward, "backward")
    fn = check_callable(derivative, "derivative")

    def chain_rule(Z: np.ndarray, A: np.ndarray, dA: np.ndarray) -> np.ndarray:
        return np.asarray(dA * fn(Z, A), dtype=Z.dtype)
    return chain_rule


def _check_derivative(act: Activation, eps: float = 1e-6, tolerance: float = 1e-5) -> None:
    """Refuse (ValueError) a backward pass that central differences of ``forward`` contradict.

    The relative error is :mod:`numnet.gradcheck`'s, ``|g - g_num| / (|g| + |g_num|)``
    over 24 points of [-3, 3] (off 0, where kinks are); measured, right derivatives
    (tanh, relu, swish, softsign) give 5e-11 to 7e-11, a wrong one (``2 z**2`` for
    ``z**3``) 0.2.
    """
    rng = np.random.default_rng(0)
    Z = rng.uniform(-3.0, 3.0, size=(4, 6))
    Z[np.abs(Z) < 0.05] = 0.5
    dA = rng.standard_normal(Z.shape)
    where = f"activation {act.name!r}"
    with np.errstate(all="ignore"):
        A = np.asarray(act.forward(Z))
        if A.shape != Z.shape:
            raise ValueError(f"{where}: forward gives shape {A.shape} for inputs of shape "
                             f"{Z.shape}; it must keep the shape")
        dZ = np.asarray(act.backward(Z, A, dA))
        numeric = central_differences(lambda Zp: float(np.sum(dA * act.forward(Zp))), Z.copy(),
                                      eps).reshape(Z.shape)
    if dZ.shape != Z.shape:
        raise ValueError(f"{where}: its derivative gives shape {dZ.shape} for inputs of shape "
                         f"{Z.shape}; it must keep the shape")
    if not (np.isfinite(A).all() and np.isfinite(dZ).all() and np.isfinite(numeric).all()):
        raise ValueError(f"{where} is not finite on [-3, 3], where register checks its "
                         f"derivative; pass check=False to register it unchecked")
    error = relative_error(dZ, numeric)
    if not error < tolerance:
        raise ValueError(f"the derivative of {where} does not match its forward pass: relative "
                         f"error {error:.2g} against central differences at 24 points in "
                         f"[-3, 3] (right ones give < {tolerance:g}); fix it, or pass "
                         f"check=False")
