"""Loss functions: each a value and its gradient with respect to the prediction.

A :class:`Loss` pairs ``value(P, Y) -> float`` with ``gradient(P, Y) -> dP``,
where ``P`` is the network's output and ``Y`` the target, both of shape
``(n_samples, n_outputs)``. Losses average over the batch, so gradients carry
the ``1 / n`` once and the backward pass never divides again.

Cross-entropies are fused with their output activation: when the network ends
in sigmoid (binary) or softmax (categorical), ``value_from_logits(Z, Y)`` and
``delta(P, Y)`` work on the pre-activation ``Z`` directly, giving the stable
``dZ = (P - Y) / n`` instead of dividing by a probability that may be 0.
The Poisson loss (half the Poisson deviance, for counts) is fused the same
way with the exponential output of a log link (:data:`numnet.activations.EXP`).

Beside mse and the fused cross-entropies sits their in-place form, used by
the buffered runner of :mod:`numnet.engine`: ``gradient_into(P, Y, D, work)``
and ``delta_into(Z, P, Y, D, work)`` return the value and write ``dL/dP``
(``dL/dZ``) into ``D``, with the same arithmetic, on scratch arrays
(:class:`numnet.activations.Workspace`); and their scalar form
(:class:`ScalarLoss`), one element at a time in plain Python, which numba
compiles into the engine's kernels (:mod:`numnet.engine.kernels.formulas`).

The public functions :func:`mse`, :func:`mae`, :func:`huber`,
:func:`binary_cross_entropy` and :func:`categorical_cross_entropy` take
``(y_true, y_pred)``, as scikit-learn's metrics do; :func:`mse` and
:func:`mae` are also :func:`numnet.metrics.mean_squared_error` and
:func:`numnet.metrics.mean_absolute_error` (and :func:`mse` is
``numnet.mse``, the tutorial's error). A :class:`Loss`'s own callables take
the prediction first, ``(P, Y)``, as the engine computes them.

Every built-in loss is a mean over samples of a per-sample term, which
``sample_values(P, Y) -> (n_samples,)`` gives; :func:`weighted_value` and the
gradients scaled row by row then weight the samples (``sample_weight`` in
:func:`numnet.fit`).

Your own loss: :func:`register` adds it to :data:`LOSSES` by name (after
checking its gradient against central differences), so that
``fit(loss=name)`` takes it; a :class:`Loss` object passed as ``loss=`` works
unregistered too. The compiled runners know the built-in losses only, so a
network trains with yours on a NumPy runner (buffered or reference).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .activations import Workspace
from .validation import (
    central_differences,
    check_callable,
    check_pair,
    check_plain_name,
    relative_error,
    scaled_pair,
)

__all__ = ["Loss", "ScalarLoss", "LOSSES", "BUILTIN", "get_loss", "register", "mse", "mae",
           "huber", "binary_cross_entropy", "categorical_cross_entropy"]

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

    Other Parameters
    ----------------
    value : callable
        ``value(z, a, y, mx, lse, cast)``: one element's term of the loss sum,
        from its pre-activation ``z``, output ``a`` and target ``y``.
    delta : callable
        ``delta(z, a, y, scale, cast)``: that element's ``dL/da`` (``dL/dz``
        for a fused loss).
    scale_for : callable
        ``scale_for(count, cast)``: the ``scale`` given to ``delta`` for a sum
        divided by ``count``.
    per_sample : bool, default False
        Whether the sum is divided by the batch's samples (else its elements).
    logsumexp : bool, default False
        Whether ``value`` needs each sample's ``mx`` and ``lse`` (softmax).
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
    ``sample_values(P, Y)`` gives each sample's term, shape ``(n_samples,)``,
    whose mean is ``value(P, Y)`` (a fused loss also has
    ``sample_values_from_logits(Z, Y)``); losses without it cannot weight samples.

    Other Parameters
    ----------------
    name : str
        The name ``fit(loss=...)`` and :data:`LOSSES` use.
    value : callable
        ``value(P, Y) -> float``, the mean loss; ``P`` and ``Y`` of shape
        ``(n_samples, n_outputs)``.
    gradient : callable
        ``gradient(P, Y) -> dL/dP``, of shape ``(n_samples, n_outputs)``.
    fused_with : str or None, default None
        The output activation this loss is fused with (``"sigmoid"``,
        ``"softmax"``, ``"exp"``), or None.
    value_from_logits : callable or None, default None
        ``value_from_logits(Z, Y) -> float`` from the output layer's
        pre-activation ``Z`` of shape ``(n_samples, n_outputs)``.
    delta : callable or None, default None
        ``delta(P, Y) -> dL/dZ``, of shape ``(n_samples, n_outputs)``.
    gradient_into : callable or None, default None
        ``gradient_into(P, Y, D, work) -> value``: writes ``dL/dP`` into ``D``
        (all of shape ``(n_samples, n_outputs)``).
    delta_into : callable or None, default None
        ``delta_into(Z, P, Y, D, work) -> value``: writes ``dL/dZ`` into ``D``
        (all of shape ``(n_samples, n_outputs)``).
    scalar : ScalarLoss or None, default None
        The form for compiled code.
    sample_values : callable or None, default None
        ``sample_values(P, Y)``: each sample's term, of shape ``(n_samples,)``.
    sample_values_from_logits : callable or None, default None
        The same from the pre-activation, ``(Z, Y) -> (n_samples,)``.
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
    sample_values: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    sample_values_from_logits: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None


def _eps(P: np.ndarray) -> float:
    return float(np.finfo(P.dtype).eps) if np.issubdtype(P.dtype, np.floating) else 1e-12


# --- regression ---------------------------------------------------------------

def mse(y_true: Any, y_pred: Any) -> float:
    """Mean squared error ``mean((y_true - y_pred) ** 2)`` over every element.

    The tutorial's error (``numnet.mse``), the ``"mse"`` loss's value and
    :func:`numnet.metrics.mean_squared_error`. Computed in float64 on values
    scaled by powers of two, so it is finite whenever the true figure is
    (``inf``, without a warning, only beyond the float range).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The targets; or a scalar.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The predictions for the same samples (a column vector matches a
        flat one); or a scalar.

    Returns
    -------
    float
        The mean over every element.
    """
    t, p, s = scaled_pair(y_true, y_pred)
    with np.errstate(over="ignore"):
        return float(np.mean(np.mean((t - p) ** 2, axis=0) * s ** 2))


def _mse_value(P: np.ndarray, Y: np.ndarray) -> float:
    """:func:`mse` on the engine's validated ``(n, n_outputs)`` arrays, in their dtype."""
    return float(np.mean(np.square(Y - P)))


def _mse_gradient(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return (2.0 / P.size) * (P - Y)


def _mse_gradient_into(P: np.ndarray, Y: np.ndarray, D: np.ndarray, w: Workspace) -> float:
    np.subtract(Y, P, out=w.T)
    np.square(w.T, out=w.T)
    value = float(np.mean(w.T))
    np.subtract(P, Y, out=D)
    D *= 2.0 / P.size
    return value


def mae(y_true: Any, y_pred: Any) -> float:
    """Mean absolute error ``mean(|y_true - y_pred|)`` over every element.

    Also :func:`numnet.metrics.mean_absolute_error`; shapes and scaling as :func:`mse`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The targets; or a scalar.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The predictions for the same samples; or a scalar.

    Returns
    -------
    float
        The mean over every element.
    """
    t, p, s = scaled_pair(y_true, y_pred)
    with np.errstate(over="ignore"):
        return float(np.mean(np.mean(np.abs(t - p), axis=0) * s))


def _mae_value(P: np.ndarray, Y: np.ndarray) -> float:
    """:func:`mae` on the engine's validated ``(n, n_outputs)`` arrays, in their dtype."""
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


def _huber_terms(P: np.ndarray, Y: np.ndarray, delta: float = HUBER_DELTA) -> np.ndarray:
    R = np.abs(P - Y)
    quad = np.minimum(R, delta)
    return 0.5 * quad * quad + delta * (R - quad)


def huber(y_true: Any, y_pred: Any, delta: float = HUBER_DELTA) -> float:
    """Huber loss, mean over elements: quadratic where ``|y_true - y_pred| <= delta``, else linear.

    Each element's term is ``0.5 * r**2`` for ``r = |y_true - y_pred| <= delta``,
    else ``delta * (r - 0.5 * delta)``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The targets.
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        The predictions, of ``y_true``'s shape.
    delta : float, default 1.0
        Where the quadratic part turns linear.

    Returns
    -------
    float
        The mean over every element.
    """
    t, p = check_pair(y_true, y_pred)
    return float(np.mean(_huber_terms(p, t, delta)))


def _huber_value(P: np.ndarray, Y: np.ndarray) -> float:
    return float(np.mean(_huber_terms(P, Y)))


def _huber_gradient(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.clip(P - Y, -HUBER_DELTA, HUBER_DELTA) * (1.0 / P.size)


# each sample's term (mean over its outputs), for weighted losses

def _mse_rows(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.mean((Y - P) ** 2, axis=1)


def _mae_rows(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.mean(np.abs(P - Y), axis=1)


def _huber_rows(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.mean(_huber_terms(P, Y), axis=1)


# --- counts: Poisson regression with a log link --------------------------------

def _xlogx(Y: np.ndarray) -> np.ndarray:
    """``Y log Y`` elementwise, 0 where ``Y <= 0`` (the limit at 0; counts are never negative)."""
    positive = Y > 0
    return np.where(positive, Y * np.log(np.where(positive, Y, 1.0)), 0.0).astype(Y.dtype,
                                                                                  copy=False)


def _poisson_terms(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    # half the Poisson deviance, y log(y / p) - y + p: 0 where p == y, p > 0 for a mean
    # (p under the smallest normal float is taken as that float, so the log is finite)
    tiny = np.finfo(P.dtype).tiny if np.issubdtype(P.dtype, np.floating) else 1e-300
    return _xlogx(Y) - Y * np.log(np.maximum(P, tiny)) - Y + P


def _poisson_value(P: np.ndarray, Y: np.ndarray) -> float:
    return float(np.mean(_poisson_terms(P, Y)))


def _poisson_rows(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.mean(_poisson_terms(P, Y), axis=1)


def _poisson_gradient(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    tiny = np.finfo(P.dtype).tiny if np.issubdtype(P.dtype, np.floating) else 1e-300
    above = P > tiny
    ratio = np.where(above, Y / np.where(above, P, 1.0), 0.0)
    return ((1.0 - ratio) * (1.0 / P.size)).astype(P.dtype, copy=False)


def _poisson_logit_terms(Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    # the same terms with log p = Z given: y log y - y Z - y + exp(Z), no log of a tiny p
    with np.errstate(over="ignore"):
        return _xlogx(Y) - Y * Z - Y + np.exp(Z)


def _poisson_from_logits(Z: np.ndarray, Y: np.ndarray) -> float:
    return float(np.mean(_poisson_logit_terms(Z, Y)))


def _poisson_rows_from_logits(Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.mean(_poisson_logit_terms(Z, Y), axis=1)


def _poisson_delta(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return (P - Y) * (1.0 / P.size)


# --- classification -------------------------------------------------------------

def _bce_terms(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    e = _eps(P)
    P = np.clip(P, e, 1.0 - e)
    return Y * np.log(P) + (1.0 - Y) * np.log1p(-P)


def binary_cross_entropy(y_true: Any, y_pred: Any) -> float:
    """``-mean(y log p + (1 - y) log(1 - p))`` over elements; ``p`` clipped away from 0 and 1.

    Warns (``FutureWarning``) when the arguments look swapped, as the order
    ``(y_pred, y_true)`` of earlier versions would give.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Targets in [0, 1].
    y_pred : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Predicted probabilities, of ``y_true``'s shape.

    Returns
    -------
    float
        The mean over every element.
    """
    Y, P = _probability_pair(y_true, y_pred, "binary_cross_entropy")
    return _bce_value(P, Y)


def _bce_value(P: np.ndarray, Y: np.ndarray) -> float:
    return float(-np.mean(_bce_terms(P, Y)))


def _bce_rows(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return -np.mean(_bce_terms(P, Y), axis=1)


def _bce_gradient(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    e = _eps(P)
    P = np.clip(P, e, 1.0 - e)
    return (P - Y) / (P * (1.0 - P)) * (1.0 / P.size)


def _bce_logit_terms(Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    # log(1 + exp(-|Z|)) + max(Z, 0) - Z * Y  ==  BCE(sigmoid(Z), Y), exactly and stably
    return np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))


def _bce_from_logits(Z: np.ndarray, Y: np.ndarray) -> float:
    return float(np.mean(_bce_logit_terms(Z, Y)))


def _bce_rows_from_logits(Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return np.mean(_bce_logit_terms(Z, Y), axis=1)


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


def _cce_terms(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return Y * np.log(np.clip(P, _eps(P), 1.0))


def categorical_cross_entropy(y_true: Any, y_pred: Any) -> float:
    """``-mean`` over samples of ``sum_k y_k log p_k``.

    Warns (``FutureWarning``) when the arguments look swapped, as the order
    ``(y_pred, y_true)`` of earlier versions would give.

    Parameters
    ----------
    y_true : array-like of shape (n_samples, n_classes)
        One-hot (or soft) targets.
    y_pred : array-like of shape (n_samples, n_classes)
        Class probabilities.

    Returns
    -------
    float
        The mean over samples.
    """
    Y, P = _probability_pair(y_true, y_pred, "categorical_cross_entropy")
    if Y.ndim != 2:
        raise ValueError(f"categorical_cross_entropy takes (n_samples, n_classes) arrays, "
                         f"got shape {Y.shape}; one-hot encode the labels first")
    return _cce_value(P, Y)


def _cce_value(P: np.ndarray, Y: np.ndarray) -> float:
    return float(-np.sum(_cce_terms(P, Y)) / P.shape[0])


def _probability_pair(y_true: Any, y_pred: Any, name: str) -> tuple[np.ndarray, np.ndarray]:
    """``(Y, P)`` as float arrays of one shape; a ``FutureWarning`` if they look swapped.

    Swapped looks like this: the predictions hold only 0s and 1s while the
    targets hold other values, the pattern of ``(probabilities, labels)``.
    """
    Y, P = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    if Y.shape != P.shape:
        raise ValueError(f"y_true has shape {Y.shape} but y_pred has {P.shape}; they must match")
    if P.size and Y.size and _only_zeros_and_ones(P) and not _only_zeros_and_ones(Y):
        warnings.warn(f"{name}(y_true, y_pred): y_pred holds only 0 and 1 while y_true "
                      f"holds other values, so the arguments look swapped; the order is "
                      f"(y_true, y_pred), as scikit-learn's", FutureWarning, stacklevel=3)
    return Y, P


def _only_zeros_and_ones(A: np.ndarray) -> bool:
    return bool(np.all((A == 0.0) | (A == 1.0)))


def _cce_rows(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return -np.sum(_cce_terms(P, Y), axis=1)


def _cce_gradient(P: np.ndarray, Y: np.ndarray) -> np.ndarray:
    P = np.clip(P, _eps(P), 1.0)
    return -(Y / P) * (1.0 / P.shape[0])


def _log_softmax(Z: np.ndarray) -> np.ndarray:
    shifted = Z - Z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _cce_from_logits(Z: np.ndarray, Y: np.ndarray) -> float:
    return float(-np.sum(Y * _log_softmax(Z)) / Z.shape[0])


def _cce_rows_from_logits(Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    return -np.sum(Y * _log_softmax(Z), axis=1)


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


# --- sample weights -------------------------------------------------------------

def normalize_weights(sample_weight: np.ndarray) -> np.ndarray:
    """Weights of shape ``(n_samples,)`` rescaled to mean 1 (all zeros stay zeros).

    A loss averaged over samples with these factors is ``sum(w * l) / sum(w)``,
    the weighted mean; a gradient row scaled by them is that mean's gradient.
    """
    total = float(sample_weight.sum())
    if total <= 0.0:
        return np.zeros_like(sample_weight)
    return sample_weight * (len(sample_weight) / total)


def weighted_value(lossfn: Loss, P: np.ndarray, Y: np.ndarray, weights: np.ndarray,
                   Z: np.ndarray | None = None) -> float:
    """``mean(weights * per-sample loss)``; ``weights`` from :func:`normalize_weights`.

    With the pre-activation ``Z`` of a fused output, the terms come from the
    logits (stable, as ``value_from_logits``); else from the outputs ``P``.
    """
    if Z is not None and lossfn.sample_values_from_logits is not None:
        return float(np.mean(weights * lossfn.sample_values_from_logits(Z, Y)))
    if lossfn.sample_values is None:
        raise ValueError(f"loss {lossfn.name!r} has no sample_values form, so it cannot "
                         f"weight samples; give it one or train without sample_weight")
    return float(np.mean(weights * lossfn.sample_values(P, Y)))


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("mse", _mse_value, _mse_gradient, gradient_into=_mse_gradient_into,
             scalar=ScalarLoss(_mse_scalar_value, _mse_scalar_delta, _mse_scale),
             sample_values=_mse_rows),
        Loss("mae", _mae_value, _mae_gradient, sample_values=_mae_rows),
        Loss("huber", _huber_value, _huber_gradient, sample_values=_huber_rows),
        Loss("binary_cross_entropy", _bce_value, _bce_gradient,
             fused_with="sigmoid", value_from_logits=_bce_from_logits, delta=_bce_delta,
             delta_into=_bce_delta_into,
             scalar=ScalarLoss(_bce_scalar_value, _fused_scalar_delta, _mean_scale),
             sample_values=_bce_rows, sample_values_from_logits=_bce_rows_from_logits),
        Loss("categorical_cross_entropy", _cce_value, _cce_gradient,
             fused_with="softmax", value_from_logits=_cce_from_logits, delta=_cce_delta,
             delta_into=_cce_delta_into,
             scalar=ScalarLoss(_cce_scalar_value, _fused_scalar_delta, _mean_scale,
                               per_sample=True, logsumexp=True),
             sample_values=_cce_rows, sample_values_from_logits=_cce_rows_from_logits),
        Loss("poisson", _poisson_value, _poisson_gradient,
             fused_with="exp", value_from_logits=_poisson_from_logits, delta=_poisson_delta,
             sample_values=_poisson_rows, sample_values_from_logits=_poisson_rows_from_logits),
    )
}
_ALIASES = {
    "squared_error": "mse", "mean_squared_error": "mse",
    "absolute_error": "mae", "mean_absolute_error": "mae",
    "bce": "binary_cross_entropy", "log_loss": "binary_cross_entropy",
    "cross_entropy": "categorical_cross_entropy", "cce": "categorical_cross_entropy",
}


#: The names numnet defines, which :func:`register` never replaces (aliases included).
BUILTIN = frozenset(LOSSES) | frozenset(_ALIASES)
def _check_loss_name(name: Any) -> str:
    return check_plain_name(name, "loss", "log_cosh")


def get_loss(name: str | Loss) -> Loss:
    """Look a loss up by name (``"bce"``, ``"cce"``, ``"squared_error"`` ... are aliases).

    Parameters
    ----------
    name : str or Loss
        A name in :data:`LOSSES` (any case), or a :class:`Loss`, taken as it
        is unless another loss is registered under its name.

    Returns
    -------
    Loss
        The loss; a ValueError naming the known ones for an unknown name.
    """
    if isinstance(name, Loss):
        known = LOSSES.get(name.name)
        if known is not None and known != name:
            raise ValueError(f"this Loss is named {name.name!r:.80} but is not the loss "
                             f"registered under that name; give yours a name of its own, e.g. "
                             f"with numnet.losses.register")
        return name
    if not isinstance(name, str):
        raise TypeError(f"loss must be a name (str), got {type(name).__name__}: {name!r:.80}")
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name!r:.80}; choose one of {sorted(LOSSES)}, or "
                         f"register your own with numnet.losses.register(name, value, gradient)")
    return LOSSES[key]


def register(name: str | Loss,
             value: Callable[[np.ndarray, np.ndarray], float] | None = None,
             gradient: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None, *,
             sample_values: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
             check: bool = True) -> Loss:
    """Add your own loss to :data:`LOSSES`, so that ``fit(loss=name)`` takes it.

    Parameters
    ----------
    name : str or Loss
        A plain name (lowercase letters, digits, ``_``), not a built-in's; or
        a :class:`Loss` to register as it is (then give nothing else).
        Registering a name again replaces your earlier registration.
    value : callable
        ``value(P, Y) -> float``: the loss of outputs ``P`` for targets ``Y``,
        both ``(n_samples, n_outputs)``, a mean over the batch.
    gradient : callable
        ``gradient(P, Y) -> dL/dP`` of shape ``(n_samples, n_outputs)``; the
        gradient of a mean carries its ``1 / n`` (``1 / P.size`` for a mean
        over every element).
    sample_values : callable, optional
        ``sample_values(P, Y) -> (n_samples,)``, each sample's term, whose
        mean is ``value``: needed to train with ``sample_weight``.
    check : bool, default True
        Compare the gradient with central differences of ``value`` on a
        batch of 5 samples, 3 outputs, ``P`` and ``Y`` in (0, 1), and refuse a
        wrong one; pass False for a loss not defined there.

    Returns
    -------
    Loss
        What was registered: also accepted by ``fit(loss=...)``.

    Notes
    -----
    The compiled runners know numnet's losses only (a registered
    :class:`Loss`'s ``scalar`` form is dropped): ``fit`` trains with yours on
    the buffered or the reference runner.

    Examples
    --------
    >>> import numpy as np
    >>> log_cosh = register("log_cosh",
    ...                     lambda P, Y: float(np.mean(np.log(np.cosh(P - Y)))),
    ...                     lambda P, Y: np.tanh(P - Y) / P.size)
    >>> LOSSES["log_cosh"] is log_cosh
    True
    """
    if isinstance(name, Loss):
        if value is not None or gradient is not None or sample_values is not None:
            raise TypeError("register(Loss) takes the loss alone; give value and gradient "
                            "only with a name")
        loss = name._replace(scalar=None)
    else:
        for fn, what in ((value, "value"), (gradient, "gradient")):
            check_callable(fn, what)
        if sample_values is not None and not callable(sample_values):
            raise TypeError(f"sample_values must be a function, got "
                            f"{type(sample_values).__name__}")
        loss = Loss(_check_loss_name(name), value, gradient,  # type: ignore[arg-type]
                    sample_values=sample_values)
    _check_loss_name(loss.name)
    if loss.name in BUILTIN:
        raise ValueError(f"{loss.name!r} is a built-in loss; give yours another name")
    if check:
        _check_gradient(loss)
    LOSSES[loss.name] = loss
    return loss


def _check_gradient(loss: Loss, eps: float = 1e-6, tolerance: float = 1e-5) -> None:
    """Refuse (ValueError) a gradient that central differences of ``value`` contradict.

    The relative error is :mod:`numnet.gradcheck`'s; measured, right gradients (mse,
    log-cosh, binary cross-entropy) give 1e-10 to 2e-10, a forgotten ``1 / n`` 0.88.
    """
    rng = np.random.default_rng(0)
    P, Y = rng.uniform(0.1, 0.9, size=(5, 3)), rng.uniform(0.0, 1.0, size=(5, 3))
    where = f"loss {loss.name!r}"
    with np.errstate(all="ignore"):
        value = loss.value(P, Y)
        if np.ndim(value) != 0 or not np.isfinite(value):
            got = f"shape {np.shape(value)}" if np.ndim(value) else repr(value)
            raise ValueError(f"{where}: value(P, Y) must give one finite number, got "
                             f"{got:.80}; pass check=False if it is not defined for P and Y "
                             f"in (0, 1)")
        G = np.asarray(loss.gradient(P, Y))
        numeric = central_differences(lambda Pp: float(loss.value(Pp, Y)), P.copy(),
                                      eps).reshape(P.shape)
        rows = None if loss.sample_values is None else np.asarray(loss.sample_values(P, Y))
    if G.shape != P.shape or not (np.isfinite(G).all() and np.isfinite(numeric).all()):
        raise ValueError(f"{where}: gradient(P, Y) must give finite values of P's shape "
                         f"{P.shape}, got shape {G.shape}; pass check=False if it is not "
                         f"defined for P and Y in (0, 1)")
    error = relative_error(G, numeric)
    if not error < tolerance:
        raise ValueError(f"the gradient of {where} does not match its value: relative error "
                         f"{error:.2g} against central differences (right ones give < "
                         f"{tolerance:g}); the gradient of a mean carries its 1 / n; fix it, "
                         f"or pass check=False")
    if rows is not None and (rows.shape != (P.shape[0],)
                             or not np.isclose(float(np.mean(rows)), float(value), rtol=1e-9,
                                               atol=1e-12)):
        raise ValueError(f"{where}: sample_values(P, Y) must give one term per sample, shape "
                         f"({P.shape[0]},), whose mean is value(P, Y)")
