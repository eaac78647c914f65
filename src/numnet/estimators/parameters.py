"""scikit-learn's MLP parameters in numnet's terms: names, constraints, documentation.

What both estimators share about their parameters: the activation names
scikit-learn and numnet use, the constraints scikit-learn validates, the
``Parameters`` section of both docstrings, and the conversions of
``random_state``, ``hidden_layer_sizes`` and ``alpha`` into what numnet takes.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from sklearn.metrics import get_scorer_names
from sklearn.utils._param_validation import HasMethods, Interval, Options, StrOptions, _Constraint

from numnet import activations, losses

#: Hidden activations by scikit-learn's names and numnet's -> numnet's name. A name
#: registered by :func:`numnet.activations.register` is its own (:func:`activation_name`).
ACTIVATIONS = {"identity": "identity", "logistic": "sigmoid", "tanh": "tanh", "relu": "relu",
               "sigmoid": "sigmoid", "leaky_relu": "leaky_relu", "elu": "elu",
               "softplus": "softplus"}
#: numnet's output activation names -> scikit-learn's ``out_activation_``.
SKLEARN_OUT = {"sigmoid": "logistic"}


def registered_activations(hidden: bool = True) -> list[str]:
    """Names added by :func:`numnet.activations.register` in this process (``hidden``: those
    a hidden layer may use, not output-only)."""
    return sorted(name for name, act in activations.ACTIVATIONS.items()
                  if name not in activations.BUILTIN and not (hidden and act.output_only))


def registered_losses() -> list[str]:
    """Names added by :func:`numnet.losses.register` in this process."""
    return sorted(name for name in losses.LOSSES if name not in losses.BUILTIN)


def activation_name(name: str) -> str:
    """numnet's name for an ``activation=`` or ``output_activation=`` value (scikit-learn's
    ``"logistic"`` is ``"sigmoid"``; a registered name is itself)."""
    return ACTIVATIONS.get(name, name)


class RegisteredNames(StrOptions):
    """scikit-learn's ``StrOptions`` over names that grow: the ``fixed`` ones and those
    ``registered()`` gives when a value is checked, so that a name registered after
    numnet was imported (:func:`numnet.activations.register`, ...) is taken, and an
    unknown one is refused in scikit-learn's one line listing every valid name."""

    def __init__(self, fixed: Iterable[str], registered: Callable[[], Iterable[str]],
                 how: str) -> None:
        _Constraint.__init__(self)      # Options.__init__ would set the options once
        self.type, self.deprecated = str, set[str]()
        self.fixed, self.registered, self.how = frozenset(fixed), registered, how

    @property
    def options(self) -> set[str]:
        return set(self.fixed) | set(self.registered())

    def __str__(self) -> str:
        return (f"a str among {{{', '.join(repr(o) for o in sorted(self.options))}}} "
                f"({self.how})")

RandomState = int | np.random.Generator | np.random.RandomState | None

#: The parameters the ``sgd``/``adam`` optimizer is built from, with ``optimizer``: while
#: they stay the same, ``warm_start`` and ``partial_fit`` continue the optimizer's state.
OPTIMIZER_SETTINGS = ("solver", "learning_rate", "learning_rate_init", "power_t", "momentum",
                      "nesterovs_momentum", "beta_1", "beta_2", "epsilon")

#: What scikit-learn's ``_validate_params`` checks, for the parameters both estimators have.
PARAMETER_CONSTRAINTS: dict[str, list[Any]] = {
    "hidden_layer_sizes": ["array-like", Interval(numbers.Integral, 1, None, closed="left")],
    "activation": [RegisteredNames(ACTIVATIONS, registered_activations,
                                   "or a name numnet.activations.register added")],
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
    "n_iter_no_change": [Interval(numbers.Real, 1, None, closed="left"),
                         Options(numbers.Real, {np.inf})],
    "max_fun": [Interval(numbers.Integral, 1, None, closed="left")],
    "dtype": [StrOptions({"float32", "float64"}), type, np.dtype, None],
    "output_activation": [RegisteredNames({*ACTIVATIONS, "softmax"},
                                          lambda: registered_activations(hidden=False),
                                          "or a name numnet.activations.register added"),
                          None],
    "dropout": [Interval(numbers.Real, 0, 1, closed="left")],
    "optimizer": [HasMethods(["step", "get_config"]), None],
    "callbacks": ["array-like", None],
    "scoring": [StrOptions(set(get_scorer_names())), callable, None],
}


def as_generator(random_state: RandomState) -> np.random.Generator:
    """A Generator from None, an int, a Generator or a legacy RandomState (drawn from once)."""
    if random_state is None or isinstance(random_state, np.random.Generator):
        return np.random.default_rng(random_state)
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(np.iinfo(np.int32).max))
    return np.random.default_rng(int(random_state))


def hidden_sizes(hidden_layer_sizes: Any) -> list[int]:
    """``hidden_layer_sizes`` (an int or a sequence of them) as a list of positive ints."""
    sizes = hidden_layer_sizes
    sizes = list(sizes) if hasattr(sizes, "__iter__") else [sizes]
    if any(int(h) != h or h <= 0 for h in sizes):
        raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
    return [int(h) for h in sizes]


def l2_penalty(alpha: float, scale: float, total: float) -> float:
    """numnet's ``l2`` for scikit-learn's ``alpha / (2 total) * sum(W ** 2)`` on a loss ``/ scale``.

    ``total`` is the batch size, or the batch's weight total with sample weights.
    """
    return alpha / (scale * total) if total > 0 else 0.0


# The ``Parameters`` and ``Attributes`` sections of both estimators' docstrings, appended at
# import (``__doc__ = __doc__ + doc_parameters(...)``): the parameters both share, in
# signature order, with each estimator's own put where its signature has them.
_DOC_HEAD = """
    Parameters
    ----------
"""

_DOC_SHARED = """\
    hidden_layer_sizes : array-like of shape (n_layers - 2,) or int, default=(100,)
        Width of each hidden layer, left to right; an int is one hidden layer.
    activation : str, default="relu"
        Hidden activation: scikit-learn's ``"identity"``, ``"logistic"``,
        ``"tanh"``, ``"relu"``, or numnet's ``"leaky_relu"``, ``"elu"``,
        ``"softplus"`` (``"sigmoid"`` is ``"logistic"``), or a name
        :func:`numnet.activations.register` added (a file saved with it loads
        where the same name is registered first).
    solver : {"lbfgs", "sgd", "adam"}, default="adam"
        How the weights are trained: scipy's L-BFGS-B on the whole set
        (full-batch), or mini-batch SGD or Adam through :func:`numnet.fit`.
    alpha : float, default=1e-4
        L2 penalty, ``alpha / (2 * batch_size) * sum(W ** 2)`` per batch.
    batch_size : int or "auto", default="auto"
        ``"auto"`` is ``min(200, n_samples)``; a larger int is clipped to
        ``n_samples`` with a warning; ignored by ``lbfgs``.
    learning_rate : {"constant", "invscaling", "adaptive"}, default="constant"
        The ``sgd`` schedule (see the module docstring); ``adam`` keeps its rate.
    learning_rate_init : float, default=0.001
        The starting step size of ``sgd`` and ``adam``.
    power_t : float, default=0.5
        Exponent of ``"invscaling"``.
    max_iter : int, default=200
        Epochs for ``sgd``/``adam``, iterations for ``lbfgs``. A warm-started
        fit runs (at most) ``max_iter`` more.
    shuffle : bool, default=True
        Shuffle the samples before each epoch (``sgd``/``adam``).
    random_state : int, numpy.random.Generator, RandomState or None, default=None
        Seeds the weights, shuffling, dropout and the early-stopping split;
        None draws fresh entropy at each ``fit`` or ``partial_fit``.
    tol : float, default=1e-4
        The least improvement of the loss (or validation score) that counts;
        for ``lbfgs`` the gradient tolerance (scipy's ``gtol``), and the
        relative reduction's as well (``ftol``) when under scipy's 2.2e-9,
        so that ``tol=0`` runs to ``max_iter`` or ``max_fun``.
    verbose : bool, default=False
        scikit-learn's messages on stdout: ``Iteration N, loss = ...`` after
        each epoch (``lbfgs``: iteration), the validation scores, the rate
        changes and why training stopped.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution. With ``sgd`` and ``adam`` the
        optimizer continues too (Adam's moments and step count, the momentum,
        the rate of ``"invscaling"``/``"adaptive"``, the position of an
        ``optimizer=``'s schedule), so that two warm-started fits of ``n``
        epochs train as one of ``2 n`` (the same seed, shuffling aside: an int
        ``random_state`` replays its shuffling at each fit, a Generator goes
        on); it restarts, as scikit-learn's always does, when ``solver``,
        ``learning_rate``, ``learning_rate_init``, ``power_t``, ``momentum``,
        ``nesterovs_momentum``, ``beta_1``, ``beta_2``, ``epsilon`` or
        ``optimizer`` changed, after an ``lbfgs`` fit, and after a run whose
        loss became NaN/inf. ``partial_fit`` keeps it on the same terms. After
        ``early_stopping`` it is the state of the best epoch, whose weights are
        kept.
    momentum : float, default=0.9
        ``sgd``'s momentum, in [0, 1]; 0 for none.
    nesterovs_momentum : bool, default=True
        Use Nesterov's momentum (``sgd`` with ``momentum > 0``).
    early_stopping : bool, default=False
        Stop on the score of a held-out ``validation_fraction``, keep the best
        weights (``sgd``/``adam``).
    validation_fraction : float, default=0.1
        Share of the samples held out with ``early_stopping``, in [0, 1).
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam's decay rates of the first and second moment estimates, and its
        denominator's constant.
    n_iter_no_change : int or np.inf, default=10
        Epochs without improvement by ``tol`` before stopping (``np.inf``: never).
    max_fun : int, default=15000
        Loss evaluations allowed to ``lbfgs`` (scipy's ``maxfun``: the line
        search under way finishes, as in scikit-learn).
"""

_DOC_NUMNET = """\
    dtype : {"float32", "float64"} or None, default=None
        The network's dtype; None follows ``X`` (float32 stays float32, other
        dtypes become float64).
    output_activation : str or None, default=None
        numnet's: the output activation (a registered name too); None picks
        scikit-learn's.
    dropout : float, default=0.0
        numnet's: probability of dropping each hidden unit while training, in [0, 1).
    optimizer : numnet.optimizers.Optimizer or None, default=None
        numnet's: replaces ``solver``'s optimizer (a copy is trained).
    callbacks : list of numnet.callbacks.Callback or None, default=None
        numnet's: passed to :func:`numnet.fit`.
"""

_DOC_SCORING = """\
    scoring : str, callable or None, default=None
        numnet's: what ``early_stopping`` watches and ``validation_scores_``
        records, as scikit-learn's ``HistGradientBoosting*`` name it: a scorer's
        name (``"neg_log_loss"``, ``"f1_macro"``, ``"neg_mean_absolute_error"``,
        ... any of :func:`sklearn.metrics.get_scorer_names`) or a callable
        ``scorer(estimator, X, y)`` (greater is better: errors are negated, as
        scikit-learn's ``neg_*`` scorers), through
        :func:`sklearn.metrics.get_scorer`. None is the estimator's ``score``
        (accuracy, R²), as in scikit-learn. ``tol`` applies to its units.
"""

_DOC_ATTRIBUTES = """
    Attributes
    ----------
    coefs_, intercepts_ : list of ndarray
        ``coefs_[i]`` of shape ``(n_units[i], n_units[i + 1])``, views of the network
        (``coefs_[i] = W`` writes ``W`` into it). Lists assigned to both before
        the first ``partial_fit`` (or warm-started fit) are its starting weights.
    loss_ : float
        The last epoch's loss (scikit-learn's units: see the module docstring).
    loss_curve_ : list of float
        Loss per epoch (``sgd``/``adam``).
    best_loss_ : float or None
        Lowest training loss (None with ``early_stopping``).
    validation_scores_ : list of float or None
        Held-out score per epoch with ``early_stopping`` (by ``scoring``).
    validation_loss_curve_ : list of float or None
        Held-out loss per epoch with ``early_stopping`` (numnet's; scikit-learn's
        units, without the ``alpha`` penalty), beside ``loss_curve_``.
    best_validation_score_ : float or None
        Highest held-out score with ``early_stopping``.
    n_iter_ : int
        Epochs (or ``lbfgs`` iterations) run by the last fit.
    t_ : int
        Samples seen by the optimizer.
    n_layers_, n_outputs_ : int
        Layers, input and output included; outputs of the network.
    out_activation_ : str
        The output activation, by scikit-learn's name (``"logistic"``, ...).
{own}\
    n_features_in_ : int
        Features seen by ``fit``.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        When ``X`` had string column names.
    network_ : numnet.MLP
        The fitted network.
"""


def doc_parameters(first: str = "", after_max_fun: str = "", last: str = "",
                   attributes: str = "") -> str:
    """The ``Parameters`` and ``Attributes`` sections of an estimator's docstring.

    The shared parameters in signature order, with the estimator's own
    entries (numpydoc lines, indented four spaces, each ending in a newline)
    where its signature has them.

    Parameters
    ----------
    first : str, default ""
        Entries before ``hidden_layer_sizes`` (the regressor's ``loss``).
    after_max_fun : str, default ""
        Entries between ``max_fun`` and ``dtype`` (the classifier's ``loss``).
    last : str, default ""
        Entries between ``callbacks`` and ``scoring`` (``class_weight``).
    attributes : str, default ""
        Fitted attributes of this estimator only (the classifier's ``classes_``).

    Returns
    -------
    str
        Both sections, to append to the class docstring.
    """
    return (_DOC_HEAD + first + _DOC_SHARED + after_max_fun + _DOC_NUMNET + last + _DOC_SCORING
            + _DOC_ATTRIBUTES.format(own=attributes))
