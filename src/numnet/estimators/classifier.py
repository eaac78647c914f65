"""``MLPClassifier``: scikit-learn's MLP classifier, trained by numnet."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.preprocessing import LabelBinarizer
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import _check_partial_fit_first_call, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, validate_data

from numnet import optimizers
from numnet.callbacks import Callback

from . import rows
from .base import BaseMLP, ravel_column
from .parameters import RandomState, activation_name, doc_parameters

_TARGET_TYPES = ("binary", "multiclass", "multilabel-indicator")


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multi-layer perceptron classifier, trained by numnet.

    Softmax outputs for several classes, one logistic output for two, one
    logistic output per label for a 0/1 indicator matrix (multilabel), all
    trained on the log-loss (``loss`` is None or ``"log_loss"``).
    ``class_weight`` (``"balanced"`` or ``{label: weight}``, numnet's; the
    request scikit-learn's MLP left open) weights each sample by its class,
    multiplied into ``sample_weight`` as scikit-learn's other classifiers do
    (:func:`sklearn.utils.class_weight.compute_sample_weight`).
    """

    __doc__ = (__doc__ or "") + doc_parameters(after_max_fun="""\
    loss : {"log_loss"} or None, default=None
        numnet's: the loss, the log-loss either way (None is ``"log_loss"``).
""", last="""\
    class_weight : "balanced", dict or None, default=None
        numnet's: weights each sample by its class, multiplied into
        ``sample_weight``: ``{label: weight}``, or ``"balanced"``, ``n_samples /
        (n_classes * count)`` (it needs every label at once: not with
        ``partial_fit``). None weighs all classes alike.
""", attributes="""\
    classes_ : ndarray of shape (n_classes,)
        The class labels, in output order (the label columns for multilabel).
""")
    # the public path, which pickles, reprs and numnet.onnx name (stable if this file moves)
    __module__ = "numnet.estimators"

    _parameter_constraints = {**BaseMLP._parameter_constraints,
                              "loss": [StrOptions({"log_loss"}), None],
                              "class_weight": [StrOptions({"balanced"}), dict, None]}

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
                 callbacks: list[Callback] | None = None,
                 class_weight: dict | str | None = None, scoring: Any = None) -> None:
        super().__init__(hidden_layer_sizes, activation, solver, alpha, batch_size,
                         learning_rate, learning_rate_init, power_t, max_iter, shuffle,
                         random_state, tol, verbose, warm_start, momentum, nesterovs_momentum,
                         early_stopping, validation_fraction, beta_1, beta_2, epsilon,
                         n_iter_no_change, max_fun, dtype, output_activation, dropout,
                         optimizer, callbacks, scoring)
        self.loss = loss
        self.class_weight = class_weight

    def _class_weights(self, y: Any, incremental: bool) -> np.ndarray | None:
        """Each sample's weight from ``class_weight`` (``(n_samples,)``), or None."""
        if self.class_weight is None:
            return None
        if incremental and isinstance(self.class_weight, str):
            raise ValueError("class_weight='balanced' needs every label at once, and partial_fit "
                             "sees a batch; pass class_weight={label: weight}, or use fit")
        from sklearn.utils.class_weight import compute_sample_weight

        return compute_sample_weight(self.class_weight, y)

    # --- targets ------------------------------------------------------------------

    def _output(self, n_outputs: int) -> tuple[str, str, float]:
        multiclass = self._label_binarizer.y_type_ == "multiclass"
        natural = "softmax" if multiclass else "sigmoid"
        wanted = self.output_activation
        if wanted is not None and activation_name(wanted) != natural:
            raise ValueError(f"output_activation={wanted!r} cannot fit "
                             f"{self._label_binarizer.y_type_} targets, which need "
                             f"{natural!r}; leave output_activation=None")
        if multiclass:
            return "softmax", "categorical_cross_entropy", 1.0
        return "sigmoid", "binary_cross_entropy", float(n_outputs)

    def _validate_input(self, X: Any, y: Any, incremental: bool, reset: bool
                        ) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, accept_sparse=rows.SPARSE_FORMATS, multi_output=True,
                             dtype=(np.float64, np.float32), reset=reset)
        y = ravel_column(y)
        if not hasattr(self, "classes_") or (not self.warm_start and not incremental):
            self._label_binarizer = LabelBinarizer().fit(y)
            self.classes_ = self._label_binarizer.classes_
        else:
            self._check_known_classes(y)
        return X, self._label_binarizer.transform(y)

    def _check_known_classes(self, y: np.ndarray) -> None:
        """``warm_start`` needs the fitted classes exactly; ``partial_fit``, a subset of them;
        both, targets of the fitted kind (labels, or a 0/1 indicator of as many columns)."""
        multilabel = self._label_binarizer.y_type_ == "multilabel-indicator"
        if multilabel != (type_of_target(y) == "multilabel-indicator") or (
                multilabel and y.shape[1] != len(self.classes_)):
            fitted = (f"a 0/1 indicator of {len(self.classes_)} label columns, y of shape "
                      f"(n_samples, {len(self.classes_)})" if multilabel
                      else "labels, y of shape (n_samples,)")
            raise ValueError(f"the estimator was fitted on {fitted}; got y of shape "
                             f"{np.shape(y)} ({type_of_target(y)}): pass targets of the "
                             f"fitted kind, or fit again without warm_start")
        classes = unique_labels(y)
        if self.warm_start:
            if set(classes) != set(self.classes_):
                raise ValueError(f"warm_start can only be used where `y` has the same "
                                 f"classes as in the previous call to fit. Previously got "
                                 f"{self.classes_}, `y` has {classes}")
        elif len(np.setdiff1d(classes, self.classes_, assume_unique=True)):
            raise ValueError(f"`y` has classes not in `self.classes_`. `self.classes_` has "
                             f"{self.classes_}. 'y' has {classes}.")

    def _stratify(self, Y: np.ndarray) -> np.ndarray | None:
        """The classes' labels; for two, scikit-learn's ``(n, 1)`` booleans (whose errors
        name the class ``'True'`` or ``'False'``, as scikit-learn's do)."""
        if self._label_binarizer.y_type_ == "multilabel-indicator":
            return None
        if Y.shape[1] == 1:
            return Y.astype(bool)
        return self.classes_[Y.argmax(axis=1)]

    def _decode(self, Y: np.ndarray) -> Any:
        return self._label_binarizer.inverse_transform(Y)

    def _target_type(self) -> str | None:
        return self._label_binarizer.y_type_

    def _restore_targets(self, target_type: str | None, classes: Any) -> None:
        if target_type not in _TARGET_TYPES or not isinstance(classes, list) or not classes:
            raise ValueError(f"a classifier needs its target type and classes, got "
                             f"{target_type!r} and {classes!r:.100}")
        if target_type == "multilabel-indicator":
            binarizer = LabelBinarizer().fit(np.array([[0] * len(classes), [1] * len(classes)]))
        else:
            binarizer = LabelBinarizer().fit(np.array(classes))
        if binarizer.y_type_ != target_type or binarizer.classes_.tolist() != classes:
            raise ValueError(f"classes {classes!r:.100} do not make {target_type!r} targets")
        self._label_binarizer, self.classes_ = binarizer, binarizer.classes_

    # --- fitting and predicting ---------------------------------------------------------

    @available_if(lambda est: est._check_solver())
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None
                    ) -> MLPClassifier:
        """One epoch over ``(X, y)``; ``classes`` (all labels) is needed on the first call.

        A multilabel ``y`` (a 0/1 indicator matrix) names its labels by its
        columns, as ``fit`` takes it: its ``classes`` are ``range(n_labels)``,
        which may be left out. A sequence of calls trains as ``fit``'s epochs
        do (the same network, outputs, ``classes_`` and updates).

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
        if getattr(self, "classes_", None) is None and type_of_target(y) == "multilabel-indicator":
            classes = _label_columns(np.shape(y)[1], classes)
        if _check_partial_fit_first_call(self, classes):
            self._label_binarizer = LabelBinarizer()
            if type_of_target(y).startswith("multilabel"):
                self._label_binarizer.fit(y)
            else:
                self._label_binarizer.fit(classes)
        self._fit(X, y, sample_weight=sample_weight, incremental=True)
        return self

    def _predict(self, X: Any, check_input: bool = True) -> np.ndarray:
        P = self._forward(X, check_input)
        if self.n_outputs_ == 1:
            P = P.ravel()
        return self._label_binarizer.inverse_transform(P)

    def predict(self, X: Any) -> np.ndarray:
        """Labels ``(n_samples,)``, or a 0/1 matrix ``(n_samples, n_labels)`` for multilabel.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
            The most probable class of each sample (a label of ``classes_``),
            or each label's 0/1 (probability above 0.5) for multilabel.
        """
        check_is_fitted(self)
        return self._predict(X)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities ``(n_samples, n_classes)`` in ``classes_`` order.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            For two classes, ``[1 - p, p]`` from the one logistic output; for
            multilabel, each label's own probability (rows need not sum to 1).
        """
        check_is_fitted(self)
        P = self._forward(X)
        if self.n_outputs_ == 1:
            return np.hstack([1.0 - P, P])
        return P

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """``log(predict_proba(X))``, ``(n_samples, n_classes)``.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            ``-inf`` where a probability is 0.
        """
        P = self.predict_proba(X)
        with np.errstate(divide="ignore"):
            return np.log(P, out=P)

    def _score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return self._score_with(X, y, sample_weight, accuracy_score)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _label_columns(n_labels: int, classes: Any) -> np.ndarray:
    """The classes of a multilabel ``y`` of ``n_labels`` columns, as ``fit`` names them:
    ``0 .. n_labels - 1``; ``classes``, if given, must be those."""
    columns = np.arange(n_labels)
    if classes is not None:
        given = np.asarray(classes)
        if given.ndim != 1 or given.dtype.kind not in "iu" or not np.array_equal(
                np.sort(given), columns):
            raise ValueError(f"y is a multilabel indicator of {n_labels} label columns, whose "
                             f"classes are the columns 0..{n_labels - 1}; got classes="
                             f"{classes!r:.80}: pass classes=range({n_labels}), or leave "
                             f"classes out")
    return columns
