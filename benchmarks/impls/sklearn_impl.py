"""scikit-learn's ``MLPRegressor`` / ``MLPClassifier``, one ``partial_fit`` per epoch.

``partial_fit`` makes one pass over the data (shuffled, in mini-batches of
``batch_size``), so one call is one epoch. Regression outputs are identity in
scikit-learn (it has no sigmoid output layer): the W1/W2/W5/C rows say so.

Inference: an ``MLPClassifier`` set up by one ``partial_fit`` on a few rows,
then given numnet's initial weights (``coefs_``, ``intercepts_``) in the
workload's dtype; each timed call is ``model.predict_proba(X)``.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from . import NotInstalled, Predictor, Trainer

SKLEARN_ACTIVATION = {"sigmoid": "logistic", "relu": "relu"}


def _import_sklearn():
    try:
        import sklearn
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier, MLPRegressor
    except ImportError as exc:
        raise NotInstalled(f"scikit-learn: {exc}") from exc
    warnings.filterwarnings("ignore", category=ConvergenceWarning)
    return sklearn, MLPClassifier, MLPRegressor


def build(w, data) -> Trainer:
    """A :class:`Trainer` around a scikit-learn MLP configured like workload ``w``."""
    sklearn, MLPClassifier, MLPRegressor = _import_sklearn()

    params = dict(hidden_layer_sizes=w.hidden, activation=SKLEARN_ACTIVATION[w.activation],
                  solver=w.optimizer, learning_rate_init=w.lr, batch_size=w.batch_size,
                  alpha=0.0, max_iter=1, shuffle=True, random_state=0)
    if w.optimizer == "sgd":
        params.update(learning_rate="constant", momentum=0.0, nesterovs_momentum=False)
    X = data["X"]
    notes = []
    if w.is_classification:
        model = MLPClassifier(**params)
        y = data["labels"]
        classes = np.arange(w.n_out)
        fit_once = functools.partial(model.partial_fit, X, y, classes=classes)
        predict = model.predict_proba
    else:
        model = MLPRegressor(**params)
        y = data["Y"].ravel()
        fit_once = functools.partial(model.partial_fit, X, y)

        def predict(X_):
            return model.predict(X_).reshape(-1, w.n_out)

        if w.output_activation != "identity":
            notes.append(f"scikit-learn's MLPRegressor has an identity output layer, "
                         f"not {w.output_activation}")

    def train(epochs: int) -> None:
        for _ in range(epochs):
            fit_once()

    def used_dtype() -> str:
        coefs = getattr(model, "coefs_", None)
        return coefs[0].dtype.name if coefs else X.dtype.name

    return Trainer(train=train, predict=predict, dtype=X.dtype.name, notes=notes,
                   info={"sklearn_version": sklearn.__version__}, actual_dtype=used_dtype)


def build_predict(w, data) -> Predictor:
    """``MLPClassifier.predict_proba`` with numnet's initial weights, in ``w.dtype``."""
    from .numnet_impl import initial_network

    sklearn, MLPClassifier, _ = _import_sklearn()
    if not w.is_classification or w.activation not in SKLEARN_ACTIVATION:
        raise ValueError("the inference rows expect a softmax classifier")
    net = initial_network(w)
    model = MLPClassifier(hidden_layer_sizes=w.hidden, activation=SKLEARN_ACTIVATION[w.activation],
                          random_state=0)
    X = data["X"]
    rows = np.resize(X, (w.n_out, w.n_in)).astype(X.dtype)   # the shapes and dtype, once
    model.partial_fit(rows, np.arange(w.n_out), classes=np.arange(w.n_out))
    model.coefs_ = [W.copy() for W in net.weights]
    model.intercepts_ = [b.copy() for b in net.biases]
    return Predictor(predict=model.predict_proba, dtype=model.coefs_[0].dtype.name,
                     info={"sklearn_version": sklearn.__version__})
