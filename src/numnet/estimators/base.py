"""What ``MLPClassifier`` and ``MLPRegressor`` share: parameters, the network, fit, predict.

:class:`BaseMLP` holds scikit-learn's parameters, builds the :class:`numnet.MLP`
on the first fit, checks and casts the data, and fits it, as scikit-learn's
MLPs do: ``lbfgs`` through :func:`.lbfgs.fit_lbfgs` (the network and arrays),
``sgd`` and ``adam`` through :func:`numnet.fit` with scikit-learn's per-epoch
rules as methods here (the plain helpers are in :mod:`.stochastic`). A
sparse ``X`` reaches the network a block of rows at a time (:mod:`.rows`).
It exposes the network as scikit-learn's fitted attributes (``coefs_`` and
``intercepts_`` assigned before the first ``partial_fit`` are its starting
point) and saves and restores its state for numnet's files, and as plain
values for pickle and skops (the helpers are in :mod:`.persistence`). With
``warm_start`` and ``partial_fit`` the optimizer's state carries over while
its settings are unchanged. Each subclass says how its targets are
encoded and decoded, which output and loss they need, and how it scores.
"""

from __future__ import annotations

import json
import math
import numbers
import warnings
from collections.abc import Callable, Iterable
from typing import Any, SupportsIndex, cast

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import DataConversionWarning, NotFittedError
from sklearn.metrics import get_scorer
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from numnet import activations, losses, optimizers
from numnet.activations import Activation
from numnet.baselines import Baseline, learned_nothing
from numnet.callbacks import Callback
from numnet.mlp import MLP
from numnet.network import Network
from numnet.training import fit

from . import persistence, rows, stochastic
from .lbfgs import fit_lbfgs
from .parameters import (
    OPTIMIZER_SETTINGS,
    PARAMETER_CONSTRAINTS,
    SKLEARN_OUT,
    RandomState,
    activation_name,
    as_generator,
    hidden_sizes,
    l2_penalty,
)
from .stochastic import EpochEnd, Scorer, Validation

ADAPTIVE_FLOOR = 1e-6       # scikit-learn's: "adaptive" stops once the rate is this small
#: scikit-learn's error for data that make the weights not numbers (numnet adds why).
NON_FINITE = ("Solver produced non-finite parameter weights. The input data may contain large "
              "values and need to be preprocessed.")


class ParameterViews(list):
    """The network's weights (or biases), one array per layer, as views of the network.

    A list, as scikit-learn's ``coefs_`` and ``intercepts_`` are; assigning an
    item (``coefs_[i] = W``) writes ``W`` into the network's array, which
    keeps its shape.
    """

    def __setitem__(self, index: Any, value: Any) -> None:
        if not isinstance(index, SupportsIndex):
            raise TypeError("assign one layer at a time: coefs_[i] = array")
        target = list.__getitem__(self, index)
        value = np.asarray(value)
        if value.shape != target.shape:
            raise ValueError(f"layer {index} of the fitted network has shape {target.shape}, "
                             f"got {value.shape}; its layers are fixed: fit again (without "
                             f"warm_start) for other sizes")
        target[...] = value


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
                 callbacks: list[Callback] | None, scoring: Any = None) -> None:
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
        self.scoring = scoring

    # --- what subclasses define -------------------------------------------------------

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
        """Checked ``X (n_samples, n_features)`` and encoded targets ``Y``."""
        raise NotImplementedError

    def _output(self, n_outputs: int) -> tuple[str | Activation, str, float]:
        """``(numnet output activation, numnet loss name, scale s)`` for this target.

        The activation is a name of :data:`numnet.activations.ACTIVATIONS`, or
        an :class:`~numnet.activations.Activation` not registered by name
        (``exp``, the log link's inverse).
        """
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

    def __sklearn_is_fitted__(self) -> bool:
        return "_net" in self.__dict__

    @property
    def coefs_(self) -> list[np.ndarray]:
        """``coefs_[i]``, ``(n_units[i], n_units[i + 1])``: views of the network's weights.

        Before the first fit, the list assigned to ``coefs_`` (the starting
        weights of a ``partial_fit`` or warm-started fit).
        """
        return self._layer_arrays("coefs")

    @coefs_.setter
    def coefs_(self, values: Iterable[Any]) -> None:
        self._set_layer_arrays("coefs", values)

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """``intercepts_[i]`` of shape ``(n_units[i + 1],)``: views of the network's biases.

        Before the first fit, the list assigned to ``intercepts_``.
        """
        return self._layer_arrays("intercepts")

    @intercepts_.setter
    def intercepts_(self, values: Iterable[Any]) -> None:
        self._set_layer_arrays("intercepts", values)

    def _layer_arrays(self, kind: str) -> list[Any]:
        """The network's weights or biases (``kind``), or the list assigned before fitting."""
        net = self.__dict__.get("_net")
        if net is not None:
            return ParameterViews(net.weights if kind == "coefs" else (net.biases or []))
        given = self.__dict__.get(f"_given_{kind}")
        if given is None:
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. Call "
                                 f"'fit' with appropriate arguments before using this "
                                 f"estimator.")
        return cast(list, given)

    def _set_layer_arrays(self, kind: str, values: Iterable[Any]) -> None:
        """Write ``values`` into the fitted network's arrays, or keep them for the first fit."""
        if "_net" not in self.__dict__:
            self.__dict__[f"_given_{kind}"] = values if isinstance(values, list) else list(values)
            return
        views = self._layer_arrays(kind)
        values = list(values)
        if len(values) != len(views):
            raise ValueError(f"{kind}_ takes one array per layer: {len(views)}, got "
                             f"{len(values)}")
        for i, value in enumerate(values):
            views[i] = value

    def _hidden_sizes(self) -> list[int]:
        return hidden_sizes(self.hidden_layer_sizes)

    def _initialize(self, X: np.ndarray, Y: np.ndarray, rng: np.random.Generator) -> None:
        """Build a new network for ``X (n_samples, n_features)``, ``Y (n_samples, n_outputs)``."""
        n_outputs = Y.shape[1]
        out, loss, scale = self._output(n_outputs)
        dtype = np.dtype(self.dtype) if self.dtype is not None else X.dtype
        # poisson's output is an Activation object (exp, output-only), taken as it is
        self._net = MLP(X.shape[1], self._hidden_sizes(), n_outputs,
                        activation=activation_name(self.activation),
                        output_activation=out,  # type: ignore[arg-type]
                        dtype=dtype, random_state=rng)
        self.__dict__.pop("_given_coefs", None)
        self.__dict__.pop("_given_intercepts", None)
        self._loss, self._scale = loss, scale
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(self._net.layer_sizes)
        name = self._net.output_activation
        self.out_activation_ = SKLEARN_OUT.get(name, name)
        self.n_iter_ = 0
        self.t_ = 0
        self._best_parameters = self._net.flat_parameters.copy()
        self._forget_optimizer()                # a new network starts a new optimizer
        if self.solver != "lbfgs":
            self._reset_progress()

    def _initialize_from_given(self, X: Any, Y: np.ndarray, rng: np.random.Generator) -> None:
        """Build the network with the ``coefs_`` and ``intercepts_`` assigned before fitting."""
        coefs = self.__dict__.get("_given_coefs")
        intercepts = self.__dict__.get("_given_intercepts")
        if coefs is None or intercepts is None:
            raise ValueError("assign both coefs_ and intercepts_ (one array per layer) before "
                             "the first partial_fit, or neither")
        sizes = [X.shape[1], *self._hidden_sizes(), Y.shape[1]]
        for kind, given, shapes in (
                ("coefs_", coefs, [(a, b) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]),
                ("intercepts_", intercepts, [(b,) for b in sizes[1:]])):
            got = [np.shape(v) for v in given]
            if got != shapes:
                raise ValueError(f"{kind} must hold arrays of shapes {shapes} for "
                                 f"{X.shape[1]} features, hidden_layer_sizes="
                                 f"{self.hidden_layer_sizes} and {Y.shape[1]} output(s); got "
                                 f"{got}")
        self._initialize(X, Y, rng)
        net = self._net
        for targets, given in ((net.weights, coefs), (net.biases or [], intercepts)):
            for target, value in zip(targets, given, strict=True):
                target[...] = value
        self._best_parameters = net.flat_parameters.copy()

    def _reset_progress(self) -> None:
        """The per-epoch attributes :meth:`_end_epoch` grows, empty."""
        self.loss_curve_: list[float] = []
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_loss_curve_: list[float] | None = []
            self.validation_scores_: list[float] | None = []
            self.best_validation_score_: float | None = -np.inf
            self.best_loss_: float | None = None
        else:
            self.best_loss_ = np.inf
            self.validation_loss_curve_ = None
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
            self._refuse_overflow(X)
            self._forget_optimizer()            # its state no longer describes the weights
            total = X.shape[0] if sample_weight is None else float(sample_weight.sum())
            try:
                self.n_iter_, self.loss_ = fit_lbfgs(
                    self._net, X, Y, loss=self._loss, scale=self._scale,
                    l2=l2_penalty(self.alpha, self._scale, total), sample_weight=sample_weight,
                    max_iter=self.max_iter, max_fun=self.max_fun, tol=self.tol,
                    verbose=bool(self.verbose))
            except ValueError as exc:           # not a number at the start: the data's doing
                raise ValueError(f"{NON_FINITE} {exc}") from None
        else:
            try:
                self._fit_stochastic(X, Y, sample_weight, incremental, rng)
            except ValueError:
                if self.n_iter_ == 0:           # numnet.fit refused X before any epoch:
                    self._refuse_overflow(X)    # scikit-learn's error if X overflows
                raise
        if not np.isfinite(self._net.flat_parameters).all():
            raise ValueError(NON_FINITE)
        if self.verbose:
            self._say_baseline(Y)
        return self

    def _say_baseline(self, Y: np.ndarray) -> None:
        """After ``verbose`` training: the loss (scikit-learn's units) of always predicting the
        constant fitted on the training targets ``Y (n_samples, n_outputs)``, and a line
        when the network does no better (:mod:`numnet.baselines`)."""
        base = Baseline.fit(Y, self._loss)
        value = self._scale * base.score(Y)
        self._say(f"Baseline loss = {value:.8f} (always predicting {base.what})")
        if learned_nothing(self.loss_, value):
            self._say("The network learned nothing: its loss is no lower than the baseline's; "
                      "try more max_iter, another learning_rate_init, more hidden units, or "
                      "solver='adam'")

    def summary(self) -> str:
        """The fitted network as text (:meth:`numnet.MLP.summary`): its layers, shapes,
        activations and parameter counts, and what trains it (the runner, or lbfgs)."""
        check_is_fitted(self)
        if self.solver == "lbfgs":
            return (f"{self._net.summary(runner=False)}\nsolver='lbfgs' trains it with "
                    f"scipy's L-BFGS-B on the whole set (the network's own forward and "
                    f"backward passes)")
        n_samples = self.t_ // max(1, self.n_iter_) or None
        batch = stochastic.batch_size(self.batch_size, n_samples) if n_samples else "auto"
        return self._net.summary(batch_size=batch, optimizer=self._optimizer,
                                 loss=self._loss, dropout=self.dropout, n_samples=n_samples)

    def _refuse_overflow(self, X: Any) -> None:
        """scikit-learn's error, with numnet's reason, when ``X`` overflows the network."""
        try:
            rows.check_overflow(self._net, X)
        except ValueError as exc:
            raise ValueError(f"{NON_FINITE} {exc}") from None

    def _prepare(self, X: Any, y: Any, sample_weight: Any, incremental: bool,
                 rng: np.random.Generator
                 ) -> tuple[Any, np.ndarray, np.ndarray | None]:
        """``X`` (an ndarray, or sparse CSR), ``Y (n_samples, n_outputs)`` and weights in the
        network's dtype.

        Builds the network on a first pass (from ``coefs_`` and
        ``intercepts_`` when they were assigned before a ``partial_fit`` or a
        warm-started fit); otherwise checks that the data continue the fitted one.
        """
        fitted = "_net" in self.__dict__
        given = not fitted and ("_given_coefs" in self.__dict__
                                or "_given_intercepts" in self.__dict__)
        continuing = (fitted or given) and (self.warm_start or incremental)
        X, Y = self._validate_input(X, y, incremental, reset=not continuing)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if not continuing:
            self._initialize(X, Y, rng)
        elif not fitted:
            self._initialize_from_given(X, Y, rng)
        elif Y.shape[1] != self.n_outputs_ or self._hidden_sizes() != self._net.hidden_layers:
            raise ValueError(f"warm_start and partial_fit continue the fitted network "
                             f"{self._net.hidden_layers} with {self.n_outputs_} output(s); got "
                             f"hidden_layer_sizes={self.hidden_layer_sizes} and {Y.shape[1]} "
                             f"output(s): fit again without warm_start")
        dtype = self._net.dtype
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=dtype)
        per_class = self._class_weights(y, incremental)
        if per_class is not None:
            per_class = per_class.astype(dtype)
            sample_weight = per_class if sample_weight is None else sample_weight * per_class
        return rows.in_dtype(X, dtype), np.asarray(Y, dtype=dtype), sample_weight

    def _class_weights(self, y: Any, incremental: bool) -> np.ndarray | None:
        """Per-sample weights from the classes (the classifier's ``class_weight``), or None."""
        return None

    # --- sgd and adam: epochs run by numnet.fit, with scikit-learn's per-epoch rules -----

    def _fit_stochastic(self, X: Any, Y: np.ndarray, sample_weight: np.ndarray | None,
                        incremental: bool, rng: np.random.Generator) -> None:
        """Train for ``max_iter`` epochs (one with ``partial_fit``), in place.

        ``X (n_samples, n_features)`` (an ndarray, or sparse CSR: densified a few
        mini-batches at a time, :class:`.rows.SparseRows`), ``Y (n_samples,
        n_outputs)`` encoded, in the network's dtype; ``rng`` draws the
        early-stopping split and the shuffling. With ``incremental`` or
        ``warm_start`` the optimizer's state carries over while its settings are
        unchanged (:meth:`_keep_or_new_optimizer`).
        """
        self._keep_or_new_optimizer(incremental)
        if self.early_stopping and incremental:
            raise ValueError("partial_fit does not support early_stopping=True")
        validation = None
        if self.early_stopping:
            X, Y, sample_weight, (X_val, Y_val, sw_val) = stochastic.hold_out(
                X, Y, sample_weight, self.validation_fraction, self._stratify(Y), rng)
            validation = (X_val, self._decode(Y_val), sw_val)
        n_samples = X.shape[0]
        batch_size = stochastic.batch_size(self.batch_size, n_samples)
        batch_total = batch_size * (1.0 if sample_weight is None else float(sample_weight.mean()))
        scorer = None if validation is None or self.scoring is None else get_scorer(self.scoring)

        def end_epoch(loss: float) -> str | None:
            if self.early_stopping:     # the held-out loss of the weights the epoch ends with
                curve = getattr(self, "validation_loss_curve_", None)
                if curve is None:                        # a file saved before it was kept
                    curve = self.validation_loss_curve_ = []
                curve.append(self._held_out_loss(X_val, Y_val, sw_val))
            return self._end_epoch(loss, n_samples, validation, scorer)

        rules = EpochEnd(end_epoch)
        self.n_iter_ = 0
        with stochastic.continued_schedule(self._optimizer, self._optimizer_epochs):
            history = fit(self._net, rows.trainable(X), Y, loss=self._loss,
                          optimizer=self._optimizer,
                          epochs=1 if incremental else self.max_iter, batch_size=batch_size,
                          shuffle=self.shuffle,
                          callbacks=[rules, *stochastic.guarded(self.callbacks or [])],
                          l2=l2_penalty(self.alpha, self._scale, batch_total),
                          dropout=self.dropout, verbose=False, random_state=rng,
                          sample_weight=sample_weight)
        diverged = (history.stop_reason or "").startswith("diverged")
        if diverged and not self.early_stopping:
            self._forget_optimizer()            # its moments hold NaN/inf: the next fit restarts
            # scikit-learn ends such a run with NaN weights and this error; the guard put
            # finite ones back (with early_stopping, the best epoch's are kept: a warning)
            raise ValueError(f"{NON_FINITE} The loss became NaN/inf at iteration "
                             f"{self.n_iter_}: lower learning_rate_init, or scale the data "
                             f"(e.g. sklearn's StandardScaler).")
        stochastic.warn_if_unfinished(history.interrupted, rules.stopped is not None,
                                      self.n_iter_, self.max_iter, incremental,
                                      history.stop_reason)
        if self.early_stopping:
            self._net.flat_parameters[...] = self._best_parameters
            self._restore_best_optimizer()

    # --- the optimizer's state across fits -------------------------------------------

    def _optimizer_settings(self) -> str:
        """The parameters the optimizer is built from (:data:`.parameters.OPTIMIZER_SETTINGS`
        and ``optimizer``'s config), as JSON text: a change restarts the optimizer."""
        params = self.get_params(deep=False)
        settings = {name: params[name] for name in OPTIMIZER_SETTINGS}
        settings["optimizer"] = None if self.optimizer is None else self.optimizer.get_config()
        return json.dumps(persistence.plain_json(settings), sort_keys=True)

    def _keep_or_new_optimizer(self, incremental: bool) -> None:
        """Keep the optimizer (moments, step count ``t``, rate, schedule position) when
        ``partial_fit`` or ``warm_start`` continues the network with the same optimizer
        settings; otherwise start a new one, as scikit-learn does on every ``fit``."""
        settings = self._optimizer_settings()
        if (self.__dict__.get("_optimizer") is None or not (incremental or self.warm_start)
                or self.__dict__.get("_optimizer_key") != settings):
            self._optimizer = self._new_optimizer()
            self._optimizer_key = settings
            self._optimizer_epochs = 0
            self._best_optimizer: dict[str, Any] | None = None

    def _forget_optimizer(self) -> None:
        """Drop the optimizer's state: the next ``sgd``/``adam`` fit starts a new one."""
        for name in ("_optimizer", "_optimizer_key", "_best_optimizer"):
            self.__dict__.pop(name, None)
        self._optimizer_epochs = 0

    def _snapshot_optimizer(self) -> None:
        """Keep the optimizer's state with the best epoch's weights (``early_stopping``)."""
        self._best_optimizer = {"settings": self._optimizer_key,
                                "state": self._optimizer.state_dict(),
                                "epochs": self._optimizer_epochs}

    def _restore_best_optimizer(self) -> None:
        """After ``early_stopping``, the optimizer's state of the best epoch, whose weights
        the network now holds; a new optimizer when that state is not at hand."""
        best = self.__dict__.get("_best_optimizer")
        if best is not None and best["settings"] == self._optimizer_key:
            self._optimizer.load_state_dict(best["state"])
            self._optimizer_epochs = best["epochs"]
        else:
            settings = self._optimizer_key
            self._forget_optimizer()
            self._optimizer, self._optimizer_key = self._new_optimizer(), settings

    def _new_optimizer(self) -> optimizers.Optimizer:
        """The optimizer ``solver`` names in scikit-learn's units, or a copy of ``optimizer=``."""
        if self.optimizer is not None:          # a fresh copy: the parameter is never mutated
            return optimizers.optimizer_from_config(self.optimizer.get_config())
        s = self._scale
        if self.solver == "sgd":
            momentum = float(self.momentum)
            return optimizers.SGD(s * self.learning_rate_init, momentum=momentum,
                                  nesterov=bool(self.nesterovs_momentum) and momentum > 0)
        return optimizers.Adam(self.learning_rate_init, beta_1=self.beta_1, beta_2=self.beta_2,
                               epsilon=self.epsilon / s)

    def _end_epoch(self, numnet_loss: float, n_samples: int,
                   validation: Validation | None, scorer: Scorer | None = None) -> str | None:
        """scikit-learn's end-of-epoch rules; the reason to stop, or None.

        Records ``loss_curve_``, ``n_iter_`` and ``t_`` (``n_samples`` per
        epoch), keeps the no-improvement count on the training loss (or on the
        ``validation`` score, by ``scorer`` if given, keeping the best weights
        and the optimizer's state with them, with ``early_stopping``) and
        applies the ``"invscaling"`` and ``"adaptive"`` rates. No numnet
        schedule matches these (they count samples, and share the stopping
        counter), so they set the optimizer's rate here.
        """
        self._optimizer_epochs += 1
        loss = self._record(self._scale * numnet_loss, n_samples)
        best = self.best_validation_score_
        improved = (self._score_improved(validation, scorer) if validation is not None
                    else self._loss_improved(loss))
        self._no_improvement_count = 0 if improved else self._no_improvement_count + 1
        if self._sgd_schedule("invscaling"):
            self._optimizer.learning_rate = (self._scale * self.learning_rate_init
                                             / (self.t_ + 1) ** self.power_t)
        if validation is not None and self.best_validation_score_ != best:
            self._snapshot_optimizer()
        if self._no_improvement_count > self.n_iter_no_change:
            return self._on_plateau(validation is not None)
        return None

    def _record(self, loss: float, n_samples: int) -> float:
        """Count the epoch and record its loss (scikit-learn's units); return it."""
        self.n_iter_ += 1
        self.t_ += n_samples
        self.loss_ = loss
        self.loss_curve_.append(loss)
        self._say(f"Iteration {self.n_iter_}, loss = {loss:.8f}")
        return loss

    def _say(self, message: str) -> None:
        """scikit-learn's ``verbose`` output: a line on stdout."""
        if self.verbose:
            print(message)

    def _held_out_loss(self, X: Any, Y: np.ndarray, sample_weight: np.ndarray | None
                       ) -> float:
        """The loss (scikit-learn's units, without the ``alpha`` penalty) of the network now
        on held-out ``X (n, n_features)`` (sparse: a block of rows at a time), ``Y (n,
        n_outputs)`` encoded as for training; NaN when the outputs are not numbers."""
        lossfn = losses.get_loss(self._loss)
        with np.errstate(all="ignore"):
            parts = [self._net.forward_train(block)[0] for _, _, block in rows.blocks(X)]
            P = parts[0] if len(parts) == 1 else np.concatenate(parts)
            if sample_weight is None:
                value = float(lossfn.value(P, Y))
            else:
                value = float(losses.weighted_value(lossfn, P, Y,
                                                    losses.normalize_weights(sample_weight)))
        return self._scale * value if math.isfinite(value) else math.nan

    def _score_improved(self, validation: Validation, scorer: Scorer | None = None) -> bool:
        """Score the held-out set (``score``, or ``scorer``: ``scoring``'s); keep the best
        weights; did it beat the best by ``tol``?"""
        score = (self._score(*validation) if scorer is None
                 else self._scorer_score(scorer, *validation))
        cast(list, self.validation_scores_).append(score)
        self._say(f"Validation score: {score:f}")
        best = cast(float, self.best_validation_score_)
        if score > best:
            self.best_validation_score_ = score
            self._best_parameters = self._net.flat_parameters.copy()
        return score >= best + self.tol

    def _scorer_score(self, scorer: Scorer, X: Any, y: Any, sample_weight: Any) -> float:
        """``scorer(self, X, y)`` (with ``sample_weight`` if any); NaN when the network's
        outputs are not numbers, as :meth:`_score` gives."""
        try:
            outputs = self._forward(X, check_input=False)
        except ValueError:                  # the network's outputs are not numbers
            return np.nan
        if not np.isfinite(outputs).all():
            return np.nan
        weights = {} if sample_weight is None else {"sample_weight": sample_weight}
        return float(scorer(self, X, y, **weights))

    def _loss_improved(self, loss: float) -> bool:
        """Did the training loss fall under the best by ``tol``? Keeps ``best_loss_``."""
        best = cast(float, self.best_loss_)
        self.best_loss_ = min(best, loss)
        return loss <= best - self.tol

    def _sgd_schedule(self, name: str) -> bool:
        return self.optimizer is None and self.solver == "sgd" and self.learning_rate == name

    def _on_plateau(self, on_validation: bool) -> str | None:
        """No improvement for too long: divide an ``"adaptive"`` rate by 5, or stop (why)."""
        opt = self._optimizer
        what = "Validation score" if on_validation else "Training loss"
        reason = (f"{what} did not improve more than tol={self.tol:f} for "
                  f"{self.n_iter_no_change} consecutive epochs.")
        if self._sgd_schedule("adaptive"):
            if opt.learning_rate / self._scale > ADAPTIVE_FLOOR:
                opt.learning_rate /= 5.0
                self._no_improvement_count = 0
                self._say(f"{reason} Setting learning rate to "
                          f"{opt.learning_rate / self._scale:f}")
                return None
            self._say(f"{reason} Learning rate too small. Stopping.")
        else:
            self._say(f"{reason} Stopping.")
        return reason

    def _check_solver(self) -> bool:
        """``partial_fit`` exists for the stochastic solvers only (``available_if``)."""
        if self.solver == "lbfgs":
            raise AttributeError(f"partial_fit is only available for stochastic optimizers. "
                                 f"{self.solver} is not stochastic.")
        return True

    # --- numnet's files --------------------------------------------------------------

    def numnet_state(self) -> dict[str, Any]:
        """Parameters, fitted attributes and the optimizer's state as JSON, for :func:`numnet.save`.

        The network's weights are saved beside it as tensors; the optimizer's
        state (``sgd``/``adam``: its moments, step count, rate and schedule
        position), under ``"optimizer"``, so that a ``partial_fit`` or
        warm-started ``fit`` of the loaded estimator continues it, as the
        estimator itself would (its arrays as exact base64 text, up to
        :data:`.persistence.MAX_OPTIMIZER_BYTES`). Not saved: a
        ``random_state`` that is not an int, ``callbacks``, a ``scoring``
        that is not a name (logged). An output activation numnet's files
        cannot name (one that is not registered) is refused, saying to use
        joblib.
        """
        check_is_fitted(self)
        out = self._net.output_activation
        if out not in activations.ACTIVATIONS:
            raise ValueError(f"{type(self).__name__}(loss={self.loss!r}) cannot be saved by "
                             f"numnet.save yet: its {out!r} output is not one of the activations "
                             f"numnet's files hold; save it with joblib.dump instead")
        fitted = {name: persistence.finite_json(getattr(self, name))
                  for name in persistence.FITTED if hasattr(self, name)}
        fitted["classes_"] = getattr(self, "classes_", None)
        params = persistence.params_to_json(self.get_params(deep=False), self._hidden_sizes())
        return {"params": params, "fitted": fitted, "loss": self._loss, "scale": self._scale,
                "no_improvement_count": getattr(self, "_no_improvement_count", 0),
                "target_type": self._target_type(), "optimizer": self._optimizer_record()}

    def _optimizer_record(self) -> dict[str, Any] | None:
        """The optimizer's state as JSON, or None: none yet, or one the estimator's
        settings no longer build (the next fit would restart it anyway)."""
        opt = self.__dict__.get("_optimizer")
        settings = self.__dict__.get("_optimizer_key")
        if opt is None or self.solver == "lbfgs" or settings != self._optimizer_settings():
            return None
        saved = persistence.optimizer_to_json(opt.state_dict())
        if saved is None:
            return None
        return {"settings": settings, "epochs": self._optimizer_epochs, "state": saved}

    def _restore_optimizer(self, record: Any) -> None:
        """The optimizer :meth:`_optimizer_record` saved, checked against the network and
        the estimator's settings (a file saved before there was one has none)."""
        if record is None:
            return
        if not isinstance(record, dict) or set(record) != {"settings", "epochs", "state"}:
            raise ValueError("the optimizer's record must be an object with keys 'settings', "
                             "'epochs', 'state'")
        settings, epochs = record["settings"], record["epochs"]
        if settings != self._optimizer_settings():
            raise ValueError("the saved optimizer state is not that of the estimator's "
                             "optimizer settings")
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
            raise ValueError(f"the optimizer's epochs must be a count, got {epochs!r:.50}")
        opt = self._new_optimizer()
        net = self._net
        opt.load_state_dict(persistence.optimizer_from_json(
            record["state"], opt.get_config(), net.dtype, net.num_parameters))
        self._optimizer, self._optimizer_key, self._optimizer_epochs = opt, settings, epochs
        self._snapshot_optimizer()          # its weights are the network's (the best ones)

    @classmethod
    def from_numnet_state(cls, net: MLP, state: dict[str, Any]) -> BaseMLP:
        """Inverse of :meth:`numnet_state` around the loaded ``net`` (checked, never trusted).

        :func:`numnet.load` calls it for a file that holds this class.
        """
        params = persistence.params_from_json(state["params"])
        persistence.check_known({key: params.get(key) for key in ("activation",
                                                                  "output_activation")},
                                state["loss"])
        est = cls(**params)
        est._validate_params()
        fitted = state["fitted"]
        for name, value in persistence.fitted_from_json(fitted).items():
            setattr(est, name, value)
        est._check_matches(net)
        est._net, est._loss, est._scale = net, str(state["loss"]), float(state["scale"])
        est._no_improvement_count = int(state["no_improvement_count"])
        est._best_parameters = net.flat_parameters.copy()
        est._restore_targets(state["target_type"], fitted.get("classes_"))
        persistence.check_classes(fitted.get("classes_"), net)
        est._restore_optimizer(state.get("optimizer"))
        return est

    def _check_matches(self, net: Network) -> None:
        """The restored attributes describe ``net``: its features, outputs and hidden layers."""
        if self.n_features_in_ != net.num_inputs or self.n_outputs_ != net.num_outputs:
            raise ValueError(f"the estimator's {self.n_features_in_} features and "
                             f"{self.n_outputs_} outputs do not match its network, {net!r}")
        if list(net.hidden_layers) != self._hidden_sizes():
            raise ValueError(f"hidden_layer_sizes={self.hidden_layer_sizes} does not match the "
                             f"network's {net.hidden_layers}")
        names = getattr(self, "feature_names_in_", None)
        if names is not None and len(names) != self.n_features_in_:
            raise ValueError(f"the estimator's {len(names)} feature names do not match its "
                             f"{self.n_features_in_} features")

    # --- pickle, copy and skops -------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        """The estimator's attributes with numnet's objects as plain values.

        The network becomes its config and flat parameters, the optimizer its
        ``state_dict()`` (arrays and JSON values), an ``optimizer=`` parameter
        its config; so pickle and :func:`copy.deepcopy` keep everything, and a
        skops file (:func:`numnet.estimators.save_pipeline`, ``skops.io.dump``)
        holds no numnet type but the estimator's class, whose
        :meth:`__setstate__` checks all of it. ``callbacks``, a ``scoring``
        callable and a Generator ``random_state`` stay the objects they are.
        """
        state = dict(super().__getstate__())
        net = state.get("_net")
        if isinstance(net, Network):
            state["_net"] = persistence.network_to_plain(net)
        for name in ("_optimizer", "optimizer"):
            opt = state.get(name)
            if isinstance(opt, optimizers.Optimizer) \
                    and type(opt) in optimizers.OPTIMIZERS.values():
                state[name] = {_OPTIMIZER_KEY: opt.state_dict() if name == "_optimizer"
                               else opt.get_config()}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Rebuild what :meth:`__getstate__` made plain, checking it (a skops file is not
        trusted): the network against its config and the estimator's attributes, the
        optimizer's state against the network. Older pickles (objects) load as they are."""
        state = dict(state)
        if isinstance(state.get("_net"), dict):
            state["_net"] = persistence.network_from_plain(state["_net"])
        opt = state.get("optimizer")
        if isinstance(opt, dict) and set(opt) == {_OPTIMIZER_KEY}:
            state["optimizer"] = optimizers.optimizer_from_config(opt[_OPTIMIZER_KEY])
        opt = state.get("_optimizer")
        if isinstance(opt, dict) and set(opt) == {_OPTIMIZER_KEY}:
            state["_optimizer"] = _optimizer_from_state(opt[_OPTIMIZER_KEY])
        super().__setstate__(state)
        self._check_restored()

    def _check_restored(self) -> None:
        """The internals of an unpickled (or skops-loaded) estimator describe its network."""
        net = self.__dict__.get("_net")
        if net is None:
            return
        if not isinstance(net, Network):
            raise TypeError(f"the estimator's network must be a numnet network, got "
                            f"{type(net).__name__}")
        self._check_matches(net)
        persistence.check_known({}, self.__dict__.get("_loss"))
        scale = self.__dict__.get("_scale")
        if not isinstance(scale, numbers.Real) or not (math.isfinite(scale) and float(scale) > 0):
            raise ValueError(f"the loss scale must be a positive number, got {scale!r:.50}")
        best = self.__dict__.get("_best_parameters")
        if best is not None and (not isinstance(best, np.ndarray)
                                 or best.shape != net.flat_parameters.shape):
            raise ValueError("the best parameters must be an array like the network's")
        best_opt = self.__dict__.get("_best_optimizer")
        if best_opt is not None and (not isinstance(best_opt, dict)
                                     or set(best_opt) != {"settings", "state", "epochs"}):
            raise ValueError("the best epoch's optimizer state must be an object with keys "
                             "'settings', 'state', 'epochs'")
        opt = self.__dict__.get("_optimizer")
        if isinstance(opt, optimizers.Optimizer):
            for arrays in opt.state.values():
                if [a.shape for a in arrays] != [net.flat_parameters.shape]:
                    raise ValueError("the optimizer's state must hold one array like the "
                                     "network's parameters")

    # --- prediction ---------------------------------------------------------------

    def _forward(self, X: Any, check_input: bool = True) -> np.ndarray:
        """Network outputs ``(n_samples, n_outputs)`` in the network's dtype.

        A sparse ``X`` is densified a block of rows at a time (:mod:`.rows`).
        """
        check_is_fitted(self)
        if check_input:
            X = validate_data(self, X, reset=False, accept_sparse=rows.SPARSE_FORMATS,
                              dtype=(np.float64, np.float32))
        return rows.forward(self._net, rows.in_dtype(X, self._net.dtype))

    def _score_with(self, X: Any, y: Any, sample_weight: Any,
                    score_function: Callable[..., float]) -> float:
        """``score_function(y, predict(X))``; NaN when the predictions are not finite."""
        try:
            y_pred = self._predict(X, check_input=False)
        except ValueError:                  # the network's outputs are not numbers
            return np.nan
        if np.issubdtype(y_pred.dtype, np.floating) and not np.isfinite(y_pred).all():
            return np.nan
        return float(score_function(y, y_pred, sample_weight=sample_weight))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True       # CSR and CSC, densified a block of rows at a time
        return tags


#: How ``__getstate__`` marks an optimizer it made plain (its state_dict or config).
_OPTIMIZER_KEY = "numnet_optimizer"


def _optimizer_from_state(state: Any) -> optimizers.Optimizer:
    """A registered optimizer from its ``state_dict()``: the class by name, then its own checks."""
    if not isinstance(state, dict):
        raise TypeError(f"an optimizer's state must be a dict, got {type(state).__name__}")
    classes = {cls.__name__: cls for cls in optimizers.OPTIMIZERS.values()}
    cls = classes.get(state.get("type"))  # type: ignore[arg-type]
    if cls is None:
        raise ValueError(f"unknown optimizer {state.get('type')!r:.50}; known: {sorted(classes)}")
    opt = cls(learning_rate=1.0)
    opt.load_state_dict(state)
    return opt


def ravel_column(y: np.ndarray) -> np.ndarray:
    """A column vector ``y (n_samples, 1)`` as ``(n_samples,)``, with scikit-learn's warning."""
    if y.ndim == 2 and y.shape[1] == 1:
        warnings.warn("A column-vector y was passed when a 1d array was expected. "
                      "Please change the shape of y to (n_samples,), for example "
                      "using ravel().", DataConversionWarning, stacklevel=6)
        return y.ravel()
    return y
