"""``solver="sgd"`` and ``"adam"`` (or an ``optimizer=``): epochs run by :func:`numnet.fit`.

The estimator's optimizer, its held-out set for ``early_stopping``, its batch
size and penalty in numnet's units, and the run itself, with scikit-learn's
per-epoch rules (:class:`~numnet.estimators.rules.SklearnRules`) as a callback.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from numnet import History, fit, optimizers

from .parameters import l2_penalty
from .rules import SklearnRules, Validation

if TYPE_CHECKING:                       # the estimator imports this module to run it
    from .base import BaseMLP


def fit_stochastic(est: BaseMLP, X: np.ndarray, Y: np.ndarray,
                   sample_weight: np.ndarray | None, incremental: bool,
                   rng: np.random.Generator) -> None:
    """Train ``est``'s network for ``max_iter`` epochs (one with ``partial_fit``), in place.

    Parameters
    ----------
    est : BaseMLP
        Its network is trained and its fitted attributes updated.
    X : ndarray of shape (n_samples, n_features)
    Y : ndarray of shape (n_samples, n_outputs)
        Encoded targets, in the network's dtype.
    sample_weight : ndarray of shape (n_samples,) or None
    incremental : bool
        ``partial_fit``: one epoch, and the optimizer's state carries over.
    rng : numpy.random.Generator
        Draws the early-stopping split and the shuffling.
    """
    if not incremental or not hasattr(est, "_optimizer"):
        est._optimizer = new_optimizer(est)
    if est.early_stopping and incremental:
        raise ValueError("partial_fit does not support early_stopping=True")
    validation = None
    if est.early_stopping:
        X, Y, sample_weight, validation = _hold_out(est, X, Y, sample_weight, rng)
    n_samples = X.shape[0]
    batch_size = _batch_size(est.batch_size, n_samples)
    batch_total = batch_size * (1.0 if sample_weight is None else float(sample_weight.mean()))
    rules = SklearnRules(est, est._scale, n_samples, validation)
    est.n_iter_ = 0
    history = fit(est._net, X, Y, loss=est._loss, optimizer=est._optimizer,
                  epochs=1 if incremental else est.max_iter, batch_size=batch_size,
                  shuffle=est.shuffle, callbacks=[rules, *(est.callbacks or [])],
                  l2=l2_penalty(est.alpha, est._scale, batch_total), dropout=est.dropout,
                  verbose=bool(est.verbose), random_state=rng, sample_weight=sample_weight)
    _warn_if_unfinished(est, history, rules.converged, incremental)
    if est.early_stopping:
        est._net.flat_parameters[...] = est._best_parameters


def new_optimizer(est: BaseMLP) -> optimizers.Optimizer:
    """The optimizer ``solver`` names in scikit-learn's units, or a copy of ``optimizer=``."""
    if est.optimizer is not None:          # a fresh copy: the parameter is never mutated
        return optimizers.optimizer_from_config(est.optimizer.get_config())
    s = est._scale
    if est.solver == "sgd":
        momentum = float(est.momentum)
        return optimizers.SGD(s * est.learning_rate_init, momentum=momentum,
                              nesterov=bool(est.nesterovs_momentum) and momentum > 0)
    return optimizers.Adam(est.learning_rate_init, beta_1=est.beta_1, beta_2=est.beta_2,
                           epsilon=est.epsilon / s)


def _hold_out(est: BaseMLP, X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None,
              rng: np.random.Generator
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, Validation]:
    """Split off ``validation_fraction`` for ``early_stopping``, stratified where it can be.

    Returns the training part ``(X, Y, sample_weight)`` and the held-out
    ``(X_val, y_val, sample_weight_val)``, its targets decoded for scoring.
    """
    seed = int(rng.integers(np.iinfo(np.int32).max))
    weights = () if sample_weight is None else (sample_weight,)
    parts = train_test_split(X, Y, *weights, random_state=seed,
                             test_size=est.validation_fraction, stratify=est._stratify(Y))
    X, X_val, Y, Y_val = parts[:4]
    sw_val = None
    if sample_weight is not None:
        sample_weight, sw_val = parts[4:]
    if X_val.shape[0] < 2:
        raise ValueError("The validation set is too small. Increase "
                         "'validation_fraction' or the size of your dataset.")
    return X, Y, sample_weight, (X_val, est._decode(Y_val), sw_val)


def _batch_size(batch_size: int | str, n_samples: int) -> int:
    """``"auto"`` is ``min(200, n_samples)``; an int is clipped to ``n_samples``, with a warning."""
    if batch_size == "auto":
        return min(200, n_samples)
    if int(batch_size) > n_samples:
        warnings.warn(f"Got `batch_size` larger than the sample size ({n_samples}). "
                      f"It is going to be clipped", stacklevel=5)
    return int(np.clip(int(batch_size), 1, n_samples))


def _warn_if_unfinished(est: BaseMLP, history: History, converged: bool,
                        incremental: bool) -> None:
    """Warn when the user interrupted the run, or ``fit`` used ``max_iter`` unconverged."""
    if history.interrupted:
        warnings.warn("Training interrupted by user.", stacklevel=5)
    elif not incremental and not converged and est.n_iter_ == est.max_iter:
        warnings.warn(f"Stochastic Optimizer: Maximum iterations ({est.max_iter}) reached "
                      f"and the optimization hasn't converged yet.", ConvergenceWarning,
                      stacklevel=5)
