"""Loss functions: each a value and its gradient with respect to the prediction.

A :class:`Loss` pairs ``value(P, Y) -> float`` with ``gradient(P, Y) -> dP``,
where ``P`` is the network's output and ``Y`` the target, both of shape
``(n_samples, n_outputs)``. Losses average over the batch, so gradients carry
the ``1 / n`` once and the backward pass never divides again.

Cross-entropies are fused with their output activation: when the network ends
in sigmoid (binary) or softmax (categorical), ``value_from_logits(Z, Y)`` and
``delta(P, Y)`` work on the pre-activation ``Z`` directly, giving the stable
``dZ = (P - Y) / n`` instead of dividing by a probability that may be 0.

Beside mse and the fused cross-entropies sits their in-place form, used by
the buffered runner of :mod:`numnet.engine`: ``gradient_into(P, Y, D, work)``
and ``delta_into(Z, P, Y, D, work)`` return the value and write ``dL/dP``
(``dL/dZ``) into ``D``, with the same arithmetic, on scratch arrays
(:class:`numnet.activations.Workspace`); and their scalar form
(:class:`ScalarLoss`), one element at a time in plain Python, which numba
compiles into the engine's kernels (:mod:`numnet.engine.kernels.formulas`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .activations import Workspace
from .validation import check_name

__all__ = ["Loss", "ScalarLoss", "LOSSES", "get_loss", "mse", "mae", "huber",
           "binary_cross_entropy", "categorical_cross_entropy"]

HUBER_DELTA = 1.0


class ScalarLoss(NamedTuple):
    """A loss one element at a time, written so that numba can compile it.

    ``value(z, a, y, mx, lse, cast)`` is the element's term of the loss sum
    and ``delta(z, a, y, scale, cast)`` its ``dL/da`` (``dL/dz`` for a fused
    loss), where ``scale = scale_for(count, cast)`` and the sum is divided by
    ``count``: the batch's samples when ``per_sample``, else its elements.
    With ``logsumexp``, ``mx`` and ``lse`` are the sample's ``max(z)`` and
    ``log(sum(exp(z - mx)))`` (0 otherwise). ``cast`` is the parameters'
    scalar type, so that constants stay in the network's dtype.
    """

    value: Callable[..., Any]
    delta: Callable[..., Any]
    scale_for: Callable[[int, Any], Any]
    per_sample: bool = False
    logsumexp: bool = False


class Loss(NamedTuple):
    """A named loss.

    ``value(P, Y)`` and ``gradient(P, Y)`` work on outputs ``P``. A loss fused
    with an output activation (``fused_with``) also has ``value_from_logits(Z, Y)``
    and ``delta(P, Y) = dL/dZ``, used whenever the network's output activation
    is ``fused_with``. ``gradient_into`` and ``delta_into`` are the in-place
    forms of ``(value, gradient)`` and ``(value_from_logits, delta)``, and
    ``scalar`` the form for compiled code, where there is one.
    """

    name: str
    value: Callable[[np.ndarray, np.ndarray], float]
    gradient: Callable[[np.ndarray, np.ndarray], np.ndarray]
    fused_with: str | None = None
    value_from_logits: Callable[[np.ndarray, np.ndarray], float] | None = None
    delta: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    gradient_into: Callable[[np.ndarray, np.ndarray, np.ndarray, Workspace], float] | None = None
    delta_into: Callable[[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Workspace],
                         float] | None = None
    scalar: ScalarLoss | None = None


def _eps(P: np.ndarray) -> float:
    return float(np.finfo(P.dtype).eps) if np.issubdtype(P.dtype, np.floating) else 1e-12


# --- regression ---------------------------------------------------------------

def mse(target: Any, output: Any) -> float:
    """The tutorial's mean squared error, ``mean((target - output) ** 2)``.

    Averages over every element (samples and outputs), as the tutorial and
    PyTorch's ``MSELoss`` do.
    """
    target, output = np.asarray(target), np.asarray(output)
    return float(np.mean((target - output) ** 2))


def _mse_value(P: np.ndarray, Y: np.ndarray) -> float:
    return mse(Y, P)


def _mse_gradient(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return (2.0 / P.size) * (P - Y)


def _mse_gradient_into(P: np.ndarray, Y: np.ndarray, D: np.ndarray, w: Workspace) -> float:
    np.subtract(Y, P, out=w.T)
    np.square(w.T, out=w.T)
    value = float(np.mean(w.T))
    np.subtract(P, Y, out=D)
    D *= 2.0 / P.size
    return value


def mae(P: np.ndarray, Y: np.ndarray) -> float:
    """Mean absolute error, ``mean(|P - Y|)`` over elements."""
    return float(np.mean(np.abs(P - Y)))


def _mse_scalar_value(z: Any, a: Any, y: Any, mx: Any, lse: Any, cast: Any) -> Any:
    r = y - a
    return r * r


def _mse_scalar_delta(z: Any, a: Any, y: Any, scale: Any, cast: Any) -> Any:
    return scale * (a - y)


def _mse_scale(count: int, cast: Any) -> Any:
    return cast(2.0 / count)


def _mae_gradient(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.sign(P - Y) * (1.0 / P.size)


def huber(P: np.ndarray, Y: np.ndarray, delta: float = HUBER_DELTA) -> float:
    """Quadratic for |P - Y| <= delta, linear beyond; mean over elements."""
    R = np.abs(P - Y)
    quad = np.minimum(R, delta)
    return float(np.mean(0.5 * quad * quad + delta * (R - quad)))


def _huber_gradient(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.clip(P - Y, -HUBER_DELTA, HUBER_DELTA) * (1.0 / P.size)


# --- classification -------------------------------------------------------------

def binary_cross_entropy(P: np.ndarray, Y: np.ndarray) -> float:
    """-mean(Y log P + (1 - Y) log(1 - P)) over elements; P clipped away from 0 and 1."""
    e = _eps(P)
    P = np.clip(P, e, 1.0 - e)
    return float(-np.mean(Y * np.log(P) + (1.0 - Y) * np.log1p(-P)))


def _bce_gradient(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    e = _eps(P)
    P = np.clip(P, e, 1.0 - e)
    return (P - Y) / (P * (1.0 - P)) * (1.0 / P.size)


def _bce_from_logits(Z: np.ndarray, Y: np.ndarray) -> float:
    # log(1 + exp(-|Z|)) + max(Z, 0) - Z * Y  ==  BCE(sigmoid(Z), Y), exactly and stably
    return float(np.mean(np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))))


def _bce_delta(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return (P - Y) * (1.0 / P.size)


def _bce_delta_into(Z: np.ndarray, P: np.ndarray, Y: np.ndarray, D: np.ndarray,
                    w: Workspace) -> float:
    T = w.T
    np.maximum(Z, 0, out=T)
    np.multiply(Z, Y, out=D)
    T -= D
    np.abs(Z, out=D)
    np.negative(D, out=D)
    np.exp(D, out=D)
    np.log1p(D, out=D)
    T += D
    value = float(np.mean(T))
    np.subtract(P, Y, out=D)
    D *= 1.0 / P.size
    return value


def _bce_scalar_value(z: Any, a: Any, y: Any, mx: Any, lse: Any, cast: Any) -> Any:
    return max(z, cast(0.0)) - z * y + np.log1p(np.exp(-abs(z)))   # as _bce_from_logits


def _fused_scalar_delta(z: Any, a: Any, y: Any, scale: Any, cast: Any) -> Any:
    return (a - y) * scale                                         # as _bce/_cce_delta


def _mean_scale(count: int, cast: Any) -> Any:
    return cast(1.0 / count)


def categorical_cross_entropy(P: np.ndarray, Y: np.ndarray) -> float:
    """-mean over samples of sum_k Y_k log P_k, for one-hot (or soft) targets Y."""
    P = np.clip(P, _eps(P), 1.0)
    return float(-np.sum(Y * np.log(P)) / P.shape[0])


def _cce_gradient(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    P = np.clip(P, _eps(P), 1.0)
    return -(Y / P) * (1.0 / P.shape[0])


def _cce_from_logits(Z: np.ndarray, Y: np.ndarray) -> float:
    shifted = Z - Z.max(axis=-1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return float(-np.sum(Y * log_p) / Z.shape[0])


def _cce_scalar_value(z: Any, a: Any, y: Any, mx: Any, lse: Any, cast: Any) -> Any:
    return -(y * ((z - mx) - lse))                                 # as _cce_from_logits


def _cce_delta(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return (P - Y) * (1.0 / P.shape[0])


def _cce_delta_into(Z: np.ndarray, P: np.ndarray, Y: np.ndarray, D: np.ndarray,
                    w: Workspace) -> float:
    T, col = w.T, w.col
    np.max(Z, axis=-1, keepdims=True, out=col)
    np.subtract(Z, col, out=T)                 # shifted
    np.exp(T, out=D)
    np.sum(D, axis=-1, keepdims=True, out=col)
    np.log(col, out=col)
    T -= col                                   # log_p
    T *= Y
    value = float(-np.sum(T) / Z.shape[0])
    np.subtract(P, Y, out=D)
    D *= 1.0 / P.shape[0]
    return value


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("mse", _mse_value, _mse_gradient, gradient_into=_mse_gradient_into,
             scalar=ScalarLoss(_mse_scalar_value, _mse_scalar_delta, _mse_scale)),
        Loss("mae", mae, _mae_gradient),
        Loss("huber", huber, _huber_gradient),
        Loss("binary_cross_entropy", binary_cross_entropy, _bce_gradient,
             fused_with="sigmoid", value_from_logits=_bce_from_logits, delta=_bce_delta,
             delta_into=_bce_delta_into,
             scalar=ScalarLoss(_bce_scalar_value, _fused_scalar_delta, _mean_scale)),
        Loss("categorical_cross_entropy", categorical_cross_entropy, _cce_gradient,
             fused_with="softmax", value_from_logits=_cce_from_logits, delta=_cce_delta,
             delta_into=_cce_delta_into,
             scalar=ScalarLoss(_cce_scalar_value, _fused_scalar_delta, _mean_scale,
                               per_sample=True, logsumexp=True)),
    )
}
_ALIASES = {
    "squared_error": "mse", "mean_squared_error": "mse",
    "absolute_error": "mae", "mean_absolute_error": "mae",
    "bce": "binary_cross_entropy", "log_loss": "binary_cross_entropy",
    "cross_entropy": "categorical_cross_entropy", "cce": "categorical_cross_entropy",
}


def get_loss(name: str | Loss) -> Loss:
    """Look a loss up by name (``"bce"``, ``"cce"``, ``"squared_error"`` ... are aliases)."""
    if isinstance(name, Loss):
        return name
    return check_name(name, "loss", LOSSES, _ALIASES)
