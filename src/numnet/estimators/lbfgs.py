"""``solver="lbfgs"``: scipy's L-BFGS-B on the network's flat parameter vector.

The objective is scikit-learn's loss, ``scale`` times numnet's (see the
package docstring), with its exact gradient from
:meth:`numnet.network.Network.loss_and_gradients`; both are handed to
:func:`scipy.optimize.minimize` in float64 whatever the network's dtype.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
import scipy.optimize
from sklearn.exceptions import ConvergenceWarning

from numnet.mlp import MLP


def fit_lbfgs(net: MLP, X: np.ndarray, Y: np.ndarray, *, loss: str, scale: float, l2: float,
              sample_weight: np.ndarray | None, max_iter: int, max_fun: int, tol: float
              ) -> tuple[int, float]:
    """Minimise the loss over ``net``'s parameters, in place; warn if L-BFGS did not converge.

    Parameters
    ----------
    net : MLP
        Trained in place, from its current parameters.
    X : ndarray of shape (n_samples, n_features)
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
        scipy's ``maxiter`` and ``maxfun``.
    tol : float
        scipy's ``gtol``.

    Returns
    -------
    n_iter : int
        Iterations run, at most ``max_iter``.
    loss : float
        The final objective, in scikit-learn's units.
    """
    objective = _objective(net, X, Y, loss, scale, l2, sample_weight)
    result = scipy.optimize.minimize(
        objective, net.flat_parameters.astype(np.float64), method="L-BFGS-B", jac=True,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol})
    net.flat_parameters[...] = result.x
    if result.status != 0:
        warnings.warn(f"lbfgs failed to converge after {result.nit} iteration(s) "
                      f"(status={result.status}): {result.message}. Increase max_iter or "
                      f"max_fun, or scale the data (e.g. sklearn's StandardScaler).",
                      ConvergenceWarning, stacklevel=4)
    return min(int(result.nit), max_iter), float(result.fun)


def _objective(net: MLP, X: np.ndarray, Y: np.ndarray, loss: str, scale: float, l2: float,
               sample_weight: np.ndarray | None
               ) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
    """``theta -> (value, gradient)`` of the scaled loss; ``theta`` is the flat vector."""
    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        net.flat_parameters[...] = theta
        value, grads = net.loss_and_gradients(X, Y, loss, l2=l2, sample_weight=sample_weight)
        flat = np.concatenate([g.ravel() for g in grads]).astype(np.float64)
        return scale * value, scale * flat

    return objective
