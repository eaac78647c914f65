"""scikit-learn's end-of-epoch rules for ``sgd`` and ``adam``, as one numnet callback.

``tol`` and ``n_iter_no_change`` (on the training loss, or on the validation
score with ``early_stopping``), the ``"invscaling"`` and ``"adaptive"``
learning rates, and the fitted attributes that grow per epoch (``loss_curve_``,
``n_iter_``, ``t_``, ...). No numnet schedule matches these rules (they count
samples, and share the stopping counter), so the callback sets the
optimizer's rate itself.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from numnet.callbacks import Callback

if TYPE_CHECKING:                       # the estimator imports this module to run it
    from .base import BaseMLP

# the public module's name, so logging set-ups written for it keep working
logger = logging.getLogger("numnet.estimators")

ADAPTIVE_FLOOR = 1e-6       # scikit-learn's: "adaptive" stops once the rate is this small

#: Held-out data for ``early_stopping``: ``(X_val, y_val, sample_weight_val or None)``.
Validation = tuple[np.ndarray, Any, np.ndarray | None]


class SklearnRules(Callback):
    """scikit-learn's end-of-epoch bookkeeping, as a numnet callback.

    Records ``loss_curve_``, ``n_iter_`` and ``t_`` on the estimator, keeps the
    no-improvement count on the training loss (or on the validation score,
    keeping the best weights, with ``early_stopping``), applies
    ``"invscaling"`` and ``"adaptive"`` rates, and stops the run.

    Parameters
    ----------
    est : BaseMLP
        The estimator being fitted; its fitted attributes are updated in place.
    scale : float
        ``s``: scikit-learn's loss is ``s`` times numnet's, and the SGD rate too.
    n_samples : int
        Samples per epoch (what ``t_`` counts).
    validation : (X_val, y_val, sample_weight_val) or None
        The held-out set scored after each epoch with ``early_stopping``.
    """

    def __init__(self, est: BaseMLP, scale: float, n_samples: int,
                 validation: Validation | None = None) -> None:
        self.est, self.scale, self.n_samples = est, scale, n_samples
        self.validation = validation
        self.converged = False

    def on_epoch_end(self, run: Any, epoch: int, logs: dict[str, float]) -> None:
        est = self.est
        loss = self._record(logs["loss"])
        if self.validation is not None:
            improved = self._score_improved(run)
        else:
            improved = self._loss_improved(loss)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1
        if self._sgd_schedule("invscaling"):
            run.optimizer.learning_rate = (self.scale * est.learning_rate_init
                                           / (est.t_ + 1) ** est.power_t)
        if est._no_improvement_count > est.n_iter_no_change:
            self._on_plateau(run)

    def _record(self, numnet_loss: float) -> float:
        """Count the epoch and record its loss in scikit-learn's units; return that loss."""
        est = self.est
        loss = self.scale * numnet_loss
        est.n_iter_ += 1
        est.t_ += self.n_samples
        est.loss_ = loss
        est.loss_curve_.append(loss)
        if est.verbose:
            logger.info("Iteration %d, loss = %.8f", est.n_iter_, loss)
        return loss

    def _score_improved(self, run: Any) -> bool:
        """Score the held-out set; keep the best weights; did it beat the best by ``tol``?"""
        est = self.est
        score = est._score(*cast(Validation, self.validation))
        cast(list, est.validation_scores_).append(score)
        if est.verbose:
            logger.info("Validation score: %f", score)
        best = cast(float, est.best_validation_score_)
        if score > best:
            est.best_validation_score_ = score
            est._best_parameters = run.net.flat_parameters.copy()
        return score >= best + est.tol

    def _loss_improved(self, loss: float) -> bool:
        """Did the training loss fall under the best by ``tol``? Keeps ``best_loss_``."""
        est = self.est
        best = cast(float, est.best_loss_)
        est.best_loss_ = min(best, loss)
        return loss <= best - est.tol

    def _sgd_schedule(self, name: str) -> bool:
        est = self.est
        return est.optimizer is None and est.solver == "sgd" and est.learning_rate == name

    def _on_plateau(self, run: Any) -> None:
        """No improvement for too long: divide an ``"adaptive"`` rate by 5, or stop."""
        est, opt = self.est, run.optimizer
        if self._sgd_schedule("adaptive") and opt.learning_rate / self.scale > ADAPTIVE_FLOOR:
            opt.learning_rate /= 5.0
            est._no_improvement_count = 0
            logger.info("setting learning rate to %g", opt.learning_rate / self.scale)
            return
        what = "Validation score" if self.validation is not None else "Training loss"
        self.converged = True
        run.stop(f"{what} did not improve more than tol={est.tol:f} for "
                 f"{est.n_iter_no_change} consecutive epochs.")
