"""``MLPRegressor``: scikit-learn's MLP regressor, trained by numnet."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from numnet import optimizers
from numnet.activations import EXP, Activation
from numnet.callbacks import Callback

from . import rows
from .base import BaseMLP, ravel_column
from .parameters import (
    RandomState,
    RegisteredNames,
    activation_name,
    doc_parameters,
    registered_losses,
)

#: scikit-learn's loss name -> (numnet's loss, scale s: scikit-learn's loss is s times numnet's,
#: which averages over outputs too; s is per output for "poisson", which scikit-learn sums
#: over outputs)
REGRESSION_LOSSES = {"squared_error": ("mse", 0.5), "absolute_error": ("mae", 1.0),
                     "huber": ("huber", 1.0), "poisson": ("poisson", 1.0)}
_SUMMED_OVER_OUTPUTS = {"poisson"}


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multi-layer perceptron regressor, trained by numnet.

    ``loss`` is scikit-learn's ``"squared_error"`` (half the mean squared
    error) with identity outputs, or ``"poisson"`` (half the Poisson
    deviance, summed over outputs) with exponential outputs, a log link, for
    counts and other non-negative targets; or numnet's ``"absolute_error"``
    and ``"huber"``, with identity outputs; or a name
    :func:`numnet.losses.register` added, with identity outputs, trained on
    that loss as it is (``loss_`` is its value, plus ``alpha``'s penalty).
    ``output_activation`` replaces the identity. Several outputs for a 2-D ``y``.
    """

    __doc__ = (__doc__ or "") + doc_parameters(first="""\
    loss : str, default="squared_error"
        The loss trained on: ``"squared_error"``, ``"poisson"`` (non-negative
        targets), ``"absolute_error"``, ``"huber"``, or a name
        :func:`numnet.losses.register` added (see above).
""")
    # the public path, which pickles, reprs and numnet.onnx name (stable if this file moves)
    __module__ = "numnet.estimators"

    _parameter_constraints = {**BaseMLP._parameter_constraints,
                              "loss": [RegisteredNames(
                                  REGRESSION_LOSSES, registered_losses,
                                  "or a name numnet.losses.register added")]}

    def __init__(self, loss: str = "squared_error", hidden_layer_sizes: Any = (100,),
                 activation: str = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001, batch_size: int | str = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 0.001,
                 power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
                 random_state: RandomState = None, tol: float = 1e-4, verbose: bool = False,
                 warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, n_iter_no_change: float = 10, max_fun: int = 15000,
                 dtype: Any = None, output_activation: str | None = None,
                 dropout: float = 0.0, optimizer: optimizers.Optimizer | None = None,
                 callbacks: list[Callback] | None = None, scoring: Any = None) -> None:
        super().__init__(hidden_layer_sizes, activation, solver, alpha, batch_size,
                         learning_rate, learning_rate_init, power_t, max_iter, shuffle,
                         random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
                         early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                         n_iter_no_change, max_fun, dtype, output_activation, dropout,
                         optimizer, callbacks, scoring)
        self.loss = loss

    def _output(self, n_outputs: int) -> tuple[str | Activation, str, float]:
        loss, scale = REGRESSION_LOSSES.get(self.loss, (self.loss, 1.0))    # or registered
        if self.loss in _SUMMED_OVER_OUTPUTS:
            scale *= n_outputs
        if self.loss == "poisson":
            if self.output_activation is not None:
                raise ValueError(f"loss='poisson' predicts exp of the last layer (a log link), "
                                 f"not output_activation={self.output_activation!r}; leave "
                                 f"output_activation=None")
            return EXP, loss, scale
        return activation_name(self.output_activation or "identity"), loss, scale

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, accept_sparse=rows.SPARSE_FORMATS, multi_output=True,
                             y_numeric=True, dtype=(np.float64, np.float32), reset=reset)
        if self.loss == "poisson" and y.size and y.min() < 0:
            raise ValueError(f"loss='poisson' fits counts or other non-negative targets; y holds "
                             f"values down to {y.min():.4g}")
        return X, ravel_column(y)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch over ``(X, y)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        self._fit(X, y, sample_weight=sample_weight, incremental=True)
        return self

    def _predict(self, X: Any, check_input: bool = True) -> np.ndarray:
        Y = self._forward(X, check_input)
        return Y.ravel() if Y.shape[1] == 1 else Y

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``(n_samples,)``, or ``(n_samples, n_outputs)`` for several outputs.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            ``(n_samples,)`` when fitted on one output.
        """
        check_is_fitted(self)
        return self._predict(X)

    def _score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return self._score_with(X, y, sample_weight, r2_score)
