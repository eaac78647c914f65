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
>>> clf = MLPClassifier(hidden_layer_sizes=(16,), max_iter=2000, random_state=0).fit(X, y)
>>> clf.score(X, y) > 0.9
True

Notes
-----
**How scikit-learn's rules map onto numnet**

- **The loss.** scikit-learn reports ``s * L + alpha / (2 n_batch) * sum(W ** 2)``
  where ``L`` is numnet's loss (mean over samples and outputs) and ``s`` is
  ``0.5`` for ``squared_error`` (half the squared error), the number of
  outputs for multilabel classification (its binary log-loss sums over
  labels) and for ``poisson`` (half the Poisson deviance, summed over
  outputs, on exponential outputs: a log link), and 1 otherwise. numnet
  trains on that objective divided by ``s``: ``fit(..., l2=alpha / (s *
  batch_size))``, the SGD rate multiplied by ``s`` and Adam's ``epsilon``
  divided by it, so the updates are scikit-learn's.
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
  ``learning_rate="invscaling"``/``"adaptive"``) are the estimator's methods,
  run by ``fit`` through a callback after each epoch: no improvement
  by ``tol`` for more than ``n_iter_no_change`` epochs (training loss, or
  validation score with ``early_stopping``) stops training, or, for
  ``sgd`` with ``"adaptive"``, divides the rate by 5 until it falls under
  1e-6; ``"invscaling"`` sets the rate to ``learning_rate_init / (t + 1) **
  power_t`` with ``t`` the samples seen. No numnet schedule matches these
  (they count samples, and share the stopping counter), so the estimator
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
- Sparse ``X`` (CSR or CSC, as scikit-learn's MLPs take it) is densified a
  block of rows at a time, never whole: by ``lbfgs`` (its loss and gradient
  summed over the blocks), by prediction, and by ``sgd`` and ``adam``, which
  densify the rows of a few mini-batches at a time, in the order they train
  (the same numbers as on ``X.toarray()``; ``rows.SparseRows``).
- ``activation=`` and ``output_activation=`` take a name
  :func:`numnet.activations.register` added, and ``MLPRegressor(loss=...)`` one
  :func:`numnet.losses.register` added; the parameter validation follows the
  registries. Files keep the names, never the code: they load where the same
  names are registered, and are refused in one line naming them elsewhere.
- ``partial_fit`` takes multilabel (classifier) and multi-output (regressor)
  targets as ``fit`` does; a multilabel ``y``'s classes are its columns.
- A run whose loss or weights stop being numbers (NaN/inf) stops there
  (scikit-learn trains on with NaN to ``max_iter``), with scikit-learn's
  error (its weights are the last finite ones), or with ``early_stopping``
  the best epoch's weights and a ``ConvergenceWarning``. A loss that only
  grows trains on, as there.
- ``verbose`` prints scikit-learn's lines (``Iteration N, loss = ...``) on
  stdout, also per ``lbfgs`` iteration (scipy prints nothing since 1.15).
- ``lbfgs`` with ``tol`` under scipy's ``ftol`` (2.2e-9) uses it for the
  relative reduction as well as the gradient, so ``tol=0`` runs to
  ``max_iter`` or ``max_fun``; scikit-learn stops on scipy's ``ftol`` still.
- ``warm_start`` (and ``partial_fit``) continue the optimizer's state (Adam's
  moments and step count, the momentum, the rate of ``"invscaling"`` and
  ``"adaptive"``, an ``optimizer=``'s schedule position) while the optimizer
  settings are unchanged; scikit-learn starts a new optimizer at every warm
  ``fit``. Two warm-started fits of ``n`` epochs are one fit of ``2 n``, bit
  for bit (shuffling aside); the state is saved by :func:`numnet.save`,
  pickle and skops with the estimator.
- ``scoring`` (numnet's, named as ``HistGradientBoosting*``'s) is what
  ``early_stopping`` watches: a scorer's name or callable
  (:func:`sklearn.metrics.get_scorer`); None is ``score``, as in scikit-learn.
- A pipeline holding numnet estimators is saved without pickle in skops'
  format by :func:`save_pipeline` and loaded by :func:`load_pipeline`, which
  trusts numnet's estimators (:data:`TRUSTED_TYPES`) besides skops' defaults.
- ``MLPRegressor(loss="poisson")`` has an ``exp`` output (an output-only
  activation, :data:`numnet.activations.EXP`): :func:`numnet.save`, skops and
  ONNX (an ``Exp`` node) keep it.

**Modules**

``parameters`` (names, constraints, documentation), ``base`` (what both
estimators share: the network, fit with its per-epoch rules, predict, the
saved state), ``stochastic`` (plain helpers of the ``sgd``/``adam`` fit),
``lbfgs`` (scipy's L-BFGS-B on the network and arrays), ``rows`` (dense or
sparse ``X``, a block of rows at a time), ``persistence`` (the state's JSON
and plain conversions and checks), ``classifier`` and ``regressor``, and
``pipelines`` (skops files of whole pipelines).
``base`` imports the helpers, which import no other module of this package but
``rows``, and the two estimators import ``base``; none imports :mod:`numnet.io` or the facade:
:func:`numnet.load` imports this package to rebuild an estimator
(``MLPClassifier.from_numnet_state``), never the other way round.
"""

from __future__ import annotations

import importlib


def _require_extra() -> None:
    """Name the extra to install when scikit-learn or scipy is missing.

    Checked here, before any submodule is imported, so that the message is
    the same however ``numnet.estimators`` is reached.
    """
    for name in ("sklearn", "scipy.optimize"):
        try:
            importlib.import_module(name)
        except ImportError as exc:
            raise ImportError("numnet.estimators needs scikit-learn and scipy; install them "
                              "with pip install 'numnet[sklearn]'") from exc


_require_extra()

from .classifier import MLPClassifier  # noqa: E402  (after the check of the extra)
from .pipelines import (  # noqa: E402
    TRUSTED_TYPES,
    UntrustedTypesError,
    load_pipeline,
    save_pipeline,
)
from .regressor import MLPRegressor  # noqa: E402

__all__ = ["MLPClassifier", "MLPRegressor", "save_pipeline", "load_pipeline", "TRUSTED_TYPES",
           "UntrustedTypesError"]
