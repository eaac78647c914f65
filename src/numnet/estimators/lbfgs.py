"""``solver="lbfgs"``: scipy's L-BFGS-B on the network's flat parameter vector.

The objective is scikit-learn's loss, ``scale`` times numnet's (see the
package docstring), with its exact gradient from
:meth:`numnet.network.Network.loss_and_flat_gradient`, summed over blocks of
rows for a sparse ``X`` (:mod:`.rows`, each block densified on its own);
both are handed to :func:`scipy.optimize.minimize` in float64 whatever the
network's dtype. As in scikit-learn, a value that is not a number goes to
scipy as it is (its line search then steps back), except at the start,
where it can only come from the data: that is a ValueError saying so.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from numnet.losses import Loss, get_loss
from numnet.mlp import MLP
from numnet.network import overflow_message

from . import rows

#: scipy's default ``ftol`` for L-BFGS-B (``factr=1e7`` times the float64 epsilon).
SCIPY_FTOL = 1e7 * np.finfo(np.float64).eps


def fit_lbfgs(net: MLP, X: Any, Y: np.ndarray, *, loss: str, scale: float, l2: float,
              sample_weight: np.ndarray | None, max_iter: int, max_fun: int, tol: float,
              verbose: bool = False) -> tuple[int, float]:
    """Minimise the loss over ``net``'s parameters, in place; warn if L-BFGS did not converge.

    Parameters
    ----------
    net : MLP
        Trained in place, from its current parameters.
    X : ndarray or scipy.sparse CSR matrix of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        In the network's dtype, as numnet's ``loss`` expects them.
    loss : str
        numnet's loss name.
    scale : float
        The objective is ``scale`` times numnet's loss (scikit-learn's units).
    l2 : float
        numnet's L2 coefficient (``alpha`` already converted).
    sample_weight : ndarray of shape (n_samples,) or None
    max_iter, max_fun : int
        scipy's ``maxiter`` and ``maxfun`` (the line search under way when
        ``max_fun`` is reached finishes, in scipy as in scikit-learn).
    tol : float
        scipy's ``gtol``; a ``tol`` under scipy's ``ftol`` (2.2e-9) is its
        ``ftol`` as well, so that ``tol=0`` stops at ``max_iter`` or ``max_fun``.
    verbose : bool
        Print scikit-learn's ``Iteration N, loss = ...`` line after each iteration.

    Returns
    -------
    n_iter : int
        Iterations run, at most ``max_iter``.
    loss : float
        The final objective, in scikit-learn's units.

    Raises
    ------
    ValueError
        When the loss or its gradient is not a number at the start (data
        that overflow the network's arithmetic), naming the values to scale.
    """
    objective = _objective(net, X, Y, get_loss(loss), scale, l2, sample_weight)
    start = net.flat_parameters.astype(np.float64)
    value, gradient = objective(start)
    if not (np.isfinite(value) and np.isfinite(gradient).all()):
        raise ValueError(overflow_message("the loss or its gradient",
                                          X.data if rows.is_sparse(X) else X, Y))
    options: dict[str, Any] = {"maxfun": max_fun, "maxiter": max_iter, "gtol": tol}
    if tol < SCIPY_FTOL:
        options["ftol"] = tol
    first = [(start.copy(), value, gradient)]       # scipy starts there: not evaluated twice

    def evaluate(theta: np.ndarray) -> tuple[float, np.ndarray]:
        if first and np.array_equal(theta, first[0][0]):
            return first.pop()[1:]
        first.clear()
        return objective(theta)

    result = scipy.optimize.minimize(
        evaluate, start, method="L-BFGS-B", jac=True, options=options,
        callback=_printer() if verbose else None)
    net.flat_parameters[...] = result.x
    n_iter = min(int(result.nit), max_iter)
    if result.status != 0:
        warnings.warn(f"lbfgs failed to converge after {n_iter} iteration(s) "
                      f"(status={result.status}): {result.message}. Increase max_iter or "
                      f"max_fun, or scale the data (e.g. sklearn's StandardScaler).",
                      ConvergenceWarning, stacklevel=4)
    return n_iter, float(result.fun)


def _printer() -> Callable[[scipy.optimize.OptimizeResult], None]:
    """scipy's per-iteration callback printing scikit-learn's verbose line."""
    count = 0

    def report(intermediate_result: scipy.optimize.OptimizeResult) -> None:
        nonlocal count
        count += 1
        print(f"Iteration {count}, loss = {float(intermediate_result.fun):.8f}")

    return report


def _objective(net: MLP, X: Any, Y: np.ndarray, lossfn: Loss, scale: float, l2: float,
               sample_weight: np.ndarray | None
               ) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """``theta -> (value, gradient)`` of the scaled loss; ``theta`` is the flat vector.

    Each block of rows adds its mean loss and gradient weighted by its share of
    the samples (of the weight total, with ``sample_weight``); the L2 term is
    added once, on the weights (not the biases), as ``loss_and_flat_gradient``
    adds it.
    """
    n = X.shape[0]
    total = float(n) if sample_weight is None else float(sample_weight.sum())
    block_gradient = np.empty_like(net.flat_parameters)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        net.flat_parameters[...] = theta
        value, gradient = 0.0, np.zeros(theta.shape, dtype=np.float64)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for start, stop, X_block in rows.blocks(X):
                weights = None if sample_weight is None else sample_weight[start:stop]
                share = (stop - start if weights is None else float(weights.sum())) / total \
                    if total > 0 else 0.0
                if share == 0.0:
                    continue
                block_value, block = net.loss_and_flat_gradient(
                    X_block, Y[start:stop], lossfn, sample_weight=weights, out=block_gradient)
                value += share * block_value
                gradient += share * block
            if l2:
                value += 0.5 * l2 * sum(float(np.vdot(W, W)) for W in net.weights)
                for W, dW in zip(net.weights, net.unflatten(gradient)[0], strict=True):
                    dW += l2 * W
        return scale * value, scale * gradient

    return objective
