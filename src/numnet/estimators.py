"""scikit-learn estimators on numnet: ``MLPClassifier`` and ``MLPRegressor``.

Drop-in replacements for :mod:`sklearn.neural_network`'s estimators: the same
parameter names, defaults and meanings, the same fitted attributes
(``coefs_``, ``intercepts_``, ``loss_``, ``loss_curve_``, ``best_loss_``,
``validation_scores_``, ``best_validation_score_``, ``n_iter_``, ``t_``,
``n_layers_``, ``n_outputs_``, ``out_activation_``, ``classes_``,
``n_features_in_``, ``feature_names_in_``) and the same behaviour, trained by
numnet: a :class:`numnet.MLP` built once and trained by :func:`numnet.fit`
(its engine, optimizers and callbacks), or by L-BFGS on the network's flat
parameter vector and its exact gradient.

>>> from sklearn.datasets import load_iris
>>> from numnet.estimators import MLPClassifier
>>> X, y = load_iris(return_X_y=True)
>>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=300, random_state=0).fit(X, y)
>>> clf.score(X, y) > 0.9
True

How scikit-learn's rules map onto numnet
----------------------------------------
- **The loss.** scikit-learn reports ``s * L + alpha / (2 n_batch) * sum(W ** 2)``
  where ``L`` is numnet's loss (mean over samples and outputs) and ``s`` is
  ``0.5`` for ``squared_error`` (half the squared error), the number of
  outputs for multilabel classification (its binary log-loss sums over
  labels) and 1 otherwise. numnet trains on that objective divided by ``s``:
  ``fit(..., l2=alpha / (s * batch_size))``, the SGD rate multiplied by ``s``
  and Adam's ``epsilon`` divided by it, so the updates are scikit-learn's.
  ``loss_``/``loss_curve_`` are reported in scikit-learn's units.
- **Optimizers.** ``solver="sgd"`` is :class:`numnet.optimizers.SGD` with
  ``momentum``/``nesterovs_momentum``; ``"adam"`` is
  :class:`numnet.optimizers.Adam` with ``beta_1``, ``beta_2``, ``epsilon``.
  Both keep PyTorch's update forms, which equal scikit-learn's at a constant
  rate (momentum is kept as a sum of gradients rather than of steps, and
  Adam adds ``epsilon`` after the bias correction, which differs at the
  ``epsilon`` level only). An ``optimizer=`` object replaces the solver and
  applies to numnet's loss as it is.
- **Per-epoch rules** (``tol``, ``n_iter_no_change``, ``early_stopping``,
  ``learning_rate="invscaling"``/``"adaptive"``) are one callback
  (:class:`_SklearnRules`) run by ``fit`` after each epoch: no improvement
  by ``tol`` for more than ``n_iter_no_change`` epochs (training loss, or
  validation score with ``early_stopping``) stops training, or, for
  ``sgd`` with ``"adaptive"``, divides the rate by 5 until it falls under
  1e-6; ``"invscaling"`` sets the rate to ``learning_rate_init / (t + 1) **
  power_t`` with ``t`` the samples seen. No numnet schedule matches these
  (they count samples, and share the stopping counter), so the callback
  sets the optimizer's rate itself.
- ``alpha``'s penalty is ``alpha / (2 * batch_size)`` for every batch,
  also for a shorter last batch (scikit-learn divides by that batch's size).
  With ``sample_weight``, the batch's expected weight total replaces
  ``batch_size`` (exact for ``lbfgs``, which sees the whole set).
- Weights start as numnet initialises them (Glorot, He for the ReLU
  family), biases at zero; scikit-learn draws both uniformly.
- ``early_stopping`` holds out ``validation_fraction`` of the samples,
  stratified by class for single-label classification (scikit-learn
  stratifies binary targets only).
- Sparse input is refused (scikit-learn's MLPs accept it).
"""

from __future__ import annotations

import logging
import numbers
import warnings
from collections.abc import Callable
from typing import Any, cast

import numpy as np

try:
    import scipy.optimize
    from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
    from sklearn.exceptions import ConvergenceWarning, DataConversionWarning
    from sklearn.metrics import accuracy_score, r2_score
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import LabelBinarizer
    from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
    from sklearn.utils.metaestimators import available_if
    from sklearn.utils.multiclass import (
        _check_partial_fit_first_call,
        type_of_target,
        unique_labels,
    )
    from sklearn.utils.validation import (
        _check_sample_weight,
        check_is_fitted,
        validate_data,
    )
except ImportError as exc:  # pragma: no cover - exercised with the module hidden
    raise ImportError(
        "numnet.estimators needs scikit-learn and scipy; install them with "
        "pip install 'numnet[sklearn]'"
    ) from exc

from numnet import MLP, callbacks, fit, optimizers
from numnet.callbacks import Callback
from numnet.io import ESTIMATOR_LOADERS

__all__ = ["MLPClassifier", "MLPRegressor"]

logger = logging.getLogger(__name__)

# Activations by scikit-learn's names and numnet's.
_ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
                "sigmoid": "sigmoid", "leaky_relu": "leaky_relu", "elu": "elu",
                "softplus": "softplus"}
# numnet's output activation names -> scikit-learn's ``out_activation_``.
_SKLEARN_OUT = {"sigmoid": "logistic"}
_REGRESSION_LOSSES = {"squared_error": ("mse", 0.5), "absolute_error": ("mae", 1.0),
                      "huber": ("huber", 1.0)}
_ADAPTIVE_FLOOR = 1e-6       # scikit-learn's: "adaptive" stops once the rate is this small


RandomState = int | np.random.Generator | np.random.RandomState | None


def _as_generator(random_state: RandomState) -> np.random.Generator:
    """A Generator from None, an int, a Generator or a legacy RandomState (drawn from once)."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(int(random_state))


def _finite_json(value: Any) -> Any:
    """``value`` with non-finite floats as the strings "inf", "-inf", "nan" (JSON has none)."""
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    if isinstance(value, np.ndarray):
        return _finite_json(value.tolist())
    if isinstance(value, (float, np.floating)) and not np.isfinite(value):
        return str(float(value))
    return value


def _float_from_json(value: Any) -> float:
    if isinstance(value, str) and value not in ("inf", "-inf", "nan"):
        raise ValueError(f"expected a number, got {value!r:.50}")
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"expected a number, got {value!r:.50}")
    return float(value)


class _SklearnRules(callbacks.Callback):
    """scikit-learn's end-of-epoch bookkeeping, as a numnet callback.

    Records ``loss_curve_``, ``n_iter_`` and ``t_`` on the estimator, keeps the
    no-improvement count on the training loss (or on the validation score,
    keeping the best weights, with ``early_stopping``), applies
    ``"invscaling"`` and ``"adaptive"`` rates, and stops the run.
    """

    def __init__(self, est: _BaseMLP, scale: float, n_samples: int,
                 validation: tuple[np.ndarray, Any, np.ndarray | None] | None = None) -> None:
        self.est, self.scale, self.n_samples = est, scale, n_samples
        self.validation = validation          # (X_val, y_val, sample_weight_val) or None
        self.converged = False

    def on_epoch_end(self, run: Any, epoch: int, logs: dict[str, float]) -> None:
        est = self.est
        loss = self.scale * logs["loss"]
        est.n_iter_ += 1
        est.t_ += self.n_samples
        est.loss_ = loss
        est.loss_curve_.append(loss)
        if est.verbose:
            logger.info("Iteration %d, loss = %.8f", est.n_iter_, loss)
        if self.validation is not None:
            score = est._score(*self.validation)
            cast(list, est.validation_scores_).append(score)
            if est.verbose:
                logger.info("Validation score: %f", score)
            best = cast(float, est.best_validation_score_)
            improved = score >= best + est.tol
            if score > best:
                est.best_validation_score_ = score
                est._best_parameters = run.net.flat_parameters.copy()
        else:
            best = cast(float, est.best_loss_)
            improved = loss <= best - est.tol
            est.best_loss_ = min(best, loss)
        est._no_improvement_count = 0 if improved else est._no_improvement_count + 1

        sgd = est.optimizer is None and est.solver == "sgd"
        opt = run.optimizer
        if sgd and est.learning_rate == "invscaling":
            opt.learning_rate = self.scale * est.learning_rate_init / (est.t_ + 1) ** est.power_t
        if est._no_improvement_count > est.n_iter_no_change:
            if sgd and est.learning_rate == "adaptive" and \
                    opt.learning_rate / self.scale > _ADAPTIVE_FLOOR:
                opt.learning_rate /= 5.0
                est._no_improvement_count = 0
                logger.info("setting learning rate to %g", opt.learning_rate / self.scale)
                return
            what = "Validation score" if self.validation is not None else "Training loss"
            self.converged = True
            run.stop(f"{what} did not improve more than tol={est.tol:f} for "
                     f"{est.n_iter_no_change} consecutive epochs.")


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share; not for direct use."""

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
        "activation": [StrOptions(set(_ACTIVATIONS))],
        "solver": [StrOptions({"lbfgs", "sgd", "adam"})],
        "alpha": [Interval(numbers.Real, 0, None, closed="left")],
        "batch_size": [StrOptions({"auto"}), Interval(numbers.Integral, 1, None, closed="left")],
        "learning_rate": [StrOptions({"constant", "invscaling", "adaptive"})],
        "learning_rate_init": [Interval(numbers.Real, 0, None, closed="neither")],
        "power_t": [Interval(numbers.Real, 0, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state", np.random.Generator],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(numbers.Real, 0, 1, closed="both")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_1": [Interval(numbers.Real, 0, 1, closed="left")],
        "beta_2": [Interval(numbers.Real, 0, 1, closed="left")],
        "epsilon": [Interval(numbers.Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(numbers.Real, 1, None, closed="left")],
        "max_fun": [Interval(numbers.Integral, 1, None, closed="left")],
        "dtype": [StrOptions({"float32", "float64"}), type, np.dtype, None],
        "output_activation": [StrOptions(set(_ACTIVATIONS) | {"softmax"}), None],
        "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
        "optimizer": [HasMethods(["step", "get_config"]), None],
        "callbacks": ["array-like", None],
    }

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
        raise NotImplementedError

    def _output(self, n_outputs: int) -> tuple[str, str, float]:
        """``(numnet output activation, numnet loss name, scale s)`` for this target."""
        raise NotImplementedError

    def _score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        raise NotImplementedError

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
        sizes = self.hidden_layer_sizes
        sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
        if any(int(h) != h or h <= 0 for h in sizes):
            raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
        return [int(h) for h in sizes]

    def _dtype(self, X: np.ndarray) -> np.dtype:
        return np.dtype(self.dtype) if self.dtype is not None else X.dtype

    def _initialize(self, X: np.ndarray, Y: np.ndarray, rng: np.random.Generator) -> None:
        n_outputs = Y.shape[1]
        out, loss, scale = self._output(n_outputs)
        self._net = MLP(X.shape[1], self._hidden_sizes(), n_outputs,
                        activation=_ACTIVATIONS[self.activation], output_activation=out,
                        dtype=self._dtype(X), random_state=rng)
        self._loss, self._scale = loss, scale
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(self._net.layer_sizes)
        self.out_activation_ = _SKLEARN_OUT.get(out, out)
        self.n_iter_ = 0
        self.t_ = 0
        self._best_parameters = self._net.flat_parameters.copy()
        if self.solver != "lbfgs":
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

    def _fit(self, X: Any, y: Any, sample_weight: Any = None, incremental: bool = False
             ) -> _BaseMLP:
        self._validate_params()
        self._hidden_sizes()
        first_pass = not hasattr(self, "_net") or (not self.warm_start and not incremental)
        X, Y = self._validate_input(X, y, incremental, reset=first_pass)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        rng = _as_generator(self.random_state)
        if first_pass:
            self._initialize(X, Y, rng)
        elif Y.shape[1] != self.n_outputs_ or self._hidden_sizes() != self._net.hidden_layers:
            raise ValueError(f"warm_start and partial_fit continue the fitted network "
                             f"{self._net.hidden_layers} with {self.n_outputs_} output(s); got "
                             f"hidden_layer_sizes={self.hidden_layer_sizes} and {Y.shape[1]} "
                             f"output(s): fit again without warm_start")
        dtype = self._net.dtype
        X = np.asarray(X, dtype=dtype)
        Y = np.asarray(Y, dtype=dtype)
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype)
        if self.solver == "lbfgs":
            self._fit_lbfgs(X, Y, sample_weight)
        else:
            self._fit_stochastic(X, Y, sample_weight, incremental, rng)
        if not np.isfinite(self._net.flat_parameters).all():
            raise ValueError("Solver produced non-finite parameter weights. The input data may "
                             "contain large values and need to be preprocessed.")
        return self

    def _new_optimizer(self) -> optimizers.Optimizer:
        if self.optimizer is not None:          # a fresh copy: the parameter is never mutated
            return optimizers.optimizer_from_config(self.optimizer.get_config())
        s = self._scale
        if self.solver == "sgd":
            momentum = float(self.momentum)
            return optimizers.SGD(s * self.learning_rate_init, momentum=momentum,
                                  nesterov=bool(self.nesterovs_momentum) and momentum > 0)
        return optimizers.Adam(self.learning_rate_init, beta_1=self.beta_1, beta_2=self.beta_2,
                               epsilon=self.epsilon / s)

    def _fit_stochastic(self, X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None,
                        incremental: bool, rng: np.random.Generator) -> None:
        if not incremental or not hasattr(self, "_optimizer"):
            self._optimizer = self._new_optimizer()
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        validation = None
        if self.early_stopping:
            stratify = self._stratify(Y)
            seed = int(rng.integers(np.iinfo(np.int32).max))
            parts = train_test_split(X, Y, *(() if sample_weight is None else (sample_weight,)),
                                     random_state=seed, test_size=self.validation_fraction,
                                     stratify=stratify)
            X, X_val, Y, Y_val = parts[:4]
            sw_val = None
            if sample_weight is not None:
                sample_weight, sw_val = parts[4:]
            if X_val.shape[0] < 2:
                raise ValueError("The validation set is too small. Increase "
                                 "'validation_fraction' or the size of your dataset.")
            validation = (X_val, self._decode(Y_val), sw_val)

        n_samples = X.shape[0]
        if self.batch_size == "auto":
            batch_size = min(200, n_samples)
        else:
            if self.batch_size > n_samples:
                warnings.warn(f"Got `batch_size` larger than the sample size ({n_samples}). "
                              f"It is going to be clipped", stacklevel=3)
            batch_size = int(np.clip(self.batch_size, 1, n_samples))
        batch_total = batch_size * (1.0 if sample_weight is None else float(sample_weight.mean()))
        l2 = self.alpha / (self._scale * batch_total) if batch_total > 0 else 0.0

        rules = _SklearnRules(self, self._scale, n_samples, validation)
        self.n_iter_ = 0
        history = fit(self._net, X, Y, loss=self._loss, optimizer=self._optimizer,
                      epochs=1 if incremental else self.max_iter, batch_size=batch_size,
                      shuffle=self.shuffle, callbacks=[rules, *(self.callbacks or [])],
                      l2=l2, dropout=self.dropout, verbose=bool(self.verbose),
                      random_state=rng, sample_weight=sample_weight)
        if history.interrupted:
            warnings.warn("Training interrupted by user.", stacklevel=3)
        elif not incremental and not rules.converged and self.n_iter_ == self.max_iter:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({self.max_iter}) reached "
                          f"and the optimization hasn't converged yet.", ConvergenceWarning,
                          stacklevel=3)
        if self.early_stopping:
            self._net.flat_parameters[...] = self._best_parameters

    def _fit_lbfgs(self, X: np.ndarray, Y: np.ndarray, sample_weight: np.ndarray | None
                   ) -> None:
        net, scale = self._net, self._scale
        total = X.shape[0] if sample_weight is None else float(sample_weight.sum())
        l2 = self.alpha / (scale * total) if total > 0 else 0.0

        def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
            net.flat_parameters[...] = theta
            value, grads = net.loss_and_gradients(X, Y, self._loss, l2=l2,
                                                  sample_weight=sample_weight)
            flat = np.concatenate([g.ravel() for g in grads]).astype(np.float64)
            return scale * value, scale * flat

        result = scipy.optimize.minimize(
            objective, net.flat_parameters.astype(np.float64), method="L-BFGS-B", jac=True,
            options={"maxfun": self.max_fun, "maxiter": self.max_iter, "gtol": self.tol})
        net.flat_parameters[...] = result.x
        self.n_iter_ = min(int(result.nit), self.max_iter)
        self.loss_ = float(result.fun)
        if result.status != 0:
            warnings.warn(f"lbfgs failed to converge after {result.nit} iteration(s) "
                          f"(status={result.status}): {result.message}. Increase max_iter or "
                          f"max_fun, or scale the data (e.g. sklearn's StandardScaler).",
                          ConvergenceWarning, stacklevel=3)

    def _stratify(self, Y: np.ndarray) -> np.ndarray | None:
        return None

    def _decode(self, Y: np.ndarray) -> Any:
        return Y

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _BaseMLP:
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

    def _check_solver(self) -> bool:
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
        params = self.get_params(deep=False)
        params["hidden_layer_sizes"] = self._hidden_sizes()
        if not (params["random_state"] is None or isinstance(params["random_state"],
                                                             numbers.Integral)):
            params["random_state"] = None
        if params["optimizer"] is not None:
            params["optimizer"] = params["optimizer"].get_config()
        if params["callbacks"]:
            logger.warning("callbacks are not saved with the estimator")
        params["callbacks"] = None
        if params["dtype"] is not None:
            params["dtype"] = np.dtype(params["dtype"]).name
        fitted = {name: _finite_json(getattr(self, name)) for name in self._FITTED
                  if hasattr(self, name)}
        fitted["classes_"] = getattr(self, "classes_", None)
        return {"params": params, "fitted": fitted, "loss": self._loss, "scale": self._scale,
                "no_improvement_count": getattr(self, "_no_improvement_count", 0),
                "target_type": self._target_type()}

    _FITTED = ("loss_", "loss_curve_", "best_loss_", "validation_scores_",
               "best_validation_score_", "n_iter_", "t_", "n_layers_", "n_outputs_",
               "out_activation_", "n_features_in_", "feature_names_in_")

    def _target_type(self) -> str | None:
        return None

    @classmethod
    def _from_numnet_state(cls, net: MLP, state: dict[str, Any]) -> _BaseMLP:
        """Inverse of :meth:`numnet_state` around the loaded ``net`` (checked, never trusted)."""
        params = dict(state["params"])
        if params.get("optimizer") is not None:
            params["optimizer"] = optimizers.optimizer_from_config(params["optimizer"])
        if isinstance(params.get("hidden_layer_sizes"), list):
            params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
        est = cls(**params)
        est._validate_params()
        fitted = state["fitted"]
        unknown = set(fitted) - set(cls._FITTED) - {"classes_"}
        if unknown:
            raise ValueError(f"unknown fitted attributes {sorted(unknown)}")
        for name, value in fitted.items():
            if name == "feature_names_in_":
                value = np.asarray(value, dtype=object)
            elif name in ("loss_curve_", "validation_scores_") and value is not None:
                value = [_float_from_json(v) for v in value]
            elif name in ("loss_", "best_loss_", "best_validation_score_") and value is not None:
                value = _float_from_json(value)
            setattr(est, name, value)
        if est.n_features_in_ != net.num_inputs or est.n_outputs_ != net.num_outputs:
            raise ValueError(f"the estimator's {est.n_features_in_} features and "
                             f"{est.n_outputs_} outputs do not match its network, {net!r}")
        if list(net.hidden_layers) != est._hidden_sizes():
            raise ValueError(f"hidden_layer_sizes={est.hidden_layer_sizes} does not match the "
                             f"network's {net.hidden_layers}")
        est._net, est._loss, est._scale = net, str(state["loss"]), float(state["scale"])
        est._no_improvement_count = int(state["no_improvement_count"])
        est._best_parameters = net.flat_parameters.copy()
        est._restore_targets(state["target_type"], fitted.get("classes_"))
        return est

    def _restore_targets(self, target_type: str | None, classes: Any) -> None:
        pass

    # --- prediction ---------------------------------------------------------------

    def _forward(self, X: Any, check_input: bool = True) -> np.ndarray:
        """Network outputs ``(n_samples, n_outputs)`` in the network's dtype."""
        check_is_fitted(self)
        if check_input:
            X = validate_data(self, X, reset=False, dtype=(np.float64, np.float32))
        return self._net.forward(np.asarray(X, dtype=self._net.dtype))

    def _score_with(self, X: Any, y: Any, sample_weight: Any,
                    score_function: Callable[..., float]) -> float:
        y_pred = self._predict(X, check_input=False)
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return float(score_function(y, y_pred, sample_weight=sample_weight))

    def _predict(self, X: Any, check_input: bool = True) -> np.ndarray:
        raise NotImplementedError

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags


_DOC_PARAMETERS = """
    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(100,)
        Width of each hidden layer.
    activation : str, default="relu"
        Hidden activation: scikit-learn's ``"identity"``, ``"logistic"``,
        ``"tanh"``, ``"relu"``, or numnet's ``"leaky_relu"``, ``"elu"``,
        ``"softplus"`` (``"sigmoid"`` is ``"logistic"``).
    solver : {"lbfgs", "sgd", "adam"}, default="adam"
    alpha : float, default=1e-4
        L2 penalty, ``alpha / (2 * batch_size) * sum(W ** 2)`` per batch.
    batch_size : int or "auto", default="auto"
        ``"auto"`` is ``min(200, n_samples)``; ignored by ``lbfgs``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        The ``sgd`` schedule (see the module docstring).
    learning_rate_init : float, default=0.001
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=200
        Epochs for ``sgd``/``adam``, iterations for ``lbfgs``.
    shuffle : bool, default=True
    random_state : int, numpy Generator, RandomState or None
        Seeds the weights, shuffling and the early-stopping split.
    tol : float, default=1e-4
    verbose : bool, default=False
        numnet's progress bar (a log line per epoch off a terminal).
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.
    momentum : float, default=0.9
    nesterovs_momentum : bool, default=True
    early_stopping : bool, default=False
        Stop on the score of a held-out ``validation_fraction``, keep the best weights.
    validation_fraction : float, default=0.1
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's.
    n_iter_no_change : int, default=10
    max_fun : int, default=15000
        Loss evaluations allowed to ``lbfgs``.
    dtype : {"float32", "float64"} or None, default=None
        The network's dtype; None follows ``X`` (float32 stays float32).
    output_activation : str or None, default=None
        numnet's: the output activation; None picks scikit-learn's.
    dropout : float, default=0.0
        numnet's: probability of dropping each hidden unit while training.
    optimizer : numnet.optimizers.Optimizer or None, default=None
        numnet's: replaces ``solver``'s optimizer (a copy is trained).
    callbacks : list of numnet.callbacks.Callback or None, default=None
        numnet's: passed to :func:`numnet.fit`.

    Attributes
    ----------
    coefs_, intercepts_ : list of ndarray
        ``coefs_[i]`` of shape ``(n_units[i], n_units[i + 1])``, views of the network.
    loss_ : float
        The last epoch's loss (scikit-learn's units: see the module docstring).
    loss_curve_ : list of float
        Loss per epoch (``sgd``/``adam``).
    best_loss_ : float or None
        Lowest training loss (None with ``early_stopping``).
    validation_scores_ : list of float or None
        Held-out score per epoch with ``early_stopping``.
    best_validation_score_ : float or None
    n_iter_ : int
        Epochs (or ``lbfgs`` iterations) run by the last fit.
    t_ : int
        Samples seen by the optimizer.
    n_layers_, n_outputs_ : int
    out_activation_ : str
    n_features_in_ : int
    feature_names_in_ : ndarray of shape (n_features_in_,)
        When ``X`` had string column names.
    network_ : numnet.MLP
        The fitted network.
"""


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multi-layer perceptron classifier, trained by numnet.

    Softmax outputs for several classes, one logistic output for two, one
    logistic output per label for a 0/1 indicator matrix (multilabel), all
    trained on the log-loss (``loss`` is None or ``"log_loss"``).
    """

    __doc__ = (__doc__ or "") + _DOC_PARAMETERS

    _parameter_constraints = {**_BaseMLP._parameter_constraints,
                              "loss": [StrOptions({"log_loss"}), None]}

    def __init__(self, hidden_layer_sizes: Any = (100,), activation: str = "relu", *,
                 solver: str = "adam", alpha: float = 0.0001, batch_size: int | str = "auto",
                 learning_rate: str = "constant", learning_rate_init: float = 0.001,
                 power_t: float = 0.5, max_iter: int = 200, shuffle: bool = True,
                 random_state: RandomState = None, tol: float = 1e-4, verbose: bool = False,
                 warm_start: bool = False, momentum: float = 0.9,
                 nesterovs_momentum: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, beta_1: float = 0.9, beta_2: float = 0.999,
                 epsilon: float = 1e-8, n_iter_no_change: float = 10, max_fun: int = 15000,
                 loss: str | None = None, dtype: Any = None,
                 output_activation: str | None = None, dropout: float = 0.0,
                 optimizer: optimizers.Optimizer | None = None,
                 callbacks: list[Callback] | None = None) -> None:
        super().__init__(hidden_layer_sizes, activation, solver, alpha, batch_size,
                         learning_rate, learning_rate_init, power_t, max_iter, shuffle,
                         random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
                         early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                         n_iter_no_change, max_fun, dtype, output_activation, dropout,
                         optimizer, callbacks)
        self.loss = loss

    def _output(self, n_outputs: int) -> tuple[str, str, float]:
        multiclass = self._label_binarizer.y_type_ == "multiclass"
        natural = "softmax" if multiclass else "sigmoid"
        wanted = self.output_activation
        if wanted is not None and _ACTIVATIONS.get(wanted, wanted) != natural:
            raise ValueError(f"output_activation={wanted!r} cannot fit "
                             f"{self._label_binarizer.y_type_} targets, which need "
                             f"{natural!r}; leave output_activation=None")
        if multiclass:
            return "softmax", "categorical_cross_entropy", 1.0
        return "sigmoid", "binary_cross_entropy", float(n_outputs)

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, multi_output=True, dtype=(np.float64, np.float32),
                             reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
            warnings.warn("A column-vector y was passed when a 1d array was expected. "
                          "Please change the shape of y to (n_samples,), for example "
                          "using ravel().", DataConversionWarning, stacklevel=4)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            classes = unique_labels(y)
            if self.warm_start:
                if set(classes) != set(self.classes_):
                    raise ValueError(f"warm_start can only be used where `y` has the same "
                                     f"classes as in the previous call to fit. Previously got "
                                     f"{self.classes_}, `y` has {classes}")
            elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
                raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                                 f"{self.classes_}. 'y' has {classes}.")
        Y = self._label_binarizer.transform(y)
        return X, Y

    def _stratify(self, Y: np.ndarray) -> np.ndarray | None:
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return None
        return Y.argmax(axis=1) if Y.shape[1] > 1 else Y[:, 0]

    def _decode(self, Y: np.ndarray) -> Any:
        return self._label_binarizer.inverse_transform(Y)

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
                    ) -> MLPClassifier:
        """One epoch over ``(X, y)``; ``classes`` (all labels) is needed on the first call.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
        sample_weight : array-like of shape (n_samples,), optional
        classes : array-like of shape (n_classes,), optional

        Returns
        -------
        self
        """
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _predict(self, X: Any, check_input: bool = True) -> np.ndarray:
        P = self._forward(X, check_input)
        if self.n_outputs_ == 1:
            P = P.ravel()
        return self._label_binarizer.inverse_transform(P)

    def predict(self, X: Any) -> np.ndarray:
        """Labels ``(n_samples,)``, or a 0/1 matrix ``(n_samples, n_labels)`` for multilabel."""
        check_is_fitted(self)
        return self._predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities ``(n_samples, n_classes)`` in ``classes_`` order."""
        check_is_fitted(self)
        P = self._forward(X)
        if self.n_outputs_ == 1:
            return np.hstack([1.0 - P, P])
        return P

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log(predict_proba(X))``, ``(n_samples, n_classes)``."""
        P = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(P, out=P)

    def _score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return self._score_with(X, y, sample_weight, accuracy_score)

    def _target_type(self) -> str | None:
        return self._label_binarizer.y_type_

    def _restore_targets(self, target_type: str | None, classes: Any) -> None:
        if target_type not in ("binary", "multiclass", "multilabel-indicator") or \
                not isinstance(classes, list) or not classes:
            raise ValueError(f"a classifier needs its target type and classes, got "
                             f"{target_type!r} and {classes!r:.100}")
        if target_type == "multilabel-indicator":
            binarizer = LabelBinarizer().fit(np.array([[0] * len(classes), [1] * len(classes)]))
        else:
            binarizer = LabelBinarizer().fit(np.array(classes))
        if binarizer.y_type_ != target_type or binarizer.classes_.tolist() != classes:
            raise ValueError(f"classes {classes!r:.100} do not make {target_type!r} targets")
        self._label_binarizer, self.classes_ = binarizer, binarizer.classes_

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multi-layer perceptron regressor, trained by numnet.

    ``loss`` is scikit-learn's ``"squared_error"`` (half the mean squared
    error) or numnet's ``"absolute_error"`` and ``"huber"``; identity outputs
    unless ``output_activation`` says otherwise. Several outputs for a 2-D ``y``.
    """

    __doc__ = (__doc__ or "") + _DOC_PARAMETERS

    _parameter_constraints = {**_BaseMLP._parameter_constraints,
                              "loss": [StrOptions(set(_REGRESSION_LOSSES))]}

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
                 callbacks: list[Callback] | None = None) -> None:
        super().__init__(hidden_layer_sizes, activation, solver, alpha, batch_size,
                         learning_rate, learning_rate_init, power_t, max_iter, shuffle,
                         random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
                         early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                         n_iter_no_change, max_fun, dtype, output_activation, dropout,
                         optimizer, callbacks)
        self.loss = loss

    def _output(self, n_outputs: int) -> tuple[str, str, float]:
        loss, scale = _REGRESSION_LOSSES[self.loss]
        name = self.output_activation or "identity"
        out = _ACTIVATIONS.get(name, name)
        return out, loss, scale

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, multi_output=True, y_numeric=True,
                             dtype=(np.float64, np.float32), reset=reset)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
            warnings.warn("A column-vector y was passed when a 1d array was expected. "
                          "Please change the shape of y to (n_samples,), for example "
                          "using ravel().", DataConversionWarning, stacklevel=4)
        return X, y

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
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def _predict(self, X: Any, check_input: bool = True) -> np.ndarray:
        Y = self._forward(X, check_input)
        return Y.ravel() if Y.shape[1] == 1 else Y

    def predict(self, X: Any) -> np.ndarray:
        """Predictions ``(n_samples,)``, or ``(n_samples, n_outputs)`` for several outputs."""
        check_is_fitted(self)
        return self._predict(X)

    def _score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return self._score_with(X, y, sample_weight, r2_score)


ESTIMATOR_LOADERS["MLPClassifier"] = MLPClassifier._from_numnet_state
ESTIMATOR_LOADERS["MLPRegressor"] = MLPRegressor._from_numnet_state
