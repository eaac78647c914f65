"""Multi-output ``partial_fit``: ``MLPClassifier.partial_fit`` on a multilabel ``y`` (a 0/1
indicator ``(n, k)``) and ``MLPRegressor.partial_fit`` on ``y (n, k)`` do what ``fit``
does, as scikit-learn issue #12505 asks ("MLPClassifier supports fitting on multilabel
output but cannot be used with partial_fit"): the same outputs, ``classes_`` and
shapes, and calls that train as ``fit``'s epochs where the maths is the same."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from numnet.estimators import MLPClassifier, MLPRegressor

N, LABELS = 120, 3


def _data():
    """``X (120, 6)``, a multilabel ``Y (120, 3)`` of 0/1 (every label seen) and regression
    targets ``T (120, 2)``."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, 6))
    Y = (X[:, :LABELS] + 0.3 * rng.normal(size=(N, LABELS)) > 0).astype(int)
    T = np.column_stack([X[:, :2].sum(axis=1), X[:, 2] - X[:, 3]])
    return X, Y, T


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


def _same_network(a, b):
    for W, V in zip(a.coefs_ + a.intercepts_, b.coefs_ + b.intercepts_, strict=True):
        np.testing.assert_allclose(V, W, rtol=1e-12, atol=1e-15)


# No stopping rule, no shuffling: an epoch of fit is one pass in order, as a partial_fit.
FIXED = {"hidden_layer_sizes": (5,), "random_state": 0, "shuffle": False,
         "n_iter_no_change": np.inf, "learning_rate_init": 0.01}


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_partial_fit_calls_on_whole_data_are_fits_epochs(Est, solver):
    """#12505: E partial_fit calls on multi-output y are E epochs of fit: the same network,
    loss curve, samples seen, outputs and (classifier) classes, for sgd and adam."""
    X, Y, T = _data()
    y = Y if Est is MLPClassifier else T
    kw = {**FIXED, "solver": solver, "batch_size": 20}
    fitted = _fit(Est(max_iter=4, **kw), X, y)
    partial = Est(**kw)
    curve = []
    for _ in range(4):
        partial.partial_fit(X, y)           # a multilabel y names its labels: no classes=
        curve += partial.loss_curve_[-1:]
    _same_network(fitted, partial)
    np.testing.assert_allclose(curve, fitted.loss_curve_, rtol=1e-12)
    assert partial.t_ == fitted.t_ == 4 * N
    assert (partial.n_outputs_, partial.out_activation_) == (fitted.n_outputs_,
                                                             fitted.out_activation_)
    assert partial.predict(X[:7]).shape == fitted.predict(X[:7]).shape == (7, y.shape[1])
    np.testing.assert_array_equal(partial.predict(X), fitted.predict(X))
    if Est is MLPClassifier:
        np.testing.assert_array_equal(partial.classes_, fitted.classes_)
        np.testing.assert_array_equal(partial.classes_, np.arange(LABELS))
        assert partial.out_activation_ == "logistic"
        np.testing.assert_allclose(partial.predict_proba(X), fitted.predict_proba(X),
                                   rtol=1e-12)
        assert set(np.unique(partial.predict(X))) <= {0, 1}


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("Est", [MLPClassifier, MLPRegressor])
def test_partial_fit_on_consecutive_batches_is_one_epoch_of_fit(Est, solver):
    """#12505: partial_fit on the batches of an epoch, in order, makes fit's updates of that
    epoch (batch_size equal to the batches, which divide the data: fit's alpha penalty is per
    batch_size, partial_fit's per call)."""
    X, Y, T = _data()
    y = Y if Est is MLPClassifier else T
    fitted = _fit(Est(max_iter=1, batch_size=20, solver=solver, **FIXED), X, y)
    partial = Est(solver=solver, **FIXED)
    for start in range(0, N, 20):
        first = {"classes": range(LABELS)} if Est is MLPClassifier and start == 0 else {}
        partial.partial_fit(X[start:start + 20], y[start:start + 20], **first)
    _same_network(fitted, partial)
    assert partial.t_ == fitted.t_ == N


@pytest.mark.parametrize("classes", [[0, 1], [1, 2, 3], ["a", "b", "c"], [[0, 1, 2]]])
def test_multilabel_classes_are_its_columns_refused_otherwise_in_one_line(classes):
    """#12505's reporter passed classes=list(range(n_labels)): those are the columns, as fit
    names them (so are none); anything else is refused before the estimator changes."""
    X, Y, _ = _data()
    clf = MLPClassifier(**FIXED)
    with pytest.raises(ValueError, match=r"classes are the columns 0\.\.2.*pass "
                                         r"classes=range\(3\)") as err:
        clf.partial_fit(X, Y, classes=classes)
    assert "\n" not in str(err.value)
    assert not hasattr(clf, "classes_")
    clf.partial_fit(X, Y, classes=[2, 0, 1])
    np.testing.assert_array_equal(clf.classes_, np.arange(LABELS))


@pytest.mark.parametrize("first,later", [("multilabel", "labels"), ("labels", "multilabel"),
                                         ("multilabel", "fewer columns")])
def test_later_targets_of_another_kind_are_refused_in_one_line(first, later):
    """#12505: a partial_fit after a multilabel one takes the same label columns (and labels
    after labels), or says what it was fitted on; the network is left as it was."""
    X, Y, _ = _data()
    labels = Y.argmax(axis=1)
    targets = {"multilabel": Y, "labels": labels, "fewer columns": Y[:, :2]}
    clf = MLPClassifier(**FIXED)
    clf.partial_fit(X, targets[first], **({"classes": np.unique(labels)}
                                          if first == "labels" else {}))
    before = [W.copy() for W in clf.coefs_]
    with pytest.raises(ValueError, match="the estimator was fitted on") as err:
        clf.partial_fit(X, targets[later])
    assert "\n" not in str(err.value)
    for W, V in zip(before, clf.coefs_, strict=True):
        np.testing.assert_array_equal(V, W)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.DataConversionWarning")
def test_regressor_partial_fit_keeps_its_outputs():
    """#12505 (the regressor): y (n, k) on later calls keeps k outputs; another count is
    refused in one line naming both."""
    X, _, T = _data()
    reg = MLPRegressor(**FIXED).partial_fit(X, T)
    assert reg.predict(X).shape == (N, 2) and reg.n_outputs_ == 2
    for y in (T[:, 0], T[:, :1], np.column_stack([T, T[:, 0]])):
        with pytest.raises(ValueError, match="with 2 output\\(s\\); got .* output\\(s\\)"):
            reg.partial_fit(X, y)
