"""What the page draws of a network as it trains: one snapshot, plain JSON.

A snapshot (:func:`snapshot`) holds the weights and biases, the fit over the
data's range (a curve for one input, a ``G x G`` grid for two), each hidden
unit's activation over a ``G2 x G2`` grid (two inputs), the confusion matrix
of a classifier and the latest training-health record. Grids are in the data's
raw units and span its range with a 10% margin; grid values are rounded to
:data:`DECIMALS` decimals (what a picture shows), and a value that is not
finite is ``null``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from numnet.network import Network, dense_forward

from .problem import Problem

__all__ = ["snapshot", "clean", "G", "G2", "CURVE_POINTS", "MARGIN", "DECIMALS"]

G = 40                  # the fit's grid, per axis (two inputs)
G2 = 16                 # each unit's grid, per axis
CURVE_POINTS = 100      # the fit's curve (one input)
MARGIN = 0.1            # of the data's range, on each side
DECIMALS = 4


def snapshot(net: Network, problem: Problem, epoch: int,
             health: dict[str, Any] | None = None) -> dict[str, Any]:
    """The page's picture of ``net`` after ``epoch`` epochs (see the module docstring).

    ``weights[k]`` is layer ``k``'s matrix as a list of rows, one per input unit
    (shape ``(n_in, n_out)``); ``fit["z"][i][j]`` is the prediction at
    ``(x[j], y[i])``, as is ``units[l][u][i][j]`` for unit ``u`` of hidden layer ``l``.
    """
    X = problem.table.X
    d = X.shape[1]
    fit: dict[str, Any] | None = None
    units: list[Any] | None = None
    if d == 1:
        x = _axis(X[:, 0], CURVE_POINTS)
        fit = {"x": _list(x), "y": _list(_answers(net, problem, x[:, None]))}
    elif d == 2:
        gx, gy = _axis(X[:, 0], G), _axis(X[:, 1], G)
        z = _answers(net, problem, _grid(gx, gy)).reshape(G, G)
        fit = {"x": _list(gx), "y": _list(gy), "z": _list(z)}
        ux, uy = _axis(X[:, 0], G2), _axis(X[:, 1], G2)
        units = [_list(A.T.reshape(A.shape[1], G2, G2))
                 for A in _hidden(net, problem.prep.transform(_grid(ux, uy)))]
    return {
        "epoch": int(epoch),
        "weights": [_list(W, None) for W in net.weights],
        "biases": None if net.biases is None else [_list(b, None) for b in net.biases],
        "fit": fit,
        "units": units,
        "confusion": confusion(net, problem),
        "health": None if health is None else clean(health),
    }


def confusion(net: Network, problem: Problem) -> list[list[int]] | None:
    """Counts ``[true class][predicted class]`` (classes in ``problem.classes`` order) on
    the held-out rows, or on the training rows without any; None for regression."""
    if problem.task != "classification" or problem.classes is None:
        return None
    rows = problem.val_rows if problem.val_rows is not None else problem.train_rows
    k = len(problem.classes)
    true = problem.prep.encode_targets(np.asarray(problem.table.y)[rows])
    predicted = _class_index(net.forward(problem.prep.transform(problem.table.X[rows])))
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (true, predicted), 1)
    return counts.tolist()


def clean(value: Any) -> Any:
    """``value`` (nested lists, dicts, numbers) with every non-finite float as None."""
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, list):
        return [clean(v) for v in value]
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    return value


def _axis(column: np.ndarray, n: int) -> np.ndarray:
    lo, hi = float(np.min(column)), float(np.max(column))
    span = hi - lo if hi > lo else 1.0
    return np.linspace(lo - MARGIN * span, hi + MARGIN * span, n)


def _grid(gx: np.ndarray, gy: np.ndarray) -> np.ndarray:
    """Points ``(len(gy) * len(gx), 2)``, row ``i * len(gx) + j`` being ``(gx[j], gy[i])``."""
    return np.column_stack([np.tile(gx, len(gy)), np.repeat(gy, len(gx))])


def _answers(net: Network, problem: Problem, P: np.ndarray) -> np.ndarray:
    """At raw points ``P`` (m, d): the prediction in the data's units (regression), P(the
    second class) for two classes, else the winning class's index; shape (m,)."""
    with np.errstate(all="ignore"):
        out = np.asarray(net.forward(problem.prep.transform(P)), dtype=np.float64)
    if problem.task != "classification":
        return problem.prep.decode_outputs(out)[:, 0]
    if len(problem.classes or []) == 2:
        return out[:, 0] if out.shape[1] == 1 else out[:, 1]
    return _class_index(out).astype(np.float64)


def _class_index(out: np.ndarray) -> np.ndarray:
    out = np.asarray(out, dtype=np.float64)
    if out.shape[1] == 1:
        return (out[:, 0] >= 0.5).astype(np.intp)
    return np.argmax(np.nan_to_num(out, nan=-np.inf), axis=1)


def _hidden(net: Network, A: np.ndarray) -> list[np.ndarray]:
    """Each hidden layer's activations ``(m, units)`` for network inputs ``A`` (m, n_in)."""
    out = []
    with np.errstate(all="ignore"):
        for k in range(len(net.weights) - 1):
            b = None if net.biases is None else net.biases[k]
            A = dense_forward(A, net.weights[k], b, net.activation_fns[k])[1]
            out.append(A)
    return out


def _list(a: np.ndarray, decimals: int | None = DECIMALS) -> Any:
    """``a`` as nested lists, rounded to ``decimals`` (None: as it is), non-finite as None."""
    a = np.asarray(a, dtype=np.float64)
    if decimals is not None:
        a = np.round(a, decimals)
    return a.tolist() if np.isfinite(a).all() else clean(a.tolist())
