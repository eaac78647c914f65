"""What ``MLPClassifier`` and ``MLPRegressor`` share: parameters, the network, fit, predict.

:class:`BaseMLP` holds scikit-learn's parameters, builds the :class:`numnet.MLP`
on the first fit, checks and casts the data, hands it to a solver
(:mod:`.stochastic` or :mod:`.lbfgs`), and exposes the network as
scikit-learn's fitted attributes. Each subclass says how its targets are
encoded and decoded, which output and loss they need, and how it scores.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import DataConversionWarning
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from numnet import MLP, optimizers
from numnet.callbacks import Callback

from . import persistence
from .lbfgs import fit_lbfgs
from .parameters import (
    ACTIVATIONS,
    PARAMETER_CONSTRAINTS,
    SKLEARN_OUT,
    RandomState,
    as_generator,
    hidden_sizes,
    l2_penalty,
)
from .stochastic import fit_stochastic


class BaseMLP(BaseEstimator):
    """What the classifier and the regressor share; not for direct use."""

    _parameter_constraints: dict = dict(PARAMETER_CONSTRAINTS)

    def __init__(self, hidden_layer_sizes: Any, activation: str, solver: str, alpha: float,
                 batch_size: int | str, learning_rate: str, learning_rate_init: float,
                 power_t: float, max_iter: int, shuffle: bool, random_state: RandomState,
                 tol: float, verbose: bool, warm_start: bool, momentum: float,
                 nesterovs_momentum: bool, early_stopping: bool, validation_fraction: float,
                 beta_1: float, beta_2: float, epsilon: float, n_iter_no_change: float,
                 max_fun: int, dtype: Any, output_activation: str | None, dropout: float,
                 optimizer: optimizers.Optimizer | None,
                 callbacks: list[Callback] | None) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_fun = max_fun
        self.dtype = dtype
        self.output_activation = output_activation
        self.dropout = dropout
        self.optimizer = optimizer
        self.callbacks = callbacks

    # --- what subclasses define -------------------------------------------------------

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Checked ``X (n_samples, n_features)`` and encoded targets ``Y``."""
        raise NotImplementedError

    def _output(self, n_outputs: int) -> tuple[str, str, float]:
        """``(numnet output activation, numnet loss name, scale s)`` for this target."""
        raise NotImplementedError

    def _score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        raise NotImplementedError

    def _predict(self, X: Any, check_input: bool = True) -> np.ndarray:
        raise NotImplementedError

    def _stratify(self, Y: np.ndarray) -> np.ndarray | None:
        """Labels to stratify the early-stopping split by, or None."""
        return None

    def _decode(self, Y: np.ndarray) -> Any:
        """Encoded targets ``Y`` back as ``y`` (what ``_score`` takes)."""
        return Y

    def _target_type(self) -> str | None:
        """What the saved state records of the targets (the classifier's type of target)."""
        return None

    def _restore_targets(self, target_type: str | None, classes: Any) -> None:
        """Rebuild the target encoding from the saved state (checked, never trusted)."""

    # --- the fitted network ---------------------------------------------------------------

    @property
    def network_(self) -> MLP:
        """The fitted :class:`numnet.MLP` (shared, not a copy)."""
        check_is_fitted(self)
        return self._net

    @property
    def coefs_(self) -> list[np.ndarray]:
        """``coefs_[i]``, ``(n_units[i], n_units[i + 1])``: views of the network's weights."""
        return list(self.network_.weights)

    @coefs_.setter
    def coefs_(self, values: list[np.ndarray]) -> None:
        for W, value in zip(self.network_.weights, values, strict=True):
            W[...] = value

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """``intercepts_[i]`` of shape ``(n_units[i + 1],)``: views of the network's biases."""
        biases = self.network_.biases
        return [] if biases is None else list(biases)

    @intercepts_.setter
    def intercepts_(self, values: list[np.ndarray]) -> None:
        for b, value in zip(self.network_.biases or [], values, strict=True):
            b[...] = value

    def _hidden_sizes(self) -> list[int]:
        return hidden_sizes(self.hidden_layer_sizes)

    def _initialize(self, X: np.ndarray, Y: np.ndarray, rng: np.random.Generator) -> None:
        """Build a new network for ``X (n_samples, n_features)``, ``Y (n_samples, n_outputs)``."""
        n_outputs = Y.shape[1]
        out, loss, scale = self._output(n_outputs)
        dtype = np.dtype(self.dtype) if self.dtype is not None else X.dtype
        self._net = MLP(X.shape[1], self._hidden_sizes(), n_outputs,
                        activation=ACTIVATIONS[self.activation], output_activation=out,
                        dtype=dtype, random_state=rng)
        self._loss, self._scale = loss, scale
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(self._net.layer_sizes)
        self.out_activation_ = SKLEARN_OUT.get(out, out)
        self.n_iter_ = 0
        self.t_ = 0
        self._best_parameters = self._net.flat_parameters.copy()
        if self.solver != "lbfgs":
            self._reset_progress()

    def _reset_progress(self) -> None:
        """The per-epoch attributes :class:`~.rules.SklearnRules` grows, empty."""
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_loss_: float | None = None
        else:
            self.best_loss_ = np.inf
            self.validation_scores_ = None
            self.best_validation_score_ = None

    # --- fitting ------------------------------------------------------------------------

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> BaseMLP:
        """Fit the network to ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets; for the classifier, labels or a 0/1 indicator matrix.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=False)

    def _fit(self, X: Any, y: Any, sample_weight: Any = None, incremental: bool = False
             ) -> BaseMLP:
        """Check the data, build or continue the network, and run the solver."""
        self._validate_params()
        self._hidden_sizes()                    # bad sizes fail before the data are checked
        rng = as_generator(self.random_state)
        X, Y, sample_weight = self._prepare(X, y, sample_weight, incremental, rng)
        if self.solver == "lbfgs":
            total = X.shape[0] if sample_weight is None else float(sample_weight.sum())
            self.n_iter_, self.loss_ = fit_lbfgs(
                self._net, X, Y, loss=self._loss, scale=self._scale,
                l2=l2_penalty(self.alpha, self._scale, total), sample_weight=sample_weight,
                max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol)
        else:
            fit_stochastic(self, X, Y, sample_weight, incremental, rng)
        if not np.isfinite(self._net.flat_parameters).all():
            raise ValueError("Solver produced non-finite parameter weights. The input data may "
                             "contain large values and need to be preprocessed.")
        return self

    def _prepare(self, X: Any, y: Any, sample_weight: Any, incremental: bool,
                 rng: np.random.Generator
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """``X``, ``Y (n_samples, n_outputs)`` and weights in the network's dtype.

        Builds the network on a first pass; otherwise checks that the data
        continue the fitted one.
        """
        first_pass = not hasattr(self, "_net") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if first_pass:
            self._initialize(X, Y, rng)
        elif Y.shape[1] != self.n_outputs_ or self._hidden_sizes() != self._net.hidden_layers:
            raise ValueError(f"warm_start and partial_fit continue the fitted network "
                             f"{self._net.hidden_layers} with {self.n_outputs_} output(s); got "
                             f"hidden_layer_sizes={self.hidden_layer_sizes} and {Y.shape[1]} "
                             f"output(s): fit again without warm_start")
        dtype = self._net.dtype
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype)
        return np.asarray(X, dtype=dtype), np.asarray(Y, dtype=dtype), sample_weight

    def _check_solver(self) -> bool:
        """``partial_fit`` exists for the stochastic solvers only (``available_if``)."""
        if self.solver == "lbfgs":
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                                 f"{self.solver} is not stochastic.")
        return True

    # --- numnet's files --------------------------------------------------------------

    def numnet_state(self) -> dict[str, Any]:
        """Parameters and fitted attributes as JSON, for :func:`numnet.save`.

        The network's weights are saved beside it as tensors. Not saved: the
        optimizer's moments (a ``partial_fit`` after loading starts a fresh
        optimizer), a ``random_state`` that is not an int, ``callbacks``.
        """
        check_is_fitted(self)
        return persistence.numnet_state(self)

    # --- prediction ---------------------------------------------------------------

    def _forward(self, X: Any, check_input: bool = True) -> np.ndarray:
        """Network outputs ``(n_samples, n_outputs)`` in the network's dtype."""
        check_is_fitted(self)
        if check_input:
            X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self._net.forward(np.asarray(X, dtype=self._net.dtype))

    def _score_with(self, X: Any, y: Any, sample_weight: Any,
                    score_function: Callable[..., float]) -> float:
        """``score_function(y, predict(X))``; NaN when the predictions are not finite."""
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return float(score_function(y, y_pred, sample_weight=sample_weight))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


def ravel_column(y: np.ndarray) -> np.ndarray:
    """A column vector ``y (n_samples, 1)`` as ``(n_samples,)``, with scikit-learn's warning."""
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected. "
                      "Please change the shape of y to (n_samples,), for example "
                      "using ravel().", DataConversionWarning, stacklevel=6)
        return y.ravel()
    return y
